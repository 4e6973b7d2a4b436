package pgserve_test

import (
	"fmt"
	"strings"
	"testing"

	"cdp/serve/pgserve"
	"cdp/warehouse"
)

// The parties each test user may see (testdata/warehouse.sql: party Pnn
// has fingerprint nn, its branch is BR0 || nn % 2, its RM RM || nn % 3;
// team member S1 serves those with nn % 5 = 0).
func teamParties() []string {
	var ids []string
	for n := 0; n < 20; n += 5 {
		ids = append(ids, fmt.Sprintf("P%02d", n))
	}
	return ids
}

func visibleParties(branchOdd, rm0 bool, all ...bool) []string {
	var ids []string
	for n := range 20 {
		if (branchOdd && n%2 == 1) || (rm0 && n%3 == 0) || len(all) > 0 {
			ids = append(ids, fmt.Sprintf("P%02d", n))
		}
	}
	return ids
}

// A user limited to branches or RMs sees exactly their parties' rows, in
// tables, joins, aggregates, CTEs, subqueries and set operations, through
// the same SQL an unscoped analyst sends; whole-bank tables, the copies the
// views scope and the catalog's row counts are refused; a predicate that
// fails on a row never sees another branch's row.
func TestServe_RowLevelScope(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	users := []struct {
		name, password string
		parties        []string
	}{
		{"branch", scopedPassword, visibleParties(true, false)},
		{"rm", scopedPassword, visibleParties(false, true)},
		{"both", scopedPassword, visibleParties(true, true)},
		{"team", scopedPassword, teamParties()},
		{"analyst", analystPassword, visibleParties(true, true, true)},
	}
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			ids := strings.Join(u.parties, ",")
			quoted := "'" + strings.Join(u.parties, "', '") + "'"
			var aum float64
			for _, id := range u.parties {
				var n int
				fmt.Sscanf(id, "P%d", &n)
				aum += 1000.5 + float64(n)
			}
			n := fmt.Sprint(len(u.parties))
			for q, want := range map[string]string{
				`SELECT string_agg(party_id, ',' ORDER BY party_id) FROM mart.customer_360`:                                             ids,
				`SELECT count(*) FROM mart.party_owner`:                                                                                 n,
				`SELECT count(*) FROM mart.customer_360 c JOIN mart.party_owner o USING (party_id)`:                                     n,
				`SELECT count(*) FROM mart.customer_360 c LEFT JOIN mart.party_owner o ON o.party_id = c.party_id`:                      n,
				`SELECT sum(aum) FROM mart.customer_360`:                                                                                fmt.Sprintf("%.2f", aum),
				`SELECT string_agg(DISTINCT owner_branch, ',' ORDER BY owner_branch) FROM mart.party_owner`:                             distinctBranches(u.parties),
				`WITH x AS (SELECT party_id FROM mart.customer_360) SELECT count(*) FROM x`:                                             n,
				`WITH RECURSIVE x AS (SELECT party_id FROM mart.customer_360) SELECT count(*) FROM x`:                                   n,
				`SELECT count(*) FROM mart.customer_360 WHERE party_id IN (SELECT party_id FROM mart.party_owner)`:                      n,
				`SELECT (SELECT count(*) FROM mart.customer_360) + (SELECT count(*) FROM mart.customer_360 WHERE false)`:                n,
				`SELECT count(*) FROM (SELECT party_id FROM mart.customer_360 UNION SELECT party_id FROM mart.party_owner)`:             n,
				`SELECT count(*) FROM (SELECT party_id FROM mart.customer_360 UNION ALL BY NAME SELECT party_id FROM mart.party_owner)`: fmt.Sprint(2 * len(u.parties)),
				`SELECT count(*) FROM (SELECT 'P00' AS p UNION SELECT 'P01' EXCEPT SELECT party_id FROM mart.customer_360)`:             fmt.Sprint(2 - count(u.parties, "P00", "P01")),
				`SELECT count(*) FROM (FROM mart.customer_360 INTERSECT FROM mart.customer_360)`:                                        n,
				`SELECT count(*) FROM mart.customer_360 a, LATERAL (SELECT * FROM mart.party_owner o WHERE o.party_id = a.party_id)`:    n,
				`SELECT count(*) FROM mart.customer_360 WHERE party_id = 'P00'`:                                                         fmt.Sprint(count(u.parties, "P00")),
				`SELECT sum(parties) FROM mart.branch_totals`:                                                                           branchTotal(u.name),
				`SELECT string_agg(member_id || ':' || parties, ',' ORDER BY member_id) FROM mart.member_totals`:                        memberTotals(u.name),
				// SUMMARIZE and DESCRIBE of a mart table read the view.
				`SELECT count FROM (SUMMARIZE mart.customer_360) WHERE column_name = 'party_id'`: n,
				`SELECT count(*) FROM (DESCRIBE mart.customer_360)`:                              "6",
				// A predicate that fails on a row it is given (error(), a
				// failed cast) is only given the user's rows.
				`SELECT count(*) FROM mart.customer_360 WHERE CASE WHEN party_id NOT IN (` + quoted + `) THEN error('leak ' || name) END IS NULL`:                                             n,
				`SELECT count(*) FROM mart.customer_360 WHERE CAST(CASE WHEN party_id IN (` + quoted + `) THEN '1' ELSE name END AS INTEGER) > 0`:                                             n,
				`SELECT count(*) FROM mart.customer_360 c JOIN mart.party_owner o ON o.party_id = c.party_id AND CASE WHEN o.party_id NOT IN (` + quoted + `) THEN error('leak') END IS NULL`: n,
			} {
				if got := e.query(u.name, u.password, q); got != want {
					t.Errorf("%s\n got %q, want %q", q, got, want)
				}
			}
		})
	}

	// What a scoped user may not reach, however it is named.
	for _, q := range []string{
		`SELECT count(*) FROM mart.bank_totals`,
		`SELECT * FROM cdp_base.customer_360`,
		`SELECT * FROM "CDP_BASE"."customer_360"`,
		`SELECT * FROM analyst.cdp_base.customer_360`,
		`WITH x AS (SELECT * FROM cdp_base.customer_360) SELECT count(*) FROM x`,
		`SELECT count(*) FROM mart.customer_360 WHERE party_id IN (SELECT party_id FROM cdp_base.party_owner)`,
		`SELECT party_id FROM mart.customer_360 UNION SELECT party_id FROM cdp_base.customer_360`,
		`SELECT (SELECT count(*) FROM cdp_base.customer_360)`,
		`SUMMARIZE cdp_base.customer_360`,
		`DESCRIBE cdp_base.customer_360`,
		`FROM query_table('cdp_base.customer_360')`,
		`SELECT * FROM histogram('cdp_base.customer_360', aum)`,
		`SELECT estimated_size FROM duckdb_tables()`,
		`SELECT estimated_size FROM duckdb_tables`,
		`SELECT reltuples FROM system.pg_catalog.pg_class`,
		`SELECT reltuples FROM "pg_catalog"."pg_class"`,
		`EXPLAIN SELECT * FROM mart.customer_360`,
		`EXPLAIN ANALYZE SELECT * FROM mart.customer_360`,
		`PRAGMA storage_info('cdp_base.customer_360')`,
		`SET VARIABLE cdp_scope_all = true`,
		`RESET VARIABLE cdp_scope_branches`,
	} {
		_, stderr, err := e.psql("branch", scopedPassword, q)
		if err == nil || !strings.Contains(stderr, "ERROR:  42501") {
			t.Errorf("%s as a scoped user: want a refusal (42501), got %v\n%s", q, err, stderr)
		}
		if strings.Contains(stderr, "客户") {
			t.Errorf("%s as a scoped user: a name in the error\n%s", q, stderr)
		}
	}
	// Names that are not the base tables' fail as names of nothing.
	for _, q := range []string{`FROM 'cdp_base.customer_360'`, `FROM "cdp_base.customer_360"`, `FROM 'cdp_base'.customer_360`} {
		out, stderr, err := e.psql("branch", scopedPassword, q)
		if err == nil || out != "" || strings.Contains(stderr, "客户") {
			t.Errorf("%s as a scoped user: want an error and no rows, got %v %q\n%s", q, err, out, stderr)
		}
	}
	_, stderr, _ := e.psql("branch", scopedPassword, `SELECT count(*) FROM mart.bank_totals`)
	if !strings.Contains(stderr, "whole-bank") || !strings.Contains(stderr, "branches BR01") {
		t.Errorf("a whole-bank table's refusal says why: %s", stderr)
	}
	// The catalog shows a scoped user the relations they may query.
	if got, want := e.query("branch", scopedPassword, `SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('mart', 'cdp_base') AND c.relname IN ('bank_totals', 'branch_totals', 'customer_360')`),
		"branch_totals,customer_360"; got != want {
		t.Errorf("the scoped user's pg_class: %s, want %s", got, want)
	}
	if got, want := e.analyst(`SELECT string_agg(c.relname || ':' || c.relkind, ',' ORDER BY c.relname) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('mart', 'cdp_base') AND c.relname IN ('bank_totals', 'branch_totals', 'customer_360')`),
		"bank_totals:r,branch_totals:r,customer_360:r"; got != want {
		t.Errorf("the analyst's pg_class: %s, want %s", got, want)
	}
	// Unscoped analysts read whole-bank tables.
	if got := e.analyst(`SELECT parties FROM mart.bank_totals`); got != "20" {
		t.Errorf("mart.bank_totals for the analyst: %s", got)
	}
}

func count(ids []string, of ...string) int {
	n := 0
	for _, id := range ids {
		for _, o := range of {
			if id == o {
				n++
			}
		}
	}
	return n
}

// distinctBranches are the owner branches of parties.
func distinctBranches(ids []string) string {
	seen := map[string]bool{}
	for _, id := range ids {
		var n int
		fmt.Sscanf(id, "P%d", &n)
		seen[fmt.Sprintf("BR0%d", n%2)] = true
	}
	var out []string
	for _, b := range []string{"BR00", "BR01"} {
		if seen[b] {
			out = append(out, b)
		}
	}
	return strings.Join(out, ",")
}

// branchTotal is what mart.branch_totals, a table by branch_code, sums to
// for a user: the branch's row for branch users, nothing for an RM-only one.
func branchTotal(user string) string {
	switch user {
	case "branch", "both":
		return "10"
	case "rm", "team":
		return ""
	}
	return "20"
}

// memberTotals is what mart.member_totals, a table by member_id, shows a
// user: S1's row to the team user, nothing to the other scoped ones.
func memberTotals(user string) string {
	switch user {
	case "team":
		return "S1:4"
	case "analyst":
		return "S1:4,S2:8"
	}
	return ""
}

// A user limited to parties must be an analyst.
func TestServe_ScopeIsForAnalysts(t *testing.T) {
	_, err := pgserve.New(pgserve.Options{Users: []pgserve.User{{Name: "e", Password: "p", Role: pgserve.RoleEngineer, Scope: warehouse.PartyScope{Branches: []string{"BR01"}}}}})
	if err == nil || !strings.Contains(err.Error(), "limit analysts") {
		t.Errorf("an engineer limited to a branch: %v", err)
	}
}
