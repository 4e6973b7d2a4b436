// Package rows turns delivered field values into Arrow record batches typed by
// the feed contract. Every connector (text files, JSON lines, the Kafka
// stream) goes through a Builder, so every feed validates the same way and
// rejects with the same reason codes.
//
// A row is staged field by field and appended to the batch only when all its
// fields are valid: a rejected row leaves no trace in the batch.
package rows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"cdp/connectors/contract"
)

// Location returns the time zone for wall-clock values without an offset.
// Asia/Shanghai comes back as the shared value the fast path recognises.
func Location(name string) (*time.Location, error) {
	if name == "" || name == "Asia/Shanghai" {
		if shanghai == nil {
			return nil, fmt.Errorf("time zone Asia/Shanghai is not available (install tzdata)")
		}
		return shanghai, nil
	}
	return time.LoadLocation(name)
}

// Problem is why a row cannot load.
type Problem struct {
	Reason string
	Detail string
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Detail }

type staged struct {
	col    contract.Column
	set    bool
	null   bool
	str    []byte
	num    int64
	enum   map[string]struct{}
	strB   *array.StringBuilder
	intB   *array.Int64Builder
	decB   *array.Decimal128Builder
	dateB  *array.Date32Builder
	tsB    *array.TimestampBuilder
	boolB  *array.BooleanBuilder
	maxLen int
}

// Builder accumulates valid rows of one entity into a record batch.
type Builder struct {
	entity *contract.Entity
	loc    *time.Location
	rb     *array.RecordBuilder
	cols   []staged
	extra  []byte // JSON object of unknown fields, without the closing brace
	extraB *array.StringBuilder
	posB   *array.Int64Builder
	partB  *array.Int32Builder
	rows   int
}

// NewBuilder returns a builder for the entity. Wall-clock timestamps without
// an offset are read in loc.
func NewBuilder(e *contract.Entity, loc *time.Location) *Builder {
	b := &Builder{entity: e, loc: loc, rb: array.NewRecordBuilder(memory.DefaultAllocator, e.BatchSchema())}
	b.cols = make([]staged, len(e.Columns))
	for i, c := range e.Columns {
		s := &b.cols[i]
		s.col = c
		if len(c.Enum) > 0 {
			s.enum = map[string]struct{}{}
			for _, v := range c.Enum {
				s.enum[v] = struct{}{}
			}
		}
		switch fb := b.rb.Field(i).(type) {
		case *array.StringBuilder:
			s.strB = fb
		case *array.Int64Builder:
			s.intB = fb
		case *array.Decimal128Builder:
			s.decB = fb
		case *array.Date32Builder:
			s.dateB = fb
		case *array.TimestampBuilder:
			s.tsB = fb
		case *array.BooleanBuilder:
			s.boolB = fb
		}
	}
	n := len(e.Columns)
	b.extraB = b.rb.Field(n).(*array.StringBuilder)
	b.posB = b.rb.Field(n + 1).(*array.Int64Builder)
	b.partB = b.rb.Field(n + 2).(*array.Int32Builder)
	return b
}

// Entity is the entity being built.
func (b *Builder) Entity() *contract.Entity { return b.entity }

// Begin starts a new row, forgetting anything staged.
func (b *Builder) Begin() {
	for i := range b.cols {
		b.cols[i].set = false
	}
	b.extra = b.extra[:0]
}

// SetNull stages an absent value for column i.
func (b *Builder) SetNull(i int) {
	s := &b.cols[i]
	s.set, s.null = true, true
}

// Set stages the delivered text of column i, parsing it by the column's type.
// Empty text is an absent value. The bytes are copied.
func (b *Builder) Set(i int, v []byte) *Problem {
	s := &b.cols[i]
	s.set = true
	if len(v) == 0 {
		s.null = true
		return nil
	}
	s.null = false
	c := &s.col
	var ok bool
	switch c.Type {
	case contract.String:
		if c.Identifier {
			if r, at, found := Invisible(v); found {
				return InvisibleProblem(c.Name, r, at)
			}
		}
		if s.enum != nil {
			if _, found := s.enum[string(v)]; !found {
				return &Problem{contract.ReasonEnum, fmt.Sprintf("column %s: %q is not one of %v", c.Name, clip(v), c.Enum)}
			}
		}
		s.str = append(s.str[:0], v...)
		return nil
	case contract.Int:
		s.num, ok = ParseInt(v)
	case contract.Decimal:
		s.num, ok = ParseDecimal(v, c.Precision, c.Scale)
	case contract.Date:
		var d int32
		d, ok = ParseDate(v)
		s.num = int64(d)
		if !ok {
			return &Problem{contract.ReasonDate, fmt.Sprintf("column %s: %q is not a valid date", c.Name, clip(v))}
		}
		return nil
	case contract.Timestamp:
		s.num, ok = ParseTimestamp(v, b.loc)
		if !ok {
			return &Problem{contract.ReasonDate, fmt.Sprintf("column %s: %q is not a valid timestamp", c.Name, clip(v))}
		}
		return nil
	case contract.Bool:
		var t bool
		t, ok = ParseBool(v)
		s.num = 0
		if t {
			s.num = 1
		}
	}
	if !ok {
		return &Problem{contract.ReasonType, fmt.Sprintf("column %s: %q is not a valid %s", c.Name, clip(v), c.TypeName())}
	}
	return nil
}

// SetBool stages a boolean already parsed (JSON true/false).
func (b *Builder) SetBool(i int, v bool) *Problem {
	s := &b.cols[i]
	if s.col.Type != contract.Bool {
		return &Problem{contract.ReasonType, fmt.Sprintf("column %s: a boolean where a %s is expected", s.col.Name, s.col.TypeName())}
	}
	s.set, s.null, s.num = true, false, 0
	if v {
		s.num = 1
	}
	return nil
}

// AddExtra keeps a field the contract does not know; value is JSON text.
func (b *Builder) AddExtra(name []byte, jsonValue []byte) {
	if len(b.extra) == 0 {
		b.extra = append(b.extra, '{')
	} else {
		b.extra = append(b.extra, ',')
	}
	b.extra = AppendJSONString(b.extra, name)
	b.extra = append(b.extra, ':')
	b.extra = append(b.extra, jsonValue...)
}

// AddExtraText keeps an unknown text field (a CSV column) as a JSON string.
func (b *Builder) AddExtraText(name, value []byte) {
	if len(b.extra) == 0 {
		b.extra = append(b.extra, '{')
	} else {
		b.extra = append(b.extra, ',')
	}
	b.extra = AppendJSONString(b.extra, name)
	b.extra = append(b.extra, ':')
	b.extra = AppendJSONString(b.extra, value)
}

// Commit checks required values and appends the staged row. Columns never
// staged are absent.
func (b *Builder) Commit(pos int64, part int32) *Problem {
	for i := range b.cols {
		s := &b.cols[i]
		if (!s.set || s.null) && s.col.Required {
			return &Problem{contract.ReasonMissing, fmt.Sprintf("column %s is required", s.col.Name)}
		}
	}
	for i := range b.cols {
		s := &b.cols[i]
		if !s.set || s.null {
			b.rb.Field(i).AppendNull()
			continue
		}
		switch {
		case s.strB != nil:
			s.strB.BinaryBuilder.Append(s.str)
		case s.intB != nil:
			s.intB.Append(s.num)
		case s.decB != nil:
			s.decB.Append(decimal128.FromI64(s.num))
		case s.dateB != nil:
			s.dateB.Append(arrow.Date32(s.num))
		case s.tsB != nil:
			s.tsB.Append(arrow.Timestamp(s.num))
		case s.boolB != nil:
			s.boolB.Append(s.num == 1)
		}
	}
	if len(b.extra) == 0 {
		b.extraB.AppendNull()
	} else {
		b.extra = append(b.extra, '}')
		b.extraB.BinaryBuilder.Append(b.extra)
	}
	b.posB.Append(pos)
	b.partB.Append(part)
	b.rows++
	return nil
}

// Rows is how many rows the pending batch holds.
func (b *Builder) Rows() int { return b.rows }

// Batch returns the rows committed since the last call as a record batch.
func (b *Builder) Batch() arrow.RecordBatch {
	b.rows = 0
	return b.rb.NewRecordBatch()
}

// Release frees the builder.
func (b *Builder) Release() { b.rb.Release() }

func clip(v []byte) string {
	const max = 40
	if len(v) <= max {
		return string(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return string(v[:cut]) + "…"
}

// AppendJSONString appends s as a JSON string literal.
func AppendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
