package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/pipeline"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/transforms/view"
	"cdp/warehouse"
)

// martBank is a generated bank taken through every stage that fills core
// and mart: unify, model, tags, tiers, the 360 view and signals.
func martBank(t *testing.T) *testbank.Bank {
	t.Helper()
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 9})
	ctx := context.Background()
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Run(ctx, b.W, cat, tags.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	if _, err := tiers.Build(ctx, b.W, b.Project.Tiers, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	if _, err := view.Build(ctx, b.W, view.Options{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	rules, err := signals.Load(signals.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signals.Run(ctx, b.W, rules, b.Project.Signals, signals.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	return b
}

// coreAndMartTables lists the warehouse's core and mart tables with their rows.
func coreAndMartTables(t *testing.T, w *warehouse.Warehouse) map[string]int64 {
	t.Helper()
	var names []string
	for scan := range sqltest.Rows(t, w.DB(), `SELECT schema_name || '.' || table_name FROM duckdb_tables()
		WHERE schema_name IN ('core', 'mart') AND NOT temporary`) {
		var n string
		scan(&n)
		names = append(names, n)
	}
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := w.DB().QueryRow(`SELECT count(*) FROM ` + n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// readBack reads a table's partitions the way a DuckDB user would and
// returns its rows and the dt partitions seen (dt must read as a DATE).
func readBack(t *testing.T, w *warehouse.Warehouse, dir, table string) (rows int64, dates string) {
	t.Helper()
	glob := filepath.Join(dir, strings.Replace(table, ".", "/", 1), "*", "*.parquet")
	err := w.DB().QueryRow(`SELECT count(*), coalesce(array_to_string(list_sort(list(DISTINCT strftime(dt, '%Y-%m-%d'))), ','), '')
		FROM read_parquet(`+warehouse.Literal(glob)+`, hive_partitioning = true)`).Scan(&rows, &dates)
	if err != nil {
		t.Fatalf("read back %s: %v", table, err)
	}
	return rows, dates
}

// visible lists what a reader of dir sees: every file outside hidden
// folders, relative to dir.
func visible(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != dir {
			out = append(out, "hidden folder "+d.Name())
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			info, _ := d.Info()
			out = append(out, rel+" "+info.ModTime().String())
		}
		return nil
	})
	return out
}

func exportOK(t *testing.T, w *warehouse.Warehouse, o warehouse.ExportOptions) warehouse.ExportReport {
	t.Helper()
	o.Logger = testbank.Quiet
	if o.Date.IsZero() {
		o.Date = businessDay(t, w)
	}
	rep, err := w.Export(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// businessDay is the warehouse's business date, which labels an export.
func businessDay(t *testing.T, w *warehouse.Warehouse) time.Time {
	t.Helper()
	day, err := pipeline.BusinessDay(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	return day
}

func TestExport(t *testing.T) {
	started := time.Now()
	b := martBank(t)
	t.Logf("test bank built in %.1fs", time.Since(started).Seconds())
	want := coreAndMartTables(t, b.W)
	if want["mart.customer_360"] == 0 || want["core.party"] == 0 || want["mart.tags"] == 0 {
		t.Fatalf("the test bank lacks a built mart: %v", want)
	}
	dir := filepath.Join(t.TempDir(), "export")
	const day = "2026-11-20" // the bank's newest snapshot day

	t.Run("EveryCoreAndMartTableReadsBackWithItsRowsAndDate", func(t *testing.T) {
		rep := exportOK(t, b.W, warehouse.ExportOptions{Dir: dir})
		t.Logf("exported %d tables, %d rows, %d bytes in %.2fs", len(rep.Tables), rep.Rows, rep.Bytes, rep.Seconds)
		if rep.Date != day {
			t.Errorf("date %s, want the newest snapshot day %s", rep.Date, day)
		}
		if len(rep.Tables) != len(want) {
			t.Errorf("exported %d tables, want %d", len(rep.Tables), len(want))
		}
		for _, et := range rep.Tables {
			if et.Rows != want[et.Table] || et.Files < 1 || et.Bytes == 0 || len(et.Columns) == 0 || et.Replaced {
				t.Errorf("%s: report %+v, want %d rows", et.Table, et, want[et.Table])
			}
		}
		for table, n := range want {
			rows, dates := readBack(t, b.W, dir, table)
			if rows != n || (n > 0 && dates != day) {
				t.Errorf("%s read back: %d rows in dt=%q, want %d in %s", table, rows, dates, n, day)
			}
		}
		var m warehouse.ExportManifest
		raw, err := os.ReadFile(warehouse.ManifestPath(dir, day))
		if err != nil || json.Unmarshal(raw, &m) != nil || len(m.Tables) != len(want) || m.Date != day {
			t.Errorf("manifest %s: %v %s", warehouse.ManifestPath(dir, day), err, raw)
		}
	})

	t.Run("ReExportOfTheSameDateReplacesItsPartition", func(t *testing.T) {
		rep := exportOK(t, b.W, warehouse.ExportOptions{Dir: dir})
		for _, et := range rep.Tables {
			if !et.Replaced {
				t.Errorf("%s: not marked replaced", et.Table)
			}
		}
		for table, n := range want {
			if rows, _ := readBack(t, b.W, dir, table); rows != n {
				t.Errorf("%s after a re-export: %d rows, want %d", table, rows, n)
			}
		}
	})

	t.Run("AnExportOfSomeTablesKeepsTheOthersInTheManifest", func(t *testing.T) {
		exportOK(t, b.W, warehouse.ExportOptions{Dir: dir, Tables: []string{"core.party"}})
		var m warehouse.ExportManifest
		raw, err := os.ReadFile(warehouse.ManifestPath(dir, day))
		if err != nil || json.Unmarshal(raw, &m) != nil || len(m.Tables) != len(want) {
			t.Errorf("manifest after exporting core.party alone: %d tables, want %d (%v)", len(m.Tables), len(want), err)
		}
	})

	t.Run("AnotherDateAddsAPartitionBesideIt", func(t *testing.T) {
		exportOK(t, b.W, warehouse.ExportOptions{Dir: dir, Date: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
		for table, n := range want {
			rows, dates := readBack(t, b.W, dir, table)
			if rows != 2*n || (n > 0 && dates != day+",2026-11-21") {
				t.Errorf("%s over two dates: %d rows in dt=%q, want %d", table, rows, dates, 2*n)
			}
		}
		if _, err := os.Stat(warehouse.ManifestPath(dir, "2026-11-21")); err != nil {
			t.Error(err)
		}
	})

	t.Run("IDNumbersAndMobilesAreMaskedByDefault", func(t *testing.T) {
		rep := exportOK(t, b.W, warehouse.ExportOptions{Dir: t.TempDir(), Tables: []string{"core.party", "core.party_xref"}})
		masked := map[string]string{}
		for _, et := range rep.Tables {
			masked[et.Table] = strings.Join(et.Masked, ",")
		}
		if masked["core.party"] != "id_no,mobile" || masked["core.party_xref"] != "id_no,mobile,match_key,legal_rep_id" {
			t.Errorf("masked columns %v", masked)
		}
		full, shown := partyIdentity(t, b.W, rep.Dir)
		if len(shown) != len(full) {
			t.Fatalf("%d parties read back, want %d", len(shown), len(full))
		}
		for id, f := range full {
			if s := shown[id]; s != [2]string{maskID(f[0]), maskMobile(f[1])} {
				t.Fatalf("party %s: exported %q, want the masks of %q", id, s, f)
			}
		}
	})

	t.Run("NoFullIDNumberOrMobileAnywhereInTheExport", func(t *testing.T) {
		leaks := fullPII(t, b.W, dir, want)
		if len(leaks) > 0 {
			t.Errorf("full ID numbers or mobiles exported: %v", leaks)
		}
	})

	t.Run("UnmaskExportsFullValues", func(t *testing.T) {
		rep := exportOK(t, b.W, warehouse.ExportOptions{Dir: t.TempDir(), Tables: []string{"core.party"}, Unmask: true})
		if !rep.Unmasked || len(rep.Tables[0].Masked) != 0 || strings.Join(rep.Tables[0].Unmasked, ",") != "id_no,mobile" {
			t.Errorf("report %+v", rep)
		}
		full, shown := partyIdentity(t, b.W, rep.Dir)
		for id, f := range full {
			if shown[id] != f {
				t.Fatalf("party %s: exported %q, want %q", id, shown[id], f)
			}
		}
		// The scan the masking is checked with does find full values.
		if leaks := fullPII(t, b.W, rep.Dir, map[string]int64{"core.party": 0}); len(leaks) != 2 {
			t.Errorf("the PII scan of an unmasked core.party found %v, want id_no and mobile", leaks)
		}
	})

	t.Run("TableFilterSelectsByGlob", func(t *testing.T) {
		rep := exportOK(t, b.W, warehouse.ExportOptions{Dir: t.TempDir(), Tables: []string{"mart.*", "core.party"}})
		var got []string
		for _, et := range rep.Tables {
			got = append(got, et.Table)
			if !strings.HasPrefix(et.Table, "mart.") && et.Table != "core.party" {
				t.Errorf("%s exported, not selected", et.Table)
			}
		}
		if len(got) < 2 || got[0] != "core.party" {
			t.Errorf("exported %v", got)
		}
	})

	t.Run("AFilterThatMatchesNothingFailsAndWritesNothing", func(t *testing.T) {
		fresh := filepath.Join(t.TempDir(), "export")
		for _, o := range []warehouse.ExportOptions{
			{Dir: fresh, Date: businessDay(t, b.W), Tables: []string{"mart.*", "mart.customer360"}},
			{Dir: fresh, Date: businessDay(t, b.W), Schemas: []string{"raw"}},
			{Dir: fresh, Date: businessDay(t, b.W), Schemas: []string{"core"}, Tables: []string{"mart.tags"}},
		} {
			_, err := b.W.Export(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), "customer360") && !strings.Contains(err.Error(), `"raw"`) && !strings.Contains(err.Error(), "mart.tags") {
				t.Errorf("%+v: error %v, want one naming the filter", o, err)
			}
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("%s created: %v", fresh, err)
		}
	})

	t.Run("ACancelMidExportLeavesTheEarlierPartitionsAsTheyWere", func(t *testing.T) {
		before := visible(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := 0
		_, err := b.W.Export(ctx, warehouse.ExportOptions{Dir: dir, Date: businessDay(t, b.W), Logger: testbank.Quiet, Progress: func(table string, done, total int64) {
			if started++; started == 4 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if after := visible(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("the export folder changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
		}
		for table, n := range want {
			if rows, _ := readBack(t, b.W, dir, table); rows != 2*n {
				t.Errorf("%s after a cancelled export: %d rows, want %d", table, rows, 2*n)
			}
		}
	})

	t.Run("ACancelledFirstExportLeavesNoPartition", func(t *testing.T) {
		fresh := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := b.W.Export(ctx, warehouse.ExportOptions{Dir: fresh, Date: businessDay(t, b.W), Logger: testbank.Quiet, Progress: func(table string, done, total int64) {
			if table == "core.party" {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if v := visible(t, fresh); len(v) > 0 {
			t.Errorf("left behind: %v", v)
		}
	})
}

// partyIdentity reads core.party's ID numbers and mobiles from the
// warehouse and from an export of it, by party.
func partyIdentity(t *testing.T, w *warehouse.Warehouse, dir string) (full, exported map[string][2]string) {
	t.Helper()
	read := func(from string) map[string][2]string {
		out := map[string][2]string{}
		for scan := range sqltest.Rows(t, w.DB(), `SELECT party_id, coalesce(id_no, ''), coalesce(mobile, '') FROM `+from) {
			var id, idNo, mobile string
			scan(&id, &idNo, &mobile)
			out[id] = [2]string{idNo, mobile}
		}
		return out
	}
	return read("core.party"), read(`read_parquet(` + warehouse.Literal(filepath.Join(dir, "core/party/*/*.parquet")) + `)`)
}

// The masks of mart.customer_360, written again in Go.
func maskID(s string) string {
	switch {
	case len(s) > 10:
		return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
	default:
		return strings.Repeat("*", len(s))
	}
}

func maskMobile(s string) string {
	if len(s) > 7 {
		return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
	}
	return ""
}

// fullPII finds, in every text column of every exported table, values
// holding a whole resident ID number or mainland mobile.
func fullPII(t *testing.T, w *warehouse.Warehouse, dir string, tables map[string]int64) []string {
	t.Helper()
	var leaks []string
	pii := regexp.MustCompile(`(^|\D)(\d{17}[\dXx]|1[3-9]\d{9})($|\D)`)
	for table := range tables {
		glob := warehouse.Literal(filepath.Join(dir, strings.Replace(table, ".", "/", 1), "*", "*.parquet"))
		cols, err := warehouse.Describe(context.Background(), w.DB(), "SELECT * FROM read_parquet("+glob+")")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if c.Type != "VARCHAR" && c.Type != "JSON" {
				continue
			}
			var example string
			err := w.DB().QueryRow(`SELECT coalesce(min(v), '') FROM (SELECT CAST("` + c.Name + `" AS VARCHAR) AS v FROM read_parquet(` + glob + `))
				WHERE regexp_matches(v, '(^|\D)(\d{17}[\dXx]|1[3-9]\d{9})($|\D)')
				  AND NOT regexp_full_match(v, '[0-9a-f]{32}')`).Scan(&example) // a hash id (signal_id) may hold 11 digits in a row
			if err != nil {
				t.Fatal(err)
			}
			if example != "" && pii.MatchString(example) {
				leaks = append(leaks, table+"."+c.Name+": "+example)
			}
		}
	}
	return leaks
}
