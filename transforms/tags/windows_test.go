package tags_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
	"cdp/warehouse"
)

// TestWindows_ADatedTagReadsItsWindowsAlone holds every tag that declares
// windows to what the declaration promises, on a day whose windows cut
// into the bank's history:
//   - its rows outside the windows gone, each party's value is what it was
//     (the value comes from the windows' rows alone), and
//   - with the windows' rows the same on two days in a row (those of the
//     day that would leave and of the day that would enter taken away), its
//     values are the same on both (they come from the rows, not from the
//     calendar).
//
// Together these are what lets a run compute the tag for the parties whose
// rows changed or entered or left a window only. Two tags planted with a
// wrong declaration — a window shorter than the one read, a count of days
// since the last activity — are caught: the check has teeth.
func TestWindows_ADatedTagReadsItsWindowsAlone(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 5})
	ctx, db := context.Background(), b.W.DB()
	builtin, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	planted, err := tags.Load(fstest.MapFS{"x.yaml": {Data: []byte(`category: behaviour
owner: test
tags:
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
  - id: test_maturing_soon
    name_zh: 测
    name_en: Deposits maturing within 30 days of the snapshot
    type: decimal
    description: d
    scope: party
    windows: [{table: core.holding_daily, snapshot: true}]
    sql: |
      SELECT party_id, sum(amount_cny) AS value FROM core.holding_daily
      WHERE as_of_date = {day:core.holding_daily} AND party_id IS NOT NULL
        AND maturity_date BETWEEN {day:core.holding_daily} AND {day:core.holding_daily} + 30 GROUP BY party_id
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
`)}})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	sqltest.Row(t, db, `SELECT max(as_of_date) FROM core.aum_daily`).Scan(&last)
	// the first day of a window's table
	first := func(win tags.Window) time.Time {
		t.Helper()
		var d time.Time
		sqltest.Row(t, db, fmt.Sprintf(`SELECT min(CAST(%s AS DATE)) FROM %s`, warehouse.Ident(win.Column), win.Table)).Scan(&d)
		return d
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", sqltest.Short(q), err)
		}
	}
	values := func(tg *tags.Tag, day time.Time) map[string]string {
		t.Helper()
		q, err := tg.Query(day.Format(time.DateOnly))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for scan := range sqltest.Rows(t, conn, `SELECT party_id, coalesce(CAST(value AS VARCHAR), '<null>') FROM (`+q+`) WHERE party_id IS NOT NULL`) {
			var p, v string
			scan(&p, &v)
			out[p] = v
		}
		return out
	}
	differ := func(a, b map[string]string) int {
		n := 0
		for p, v := range a {
			if w, ok := b[p]; !ok || w != v {
				n++
			}
		}
		for p := range b {
			if _, ok := a[p]; !ok {
				n++
			}
		}
		return n
	}
	// the rows of a window's table dated where cond says ({d}: their date)
	where := func(win tags.Window, cond string) string {
		d := `CAST(` + warehouse.Ident(win.Column) + ` AS DATE)`
		return fmt.Sprintf(`DELETE FROM %s WHERE %s`, win.Table, strings.ReplaceAll(cond, "{d}", d))
	}
	lit := func(day time.Time) string { return "DATE " + warehouse.Literal(day.Format(time.DateOnly)) }

	// broken checks a tag: what its declaration fails, "" when it holds.
	broken := func(tg *tags.Tag) string {
		// the first day every window leaves its table's first day out
		// on; with snapshots alone, the newest snapshot's
		day := last
		for i, win := range slices.DeleteFunc(slices.Clone(tg.Windows), func(w tags.Window) bool { return w.Snapshot }) {
			if d := first(win).AddDate(0, 0, win.Days); i == 0 || d.After(day) {
				day = d
			}
		}
		whole := values(tg, day)
		if len(whole) == 0 {
			return "no values to check"
		}
		exec(`BEGIN`)
		defer exec(`ROLLBACK`)
		for _, win := range tg.Windows {
			if win.Snapshot { // every snapshot but the day's
				exec(fmt.Sprintf(`DELETE FROM %[1]s WHERE as_of_date <> (SELECT max(as_of_date) FROM %[1]s WHERE as_of_date <= %[2]s)`, win.Table, lit(day)))
				continue
			}
			from := day.AddDate(0, 0, 1-win.Days)
			exec(where(win, fmt.Sprintf(`{d} < %s OR {d} > %s`, lit(from), lit(day))))
		}
		if n := differ(whole, values(tg, day)); n > 0 {
			return fmt.Sprintf("%d of %d parties' values move without the rows outside its windows as of %s", n, len(whole), day.Format(time.DateOnly))
		}
		next := day.AddDate(0, 0, 1)
		for _, win := range tg.Windows {
			if win.Snapshot { // the same snapshot, delivered again the next day
				exec(fmt.Sprintf(`INSERT INTO %[1]s SELECT * REPLACE (%[2]s AS as_of_date) FROM %[1]s`, win.Table, lit(next)))
				continue
			}
			leaves := day.AddDate(0, 0, 1-win.Days)
			exec(where(win, fmt.Sprintf(`{d} = %s OR {d} = %s`, lit(leaves), lit(next))))
		}
		now := values(tg, day)
		if n := differ(now, values(tg, next)); n > 0 {
			return fmt.Sprintf("%d of %d parties' values move from %s to %s over the same rows", n, len(now), day.Format(time.DateOnly), next.Format(time.DateOnly))
		}
		return ""
	}

	checked := 0
	for _, tg := range builtin.Tags {
		if len(tg.Windows) == 0 {
			continue
		}
		checked++
		if why := broken(tg); why != "" {
			t.Errorf("%s (%s:%d) declares windows %+v, but %s", tg.ID, tg.File, tg.Line, tg.Windows, why)
		}
	}
	if checked < 10 {
		t.Errorf("only %d built-in tags declare windows", checked)
	}
	for _, tg := range planted.Tags {
		if why := broken(tg); why == "" || why == "no values to check" {
			t.Errorf("%s's wrong windows went unnoticed (%q)", tg.ID, why)
		} else {
			t.Logf("%s: %s", tg.ID, why)
		}
	}
}
