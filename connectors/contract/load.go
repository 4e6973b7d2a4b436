package contract

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cdp/decl"

	"gopkg.in/yaml.v3"
)

// The built-in contracts, one YAML file per feed.
//
//go:embed feeds/*.yaml
var builtinFS embed.FS

// Builtin is the folder of the built-in feed contracts.
func Builtin() fs.FS {
	sub, err := fs.Sub(builtinFS, "feeds")
	if err != nil {
		panic(err)
	}
	return sub
}

// file is a contract file as written.
type file struct {
	Feed     string       `yaml:"feed"`
	Version  int          `yaml:"version"`
	Encoding string       `yaml:"encoding"`
	ZH       string       `yaml:"zh"`
	EN       string       `yaml:"en"`
	Entities []entityDecl `yaml:"entities"`
}

type entityDecl struct {
	Name      string       `yaml:"name"`
	ZH        string       `yaml:"zh"`
	EN        string       `yaml:"en"`
	Format    string       `yaml:"format"`
	Pattern   string       `yaml:"pattern"`
	Snapshot  bool         `yaml:"snapshot"`
	WidthUnit string       `yaml:"width_unit"`
	UniqueKey string       `yaml:"unique_key"`
	Key       []string     `yaml:"key"`
	Identity  *Identity    `yaml:"identity"`
	Expected  *Expected    `yaml:"expected"`
	Checks    []Check      `yaml:"checks"`
	Columns   []columnDecl `yaml:"columns"`
}

type columnDecl struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"`
	Values   []string `yaml:"values"`
	Required bool     `yaml:"required"`
	Optional bool     `yaml:"optional"`
	Width    int      `yaml:"width"`
	PII      string   `yaml:"pii"`
	ZH       string   `yaml:"zh"`
	EN       string   `yaml:"en"`
}

// reservedWords are DuckDB's reserved keywords (duckdb_keywords(),
// category reserved): not column names.
var reservedWords = strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast check collate column
	constraint create default deferrable desc describe distinct do else end except false fetch for foreign from group
	having in initially intersect into lambda lateral leading limit not null offset on only or order pivot pivot_longer
	pivot_wider placing primary qualify references returning select show some summarize symmetric table then to
	trailing true union unique unpivot using variadic when where window with`)

var (
	identifier  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	decimalType = regexp.MustCompile(`^decimal\((\d+),\s*(\d+)\)$`)
	piiClasses  = []string{"", "id_number", "phone", "name", "free_text"}
	// splitDecimal is the unknown key YAML makes of decimal(18,2)'s scale
	// when a flow mapping's comma splits it.
	splitDecimal = regexp.MustCompile(`^unknown key "\s*\d+\s*\)"$`)
)

// Load reads every *.yaml contract file of fsys: one feed each, its
// entities in load order (parents before children). Every problem is
// reported with its file and line.
func Load(fsys fs.FS) ([]*Feed, error) {
	files, err := decl.ReadAll(fsys, "feed contract")
	if err != nil {
		return nil, err
	}
	var feeds []*Feed
	var probs decl.Problems
	for _, f := range files {
		fd, p := parse(f.Name, f.Data)
		probs = append(probs, p...)
		if fd == nil {
			continue
		}
		for _, other := range feeds {
			if other.Name == fd.Name {
				probs = append(probs, decl.Problem{File: f.Name, Line: fd.line, Item: fd.Name,
					Msg: fmt.Sprintf("feed declared twice (also in %s)", other.File)})
			}
		}
		feeds = append(feeds, fd)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return feeds, nil
}

// parse decodes and checks one contract file.
func parse(name string, data []byte) (*Feed, decl.Problems) {
	var f file
	lines, probs := decl.Decode(name, data, &f, "entities")
	if len(probs) > 0 {
		for i, p := range probs {
			switch {
			case splitDecimal.MatchString(p.Msg):
				probs[i].Msg += `: inside { } a decimal type must be quoted, type: "decimal(18,2)"`
			case strings.Contains(p.Msg, " ") && strings.Contains(p.Msg, "not found in type"):
				probs[i].Msg += `: inside { } a comma ends a value; quote a text that has one, en: "a, b"`
			}
		}
		return nil, probs
	}
	problem := func(line int, item, format string, args ...any) {
		probs = append(probs, decl.Problem{File: name, Line: line, Item: item, Msg: fmt.Sprintf(format, args...)})
	}
	if f.Version == 0 {
		f.Version = 1
	}
	fd := &Feed{Name: f.Feed, ZH: f.ZH, EN: f.EN, File: name, Version: f.Version, Encoding: f.Encoding, line: 1}
	switch f.Encoding {
	case "", "utf-8", "gbk", "gb18030":
	default:
		problem(1, f.Feed, "encoding: %q is not utf-8, gbk or gb18030", f.Encoding)
	}
	if f.Version < 0 {
		problem(1, "", "version: %d; a contract's version is 1 or more, raised with each change to its columns", f.Version)
	}
	if !identifier.MatchString(f.Feed) {
		problem(1, "", "feed: %q is not a lower-case name (a-z, 0-9, _)", f.Feed)
	}
	if len(f.Entities) == 0 {
		problem(1, f.Feed, "no entities")
	}
	seen := map[string]bool{}
	allColLines := columnLines(data)
	for i, ed := range f.Entities {
		l := lines[i]
		id := f.Feed + "." + ed.Name
		e := &Entity{Feed: f.Feed, Version: f.Version, Name: ed.Name, ZH: ed.ZH, EN: ed.EN, Pattern: ed.Pattern,
			Snapshot: ed.Snapshot, UniqueKey: ed.UniqueKey, Format: Format(ed.Format), WidthUnit: ed.WidthUnit}
		switch {
		case !identifier.MatchString(ed.Name):
			problem(l.Key("name"), id, "name: %q is not a lower-case name (a-z, 0-9, _)", ed.Name)
		case seen[ed.Name]:
			problem(l.Key("name"), id, "entity declared twice")
		}
		seen[ed.Name] = true
		if !slices.Contains(Formats, e.Format) {
			problem(l.Key("format"), id, "format: %q is not one of %s", ed.Format, strings.Join(formatNames(), ", "))
		}
		switch {
		case e.Format == Fixed && e.WidthUnit == "":
			e.WidthUnit = "bytes"
		case e.Format == Fixed && e.WidthUnit != "bytes" && e.WidthUnit != "chars":
			problem(l.Key("width_unit"), id, "width_unit: %q is not bytes or chars", ed.WidthUnit)
		case e.Format != Fixed && e.WidthUnit != "":
			problem(l.Key("width_unit"), id, "width_unit: only a fixed-width entity has one")
		}
		if ed.Pattern == "" {
			problem(l.Key("pattern"), id, "pattern: the file name is missing ({D} is YYYYMMDD, {DATE} YYYY-MM-DD)")
		}
		var colLines []int
		if i < len(allColLines) {
			colLines = allColLines[i]
		}
		names := map[string]bool{}
		for j, cd := range ed.Columns {
			line := l.Key("columns")
			if j < len(colLines) {
				line = colLines[j]
			}
			c, msg := column(cd)
			if msg != "" {
				problem(line, id+"."+cd.Name, "%s", msg)
				continue
			}
			if names[c.Name] {
				problem(line, id+"."+c.Name, "column declared twice")
			}
			switch {
			case e.Format == Fixed && c.Width < 1:
				problem(line, id+"."+c.Name, "width: a fixed-width column needs its width (at least 1)")
			case e.Format != Fixed && c.Width != 0:
				problem(line, id+"."+c.Name, "width: only a fixed-width entity's columns have widths")
			}
			names[c.Name] = true
			e.Columns = append(e.Columns, c)
		}
		if len(ed.Columns) == 0 {
			problem(l.Line, id, "no columns")
		}
		if ed.UniqueKey != "" && !names[ed.UniqueKey] {
			problem(l.Key("unique_key"), id, "unique_key: %q is not a column of the entity", ed.UniqueKey)
		}
		for _, k := range ed.Key {
			if !names[k] {
				problem(l.Key("key"), id, "key: %q is not a column of the entity", k)
			}
		}
		e.Key = ed.Key
		if ed.Identity != nil {
			for _, msg := range checkIdentity(ed.Identity, f.Feed, names) {
				problem(l.Key("identity"), id, "identity: %s", msg)
			}
			e.Identity = ed.Identity
		}
		for k, c := range ed.Checks {
			for _, msg := range c.check(names) {
				problem(l.Key("checks"), id, "checks[%d]: %s", k, msg)
			}
		}
		e.Checks = ed.Checks
		if ed.Expected != nil {
			if msg := ed.Expected.check(); msg != "" {
				problem(l.Key("expected"), id, "expected: %s", msg)
			}
			if !strings.Contains(ed.Pattern, "{D}") && !strings.Contains(ed.Pattern, "{DATE}") {
				problem(l.Key("expected"), id, "expected: the pattern %q has no {D} or {DATE}, so a file's business day cannot be known", ed.Pattern)
			}
			e.Expected = ed.Expected
		}
		markIdentifiers(e)
		fd.Entities = append(fd.Entities, e)
	}
	return fd, probs
}

// markIdentifiers flags the string columns that identify or link records:
// the key, the unique key, required strings without a list of values, and
// the identity attributes (ID numbers, phones). An invisible character in
// one of them is a reject, never a silent mismatch in unification or joins.
func markIdentifiers(e *Entity) {
	for i := range e.Columns {
		c := &e.Columns[i]
		if c.Type != String || c.PII == "free_text" || c.PII == "name" {
			continue
		}
		c.Identifier = slices.Contains(e.Key, c.Name) || c.Name == e.UniqueKey ||
			c.Required && len(c.Enum) == 0 || c.PII == "id_number" || c.PII == "phone"
	}
}

// column checks one declared column; msg says what is wrong.
func column(cd columnDecl) (c Column, msg string) {
	c = Column{Name: cd.Name, Required: cd.Required, Optional: cd.Optional, ZH: cd.ZH, EN: cd.EN, PII: cd.PII, Width: cd.Width}
	if !identifier.MatchString(cd.Name) {
		return c, fmt.Sprintf("name: %q is not a lower-case name (a-z, 0-9, _)", cd.Name)
	}
	if strings.HasPrefix(cd.Name, "_") {
		return c, "names starting with _ are the warehouse's lineage columns"
	}
	if slices.Contains(reservedWords, cd.Name) {
		return c, fmt.Sprintf("name: %q is a reserved word of SQL; analysts would have to quote it in every query (name it e.g. %s_code)", cd.Name, cd.Name)
	}
	if !slices.Contains(piiClasses, cd.PII) {
		return c, fmt.Sprintf("pii: %q is not one of id_number, phone, name, free_text", cd.PII)
	}
	if cd.Required && cd.Optional {
		return c, "required and optional: a required value needs its column in the file"
	}
	switch t := strings.ToLower(strings.TrimSpace(cd.Type)); {
	case t == "string":
		c.Type = String
	case t == "int" || t == "integer":
		c.Type = Int
	case t == "date":
		c.Type = Date
	case t == "timestamp":
		c.Type = Timestamp
	case t == "bool" || t == "boolean":
		c.Type = Bool
	case t == "enum":
		c.Type = String
		if len(cd.Values) == 0 {
			return c, "type enum needs values: [...]"
		}
		c.Enum = cd.Values
	case decimalType.MatchString(t):
		m := decimalType.FindStringSubmatch(t)
		p, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		if p < 1 || p > MaxPrecision || s > p {
			return c, fmt.Sprintf("type %s: the precision must be 1 to %d and the scale at most the precision", t, MaxPrecision)
		}
		c.Type, c.Precision, c.Scale = Decimal, p, s
	case t == "":
		return c, "type is missing (string, int, decimal(p,s), date, timestamp, bool or enum)"
	default:
		return c, fmt.Sprintf("type %q is not string, int, decimal(p,s), date, timestamp, bool or enum", cd.Type)
	}
	if c.Type != String || c.Enum == nil {
		if len(cd.Values) > 0 && cd.Type != "enum" {
			return c, "values: only an enum column has values"
		}
	}
	return c, ""
}

// columnLines are the lines of each entity's columns.
func columnLines(data []byte) [][]int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	var out [][]int
	for _, e := range seqItems(mapValue(root.Content[0], "entities")) {
		var lines []int
		for _, c := range seqItems(mapValue(e, "columns")) {
			lines = append(lines, c.Line)
		}
		out = append(out, lines)
	}
	return out
}

func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// mapValue is the value of key in a YAML mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for k := 0; n != nil && k+1 < len(n.Content); k += 2 {
		if n.Content[k].Value == key {
			return n.Content[k+1]
		}
	}
	return nil
}
