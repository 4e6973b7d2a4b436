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
		var got []string
		for scan := range sqltest.Rows(t, w.DB(), `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position`, e.Feed+"_"+e.Name) {
			var name, typ string
			scan(&name, &typ)
			got = append(got, name+" "+strings.ReplaceAll(typ, "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"))
		}
		var want []string
		for _, c := range e.Columns {
			want = append(want, c.Name+" "+c.SQL())
		}
		for _, l := range contract.Lineage {
			want = append(want, l.Name+" "+l.SQL)
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s:\n got %v\nwant %v", e.Table(), got, want)
		}
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
