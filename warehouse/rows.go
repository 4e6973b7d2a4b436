package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// InsertRows inserts rows (each with one value per column of target, a
// table with an optional column list) through multi-row INSERT statements:
// a statement per row costs DuckDB about half a millisecond, so rows go 500
// to a statement. Values bind as parameters; columns left out of the list
// take their defaults.
func InsertRows(ctx context.Context, conn *sql.Conn, target string, rows [][]any) error {
	const per = 500
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		var q strings.Builder
		q.WriteString("INSERT INTO " + target + " VALUES ")
		var args []any
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j := range rows[i] {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteByte('?')
			}
			q.WriteByte(')')
			args = append(args, rows[i]...)
		}
		if _, err := conn.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// ScratchSchema holds tables a command computes for a person to look at
// (what a tag or a rule gives as of a past day): never read by the
// pipeline, replaced by the next such command.
const ScratchSchema = "scratch"

// ReplaceScratch creates (or empties, by replacing) the table name of the
// scratch schema with the columns given as SQL ("party_id VARCHAR, ...")
// and returns its qualified name. Run it inside the transaction that fills
// the table, so a failure leaves the earlier contents.
func ReplaceScratch(ctx context.Context, conn *sql.Conn, name, columns string) (string, error) {
	table := ScratchSchema + "." + name
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS ` + ScratchSchema,
		`CREATE OR REPLACE TABLE ` + table + ` (` + columns + `)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("%s: %w", table, err)
		}
	}
	return table, nil
}

// ValuesOf is a one-column VALUES list of string literals, for a CTE:
// ValuesOf("ids", "id", "a", "b") is "ids AS (SELECT * FROM (VALUES ('a'), ('b')) v(id))".
func ValuesOf(cte, column string, values ...string) string {
	if len(values) == 0 {
		return cte + ` AS (SELECT CAST(NULL AS VARCHAR) AS ` + Ident(column) + ` WHERE false)`
	}
	rows := make([]string, len(values))
	for i, v := range values {
		rows[i] = "(" + Literal(v) + ")"
	}
	return cte + ` AS (SELECT * FROM (VALUES ` + strings.Join(rows, ", ") + `) v(` + Ident(column) + `))`
}
