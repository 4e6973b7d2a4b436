package tags_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/core"
	"cdp/transforms/identity"
	"cdp/transforms/tags"
	"cdp/warehouse"
)

var quiet = slog.New(slog.DiscardHandler)

// values reads party|tag → value from a query giving those three columns.
func values(t *testing.T, w *warehouse.Warehouse, q string, args ...any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for scan := range sqltest.Rows(t, w.DB(), q, args...) {
		var p, tag string
		var v *string
		scan(&p, &tag, &v)
		s := "<null>"
		if v != nil {
			s = *v
		}
		out[p+"|"+tag] = s
	}
	return out
}

// TestRun_HistoryAnswersEachDay delivers a bank day by day; after each day
// it unifies, builds the core model and runs the tags. Afterwards, the
// history asked about each day gives exactly the tags that day's run
// computed, and each run's recorded changes are the difference between
// consecutive days.
func TestRun_HistoryAnswersEachDay(t *testing.T) {
	b := testbank.Generate(t, testbank.Options{Parties: 1200, Days: 3, Seed: 9})
	ctx, w := context.Background(), b.W
	days := []string{"2026-11-18", "2026-11-19", "2026-11-20"}
	held := b.HoldBack(t, days[1:]...)
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	snapshots := map[string]map[string]string{}
	var runs []*tags.RunSummary
	for _, d := range days {
		if d != days[0] {
			held.Deliver(t, d)
		}
		b.Ingest(t)
		if _, err := identity.Unify(ctx, w, identity.Options{Config: testbank.IdentityConfig(), Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		if _, err := core.Build(ctx, w, quiet); err != nil {
			t.Fatal(err)
		}
		// (the last day's events are built in three parts by party)
		restore := func() {}
		if d == days[len(days)-1] {
			restore = tags.SetEventParts(3)
		}
		s, err := tags.Run(ctx, w, cat, tags.RunOptions{Logger: quiet})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if s.AsOf != d {
			t.Fatalf("run after delivering %s is as of %s", d, s.AsOf)
		}
		runs = append(runs, s)
		snapshots[d] = values(t, w, `SELECT party_id, tag_id, value FROM mart.tags`)
	}
	for i, d := range days {
		got := values(t, w, `SELECT party_id, tag_id, value FROM mart.tag_history
			WHERE valid_from <= CAST(? AS DATE) AND (valid_to IS NULL OR valid_to > CAST(? AS DATE))`, d, d)
		want := snapshots[d]
		if len(got) != len(want) {
			t.Errorf("%s: history gives %d values, the run computed %d", d, len(got), len(want))
		}
		wrong := 0
		for k, v := range want {
			if got[k] != v {
				wrong++
				if wrong <= 3 {
					t.Errorf("%s: %s is %q in history, %q in that day's run", d, k, got[k], v)
				}
			}
		}
		if i == 0 {
			if !runs[0].Baseline || runs[0].Events != 0 {
				t.Errorf("first run: baseline %v with %d events; want a baseline with none", runs[0].Baseline, runs[0].Events)
			}
			// The first run's changes are its values: they begin the
			// history, and are not logged again as changes.
			var logged, begun int64
			sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tag_changes WHERE run_id = ?`, runs[0].RunID).Scan(&logged)
			sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tag_history WHERE run_id = ? AND valid_from = DATE '`+d+`'`, runs[0].RunID).Scan(&begun)
			if runs[0].Values == 0 || runs[0].Changes != runs[0].Values || begun != runs[0].Values || logged != 0 {
				t.Errorf("first run: %d values, %d changes, %d history rows begun, %d logged as changes; want every value a change, begun in the history, none logged",
					runs[0].Values, runs[0].Changes, begun, logged)
			}
			continue
		}
		// One outbox event per party with changes, carrying exactly the
		// changes mart.tag_changes logged.
		var parties, events, changes, matched int64
		sqltest.Row(t, w.DB(), `SELECT count(DISTINCT party_id) FROM mart.tag_changes WHERE run_id = ?`, runs[i].RunID).Scan(&parties)
		sqltest.Row(t, w.DB(), `SELECT count(*), sum(json_array_length(data::JSON->'changes')) FROM ops.outbox
			WHERE producer = ? AND topic = 'cdp.tags.changes' AND key = (data::JSON->>'party_id')`, runs[i].RunID).Scan(&events, &changes)
		sqltest.Row(t, w.DB(), `SELECT count(*) FROM (
			SELECT o.key AS party_id, c->>'tag_id' AS tag_id, c->>'new_value' AS v
			FROM ops.outbox o, unnest(CAST(data::JSON->'changes' AS JSON[])) AS u(c) WHERE o.producer = ?) e
			JOIN mart.tag_changes m ON m.run_id = ? AND m.party_id = e.party_id AND m.tag_id = e.tag_id
			 AND m.new_value IS NOT DISTINCT FROM e.v`, runs[i].RunID, runs[i].RunID).Scan(&matched)
		// and numbered one after another, each once
		var seqs, span int64
		sqltest.Row(t, w.DB(), `SELECT count(DISTINCT seq), max(seq) - min(seq) + 1 FROM ops.outbox WHERE producer = ?`, runs[i].RunID).Scan(&seqs, &span)
		if seqs != events || span != events {
			t.Errorf("%s: %d events numbered with %d sequence numbers over a span of %d", d, events, seqs, span)
		}
		if events != parties || events != runs[i].Events || changes != runs[i].Changes || matched != changes {
			t.Errorf("%s: %d tag-change events (run says %d) for %d parties with changes; %d changes in them, %d matching mart.tag_changes, run changed %d",
				d, events, runs[i].Events, parties, changes, matched, runs[i].Changes)
		}
		// The run's recorded changes are exactly the day-to-day difference.
		prev := snapshots[days[i-1]]
		diff := 0
		for k, v := range want {
			if prev[k] != v {
				diff++
			}
		}
		for k := range prev {
			if _, ok := want[k]; !ok {
				diff++
			}
		}
		if int64(diff) != runs[i].Changes {
			t.Errorf("%s: run recorded %d changes, the snapshots differ in %d", d, runs[i].Changes, diff)
		}
		if diff == 0 {
			t.Errorf("%s: nothing changed from %s: the test proves nothing", d, days[i-1])
		}
		var logged int64
		sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tag_changes WHERE run_id = ?`, runs[i].RunID).Scan(&logged)
		if logged != runs[i].Changes {
			t.Errorf("%s: %d rows in mart.tag_changes, run says %d", d, logged, runs[i].Changes)
		}
	}
	// A run for an earlier day is refused.
	if _, err := tags.Run(ctx, w, cat, tags.RunOptions{AsOf: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), Logger: quiet}); err == nil {
		t.Error("a run for an earlier day was accepted")
	}
}

// TestRun_EveryShippedTagTakesTwoValues: on a generated bank shaped like
// the demo's (a week of feeds: overdue loans appear within it) every tag in
// the catalog separates parties (a tag with one value tells nothing).
func TestRun_EveryShippedTagTakesTwoValues(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 1})
	ctx, w := context.Background(), b.W
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if err := tags.Validate(ctx, w.DB(), cat, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Run(ctx, w, cat, tags.RunOptions{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	distinct := map[string]int{}
	for scan := range sqltest.Rows(t, w.DB(), `SELECT tag_id, count(DISTINCT value) FROM mart.tags GROUP BY ALL`) {
		var id string
		var n int
		scan(&id, &n)
		distinct[id] = n
	}
	for _, tg := range cat.Tags {
		if distinct[tg.ID] < 2 {
			t.Errorf("tag %s takes %d distinct values on the generated bank, want ≥ 2", tg.ID, distinct[tg.ID])
		}
	}
}
