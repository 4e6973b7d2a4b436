package config

import (
	"bytes"
	_ "embed"
	"path"
	"path/filepath"
	"strconv"
	"text/template"
)

//go:embed starter.yaml
var starterText string

var starterTemplate = template.Must(template.New("starter.yaml").
	Funcs(template.FuncMap{"quote": strconv.Quote, "feedPath": func(string) string { return "" }}).
	Parse(starterText))

// StarterOptions fills the few blanks of the starter project file.
type StarterOptions struct {
	FeedsDir string   // folder holding one sub-folder per files feed; default "feeds"
	Brokers  []string // Kafka bootstrap brokers; with none, ebank_stream is disabled
	Embedded bool     // use the in-process broker (and no Brokers); enables ebank_stream
	Listen   string   // the embedded broker's address; default 127.0.0.1:19092
	Demo     bool     // the demo's jobs and SQL users (passwords in secrets/)
	// MemoryLimit is warehouse.memory_limit ("": the default share of the
	// machine's memory).
	MemoryLimit string
}

// Starter renders the commented starter cdp.yaml: every key with its default
// and allowed values, the four contract file feeds under FeedsDir/<name>, and
// the ebank_stream Kafka feed, enabled when there is a broker to read from.
// Embedded takes precedence over Brokers, since a project may not use both.
// What it returns always parses.
func Starter(o StarterOptions) []byte {
	if o.FeedsDir == "" {
		o.FeedsDir = "feeds"
	}
	if o.Embedded {
		o.Brokers = nil
	}
	if o.Listen == "" {
		o.Listen = DefaultEmbeddedListen
	}
	feedsDir := filepath.ToSlash(o.FeedsDir)
	t := template.Must(starterTemplate.Clone()).Funcs(template.FuncMap{
		"feedPath": func(name string) string { return path.Join(feedsDir, name) },
	})
	var b bytes.Buffer
	err := t.Execute(&b, struct {
		Brokers       []string
		Embedded      bool
		StreamEnabled bool
		Listen        string
		Demo          bool
		MemoryLimit   string
	}{o.Brokers, o.Embedded, o.Embedded || len(o.Brokers) > 0, o.Listen, o.Demo, o.MemoryLimit})
	if err != nil {
		panic("config: starter template: " + err.Error()) // the template is fixed; a test covers it
	}
	return b.Bytes()
}
