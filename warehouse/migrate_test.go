package warehouse

import (
	"context"
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

// A project's own entity gets its table at its first load; a contract
// whose columns changed afterwards is refused with the differences.
func TestEnsureRawTable_CreatesAProjectTableAndRefusesAChangedContract(t *testing.T) {
	ctx := context.Background()
	w := openTemp(t)
	e := &contract.Entity{Feed: "core_banking", Name: "deposits", Columns: []contract.Column{
		{Name: "acct_no", Type: contract.String}, {Name: "balance", Type: contract.Decimal, Precision: 18, Scale: 2}}}
	for range 2 { // the second time finds the table as it should be
		if err := w.EnsureRawTable(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'core_banking_deposits'`).Scan(&n)
	if n != 2+len(contract.Lineage) {
		t.Fatalf("raw.core_banking_deposits has %d columns", n)
	}
	e.Columns[1].Scale = 4
	err := w.EnsureRawTable(ctx, e)
	if err == nil || !strings.Contains(err.Error(), "balance DECIMAL(18,2)") || !strings.Contains(err.Error(), "balance DECIMAL(18,4)") {
		t.Fatalf("a changed decimal scale: %v", err)
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
