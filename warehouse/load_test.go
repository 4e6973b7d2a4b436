package warehouse

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
)

// eventBatch builds an ebank.events batch with the given event ids at the
// given offsets of partition 0.
func eventBatch(t *testing.T, ids ...string) array.RecordReader {
	t.Helper()
	e, _ := contract.Lookup("ebank", "events")
	b := array.NewRecordBuilder(memory.DefaultAllocator, e.BatchSchema())
	defer b.Release()
	for i, id := range ids {
		for c, col := range e.Columns {
			switch col.Name {
			case "event_id":
				b.Field(c).(*array.StringBuilder).Append(id)
			case "user_id":
				b.Field(c).(*array.StringBuilder).Append("u1")
			case "ts":
				b.Field(c).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000))
			case "channel":
				b.Field(c).(*array.StringBuilder).Append("APP")
			case "event_type":
				b.Field(c).(*array.StringBuilder).Append("LOGIN")
			default:
				b.Field(c).AppendNull()
			}
		}
		n := len(e.Columns)
		b.Field(n).AppendNull()
		b.Field(n + 1).(*array.Int64Builder).Append(int64(i))
		b.Field(n + 2).(*array.Int32Builder).Append(0)
	}
	rec := b.NewRecordBatch()
	rr, err := array.NewRecordReader(e.BatchSchema(), []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func openTemp(t *testing.T) *Warehouse {
	t.Helper()
	w, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func streamLoad(rr array.RecordReader, n int64, next int64) Load {
	e, _ := contract.Lookup("ebank", "events")
	return Load{Feed: "ebank_stream", Entity: e, Kind: KindStream, Source: "ebank.events", Records: rr,
		SourceSQL: `'ebank.events/' || _part || '/' || _pos`,
		Finish:    func() (int64, []contract.Reject, error) { return n, nil, nil },
		Offsets:   []StreamOffset{{Topic: "ebank.events", Partition: 0, Next: next}}}
}

func TestLoad_DuplicateKeysAcrossAndWithinLoadsAreRejected(t *testing.T) {
	ctx := context.Background()
	w := openTemp(t)
	res, err := w.Load(ctx, streamLoad(eventBatch(t, "E1", "E2", "E1"), 3, 3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Loaded != 2 || res.Rejected != 1 {
		t.Fatalf("first load: loaded %d rejected %d, want 2 and 1", res.Loaded, res.Rejected)
	}
	res, err = w.Load(ctx, streamLoad(eventBatch(t, "E2", "E3"), 2, 5))
	if err != nil {
		t.Fatal(err)
	}
	if res.Loaded != 1 || res.Rejected != 1 {
		t.Fatalf("second load: loaded %d rejected %d, want 1 and 1", res.Loaded, res.Rejected)
	}
	var n int
	sqltest.Row(t, w.DB(), "SELECT count(*) FROM raw.ebank_events").Scan(&n)
	if n != 3 {
		t.Fatalf("raw.ebank_events has %d rows, want 3", n)
	}
	var detail string
	var part int
	var off int64
	if err := w.DB().QueryRow(`SELECT detail, "partition", "offset" FROM ops.rejects WHERE load_id = ?`, res.LoadID).Scan(&detail, &part, &off); err != nil {
		t.Fatal(err)
	}
	if detail != "event_id E2 already loaded from ebank.events/0/1" || off != 0 {
		t.Fatalf("reject detail %q offset %d", detail, off)
	}
	cp, err := w.StreamCheckpoint(ctx, "ebank_stream", "ebank.events")
	if err != nil || cp[0] != 5 {
		t.Fatalf("checkpoint %v %v, want partition 0 at 5", cp, err)
	}
}

// With a pass size smaller than the load, the duplicate check runs in
// slices of the key hash: every duplicate, within the load and against an
// earlier one, must still be found exactly once.
func TestLoad_DuplicateCheckInPassesFindsEveryDuplicate(t *testing.T) {
	const perPass = 3
	ctx := context.Background()
	w := openTemp(t)
	var threads string
	sqltest.Row(t, w.DB(), "SELECT current_setting('threads')").Scan(&threads)
	if _, err := w.Load(ctx, streamLoad(eventBatch(t, "A", "B", "C", "D"), 4, 4)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("N%02d", i))
	}
	// Three copies of earlier keys, two in-load repeats (N03 twice more, N07 once more).
	ids = append(ids, "A", "C", "D", "N03", "N03", "N07")
	l := streamLoad(eventBatch(t, ids...), int64(len(ids)), 30)
	l.DedupeKeysPerPass = perPass
	res, err := w.Load(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if res.Loaded != 20 || res.Rejected != 6 {
		t.Fatalf("loaded %d rejected %d, want 20 and 6 (passes of %d keys)", res.Loaded, res.Rejected, perPass)
	}
	var distinct, total int
	sqltest.Row(t, w.DB(), "SELECT count(DISTINCT event_id), count(*) FROM raw.ebank_events").Scan(&distinct, &total)
	if distinct != 24 || total != 24 {
		t.Fatalf("raw.ebank_events: %d rows, %d distinct ids; want 24 and 24", total, distinct)
	}
	// The check ran on one thread; the setting is back as it was.
	var after string
	sqltest.Row(t, w.DB(), "SELECT current_setting('threads')").Scan(&after)
	if after != threads || threads == "" {
		t.Fatalf("threads %q after the loads, %q before", after, threads)
	}
}

func TestTemporarySetting_RestoresTheValueBefore(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Options{{}, {MemoryLimit: "1GB"}} {
		w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), o)
		if err != nil {
			t.Fatal(err)
		}
		var before, during, after string
		sqltest.Row(t, w.DB(), "SELECT current_setting('memory_limit')::VARCHAR").Scan(&before)
		restore, err := w.TemporarySetting(ctx, "memory_limit", "256MB")
		if err != nil {
			t.Fatal(err)
		}
		sqltest.Row(t, w.DB(), "SELECT current_setting('memory_limit')::VARCHAR").Scan(&during)
		restore()
		sqltest.Row(t, w.DB(), "SELECT current_setting('memory_limit')::VARCHAR").Scan(&after)
		// The limit is really back, not only displayed: a 400 MB list (which
		// cannot spill) builds. (DuckDB's RESET shows the default again but
		// keeps the buffer pool at the temporary limit.)
		var n int64 = 50000000
		if o.MemoryLimit == "" {
			err = w.DB().QueryRow("SELECT len(list(i)) FROM range(50000000) t(i)").Scan(&n)
		}
		w.Close()
		// current_setting() shows a rounded size, so compare to 1%.
		if during == before || !closeSize(t, after, before) {
			t.Fatalf("opened with %q: memory_limit before %q, during %q, after %q", o.MemoryLimit, before, during, after)
		}
		if err != nil || n != 50000000 {
			t.Fatalf("opened with %q: after restoring memory_limit, a 400 MB list fails: %v", o.MemoryLimit, err)
		}
	}
}

// closeSize compares two DuckDB sizes ("18.8 GiB", "953.6 MiB") to 1%.
func closeSize(t *testing.T, a, b string) bool {
	t.Helper()
	parse := func(s string) float64 {
		var v float64
		var unit string
		fmt.Sscanf(s, "%f %s", &v, &unit)
		mult := map[string]float64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "bytes": 1}[unit]
		if mult == 0 {
			t.Fatalf("size %q", s)
		}
		return v * mult
	}
	x, y := parse(a), parse(b)
	return x > 0.99*y && x < 1.01*y
}

// TestInTx_CommitsOrRollsBackAsOne: a failing step undoes the steps before
// it; a successful run keeps them all.
func TestInTx_CommitsOrRollsBackAsOne(t *testing.T) {
	ctx := context.Background()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (i INTEGER)"); err != nil {
		t.Fatal(err)
	}
	boom := fmt.Errorf("boom")
	err = InTx(ctx, conn, func() error {
		if _, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
			return err
		}
		return boom
	})
	var n int
	sqltest.Row(t, conn, "SELECT count(*) FROM t").Scan(&n)
	if err != boom || n != 0 {
		t.Fatalf("failed transaction: err %v, %d rows kept", err, n)
	}
	if err := InTx(ctx, conn, func() error {
		_, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (1), (2)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sqltest.Row(t, conn, "SELECT count(*) FROM t").Scan(&n)
	if n != 2 {
		t.Fatalf("committed transaction left %d rows, want 2", n)
	}
}
