// Package schemas holds the JSON Schema of every event body cdp publishes,
// by CloudEvents type, and validates bodies against them.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// ForType maps a CloudEvents type to its schema file.
func ForType(ceType string) (string, bool) {
	switch {
	case strings.HasPrefix(ceType, "cdp.signal."):
		return "signal.json", true
	case ceType == "cdp.tags.changed":
		return "tag-change.json", true
	case ceType == "cdp.tier.changed":
		return "tier-change.json", true
	case ceType == "cdp.profile.updated":
		return "profile.json", true
	}
	return "", false
}

var (
	once     sync.Once
	compiled map[string]*jsonschema.Schema
	loadErr  error
)

func load() {
	compiled = map[string]*jsonschema.Schema{}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"signal.json", "tag-change.json", "tier-change.json", "profile.json"} {
		b, err := files.ReadFile(name)
		if err != nil {
			loadErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			loadErr = fmt.Errorf("%s: %w", name, err)
			return
		}
		if err := c.AddResource(name, doc); err != nil {
			loadErr = err
			return
		}
		s, err := c.Compile(name)
		if err != nil {
			loadErr = fmt.Errorf("%s: %w", name, err)
			return
		}
		compiled[name] = s
	}
}

// Validate checks an event body of CloudEvents type ceType against its
// schema.
func Validate(ceType string, body []byte) error {
	once.Do(load)
	if loadErr != nil {
		return loadErr
	}
	name, ok := ForType(ceType)
	if !ok {
		return fmt.Errorf("no schema for event type %q", ceType)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: not JSON: %w", ceType, err)
	}
	if err := compiled[name].Validate(v); err != nil {
		return fmt.Errorf("%s against %s: %w", ceType, name, err)
	}
	return nil
}
