package signals_test

import (
	"context"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/signals"
)

// A back-test over the days the daily runs ran finds, for every dated
// rule with its current parameters, exactly the parties with the scores
// each day's run decided on, and writes nothing to the outbox; a variant
// of a rule's parameters runs beside it.
func TestBacktest_EqualsTheDailyRuns(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 600, Days: 8, Seed: 43})
	b.Run(t, "tags", "tiers", "view")
	rules, err := signals.Load(signals.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if _, err := signals.Run(context.Background(), b.W, rules, signals.Config{}, signals.RunOptions{AsOf: d, Logger: testbank.Quiet}); err != nil {
			t.Fatal(err)
		}
	}
	var outbox int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM ops.outbox`).Scan(&outbox)
	dated, withHits := 0, 0
	for _, r := range rules.Rules {
		if r.Reads != signals.Dated {
			continue
		}
		dated++
		rep, err := signals.Backtest(context.Background(), b.W, rules, signals.BacktestOptions{Rule: r.ID, From: first, To: last, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Days) != 8 {
			t.Fatalf("%s: %d days", r.ID, len(rep.Days))
		}
		hits := int64(0)
		for _, d := range rep.Days {
			if d.Recorded != d.Hits || d.Differ != 0 {
				t.Errorf("%s %s: %d hits, the run decided on %d, %d differ", r.ID, d.Day, d.Hits, d.Recorded, d.Differ)
			}
			hits += d.Hits
		}
		if hits > 0 {
			withHits++
		}
	}
	if dated < 8 || withHits < 4 {
		t.Errorf("%d dated rules, %d with hits in the range: the test needs more", dated, withHits)
	}
	var after int64
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM ops.outbox`).Scan(&after)
	if after != outbox {
		t.Errorf("the back-tests queued %d events", after-outbox)
	}
	// A looser variant of a churn rule finds at least as many customers.
	rep, err := signals.Backtest(context.Background(), b.W, rules, signals.BacktestOptions{Rule: "churn_aum_outflow", From: first, To: last,
		Variant: map[string]any{"min_drop_pct": 5}, Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	var cur, variant int64
	for _, d := range rep.Days {
		cur += d.Hits
		variant += *d.Variant
	}
	if variant < cur || variant == 0 {
		t.Errorf("the looser variant found %d, the rule %d", variant, cur)
	}
	if _, err := signals.Backtest(context.Background(), b.W, rules, signals.BacktestOptions{Rule: "churn_aum_outflow", From: first, To: last,
		Variant: map[string]any{"no_such": 1}}); err == nil {
		t.Error("a variant with an unknown parameter ran")
	}
}
