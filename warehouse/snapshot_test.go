package warehouse

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/internal/sqltest"
)

// snapshotFixture is a warehouse with rows in every layer: raw, ops (from
// the migrations), core.party with full ID numbers, and mart.customer_360
// with masked ones plus a mart view reading core.
func snapshotFixture(t *testing.T) *Warehouse {
	t.Helper()
	w := openTemp(t)
	for _, q := range []string{
		`CREATE TABLE raw.snap_events AS SELECT range AS event_id, 'LOGIN' AS event_type FROM range(50)`,
		`INSERT INTO core.party (party_id, party_type, name, id_no, mobile, source_records, fingerprint)
		 SELECT 'P' || range, 'P', 'Name ' || range, '11010519491231' || lpad(range::VARCHAR, 4, '0'), '1380013' || lpad(range::VARCHAR, 4, '0'), 1, range
		 FROM range(20)`,
		`CREATE TABLE mart.customer_360 AS
		 SELECT party_id, name, left(id_no, 6) || '********' || right(id_no, 4) AS id_no_masked,
		        left(mobile, 3) || '****' || right(mobile, 4) AS mobile_masked
		 FROM core.party`,
		`CREATE VIEW mart.party_count AS SELECT count(*) AS parties FROM core.party`,
	} {
		if _, err := w.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return w
}

// tableCounts is the row count of every base table of the database db opens,
// by schema.table.
func tableCounts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	var names []string
	for scan := range sqltest.Rows(t, db, `SELECT schema_name || '.' || table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND NOT temporary`) {
		var n string
		scan(&n)
		names = append(names, n)
	}
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRow(`SELECT count(*) FROM ` + n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

func openSnapshotT(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := OpenSnapshot(context.Background(), path, SnapshotOptions{Threads: 1, MemoryLimit: "256MB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSnapshot_AnalystHoldsOnlyTheMartWithEqualRowCounts(t *testing.T) {
	w := snapshotFixture(t)
	path := filepath.Join(t.TempDir(), "analyst.duckdb")
	info, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := tableCounts(t, w.DB())
	got := tableCounts(t, openSnapshotT(t, path))
	// The views, materialized: the fixture's, and the signal loop's
	// (migrations 17 to 19, and 23's open signals; empty without signals).
	want := map[string]int64{"mart.party_count": 1, "mart.signal_outcomes": 0, "mart.signal_funnel": 0,
		"mart.signal_lift_observations": 0, "mart.signal_lift": 0, "mart.service_team_coverage": 0, "mart.party_open_signals": 0}
	var rows int64 = 1
	for name, n := range live {
		if strings.HasPrefix(name, "mart.") {
			want[name] = n
			rows += n
		}
	}
	if len(got) != len(want) {
		t.Fatalf("analyst snapshot holds %v, want the mart only: %v", got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %d rows in the snapshot, %d live", name, got[name], n)
		}
	}
	if info.Tables != len(want) || info.Rows != rows || info.Kind != SnapshotAnalyst || info.Bytes == 0 || info.Path != path {
		t.Errorf("info %+v, want %d tables and %d rows", info, len(want), rows)
	}
	assertOnlyFile(t, path)
}

func TestSnapshot_FullHoldsEverySchema(t *testing.T) {
	w := snapshotFixture(t)
	path := filepath.Join(t.TempDir(), "full.duckdb")
	info, err := w.Snapshot(context.Background(), path, SnapshotFull, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := tableCounts(t, w.DB())
	snap := openSnapshotT(t, path)
	got := tableCounts(t, snap)
	for _, schema := range []string{"raw", "ops", "core", "mart"} {
		found := false
		for name := range live {
			found = found || strings.HasPrefix(name, schema+".")
		}
		if !found {
			t.Fatalf("fixture has no %s table", schema)
		}
	}
	if len(got) != len(live) || info.Tables != len(live) {
		t.Fatalf("full snapshot holds %d tables (info %d), live %d", len(got), info.Tables, len(live))
	}
	for name, n := range live {
		if got[name] != n {
			t.Errorf("%s: %d rows in the snapshot, %d live", name, got[name], n)
		}
	}
	var idNo string
	if err := snap.QueryRow(`SELECT id_no FROM core.party WHERE party_id = 'P7'`).Scan(&idNo); err != nil || idNo != "110105194912310007" {
		t.Errorf("core.party in the full snapshot: %q, %v", idNo, err)
	}
	var parties int
	if err := snap.QueryRow(`SELECT parties FROM mart.party_count`).Scan(&parties); err != nil || parties != 20 {
		t.Errorf("view mart.party_count: %d, %v", parties, err)
	}
	assertOnlyFile(t, path)
}

// assertOnlyFile checks that nothing but the snapshot is left beside it
// (no .tmp, no .wal).
func assertOnlyFile(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("%s left beside the snapshot", e.Name())
		}
	}
}

// Each statement is refused by DuckDB itself; the text says which part of
// the lockdown refused it (pgserve's gate refuses them all earlier).
func TestOpenSnapshot_DuckDBRefusesWritesFilesAttachExtensionsAndSettings(t *testing.T) {
	w := snapshotFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "analyst.duckdb")
	if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, nil); err != nil {
		t.Fatal(err)
	}
	db := openSnapshotT(t, path)
	readOnly := `which is attached in read-only mode`
	noFiles := `file system operations are disabled by configuration`
	locked := `the configuration has been locked`
	csv := filepath.Join(dir, "x.csv")
	for _, c := range []struct{ query, want string }{
		{`CREATE TABLE mart.t (a INT)`, `Cannot execute statement of type "CREATE" on database "analyst" ` + readOnly},
		{`INSERT INTO mart.customer_360 (party_id) VALUES ('P99')`, `Cannot execute statement of type "INSERT" on database "analyst" ` + readOnly},
		{`DELETE FROM mart.customer_360`, readOnly},
		{`SELECT * FROM read_csv('/etc/passwd')`, `Permission Error: Cannot access file "/etc/passwd" - ` + noFiles},
		{`SELECT * FROM '/etc/passwd'`, `Catalog Error: Table with name /etc/passwd does not exist`}, // replacement scans of files are off
		{`COPY (SELECT 1) TO '` + csv + `'`, `Permission Error: Cannot access file "` + csv + `" - ` + noFiles},
		{`ATTACH '` + filepath.Join(dir, "x.duckdb") + `'`, `Permission Error: Cannot access file`},
		{`INSTALL httpfs`, `Permission Error: Cannot access directory`},
		{`LOAD httpfs`, `Permission Error: Loading external extensions is disabled through configuration`},
		{`SET threads = 1`, `Cannot change configuration option "threads" - ` + locked},
		{`SET GLOBAL lock_configuration = false`, locked},
		{`SET enable_external_access = true`, locked},
	} {
		_, err := db.Exec(c.query)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.query, err, c.want)
		}
	}
	if _, err := os.Stat(csv); !os.IsNotExist(err) {
		t.Errorf("COPY wrote %s", csv)
	}
	var tz string
	if err := db.QueryRow(`SELECT current_setting('TimeZone')`).Scan(&tz); err != nil || tz != "Asia/Shanghai" {
		t.Errorf("TimeZone %q, %v", tz, err)
	}
}

func TestSnapshot_RewriteWhileAReaderHoldsTheOldFile(t *testing.T) {
	w := snapshotFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "analyst.duckdb")
	// A stale build from a crash is replaced.
	if err := os.WriteFile(path+".tmp", []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, nil); err != nil {
		t.Fatal(err)
	}
	old := openSnapshotT(t, path)
	count := func(db *sql.DB) int {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM mart.customer_360`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(old); n != 20 {
		t.Fatalf("first snapshot: %d rows", n)
	}
	for round := 1; round <= 3; round++ {
		if _, err := w.DB().Exec(`INSERT INTO mart.customer_360 (party_id) SELECT 'N' || range FROM range(5)`); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, nil); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := count(old); n != 20 {
			t.Errorf("round %d: the old reader answers %d rows, want its own 20", round, n)
		}
		if n := count(openSnapshotT(t, path)); n != 20+5*round {
			t.Errorf("round %d: the new snapshot has %d rows, want %d", round, n, 20+5*round)
		}
	}
}

func TestSnapshot_UnknownKindIsRefused(t *testing.T) {
	w := openTemp(t)
	_, err := w.Snapshot(context.Background(), filepath.Join(t.TempDir(), "x.duckdb"), "mart", nil)
	if err == nil || !strings.Contains(err.Error(), `unknown kind "mart"`) {
		t.Fatalf("got %v", err)
	}
}
