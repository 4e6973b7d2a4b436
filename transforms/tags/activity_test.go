package tags_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestActivityTags_EqualTheirEventScans: the shipped tags that read the
// per-day activity sums (core.activity_day) give, party for party, the
// values of their definitions over the transactions, events and trades
// themselves (testdata/event_scans.yaml), on a generated bank of a week; so
// does family_links, rewritten without a nested-loop join. The comparison
// is repeated with the as-of day moved 26, 56 and 86 days past the week, so
// that the 30-, 60- and 90-day windows keep only its last four days: each
// windowed tag must then lose values, and still agree with its event scan.
func TestActivityTags_EqualTheirEventScans(t *testing.T) {
	ctx := context.Background()
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 1})
	db := b.W.DB()
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
	windowed := 0
	prints := map[string]string{} // tag → its values' fingerprint with the as-of day on the last day of the week
	for _, shift := range []int{0, 26, 56, 86} {
		if shift > 0 {
			// One party's snapshot row, copied to the new as-of day, moves it.
			q := fmt.Sprintf(`INSERT INTO core.aum_daily SELECT * REPLACE (as_of_date + %d AS as_of_date)
				FROM core.aum_daily WHERE as_of_date = DATE '%s' ORDER BY party_id LIMIT 1`, shift, last)
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
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
			var ours, diff int64
			var print string
			q := `SELECT (SELECT count(*) FROM (` + sel(tg.SQL) + `)),
			             (SELECT count(*) FROM (` + sel(tg.SQL) + ` EXCEPT ALL ` + sel(r.SQL) + `))
			           + (SELECT count(*) FROM (` + sel(r.SQL) + ` EXCEPT ALL ` + sel(tg.SQL) + `)),
			             (SELECT CAST(coalesce(sum(hash(party_id, value)), 0) AS VARCHAR) FROM (` + sel(tg.SQL) + `))`
			if err := db.QueryRowContext(ctx, q).Scan(&ours, &diff, &print); err != nil {
				t.Fatalf("%s: %v", r.ID, err)
			}
			if diff != 0 || (shift == 0 && ours == 0) {
				t.Errorf("%s, as of %d days after the week: %d values, %d differ from the event scan's", r.ID, shift, ours, diff)
			}
			if shift == 0 {
				prints[r.ID] = print
			}
			// A tag over the last n days keeps only the week's last four
			// days n-4 days on: its values change.
			var n int
			if _, err := fmt.Sscanf(tg.NameEN[strings.LastIndex(tg.NameEN, ", ")+1:], "%d days", &n); err == nil && shift == n-4 {
				windowed++
				if print == prints[r.ID] {
					t.Errorf("%s: its values are the same as of %d days after the week: not a %d-day window", r.ID, shift, n)
				}
			}
		}
	}
	if windowed < 20 {
		t.Errorf("%d tags checked for their windows, want the 25 whose names end in \", n days\"", windowed)
	}
}
