package warehouse

import (
	"context"
	"database/sql"
	"strings"
)

// A party's print of a table is the sum of the hashes of its rows (over
// some of the columns) and their count: equal prints, equal rows (but for
// a hash collision), whatever their order. Two sets of prints compared
// give the parties whose rows changed, appeared or went — what a per-party
// incremental run recomputes (cdp tags run) and what cdp bench dag reports
// a day changed.

// PartyTables maps each table or view of the database that is keyed by
// party (it has a party_id column), as lower-case "schema.table", to its
// other columns in the table's order. schema limits it to one schema; ""
// is all of them.
func PartyTables(ctx context.Context, conn *sql.Conn, schema string) (map[string][]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT lower(c.schema_name || '.' || c.table_name), c.column_name FROM duckdb_columns() c
		WHERE c.database_name = current_database() AND c.column_name <> 'party_id' AND (? = '' OR c.schema_name = ?)
		  AND EXISTS (SELECT 1 FROM duckdb_columns() p WHERE p.database_name = c.database_name AND p.schema_name = c.schema_name
		                AND p.table_name = c.table_name AND p.column_name = 'party_id')
		ORDER BY c.column_index`, schema, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, err
		}
		out[table] = append(out[table], col)
	}
	return out, rows.Err()
}

// PartyPrintSQL selects party_id, print (HUGEINT) and n, one row per party
// of table ("schema.table") with a party, over columns (unquoted; none:
// the count alone) of the rows where cond holds ("" for all).
func PartyPrintSQL(table string, columns []string, cond string) string {
	hash := "0"
	if len(columns) > 0 {
		quoted := make([]string, len(columns))
		for i, c := range columns {
			quoted[i] = Ident(c)
		}
		hash = "sum(hash(" + strings.Join(quoted, ", ") + "))"
	}
	schema, name, _ := strings.Cut(table, ".")
	where := "party_id IS NOT NULL"
	if cond != "" {
		where += " AND (" + cond + ")"
	}
	return `SELECT party_id, CAST(` + hash + ` AS HUGEINT) AS print, count(*) AS n FROM ` +
		Ident(schema) + `.` + Ident(name) + ` WHERE ` + where + ` GROUP BY party_id`
}

// PartyChangesSQL selects the party_id of each party whose print differs
// between two relations of prints (party_id, print, n), or that only one
// of them has.
func PartyChangesSQL(before, after string) string {
	return `SELECT coalesce(a.party_id, b.party_id) AS party_id FROM (` + before + `) b FULL JOIN (` + after + `) a
		ON a.party_id = b.party_id WHERE a.print IS DISTINCT FROM b.print OR a.n IS DISTINCT FROM b.n`
}
