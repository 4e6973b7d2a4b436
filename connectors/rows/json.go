package rows

import (
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"cdp/connectors/contract"
)

// JSONRow stages one JSON object per call into a Builder: known keys become
// columns, unknown keys are kept in _extra, and a missing required key rejects
// the row at Commit.
type JSONRow struct {
	b      *Builder
	p      fastjson.Parser
	index  map[string]int
	num    []byte
	failed *Problem
}

// NewJSONRow stages JSON objects into b.
func NewJSONRow(b *Builder) *JSONRow {
	j := &JSONRow{b: b, index: map[string]int{}}
	for i, c := range b.entity.Columns {
		j.index[c.Name] = i
	}
	return j
}

// Stage parses one object and stages its fields. The caller commits.
func (j *JSONRow) Stage(line []byte) *Problem {
	j.b.Begin()
	if !utf8.Valid(line) {
		return &Problem{contract.ReasonEncoding, "not valid UTF-8"}
	}
	v, err := j.p.ParseBytes(line)
	if err != nil {
		return &Problem{contract.ReasonMalformed, "invalid JSON: " + err.Error()}
	}
	o, err := v.Object()
	if err != nil {
		return &Problem{contract.ReasonMalformed, fmt.Sprintf("a JSON %s where an object is expected", v.Type())}
	}
	j.failed = nil
	o.Visit(j.visit)
	return j.failed
}

func (j *JSONRow) visit(key []byte, v *fastjson.Value) {
	if j.failed != nil {
		return
	}
	i, known := j.index[string(key)]
	if !known {
		j.num = v.MarshalTo(j.num[:0])
		j.b.AddExtra(key, j.num)
		return
	}
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
		j.num = v.MarshalTo(j.num[:0])
		j.failed = j.b.Set(i, j.num)
	case fastjson.TypeTrue, fastjson.TypeFalse:
		j.failed = j.b.SetBool(i, v.Type() == fastjson.TypeTrue)
	default:
		j.failed = &Problem{contract.ReasonType, fmt.Sprintf("column %s: a JSON %s where a %s is expected", key, v.Type(), j.b.cols[i].col.TypeName())}
	}
}
