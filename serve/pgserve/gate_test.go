package pgserve

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	psqlerr "github.com/jeroenrinzema/psql-wire/errors"

	"cdp/internal/sqltest"
)

func TestServeGate_LexReadsPastCommentsAndQuotes(t *testing.T) {
	for _, c := range []struct {
		sql      string
		want     string // token texts joined by spaces
		complete bool
	}{
		{`SELECT 1;`, `select 1`, true},
		{"-- note\n/* a /* nested */ comment */ Drop TABLE x ;;", `drop table x`, true},
		{`SET application_name = 'it''s "x"'`, `set application_name = it's "x"`, true},
		{`SELECT "Mixed Case" FROM t`, `select Mixed Case from t`, true},
		{`SELECT $tag$ a ; b $tag$, $1`, `select  a ; b  , $ 1`, true},
		{`SELECT E'\n', 1.5e3`, `select \n , 1.5 e3`, true},
		{`SELECT a, b, c, d`, `select a , b ,`, false},
	} {
		toks, complete := lex(c.sql, 5)
		var texts []string
		for _, tok := range toks {
			texts = append(texts, tok.text)
		}
		if got := strings.Join(texts, " "); got != c.want || complete != c.complete {
			t.Errorf("%s: got %q complete=%v, want %q complete=%v", c.sql, got, complete, c.want, c.complete)
		}
	}
}

func TestServeGate_FirstKeywordDecides(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{`select 1`, ``},
		{`  WITH x AS (SELECT 1) SELECT * FROM x`, ``},
		{`(SELECT 1)`, ``},
		{`from t`, ``},
		{`PRAGMA table_info('t')`, ``},
		{`insert into t values (1)`, `25006: cdp serve is read-only: INSERT is not allowed (analysts query the mart snapshot)`},
		{`/* x */ update t set a = 1`, `25006: cdp serve is read-only: UPDATE is not allowed`},
		{`copy t to 'x.csv'`, `42501: cdp serve does not read or write files: COPY is not allowed`},
		{`attach 'x.duckdb'`, `42501: cdp serve serves one snapshot: ATTACH is not allowed`},
		{`use other`, `42501: cdp serve serves one snapshot: USE is not allowed`},
		{`load httpfs`, `42501: cdp serve does not install or load extensions: LOAD is not allowed`},
		{`SET GLOBAL memory_limit = '1TB'`, `42501: cdp serve settings are fixed: SET memory_limit is not allowed`},
		{`SET VARIABLE x = 1`, `42501: cdp serve settings are fixed: SET variable is not allowed`},
		{`prepare p as select 1`, `0A000: cdp serve runs queries only: PREPARE is not allowed`},
		{`LISTEN x`, `42501: cdp serve runs queries only: LISTEN is not allowed`},
		{`-- only a comment`, `42601: cdp serve found no statement to run`},
	} {
		toks, _ := lex(c.sql, -1)
		err := keywordGate(RoleAnalyst, toks)
		got := ""
		if err != nil {
			got = string(psqlerr.GetCode(err)) + ": " + err.Error()
		}
		if (c.want == "") != (got == "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
		}
		if c.want != "" && !isRefusal(err) {
			t.Errorf("%s: %v is not counted as a refusal", c.sql, err)
		}
	}
}

func TestServeGate_ExplainTarget(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{`EXPLAIN SELECT 1`, `SELECT 1`},
		{`explain analyze delete from t`, `delete from t`},
		{`EXPLAIN (FORMAT json) SELECT 1`, `SELECT 1`},
		{`EXPLAIN (SELECT 1)`, `(SELECT 1)`},
		{`EXPLAIN ANALYSE /* c */ WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x`, `WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x`},
	} {
		at, ok := explainTarget(c.sql)
		if !ok || c.sql[at:] != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.sql, c.sql[at:], ok, c.want)
		}
	}
}

func TestServeGate_SetAllowList(t *testing.T) {
	for _, c := range []struct {
		sql      string
		accepted bool
		refusal  string
	}{
		{`SET extra_float_digits = 3`, true, ``},
		{`SET SESSION application_name TO 'DBeaver'`, true, ``},
		{`set datestyle to 'ISO, MDY'`, true, ``},
		{`SET TIME ZONE 'UTC'`, true, ``},
		{`SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`, true, ``},
		{`SET client_encoding = 'UTF8'`, true, ``},
		{`SET client_encoding = 'LATIN1'`, false, `cdp serve speaks UTF8 only: client_encoding latin1 is not supported`},
		{`SET threads = 1`, false, ``},
		{`SET search_path = core`, false, ``},
		{`SET GLOBAL application_name = 'x'`, false, ``},
		{`SET ROLE admin`, false, ``},
	} {
		toks, _ := lex(c.sql, -1)
		accepted, err := acceptSet(toks)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if accepted != c.accepted || got != c.refusal {
			t.Errorf("%s: accepted=%v %q, want accepted=%v %q", c.sql, accepted, got, c.accepted, c.refusal)
		}
	}
}

func TestServeGate_DeniedFunctionsAnywhereInTheQuery(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{`SELECT * FROM enable_logging(storage := 'file')`, `enable_logging() is not allowed`},
		{`SELECT 1 FROM mart.t WHERE a IN (SELECT * FROM "Enable_Profiling" ())`, `enable_profiling() is not allowed`},
		{`SELECT * FROM main.query('SELECT 1')`, `query() is not allowed`},
		{`SUMMARIZE SELECT * FROM checkpoint()`, `checkpoint() is not allowed`},
		{`SELECT query, 'enable_logging()' FROM t`, ``},
	} {
		toks, _ := lex(c.sql, -1)
		err := functionGate(toks)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
		}
	}
}

// readOnlyTableFunctions were reviewed: they read the snapshot or DuckDB's
// metadata, or read files, which the lockdown refuses.
var readOnlyTableFunctions = strings.Fields(`
	duckdb_approx_database_count duckdb_columns duckdb_connection_count duckdb_constraints
	duckdb_coordinate_systems duckdb_databases duckdb_dependencies duckdb_extensions
	duckdb_external_file_cache duckdb_functions duckdb_indexes duckdb_keywords duckdb_log_contexts
	duckdb_logs duckdb_logs_parsed duckdb_memory duckdb_optimizers duckdb_prepared_statements
	duckdb_profiling_settings duckdb_schemas duckdb_secret_types duckdb_secrets duckdb_sequences
	duckdb_settings duckdb_table_sample duckdb_tables duckdb_temporary_files duckdb_types
	duckdb_variables duckdb_views generate_series range repeat repeat_row unnest summary
	histogram histogram_values icu_calendar_names pg_timezone_names json_each json_tree
	pragma_collations pragma_database_size pragma_metadata_info pragma_platform pragma_show
	pragma_storage_info pragma_table_info pragma_user_agent pragma_version query_table seq_scan
	sql_auto_complete test_all_types test_vector_types which_secret
	glob read_blob read_csv read_csv_auto read_duckdb read_json read_json_auto read_json_objects
	read_json_objects_auto read_ndjson read_ndjson_auto read_ndjson_objects read_parquet read_text
	sniff_csv parquet_scan parquet_bloom_probe parquet_file_metadata parquet_full_metadata
	parquet_kv_metadata parquet_metadata parquet_schema`)

// A DuckDB upgrade that brings a new table function fails here until it is
// reviewed: read-only, or denied.
func TestServeGate_EveryTableFunctionIsReviewed(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reviewed := map[string]bool{}
	for _, name := range readOnlyTableFunctions {
		reviewed[name] = true
	}
	for scan := range sqltest.Rows(t, db, `SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'table'`) {
		var name string
		scan(&name)
		if !reviewed[name] && !deniedFunctions[name] {
			t.Errorf("table function %s was not reviewed: add it to readOnlyTableFunctions or deniedFunctions", name)
		}
	}
}
