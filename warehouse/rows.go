package warehouse

import (
	"context"
	"database/sql"
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
