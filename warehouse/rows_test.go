package warehouse

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
)

// InsertRows goes 500 rows to a statement; a scratch table is replaced
// whole, and a failed fill leaves the earlier contents.
func TestInsertRowsAndScratch(t *testing.T) {
	w := openTemp(t)
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fill := func(n int, fail bool) error {
		return InTx(ctx, conn, func() error {
			table, err := ReplaceScratch(ctx, conn, "numbers", "n INTEGER, s VARCHAR")
			if err != nil {
				return err
			}
			rows := make([][]any, n)
			for i := range rows {
				rows[i] = []any{i, "it's " + Literal("x")}
			}
			if err := InsertRows(ctx, conn, table, rows); err != nil {
				return err
			}
			if fail {
				_, err := conn.ExecContext(ctx, `SELECT no_such_column FROM `+table)
				return err
			}
			return nil
		})
	}
	if err := fill(1234, false); err != nil {
		t.Fatal(err)
	}
	if err := fill(3, true); err == nil {
		t.Fatal("the failing fill succeeded")
	}
	var n, sum int64
	var s string
	sqltest.Row(t, conn, `SELECT count(*), sum(n), any_value(s) FROM scratch.numbers`).Scan(&n, &sum, &s)
	if n != 1234 || sum != 1233*1234/2 || s != `it's 'x'` {
		t.Errorf("scratch.numbers after a good and a failed fill: %d rows summing to %d, s %q", n, sum, s)
	}
}

func TestValuesOf(t *testing.T) {
	w := openTemp(t)
	for _, c := range []struct {
		values []string
		want   string
	}{{[]string{"a", "o'b"}, "a,o'b"}, {nil, ""}} {
		var got string
		sqltest.Row(t, w.DB(), `WITH `+ValuesOf("ids", "id", c.values...)+` SELECT coalesce(string_agg(id, ',' ORDER BY id), '') FROM ids`).Scan(&got)
		if got != c.want {
			t.Errorf("ValuesOf(%q) = %q", c.values, got)
		}
	}
}

// InsertRows types each column by its Go values and DuckDB casts them to
// the target's columns as an INSERT does: text to DATE and JSON, a time to
// its instant, NULLs, a column mixing kinds as text; a column list leaves
// the rest to their defaults; a short row is refused, naming it.
func TestInsertRows_TypesByValueAndCastsToTheTarget(t *testing.T) {
	w := openTemp(t)
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (id BIGINT, day DATE, score DOUBLE, price DECIMAL(18,2), ts TIMESTAMPTZ,
		ok BOOLEAN, doc JSON, mixed VARCHAR, note VARCHAR, d VARCHAR DEFAULT 'dflt')`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 123456000, time.FixedZone("CST", 8*3600))
	rows := [][]any{
		{int64(1), "2026-11-20", 0.75, "12345.67", at, true, `{"a":1}`, 7, nil},
		{2, "2026-11-21", 1.0, "0.01", at.Add(time.Hour), false, `[1,2]`, "x", "o'b"},
	}
	if err := InsertRows(ctx, conn, "t (id, day, score, price, ts, ok, doc, mixed, note)", rows); err != nil {
		t.Fatal(err)
	}
	var n int
	var day, price, atUTC, doc, mixed, note, d string
	var score float64
	var ok bool
	sqltest.Row(t, conn, `SELECT count(*), any_value(CAST(day AS VARCHAR) ORDER BY id), any_value(CAST(price AS VARCHAR) ORDER BY id),
		any_value(strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') ORDER BY id), any_value(ok ORDER BY id), any_value(doc->>'a' ORDER BY id),
		string_agg(mixed, ',' ORDER BY id), coalesce(string_agg(note, ',' ORDER BY id), ''), any_value(d), sum(score) FROM t`).
		Scan(&n, &day, &price, &atUTC, &ok, &doc, &mixed, &note, &d, &score)
	if n != 2 || day != "2026-11-20" || price != "12345.67" || atUTC != "2026-11-20 01:30:00.123456" || !ok || doc != "1" ||
		mixed != "7,x" || note != "o'b" || d != "dflt" || score != 1.75 {
		t.Errorf("got %d rows: day %s, price %s, at %s UTC, ok %t, doc.a %s, mixed %s, note %q, default %s, scores %v",
			n, day, price, atUTC, ok, doc, mixed, note, d, score)
	}
	err = InsertRows(ctx, conn, "t (id, day)", [][]any{{3, "2026-11-22"}, {4}})
	if err == nil || !strings.Contains(err.Error(), "row 2 has 1 values, row 1 has 2") {
		t.Errorf("a short row: %v", err)
	}
	// A failed insert outside a transaction leaves no view behind.
	err = InsertRows(ctx, conn, "t (id, day)", [][]any{{5, "not a date"}})
	if err == nil || !strings.Contains(err.Error(), "insert into t (id, day)") {
		t.Errorf("a value the column cannot hold: %v", err)
	}
	var views int
	sqltest.Row(t, conn, `SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'cdp_rows_%'`).Scan(&views)
	if views != 0 {
		t.Errorf("%d Arrow views left after a failed insert", views)
	}

	// Values as the database/sql drivers take them: a Valuer, pointers,
	// named kinds, bytes.
	type code int
	var none *string
	some := "s"
	if _, err := conn.ExecContext(ctx, `CREATE TABLE u (a VARCHAR, b VARCHAR, c BIGINT, d JSON, e VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	if err := InsertRows(ctx, conn, "u", [][]any{{sql.NullString{}, none, code(3), []byte(`{"k":2}`), &some},
		{sql.NullString{String: "v", Valid: true}, &some, code(4), nil, nil}}); err != nil {
		t.Fatal(err)
	}
	var nulls, cs int
	var k, as, es string
	sqltest.Row(t, conn, `SELECT count(*) FILTER (WHERE a IS NULL) + count(*) FILTER (WHERE b IS NULL) + count(*) FILTER (WHERE e IS NULL),
		sum(c), any_value(d->>'k'), string_agg(a, ','), string_agg(e, ',') FROM u`).Scan(&nulls, &cs, &k, &as, &es)
	if nulls != 3 || cs != 7 || k != "2" || as != "v" || es != "s" {
		t.Errorf("u: %d NULLs, c sums to %d, d.k %s, a %q, e %q", nulls, cs, k, as, es)
	}
	err = InsertRows(ctx, conn, "u (a)", [][]any{{struct{ X int }{1}}})
	if err == nil || !strings.Contains(err.Error(), "row 1, column 1: a value of type struct { X int } cannot be inserted") {
		t.Errorf("a struct: %v", err)
	}
}
