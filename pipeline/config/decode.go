package config

// The project file is decoded from the yaml.Node tree by hand rather than by
// yaml.Unmarshal: that is what lets every unknown key, wrong type and invalid
// value be reported with its own line, column and field path, all at once,
// instead of yaml.v3's first "line N: field x not found in type …".

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

type decoder struct {
	file string
	errs []*Error
	// keys maps a field path ("feeds[1].encoding", "kafka.brokers[0]") to the
	// node where it is written: the key of a mapping entry, or a sequence item.
	keys map[string]*yaml.Node
	// values maps a field path to its value node.
	values map[string]*yaml.Node
	// bad holds the fields that failed to decode; once validating, problems
	// with them or inside them are not reported again as a second symptom.
	bad        map[string]bool
	validating bool
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}, bad: map[string]bool{}}
}

// errorf records a problem at node n (nil: the whole file).
func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	if !d.validating {
		d.bad[field] = true
	} else {
		for f := field; f != ""; f = parentField(f) {
			if d.bad[f] {
				return
			}
		}
	}
	e := &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// at returns where field is written, or where its nearest written parent is
// (a missing key is reported at the mapping that should hold it).
func (d *decoder) at(field string) *yaml.Node {
	for f := field; f != ""; f = parentField(f) {
		if n, ok := d.keys[f]; ok {
			return n
		}
	}
	return nil
}

// fieldErrorf records a problem with field, positioned where it is written.
func (d *decoder) fieldErrorf(field, format string, args ...any) {
	d.errorf(d.at(field), field, format, args...)
}

func parentField(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return ""
	}
	return f[:i]
}

// err returns nil, the one *Error, or Errors in file order.
func (d *decoder) err() error {
	switch len(d.errs) {
	case 0:
		return nil
	case 1:
		return d.errs[0]
	}
	sort.SliceStable(d.errs, func(i, j int) bool {
		a, b := d.errs[i], d.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return Errors(d.errs)
}

// decodeFile decodes data into p and reports whether there was a mapping to
// validate: false after a syntax error or with a root that is not a mapping.
func (d *decoder) decodeFile(data []byte, p *Project, sections []Section) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return true // an empty file: all defaults
		}
		d.syntaxError(data, err)
		return false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "", "a project file holds one YAML document; remove this second one (or its --- line)")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(data, err)
		return false
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return true
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "the project file must be a mapping of warehouse:, kafka:, ingest: and feeds:, not %s", describe(root))
		return false
	}
	d.decodeRoot(root, reflect.ValueOf(p).Elem(), sections)
	return true
}

// decodeRoot decodes the file's top-level mapping: the project's own keys
// into p, and each stage's section into that stage's options.
func (d *decoder) decodeRoot(n *yaml.Node, p reflect.Value, sections []Section) {
	fields := yamlFields(p.Type())
	known := fieldNames(fields)
	owned := map[string]Section{}
	for _, s := range sections {
		owned[s.Key] = s
		known = append(known, s.Key)
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		if prev, dup := seen[name]; dup {
			d.errorf(key, name, "is written twice (first at line %d)", prev.Line)
			continue
		}
		seen[name] = key
		d.keys[name] = key
		d.values[name] = val
		if idx, ok := fields[name]; ok {
			d.decode(val, p.Field(idx), name)
			continue
		}
		if s, ok := owned[name]; ok {
			d.decode(val, reflect.ValueOf(s.Into).Elem(), name)
			continue
		}
		delete(d.keys, name)
		delete(d.values, name)
		d.errorf(key, name, "unknown key %q %s", name, suggest(name, known))
	}
}

var syntaxLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError reports a YAML syntax error at the line it is on.
//
// yaml.v3 gives the line where the enclosing block starts, not the line of
// the mistake ("line 2: did not find expected key" for a bad indent on line
// 7), and no line at all for some errors on line 1. Because block YAML is
// line-structured, the first prefix of the file that fails with the same
// problem ends at the line of the mistake; files are small enough to try.
func (d *decoder) syntaxError(data []byte, err error) {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		d.errs = append(d.errs, &Error{File: d.file, Msg: "YAML syntax: " + err.Error(), cause: err})
		return
	}
	line, _ := strconv.Atoi(m[1])
	problem := m[2]
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= 5000 {
		for n := 1; n <= len(lines); n++ {
			perr := parseAll(bytes.Join(lines[:n], nil))
			if pm := syntaxLine.FindStringSubmatch(errString(perr)); pm != nil && pm[2] == problem {
				line = n
				break
			}
		}
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: "YAML syntax: " + problem, cause: err})
}

func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// decode fills v from node n; path is v's field path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if isNull(n) {
		return // absent: the default applies
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if k := elem.Elem().Kind(); k == reflect.Struct || k == reflect.Map || k == reflect.Slice {
			before := len(d.errs)
			d.decode(n, elem.Elem(), path)
			if len(d.errs) == before {
				v.Set(elem)
			}
		} else if d.decodeScalar(n, elem.Elem(), path) {
			v.Set(elem)
		}
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

// shorthand is a struct that may be written as one value: a mapping's
// column as the name of its source field.
type shorthand interface{ Shorthand(string) }

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if s, ok := v.Addr().Interface().(shorthand); ok && n.Kind == yaml.ScalarNode {
		s.Shorthand(n.Value)
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping (key: value lines), got %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		child := join(path, name)
		if prev, dup := seen[name]; dup {
			d.errorf(key, child, "is written twice (first at line %d)", prev.Line)
			continue
		}
		seen[name] = key
		idx, ok := fields[name]
		if !ok {
			d.errorf(key, child, "unknown key %q %s", name, suggest(name, fieldNames(fields)))
			continue
		}
		d.keys[child] = key
		d.values[child] = val
		d.decode(val, v.Field(idx), child)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	elemType := v.Type().Elem()
	if s, ok := v.Addr().Interface().(shorthand); ok && n.Kind == yaml.ScalarNode {
		s.Shorthand(n.Value) // a list written as one value is that value, commas and all
		return
	}
	if n.Kind == yaml.ScalarNode && elemType.Kind() == reflect.String {
		// "brokers: a:9092, b:9092" is as common as a YAML list; accept both.
		var items []string
		for s := range strings.SplitSeq(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		for i := range items {
			d.keys[index(path, i)] = n
		}
		if len(items) > 0 {
			v.Set(reflect.ValueOf(items))
		}
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return // "[]" is the same as leaving the key out
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := index(path, i)
		d.keys[child] = item
		d.values[child] = item
		if elemType.Kind() == reflect.String && item.Kind != yaml.ScalarNode {
			d.errorf(item, child, "want a single value, got %s", describe(item))
			continue
		}
		d.decode(item, out.Index(i), child)
		if l, ok := out.Index(i).Addr().Interface().(interface{ setLine(int) }); ok {
			l.setLine(item.Line)
		}
	}
	v.Set(out)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping (key: value lines), got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return // "{}" is the same as leaving the key out
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		child := join(path, key.Value)
		if prev, dup := seen[key.Value]; dup {
			d.errorf(key, child, "is written twice (first at line %d)", prev.Line)
			continue
		}
		seen[key.Value] = key
		d.keys[child] = key
		d.values[child] = val
		elem := reflect.New(v.Type().Elem()).Elem()
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		switch elem.Kind() {
		case reflect.Slice, reflect.Struct, reflect.Map, reflect.Pointer:
			// Lists and mappings as values (identity.trust: {mobile: [...]}).
			before := len(d.errs)
			d.decode(val, elem, child)
			if len(d.errs) == before {
				out.SetMapIndex(reflect.ValueOf(key.Value), elem)
			}
			continue
		}
		if val.Kind != yaml.ScalarNode {
			d.errorf(val, child, "want a single value, got %s", describe(val))
			continue
		}
		if d.decodeScalar(val, elem, child) {
			out.SetMapIndex(reflect.ValueOf(key.Value), elem)
		}
	}
	v.Set(out)
}

// decodeScalar decodes one scalar into v, reporting a wrong type.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a single value, got %s", describe(n))
		return false
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		var want string
		switch v.Kind() {
		case reflect.Int:
			want = "a whole number"
		case reflect.Bool:
			want = "true or false"
		default:
			want = "a " + v.Kind().String()
		}
		d.errorf(n, path, "want %s, got %q", want, n.Value)
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return strconv.Quote(n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// yamlFields maps a struct's yaml keys to field indexes; every field of the
// config types carries an explicit tag, "-" for those not read from YAML.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			out[tag] = i
		}
	}
	return out
}

func fieldNames(fields map[string]int) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return fields[names[i]] < fields[names[j]] })
	return names
}

// suggest names the closest known key, or lists them all.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(name), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("(did you mean %q?)", best)
	}
	return "(want " + orList(known) + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// orList renders "a, b or c".
func orList(items []string) string {
	items = slices.Clone(items)
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
