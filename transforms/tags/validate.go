package tags

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"cdp/warehouse"
)

// typeOK says which DuckDB column types a declared tag type accepts.
func typeOK(declared, duck string) bool {
	duck = strings.ToUpper(duck)
	switch declared {
	case "string", "enum":
		return duck == "VARCHAR"
	case "int":
		return strings.HasSuffix(duck, "INT") || duck == "BIGINT" || duck == "INTEGER" || duck == "SMALLINT" || duck == "TINYINT" || duck == "HUGEINT"
	case "decimal":
		return strings.HasPrefix(duck, "DECIMAL") || duck == "DOUBLE" || duck == "FLOAT" || typeOK("int", duck)
	case "bool":
		return duck == "BOOLEAN"
	}
	return false
}

// Validate checks every tag's SQL, as of business day asOf (YYYY-MM-DD),
// against the warehouse: it compiles, gives exactly the columns party_id
// (VARCHAR) and value (of the declared type), at most one row per party,
// and for an enum only its declared values. Problems name the file and the
// line of the tag's sql: key.
func Validate(ctx context.Context, db *sql.DB, cat *Catalog, asOf string) error {
	var probs Problems
	for _, t := range cat.Tags {
		bad := func(format string, args ...any) {
			probs = append(probs, Problem{File: t.File, Line: t.SQLLine, Item: t.ID, Msg: fmt.Sprintf(format, args...)})
		}
		query, err := t.Query(asOf)
		if err != nil {
			bad("sql: %v", err)
			continue
		}
		desc, err := warehouse.Describe(ctx, db, query)
		if err != nil {
			bad("sql does not compile: %s", firstLine(err.Error()))
			continue
		}
		var cols, types []string
		for _, c := range desc {
			cols, types = append(cols, c.Name), append(types, c.Type)
		}
		if len(cols) != 2 || cols[0] != "party_id" || cols[1] != "value" {
			bad("sql gives columns %s; want party_id, value", strings.Join(cols, ", "))
			continue
		}
		if types[0] != "VARCHAR" {
			bad("party_id is %s; want VARCHAR", types[0])
		}
		if !typeOK(t.Type, types[1]) {
			bad("value is %s, which a tag of type %s cannot hold", types[1], t.Type)
			continue
		}
		var dup int64
		var stray sql.NullString
		check := fmt.Sprintf(`SELECT count(*) - count(DISTINCT party_id), NULL FROM (%s)`, query)
		if t.Type == "enum" {
			check = fmt.Sprintf(`SELECT count(*) - count(DISTINCT party_id),
				string_agg(DISTINCT value, ', ') FILTER (value IS NOT NULL AND value NOT IN (%s)) FROM (%s)`,
				quoteList(t.Values), query)
		}
		if err := db.QueryRowContext(ctx, check).Scan(&dup, &stray); err != nil {
			bad("sql fails when run: %s", firstLine(err.Error()))
			continue
		}
		if dup > 0 {
			bad("sql gives %d parties more than one row", dup)
		}
		if stray.Valid && stray.String != "" {
			bad("value %s not among the declared values", stray.String)
		}
		if len(t.Windows) == 0 {
			continue
		}
		msgs, err := checkWindows(ctx, db, query, t.Windows)
		if err != nil {
			return err
		}
		for i, msg := range msgs {
			if msg != "" {
				probs = append(probs, Problem{File: t.File, Line: t.Line, Item: t.ID, Msg: fmt.Sprintf("windows[%d]: %s", i, msg)})
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// checkWindows says what is wrong with each of a tag's windows ("" when
// nothing): its table must be one the tag's SQL (query) reads, keyed by
// party (a party_id column), and its column a date or a timestamp.
func checkWindows(ctx context.Context, db *sql.DB, query string, windows []Window) ([]string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	r, err := tagReads(ctx, conn, query)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(windows))
	for i, win := range windows {
		if out[i], err = checkWindow(ctx, conn, r, win); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkWindow checks one window against what the tag's SQL reads (r).
func checkWindow(ctx context.Context, conn *sql.Conn, r *reads, win Window) (string, error) {
	schema, name, _ := strings.Cut(strings.ToLower(win.Table), ".")
	if !slices.Contains(r.Tables, [2]string{schema, name}) {
		return fmt.Sprintf("the sql does not read %s", win.Table), nil
	}
	types, err := keyed[string](ctx, conn, `SELECT lower(column_name), data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND lower(schema_name) = `+warehouse.Literal(schema)+`
		  AND lower(table_name) = `+warehouse.Literal(name))
	if err != nil {
		return "", err
	}
	column := win.Column
	if win.Snapshot {
		column = snapshotColumn
	}
	switch typ := types[strings.ToLower(column)]; {
	case len(types) == 0:
		return fmt.Sprintf("no table %s in the warehouse", win.Table), nil
	case types["party_id"] == "":
		return fmt.Sprintf("%s has no party_id column: a window is a party's rows over the last days", win.Table), nil
	case typ == "":
		return fmt.Sprintf("%s has no column %s", win.Table, column), nil
	case typ != "DATE" && !strings.HasPrefix(typ, "TIMESTAMP"):
		return fmt.Sprintf("%s.%s is %s; want a DATE or TIMESTAMP", win.Table, column, typ), nil
	}
	return "", nil
}
