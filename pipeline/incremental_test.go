package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/pipeline"
	"cdp/transforms/tags"
)

// TestDAG_AWeekOfIncrementalDaysEqualsAFullRecompute delivers a week day by
// day to a bank where 30% of the parties act on a day (so rows enter and
// leave the tags' windows on days a party does nothing), runs the DAG on
// each day as the daemon does — the core model, the tags (per party where
// they can), the tiers (the contribution month by month) and the 360
// catching up — and changes the tag catalog on the sixth day (a project
// tag over a window, a built-in tag replaced with other SQL). Then it
// recomputes the same state in full (the core model from raw, every tag for
// every party, every month's contribution, the 360) and finds every table
// of the core model and the mart as the incremental days left it, row for
// row.
func TestDAG_AWeekOfIncrementalDaysEqualsAFullRecompute(t *testing.T) {
	days := []string{"2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}
	b := testbank.Generate(t, testbank.Options{Parties: 600, Days: len(days), Seed: 23, Activity: 0.3})
	held := b.HoldBack(t, days[1:]...)
	ctx, db := context.Background(), b.W.DB()

	folder := t.TempDir()
	catalog := []byte(`category: behaviour
owner: test
tags:
  - id: test_logins_7d
    name_zh: 近7天登录次数
    name_en: Logins, 7 days
    type: int
    description: e-banking logins in the 7 days up to the as-of day
    scope: party
    windows: [{table: core.activity_day, column: day, days: 7}]
    sql: |
      SELECT party_id, sum(logins) AS value FROM core.activity_day
      WHERE src = 'ebank' AND party_id IS NOT NULL AND day BETWEEN {as_of} - 6 AND {as_of} GROUP BY party_id
  - id: login_count
    replaces: true
    name_zh: 近30天登录次数
    name_en: Logins, 30 days
    type: int
    description: logins, counted from their own column
    reads: dated
    scope: party
    windows: [{table: core.activity_day, column: day, days: 30}]
    sql: |
      SELECT party_id, sum(logins) FILTER (logins > 0) AS value FROM core.activity_day
      WHERE src = 'ebank' AND party_id IS NOT NULL AND day BETWEEN {as_of} - 29 AND {as_of} GROUP BY party_id
`)
	run := func(full bool, catalogs []string, stages ...string) []pipeline.Result {
		t.Helper()
		env := b.Env()
		env.Full, env.Catalogs = full, catalogs
		var out []pipeline.Result
		for _, s := range stages {
			res, err := pipeline.Run(ctx, env, s)
			if err != nil {
				t.Fatalf("%s (full %t): %v", s, full, err)
			}
			out = append(out, res)
		}
		return out
	}
	var catalogs []string
	partial := 0
	for i, day := range days {
		if i > 0 {
			held.Deliver(t, day)
		}
		if i == 5 {
			if err := os.WriteFile(filepath.Join(folder, "project.yaml"), catalog, 0o644); err != nil {
				t.Fatal(err)
			}
			catalogs = []string{folder}
		}
		res := run(false, catalogs, "ingest", "unify", "model", "tags", "tiers", "view")
		s := res[3].Summary.(*tags.RunSummary)
		if s.AsOf != day {
			t.Fatalf("the tag run after delivering %s is as of %s", day, s.AsOf)
		}
		// tags over a day window and a snapshot computed for changed
		// parties, and the project's seven-day tag once it has a last run
		want := []string{"login_count", "card_spend_cny", "aum_band"}
		if i == 6 {
			want = append(want, "test_logins_7d")
		}
		for _, id := range want {
			if i > 0 && i != 5 && !slices.Contains(s.PartialTags, id) {
				t.Errorf("%s: %s was computed for every party (for changed parties only: %v)", day, id, s.PartialTags)
			} else if i > 0 && i != 5 && !slices.Contains(s.Filtered, id) {
				t.Errorf("%s: %s read every party's rows (read filtered to the changed parties: %v)", day, id, s.Filtered)
			}
		}
		if len(s.PartialTags) > 0 {
			partial++
		}
		// and every tag's value that of its SQL over the day's tables
		env := b.Env()
		env.Catalogs = catalogs
		cat, err := env.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := time.Parse(time.DateOnly, day)
		ev, err := tags.Eval(ctx, b.W, cat, tags.EvalOptions{AsOf: d, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev.Tags {
			if e.Differ != 0 {
				t.Errorf("%s: %s: %d of %d parties' values are not those of its SQL over the day's tables", day, e.ID, e.Differ, e.Recorded)
			}
		}
	}
	if partial < len(days)-1 {
		t.Errorf("tags were computed for changed parties on %d of %d days", partial, len(days)-1)
	}

	// The incremental days' tables, kept aside.
	tables := map[string][]string{} // "schema.table" → its columns, less the run's own stamps
	for scan := range sqltest.Rows(t, db, `SELECT schema_name || '.' || table_name, list(column_name ORDER BY column_index)
		FROM duckdb_columns() c WHERE database_name = current_database() AND schema_name IN ('core', 'mart')
		  AND EXISTS (SELECT 1 FROM duckdb_tables() d WHERE d.database_name = c.database_name AND d.schema_name = c.schema_name AND d.table_name = c.table_name)
		GROUP BY ALL ORDER BY 1`) {
		var table string
		var cols []any
		scan(&table, &cols)
		for _, c := range cols {
			if name := c.(string); !stamp(name) {
				tables[table] = append(tables[table], `"`+name+`"`)
			}
		}
	}
	if len(tables) < 30 {
		t.Fatalf("only %d tables in core and mart", len(tables))
	}
	sqltest.Exec(t, db, `CREATE SCHEMA kept`)
	kept := func(table string) string { return `kept."` + strings.ReplaceAll(table, ".", "__") + `"` }
	for table, cols := range tables {
		sqltest.Exec(t, db, fmt.Sprintf(`CREATE TABLE %s AS SELECT %s FROM %s`, kept(table), strings.Join(cols, ", "), table))
	}

	res := run(true, catalogs, "model", "tags", "tiers", "view")
	if s := res[1].Summary.(*tags.RunSummary); s.Changes != 0 {
		t.Errorf("every tag computed for every party changes %d values: %v", s.Changes, s.ByTag)
	}
	compared := 0
	for table, cols := range tables {
		var gone, added, rows int64
		list := strings.Join(cols, ", ")
		sqltest.Row(t, db, fmt.Sprintf(`SELECT
			(SELECT count(*) FROM (SELECT * FROM %[1]s EXCEPT ALL SELECT %[2]s FROM %[3]s)),
			(SELECT count(*) FROM (SELECT %[2]s FROM %[3]s EXCEPT ALL SELECT * FROM %[1]s)),
			(SELECT count(*) FROM %[1]s)`, kept(table), list, table)).Scan(&gone, &added, &rows)
		if gone > 0 || added > 0 {
			t.Errorf("%s: the full recompute has %d rows the incremental days did not leave, and lacks %d of their %d", table, added, gone, rows)
		}
		if rows > 0 {
			compared++
		}
	}
	if compared < 25 {
		t.Errorf("only %d of %d tables have rows to compare", compared, len(tables))
	}
}

// stamp says whether a column records the run rather than the data: when
// it was built, by which run, from which load.
func stamp(column string) bool {
	switch column {
	case "run_id", "load_id", "built_at", "computed_at", "updated_at", "created_at", "loaded_at":
		return true
	}
	return false
}
