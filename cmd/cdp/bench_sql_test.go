package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cdp/internal/testbank"
)

// cdp bench sql times each statement for the three users and reports the
// ratios.
func TestBenchSQL_TimesEachStatementForEachUser(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 33})
	b.Run(t, "tags", "tiers", "view")
	b.W.Close()
	out, err := run(t, "bench", "sql", "--config", filepath.Join(b.Dir, "cdp.yaml"), "--queries", "3")
	if err != nil {
		t.Fatalf("bench sql: %v\n%s", err, out)
	}
	row := regexp.MustCompile(`(?m)^(point lookup|count of the tags|join and aggregate|tag values)\s+(analyst, unscoped snapshot|analyst, scoped snapshot|user of branch \S+)\s+[\d.]+\s+[\d.]+\s+[\d.]+$`)
	if n := len(row.FindAllString(out, -1)); n != 12 {
		t.Errorf("%d timed rows, want 4 statements × 3 users:\n%s", n, out)
	}
	if !strings.Contains(out, "scoped snapshot written") {
		t.Errorf("no snapshot times:\n%s", out)
	}
}
