package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/internal/testbank"
)

// A memory budget too small for a stage fails the stage — its command
// exits with an error naming warehouse.memory_limit — and never crashes
// the process; the same warehouse then runs the stage under a budget that
// fits.
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
	budget("3MB")
	out, err := run(t, "tags", "run", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), "Out of Memory") || !strings.Contains(err.Error(), "raise warehouse.memory_limit") ||
		!strings.Contains(err.Error(), "(warehouse.memory_limit 3MB)") {
		t.Fatalf("tags under a 3MB budget: %v\n%s", err, out)
	}
	budget("1GB")
	if out, err := run(t, "tags", "run", "--config", cfg); err != nil {
		t.Fatalf("tags under a 1GB budget, after running out: %v\n%s", err, out)
	}
}
