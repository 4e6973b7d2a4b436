package identity

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cdp/warehouse"
)

// A streaming sink inserts each batch as it fills: what a full run writes
// arrives whole and in order, and an insert that fails stops the sink and
// comes back from flush naming the table.
func TestSink_StreamsBatchesAsTheyFill(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE s (i BIGINT, v VARCHAR NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	count := func() (n, ordered int64) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (v = 'v' || i) FROM s`).Scan(&n, &ordered); err != nil {
			t.Fatal(err)
		}
		return n, ordered
	}
	rows := 2*sinkBatch + 5
	s := newSink("s", i64("i"), str("v")).streamTo(ctx, conn)
	for i := 0; i < rows; i++ {
		s.row(int64(i), "v"+strconv.Itoa(i))
		if i == sinkBatch {
			// the first batch is in the table before the sink is flushed
			if n, _ := count(); n != sinkBatch {
				t.Fatalf("after %d rows the table holds %d, want the first batch of %d", i+1, n, sinkBatch)
			}
		}
	}
	if err := s.flush(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if n, ok := count(); n != int64(rows) || ok != int64(rows) {
		t.Fatalf("the table holds %d rows (%d as written), want %d", n, ok, rows)
	}
	var first, last int64
	if err := conn.QueryRowContext(ctx, `SELECT min(i), max(i) FROM s`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if first != 0 || last != int64(rows-1) {
		t.Errorf("rows %d..%d, want 0..%d", first, last, rows-1)
	}

	// A NULL in the second batch: the insert fails, the sink takes no more.
	if _, err := conn.ExecContext(ctx, `DELETE FROM s`); err != nil {
		t.Fatal(err)
	}
	s = newSink("s", i64("i"), str("v")).streamTo(ctx, conn)
	for i := 0; i < rows; i++ {
		v := "v" + strconv.Itoa(i)
		if i == sinkBatch+7 {
			v = "" // NULL
		}
		s.row(int64(i), v)
	}
	err = s.flush(ctx, conn)
	if err == nil || !strings.Contains(err.Error(), "insert into s") {
		t.Fatalf("flush after a failed insert: %v, want the insert's error naming the table", err)
	}
	if s.rows != 2*sinkBatch {
		t.Errorf("the sink took %d rows after its insert failed at row %d", s.rows-2*sinkBatch, 2*sinkBatch)
	}
	if n, _ := count(); n != sinkBatch {
		t.Errorf("the table holds %d rows, want the first batch's %d", n, sinkBatch)
	}
}
