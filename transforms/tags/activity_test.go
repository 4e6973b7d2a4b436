package tags_test

import (
	"context"
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
// does family_links, rewritten without a nested-loop join.
func TestActivityTags_EqualTheirEventScans(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 1})
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
	for _, r := range ref.Tags {
		tg, ok := shipped[r.ID]
		switch {
		case !ok:
			t.Errorf("%s: not in the shipped catalog", r.ID)
			continue
		case r.ID != "family_links" && !strings.Contains(tg.SQL, "core.activity_day") && !strings.Contains(tg.SQL, "first_open_date"):
			t.Errorf("%s: the shipped tag does not read the activity sums", r.ID)
		}
		var ours, diff int64
		q := `SELECT (SELECT count(*) FROM (` + sel(tg.SQL) + `)),
		             (SELECT count(*) FROM (` + sel(tg.SQL) + ` EXCEPT ALL ` + sel(r.SQL) + `))
		           + (SELECT count(*) FROM (` + sel(r.SQL) + ` EXCEPT ALL ` + sel(tg.SQL) + `))`
		if err := b.W.DB().QueryRowContext(context.Background(), q).Scan(&ours, &diff); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		if ours == 0 || diff != 0 {
			t.Errorf("%s: %d values, %d differ from the event scan's", r.ID, ours, diff)
		}
	}
}
