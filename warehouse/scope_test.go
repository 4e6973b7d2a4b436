package warehouse

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var testScope = SnapshotScope{Owners: "party_owner", Party: "party_id", All: "t_all",
	Predicates: []ScopePredicate{{Variable: "t_branches", Owner: "owner_branch", Row: "branch_code"}, {Variable: "t_rms", Owner: "owner_rm", Row: "rm_id"}}}

// A scoped analyst snapshot: mart's relations are views over copies in
// the base schema that show a session the rows its variables allow, every
// row when All is true, and nothing when no variable is set.
func TestSnapshot_ScopeViewsFilterBySessionVariables(t *testing.T) {
	w := snapshotFixture(t)
	for _, q := range []string{
		`CREATE TABLE mart.party_owner AS SELECT party_id, 'RM' || (fingerprint % 4) AS owner_rm,
		 CASE WHEN fingerprint < 15 THEN 'BR' || (fingerprint % 2) END AS owner_branch FROM core.party`,
		`CREATE TABLE mart.branch_figures AS SELECT 'BR' || (range % 2) AS branch_code, range AS n FROM range(6)`,
	} {
		if _, err := w.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	path := filepath.Join(t.TempDir(), "analyst.duckdb")
	if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, &testScope); err != nil {
		t.Fatal(err)
	}
	db := openSnapshotT(t, path)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	counts := func(set ...string) string {
		t.Helper()
		for _, v := range []string{"t_all", "t_branches", "t_rms"} {
			if _, err := conn.ExecContext(context.Background(), "RESET VARIABLE "+v); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range set {
			if _, err := conn.ExecContext(context.Background(), "SET VARIABLE "+s); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, rel := range []string{"customer_360", "party_owner", "party_count", "branch_figures"} {
			var n int
			if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM mart."+rel).Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s=%d", rel, n))
		}
		return strings.Join(got, " ")
	}
	for _, c := range []struct {
		set  []string
		want string
	}{
		{nil, "customer_360=0 party_owner=0 party_count=0 branch_figures=0"},
		{[]string{"t_all = true"}, "customer_360=20 party_owner=20 party_count=1 branch_figures=6"},
		// P0..P14 are BR0/BR1 alternately; P15..P19 have no branch.
		{[]string{"t_all = false", "t_branches = ['BR1']"}, "customer_360=7 party_owner=7 party_count=0 branch_figures=3"},
		// RM0 owns P0, P4, …, P16: 5 parties; with BR1 (the 7 odd ones below 15), 12.
		{[]string{"t_all = false", "t_rms = ['RM0']"}, "customer_360=5 party_owner=5 party_count=0 branch_figures=0"},
		{[]string{"t_all = false", "t_rms = ['RM0']", "t_branches = ['BR1']"}, "customer_360=12 party_owner=12 party_count=0 branch_figures=3"},
	} {
		if got := counts(c.set...); got != c.want {
			t.Errorf("with %v: %s, want %s", c.set, got, c.want)
		}
	}
	var scoped []string
	rows, err := db.Query(`SELECT relation || ':' || scoped_by FROM cdp_base.scope_relations ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		scoped = append(scoped, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"branch_figures:branch_code", "customer_360:party", "party_count:", "party_owner:party"} {
		if !slices.Contains(scoped, want) {
			t.Errorf("scope_relations: %s, want %s among them", strings.Join(scoped, " "), want)
		}
	}
}

// Without the owner relation a required scope fails the snapshot, naming
// the relation; an optional one writes the snapshot unscoped.
func TestSnapshot_ScopeNeedsTheOwners(t *testing.T) {
	w := snapshotFixture(t)
	path := filepath.Join(t.TempDir(), "analyst.duckdb")
	if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, &testScope); err == nil || !strings.Contains(err.Error(), "mart.party_owner") {
		t.Errorf("a scope without mart.party_owner: %v", err)
	}
	optional := testScope
	optional.Optional = true
	if _, err := w.Snapshot(context.Background(), path, SnapshotAnalyst, &optional); err != nil {
		t.Fatal(err)
	}
	if got := tableCounts(t, openSnapshotT(t, path))["mart.customer_360"]; got != 20 {
		t.Errorf("the unscoped snapshot's mart.customer_360: %d rows", got)
	}
	if _, err := w.Snapshot(context.Background(), path, SnapshotFull, &testScope); err == nil {
		t.Error("a full snapshot took a scope")
	}
}
