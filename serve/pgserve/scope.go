package pgserve

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jeroenrinzema/psql-wire/codes"

	"cdp/warehouse"
)

// Row-level scope. An analyst may be limited to branches, RMs or service
// team members (User.Scope): they see only the rows of the parties those
// own or serve, in every mart table, joins and aggregates included. All analysts
// share one snapshot, written with SnapshotScope: its mart tables are views
// over copies in warehouse.ScopeBaseSchema, filtered by variables this
// server sets on the statement's connection before the statement is
// prepared (scopeVariables). The user's SQL text is never changed.
//
// For a scoped user the gate does two things more (scopeGate): DuckDB parses
// the statement (json_serialize_sql, which runs nothing), and every relation
// and table function the statement names, in CTEs, subqueries, set
// operations and joins alike, must be a mart view the scope grants, the
// catalog, or a table function that reads no table; anything else is
// refused before the statement is prepared. The catalog (pg_class,
// pg_namespace) hides the base schema from everyone and the mart relations
// a scoped user may not query from them (catalog.go).

// SnapshotScope is how the analyst snapshot is written for this server: the
// variables it sets, the owner relation (mart.party_owner) and the columns
// the two kinds of scope match.
var SnapshotScope = warehouse.SnapshotScope{
	Owners: "party_owner",
	Party:  "party_id",
	All:    varScopeAll,
	Predicates: []warehouse.ScopePredicate{
		{Variable: varScopeBranches, Owner: "owner_branch", Row: "branch_code"},
		{Variable: varScopeRMs, Owner: "owner_rm", Row: "rm_id"},
		{Variable: varScopeMembers, Owner: "team_members", OwnerList: true, Row: "member_id"},
	},
}

// The session variables of the scope.
const (
	varScopeAll       = "cdp_scope_all"       // true: unscoped
	varScopeBranches  = "cdp_scope_branches"  // the branches a user is limited to
	varScopeRMs       = "cdp_scope_rms"       // the RMs a user is limited to
	varScopeMembers   = "cdp_scope_members"   // the team members whose teams' parties a user is limited to
	varScopeRelations = "cdp_scope_relations" // the mart relations a scoped user may query (for the catalog)
)

// SnapshotScope is how the analyst snapshot is to be written: always with
// row-level scope once the warehouse has mart.party_owner, and failing
// without it when a user is scoped (their statements would be refused).
func (s *Server) SnapshotScope() *warehouse.SnapshotScope {
	scope := SnapshotScope
	scope.Optional = true
	for _, u := range s.users {
		if u.scoped() {
			scope.Optional = false
		}
	}
	return &scope
}

// scoped reports whether u is limited to some parties.
func (u User) scoped() bool { return u.Scope.Scoped() }

// scopeText says what u is limited to, for messages.
func (u User) scopeText() string { return u.Scope.String() }

// grantedLiteral is the list of the mart relations a scoped user may
// query, as the SQL that sets it.
func grantedLiteral(relations map[string]string) string {
	var granted []string
	for rel, by := range relations {
		if by != "" {
			granted = append(granted, rel)
		}
	}
	sort.Strings(granted)
	return listLiteral(granted)
}

// readScope reads how a snapshot's mart relations are scoped: nil if it was
// written without a scope.
func readScope(ctx context.Context, db *sql.DB) (map[string]string, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?`,
		warehouse.ScopeBaseSchema, warehouse.ScopeRelations).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT relation, scoped_by FROM %s.%s`,
		warehouse.ScopeBaseSchema, warehouse.ScopeRelations))
	if err != nil {
		return nil, fmt.Errorf("read the scope of the snapshot: %w", err)
	}
	defer rows.Close()
	relations := map[string]string{}
	for rows.Next() {
		var rel, by string
		if err := rows.Scan(&rel, &by); err != nil {
			return nil, err
		}
		relations[rel] = by
	}
	return relations, rows.Err()
}

// scopeVariables sets the scope of u on a connection to snap, before each
// statement: a pooled connection served another user before.
func scopeVariables(ctx context.Context, conn driver.Conn, u User, snap *snapshot) error {
	if snap.role != RoleAnalyst {
		return nil
	}
	all := !u.scoped()
	stmts := []string{
		fmt.Sprintf("SET VARIABLE %s = %t", varScopeAll, all),
		fmt.Sprintf("SET VARIABLE %s = %s", varScopeBranches, listLiteral(u.Scope.Branches)),
		fmt.Sprintf("SET VARIABLE %s = %s", varScopeRMs, listLiteral(u.Scope.RMs)),
		fmt.Sprintf("SET VARIABLE %s = %s", varScopeMembers, listLiteral(u.Scope.Members)),
		fmt.Sprintf("SET VARIABLE %s = %s", varScopeRelations, snap.granted),
	}
	// One call: DuckDB's driver runs the statements in turn.
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, strings.Join(stmts, "; "), nil); err != nil {
		return fmt.Errorf("set the session's scope: %w", err)
	}
	return nil
}

// listLiteral is a VARCHAR[] literal, or NULL for no list.
func listLiteral(values []string) string {
	if len(values) == 0 {
		return "CAST(NULL AS VARCHAR[])"
	}
	return warehouse.ListLiteral(values) + "::VARCHAR[]"
}

// scopedTableFunctions are the table functions a scoped user may call: they
// read no table (duckdb_tables is left out: it has every table's row count).
var scopedTableFunctions = map[string]bool{
	"generate_series": true, "range": true, "unnest": true, "repeat": true, "repeat_row": true,
	"json_each": true, "json_tree": true, "_pg_expandarray": true, "generate_subscripts": true,
	"pragma_table_info": true, "pragma_show": true, "pragma_version": true, "pragma_platform": true,
	"pragma_user_agent": true, "pragma_collations": true, "icu_calendar_names": true, "pg_timezone_names": true,
	"duckdb_columns": true, "duckdb_views": true, "duckdb_schemas": true, "duckdb_types": true,
	"duckdb_functions": true, "duckdb_keywords": true, "duckdb_settings": true, "duckdb_constraints": true,
	"duckdb_indexes": true, "duckdb_sequences": true, "duckdb_databases": true, "duckdb_dependencies": true,
	"duckdb_extensions": true, "duckdb_optimizers": true, "duckdb_variables": true, "sql_auto_complete": true,
}

// scopedHiddenRelations are catalog relations a scoped user may not read:
// they carry every table's row count. The pg_class they query unqualified
// (or as pg_catalog.pg_class, which the catalog rewrite makes unqualified)
// is the endpoint's, which leaves the base tables out.
var scopedHiddenRelations = map[string]bool{"duckdb_tables": true, "duckdb_table_sample": true}

// catalogSchemas are the schemas of the catalog, which a scoped user may
// read: information_schema, pg_catalog, and the endpoint's temporary
// definitions.
var catalogSchemas = map[string]bool{"": true, "main": true, "temp": true, "information_schema": true, "pg_catalog": true}

// scopeGate lets a scoped user's statement through if every relation and
// table function it names is one the scope allows. query is the text that
// is prepared (after the catalog rewrite).
func scopeGate(ctx context.Context, conn driver.Conn, u User, snap *snapshot, query string) error {
	if !u.scoped() {
		return nil
	}
	if snap.relations == nil {
		return refused(codes.InsufficientPrivilege, "The snapshot is written with row-level scope once mart.party_owner exists: run cdp view.",
			"cdp serve cannot limit %s to %s: the snapshot has no row-level scope", u.Name, u.scopeText())
	}
	tree, err := parseTree(ctx, conn, query)
	if err != nil {
		return err
	}
	if tree.Error && tree.ErrorType != "not implemented" {
		return withCode(tree.Message, codes.Syntax)
	}
	if tree.Error {
		return refused(codes.InsufficientPrivilege, "Run SELECT queries; DESCRIBE a table for its columns.",
			"cdp serve: a user limited to %s runs SELECT queries only (EXPLAIN and PRAGMA show the whole bank's row counts): %s",
			u.scopeText(), tree.Message)
	}
	var refusal error
	warehouse.EachNode(tree.Statements, func(node map[string]any) {
		if refusal != nil {
			return
		}
		switch node["type"] {
		case "BASE_TABLE":
			refusal = scopedRelation(u, snap, str(node["catalog_name"]), str(node["schema_name"]), str(node["table_name"]))
		case "TABLE_FUNCTION":
			fn, _ := node["function"].(map[string]any)
			name := strings.ToLower(str(fn["function_name"]))
			if !scopedTableFunctions[name] {
				refusal = refused(codes.InsufficientPrivilege, "Query the mart tables: they hold the rows of your scope.",
					"cdp serve: %s() is not available to a user limited to %s", name, u.scopeText())
			}
		}
	})
	return refusal
}

// scopedRelation refuses a relation a scoped user may not read.
func scopedRelation(u User, snap *snapshot, catalog, schema, name string) error {
	catalog, schema, name = strings.ToLower(catalog), strings.ToLower(schema), strings.ToLower(name)
	qualified := name
	if schema != "" {
		qualified = schema + "." + name
	}
	switch {
	case schema == "mart" && (catalog == "" || catalog == strings.ToLower(snap.catalog)):
		by, ok := snap.relations[name]
		switch {
		case !ok:
			return nil // DuckDB answers that it does not exist
		case by == "":
			return refused(codes.InsufficientPrivilege, "Ask for a version of it by branch or RM.",
				"cdp serve: mart.%s is a whole-bank table, not available to a user limited to %s (it has no party, branch or RM column to limit it by)",
				name, u.scopeText())
		}
		return nil
	case catalog == "" && catalogSchemas[schema] && !scopedHiddenRelations[name] && !(schema == "pg_catalog" && name == "pg_class"):
		return nil
	}
	return refused(codes.InsufficientPrivilege, "Query the mart tables: they hold the rows of your scope.",
		"cdp serve: %s is not available to a user limited to %s", qualified, u.scopeText())
}

// parsed is json_serialize_sql's answer.
type parsed struct {
	Error      bool   `json:"error"`
	Message    string `json:"error_message"`
	ErrorType  string `json:"error_type"`
	Statements any    `json:"statements"`
}

// parseTree has DuckDB parse query into its syntax tree; nothing is bound
// or run.
func parseTree(ctx context.Context, conn driver.Conn, query string) (*parsed, error) {
	rows, err := conn.(driver.QueryerContext).QueryContext(ctx, `SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)`,
		[]driver.NamedValue{{Ordinal: 1, Value: query}})
	if err != nil {
		return nil, fmt.Errorf("parse the statement: %w", err)
	}
	defer rows.Close()
	vals := make([]driver.Value, 1)
	if err := rows.Next(vals); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("no answer")
		}
		return nil, fmt.Errorf("parse the statement: %w", err)
	}
	text, _ := vals[0].(string)
	var p parsed
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return nil, fmt.Errorf("parse the statement: %w", err)
	}
	return &p, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
