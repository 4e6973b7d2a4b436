package warehouse

import (
	"context"
	"slices"
	"testing"

	"cdp/internal/sqltest"
)

// A party's print moves when its rows change in a printed column, a row
// comes or goes, or the party appears or goes; not when a column left out
// changes, nor when only another party's rows do.
func TestPartyPrints_ChangedPartiesOnly(t *testing.T) {
	w := openTemp(t)
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE SCHEMA pp`)
	exec(`CREATE TABLE pp.t (party_id VARCHAR, amount INTEGER, load_id INTEGER)`)
	exec(`CREATE TABLE pp.other (id VARCHAR)`)
	exec(`INSERT INTO pp.t VALUES ('A', 1, 1), ('A', 2, 1), ('B', 5, 1), ('C', 7, 1), ('D', 9, 1), (NULL, 3, 1)`)
	tables, err := PartyTables(ctx, conn, "pp")
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || !slices.Equal(tables["pp.t"], []string{"amount", "load_id"}) {
		t.Fatalf("party tables %v, want pp.t with amount, load_id", tables)
	}
	exec(`CREATE TABLE before AS ` + PartyPrintSQL("pp.t", []string{"amount"}, ""))
	exec(`UPDATE pp.t SET load_id = 2`)                      // not printed
	exec(`UPDATE pp.t SET amount = 6 WHERE party_id = 'B'`)  // B's value
	exec(`INSERT INTO pp.t VALUES ('C', 7, 2), ('E', 1, 2)`) // C's second row, E new
	exec(`DELETE FROM pp.t WHERE party_id = 'D'`)            // D gone
	var got []string
	for scan := range sqltest.Rows(t, w.DB(), `SELECT party_id FROM (`+PartyChangesSQL(`FROM before`, PartyPrintSQL("pp.t", []string{"amount"}, ""))+`) ORDER BY 1`) {
		var p string
		scan(&p)
		got = append(got, p)
	}
	if want := []string{"B", "C", "D", "E"}; !slices.Equal(got, want) {
		t.Errorf("changed parties %v, want %v", got, want)
	}
	// With no column, the count alone; with a condition, only its rows.
	var n int64
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM (`+PartyChangesSQL(PartyPrintSQL("pp.t", nil, "amount > 100"), `FROM before WHERE false`)+`)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d parties with rows of amount > 100", n)
	}
}
