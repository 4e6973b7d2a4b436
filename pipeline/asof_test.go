package pipeline_test

import (
	"context"
	"testing"
	"time"

	"cdp/internal/testbank"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
)

// A bank is delivered a day at a time for a week, each day run through
// unify, the core model, tags and signals. Then every day of the week is
// evaluated again: every dated tag gives exactly the values the history
// recorded for that day, every dated rule finds exactly the parties (and
// scores) the run of that day decided on — and evaluating changes nothing.
func TestEval_DatedTagsAndRulesReproduceEveryDayOfAWeek(t *testing.T) {
	days := []string{"2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}
	b := testbank.Generate(t, testbank.Options{Parties: 500, Days: len(days), Seed: 41})
	held := b.HoldBack(t, days[1:]...)
	ctx := context.Background()
	changes := map[string]int64{}
	for i, day := range days {
		if i > 0 {
			held.Deliver(t, day)
		}
		res := b.Run(t, "ingest", "unify", "model", "tags", "signals")
		tagRun := res[3].Summary.(*tags.RunSummary)
		if tagRun.AsOf != day {
			t.Fatalf("the run after delivering %s is as of %s", day, tagRun.AsOf)
		}
		changes[day] = tagRun.Changes
	}
	for _, day := range days[1:] {
		if changes[day] == 0 {
			t.Errorf("no tag value changed on %s: the week needs changes every day", day)
		}
	}
	// Merges and splits re-key parties; none may happen here, or the
	// comparison below would not be of the same parties.
	var moves int
	if err := b.W.DB().QueryRow(`SELECT count(*) FROM ops.identity_events`).Scan(&moves); err != nil {
		t.Fatal(err)
	}
	if moves != 0 {
		t.Fatalf("%d merges or splits over the week: the parties changed under the history", moves)
	}

	env := b.Env()
	cat, err := env.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := env.Rules()
	if err != nil {
		t.Fatal(err)
	}
	before := counts(t, b)
	dated, current := 0, 0
	var ruleHits int64
	for _, day := range days {
		d, _ := time.Parse(time.DateOnly, day)
		te, err := tags.Eval(ctx, b.W, cat, tags.EvalOptions{AsOf: d, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		if !te.Described {
			t.Fatalf("%s: no tag run described the day", day)
		}
		recorded := int64(0)
		for _, e := range te.Tags {
			if e.Reads == tags.Dated && e.Differ != 0 {
				t.Errorf("%s: dated tag %s: %d of %d parties differ from the recorded values", day, e.ID, e.Differ, e.Recorded)
			}
			if e.Reads == tags.Dated {
				recorded += e.Recorded
			}
		}
		if recorded == 0 {
			t.Errorf("%s: no dated tag had a recorded value to compare with", day)
		}
		se, err := signals.Eval(ctx, b.W, rules, signals.EvalOptions{AsOf: d, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		if !se.Described {
			t.Fatalf("%s: no signal run ran as of the day", day)
		}
		for _, r := range se.Rules {
			if r.Reads == signals.Dated && (r.Differ != 0 || r.Hits != r.Recorded) {
				t.Errorf("%s: dated rule %s: %d hits, %d recorded, %d differ", day, r.ID, r.Hits, r.Recorded, r.Differ)
			}
			if r.Reads == signals.Dated {
				ruleHits += r.Recorded
			}
		}
	}
	for _, tg := range cat.Tags {
		if tg.Reads == tags.Dated {
			dated++
		} else {
			current++
		}
	}
	t.Logf("%d dated and %d current tags, %d rules (%d hits of dated rules), over %d days", dated, current, len(rules.Rules), ruleHits, len(days))
	if ruleHits == 0 {
		t.Error("the dated rules fired for nobody all week: nothing was compared")
	}
	if dated < 50 {
		t.Errorf("only %d dated tags", dated)
	}
	if after := counts(t, b); after != before {
		t.Errorf("evaluating changed the history or the outbox: %v before, %v after", before, after)
	}
}

// counts are the rows of what an evaluation must not touch.
func counts(t *testing.T, b *testbank.Bank) [5]int64 {
	t.Helper()
	var c [5]int64
	if err := b.W.DB().QueryRow(`SELECT (SELECT count(*) FROM mart.tags), (SELECT count(*) FROM mart.tag_history),
		(SELECT count(*) FROM mart.signals), (SELECT count(*) FROM mart.signal_decisions), (SELECT count(*) FROM ops.outbox)`).
		Scan(&c[0], &c[1], &c[2], &c[3], &c[4]); err != nil {
		t.Fatal(err)
	}
	return c
}
