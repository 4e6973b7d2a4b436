package warehouse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// The memory budget of a cdp process: DuckDB and the Go heap together stay
// within warehouse.memory_limit, or by default within DefaultMemoryShare of
// the machine's memory (the cgroup's limit when it is lower). DuckDB gets
// its part as its memory_limit and spills to its temp directory beyond it;
// the Go heap gets what DuckDB is not using, as the Go runtime's soft
// memory limit (the garbage collector works harder as it nears it), never
// less than a fifth of the budget.

// DefaultMemoryShare is the share of the machine's memory a process may
// use when warehouse.memory_limit is not set.
const DefaultMemoryShare = 0.60

// duckdbShare is DuckDB's part of the budget: the rest is kept for the Go
// heap (unification's records, Arrow batches) and the process itself.
// DuckDB spills to disk beyond its limit and Go cannot, so Go gets the
// larger part. Measured at 1M parties (docs/performance.md): every stage
// ran as fast with DuckDB at 4.8 GiB as at 11.3 GiB (80% of the default
// budget); no stage grew and the tag run's peak RSS went from 11.5 to
// 6.4 GiB, as DuckDB fills whatever limit it has with cached blocks.
const duckdbShare = 1.0 / 3

// allocatorSettings make DuckDB's allocator (jemalloc, on Linux) give what
// it frees back to the system promptly. Its memory_limit counts the blocks
// DuckDB holds, not the pages the allocator keeps after freeing them, and
// those made a process overshoot its limit by up to a whole limit's worth.
// A background thread purges them, and a bulk eviction of more than
// 64 MiB (making room for a hash table) flushes first. Measured on the
// first tag run of 200k parties under a 1 GiB limit (three runs each,
// docs/performance.md, "Memory, again"): peak RSS 1.67–2.34 →
// 1.21–1.25 GiB, time 64.3 → 65.8 s (medians).
var allocatorSettings = map[string]string{
	"allocator_background_threads":                "true",
	"allocator_bulk_deallocation_flush_threshold": "64MiB",
}

// Budget is a process's memory budget.
type Budget struct {
	Total  int64  // bytes, DuckDB and the Go heap together
	DuckDB int64  // bytes, DuckDB's memory_limit
	From   string // where Total comes from, as an error names it
}

// String is the budget as a message names it: "14.1 GiB (60% of the
// machine's 23.5 GiB; warehouse.memory_limit sets it)".
func (b Budget) String() string { return FormatSize(b.Total) + " (" + b.From + ")" }

// MemoryBudget is the budget for a configured warehouse.memory_limit ("" for
// the default share of the machine's memory).
func MemoryBudget(configured string) (Budget, error) {
	if configured = strings.TrimSpace(configured); configured != "" {
		n, err := ParseSize(configured)
		if err != nil {
			return Budget{}, fmt.Errorf("warehouse.memory_limit: %w", err)
		}
		return Budget{Total: n, DuckDB: int64(float64(n) * duckdbShare), From: "warehouse.memory_limit " + configured}, nil
	}
	machine, what, err := MachineMemory()
	if err != nil {
		return Budget{}, fmt.Errorf("the machine's memory (set warehouse.memory_limit instead): %w", err)
	}
	total := int64(float64(machine) * DefaultMemoryShare)
	return Budget{Total: total, DuckDB: int64(float64(total) * duckdbShare),
		From: fmt.Sprintf("%.0f%% of the %s's %s; warehouse.memory_limit sets it", DefaultMemoryShare*100, what, FormatSize(machine))}, nil
}

var sizeForm = regexp.MustCompile(`(?i)^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$`)

// ParseSize reads a size as DuckDB does: a number and a unit, KB, MB, GB,
// TB in powers of 1000 and KiB, MiB, GiB, TiB in powers of 1024.
func ParseSize(s string) (int64, error) {
	m := sizeForm.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (want a number and a unit, like 4GB or 512MB)", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	unit := map[string]float64{"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[strings.ToUpper(m[2])]
	return int64(v * unit), nil
}

// FormatSize writes bytes as DuckDB reads them, in MiB or GiB.
func FormatSize(n int64) string {
	if n >= 10<<30 {
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + "GiB"
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}

// MachineMemory is the memory the process can have: the machine's
// (MemTotal of /proc/meminfo), or its cgroup's limit when that is lower;
// what names which.
func MachineMemory() (n int64, what string, err error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("/proc/meminfo MemTotal %q: %w", rest, err)
			}
			n, what = kb<<10, "machine"
		}
	}
	if err := sc.Err(); err != nil {
		return 0, "", err
	}
	if n == 0 {
		return 0, "", errors.New("/proc/meminfo has no MemTotal")
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if c, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && c > 0 && c < n {
			n, what = c, "cgroup"
		}
	}
	return n, what, nil
}

// PeakRSS is the process's peak resident set size so far (VmHWM of
// /proc/self/status) in bytes; 0 where there is none.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// OutOfMemory reports whether err is DuckDB running out of its memory
// limit.
func OutOfMemory(err error) bool {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory {
		return true
	}
	return err != nil && (strings.Contains(err.Error(), "Out of Memory Error") || strings.Contains(err.Error(), "failed to pin block"))
}

// ExplainMemory adds to an out-of-memory error the budget it ran out of and
// the setting that raises it; other errors are returned as they are.
func (w *Warehouse) ExplainMemory(err error) error { return explainMemory(err, w.budget) }

func explainMemory(err error, b Budget) error {
	if !OutOfMemory(err) {
		return err
	}
	return fmt.Errorf("%w\nthe work did not fit the memory budget of %s: raise warehouse.memory_limit in cdp.yaml (a load: ingest.memory_limit), or free memory on the machine", err, b)
}

// Budget is the warehouse's memory budget.
func (w *Warehouse) Budget() Budget { return w.budget }

// goLimit keeps the Go runtime's soft memory limit at what DuckDB leaves
// of the budget, checking DuckDB's use every interval until stop is closed.
// What DuckDB uses is what duckdb_memory() counts (the buffer manager's
// blocks) and a twentieth of the budget for what it does not count (its
// other allocations, the allocator's free pages, the program itself), or
// what the process holds outside the Go runtime (its resident memory less
// what Go holds) when that is more. With duckdb_memory() alone, a
// 5M-party unification peaked at 15.0 GiB against a 14.1 GiB budget: Go
// filled its whole share while about 0.6 GiB more than DuckDB counted was
// resident outside Go.
type goLimit struct {
	stop chan struct{}
	done sync.WaitGroup
}

func (w *Warehouse) startGoLimit(interval time.Duration) *goLimit {
	g := &goLimit{stop: make(chan struct{})}
	floor := w.budget.Total / 5
	set := func() {
		used, err := w.DuckDBUsed(context.Background())
		if err != nil {
			used = w.budget.DuckDB
		}
		used += w.budget.Total / 20
		if rss, ok := residentBytes(); ok {
			used = max(used, rss-GoHeld())
		}
		debug.SetMemoryLimit(max(w.budget.Total-used, floor))
	}
	set()
	g.done.Add(1)
	go func() {
		defer g.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
				set()
			}
		}
	}()
	return g
}

func (g *goLimit) close() {
	if g != nil {
		close(g.stop)
		g.done.Wait()
	}
}

// goHeadroom is how much a Go heap may grow past what it holds when a
// stage gives DuckDB the rest of the budget (YieldToGo): a quarter, as
// unification collects at GOGC 50 and its largest allocations (the
// candidate pairs, the golden records) come after its records are read.
const goHeadroom = 1.25

// BesideGo is DuckDB's memory limit beside a Go heap holding held bytes:
// what the budget leaves after the heap and its headroom, never more than
// DuckDB's own part nor less than a tenth of the budget.
func (b Budget) BesideGo(held int64) int64 {
	floor := min(b.Total/10, b.DuckDB)
	return min(max(b.Total-int64(float64(held)*goHeadroom), floor), b.DuckDB)
}

// GoHeld is the memory the Go runtime holds from the system now: its heap,
// stacks and runtime structures, less what it has given back.
func GoHeld() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// residentBytes is the process's resident memory (Linux: /proc/self/statm);
// ok is false where the system does not say.
func residentBytes() (n int64, ok bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// GoLive is the Go heap's live bytes as of its last collection (0 before
// the first): what a stage holds, without the garbage GoHeld counts.
func GoLive() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// DuckDBUsed is what DuckDB says its buffer manager holds now
// (duckdb_memory()).
func (w *Warehouse) DuckDBUsed(ctx context.Context) (int64, error) {
	var used int64
	err := w.db.QueryRowContext(ctx, `SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()`).Scan(&used)
	return used, err
}

// IdleDuckDB lowers DuckDB's memory limit to Budget.Idle until restore
// puts back the limit the warehouse was opened with: for a stage's work in
// Go alone (unification's matching), during which DuckDB would keep up to
// its whole part in blocks cached from the statements before, beside a Go
// heap that needs the rest.
func (w *Warehouse) IdleDuckDB(ctx context.Context) (restore func(), limit int64, err error) {
	return w.limitDuckDB(ctx, w.budget.Idle())
}

// Idle is DuckDB's memory limit while a stage works in Go alone: a
// fortieth of the budget (361 MiB of 14.1 GiB), at least 256 MiB, at most
// a tenth. DuckDB then keeps few cached blocks beside the Go heap, and
// still streams a table scan.
func (b Budget) Idle() int64 {
	return min(b.Total/10, max(b.Total/40, 256<<20))
}

// limitDuckDB sets DuckDB's memory_limit to limit bytes until restore.
func (w *Warehouse) limitDuckDB(ctx context.Context, limit int64) (restore func(), _ int64, err error) {
	restore, err = w.TemporarySetting(ctx, "memory_limit", strconv.FormatInt(limit>>20, 10)+"MiB")
	if err != nil {
		return func() {}, w.budget.DuckDB, explainMemory(err, w.budget)
	}
	return restore, limit, nil
}

// YieldToGo lowers DuckDB's memory limit to what the Go heap leaves of the
// budget (Budget.BesideGo), until restore puts back the limit the warehouse
// was opened with. A stage that holds its data in Go (unification's
// records) calls it before DuckDB works beside them: DuckDB then drops the blocks it
// keeps cached and spills sooner, where the process would otherwise grow
// past the budget by what Go holds beyond its share. It does nothing while
// Go holds less than its share (after collecting its garbage, when it
// seems to hold more). limit is DuckDB's limit after the call.
func (w *Warehouse) YieldToGo(ctx context.Context) (restore func(), limit int64, err error) {
	limit = w.budget.BesideGo(GoHeld())
	if limit < w.budget.DuckDB {
		// What Go holds counts its garbage until it collects: collect
		// (and give the pages back) first, then look again.
		debug.FreeOSMemory()
		limit = w.budget.BesideGo(GoHeld())
	}
	if limit >= w.budget.DuckDB {
		return func() {}, w.budget.DuckDB, nil
	}
	return w.limitDuckDB(ctx, limit)
}

// MissingInput tells whether err is DuckDB's error about a table or column
// that does not exist (a Catalog or Binder error): the one kind of failure
// where "build the stage before it first" is the right hint.
func MissingInput(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Catalog Error") || strings.Contains(err.Error(), "Binder Error"))
}

// Parts is how many parts to split work over n rows (or parties) into so
// that DuckDB holds at most perGiB of them at once per whole GiB of its
// memory limit (duckdbBytes; at least one GiB's worth): 1 when they fit.
func Parts(n, perGiB, duckdbBytes int64) int64 {
	per := max(duckdbBytes>>30, 1) * max(perGiB, 1)
	return max((n+per-1)/per, 1)
}
