package tiers_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/schemas"
	"cdp/transforms/signals"
	"cdp/transforms/tiers"
)

// Tier history: the first build records every party's tier as the
// baseline (no events) with the reason it holds; an unchanged rebuild
// writes nothing; the next day a core person whose AUM fell is down, a
// base person whose AUM rose is up, each once in the history, the changes
// and on cdp.tiers.changes; the 战略核心 downgrade raises one churn
// warning; a build for an earlier day leaves the history alone.
func TestBuild_TierHistoryAndMoves(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 7})
	db := b.W.DB()
	ctx := context.Background()
	cfg := tiers.Config{}.WithDefaults()
	first, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	if h := first.History; !h.Baseline || h.Changes != first.Parties || h.Events != 0 {
		t.Errorf("first build: %+v for %d parties, want a baseline of every party and no events", h, first.Parties)
	}
	// Every history row's reason is the tier's first reason, as the
	// console gives it.
	checked := 0
	for scan := range sqltest.Rows(t, db, `SELECT v.party_type, v.tier, v.criteria_reason, h.reason, v.tier_source,
		coalesce(v.list_reason, ''), coalesce(v.list_approver, ''), coalesce(CAST(v.list_approved_on AS VARCHAR), ''),
		coalesce(CAST(v.list_valid_to AS VARCHAR), ''), v.computed_tier
		FROM mart.tier_history h JOIN mart.value_tier v USING (party_id)`) {
		var typ, tier, criteria, reason, source, listReason, approver, approvedOn, validTo, computed string
		scan(&typ, &tier, &criteria, &reason, &source, &listReason, &approver, &approvedOn, &validTo, &computed)
		want := criteria
		if floor := map[string]string{"core": " ≥ the core floor ", "growth": " ≥ the growth floor ", "base": " < the growth floor "}[computed]; !strings.Contains(criteria, floor) {
			t.Errorf("%s %s: the criteria's reason %q lacks %q", typ, computed, criteria, floor)
		}
		if source == "list" {
			want = tiers.ListReason(listReason, approver, approvedOn, validTo, computed)
		}
		if reason != want {
			t.Errorf("history reason %q, want %q", reason, want)
		}
		checked++
	}
	if int64(checked) != first.Parties {
		t.Errorf("%d history rows for %d parties", checked, first.Parties)
	}

	again, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	if h := again.History; h.Changes != 0 || h.Events != 0 {
		t.Errorf("an unchanged rebuild: %+v, want nothing", h)
	}

	// The next day: every party's AUM as the day before, but one core
	// person's falls to 500,000 and one base person's rises to 7,000,000.
	var down, up, asOf string
	sqltest.Row(t, db, `SELECT (SELECT min(party_id) FROM mart.value_tier WHERE party_type = 'P' AND tier = 'core'),
		(SELECT min(v.party_id) FROM mart.value_tier v JOIN core.aum_daily a ON a.party_id = v.party_id AND a.as_of_date = v.as_of
		 WHERE v.party_type = 'P' AND v.tier = 'base'), CAST(max(as_of) AS VARCHAR) FROM mart.value_tier`).Scan(&down, &up, &asOf)
	for _, q := range []string{
		`INSERT INTO core.aum_daily BY NAME SELECT * REPLACE (as_of_date + 1 AS as_of_date) FROM core.aum_daily WHERE as_of_date = DATE '` + asOf + `'`,
		`UPDATE core.aum_daily SET aum = CASE party_id WHEN '` + down + `' THEN 500000 ELSE 7000000 END
		 WHERE party_id IN ('` + down + `', '` + up + `') AND as_of_date = DATE '` + asOf + `' + 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	next, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	if h := next.History; h.Changes != 2 || h.Up != 1 || h.Down != 1 || h.Events != 2 {
		t.Errorf("the next day: %+v, want one up, one down, two events", h)
	}
	var history string
	sqltest.Row(t, db, `SELECT string_agg(party_id || ' ' || tier || ' ' || CAST(valid_from AS VARCHAR) || '…' || coalesce(CAST(valid_to AS VARCHAR), ''), '; '
		ORDER BY party_id, valid_from) FROM mart.tier_history WHERE party_id IN (?, ?)`, down, up).Scan(&history)
	day2 := mustAddDay(t, asOf)
	want := map[bool]string{true: down + " core " + asOf + "…" + day2 + "; " + down + " base " + day2 + "…; " + up + " base " + asOf + "…" + day2 + "; " + up + " core " + day2 + "…",
		false: up + " base " + asOf + "…" + day2 + "; " + up + " core " + day2 + "…; " + down + " core " + asOf + "…" + day2 + "; " + down + " base " + day2 + "…"}[down < up]
	if history != want {
		t.Errorf("history\n got %s\nwant %s", history, want)
	}
	for scan := range sqltest.Rows(t, db, `SELECT key, type, data FROM ops.outbox WHERE topic = ?`, tiers.TierChangesTopic) {
		var key, typ, data string
		scan(&key, &typ, &data)
		if err := schemas.Validate(typ, []byte(data)); err != nil {
			t.Errorf("tier-change event of %s: %v\n%s", key, err, data)
		}
	}
	var moves string
	sqltest.Row(t, db, `SELECT string_agg(party_id || ':' || old_tier || '→' || new_tier || ':' || direction, ',' ORDER BY direction)
		FROM mart.tier_changes WHERE as_of = CAST(? AS DATE)`, day2).Scan(&moves)
	if moves != down+":core→base:down,"+up+":base→core:up" {
		t.Errorf("mart.tier_changes of %s: %s", day2, moves)
	}

	// The core downgrade raises one churn warning, not sent again the
	// next run.
	body, err := fs.ReadFile(signals.Builtin(), "churn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := signals.Load(fstest.MapFS{"churn.yaml": {Data: body}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	day, _ := time.Parse(time.DateOnly, day2)
	for i := range 2 {
		if _, err := signals.Run(ctx, b.W, rules, signals.Config{}, signals.RunOptions{AsOf: day, RunID: "run-" + string(rune('a'+i)), Logger: testbank.Quiet}); err != nil {
			t.Fatal(err)
		}
	}
	var warned string
	sqltest.Row(t, db, `SELECT coalesce(string_agg(key || ' ' || (data::JSON->>'reason'), '; '), '') FROM ops.outbox
		WHERE topic = 'cdp.signals.churn' AND (data::JSON->>'rule_id') = 'churn_core_downgrade'`).Scan(&warned)
	if want := down + " Fell from core to base on " + day2[5:] + ": AUM CNY 500,000 < the growth floor CNY 1,000,000; AUM CNY 500,000 < the core floor CNY 6,000,000"; warned != want {
		t.Errorf("core downgrade warnings: %q, want %q", warned, want)
	}

	// A build for the day before leaves the history alone.
	if _, err := db.Exec(`DELETE FROM core.aum_daily WHERE as_of_date = CAST(? AS DATE)`, day2); err != nil {
		t.Fatal(err)
	}
	back, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	var open int
	sqltest.Row(t, db, `SELECT count(*) FROM mart.tier_history WHERE valid_from = CAST(? AS DATE)`, day2).Scan(&open)
	if !back.History.Skipped || back.History.Changes != 0 || open != 2 {
		t.Errorf("a build for the day before: %+v, %d rows of %s left, want skipped and 2", back.History, open, day2)
	}
}

func mustAddDay(t *testing.T, d string) string {
	t.Helper()
	day, err := time.Parse(time.DateOnly, d)
	if err != nil {
		t.Fatal(err)
	}
	return day.AddDate(0, 0, 1).Format(time.DateOnly)
}
