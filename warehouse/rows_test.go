package warehouse

import (
	"context"
	"testing"

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
