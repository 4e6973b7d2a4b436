package pgserve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"
)

// The gate decides what reaches DuckDB, in three layers:
//
//  1. Client chatter is answered here without DuckDB (chatter.go).
//  2. The first keyword must start a query: SELECT, WITH, VALUES, TABLE,
//     FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, PRAGMA or "(". Anything else
//     is refused with a message naming it before DuckDB sees the text. So
//     are calls of the few table functions that change the reader instance
//     although DuckDB counts them as SELECTs (deniedFunctions).
//  3. DuckDB parses and binds the statement (a prepared statement; nothing
//     runs) and says its type: only SELECT and EXPLAIN of a SELECT pass.
//     PRAGMA table_info and SHOW/DESCRIBE are SELECTs to DuckDB; PRAGMA
//     threads=1 is a SET and is refused. One statement per query: DuckDB's
//     driver refuses to prepare several.
//
// Behind the gate, the snapshot's instance refuses writes, files, ATTACH,
// extensions and settings itself (warehouse.OpenSnapshot); its errors are
// translated by pgError. The gate matters even so: DuckDB's read-only mode
// still allows CREATE TEMP TABLE and CREATE TEMP MACRO.

// queryKeywords start the statements the gate lets through to DuckDB.
var queryKeywords = map[string]bool{
	"select": true, "with": true, "values": true, "table": true, "from": true, "show": true,
	"describe": true, "desc": true, "summarize": true, "explain": true, "pragma": true, "(": true,
}

const allowedHint = "cdp serve answers queries: SELECT, WITH, VALUES, TABLE, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN and PRAGMAs that read (table_info, show_tables)."

// refusal is a statement the gate or DuckDB's lockdown refused.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refused(code codes.Code, hint, format string, args ...any) error {
	err := psqlerr.WithCode(fmt.Errorf(format, args...), code)
	if hint != "" {
		err = psqlerr.WithHint(err, hint)
	}
	return &refusal{psqlerr.WithSeverity(err, psqlerr.LevelError)}
}

// isRefusal reports whether err is a refusal rather than a failed query.
func isRefusal(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}

// readOnlyScope says what a role reads, for messages about writes.
func readOnlyScope(role string) string {
	if role == RoleEngineer {
		return "engineers query a read-only snapshot of the warehouse"
	}
	return "analysts query the mart snapshot"
}

const changeHint = "Data changes only through the pipeline; the snapshot is renewed after each run."

func refuseWrite(role, what string) error {
	return refused(codes.ReadOnlySQLTransaction, changeHint, "cdp serve is read-only: %s is not allowed (%s)", what, readOnlyScope(role))
}

func refuseFiles(what string) error {
	return refused(codes.InsufficientPrivilege, "Query the tables of the snapshot.", "cdp serve does not read or write files: %s is not allowed", what)
}

func refuseAttach(what string) error {
	return refused(codes.InsufficientPrivilege, "", "cdp serve serves one snapshot: %s is not allowed", what)
}

func refuseExtensions(what string) error {
	return refused(codes.InsufficientPrivilege, "", "cdp serve does not install or load extensions: %s is not allowed", what)
}

func refuseSetting(what string) error {
	return refused(codes.InsufficientPrivilege, "Settings of the SQL endpoint are fixed; qualify table names (mart.customer_360) rather than set a search path.", "cdp serve settings are fixed: %s is not allowed", what)
}

func refuseStatement(what string) error {
	return refused(codes.InsufficientPrivilege, allowedHint, "cdp serve runs queries only: %s is not allowed", what)
}

// keywordGate is layer 2: it refuses a statement by its first keyword.
func keywordGate(role string, toks []token) error {
	if len(toks) == 0 {
		return refused(codes.Syntax, allowedHint, "cdp serve found no statement to run")
	}
	kw := toks[0].text
	if queryKeywords[kw] {
		return nil
	}
	what := strings.ToUpper(kw)
	switch kw {
	case "insert", "update", "delete", "merge", "upsert", "create", "drop", "alter", "truncate",
		"comment", "vacuum", "analyze", "checkpoint", "force", "import", "grant", "revoke":
		return refuseWrite(role, what)
	case "copy", "export":
		return refuseFiles(what)
	case "attach", "detach", "use":
		return refuseAttach(what)
	case "install", "load", "uninstall":
		return refuseExtensions(what)
	case "set", "reset":
		return refuseSetting(settingName(toks))
	case "call":
		return refused(codes.InsufficientPrivilege, "Query a table function with SELECT * FROM name().", "cdp serve runs queries only: CALL is not allowed")
	case "prepare", "execute", "deallocate":
		return refused(codes.FeatureNotSupported, "Use your driver's prepared statements (the extended query protocol).", "cdp serve runs queries only: %s is not allowed", what)
	}
	return refuseStatement(what)
}

// writeKeyword is the first keyword of a write anywhere in query (a CTE's
// INSERT, an EXPLAIN ANALYZE DELETE), if any: a statement DuckDB could not
// prepare is a refused write if it has one.
func writeKeyword(query string) string {
	toks, _ := lex(query, -1)
	for _, t := range toks {
		if t.kind != tokWord {
			continue
		}
		switch t.text {
		case "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate":
			return strings.ToUpper(t.text)
		}
	}
	return ""
}

// settingName is "SET threads" for SET [GLOBAL|SESSION|LOCAL] threads ….
func settingName(toks []token) string {
	what := strings.ToUpper(toks[0].text)
	for _, t := range toks[1:] {
		if t.kind != tokWord && t.kind != tokIdent {
			break
		}
		switch t.text {
		case "global", "session", "local":
			continue
		}
		return what + " " + t.text
	}
	return what
}

// deniedFunctions are table functions a query may not call, though to
// DuckDB it is still a SELECT: they change the reader instance despite
// lock_configuration (enable_logging with file storage, refused the file,
// leaves every later query of the instance failing; enable_profiling
// prints every query's profile on the daemon's stdout), run SQL from a
// string past the gate (query, json_execute_serialized_sql), write
// (checkpoint), or take raw pointers (arrow_scan). Every other table
// function was reviewed as read-only (gate_test.go fails on a new one).
var deniedFunctions = map[string]bool{
	"enable_logging": true, "disable_logging": true, "truncate_duckdb_logs": true,
	"enable_profiling": true, "disable_profiling": true,
	"enable_peg_parser": true, "disable_peg_parser": true, "check_peg_parser": true,
	"query": true, "json_execute_serialized_sql": true,
	"checkpoint": true, "force_checkpoint": true,
	"arrow_scan": true, "arrow_scan_dumb": true,
}

// functionGate refuses a call of a denied function anywhere in toks: a
// name (possibly quoted or qualified) followed by "(".
func functionGate(toks []token) error {
	for i := 0; i+1 < len(toks); i++ {
		t, next := toks[i], toks[i+1]
		if (t.kind == tokWord || t.kind == tokIdent) && next.kind == tokSymbol && next.text == "(" && deniedFunctions[strings.ToLower(t.text)] {
			return refused(codes.InsufficientPrivilege, "It changes the shared reader or runs SQL past the gate.", "cdp serve runs queries only: %s() is not allowed", strings.ToLower(t.text))
		}
	}
	return nil
}

// typeGate is layer 3: DuckDB's statement type of a prepared statement.
func typeGate(role string, typ duckdb.StmtType) error {
	switch typ {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
		return nil
	case duckdb.STATEMENT_TYPE_INSERT, duckdb.STATEMENT_TYPE_UPDATE, duckdb.STATEMENT_TYPE_DELETE,
		duckdb.STATEMENT_TYPE_CREATE, duckdb.STATEMENT_TYPE_DROP, duckdb.STATEMENT_TYPE_ALTER,
		duckdb.STATEMENT_TYPE_CREATE_FUNC, duckdb.STATEMENT_TYPE_ANALYZE, duckdb.STATEMENT_TYPE_VACUUM,
		duckdb.STATEMENT_TYPE_TRANSACTION:
		return refuseWrite(role, stmtTypeName(typ))
	case duckdb.STATEMENT_TYPE_COPY, duckdb.STATEMENT_TYPE_EXPORT:
		return refuseFiles(stmtTypeName(typ))
	case duckdb.STATEMENT_TYPE_ATTACH, duckdb.STATEMENT_TYPE_DETACH:
		return refuseAttach(stmtTypeName(typ))
	case duckdb.STATEMENT_TYPE_LOAD, duckdb.STATEMENT_TYPE_EXTENSION:
		return refuseExtensions(stmtTypeName(typ))
	case duckdb.STATEMENT_TYPE_SET, duckdb.STATEMENT_TYPE_VARIABLE_SET:
		return refuseSetting(stmtTypeName(typ))
	}
	return refuseStatement(stmtTypeName(typ))
}

var stmtTypeNames = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE", duckdb.STATEMENT_TYPE_DELETE: "DELETE",
	duckdb.STATEMENT_TYPE_CREATE: "CREATE", duckdb.STATEMENT_TYPE_DROP: "DROP", duckdb.STATEMENT_TYPE_ALTER: "ALTER",
	duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION", duckdb.STATEMENT_TYPE_ANALYZE: "ANALYZE", duckdb.STATEMENT_TYPE_VACUUM: "VACUUM",
	duckdb.STATEMENT_TYPE_TRANSACTION: "a transaction statement", duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_EXPORT: "EXPORT",
	duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH", duckdb.STATEMENT_TYPE_LOAD: "LOAD",
	duckdb.STATEMENT_TYPE_EXTENSION: "an extension statement", duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE",
	duckdb.STATEMENT_TYPE_CALL: "CALL", duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA", duckdb.STATEMENT_TYPE_PREPARE: "PREPARE",
	duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE",
}

func stmtTypeName(typ duckdb.StmtType) string {
	if name, ok := stmtTypeNames[typ]; ok {
		return name
	}
	return fmt.Sprintf("a statement of DuckDB type %d", typ)
}

// explainTarget is the offset in query of the statement an EXPLAIN
// explains: after EXPLAIN, ANALYZE and an options list in parentheses.
func explainTarget(query string) (int, bool) {
	toks, _ := lex(query, 256)
	i := 1
	if i < len(toks) && (toks[i].text == "analyze" || toks[i].text == "analyse") {
		i++
	}
	// "(FORMAT json)" is options; "(SELECT 1)" is the statement.
	if i+1 < len(toks) && toks[i].text == "(" && !queryKeywords[toks[i+1].text] {
		depth := 0
		for ; i < len(toks); i++ {
			switch toks[i].text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 {
				i++
				break
			}
		}
	}
	if i >= len(toks) {
		return 0, false
	}
	return toks[i].pos, true
}

// errMultipleStatements refuses a query with several statements: each
// would have to pass the gate, and the DuckDB driver prepares only one.
var errMultipleStatements = refused(codes.FeatureNotSupported, "Send the statements one at a time.", "cdp serve runs one statement per query")

// pgError translates a DuckDB error into a Postgres one. The lockdown's
// refusals become refusals with the same messages the gate gives.
func pgError(role string, err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		if strings.Contains(err.Error(), "multi-statement") {
			return errMultipleStatements
		}
		return psqlerr.WithCode(err, codes.Internal)
	}
	msg := de.Msg
	body := msg
	if _, after, ok := strings.Cut(msg, " Error: "); ok {
		body = after
	}
	switch de.Type {
	case duckdb.ErrorTypePermission:
		if strings.Contains(msg, "extension") {
			return refused(codes.InsufficientPrivilege, "", "cdp serve does not install or load extensions: %s", body)
		}
		return refused(codes.InsufficientPrivilege, "", "cdp serve does not read or write files: %s", body)
	case duckdb.ErrorTypeInvalidInput:
		if strings.Contains(msg, "configuration has been locked") {
			return refused(codes.InsufficientPrivilege, "", "cdp serve settings are fixed: %s", body)
		}
		if strings.Contains(msg, "read-only mode") {
			return refused(codes.ReadOnlySQLTransaction, changeHint, "cdp serve is read-only (%s): %s", readOnlyScope(role), body)
		}
	case duckdb.ErrorTypeCatalog:
		// Replacement scans (SELECT * FROM 'file.csv') are off: DuckDB
		// looks for a table named like the file.
		if name, ok := missingTable(body); ok && strings.ContainsAny(name, `/\`) {
			return refused(codes.InsufficientPrivilege, "", "cdp serve does not read or write files: %s is not a table of the snapshot", name)
		}
		if strings.Contains(msg, "in-memory database in read-only mode") {
			return refuseAttach("ATTACH")
		}
		if strings.Contains(msg, "Function with name") {
			return withCode(msg, codes.UndefinedFunction)
		}
		if strings.Contains(msg, "Schema with name") {
			return withCode(msg, codes.InvalidSchemaName)
		}
		return withCode(msg, codes.UndefinedTable)
	}
	code, ok := duckdbCodes[de.Type]
	if !ok {
		code = codes.Internal
	}
	return withCode(msg, code)
}

func withCode(msg string, code codes.Code) error {
	return psqlerr.WithSeverity(psqlerr.WithCode(errors.New(msg), code), psqlerr.LevelError)
}

// missingTable is X of "Table with name X does not exist!".
func missingTable(body string) (string, bool) {
	rest, ok := strings.CutPrefix(body, "Table with name ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " does not exist")
	return name, ok
}

var duckdbCodes = map[duckdb.ErrorType]codes.Code{
	duckdb.ErrorTypeParser:         codes.Syntax,
	duckdb.ErrorTypeSyntax:         codes.Syntax,
	duckdb.ErrorTypeBinder:         codes.UndefinedColumn,
	duckdb.ErrorTypeConversion:     codes.InvalidTextRepresentation,
	duckdb.ErrorTypeOutOfRange:     codes.NumericValueOutOfRange,
	duckdb.ErrorTypeDivideByZero:   codes.DivisionByZero,
	duckdb.ErrorTypeMismatchType:   codes.DatatypeMismatch,
	duckdb.ErrorTypeInvalidType:    codes.DatatypeMismatch,
	duckdb.ErrorTypeOutOfMemory:    codes.OutOfMemory,
	duckdb.ErrorTypeInterrupt:      codes.QueryCanceled,
	duckdb.ErrorTypeInvalidInput:   codes.InvalidParameterValue,
	duckdb.ErrorTypeNotImplemented: codes.FeatureNotSupported,
	duckdb.ErrorTypeIO:             codes.Io,
}
