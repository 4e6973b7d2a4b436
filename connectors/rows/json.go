package rows

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"cdp/connectors/contract"
)

// JSONRow stages one JSON object per call into a Builder: known keys become
// columns, unknown keys are kept in _extra, and a missing required key rejects
// the row at Commit.
type JSONRow struct {
	b         *Builder
	p         fastjson.Parser
	index     map[string]int
	seen      []bool   // known keys met in this object
	extraKeys [][]byte // unknown keys met in this object
	num       []byte
	failed    *Problem
}

// NewJSONRow stages JSON objects into b.
func NewJSONRow(b *Builder) *JSONRow {
	j := &JSONRow{b: b, index: map[string]int{}, seen: make([]bool, len(b.entity.Columns))}
	for i, c := range b.entity.Columns {
		j.index[c.Name] = i
	}
	return j
}

// Stage parses one object and stages its fields. The caller commits.
// JSON is held to RFC 8259 where the parser is lenient: number literals
// JSON does not allow (01, +1, .5, 1., NaN), string escapes it does not
// define (\x41, \u12, a lone surrogate), raw control characters in strings
// and a key given twice are malformed rows, never values.
func (j *JSONRow) Stage(line []byte) *Problem {
	j.b.Begin()
	o, prob := parseObject(&j.p, line)
	if prob != nil {
		return prob
	}
	j.failed = nil
	clear(j.seen)
	j.extraKeys = j.extraKeys[:0]
	o.Visit(j.visit)
	return j.failed
}

func (j *JSONRow) visit(key []byte, v *fastjson.Value) {
	if j.failed != nil {
		return
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		if j.num = v.MarshalTo(j.num[:0]); !validNumber(j.num) {
			j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q: %s is not a JSON number", key, j.num)}
			return
		}
	case fastjson.TypeArray, fastjson.TypeObject:
		if msg := checkNumbers(v); msg != "" {
			j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q: %s", key, msg)}
			return
		}
	}
	i, known := j.index[string(key)]
	if !known {
		for _, k := range j.extraKeys {
			if bytes.Equal(k, key) {
				j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q appears twice", key)}
				return
			}
		}
		j.extraKeys = append(j.extraKeys, key) // valid until the next line is parsed
		j.num = v.MarshalTo(j.num[:0])
		j.b.AddExtra(key, j.num)
		return
	}
	if j.seen[i] {
		j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q appears twice", key)}
		return
	}
	j.seen[i] = true
	switch v.Type() {
	case fastjson.TypeNull:
		j.b.SetNull(i)
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		j.failed = j.b.Set(i, s)
		if j.failed == nil && len(s) == 0 {
			j.b.SetNull(i)
		}
	case fastjson.TypeNumber:
		j.failed = j.b.Set(i, j.num) // its literal, checked above
	case fastjson.TypeTrue, fastjson.TypeFalse:
		j.failed = j.b.SetBool(i, v.Type() == fastjson.TypeTrue)
	default:
		j.failed = &Problem{contract.ReasonType, fmt.Sprintf("column %s: a JSON %s where a %s is expected", key, v.Type(), j.b.cols[i].col.TypeName())}
	}
}

// parseObject parses one line as a JSON object, held to RFC 8259 where
// the parser alone is lenient (strings; numbers are checked per value).
func parseObject(p *fastjson.Parser, line []byte) (*fastjson.Object, *Problem) {
	if !utf8.Valid(line) {
		return nil, &Problem{contract.ReasonEncoding, "not valid UTF-8"}
	}
	if needsStringCheck(line) {
		if msg := checkStrings(line); msg != "" {
			return nil, &Problem{contract.ReasonMalformed, "invalid JSON: " + msg}
		}
	}
	v, err := p.ParseBytes(line)
	if err != nil {
		return nil, &Problem{contract.ReasonMalformed, "invalid JSON: " + err.Error()}
	}
	o, err := v.Object()
	if err != nil {
		return nil, &Problem{contract.ReasonMalformed, fmt.Sprintf("a JSON %s where an object is expected", v.Type())}
	}
	return o, nil
}

// needsStringCheck: only a line with a backslash or a control byte can hold
// a string the parser accepts and JSON does not. Eight bytes at a time.
func needsStringCheck(line []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		control := (w - 0x20*ones) & ^w & highs // a byte below 0x20
		x := w ^ ('\\' * ones)
		backslash := (x - ones) & ^x & highs // a byte equal to '\\'
		if control|backslash != 0 {
			return true
		}
	}
	for ; i < len(line); i++ {
		if c := line[i]; c == '\\' || c < 0x20 {
			return true
		}
	}
	return false
}

// checkStrings walks the string literals of a JSON text and says what is
// wrong with the first invalid one ("" when none is).
func checkStrings(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		for i++; ; i++ {
			if i >= len(b) {
				return "a string is never closed"
			}
			c := b[i]
			if c == '"' {
				break
			}
			if c < 0x20 {
				return fmt.Sprintf("a raw control character (%#02x) inside a string; JSON writes it escaped", c)
			}
			if c != '\\' {
				continue
			}
			if i+1 >= len(b) {
				return "a string ends in a backslash"
			}
			i++
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				r, ok := hex4(b, i+1)
				if !ok {
					return "\\u needs four hex digits"
				}
				i += 4
				switch {
				case r >= 0xD800 && r <= 0xDBFF:
					lo, ok := hex4(b, i+3)
					if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' || !ok || lo < 0xDC00 || lo > 0xDFFF {
						return fmt.Sprintf("\\u%04X is half of a surrogate pair without its other half", r)
					}
					i += 6
				case r >= 0xDC00 && r <= 0xDFFF:
					return fmt.Sprintf("\\u%04X is half of a surrogate pair without its other half", r)
				}
			default:
				return fmt.Sprintf("\\%c is not a JSON escape", b[i])
			}
		}
	}
	return ""
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r*16 + rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r*16 + rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r*16 + rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkNumbers holds every number literal in v (nested ones too) to JSON's
// grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func checkNumbers(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeNumber:
		if lit := v.MarshalTo(nil); !validNumber(lit) {
			return fmt.Sprintf("%s is not a JSON number", lit)
		}
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if msg := checkNumbers(x); msg != "" {
				return msg
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		var msg string
		o.Visit(func(_ []byte, x *fastjson.Value) {
			if msg == "" {
				msg = checkNumbers(x)
			}
		})
		return msg
	}
	return ""
}

func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// JSONFields reads one JSON object per call as named text fields, held to
// RFC 8259 like JSONRow, for a mapping to read: strings unescaped,
// numbers and booleans as written, null as absent, objects and arrays as
// their JSON. The bytes are valid until the next call.
type JSONFields struct {
	p      fastjson.Parser
	seen   [][]byte
	raw    []byte
	failed *Problem
}

// Parse calls field for each key of the object on line, in order; text is
// nil for null.
func (j *JSONFields) Parse(line []byte, field func(key, text, raw []byte)) *Problem {
	o, prob := parseObject(&j.p, line)
	if prob != nil {
		return prob
	}
	j.failed, j.seen = nil, j.seen[:0]
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.failed != nil {
			return
		}
		for _, k := range j.seen {
			if bytes.Equal(k, key) {
				j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q appears twice", key)}
				return
			}
		}
		j.seen = append(j.seen, key)
		if msg := checkNumbers(v); msg != "" {
			j.failed = &Problem{contract.ReasonMalformed, fmt.Sprintf("invalid JSON: key %q: %s", key, msg)}
			return
		}
		j.raw = v.MarshalTo(j.raw[:0])
		switch v.Type() {
		case fastjson.TypeNull:
			field(key, nil, j.raw)
		case fastjson.TypeString:
			s, _ := v.StringBytes()
			field(key, s, j.raw)
		default:
			field(key, j.raw, j.raw)
		}
	})
	return j.failed
}
