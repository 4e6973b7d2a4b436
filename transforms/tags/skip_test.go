package tags_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestRun_SkipsTagsWhoseInputsAreUnchanged: a run skips exactly the tags
// whose SQL and input tables are as when they were last computed, computes
// the others, and misses nothing: a full run afterwards finds no change.
func TestRun_SkipsTagsWhoseInputsAreUnchanged(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 5})
	ctx, w := context.Background(), b.W
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	run := func(full bool) *tags.RunSummary {
		t.Helper()
		s, err := tags.Run(ctx, w, cat, tags.RunOptions{Full: full, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := run(false); s.Unchanged != 0 || s.Values == 0 {
		t.Fatalf("first run skipped %d tags, computed %d values; want none skipped", s.Unchanged, s.Values)
	}
	if s := run(false); s.Unchanged != len(cat.Tags) || s.Values != 0 || s.Changes != 0 {
		t.Errorf("run over unchanged inputs: skipped %d of %d tags, %d values, %d changes; want all skipped",
			s.Unchanged, len(cat.Tags), s.Values, s.Changes)
	}

	// One person's gender changes in core.party: the tags reading core.party
	// are computed again, the others skipped, and the change is recorded.
	var person, gender string
	if err := w.DB().QueryRow(`SELECT party_id, gender FROM core.party WHERE party_type = 'P' AND gender IS NOT NULL ORDER BY party_id LIMIT 1`).Scan(&person, &gender); err != nil {
		t.Fatal(err)
	}
	flipped := map[string]string{"M": "F", "F": "M"}[gender]
	if _, err := w.DB().Exec(`UPDATE core.party SET gender = ? WHERE party_id = ?`, flipped, person); err != nil {
		t.Fatal(err)
	}
	readers, reads := 0, regexp.MustCompile(`core\.party\b`)
	for _, tg := range cat.Tags {
		if reads.MatchString(tg.SQL) {
			readers++
		}
	}
	s := run(false)
	if s.Unchanged != len(cat.Tags)-readers || s.ByTag["gender"] != 1 {
		t.Errorf("after a change to core.party: skipped %d, want %d (the tags not reading it); gender changes %d, want 1",
			s.Unchanged, len(cat.Tags)-readers, s.ByTag["gender"])
	}
	var now string
	sqltest.Row(t, w.DB(), `SELECT value FROM mart.tags WHERE party_id = ? AND tag_id = 'gender'`, person).Scan(&now)
	if now != flipped {
		t.Errorf("%s's gender tag is %q, want %q", person, now, flipped)
	}

	// A new row: core.party's count changed, which proves it changed without
	// reading it, so its readers run. The next run reads it once to learn its
	// print (and computes its readers once more, changing nothing); the one
	// after skips every tag.
	if _, err := w.DB().Exec(`INSERT INTO core.party SELECT * REPLACE (party_id || 'X' AS party_id) FROM core.party WHERE party_id = ?`, person); err != nil {
		t.Fatal(err)
	}
	s = run(false)
	var print string
	sqltest.Row(t, w.DB(), `SELECT print FROM ops.table_prints WHERE table_name = 'core.party'`).Scan(&print)
	if s.Unchanged != len(cat.Tags)-readers || s.ByTag["gender"] != 1 || !strings.Contains(print, "changed in") {
		t.Errorf("after a new row in core.party: skipped %d, want %d; gender changes %d, want 1; its print %q, want one of a changed count",
			s.Unchanged, len(cat.Tags)-readers, s.ByTag["gender"], print)
	}
	if s := run(false); s.Unchanged != len(cat.Tags)-readers || s.Changes != 0 {
		t.Errorf("the run after: skipped %d, want %d; %d changes, want 0", s.Unchanged, len(cat.Tags)-readers, s.Changes)
	}
	if s := run(false); s.Unchanged != len(cat.Tags) {
		t.Errorf("the run after that: skipped %d, want all %d", s.Unchanged, len(cat.Tags))
	}
	if s := run(true); s.Unchanged != 0 || s.Changes != 0 {
		t.Errorf("full run after skipping runs: skipped %d, %d changes; want none of either", s.Unchanged, s.Changes)
	}

	// A tag calling a function whose result changes by itself is computed
	// every run; a CTE's name is not taken for a table.
	own, err := tags.Load(fstest.MapFS{"x.yaml": {Data: []byte(`category: natural
owner: test
tags:
  - id: test_people
    name_zh: 测
    name_en: People
    type: int
    description: d
    sql: |
      WITH people AS (SELECT party_id FROM core.party WHERE party_type = 'P')
      SELECT party_id, 1 AS value FROM people
  - id: test_days_old
    name_zh: 测
    name_en: Days
    type: int
    description: d
    sql: |
      SELECT party_id, date_diff('day', DATE '2020-01-01', current_date) AS value FROM core.party
`)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 1, 1} {
		s, err := tags.Run(ctx, w, own, tags.RunOptions{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && s.Unchanged != want || i == 0 && s.Values == 0 {
			t.Errorf("own catalog, run %d: skipped %d, want %d (test_days_old reads current_date)", i+1, s.Unchanged, want)
		}
	}
}
