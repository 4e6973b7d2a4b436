package tags

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"cdp/warehouse"
)

// TestRestrictToParties_FiltersTheTablesKeyedByPartyAndNothingElse: each
// table keyed by party a query names is read through the filter to the
// parties, under its own name or alias, whatever the SQL around it (quotes,
// blanks around the dot, a CTE of the same name, comments in Chinese before
// it); what the rewrite cannot be sure of is left as written, with why; and
// a rewritten query gives the parties exactly the rows the query as written
// gives them.
func TestRestrictToParties_FiltersTheTablesKeyedByPartyAndNothingElse(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS core`,
		`CREATE TABLE core.t AS SELECT * FROM (VALUES ('p1', 1), ('p1', 2), ('p2', 5), ('p3', 7), (NULL, 9)) v(party_id, x)`,
		`CREATE TABLE core.u AS SELECT * FROM (VALUES ('p1', 'a'), ('p3', 'b'), ('p4', 'c')) v(party_id, y)`,
		`CREATE TABLE core.ref AS SELECT * FROM (VALUES (1, 'one'), (7, 'seven')) v(x, label)`,
		`CREATE TEMP TABLE some_parties AS SELECT * FROM (VALUES ('p1'), ('p3')) v(party_id)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	keyed := map[string]bool{"core.t": true, "core.u": true}
	for _, c := range []struct {
		name, sql string
		want      []string // in the rewrite; nil: left as written
	}{
		{"no alias", `SELECT party_id, sum(x) AS value FROM core.t GROUP BY party_id`,
			[]string{`(SELECT * FROM core.t WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) AS "t"`}},
		{"quoted, aliased, blanks, a comment in Chinese", "SELECT a.party_id, count(b.y) AS value -- 客户的\nFROM \"core\".\"t\" a LEFT JOIN core . u AS b USING (party_id) GROUP BY 1",
			[]string{`(SELECT * FROM "core"."t" WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) a`,
				`(SELECT * FROM core . u WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) AS b`}},
		{"a CTE of the same name, a table not keyed", `WITH t AS (SELECT * FROM core.t) SELECT t.party_id, max(r.label) AS value FROM t JOIN core.ref r USING (x) GROUP BY 1`,
			[]string{`WITH t AS (SELECT * FROM (SELECT * FROM core.t WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) AS "t")`, `JOIN core.ref r`}},
		{"a correlated subquery, the table as a row", `SELECT party_id, CAST(t AS VARCHAR) AS value FROM core.t WHERE x IN (SELECT x FROM core.t o WHERE o.party_id = t.party_id AND o.x > 1)`,
			[]string{`FROM (SELECT * FROM core.t WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) AS "t" WHERE x IN (SELECT x FROM (SELECT * FROM core.t WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) o WHERE`}},
		{"a CTE named as the parties' table", `WITH some_parties AS (SELECT 'p4' AS party_id) SELECT party_id, x AS value FROM core.t`,
			[]string{`WITH some_parties AS (SELECT 'p4' AS party_id) SELECT party_id, x AS value FROM (SELECT * FROM core.t WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)) AS "t"`}},
		{"a column named with its schema", `SELECT core.t.party_id, core.t.x AS value FROM core.t`, nil},
		{"a sample", `SELECT party_id, x AS value FROM core.t USING SAMPLE 50%`, nil},
		{"no table keyed by party", `SELECT 'p1' AS party_id, label AS value FROM core.ref`, nil},
		{"does not parse", `SELECT party_id FROM core.t WHERE`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, why, err := restrictToParties(ctx, conn, c.sql, keyed, "some_parties")
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if out != "" || why == "" {
					t.Fatalf("rewritten (%q) or no reason given (%q)", out, why)
				}
				return
			}
			if out == "" {
				t.Fatalf("left as written: %s", why)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q lacks %q", out, w)
				}
			}
			var differ int
			filtered := func(q string) string {
				return `SELECT party_id, CAST(value AS VARCHAR) FROM (` + q + `) WHERE party_id IN (SELECT party_id FROM temp.main.some_parties)`
			}
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM ((`+filtered(c.sql)+` EXCEPT ALL `+filtered(out)+`)
				UNION ALL (`+filtered(out)+` EXCEPT ALL `+filtered(c.sql)+`))`).Scan(&differ); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if differ != 0 {
				t.Errorf("%d rows differ between %q and %q", differ, c.sql, out)
			}
		})
	}
}
