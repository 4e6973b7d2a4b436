package tags_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/core"
	"cdp/transforms/tags"
	"cdp/warehouse"
)

// TestScope_APartyTagReadsItsPartysRowsAlone: with the rows of all but
// an eighth of the parties gone from every table keyed by party (those
// without a party too), each tag declared scope: party gives that eighth
// exactly the values it gave them with the whole bank. That is what lets a
// run compute such a tag for the parties whose rows changed only, reading
// their rows alone (restrictToParties filters the tables exactly so). Some
// tags declared bank do change: the check has teeth.
func TestScope_APartyTagReadsItsPartysRowsAlone(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 5})
	ctx, db := context.Background(), b.W.DB()
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var asOf string
	sqltest.Row(t, db, `SELECT CAST(max(as_of_date) AS VARCHAR) FROM core.aum_daily`).Scan(&asOf)
	// Each snapshot day a date, as a run has it (read once, from the whole bank).
	vars := core.AsOfFixed(ctx, db, asOf)
	compute := func(table string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE main.`+table+` (party_id VARCHAR, tag_id VARCHAR, value VARCHAR)`); err != nil {
			t.Fatal(err)
		}
		for _, tg := range cat.Tags {
			q, err := tg.Fill(vars)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO main.%s SELECT party_id, %s, CAST(value AS VARCHAR) FROM (%s) WHERE party_id IS NOT NULL`,
				table, warehouse.Literal(tg.ID), q)); err != nil {
				t.Fatalf("%s: %v", tg.ID, err)
			}
		}
	}
	compute("whole_bank")

	// Every base table keyed by party keeps the rows of an eighth of the parties.
	kept := `hash(party_id) % 8 = 0`
	gone := `party_id IS NULL OR NOT (` + kept + `)`
	var tables []string
	for scan := range sqltest.Rows(t, db, `SELECT schema_name || '.' || table_name FROM duckdb_columns() c
		WHERE column_name = 'party_id' AND database_name = current_database() AND schema_name NOT IN ('main', 'ops')
		  AND EXISTS (SELECT 1 FROM duckdb_tables() d WHERE d.database_name = c.database_name AND d.schema_name = c.schema_name AND d.table_name = c.table_name)`) {
		var tb string
		scan(&tb)
		tables = append(tables, tb)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables keyed by party: %v", len(tables), tables)
	}
	for _, tb := range tables {
		if _, err := db.ExecContext(ctx, `DELETE FROM `+tb+` WHERE `+gone); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
	}
	compute("half_bank")

	differ := map[string]int{}
	for scan := range sqltest.Rows(t, db, `SELECT coalesce(a.tag_id, b.tag_id), count(*) FROM main.whole_bank a
		FULL JOIN main.half_bank b ON a.party_id = b.party_id AND a.tag_id = b.tag_id
		WHERE hash(coalesce(a.party_id, b.party_id)) % 8 = 0 AND a.value IS DISTINCT FROM b.value
		GROUP BY ALL`) {
		var tag string
		var n int
		scan(&tag, &n)
		differ[tag] = n
	}
	var party, bankMoved, couldBe []string
	for _, tg := range cat.Tags {
		switch {
		case tg.Scope == tags.PartyScope:
			party = append(party, tg.ID)
			if n := differ[tg.ID]; n > 0 {
				t.Errorf("%s (scope: party) gave %d of the remaining parties another value without the others' rows", tg.ID, n)
			}
		case differ[tg.ID] > 0:
			bankMoved = append(bankMoved, tg.ID)
		case tg.Reads == tags.Current:
			couldBe = append(couldBe, tg.ID)
		}
	}
	if len(party) == 0 || len(bankMoved) == 0 {
		t.Errorf("%d tags declared party, %d bank-scoped tags moved: the check has no teeth", len(party), len(bankMoved))
	}
	t.Logf("%d party-scoped tags hold; bank-scoped tags that moved: %s; current bank-scoped tags that did not: %s",
		len(party), strings.Join(bankMoved, ", "), strings.Join(couldBe, ", "))
}
