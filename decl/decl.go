// Package decl reads the declaration files users write in YAML (the tag
// catalog, the signal rules): strict decoding, every problem with the file
// and line it is on, and the line of each list item and of its keys.
package decl

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a declaration file.
type Problem struct {
	File string
	Line int
	Item string // the declared item's id; "" for the file as a whole
	Msg  string
}

func (p Problem) Error() string {
	s := p.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
	}
	if p.Item != "" {
		s += ": " + p.Item
	}
	return s + ": " + p.Msg
}

// Problems is every problem found, in file and line order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Lines locates one item of the declared list: its own line and the line of
// each of its keys.
type Lines struct {
	Line int
	Keys map[string]int
}

// Key is the line of key k, or of the item when the key is absent.
func (l Lines) Key(k string) int {
	if n, ok := l.Keys[k]; ok {
		return n
	}
	return l.Line
}

var unknownKey = regexp.MustCompile(`^line (\d+): field (\S+) not found`)

// Decode decodes data (the file name) into v, refusing unknown keys, and
// returns the lines of the items of the top-level list under listKey.
func Decode(name string, data []byte, v any, listKey string) ([]Lines, Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Problems{{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
		}
		var probs Problems
		for _, e := range te.Errors {
			if m := unknownKey.FindStringSubmatch(e); m != nil {
				line, _ := strconv.Atoi(m[1])
				probs = append(probs, Problem{File: name, Line: line, Msg: fmt.Sprintf("unknown key %q", m[2])})
			} else {
				probs = append(probs, Problem{File: name, Msg: e})
			}
		}
		return nil, probs
	}
	var lines []Lines
	if len(root.Content) > 0 {
		doc := root.Content[0]
		for k := 0; k+1 < len(doc.Content); k += 2 {
			if doc.Content[k].Value != listKey {
				continue
			}
			for _, n := range doc.Content[k+1].Content {
				l := Lines{Line: n.Line, Keys: map[string]int{}}
				for j := 0; j+1 < len(n.Content); j += 2 {
					l.Keys[n.Content[j].Value] = n.Content[j].Line
				}
				lines = append(lines, l)
			}
		}
	}
	return lines, nil
}

// File is one declaration file read from a folder.
type File struct {
	Name string
	Data []byte
}

// ReadAll reads every *.yaml file of fsys, in name order; none is an error
// (what names the kind of file, like "tag").
func ReadAll(fsys fs.FS, what string) ([]File, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.yaml %s files", what)
	}
	sort.Strings(names)
	files := make([]File, len(names))
	for i, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		files[i] = File{name, data}
	}
	return files, nil
}
