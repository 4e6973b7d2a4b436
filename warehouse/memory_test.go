package warehouse

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

func TestParseSize_ReadsSizesAsDuckDBDoes(t *testing.T) {
	for in, want := range map[string]int64{"512MB": 512e6, "4GB": 4e9, "1.5GiB": 3 << 29, "64 mib": 64 << 20, "10B": 10} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "4", "GB", "4 parsecs", "-1GB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
}

// By default a warehouse's DuckDB gets its part of 60% of the machine's
// memory (the cgroup's when lower); warehouse.memory_limit sets the budget
// instead. DuckDB's memory_limit shows it (rounded to a tenth of a GiB).
func TestOpen_BoundsDuckDBByTheBudget(t *testing.T) {
	machine, _, err := MachineMemory()
	if err != nil {
		t.Fatal(err)
	}
	for limit, total := range map[string]int64{"": int64(float64(machine) * DefaultMemoryShare), "2GiB": 2 << 30} {
		w, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: limit})
		if err != nil {
			t.Fatal(err)
		}
		b := w.Budget()
		var setting string
		if err := w.DB().QueryRow(`SELECT current_setting('memory_limit')`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		got, err := ParseSize(strings.ReplaceAll(setting, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		want := int64(float64(total) * duckdbShare)
		if b.Total != total || b.DuckDB != want || got < want*97/100-110<<20 || got > want*103/100+110<<20 {
			t.Errorf("memory_limit %q: budget %+v, DuckDB's memory_limit %s; want a total of %d, DuckDB %d", limit, b, setting, total, want)
		}
		if !strings.Contains(b.String(), "warehouse.memory_limit") {
			t.Errorf("the budget %q does not name the setting", b)
		}
		// and its allocator gives freed pages back (allocatorSettings)
		var background bool
		var flush string
		if err := w.DB().QueryRow(`SELECT current_setting('allocator_background_threads'), current_setting('allocator_bulk_deallocation_flush_threshold')`).Scan(&background, &flush); err != nil {
			t.Fatal(err)
		}
		if !background || flush != "64.0 MiB" {
			t.Errorf("allocator_background_threads %v, allocator_bulk_deallocation_flush_threshold %q; want true and 64.0 MiB", background, flush)
		}
		w.Close()
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: "lots"}); err == nil ||
		!strings.Contains(err.Error(), "warehouse.memory_limit") {
		t.Errorf("a memory_limit that is no size: %v", err)
	}
}

// Work that does not fit the budget fails with DuckDB's error, which says
// what ran out, and the budget and the setting that raises it; the
// warehouse stays usable.
func TestExplainMemory_NamesTheBudgetAndTheSetting(t *testing.T) {
	w, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: "20MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.DB().Exec(`CREATE TABLE t AS SELECT list(i::VARCHAR) AS l FROM range(3000000) r(i)`)
	if err == nil {
		t.Fatal("a 3-million-string list fitted a 20 MB budget")
	}
	err = w.ExplainMemory(err)
	var de *duckdb.Error
	if !OutOfMemory(err) || !errors.As(err, &de) || !strings.Contains(err.Error(), "raise warehouse.memory_limit") ||
		!strings.Contains(err.Error(), "19MiB (warehouse.memory_limit 20MB)") {
		t.Errorf("the error: %v", err)
	}
	var n int
	if err := w.DB().QueryRow(`SELECT 41 + 1`).Scan(&n); err != nil || n != 42 {
		t.Errorf("the warehouse after running out: %d, %v", n, err)
	}
	if other := errors.New("no such table"); w.ExplainMemory(other) != other {
		t.Error("ExplainMemory changed an error that is not about memory")
	}
}

// With GoLimit the Go runtime's soft limit is what DuckDB leaves of the
// budget, at least a fifth of it, while the warehouse is open.
func TestOpen_GoLimitIsWhatDuckDBLeaves(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	w, err := Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: "1GiB", GoLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	got := debug.SetMemoryLimit(-1)
	if got < (1<<30)/5 || got > 1<<30 {
		t.Errorf("Go's soft memory limit %d with a 1 GiB budget", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The process's resident memory is read on Linux (the machines cdp runs
// on), and holds at least the Go heap's live bytes.
func TestResidentBytes(t *testing.T) {
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	runtime.GC()
	rss, ok := residentBytes()
	if !ok || rss < GoLive() || rss < int64(len(ballast)) {
		t.Errorf("resident %d bytes (read: %v), Go's live heap %d", rss, ok, GoLive())
	}
	runtime.KeepAlive(ballast)
}

// Work is split in as many parts as DuckDB's limit needs, counted in whole
// GiB (at least one), never fewer than one.
func TestParts_AsManyAsTheLimitNeeds(t *testing.T) {
	for _, c := range []struct{ n, perGiB, duckdb, want int64 }{
		{0, 100, 4 << 30, 1},
		{400, 100, 4 << 30, 1},
		{401, 100, 4 << 30, 2},
		{401, 100, 4<<30 + 1<<29, 2}, // 4.5 GiB counts as 4
		{150, 100, 1 << 20, 2},       // under a GiB counts as one
		{5, 0, 1 << 30, 5},
	} {
		if got := Parts(c.n, c.perGiB, c.duckdb); got != c.want {
			t.Errorf("Parts(%d, %d, %d) = %d, want %d", c.n, c.perGiB, c.duckdb, got, c.want)
		}
	}
}

// DuckDB gets what the Go heap and its headroom leave of the budget, within
// a tenth of the budget and its own part.
func TestBudget_BesideGo(t *testing.T) {
	b := Budget{Total: 10 << 30, DuckDB: 10 << 30 / 3}
	for _, c := range []struct{ held, want int64 }{
		{0, b.DuckDB},
		{4 << 30, b.DuckDB},        // 10 - 5 GiB is more than DuckDB's part
		{6 << 30, 10<<30 - 15<<29}, // 10 - 7.5 GiB
		{8 << 30, 1 << 30},         // 10 - 10 GiB: the floor, a tenth
		{20 << 30, 1 << 30},
	} {
		if got := b.BesideGo(c.held); got != c.want {
			t.Errorf("BesideGo(%d) = %d, want %d", c.held, got, c.want)
		}
	}
}

// Idle DuckDB keeps a fortieth of the budget, at least 256 MiB, at most a
// tenth.
func TestBudget_Idle(t *testing.T) {
	for _, c := range []struct{ total, want int64 }{
		{40 << 30, 1 << 30},
		{4 << 30, 256 << 20},
		{1 << 30, 1 << 30 / 10},
	} {
		if got := (Budget{Total: c.total, DuckDB: c.total / 3}).Idle(); got != c.want {
			t.Errorf("Idle of a %d MiB budget = %d MiB, want %d MiB", c.total>>20, got>>20, c.want>>20)
		}
	}
}

// While Go holds most of the budget, YieldToGo lowers DuckDB's memory
// limit and DuckDB drops the blocks it has cached beyond it; restore puts
// the limit back. While Go holds little, nothing changes. IdleDuckDB
// lowers it to Budget.Idle whatever Go holds.
func TestYieldToGo_DuckDBDropsItsCacheBesideABigGoHeapOrWhenIdle(t *testing.T) {
	ctx := context.Background()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: "512MiB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// held is what DuckDB's blocks take; cache writes a table anew (its
	// blocks are then cached) and says what DuckDB's blocks take.
	const heldSQL = `SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory()`
	held := func() int64 {
		var n int64
		if err := w.DB().QueryRowContext(ctx, heldSQL).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cache := func() int64 {
		if _, err := w.DB().ExecContext(ctx, `CREATE OR REPLACE TABLE t AS SELECT random() AS i, random() AS j FROM range(8000000); CHECKPOINT`); err != nil {
			t.Fatal(err)
		}
		return held()
	}
	limitNow := func() int64 {
		var setting string
		if err := w.DB().QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		n, err := ParseSize(strings.ReplaceAll(setting, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	opened := limitNow()
	lowered := func(what string, restore func(), limit int64, err error, want func(limit int64) bool, cached int64) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		after := held()
		if !want(limit) || limitNow() > limit+limit/20 || cached <= limit || after > limit {
			t.Errorf("%s, Go holding %d MiB: DuckDB given %d MiB, its memory_limit %d MiB (budget %+v); its blocks %d MiB before, %d MiB after",
				what, GoHeld()>>20, limit>>20, limitNow()>>20, w.Budget(), cached>>20, after>>20)
		}
		t.Logf("%s: Go held %d MiB; DuckDB's limit %d → %d MiB, its blocks %d → %d MiB", what, GoHeld()>>20, opened>>20, limit>>20, cached>>20, after>>20)
		restore()
		if got := limitNow(); got != opened {
			t.Errorf("%s: restored limit %d, opened with %d", what, got, opened)
		}
	}

	restore, limit, err := w.YieldToGo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if limit != w.Budget().DuckDB || limitNow() != opened {
		t.Errorf("with Go holding %d of a 512 MiB budget, DuckDB's limit went from %d to %d (YieldToGo said %d)", GoHeld(), opened, limitNow(), limit)
	}
	restore()

	cached := cache()
	restore, limit, err = w.IdleDuckDB(ctx)
	lowered("idle", restore, limit, err, func(limit int64) bool { return limit == w.Budget().Idle() }, cached)

	ballast := make([]byte, 400<<20) // Go now holds most of the budget
	for i := range ballast {
		ballast[i] = byte(i)
	}
	cached = cache()
	restore, limit, err = w.YieldToGo(ctx)
	lowered("beside Go", restore, limit, err, func(limit int64) bool {
		return limit < w.Budget().DuckDB && limit >= w.Budget().Total/10
	}, cached)
	runtime.KeepAlive(ballast)
}
