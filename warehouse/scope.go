package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Row-level scope in an analyst snapshot. One snapshot serves every
// analyst; what a session sees depends on variables the SQL endpoint sets
// on its connection before each statement (SET VARIABLE, which a locked
// configuration still allows and the endpoint's gate never lets a client
// send):
//
//   - the mart tables are copied into ScopeBaseSchema, which no scoped
//     session may name (the endpoint's gate refuses it);
//   - mart holds a view of each, with the same name and columns, that
//     returns every row to a session whose All variable is true, and to
//     any other session only the rows its predicates allow: rows of a party
//     whose owner (the Owners relation) matches one of the session's lists,
//     or, in a relation without a party column, rows whose own scope
//     columns match. A relation with neither is whole-bank and returns
//     nothing to a scoped session. A session with no variables set sees
//     nothing: the views fail closed.
//
// The filter is part of the view, so joins, subqueries, CTEs, set
// operations and aggregates see the scoped rows only; DuckDB binds the
// variables as constants, so an unscoped session's view costs a scan of
// the table.

// ScopeBaseSchema holds a scoped snapshot's mart tables; mart holds the
// views over them.
const ScopeBaseSchema = "cdp_base"

// ScopeRelations is the table of a scoped snapshot, in ScopeBaseSchema,
// saying how each mart relation is scoped: by "party", by its own columns
// (their names, comma-separated), or "" (whole-bank: unscoped users only).
const ScopeRelations = "scope_relations"

// SnapshotScope says how to scope an analyst snapshot.
type SnapshotScope struct {
	Owners string // mart relation with one row per party and its owner columns (party_owner)
	Party  string // the party key, in Owners and in every relation scoped by party (party_id)
	All    string // variable that is true in an unscoped session
	// Predicates are the lists a session may be limited by; a row is
	// visible when any of them allows it. A new kind of scope (a service
	// team) is one more predicate.
	Predicates []ScopePredicate
	// Optional writes the snapshot without a scope when the warehouse has
	// no Owners relation yet (a warehouse before its first cdp view);
	// otherwise that fails the snapshot.
	Optional bool
}

// ScopePredicate is one list a session may be limited by.
type ScopePredicate struct {
	Variable string // the session's list (VARCHAR[]); NULL when it is not limited by this one
	Owner    string // the column of Owners it matches (owner_branch)
	// OwnerList: the Owners column is itself a list (team_members), which
	// matches when it shares a value with the session's.
	OwnerList bool
	Row       string // the column it matches in a relation without the party key (branch_code)
}

// PartyScope is what one user is limited to: the parties owned by these
// branches or RMs, or served by these team members (mart.party_owner's
// owner_branch, owner_rm and team_members). All empty: every party.
type PartyScope struct {
	Branches, RMs, Members []string
}

// Scoped reports whether the scope limits its user at all.
func (s PartyScope) Scoped() bool {
	return len(s.Branches) > 0 || len(s.RMs) > 0 || len(s.Members) > 0
}

// String says what the scope is limited to, for messages: "branches BR01
// and team member S7".
func (s PartyScope) String() string {
	var parts []string
	for _, l := range []struct {
		what   string
		values []string
	}{{"branches", s.Branches}, {"RMs", s.RMs}, {"team members", s.Members}} {
		if len(l.values) > 0 {
			parts = append(parts, l.what+" "+strings.Join(l.values, ", "))
		}
	}
	return strings.Join(parts, " and ")
}

// OwnedSQL is a condition over mart.party_owner's columns that holds for
// the parties the scope allows (true when it limits nothing).
func (s PartyScope) OwnedSQL() string {
	if !s.Scoped() {
		return "true"
	}
	var conds []string
	if len(s.Branches) > 0 {
		conds = append(conds, "list_contains("+ListLiteral(s.Branches)+", owner_branch)")
	}
	if len(s.RMs) > 0 {
		conds = append(conds, "list_contains("+ListLiteral(s.RMs)+", owner_rm)")
	}
	if len(s.Members) > 0 {
		conds = append(conds, "list_has_any("+ListLiteral(s.Members)+", team_members)")
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// PartiesSQL is a condition on a relation's column holding a party id:
// true for the parties the scope allows.
func (s PartyScope) PartiesSQL(column string) string {
	if !s.Scoped() {
		return "true"
	}
	return column + " IN (SELECT party_id FROM mart.party_owner WHERE " + s.OwnedSQL() + ")"
}

// scopeView is the view over ScopeBaseSchema.name that mart shows, and
// how it is scoped ("party", the row columns, or "" for whole-bank).
func (s *SnapshotScope) scopeView(name string, columns []string) (string, string) {
	base := Ident(ScopeBaseSchema) + "." + Ident(name)
	all := "SELECT * FROM " + base + " WHERE getvariable(" + Literal(s.All) + ")"
	var conds []string
	how := ""
	switch {
	case name == s.Owners:
		for _, p := range s.Predicates {
			conds = append(conds, p.ownerMatch())
		}
		how = "party"
	case slices.Contains(columns, s.Party):
		var owner []string
		for _, p := range s.Predicates {
			owner = append(owner, p.ownerMatch())
		}
		conds = append(conds, fmt.Sprintf("%s IN (SELECT %s FROM %s.%s WHERE %s)", Ident(s.Party), Ident(s.Party),
			Ident(ScopeBaseSchema), Ident(s.Owners), strings.Join(owner, " OR ")))
		how = "party"
	default:
		var cols []string
		for _, p := range s.Predicates {
			if slices.Contains(columns, p.Row) {
				conds = append(conds, listContains(p.Variable, p.Row))
				cols = append(cols, p.Row)
			}
		}
		how = strings.Join(cols, ",")
	}
	view := "CREATE VIEW " + Ident(martSchema) + "." + Ident(name) + " AS " + all
	if len(conds) > 0 {
		view += " UNION ALL SELECT * FROM " + base + " WHERE getvariable(" + Literal(s.All) + ") IS NOT TRUE AND (" +
			strings.Join(conds, " OR ") + ")"
	}
	return view, how
}

// ownerMatch is the predicate over the Owners relation.
func (p ScopePredicate) ownerMatch() string {
	if p.OwnerList {
		return "list_has_any(getvariable(" + Literal(p.Variable) + "), " + Ident(p.Owner) + ")"
	}
	return listContains(p.Variable, p.Owner)
}

func listContains(variable, column string) string {
	return "list_contains(getvariable(" + Literal(variable) + "), " + Ident(column) + ")"
}

// writeScopeViews creates mart's views over the copies in ScopeBaseSchema
// and the table saying how each is scoped.
func writeScopeViews(ctx context.Context, conn *sql.Conn, alias string, relations []string, scope *SnapshotScope) error {
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+alias+"."+martSchema); err != nil {
		return fmt.Errorf("create the mart schema: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s.%s.%s (relation VARCHAR NOT NULL PRIMARY KEY, scoped_by VARCHAR NOT NULL)",
		alias, ScopeBaseSchema, ScopeRelations)); err != nil {
		return fmt.Errorf("create %s.%s: %w", ScopeBaseSchema, ScopeRelations, err)
	}
	for _, name := range relations {
		columns, err := columnNames(ctx, conn, alias, ScopeBaseSchema, name)
		if err != nil {
			return err
		}
		view, how := scope.scopeView(name, columns)
		// A view binds its names in the database it is created in.
		if _, err := conn.ExecContext(ctx, strings.Replace(view, "CREATE VIEW ", "CREATE VIEW "+alias+".", 1)); err != nil {
			return fmt.Errorf("scope %s.%s: %w", martSchema, name, err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s.%s.%s VALUES (?, ?)", alias, ScopeBaseSchema, ScopeRelations), name, how); err != nil {
			return fmt.Errorf("scope %s.%s: %w", martSchema, name, err)
		}
	}
	return nil
}

func columnNames(ctx context.Context, conn *sql.Conn, database, schema, table string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index`, database, schema, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
