package warehouse

import (
	"strings"
	"testing"

	"cdp/internal/sqltest"
)

// core.team_as_of picks the latest roster before it resolves the parties
// (0027); it must answer exactly as 0019's definition, which resolved every
// delivered row first, on rosters of several days whose rows name their
// party directly, through a merged-away party, through a source key, or
// not at all, with assignments that start, end or repeat.
func TestTeamAsOf_AnswersAsTheFirstDefinition(t *testing.T) {
	w := openTemp(t)
	db := w.DB()

	b, err := migrationFiles.ReadFile("migrations/0019_service_teams.sql")
	if err != nil {
		t.Fatal(err)
	}
	const head = "CREATE OR REPLACE MACRO core.team_as_of(d) AS TABLE"
	first, ok := strings.CutPrefix(string(b)[strings.Index(string(b), head):], head)
	if !ok {
		t.Fatal("0019 no longer defines core.team_as_of")
	}
	first = first[:strings.Index(first, ";\n")]

	for _, q := range []string{
		"CREATE TEMP MACRO team_0019(d) AS TABLE " + first,
		`INSERT INTO core.party (party_id, party_type, name, rm_id, source_records, fingerprint)
		 SELECT 'P' || i, 'P', 'n', CASE i % 3 WHEN 0 THEN 'RM' || i WHEN 1 THEN NULL ELSE '' END, 1, i
		 FROM range(200) r(i)`,
		// Merged-away parties, one of them twice (the successor took most records).
		`INSERT INTO ops.identity_events (run_id, happened_at, kind, old_party_id, new_party_id, records)
		 SELECT 'u1', TIMESTAMPTZ '2026-11-01 00:00:00+00', 'merge', 'M' || i, 'P' || (i * 7 % 200), 1 + i % 3 FROM range(20) r(i)
		 UNION ALL SELECT 'u2', TIMESTAMPTZ '2026-11-02 00:00:00+00', 'merge', 'M3', 'P150', 9`,
		`INSERT INTO core.party_xref (system, source_key, party_id, party_type, rule, score, record_hash)
		 SELECT 'card', 'K' || i, 'P' || (i * 3 % 200), 'P', 'alone', 0, i FROM range(150) r(i)`,
		// Three dated rosters and one file without a date; each row names its
		// party one of four ways, by i % 4.
		`INSERT INTO raw.contact_team (assignment_id, party_id, system, source_key, member_id, role, valid_from, valid_to, _source)
		 SELECT 'A' || f.day || '-' || i,
		        CASE i % 4 WHEN 0 THEN 'P' || (i % 200) WHEN 1 THEN 'M' || (i % 25) WHEN 3 THEN 'X' || i END,
		        CASE WHEN i % 4 IN (1, 2) THEN 'card' END, CASE WHEN i % 4 IN (1, 2) THEN 'K' || (i % 170) END,
		        'S' || (hash(i, f.day) % 15),
		        ['RM', 'PRODUCT', 'RISK', 'INVESTMENT_BANKING', 'ADVISOR'][1 + i % 5],
		        CASE hash(i, f.day, 'from') % 4 WHEN 0 THEN NULL ELSE DATE '2026-10-25' + CAST(hash(i, f.day, 'f') % 30 AS INTEGER) END,
		        CASE hash(i, f.day, 'to') % 3 WHEN 0 THEN NULL ELSE DATE '2026-11-05' + CAST(hash(i, f.day, 't') % 30 AS INTEGER) END,
		        'contact/' || f.file || ':' || (i + 2)
		 FROM (VALUES ('20261101', 'team_20261101.csv'), ('20261110', 'team_20261110.csv'),
		              ('20261120', 'team_20261120.csv'), ('x', 'team_latest.csv')) f(day, file),
		      range(400) r(i)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	for _, day := range []string{"2026-10-31", "2026-11-01", "2026-11-05", "2026-11-10", "2026-11-19", "2026-11-20", "2026-12-31"} {
		var rosterRows, goldenRows, onlyNew, onlyFirst int
		sqltest.Row(t, db, `SELECT count(*) FILTER (source = 'roster'), count(*) FILTER (source = 'golden_record')
			FROM core.team_as_of(DATE '`+day+`')`).Scan(&rosterRows, &goldenRows)
		sqltest.Row(t, db, `SELECT
			(SELECT count(*) FROM (FROM core.team_as_of(DATE '`+day+`') EXCEPT ALL FROM team_0019(DATE '`+day+`'))),
			(SELECT count(*) FROM (FROM team_0019(DATE '`+day+`') EXCEPT ALL FROM core.team_as_of(DATE '`+day+`')))`).Scan(&onlyNew, &onlyFirst)
		if onlyNew != 0 || onlyFirst != 0 {
			t.Errorf("team on %s: %d rows only in 0027's answer, %d only in 0019's", day, onlyNew, onlyFirst)
		}
		if goldenRows == 0 || (day > "2026-11-01" && rosterRows == 0) {
			t.Errorf("team on %s: %d roster rows and %d golden-record rows: the data plants neither", day, rosterRows, goldenRows)
		}
	}
}
