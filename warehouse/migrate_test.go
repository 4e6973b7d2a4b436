package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/pii"
)

// A contract change without a migration altering the raw tables fails here.
func TestMigrations_RawTablesMatchContract(t *testing.T) {
	w := openTemp(t)
	for _, e := range contract.Entities {
		if err := w.EnsureRawTable(context.Background(), e); err != nil {
			t.Error(err)
		}
	}
}

// A project's own entity gets its table at its first load. A contract
// that adds a column at a raised version adds it (recorded, old rows NULL);
// one that adds it without raising the version, changes a type or drops a
// column is refused, saying what to do.
func TestEnsureRawTable_EvolvesByVersionedAdditionsOnly(t *testing.T) {
	ctx := context.Background()
	w := openTemp(t)
	e := &contract.Entity{Feed: "branch_core", Name: "deposits", Version: 1, Columns: []contract.Column{
		{Name: "acct_no", Type: contract.String}, {Name: "balance", Type: contract.Decimal, Precision: 18, Scale: 2}}}
	for range 2 { // the second time finds the table as it should be
		if err := w.EnsureRawTable(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'branch_core_deposits'`).Scan(&n)
	if n != 2+len(contract.Lineage) {
		t.Fatalf("raw.branch_core_deposits has %d columns", n)
	}
	if _, err := w.DB().Exec(`INSERT INTO raw.branch_core_deposits (acct_no, balance, _load_id, _source, _ingested_at) VALUES ('A1', 1.5, 1, 'x', now())`); err != nil {
		t.Fatal(err)
	}

	added := *e
	added.Columns = append(append([]contract.Column(nil), e.Columns...), contract.Column{Name: "rate", Type: contract.Decimal, Precision: 12, Scale: 6})
	err := w.EnsureRawTable(ctx, &added)
	if err == nil || !strings.Contains(err.Error(), "adds rate DECIMAL(12,6) to raw.branch_core_deposits, but its version is 1") || !strings.Contains(err.Error(), "set version: 2") {
		t.Fatalf("an addition without a new version: %v", err)
	}
	added.Version = 2
	if err := w.EnsureRawTable(ctx, &added); err != nil {
		t.Fatal(err)
	}
	var acct string
	var rate *float64
	sqltest.Row(t, w.DB(), `SELECT acct_no, rate FROM raw.branch_core_deposits`).Scan(&acct, &rate)
	if acct != "A1" || rate != nil {
		t.Fatalf("the old row after the addition: %s, %v", acct, rate)
	}
	var changes string
	sqltest.Row(t, w.DB(), `SELECT string_agg(change || ' v' || version || coalesce(' ' || detail, ''), '; ' ORDER BY applied_at, change)
		FROM ops.contract_changes WHERE table_name = 'raw.branch_core_deposits'`).Scan(&changes)
	if changes != "create v1; add_column v2 rate DECIMAL(12,6)" {
		t.Fatalf("recorded changes: %q", changes)
	}

	retyped := added
	retyped.Columns = append([]contract.Column(nil), added.Columns...)
	retyped.Columns[1].Scale = 4
	retyped.Version = 3
	err = w.EnsureRawTable(ctx, &retyped)
	if err == nil || !strings.Contains(err.Error(), "column balance is DECIMAL(18,2) in the warehouse but DECIMAL(18,4) in the contract") || !strings.Contains(err.Error(), "under a new column name") {
		t.Fatalf("a changed decimal scale: %v", err)
	}
	dropped := added
	dropped.Columns = added.Columns[:2]
	dropped.Version = 3
	err = w.EnsureRawTable(ctx, &dropped)
	if err == nil || !strings.Contains(err.Error(), "column rate (DECIMAL(12,6)) is no longer in the contract") {
		t.Fatalf("a dropped column: %v", err)
	}
}

func TestMigrations_ReopenIsANoOpAndVersionIsRecorded(t *testing.T) {
	w := openTemp(t)
	path := w.Path()
	w.Close()
	w2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var n, max int
	sqltest.Row(t, w2.DB(), `SELECT count(*), max(version) FROM ops.schema_migrations`).Scan(&n, &max)
	if n != SchemaVersion() || max != SchemaVersion() {
		t.Fatalf("%d migrations recorded up to %d, want %d", n, max, SchemaVersion())
	}
}

// A warehouse whose last cdp view came before service teams gets an empty
// team_members on mart.party_owner when migrated, so that a scoped
// analyst snapshot (whose views name it) can be written at once.
func TestMigrations_OldPartyOwnerGetsTeamMembers(t *testing.T) {
	w := openTemp(t)
	path := w.Path()
	for _, q := range []string{
		`CREATE TABLE mart.party_owner AS SELECT 'P1' AS party_id, 'RM1' AS owner_rm, 'BR1' AS owner_branch, 'rm' AS owner_rule`,
		`DELETE FROM ops.schema_migrations WHERE version >= 19`,
	} {
		if _, err := w.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	w2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var members string
	sqltest.Row(t, w2.DB(), `SELECT CAST(team_members AS VARCHAR) FROM mart.party_owner`).Scan(&members)
	if members != "[]" {
		t.Fatalf("team_members of an old party_owner after migrating: %s", members)
	}
	if _, err := w2.Snapshot(context.Background(), filepath.Join(t.TempDir(), "a.duckdb"), SnapshotAnalyst, &SnapshotScope{
		Owners: "party_owner", Party: "party_id", All: "all",
		Predicates: []ScopePredicate{{Variable: "m", Owner: "team_members", OwnerList: true, Row: "member_id"}}}); err != nil {
		t.Fatalf("a scoped snapshot of the migrated warehouse: %v", err)
	}
}

// The PII masks are re-created on every open: a warehouse whose macros
// drifted (made by another cdp version, or changed by hand) masks as this
// cdp does once reopened.
func TestOpen_RecreatesThePIIMasks(t *testing.T) {
	w := openTemp(t)
	path := w.Path()
	if _, err := w.DB().Exec(`CREATE OR REPLACE MACRO mask_id(s) AS s`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	var got string
	const id = "110101199003071234"
	sqltest.Row(t, w2.DB(), `SELECT mask_id(?)`, id).Scan(&got)
	if got != pii.MaskID(id) {
		t.Errorf("mask_id after reopening = %q, want %q", got, pii.MaskID(id))
	}
}
