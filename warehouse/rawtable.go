package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"cdp/connectors/contract"
)

// EnsureRawTable makes the entity's raw table agree with its contract:
// created when it does not exist (a project's own feed, loaded the first
// time), and, when the contract adds columns, the columns added, in one
// transaction recorded in ops.contract_changes (old rows NULL). Adding
// columns is a versioned change: the contract's version must be above the
// one the table was last changed at. A removed column or a changed type is
// refused with what to do instead: loaded values are never dropped or
// recast by a contract edit.
func (w *Warehouse) EnsureRawTable(ctx context.Context, e *contract.Entity) error {
	table := e.Table()
	have, err := w.rawColumns(ctx, e)
	if err != nil {
		return err
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	defer conn.Close()
	if len(have) == 0 {
		return inTx(ctx, conn, table, func() error {
			if _, err := conn.ExecContext(ctx, e.CreateTableSQL()); err != nil {
				return fmt.Errorf("create %s: %w", table, err)
			}
			return recordChange(ctx, conn, e, "create", "")
		})
	}
	byName := map[string]string{}
	for _, c := range have {
		byName[c[0]] = c[1]
	}
	var adds, problems []string
	declared := map[string]bool{}
	for _, c := range e.Columns {
		declared[c.Name] = true
		typ, ok := byName[c.Name]
		switch {
		case !ok:
			adds = append(adds, c.Name+" "+c.SQL())
		case typ != c.SQL():
			problems = append(problems, fmt.Sprintf("column %s is %s in the warehouse but %s in the contract: a loaded column's type is never changed in place; "+
				"declare the new type under a new column name (%s_v%d) and keep %s, or, if every loaded value casts, run ALTER TABLE %s ALTER %s TYPE %s yourself and rerun",
				c.Name, typ, c.SQL(), c.Name, e.Version, c.Name, table, c.Name, c.SQL()))
		}
	}
	for _, l := range contract.Lineage {
		declared[l.Name] = true
	}
	for _, c := range have {
		if !declared[c[0]] {
			problems = append(problems, fmt.Sprintf("column %s (%s) is no longer in the contract: loaded values are never dropped by a contract change; "+
				"keep it in the contract (optional: true when files no longer carry it)", c[0], c[1]))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not match the contract of %s (version %d): %s", table, e.ID(), e.Version, strings.Join(problems, "; "))
	}
	last, recorded, err := lastChange(ctx, conn, table)
	if err != nil {
		return err
	}
	if len(adds) == 0 {
		if !recorded {
			return inTx(ctx, conn, table, func() error { return recordChange(ctx, conn, e, "baseline", "") })
		}
		return nil
	}
	if recorded && e.Version <= last {
		return fmt.Errorf("the contract of %s adds %s to %s, but its version is %d and the table was last changed at version %d: "+
			"a change to a contract's columns raises its version; set version: %d in the contract file to apply it",
			e.ID(), strings.Join(adds, ", "), table, e.Version, last, last+1)
	}
	return inTx(ctx, conn, table, func() error {
		for _, a := range adds {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", table, a)); err != nil {
				return fmt.Errorf("%s: add column %s: %w", table, a, err)
			}
			if err := recordChange(ctx, conn, e, "add_column", a); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawColumns lists a raw table's columns and types (none: no table).
func (w *Warehouse) rawColumns(ctx context.Context, e *contract.Entity) ([][2]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position`, e.Feed+"_"+e.Name)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", e.Table(), err)
	}
	defer rows.Close()
	var have [][2]string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", e.Table(), err)
		}
		have = append(have, [2]string{name, strings.ReplaceAll(typ, "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", e.Table(), err)
	}
	return have, nil
}

func lastChange(ctx context.Context, conn *sql.Conn, table string) (int, bool, error) {
	var v sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(version) FROM ops.contract_changes WHERE table_name = ?`, table).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("contract changes of %s: %w", table, err)
	}
	return int(v.Int64), v.Valid, nil
}

func recordChange(ctx context.Context, conn *sql.Conn, e *contract.Entity, change, detail string) error {
	_, err := conn.ExecContext(ctx, `INSERT INTO ops.contract_changes (table_name, version, fingerprint, change, detail) VALUES (?, ?, ?, ?, ?)`,
		e.Table(), e.Version, e.Fingerprint(), change, NullString(detail))
	if err != nil {
		return fmt.Errorf("%s: recording the contract change: %w", e.Table(), err)
	}
	return nil
}

// inTx runs fn in a transaction on conn.
func inTx(ctx context.Context, conn *sql.Conn, what string, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}
