package files

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
	"cdp/connectors/rows"
)

// parquetReader reads a Parquet file row group by row group and hands on
// batches in the contract's types. Parquet is typed, so a column of the wrong
// type fails the whole file up front; rows are only rejected for missing
// required values and values outside an enum.
type parquetReader struct {
	e       *contract.Entity
	rel     string
	loc     *time.Location
	f       *os.File
	rr      pqarrow.RecordReader
	schema  *arrow.Schema
	colIdx  []int // contract column → file column, -1 = absent (optional)
	extras  []int // file columns the contract does not know
	names   []string
	cur     arrow.RecordBatch
	err     error
	rowsIn  int64
	rejects []contract.Reject
	refs    atomic.Int64
	bytesIn *atomic.Int64
	size    int64
}

func init() {
	registerFormat(contract.Parquet, formatSpec{ownsFile: true, open: func(a *openArgs) (finisher, error) {
		return openParquet(a.ctx, a.e, a.file.Source, a.file.Path, a.loc, a.bytesIn, a.plan)
	}})
}

func openParquet(ctx context.Context, e *contract.Entity, rel, path string, loc *time.Location, bytesIn *atomic.Int64, plan *mapping.Plan) (*parquetReader, error) {
	name := func(c contract.Column) string { return c.Name }
	if plan != nil {
		name = func(c contract.Column) string { return plan.Rename(c.Name) }
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	st, _ := f.Stat()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", rel, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10, Parallel: true}, memory.DefaultAllocator)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	fs, err := fr.Schema()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: schema: %w", rel, err)
	}
	p := &parquetReader{e: e, rel: rel, loc: loc, f: f, schema: e.BatchSchema(), bytesIn: bytesIn, size: st.Size()}
	p.refs.Store(1)
	known := map[string]bool{}
	var problems []string
	seen := map[string]int{}
	for i, fld := range fs.Fields() {
		if first, dup := seen[fld.Name]; dup {
			problems = append(problems, fmt.Sprintf("columns %d and %d are both named %s (which one is meant cannot be known)", first+1, i+1, fld.Name))
		}
		seen[fld.Name] = i
	}
	for _, c := range e.Columns {
		src := name(c)
		known[src] = true
		idx := fs.FieldIndices(src)
		if len(idx) == 0 {
			if !c.Optional {
				if src != c.Name {
					problems = append(problems, fmt.Sprintf("column %s (mapped to %s) is missing", src, c.Name))
				} else {
					problems = append(problems, fmt.Sprintf("column %s is missing", c.Name))
				}
			}
			p.colIdx = append(p.colIdx, -1)
			continue
		}
		ft := fs.Field(idx[0]).Type
		if !compatible(ft, c.Type) {
			problems = append(problems, fmt.Sprintf("column %s is %s, the contract wants %s", src, ft, c.TypeName()))
		}
		p.colIdx = append(p.colIdx, idx[0])
	}
	for i, fld := range fs.Fields() {
		if !known[fld.Name] {
			p.extras = append(p.extras, i)
		}
	}
	if len(problems) > 0 {
		f.Close()
		return nil, fmt.Errorf("%s: wrong schema for %s: %v; nothing loaded from this file", rel, e.ID(), problems)
	}
	p.rr, err = fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return p, nil
}

// compatible says whether a Parquet column's Arrow type can be read as the
// contract type without losing meaning.
func compatible(t arrow.DataType, want contract.Type) bool {
	if d, ok := t.(*arrow.DictionaryType); ok {
		t = d.ValueType
	}
	id := t.ID()
	switch want {
	case contract.String:
		return id == arrow.STRING || id == arrow.LARGE_STRING
	case contract.Int:
		return arrow.IsInteger(id)
	case contract.Decimal:
		return id == arrow.DECIMAL128 || id == arrow.DECIMAL256 || arrow.IsInteger(id)
	case contract.Date:
		return id == arrow.DATE32 || id == arrow.DATE64
	case contract.Timestamp:
		return id == arrow.TIMESTAMP
	case contract.Bool:
		return id == arrow.BOOL
	}
	return false
}

func (p *parquetReader) Schema() *arrow.Schema { return p.schema }

func (p *parquetReader) Next() bool {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	for p.err == nil && p.rr.Next() {
		in := p.rr.RecordBatch()
		out, err := p.convert(in)
		if err != nil {
			p.err = fmt.Errorf("%s: %w", p.rel, err)
			return false
		}
		if out.NumRows() == 0 {
			out.Release()
			continue
		}
		p.cur = out
		return true
	}
	if p.err == nil && p.rr.Err() != nil {
		p.err = fmt.Errorf("%s: %w", p.rel, p.rr.Err())
	}
	p.bytesIn.Add(p.size)
	p.size = 0
	return false
}

func (p *parquetReader) convert(in arrow.RecordBatch) (arrow.RecordBatch, error) {
	ctx := context.Background()
	n := int(in.NumRows())
	first := p.rowsIn + 1
	p.rowsIn += int64(n)
	cols := make([]arrow.Array, 0, len(p.schema.Fields()))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	reason := make([]*contract.Reject, n)
	for ci, c := range p.e.Columns {
		target := c.ArrowType()
		var arr arrow.Array
		if p.colIdx[ci] < 0 {
			arr = array.MakeArrayOfNull(memory.DefaultAllocator, target, n)
		} else {
			src := in.Column(p.colIdx[ci])
			var err error
			arr, err = p.cast(ctx, src, c, target)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
		cols = append(cols, arr)
		for r := 0; r < n; r++ {
			if !keep[r] {
				continue
			}
			if arr.IsNull(r) {
				if c.Required {
					keep[r] = false
					reason[r] = &contract.Reject{Reason: contract.ReasonMissing, Detail: "column " + c.Name + " is required"}
				}
				continue
			}
			if c.Type == contract.String {
				v := arr.(*array.String).Value(r)
				switch {
				case !utf8.ValidString(v):
					keep[r] = false
					reason[r] = &contract.Reject{Reason: contract.ReasonEncoding, Detail: "column " + c.Name + ": not valid UTF-8"}
					continue
				case v == "" && c.Required:
					keep[r] = false
					reason[r] = &contract.Reject{Reason: contract.ReasonMissing, Detail: "column " + c.Name + " is required"}
					continue
				case c.Identifier:
					if ch, at, found := rows.InvisibleString(v); found {
						prob := rows.InvisibleProblem(c.Name, ch, at)
						keep[r] = false
						reason[r] = &contract.Reject{Reason: prob.Reason, Detail: prob.Detail}
						continue
					}
				}
			}
			if c.Type == contract.Date || c.Type == contract.Timestamp {
				if detail := outOfRange(arr, r, c); detail != "" {
					keep[r] = false
					reason[r] = &contract.Reject{Reason: contract.ReasonDate, Detail: detail}
					continue
				}
			}
			if len(c.Enum) > 0 {
				v := arr.(*array.String).Value(r)
				if !inEnum(v, c.Enum) {
					keep[r] = false
					reason[r] = &contract.Reject{Reason: contract.ReasonEnum, Detail: fmt.Sprintf("column %s: %q is not one of %v", c.Name, v, c.Enum)}
				}
			}
		}
	}
	extra := array.NewStringBuilder(memory.DefaultAllocator)
	pos := array.NewInt64Builder(memory.DefaultAllocator)
	part := array.NewInt32Builder(memory.DefaultAllocator)
	for r := 0; r < n; r++ {
		if len(p.extras) == 0 {
			extra.AppendNull()
		} else {
			m := map[string]any{}
			for _, fi := range p.extras {
				m[in.Schema().Field(fi).Name] = in.Column(fi).GetOneForMarshal(r)
			}
			b, _ := json.Marshal(m)
			extra.Append(string(b))
		}
		pos.Append(first + int64(r))
		part.Append(-1)
	}
	cols = append(cols, extra.NewArray(), pos.NewArray(), part.NewArray())
	extra.Release()
	pos.Release()
	part.Release()
	rec := array.NewRecordBatch(p.schema, cols, int64(n))
	rejected := 0
	for r := 0; r < n; r++ {
		if keep[r] {
			continue
		}
		rejected++
		rej := *reason[r]
		line := first + int64(r)
		rej.Position, rej.Line, rej.Partition, rej.Offset = p.rel+":"+strconv.FormatInt(line, 10), line, -1, -1
		rej.Raw = rowJSON(in, r)
		p.rejects = append(p.rejects, rej)
	}
	if rejected == 0 {
		return rec, nil
	}
	defer rec.Release()
	mb := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer mb.Release()
	mb.AppendValues(keep, nil)
	mask := mb.NewArray()
	defer mask.Release()
	filtered, err := compute.FilterRecordBatch(ctx, rec, mask, compute.DefaultFilterOptions())
	if err != nil {
		return nil, err
	}
	return filtered, nil
}

// The dates and timestamps a file may hold: years 1 to 9999, as in text
// files. Parquet can encode any 32- or 64-bit count of days or units, and
// DuckDB would read the extremes as infinity.
var (
	minDay = int64(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	maxDay = int64(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
)

// outOfRange says why row r of a date or timestamp column is outside
// years 1–9999 ("" when it is not).
func outOfRange(arr arrow.Array, r int, c contract.Column) string {
	var day int64
	switch a := arr.(type) {
	case *array.Date32:
		day = int64(a.Value(r))
	case *array.Timestamp:
		us := int64(a.Value(r))
		day = us / 86_400_000_000
		if us < 0 && us%86_400_000_000 != 0 {
			day--
		}
	default:
		return ""
	}
	if day < minDay || day > maxDay {
		return fmt.Sprintf("column %s: %d days from 1970-01-01 is outside the years 1 to 9999", c.Name, day)
	}
	return ""
}

// cast converts a Parquet column to the contract's Arrow type. Timestamps
// without a zone are wall time in the feed's zone; timestamps of any unit
// (pandas writes nanoseconds) are converted value by value to the
// warehouse's microseconds, sub-microsecond digits dropped toward the
// earlier microsecond as DuckDB's own cast does.
func (p *parquetReader) cast(ctx context.Context, src arrow.Array, c contract.Column, target arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(src.DataType(), target) {
		src.Retain()
		return src, nil
	}
	if ts, ok := src.DataType().(*arrow.TimestampType); ok && ts.TimeZone != "" && c.Type == contract.Timestamp {
		return toMicros(src.(*array.Timestamp), ts.Unit), nil
	}
	if ts, ok := src.DataType().(*arrow.TimestampType); ok && ts.TimeZone == "" && c.Type == contract.Timestamp {
		withZone := &arrow.TimestampType{Unit: ts.Unit, TimeZone: p.loc.String()}
		data := array.NewData(withZone, src.Len(), src.Data().Buffers(), nil, src.NullN(), src.Data().Offset())
		defer data.Release()
		zoned := array.MakeFromData(data)
		defer zoned.Release()
		return p.wallToInstant(zoned.(*array.Timestamp), ts.Unit)
	}
	return compute.CastArray(ctx, src, compute.SafeCastOptions(target))
}

func (p *parquetReader) wallToInstant(a *array.Timestamp, unit arrow.TimeUnit) (arrow.Array, error) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, contract.TimestampType)
	defer b.Release()
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		wall := a.Value(i).ToTime(unit)
		if wall.Year() < 1 || wall.Year() > 9999 {
			b.Append(arrow.Timestamp(math.MaxInt64)) // rejected by outOfRange
			continue
		}
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), p.loc)
		b.Append(arrow.Timestamp(t.UnixMicro()))
	}
	return b.NewArray(), nil
}

// toMicros converts an instant column of any unit to microseconds.
func toMicros(a *array.Timestamp, unit arrow.TimeUnit) arrow.Array {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, contract.TimestampType)
	defer b.Release()
	per := map[arrow.TimeUnit]int64{arrow.Second: 1_000_000, arrow.Millisecond: 1000, arrow.Microsecond: 1}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(a.Value(i))
		if unit == arrow.Nanosecond {
			us := v / 1000
			if v < 0 && v%1000 != 0 {
				us--
			}
			b.Append(arrow.Timestamp(us))
			continue
		}
		m := per[unit]
		if v > math.MaxInt64/m || v < math.MinInt64/m {
			b.Append(arrow.Timestamp(math.MaxInt64)) // far outside the years 1–9999: rejected by outOfRange
			continue
		}
		b.Append(arrow.Timestamp(v * m))
	}
	return b.NewArray()
}

func inEnum(v string, values []string) bool {
	for _, e := range values {
		if e == v {
			return true
		}
	}
	return false
}

func rowJSON(rec arrow.RecordBatch, r int) string {
	m := map[string]any{}
	for i, f := range rec.Schema().Fields() {
		m[f.Name] = rec.Column(i).GetOneForMarshal(r)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (p *parquetReader) RecordBatch() arrow.RecordBatch { return p.cur }
func (p *parquetReader) Record() arrow.RecordBatch      { return p.cur }
func (p *parquetReader) Err() error                     { return p.err }
func (p *parquetReader) Retain()                        { p.refs.Add(1) }
func (p *parquetReader) Release() {
	if p.refs.Add(-1) != 0 {
		return
	}
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	p.rr.Release()
	p.f.Close()
}

func (p *parquetReader) finish() (int64, []contract.Reject, error) {
	for p.Next() {
	}
	if p.err != nil {
		return 0, nil, p.err
	}
	return p.rowsIn, p.rejects, nil
}
