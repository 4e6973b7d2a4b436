package identity

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"cdp/warehouse"
)

// sink collects rows for one table as Arrow batches. A sink streaming
// to a connection (streamTo) inserts each batch as it fills, so that a
// full run's million rows are never all held in Go at once; otherwise the
// batches wait for flush (the table may not exist yet).
type sink struct {
	table   string
	schema  *arrow.Schema
	b       *array.RecordBuilder
	rows    int
	batches []arrow.RecordBatch
	ctx     context.Context
	conn    *sql.Conn
	err     error // the first failed insert of a streaming sink
}

const sinkBatch = 1 << 16

func newSink(table string, fields ...arrow.Field) *sink {
	s := arrow.NewSchema(fields, nil)
	return &sink{table: table, schema: s, b: array.NewRecordBuilder(memory.DefaultAllocator, s)}
}

// streamTo makes s insert each batch into its table on conn as it fills.
func (s *sink) streamTo(ctx context.Context, conn *sql.Conn) *sink {
	s.ctx, s.conn = ctx, conn
	return s
}

func str(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
}
func f64(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64} }
func i64(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}
}
func u64(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Uint64} }
func boolean(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true}
}
func strList(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true}
}

// row appends one row; "" is NULL for strings. A streaming sink whose
// insert failed takes no more rows (flush returns the error).
func (s *sink) row(vals ...any) {
	if s.err != nil {
		return
	}
	for i, v := range vals {
		fb := s.b.Field(i)
		switch v := v.(type) {
		case string:
			if v == "" {
				fb.AppendNull()
			} else {
				fb.(*array.StringBuilder).Append(v)
			}
		case float64:
			fb.(*array.Float64Builder).Append(v)
		case int64:
			fb.(*array.Int64Builder).Append(v)
		case int:
			fb.(*array.Int64Builder).Append(int64(v))
		case uint64:
			fb.(*array.Uint64Builder).Append(v)
		case bool:
			fb.(*array.BooleanBuilder).Append(v)
		case []string:
			lb := fb.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for _, x := range v {
				vb.Append(x)
			}
		default:
			panic(fmt.Sprintf("sink %s: column %d: unsupported %T", s.table, i, v))
		}
	}
	s.rows++
	if s.rows%sinkBatch == 0 {
		s.batches = append(s.batches, s.b.NewRecordBatch())
		if s.conn != nil {
			s.err = s.insert(s.ctx, s.conn)
		}
	}
}

// insert puts the waiting batches into the table and releases them.
func (s *sink) insert(ctx context.Context, conn *sql.Conn) error {
	defer func() {
		for _, b := range s.batches {
			b.Release()
		}
		s.batches = s.batches[:0]
	}()
	if len(s.batches) == 0 {
		return nil
	}
	rr, err := array.NewRecordReader(s.schema, s.batches)
	if err != nil {
		return err
	}
	defer rr.Release()
	_, err = warehouse.InsertArrow(ctx, conn, s.table, rr) // its error names the table
	return err
}

// flush inserts the rows still waiting into the table on conn and
// releases the builder; it returns the first failed insert.
func (s *sink) flush(ctx context.Context, conn *sql.Conn) error {
	defer s.b.Release()
	if s.err != nil {
		return s.err
	}
	if s.rows%sinkBatch != 0 {
		s.batches = append(s.batches, s.b.NewRecordBatch())
	}
	return s.insert(ctx, conn)
}
