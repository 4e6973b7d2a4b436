package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// InsertRows inserts rows (each with one value per column of target, a
// table with an optional column list; columns left out of the list take
// their defaults) through one Arrow view: a statement of bound parameters
// costs DuckDB about 0.3 ms a row to plan, an Arrow batch a fraction of a
// microsecond. A column's Arrow type follows its Go values: strings (and
// []byte) as text, floats, integers, bools, time.Time as an instant
// (TIMESTAMPTZ: give a TIMESTAMP or DATE column text instead), nil, a nil
// pointer or an invalid driver.Valuer as NULL; a column whose values are of
// more than one kind goes as text. DuckDB casts each to the target
// column's type as an INSERT does (text to DATE, JSON, DECIMAL …). A value
// of any other type is an error naming its row and column.
func InsertRows(ctx context.Context, conn *sql.Conn, target string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	vals := make([][]any, len(rows))
	for i, r := range rows {
		if len(r) != width {
			return fmt.Errorf("insert into %s: row %d has %d values, row 1 has %d", target, i+1, len(r), width)
		}
		vals[i] = make([]any, width)
		for j, v := range r {
			var err error
			if vals[i][j], err = plainValue(v); err != nil {
				return fmt.Errorf("insert into %s: row %d, column %d: %w", target, i+1, j+1, err)
			}
		}
	}
	fields := make([]arrow.Field, width)
	for j := range fields {
		fields[j] = arrow.Field{Name: fmt.Sprintf("c%d", j), Type: columnType(vals, j), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	const per = 1 << 16
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for lo := 0; lo < len(vals); lo += per {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for _, r := range vals[lo:min(lo+per, len(vals))] {
			for j, v := range r {
				appendValue(b.Field(j), v)
			}
		}
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	rr, err := array.NewRecordReader(schema, batches)
	if err != nil {
		return err
	}
	defer rr.Release()
	view := fmt.Sprintf("cdp_rows_%d", viewSeq.Add(1))
	if _, err := execWithView(ctx, conn, rr, view, "INSERT INTO "+target+" SELECT * FROM "+view); err != nil {
		return fmt.Errorf("insert into %s: %w", target, err)
	}
	return nil
}

// plainValue reduces v to nil, string, float64, int64, bool or time.Time:
// a driver.Valuer by its value, a pointer by what it points to, a named
// kind by its kind, []byte as text.
func plainValue(v any) (any, error) {
	if vr, ok := v.(driver.Valuer); ok {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil
		}
		x, err := vr.Value()
		if err != nil {
			return nil, err
		}
		v = x
	}
	switch x := v.(type) {
	case nil, string, float64, int64, bool, time.Time:
		return x, nil
	case []byte:
		return string(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return plainValue(rv.Elem().Interface())
	case reflect.String:
		return rv.String(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return int64(rv.Uint()), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	return nil, fmt.Errorf("a value of type %T cannot be inserted", v)
}

// columnType is the Arrow type of column j of rows (plain values): that of
// its non-NULL values when they are all of one kind, else text.
func columnType(rows [][]any, j int) arrow.DataType {
	var t arrow.DataType
	for _, r := range rows {
		var vt arrow.DataType
		switch r[j].(type) {
		case nil:
			continue
		case string:
			vt = arrow.BinaryTypes.String
		case float64:
			vt = arrow.PrimitiveTypes.Float64
		case int64:
			vt = arrow.PrimitiveTypes.Int64
		case bool:
			vt = arrow.FixedWidthTypes.Boolean
		case time.Time:
			vt = arrow.FixedWidthTypes.Timestamp_us
		}
		if t == nil {
			t = vt
		} else if !arrow.TypeEqual(t, vt) {
			return arrow.BinaryTypes.String
		}
	}
	if t == nil {
		return arrow.BinaryTypes.String
	}
	return t
}

// appendValue appends v, a plain value, to b, a builder of the type
// columnType chose for its column.
func appendValue(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		switch x := v.(type) {
		case string:
			b.Append(x)
		case time.Time:
			b.Append(x.UTC().Format(time.RFC3339Nano))
		default:
			b.Append(fmt.Sprint(x))
		}
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	}
}

// ScratchSchema holds tables a command computes for a person to look at
// (what a tag or a rule gives as of a past day): never read by the
// pipeline, replaced by the next such command.
const ScratchSchema = "scratch"

// ReplaceScratch creates (or empties, by replacing) the table name of the
// scratch schema with the columns given as SQL ("party_id VARCHAR, ...")
// and returns its qualified name. Run it inside the transaction that fills
// the table, so a failure leaves the earlier contents.
func ReplaceScratch(ctx context.Context, conn *sql.Conn, name, columns string) (string, error) {
	table := ScratchSchema + "." + name
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS ` + ScratchSchema,
		`CREATE OR REPLACE TABLE ` + table + ` (` + columns + `)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("%s: %w", table, err)
		}
	}
	return table, nil
}

// ValuesOf is a one-column VALUES list of string literals, for a CTE:
// ValuesOf("ids", "id", "a", "b") is "ids AS (SELECT * FROM (VALUES ('a'), ('b')) v(id))".
func ValuesOf(cte, column string, values ...string) string {
	if len(values) == 0 {
		return cte + ` AS (SELECT CAST(NULL AS VARCHAR) AS ` + Ident(column) + ` WHERE false)`
	}
	rows := make([]string, len(values))
	for i, v := range values {
		rows[i] = "(" + Literal(v) + ")"
	}
	return cte + ` AS (SELECT * FROM (VALUES ` + strings.Join(rows, ", ") + `) v(` + Ident(column) + `))`
}
