package tags_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestRun_PerPartyEqualsWholeBankAfterAWeek delivers a week day by day
// and, after each day's unification and core model, plants changes of its
// own in the core tables (a gender, a loan gone, a card account moved to
// another party, a company's industry, a catalog whose tag's SQL changes and whose new tag
// reads whole rows, a tag switched off while its input changes and back
// on), then runs the tags incrementally: party-scoped tags
// are computed for the changed parties only, and each planted change
// shows. After each day a --full run over the same state finds nothing
// to change: mart.tags (hence the history and the changes, which are
// their differences) is what computing every tag for every party gives.
func TestRun_PerPartyEqualsWholeBankAfterAWeek(t *testing.T) {
	// (a bank where a party acts on some days only: rows leave a tag's
	// window on days the party does nothing)
	b := testbank.Generate(t, testbank.Options{Parties: 800, Days: 7, Seed: 13, Activity: 0.3})
	ctx, w := context.Background(), b.W
	days := []string{"2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}
	held := b.HoldBack(t, days[1:]...)
	builtin, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	// and a tag over a window of two days, which rows leave every day
	short, err := tags.Load(fstest.MapFS{"w.yaml": {Data: []byte(`category: behaviour
owner: test
tags:
  - id: test_two_days
    name_zh: 测
    name_en: Activity, two days
    type: int
    description: d
    scope: party
    windows: [{table: core.activity_day, column: day, days: 2}]
    sql: |
      SELECT party_id, sum(n) AS value FROM core.activity_day
      WHERE party_id IS NOT NULL AND day BETWEEN {as_of} - 1 AND {as_of} GROUP BY party_id
`)}})
	if err != nil {
		t.Fatal(err)
	}
	builtin.Tags = append(builtin.Tags, short.Tags...)
	// The catalog change of the fifth day: gender's SQL changes (it is
	// computed for every party again), and a new party-scoped tag reads
	// core.party's whole row (its prints start afresh over every column).
	changed, err := tags.Load(fstest.MapFS{"x.yaml": {Data: []byte(`category: natural
owner: test
tags:
  - id: test_row_print
    name_zh: 测
    name_en: Row print
    type: string
    description: d
    reads: current
    scope: party
    sql: |
      SELECT party_id, md5(CAST(p AS VARCHAR)) AS value FROM core.party p
`)}})
	if err != nil {
		t.Fatal(err)
	}
	withChange := &tags.Catalog{}
	for _, tg := range builtin.Tags {
		if tg.ID == "gender" {
			c := *tg
			c.SQL = strings.Replace(c.SQL, "SELECT party_id,", "SELECT party_id, /* changed */", 1)
			tg = &c
		}
		withChange.Tags = append(withChange.Tags, tg)
	}
	withChange.Tags = append(withChange.Tags, changed.Tags...)

	exec := func(q string, args ...any) { t.Helper(); sqltest.Exec(t, w.DB(), q, args...) }
	value := func(party, tag string) string {
		t.Helper()
		var v *string
		sqltest.Row(t, w.DB(), `SELECT any_value(value) FROM mart.tags WHERE party_id = ? AND tag_id = ?`, party, tag).Scan(&v)
		if v == nil {
			return "<none>"
		}
		return *v
	}
	var parties int64
	var offPerson, offGender string
	partialDays := 0
	for i, d := range days {
		if i > 0 {
			held.Deliver(t, d)
		}
		b.Run(t, "ingest", "unify", "model")
		cat := builtin
		var check func()
		switch i {
		case 1: // a person's gender flips
			var p, g string
			sqltest.Row(t, w.DB(), `SELECT party_id, gender FROM core.party WHERE party_type = 'P' AND gender IS NOT NULL ORDER BY party_id LIMIT 1`).Scan(&p, &g)
			flip := map[string]string{"M": "F", "F": "M"}[g]
			exec(`UPDATE core.party SET gender = ? WHERE party_id = ?`, flip, p)
			check = func() {
				if got := value(p, "gender"); got != flip {
					t.Errorf("day %d: %s's gender tag is %s, want %s", i+1, p, got, flip)
				}
			}
		case 2: // a party's loans go
			var p string
			sqltest.Row(t, w.DB(), `SELECT party_id FROM core.loan WHERE party_id IS NOT NULL GROUP BY ALL HAVING count(*) = 1 ORDER BY party_id LIMIT 1`).Scan(&p)
			exec(`DELETE FROM core.loan WHERE party_id = ?`, p)
			check = func() {
				if got := value(p, "loan_count"); got != "<none>" && got != "0" {
					t.Errorf("day %d: %s has no loan left, its loan_count is %s", i+1, p, got)
				}
			}
		case 3: // a card account moves to another party
			var acct, from, to string
			sqltest.Row(t, w.DB(), `SELECT card_account_id, party_id FROM core.card_account WHERE party_id IS NOT NULL ORDER BY card_account_id LIMIT 1`).Scan(&acct, &from)
			sqltest.Row(t, w.DB(), `SELECT min(party_id) FROM core.party WHERE party_id NOT IN (SELECT party_id FROM core.card_account WHERE party_id IS NOT NULL)`).Scan(&to)
			exec(`UPDATE core.card_account SET party_id = ? WHERE card_account_id = ?`, to, acct)
			// and a company moves to an industry with another outlook: a
			// change industry_outlook sees through the column it joins on
			// (USING (division)), which it names nowhere else
			var company, code, outlook string
			sqltest.Row(t, w.DB(), `WITH o AS (SELECT i.party_id, i.industry_code, o.outlook FROM core.party_industry i JOIN core.industry_outlook o USING (division))
				SELECT a.party_id, b.industry_code, b.outlook FROM o a JOIN o b ON a.outlook <> b.outlook ORDER BY a.party_id, b.party_id LIMIT 1`).Scan(&company, &code, &outlook)
			exec(`UPDATE core.company_profile SET industry_code = ? WHERE party_id = ?`, code, company)
			exec(`UPDATE core.party SET industry_code = ? WHERE party_id = ?`, code, company)
			check = func() {
				if got := value(to, "card_count"); got != "1" {
					t.Errorf("day %d: %s was given a card account, its card_count is %s", i+1, to, got)
				}
				if got := value(company, "industry_outlook"); got != outlook {
					t.Errorf("day %d: %s moved to industry %s, its industry_outlook is %s, want %s", i+1, company, code, got, outlook)
				}
			}
		case 4:
			cat = withChange
		case 5: // gender is switched off while another person's flips
			cat = &tags.Catalog{}
			for _, tg := range withChange.Tags {
				if tg.ID != "gender" {
					cat.Tags = append(cat.Tags, tg)
				}
			}
			sqltest.Row(t, w.DB(), `SELECT party_id, gender FROM core.party WHERE party_type = 'P' AND gender IS NOT NULL ORDER BY party_id DESC LIMIT 1`).Scan(&offPerson, &offGender)
			offGender = map[string]string{"M": "F", "F": "M"}[offGender]
			exec(`UPDATE core.party SET gender = ? WHERE party_id = ?`, offGender, offPerson)
		case 6: // and back on, with the SQL it had: it catches up with the flip
			cat = withChange
			check = func() {
				if got := value(offPerson, "gender"); got != offGender {
					t.Errorf("day %d: %s's gender flipped while the tag was off; its tag is %s, want %s", i+1, offPerson, got, offGender)
				}
			}
		}
		s, err := tags.Run(ctx, w, cat, tags.RunOptions{Logger: quiet})
		if err != nil {
			t.Fatalf("day %d: %v", i+1, err)
		}
		sqltest.Row(t, w.DB(), `SELECT count(*) FROM core.party`).Scan(&parties)
		if s.Partial > 0 {
			partialDays++
			if s.PartialParties == 0 || s.PartialParties >= parties {
				t.Errorf("day %d: %d tags computed for %d changed parties of %d", i+1, s.Partial, s.PartialParties, parties)
			}
		}
		// a tag over a day window, one over a snapshot, the two-day one
		if i > 0 {
			for _, id := range []string{"card_txn_count", "aum", "test_two_days"} {
				if !slices.Contains(s.PartialTags, id) {
					t.Errorf("day %d: %s was computed for every party (for changed parties only: %v)", i+1, id, s.PartialTags)
				} else if !slices.Contains(s.Filtered, id) {
					t.Errorf("day %d: %s read every party's rows (read filtered to the changed parties: %v)", i+1, id, s.Filtered)
				}
			}
		}
		// and every one of them read its tables filtered to the changed parties
		if rest := slices.DeleteFunc(slices.Clone(s.PartialTags), func(id string) bool { return slices.Contains(s.Filtered, id) }); len(rest) > 0 {
			t.Errorf("day %d: %d tags computed for changed parties read every party's rows: %v", i+1, len(rest), rest)
		}
		if i == 0 && s.Partial != 0 {
			t.Errorf("the first run computed %d tags for changed parties only", s.Partial)
		}
		if check != nil {
			check()
		}
		if i == 4 {
			var n int64
			sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tags WHERE tag_id = 'test_row_print'`).Scan(&n)
			if n != parties {
				t.Errorf("day %d: the new tag has %d values for %d parties", i+1, n, parties)
			}
		}
		counted(t, w.DB(), fmt.Sprintf("day %d", i+1), s)
		if i == 0 {
			var n int64
			sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tags`).Scan(&n)
			if s.Values != n || s.Changes != n {
				t.Errorf("the first run: %d values, %d changes; mart.tags holds %d", s.Values, s.Changes, n)
			}
		}
		full, err := tags.Run(ctx, w, cat, tags.RunOptions{Full: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		counted(t, w.DB(), fmt.Sprintf("day %d, full", i+1), full)
		// (a full run computes every tag of the catalog for every party)
		var current int64
		ids := make([]string, len(cat.Tags))
		for j, tg := range cat.Tags {
			ids[j] = tg.ID
		}
		sqltest.Row(t, w.DB(), `SELECT count(*) FROM mart.tags WHERE tag_id IN (SELECT unnest(string_split(?, ',')))`, strings.Join(ids, ",")).Scan(&current)
		if full.Values != current {
			t.Errorf("day %d: a full run computed %d values; the catalog's tags have %d", i+1, full.Values, current)
		}
		if full.Changes != 0 {
			t.Errorf("day %d (%d tags computed for %d changed parties only): a full run over the same state changes %d values: %v",
				i+1, s.Partial, s.PartialParties, full.Changes, full.ByTag)
		}
	}
	// The tables every party-scoped tag reads through day windows were
	// printed over the longest window's rows (and the week above held).
	for tb, want := range map[string]string{"core.activity_day": "(the rows of 90 days by day)", "core.settlement": "(the rows of 90 days by txn_time)",
		"core.party": ""} {
		var def string
		sqltest.Row(t, w.DB(), `SELECT columns FROM ops.party_print_columns WHERE table_name = ?`, tb).Scan(&def)
		windowed := strings.Contains(def, "(the rows of")
		if want == "" && windowed || want != "" && !strings.HasSuffix(def, want) {
			t.Errorf("%s printed over %q; want %q", tb, def[strings.LastIndex(def, ",")+1:], want)
		}
	}
	if partialDays < 4 {
		t.Errorf("party-scoped tags were computed for changed parties only on %d of %d days", partialDays, len(days)-1)
	}
}

// counted checks a run's summary against what it wrote: its changes are
// its rows of mart.tag_changes (of the baseline run, its history's), by
// tag as ByTag says, and ops.tag_runs has its figures.
func counted(t *testing.T, db *sql.DB, run string, s *tags.RunSummary) {
	t.Helper()
	var changes, values, logged int64
	log := "mart.tag_changes"
	if s.Baseline {
		log = "mart.tag_history"
	}
	sqltest.Row(t, db, `SELECT count(*) FROM `+log+` WHERE run_id = ?`, s.RunID).Scan(&changes)
	sqltest.Row(t, db, `SELECT values_set, changes FROM ops.tag_runs WHERE run_id = ?`, s.RunID).Scan(&values, &logged)
	byTag := 0
	for _, n := range s.ByTag {
		byTag += n
	}
	if s.Changes != changes || int64(byTag) != changes || logged != changes || values != s.Values {
		t.Errorf("%s: summary says %d changes (%d by tag) and %d values; %s has %d, ops.tag_runs %d and %d",
			run, s.Changes, byTag, s.Values, log, changes, logged, values)
	}
}
