package match

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mapping says how to read a CSV for linkage: which column identifies a row
// and which columns are compared as which kind. It is what `cdp link
// --mapping` reads.
type Mapping struct {
	IDColumn string         `yaml:"id_column"`
	Fields   []MappingField `yaml:"fields"`
	// Blocking optionally replaces the default rules (one per field): each
	// rule lists field names that must all agree.
	Blocking  [][]string         `yaml:"blocking"`
	Threshold float64            `yaml:"threshold"`
	MaxBlock  int                `yaml:"max_block"`
	Weights   map[string]Weights `yaml:"weights"`
	// Delimiter of the CSV (default ",").
	Delimiter string `yaml:"delimiter"`
}

// MappingField maps one or more columns to a compared field. Several
// columns (a birth date split into year, month and day) are joined with
// Join (default "-") before parsing.
type MappingField struct {
	Column  string   `yaml:"column"`
	Columns []string `yaml:"columns"`
	Name    string   `yaml:"name"`
	Kind    Kind     `yaml:"kind"`
	Format  string   `yaml:"format"`
	Join    *string  `yaml:"join"`
}

// LoadMapping reads and checks a mapping file; errors name the file and line.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	line := func(i int) int { return fieldLine(&root, i) }
	if len(m.Fields) == 0 {
		return nil, fmt.Errorf("%s: fields: at least one field is needed", path)
	}
	seen := map[string]bool{}
	for i := range m.Fields {
		f := &m.Fields[i]
		switch {
		case f.Column == "" && len(f.Columns) == 0:
			return nil, fmt.Errorf("%s:%d: fields[%d]: give column or columns", path, line(i), i)
		case f.Column != "" && len(f.Columns) > 0:
			return nil, fmt.Errorf("%s:%d: fields[%d]: give column or columns, not both", path, line(i), i)
		case !f.Kind.Valid():
			return nil, fmt.Errorf("%s:%d: fields[%d].kind: %q is not one of name, date, id, phone, address, postcode, text", path, line(i), i, f.Kind)
		}
		if f.Name == "" {
			f.Name = f.Column
			if f.Name == "" {
				f.Name = strings.Join(f.Columns, "+")
			}
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%s:%d: fields[%d]: field %q twice (give one a name)", path, line(i), i, f.Name)
		}
		seen[f.Name] = true
	}
	if err := validate(m.fields(), m.Config()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// fieldLine finds the line of fields[i] in a parsed mapping document.
func fieldLine(root *yaml.Node, i int) int {
	if len(root.Content) == 0 {
		return 0
	}
	doc := root.Content[0]
	for k := 0; k+1 < len(doc.Content); k += 2 {
		if doc.Content[k].Value == "fields" && i < len(doc.Content[k+1].Content) {
			return doc.Content[k+1].Content[i].Line
		}
	}
	return 0
}

func (m *Mapping) fields() []Field {
	out := make([]Field, len(m.Fields))
	for i, f := range m.Fields {
		out[i] = Field{Name: f.Name, Kind: f.Kind, Format: f.Format}
	}
	return out
}

// Config is the engine configuration the mapping asks for.
func (m *Mapping) Config() Config {
	return Config{Blocking: m.Blocking, Threshold: m.Threshold, MaxBlock: m.MaxBlock, Weights: m.Weights}
}

// Table is CSV input read through a mapping.
type Table struct {
	IDs    []string
	Source []uint8
	Truth  []string // when a truth column was asked for
	Data   Data
}

// ReadCSV reads one or more CSV files through the mapping: one input
// deduplicates, two are linked. truthColumn may be "".
func (m *Mapping) ReadCSV(paths []string, truthColumn string) (*Table, error) {
	if len(paths) == 0 || len(paths) > 2 {
		return nil, fmt.Errorf("give one input (deduplicate) or two (link), not %d", len(paths))
	}
	t := &Table{Data: Data{Fields: m.fields(), Values: make([][]string, len(m.Fields))}}
	t.Data.LinkOnly = len(paths) == 2
	seen := map[string]string{}
	for si, path := range paths {
		if err := m.readOne(t, path, uint8(si), truthColumn, seen); err != nil {
			return nil, err
		}
	}
	if t.Data.LinkOnly {
		t.Data.Source = t.Source
	}
	if truthColumn != "" {
		t.Data.Truth = t.Truth
	}
	return t, nil
}

func (m *Mapping) readOne(t *Table, path string, source uint8, truthColumn string, seen map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	if m.Delimiter != "" {
		r.Comma = []rune(m.Delimiter)[0]
	}
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := func(name, what string) (int, error) {
		i, ok := col[name]
		if !ok {
			return 0, fmt.Errorf("%s: no column %q (%s); the header has: %s", path, name, what, strings.Join(header, ", "))
		}
		return i, nil
	}
	idCol := -1
	if m.IDColumn != "" {
		if idCol, err = need(m.IDColumn, "id_column"); err != nil {
			return err
		}
	}
	truthCol := -1
	if truthColumn != "" {
		if truthCol, err = need(truthColumn, "--truth-column"); err != nil {
			return err
		}
	}
	cols := make([][]int, len(m.Fields))
	for i, fd := range m.Fields {
		names := fd.Columns
		if fd.Column != "" {
			names = []string{fd.Column}
		}
		for _, n := range names {
			c, err := need(n, fmt.Sprintf("fields[%d]", i))
			if err != nil {
				return err
			}
			cols[i] = append(cols[i], c)
		}
	}
	line := 1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line++
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		id := fmt.Sprintf("%d", line)
		if t.Data.LinkOnly {
			id = fmt.Sprintf("%d:%d", source+1, line) // line numbers repeat across inputs
		}
		if idCol >= 0 {
			id = strings.Clone(rec[idCol])
		}
		if where, dup := seen[id]; dup {
			return fmt.Errorf("%s line %d: id %q is not unique (also %s)", path, line, id, where)
		}
		seen[id] = fmt.Sprintf("%s line %d", path, line)
		t.IDs = append(t.IDs, id)
		t.Source = append(t.Source, source)
		if truthCol >= 0 {
			t.Truth = append(t.Truth, strings.Clone(rec[truthCol]))
		}
		for i, fd := range m.Fields {
			var v string
			if len(cols[i]) == 1 {
				v = rec[cols[i][0]]
			} else {
				join := "-"
				if fd.Join != nil {
					join = *fd.Join
				}
				parts := make([]string, 0, len(cols[i]))
				empty := true
				for _, c := range cols[i] {
					s := strings.TrimSpace(rec[c])
					if s != "" {
						empty = false
					}
					parts = append(parts, s)
				}
				if !empty {
					v = strings.Join(parts, join)
				}
			}
			t.Data.Values[i] = append(t.Data.Values[i], strings.Clone(v))
		}
	}
}
