package pgserve

import "strings"

// The Postgres catalog as clients read it. psql's meta-commands, pgJDBC's
// DatabaseMetaData and BI tools introspect through pg_catalog and
// information_schema before they run a query. DuckDB has most of
// pg_catalog (pg_class, pg_namespace, pg_attribute, pg_type, …, and
// functions such as format_type and pg_table_is_visible); what it lacks is
// defined here, as temporary macros and views every snapshot connection
// creates when it opens (catalogInit), over DuckDB's own catalog — real
// answers, never a reply matched to a client's query text.
//
// Two general translations make the clients' SQL DuckDB's
// (rewriteCatalog), on the statement's tokens:
//
//   - a name qualified by pg_catalog is used unqualified, so that it
//     resolves through the search path: the temporary definitions below
//     first, then DuckDB's built-ins and its pg_catalog;
//   - Postgres-only syntax with a plain equivalent: OPERATOR(pg_catalog.~)
//     is ~, and COLLATE pg_catalog.default (or "C", "POSIX") is the default
//     collation, which is dropped;
//   - casts to the reg* types are functions (castFunctions);
//   - a set-returning function in FROM with an alias and no column list
//     (generate_series(1, n) s) names its one column after the alias, as
//     Postgres lets the alias stand for the value.

// catalogInit creates the definitions DuckDB's catalog lacks.
var catalogInit = []string{
	// Owners and encodings: one owner, the endpoint; UTF-8 throughout.
	`CREATE OR REPLACE TEMP MACRO pg_get_userbyid(id) AS 'cdp'`,
	`CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(enc) AS 'UTF8'`,
	// Every relation a role can read is in its snapshot and visible.
	`CREATE OR REPLACE TEMP MACRO pg_table_is_visible(oid) AS true`,
	`CREATE OR REPLACE TEMP MACRO pg_function_is_visible(oid) AS true`,
	// Expressions are stored as their text; the pretty flag changes nothing.
	`CREATE OR REPLACE TEMP MACRO pg_get_expr(tree, rel) AS CAST(tree AS VARCHAR), (tree, rel, pretty) AS CAST(tree AS VARCHAR)`,
	`CREATE OR REPLACE TEMP MACRO pg_get_function_result(oid) AS CAST(NULL AS VARCHAR)`,
	`CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(oid) AS CAST(NULL AS VARCHAR)`,
	// One database, the one clients connect to (cdp), whatever the
	// snapshot file is called.
	`CREATE OR REPLACE TEMP VIEW pg_database AS
		SELECT CAST(oid AS BIGINT) AS oid, 'cdp' AS datname, CAST(0 AS BIGINT) AS datdba, 6 AS encoding,
		       'C' AS datcollate, 'C' AS datctype, CAST(NULL AS VARCHAR) AS daticulocale, 'c' AS datlocprovider,
		       true AS datallowconn, false AS datistemplate, -1 AS datconnlimit, CAST(NULL AS VARCHAR[]) AS datacl
		FROM pg_catalog.pg_database WHERE datname = current_database()`,
	// Columns of Postgres 15 DuckDB's views lack.
	// The system schemas exist, as in Postgres (clients exclude them by name).
	// The base schema of a scoped snapshot (scope.go) is no client's.
	`CREATE OR REPLACE TEMP VIEW pg_namespace AS
		SELECT * FROM pg_catalog.pg_namespace WHERE nspname <> 'cdp_base'
		UNION ALL BY NAME SELECT CAST(11 AS BIGINT) AS oid, 'pg_catalog' AS nspname
		UNION ALL BY NAME SELECT CAST(13 AS BIGINT) AS oid, 'information_schema' AS nspname`,
	// Column types as Postgres OIDs, the ones results are sent with
	// (types.go): DuckDB's pg_attribute has its own type ids.
	`CREATE OR REPLACE TEMP MACRO cdp_type_oid(dt) AS CASE
		WHEN dt LIKE '%[]' OR dt LIKE '%]' OR dt LIKE 'MAP(%' OR dt LIKE 'STRUCT(%' OR dt LIKE 'UNION(%' OR dt = 'JSON' THEN 114
		WHEN dt = 'BOOLEAN' THEN 16
		WHEN dt IN ('TINYINT', 'SMALLINT', 'UTINYINT') THEN 21
		WHEN dt IN ('INTEGER', 'USMALLINT') THEN 23
		WHEN dt IN ('BIGINT', 'UINTEGER') THEN 20
		WHEN dt LIKE 'DECIMAL%' OR dt IN ('HUGEINT', 'UBIGINT', 'UHUGEINT', 'BIGNUM') THEN 1700
		WHEN dt = 'FLOAT' THEN 700
		WHEN dt = 'DOUBLE' THEN 701
		WHEN dt = 'DATE' THEN 1082
		WHEN dt = 'TIME' THEN 1083
		WHEN dt = 'TIMESTAMP WITH TIME ZONE' THEN 1184
		WHEN dt LIKE 'TIMESTAMP%' THEN 1114
		WHEN dt = 'INTERVAL' THEN 1186
		WHEN dt = 'UUID' THEN 2950
		WHEN dt = 'BLOB' THEN 17
		ELSE 25 END`,
	`CREATE OR REPLACE TEMP VIEW pg_attribute AS
		SELECT a.* REPLACE (
			coalesce(cdp_type_oid(c.data_type), a.atttypid) AS atttypid,
			CASE WHEN c.data_type LIKE 'DECIMAL%' THEN ((c.numeric_precision << 16) | c.numeric_scale) + 4 ELSE -1 END AS atttypmod,
			CASE WHEN cdp_type_oid(c.data_type) IN (25, 114, 17) THEN 'x' ELSE 'p' END AS attstorage)
		FROM pg_catalog.pg_attribute a
		LEFT JOIN duckdb_columns() c ON c.table_oid = a.attrelid AND c.column_index = a.attnum`,
	// Types: Postgres's text and json are there too; every type is in
	// pg_catalog; format_type names them as Postgres does.
	`CREATE OR REPLACE TEMP VIEW pg_type AS
		SELECT * REPLACE (CAST(11 AS BIGINT) AS typnamespace, coalesce(typrelid, 0) AS typrelid, coalesce(typelem, 0) AS typelem,
			coalesce(typbasetype, 0) AS typbasetype) FROM pg_catalog.pg_type WHERE oid IS NOT NULL
		UNION ALL BY NAME SELECT CAST(25 AS BIGINT) AS oid, 'text' AS typname, CAST(11 AS BIGINT) AS typnamespace, 'b' AS typtype, -1 AS typlen,
			'S' AS typcategory, CAST(0 AS BIGINT) AS typrelid, CAST(0 AS BIGINT) AS typelem, CAST(0 AS BIGINT) AS typbasetype, 0 AS typtypmod,
			false AS typnotnull, ',' AS typdelim
		UNION ALL BY NAME SELECT CAST(114 AS BIGINT) AS oid, 'json' AS typname, CAST(11 AS BIGINT) AS typnamespace, 'b' AS typtype, -1 AS typlen,
			'U' AS typcategory, CAST(0 AS BIGINT) AS typrelid, CAST(0 AS BIGINT) AS typelem, CAST(0 AS BIGINT) AS typbasetype, 0 AS typtypmod,
			false AS typnotnull, ',' AS typdelim`,
	`CREATE OR REPLACE TEMP MACRO format_type(id, typmod) AS CASE id
		WHEN 16 THEN 'boolean' WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer' WHEN 20 THEN 'bigint'
		WHEN 1700 THEN CASE WHEN typmod > 4 THEN 'numeric(' || ((typmod - 4) >> 16) || ',' || ((typmod - 4) & 65535) || ')' ELSE 'numeric' END
		WHEN 700 THEN 'real' WHEN 701 THEN 'double precision' WHEN 1082 THEN 'date' WHEN 1083 THEN 'time without time zone'
		WHEN 1114 THEN 'timestamp without time zone' WHEN 1184 THEN 'timestamp with time zone' WHEN 1186 THEN 'interval'
		WHEN 2950 THEN 'uuid' WHEN 17 THEN 'bytea' WHEN 25 THEN 'text' WHEN 114 THEN 'json' WHEN 1043 THEN 'character varying'
		ELSE (SELECT typname FROM pg_catalog.pg_type t WHERE t.oid = id LIMIT 1) END`,
	// Settings clients read: DuckDB's, and the limits Postgres reports.
	`CREATE OR REPLACE TEMP VIEW pg_settings AS
		SELECT * FROM pg_catalog.pg_settings
		UNION ALL BY NAME SELECT 'max_index_keys' AS name, '32' AS setting
		UNION ALL BY NAME SELECT 'max_identifier_length' AS name, '63' AS setting
		UNION ALL BY NAME SELECT 'server_version_num' AS name, '150000' AS setting`,
	// information_schema._pg_expandarray: an array's elements and their
	// positions, as rows of (x, n).
	`CREATE OR REPLACE TEMP MACRO _pg_expandarray(arr) AS
		unnest(list_transform(range(1, len(arr) + 1), i -> {'x': arr[i], 'n': i}))`,
	// Relations: none of the base schema of a scoped snapshot, whose mart
	// views stand for the tables they scope and are shown as tables; a
	// scoped session sees the mart relations its scope grants
	// (cdp_scope_all false, cdp_scope_relations; scope.go).
	`CREATE OR REPLACE TEMP VIEW pg_class AS
		SELECT c.* REPLACE (CAST(NULL AS VARCHAR[]) AS reloptions,
			CASE WHEN n.nspname = 'mart' AND c.relkind = 'v'
			      AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace b WHERE b.nspname = 'cdp_base') THEN 'r'
			     ELSE c.relkind END AS relkind),
			false AS relforcerowsecurity
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname <> 'cdp_base'
		  AND (getvariable('cdp_scope_all') IS NOT FALSE OR n.nspname <> 'mart'
		       OR list_contains(getvariable('cdp_scope_relations'), c.relname))`,
	// Catalogs of features the endpoint does not have (row security,
	// extended statistics, publications, inheritance, triggers, foreign and
	// partitioned tables, roles beyond the login): there, and empty.
	`CREATE OR REPLACE TEMP VIEW pg_policy AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS VARCHAR) AS polname,
		CAST(NULL AS BIGINT) AS polrelid, CAST(NULL AS VARCHAR) AS polcmd, CAST(NULL AS BOOLEAN) AS polpermissive,
		CAST(NULL AS BIGINT[]) AS polroles, CAST(NULL AS VARCHAR) AS polqual, CAST(NULL AS VARCHAR) AS polwithcheck WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS stxrelid,
		CAST(NULL AS VARCHAR) AS stxname, CAST(NULL AS BIGINT) AS stxnamespace, CAST(NULL AS BIGINT) AS stxowner,
		CAST(NULL AS INTEGER) AS stxstattarget, CAST(NULL AS SMALLINT[]) AS stxkeys, CAST(NULL AS VARCHAR[]) AS stxkind,
		CAST(NULL AS VARCHAR) AS stxexprs WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_publication AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS VARCHAR) AS pubname,
		CAST(NULL AS BIGINT) AS pubowner, false AS puballtables, false AS pubinsert, false AS pubupdate, false AS pubdelete,
		false AS pubtruncate, false AS pubviaroot WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_publication_rel AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS prpubid,
		CAST(NULL AS BIGINT) AS prrelid, CAST(NULL AS VARCHAR) AS prqual, CAST(NULL AS SMALLINT[]) AS prattrs WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS pnpubid,
		CAST(NULL AS BIGINT) AS pnnspid WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_inherits AS SELECT CAST(NULL AS BIGINT) AS inhrelid, CAST(NULL AS BIGINT) AS inhparent,
		CAST(NULL AS INTEGER) AS inhseqno, false AS inhdetachpending WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_trigger AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS tgrelid,
		CAST(NULL AS BIGINT) AS tgparentid, CAST(NULL AS VARCHAR) AS tgname, CAST(NULL AS BIGINT) AS tgfoid,
		CAST(NULL AS SMALLINT) AS tgtype, CAST(NULL AS VARCHAR) AS tgenabled, false AS tgisinternal,
		CAST(NULL AS BIGINT) AS tgconstrrelid, CAST(NULL AS BIGINT) AS tgconstrindid, CAST(NULL AS BIGINT) AS tgconstraint,
		false AS tgdeferrable, false AS tginitdeferred, CAST(NULL AS SMALLINT) AS tgnargs WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_foreign_table AS SELECT CAST(NULL AS BIGINT) AS ftrelid, CAST(NULL AS BIGINT) AS ftserver,
		CAST(NULL AS VARCHAR[]) AS ftoptions WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_partitioned_table AS SELECT CAST(NULL AS BIGINT) AS partrelid, CAST(NULL AS VARCHAR) AS partstrat,
		CAST(NULL AS SMALLINT) AS partnatts, CAST(NULL AS BIGINT) AS partdefid WHERE false`,
	`CREATE OR REPLACE TEMP VIEW pg_roles AS SELECT 'cdp' AS rolname, false AS rolsuper, true AS rolinherit,
		false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit,
		'********' AS rolpassword, CAST(NULL AS TIMESTAMPTZ) AS rolvaliduntil, false AS rolbypassrls,
		CAST(NULL AS VARCHAR[]) AS rolconfig, CAST(0 AS BIGINT) AS oid`,
	`CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(oid) AS false`,
	`CREATE OR REPLACE TEMP MACRO pg_get_indexdef(oid) AS CAST(NULL AS VARCHAR), (oid, col, pretty) AS CAST(NULL AS VARCHAR)`,
	// Quoting as Postgres does (reserved words aside).
	`CREATE OR REPLACE TEMP MACRO quote_ident(s) AS
		CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE '"' || replace(s, '"', '""') || '"' END`,
	`CREATE OR REPLACE TEMP MACRO quote_literal(s) AS '''' || replace(CAST(s AS VARCHAR), '''', '''''') || ''''`,
	// Arrays: DuckDB lists are one-dimensional and 1-based.
	`CREATE OR REPLACE TEMP MACRO array_upper(arr, dim) AS CASE WHEN dim = 1 THEN len(arr) END`,
	`CREATE OR REPLACE TEMP MACRO array_lower(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN 1 END`,
	`CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(oid) AS CAST(NULL AS VARCHAR)`,
	`CREATE OR REPLACE TEMP MACRO pg_get_triggerdef(oid) AS CAST(NULL AS VARCHAR), (oid, pretty) AS CAST(NULL AS VARCHAR)`,
	// The reg* casts (see castFunctions): an oid shown as its name, and a
	// name's oid.
	`CREATE OR REPLACE TEMP MACRO cdp_regtype(id) AS format_type(id, NULL)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regclass(id) AS
		(SELECT CASE WHEN pg_table_is_visible(c.oid) THEN c.relname ELSE n.nspname || '.' || c.relname END
		 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = id)`,
	`CREATE OR REPLACE TEMP MACRO parse_ident_last(name) AS trim(string_split(name, '.')[-1], '"')`,
	`CREATE OR REPLACE TEMP MACRO parse_ident_schema(name) AS
		CASE WHEN len(string_split(name, '.')) > 1 THEN trim(string_split(name, '.')[-2], '"') END`,
	`CREATE OR REPLACE TEMP MACRO cdp_regclass_oid(name) AS
		(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.relname = parse_ident_last(name) AND (n.nspname = parse_ident_schema(name) OR parse_ident_schema(name) IS NULL)
		 ORDER BY n.nspname = 'main' DESC LIMIT 1)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regproc(id) AS (SELECT proname FROM pg_catalog.pg_proc WHERE oid = id LIMIT 1)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regproc_oid(name) AS (SELECT oid FROM pg_catalog.pg_proc WHERE proname = parse_ident_last(name) LIMIT 1)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regtype_oid(name) AS (SELECT oid FROM pg_type WHERE typname = parse_ident_last(name) LIMIT 1)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regnamespace(id) AS (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = id)`,
	`CREATE OR REPLACE TEMP MACRO cdp_regnamespace_oid(name) AS (SELECT oid FROM pg_namespace WHERE nspname = parse_ident_last(name))`,
}

// castFunctions translate casts to Postgres's reg* types, which DuckDB
// lacks: X::regclass shows relation X's name, 'name'::regclass is its oid.
var castFunctions = map[string]string{
	"regtype": "cdp_regtype", "regclass": "cdp_regclass", "regproc": "cdp_regproc", "regprocedure": "cdp_regproc",
	"regnamespace": "cdp_regnamespace",
}

// clauseWords end a FROM item: they are not an alias.
var clauseWords = map[string]bool{"where": true, "join": true, "left": true, "right": true, "inner": true, "full": true,
	"cross": true, "natural": true, "on": true, "using": true, "group": true, "order": true, "limit": true, "offset": true,
	"union": true, "except": true, "intersect": true, "having": true, "window": true, "with": true, "lateral": true}

// fromItem says whether the function named at toks[i] (maybe
// pg_catalog-qualified) starts an item of a FROM list.
func fromItem(toks []token, i int) bool {
	p := i - 1
	if p >= 1 && toks[p].kind == tokSymbol && toks[p].text == "." && toks[p-1].kind == tokWord && toks[p-1].text == "pg_catalog" {
		p -= 2
	}
	return p >= 0 && (toks[p].kind == tokWord && (toks[p].text == "from" || toks[p].text == "join") ||
		toks[p].kind == tokSymbol && toks[p].text == ",")
}

// matching is the index of the parenthesis matching the one at toks[i]:
// the one closing an opening one, searching forward, or the one opening a
// closing one, searching back; -1 when there is none.
func matching(toks []token, i int) int {
	step, open, close := 1, "(", ")"
	if toks[i].text == ")" {
		step, open, close = -1, ")", "("
	}
	depth := 0
	for k := i; k >= 0 && k < len(toks); k += step {
		if toks[k].kind != tokSymbol {
			continue
		}
		switch toks[k].text {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// castTarget is the reg* type a cast names at toks[i] (plain or
// pg_catalog-qualified), or "".
func castTarget(toks []token, i int) string {
	if i+2 < len(toks) && toks[i].kind == tokWord && toks[i].text == "pg_catalog" && toks[i+1].text == "." {
		i += 2
	}
	if i < len(toks) && toks[i].kind == tokWord && castFunctions[toks[i].text] != "" {
		return toks[i].text
	}
	return ""
}

// operandStart is the first token of the operand ending at toks[j]: a
// literal, a dotted name, or a parenthesised group with the function name
// before it; -1 when it cannot tell.
func operandStart(toks []token, j int) int {
	switch toks[j].kind {
	case tokString, tokNumber:
		return j
	case tokWord, tokIdent:
		for j >= 2 && toks[j-1].kind == tokSymbol && toks[j-1].text == "." && (toks[j-2].kind == tokWord || toks[j-2].kind == tokIdent) {
			j -= 2
		}
		return j
	case tokSymbol:
		k := matching(toks, j)
		if toks[j].text != ")" || k < 0 {
			return -1
		}
		if k > 0 && (toks[k-1].kind == tokWord || toks[k-1].kind == tokIdent) {
			return operandStart(toks, k-1) // a function call: from its name
		}
		return k
	}
	return -1
}

// collations clients name that mean DuckDB's default one.
var defaultCollations = map[string]bool{"default": true, "c": true, "posix": true}

// rewriteCatalog translates the Postgres-only forms of query (see above).
func rewriteCatalog(query string) string {
	toks, _ := lex(query, -1)
	var b strings.Builder
	last := 0 // bytes of query copied so far
	emit := func(from int, text string) {
		b.WriteString(query[last:from])
		b.WriteString(text)
	}
	isSym := func(i int, s string) bool { return i < len(toks) && toks[i].kind == tokSymbol && toks[i].text == s }
	isWord := func(i int, w string) bool { return i < len(toks) && toks[i].kind == tokWord && toks[i].text == w }
	qualified := func(i int) bool { return isWord(i, "pg_catalog") && isSym(i+1, ".") && i+2 < len(toks) }
	changed := false
	aliasEnd := map[int]string{} // text to add after token i
	for i := 0; i < len(toks); i++ {
		if add, ok := aliasEnd[i]; ok {
			emit(toks[i].end, add)
			last, changed = toks[i].end, true
		}
		switch {
		case isWord(i, "operator") && isSym(i+1, "(") && qualified(i+2):
			// OPERATOR(pg_catalog.~) → ~
			j := i + 4
			var op strings.Builder
			for j < len(toks) && toks[j].kind == tokSymbol && toks[j].text != ")" {
				op.WriteString(toks[j].text)
				j++
			}
			if !isSym(j, ")") || op.Len() == 0 {
				continue
			}
			emit(toks[i].pos, " "+op.String()+" ")
			last, i, changed = toks[j].end, j, true
		case isWord(i, "collate") && qualified(i+1) && defaultCollations[strings.ToLower(toks[i+3].text)]:
			emit(toks[i].pos, "")
			last, i, changed = toks[i+3].end, i+3, true
		case isWord(i, "collate") && i+1 < len(toks) && toks[i+1].kind == tokIdent && defaultCollations[strings.ToLower(toks[i+1].text)]:
			emit(toks[i].pos, "")
			last, i, changed = toks[i+1].end, i+1, true
		case isSym(i, ":") && isSym(i+1, ":") && i > 0 && castTarget(toks, i+2) != "":
			// X::regclass → cdp_regclass(X); 'name'::regclass → cdp_regclass_oid('name')
			fn := castFunctions[castTarget(toks, i+2)]
			start := operandStart(toks, i-1)
			if start < 0 || toks[start].pos < last {
				continue
			}
			if start == i-1 && toks[start].kind == tokString {
				fn += "_oid" // a name's oid
			}
			end := i + 2
			if qualified(end) {
				end += 2
			}
			emit(toks[start].pos, fn+"("+query[toks[start].pos:toks[i-1].end]+")")
			last, i, changed = toks[end].end, end, true
		case (isWord(i, "generate_series") || isWord(i, "unnest")) && isSym(i+1, "(") && fromItem(toks, i):
			// generate_series(…) s → generate_series(…) s(s)
			close := matching(toks, i+1)
			if close < 0 {
				continue
			}
			a := close + 1
			if isWord(a, "as") {
				a++
			}
			if a >= len(toks) || (toks[a].kind != tokWord && toks[a].kind != tokIdent) || (toks[a].kind == tokWord && clauseWords[toks[a].text]) || isSym(a+1, "(") {
				continue
			}
			// Copy up to the alias (later rules still apply inside the
			// call), then add the column list after it.
			aliasEnd[a] = "(" + query[toks[a].pos:toks[a].end] + ")"
		case isWord(i, "information_schema") && isSym(i+1, ".") && i+2 < len(toks) && strings.HasPrefix(toks[i+2].text, "_pg_"):
			// information_schema._pg_expandarray → _pg_expandarray
			emit(toks[i].pos, "")
			last, i, changed = toks[i+2].pos, i+1, true
		case qualified(i) && (i == 0 || !isSym(i-1, ".")):
			// pg_catalog.name → name
			emit(toks[i].pos, "")
			last, i, changed = toks[i+2].pos, i+1, true
		}
	}
	if !changed {
		return query
	}
	b.WriteString(query[last:])
	return b.String()
}
