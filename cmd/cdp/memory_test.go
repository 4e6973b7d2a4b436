package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"cdp/internal/synthbank"
	"cdp/internal/testbank"
	"cdp/warehouse"
)

// A memory budget too small for a stage fails the stage (or, smaller
// still, opening the warehouse) — its command exits with an error naming
// warehouse.memory_limit — and never crashes the process; the same
// warehouse then runs the stage under a budget that fits.
func TestStage_ABudgetTooSmallFailsNamingTheSetting(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 26})
	b.W.Close() // the commands open the warehouse themselves
	cfg := filepath.Join(b.Dir, "cdp.yaml")
	yaml, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	budget := func(limit string) {
		t.Helper()
		text := strings.Replace(string(yaml), "warehouse: {path: wh.duckdb}", "warehouse: {path: wh.duckdb, memory_limit: "+limit+", threads: 1}", 1)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 3MB does not open the warehouse (DuckDB's third of it rounds down to
	// 0 MiB: no block fits); 12MB opens it and the tag run runs out.
	for _, tt := range []struct{ limit, where string }{{"3MB", "open warehouse"}, {"12MB", "stage tags"}} {
		budget(tt.limit)
		out, err := run(t, "tags", "run", "--config", cfg)
		if err == nil || !strings.Contains(err.Error(), tt.where) || !strings.Contains(err.Error(), "Out of Memory") ||
			!strings.Contains(err.Error(), "raise warehouse.memory_limit") || !strings.Contains(err.Error(), "(warehouse.memory_limit "+tt.limit+")") {
			t.Fatalf("tags under a %s budget: %v, want it to fail in %q naming the setting\n%s", tt.limit, err, tt.where, out)
		}
	}
	budget("1GB")
	if out, err := run(t, "tags", "run", "--config", cfg); err != nil {
		t.Fatalf("tags under a 1GB budget, after running out: %v\n%s", err, out)
	}
}

// Every command that makes a bank builds it with the Go heap kept to the
// process's budget (cdp bench dag did not, and a 5M-party bank grew past
// the machine), and gives the soft limit back as it was; a limit already
// set is kept.
func TestGenerateBank_KeepsTheGoHeapToTheBudget(t *testing.T) {
	budget, err := warehouse.MemoryBudget("")
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []int64{math.MaxInt64, 5 << 30} {
		debug.SetMemoryLimit(before)
		var during []int64
		_, err := generateBank(context.Background(), synthbank.Options{Out: t.TempDir(), Parties: 50, Days: 1,
			Progress: func(string, int, int) { during = append(during, debug.SetMemoryLimit(-1)) }})
		after := debug.SetMemoryLimit(math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		want := before
		if before == math.MaxInt64 {
			want = budget.Total
		}
		if len(during) == 0 || slices.ContainsFunc(during, func(l int64) bool { return l != want }) {
			t.Errorf("soft limit %d before: while generating %v, want %d throughout", before, during, want)
		}
		if after != before {
			t.Errorf("soft limit %d before, %d after", before, after)
		}
	}
}
