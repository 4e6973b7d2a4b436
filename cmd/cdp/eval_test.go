package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"cdp/internal/testbank"
)

// cdp tags eval and cdp signals eval look at a day the history already has,
// print the comparison, and leave the history alone; cdp tags run refuses
// that day and names eval.
func TestEval_CommandsCompareWithTheRecordedDay(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 27})
	b.Run(t, "tags", "signals")
	b.W.Close()
	cfg := filepath.Join(b.Dir, "cdp.yaml")

	out, err := run(t, "tags", "eval", "--config", cfg, "--as-of", "2026-11-20", "--format", "json")
	if err != nil {
		t.Fatalf("tags eval: %v\n%s", err, out)
	}
	var te struct {
		Described bool
		Table     string
		Tags      []struct {
			ID       string `json:"tag_id"`
			Reads    string
			Parties  int64
			Recorded int64
			Differ   int64
		}
	}
	if err := json.Unmarshal([]byte(out), &te); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !te.Described || te.Table != "scratch.tag_values" || len(te.Tags) != 150 {
		t.Fatalf("tags eval: %+v", te)
	}
	for _, tg := range te.Tags {
		if tg.Reads == "dated" && tg.Differ != 0 {
			t.Errorf("%s: %d of %d differ on the day the history was written", tg.ID, tg.Differ, tg.Recorded)
		}
	}
	out, err = run(t, "tags", "eval", "--config", cfg, "--as-of", "2026-11-19", "--tag", "aum_tier", "--tag", "gender")
	if err != nil || !strings.Contains(out, "aum_tier                         dated") || !strings.Contains(out, "gender                           current") {
		t.Errorf("tags eval of a past day: %v\n%s", err, out)
	}
	if _, err := run(t, "tags", "eval", "--config", cfg); err == nil || !strings.Contains(err.Error(), "--as-of") {
		t.Errorf("tags eval without a day: %v", err)
	}
	if _, err := run(t, "tags", "eval", "--config", cfg, "--as-of", "2026-11-19", "--tag", "nope"); err == nil || !strings.Contains(err.Error(), `no tag "nope"`) {
		t.Errorf("tags eval of an unknown tag: %v", err)
	}
	if _, err := run(t, "tags", "run", "--config", cfg, "--as-of", "2026-11-19"); err == nil || !strings.Contains(err.Error(), "cdp tags eval") {
		t.Errorf("tags run of a past day: %v", err)
	}

	out, err = run(t, "signals", "eval", "--config", cfg, "--as-of", "2026-11-20")
	if err != nil || !strings.Contains(out, "signal rules as of 2026-11-20: 27 evaluated into scratch.signal_hits") ||
		!strings.Contains(out, "churn_aum_outflow") || strings.Contains(out, "no signal run ran") {
		t.Errorf("signals eval: %v\n%s", err, out)
	}
	out, err = run(t, "sql", "--config", cfg, "--format", "csv",
		"SELECT (SELECT count(*) FROM scratch.signal_hits), (SELECT count(*) FROM scratch.tag_values WHERE as_of = DATE '2026-11-19')")
	if err != nil || strings.HasSuffix(strings.TrimSpace(out), ",0") {
		t.Errorf("the scratch tables: %v\n%s", err, out)
	}
}
