package tags_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestActivityTags_EqualTheirEventScans: the shipped tags that read the
// per-day activity sums (core.activity_day) give, party for party, the
// values of their definitions over the transactions, events and trades
// themselves (testdata/event_scans.yaml), on a generated bank of a week; so
// does family_links, rewritten without a nested-loop join. The comparison
// is repeated with the as-of day moved up to 90 days past the week, so that
// each 30-, 60- or 90-day window keeps only the week's last four days, its
// last day, or none of it: each windowed tag must then change, keep values,
// or have none (but zeros), and still agree with its event scan.
func TestActivityTags_EqualTheirEventScans(t *testing.T) {
	ctx := context.Background()
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 1})
	db := b.W.DB()
	conn, err := db.Conn(ctx) // the temp tables below live on one connection
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ref, err := tags.Load(os.DirFS("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]*tags.Tag{}
	for _, tg := range cat.Tags {
		shipped[tg.ID] = tg
	}
	sel := func(sql string) string {
		return `SELECT party_id, CAST(value AS VARCHAR) AS value FROM (` + strings.TrimRight(strings.TrimSpace(sql), ";") + `)`
	}
	var last string
	if err := db.QueryRowContext(ctx, `SELECT CAST(max(as_of_date) AS VARCHAR) FROM core.aum_daily`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	// A source's data may end before the newest snapshot day (e-banking
	// events are delivered a day behind, say): lag is by how many days.
	lag := map[string]int{}
	for scan := range sqltest.Rows(t, db, `SELECT src, date_diff('day', max(day), DATE '`+last+`') FROM core.activity_day GROUP BY src`) {
		var src string
		var days int
		scan(&src, &days)
		lag[src] = days
	}
	tagLag := func(sql string) int { // the smallest lag of the sources a tag reads
		least := -1
		for src, d := range lag {
			if strings.Contains(sql, "'"+src+"'") && (least < 0 || d < least) {
				least = d
			}
		}
		if least < 0 { // all of them
			for _, d := range lag {
				if least < 0 || d < least {
					least = d
				}
			}
		}
		return least
	}
	windowed := map[string]bool{} // tags whose window was checked
	prints := map[string]string{} // tag → its values' fingerprint with the as-of day on the last day of the week
	lastDay, err := time.Parse(time.DateOnly, last)
	if err != nil {
		t.Fatal(err)
	}
	for _, shift := range []int{0, 26, 27, 28, 29, 30, 56, 57, 58, 59, 60, 86, 87, 88, 89, 90} {
		// The tags are evaluated as of shift days after the week.
		day := lastDay.AddDate(0, 0, shift).Format(time.DateOnly)
		query := func(tg *tags.Tag) string {
			q, err := tg.Query(day)
			if err != nil {
				t.Fatalf("%s: %v", tg.ID, err)
			}
			return q
		}
		if shift > 0 {
			// One party's snapshot rows, copied to the new as-of day, move it.
			for _, table := range []string{"core.aum_daily", "core.holding_daily"} {
				q := fmt.Sprintf(`INSERT INTO %[1]s SELECT * REPLACE (as_of_date + %[2]d AS as_of_date)
					FROM %[1]s WHERE as_of_date = DATE '%[3]s' AND party_id = (
					    SELECT min(party_id) FROM core.aum_daily WHERE as_of_date = DATE '%[3]s')`, table, shift, last)
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, r := range ref.Tags {
			tg, ok := shipped[r.ID]
			switch {
			case !ok:
				t.Fatalf("%s: not in the shipped catalog", r.ID)
			case r.ID != "family_links" && !strings.Contains(tg.SQL, "core.activity_day") && !strings.Contains(tg.SQL, "first_open_date"):
				t.Errorf("%s: the shipped tag does not read the activity sums", r.ID)
			}
			// Each side is computed once, into a temp table on the test's
			// own connection, and compared there.
			for _, side := range []struct{ table, sql string }{{"ours", query(tg)}, {"theirs", query(r)}} {
				if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+side.table+` AS `+sel(side.sql)); err != nil {
					t.Fatalf("%s (%s): %v", r.ID, side.table, err)
				}
			}
			var ours, live, diff int64
			var print string
			q := `SELECT (SELECT count(*) FROM ours),
			             (SELECT count(*) FILTER (value NOT IN ('0', 'false')) FROM ours),
			             (SELECT count(*) FROM (FROM ours EXCEPT ALL FROM theirs))
			           + (SELECT count(*) FROM (FROM theirs EXCEPT ALL FROM ours)),
			             (SELECT CAST(coalesce(sum(hash(party_id, value)), 0) AS VARCHAR) FROM ours)`
			if err := conn.QueryRowContext(ctx, q).Scan(&ours, &live, &diff, &print); err != nil {
				t.Fatalf("%s: %v", r.ID, err)
			}
			if diff != 0 || (shift == 0 && ours == 0) {
				t.Errorf("%s, as of %d days after the week: %d values, %d differ from the event scan's", r.ID, shift, ours, diff)
			}
			if shift == 0 {
				prints[r.ID] = print
			}
			// A tag over the last n days ("…, n days", 近n天) whose data ends
			// d days before the week's last snapshot day: n-4 days on, its
			// window keeps the week's last four days, so its values change;
			// n-1-d days on, the last day of its data alone (activity_trend,
			// comparing two halves, needs two); n-d days on, none.
			var n int
			if _, err := fmt.Sscanf(tg.NameEN[strings.LastIndex(tg.NameEN, ", ")+1:], "%d days", &n); err != nil {
				continue
			}
			if !strings.Contains(tg.NameZH, fmt.Sprintf("近%d天", n)) {
				t.Errorf("%s: %q does not name the %d days of %q", r.ID, tg.NameZH, n, tg.NameEN)
			}
			d := tagLag(tg.SQL)
			switch {
			case shift == n-4 && print == prints[r.ID]:
				t.Errorf("%s: its values are the same as of %d days after the week: not a %d-day window", r.ID, shift, n)
			case shift == n-1-d && ours == 0 && r.ID != "activity_trend":
				t.Errorf("%s: no values as of %d days after the week (its data ends %d days before): a window shorter than %d days", r.ID, shift, d, n)
			case shift == n-d && live != 0:
				t.Errorf("%s: %d values other than 0 or false as of %d days after the week (its data ends %d days before): a window longer than %d days", r.ID, live, shift, d, n)
			case shift == n-d:
				windowed[r.ID] = true
			}
		}
	}
	if len(windowed) != 25 {
		t.Errorf("%d tags checked for their windows, want the 25 whose names end in \", n days\"", len(windowed))
	}
}
