package tags_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestCheckPromises_HoldsTheCatalogAndCatchesWrongDeclarations: every
// built-in party-scoped tag keeps its promise on a generated bank, each
// checked (none left unchecked); tags planted with a wrong scope or wrong
// windows are each named, with the file, line and what moved.
func TestCheckPromises_HoldsTheCatalogAndCatchesWrongDeclarations(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 5})
	ctx, db := context.Background(), b.W.DB()
	builtin, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var asOf, first time.Time
	sqltest.Row(t, db, `SELECT max(as_of_date) FROM core.aum_daily`).Scan(&asOf)
	got, err := tags.CheckPromises(ctx, db, builtin, asOf.Format(time.DateOnly), 400)
	if err != nil {
		t.Fatalf("the built-in catalog: %v", err)
	}
	party := 0
	for _, tg := range builtin.Tags {
		if tg.Scope == tags.PartyScope {
			party++
		}
	}
	if got.Sampled != 400 || got.Checked != party || len(got.Unchecked) > 0 {
		t.Errorf("%d parties sampled, %d of %d party-scoped tags checked, unchecked: %v", got.Sampled, got.Checked, party, got.Unchecked)
	}

	planted, err := tags.Load(fstest.MapFS{"x.yaml": {Data: []byte(`category: behaviour
owner: test
tags:
  - id: test_aum_rank
    name_zh: 测
    name_en: AUM rank in the bank, declared the party's own
    type: int
    description: d
    scope: party
    sql: |
      SELECT party_id, CAST(rank() OVER (ORDER BY aum DESC) AS BIGINT) AS value FROM core.aum_daily
      WHERE as_of_date = (SELECT max(as_of_date) FROM core.aum_daily)
  - id: test_short_window
    name_zh: 测
    name_en: Declares 20 days, reads 30
    type: int
    description: d
    scope: party
    windows: [{table: core.activity_day, column: day, days: 20}]
    sql: |
      SELECT party_id, sum(n) AS value FROM core.activity_day
      WHERE party_id IS NOT NULL AND day BETWEEN {as_of} - 29 AND {as_of} GROUP BY party_id
  - id: test_days_since
    name_zh: 测
    name_en: Days since the last activity, 30 days
    type: int
    description: d
    scope: party
    windows: [{table: core.activity_day, column: day, days: 30}]
    sql: |
      SELECT party_id, date_diff('day', max(day), {as_of}) AS value FROM core.activity_day
      WHERE party_id IS NOT NULL AND day BETWEEN {as_of} - 29 AND {as_of} GROUP BY party_id
  - id: test_two_snapshots
    name_zh: 测
    name_en: AUM against the first snapshot
    type: decimal
    description: d
    scope: party
    windows: [{table: core.aum_daily, snapshot: true}]
    sql: |
      SELECT l.party_id, l.aum - f.aum AS value FROM core.aum_daily l JOIN core.aum_daily f USING (party_id)
      WHERE l.as_of_date = {day:core.aum_daily} AND f.as_of_date = (SELECT min(as_of_date) FROM core.aum_daily)
  - id: test_own_sum
    name_zh: 测
    name_en: A party's own card spend, 30 days, rightly declared
    type: decimal
    description: d
    scope: party
    windows: [{table: core.activity_day, column: day, days: 30}]
    sql: |
      SELECT party_id, sum(purchase_amount) AS value FROM core.activity_day
      WHERE party_id IS NOT NULL AND day > {as_of} - 30 AND day <= {as_of} GROUP BY party_id
`)}})
	if err != nil {
		t.Fatal(err)
	}
	// a day whose 20-day window leaves the history's first days out
	sqltest.Row(t, db, `SELECT min(day) FROM core.activity_day`).Scan(&first)
	day := first.AddDate(0, 0, 25).Format(time.DateOnly)
	got, err = tags.CheckPromises(ctx, db, planted, day, 1500)
	var probs tags.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("planted tags: want problems, got %v", err)
	}
	found := map[string]string{}
	for _, p := range probs {
		found[p.Item] = p.Error()
	}
	for _, id := range []string{"test_aum_rank", "test_short_window", "test_days_since", "test_two_snapshots"} {
		msg, ok := found[id]
		if !ok {
			t.Errorf("%s's wrong declaration went unnoticed", id)
			continue
		}
		if !strings.Contains(msg, "x.yaml:") || !strings.Contains(msg, "sampled parties' values move") || !strings.Contains(msg, "(party ") {
			t.Errorf("%s: %q names no file, no count or no party", id, msg)
		}
		t.Log(msg)
	}
	if msg, ok := found["test_own_sum"]; ok {
		t.Errorf("a right declaration was refused: %s", msg)
	}
	if got.Checked != 1 || got.Broken != 4 {
		t.Errorf("%d held, %d broken; want 1 and 4", got.Checked, got.Broken)
	}
}
