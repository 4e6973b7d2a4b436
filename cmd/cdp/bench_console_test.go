package main

import (
	"path/filepath"
	"strings"
	"testing"

	"cdp/internal/testbank"
)

// cdp bench console loads every console page and reports its times.
func TestBenchConsole_TimesEveryPage(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 33})
	b.Run(t, "tags", "tiers", "view", "signals")
	b.W.Close()
	out, err := run(t, "bench", "console", "--config", filepath.Join(b.Dir, "cdp.yaml"), "--loads", "3")
	if err != nil {
		t.Fatalf("bench console: %v\n%s", err, out)
	}
	for _, want := range []string{"/console/ ", "/console/loads", "/console/outbox", "/console/customer?q=P", "/console/identity", "/console/catalog", "/console/funnel", "/console/coverage", "/console/keyaccounts", "slowest p95"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
