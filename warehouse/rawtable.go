package warehouse

import (
	"context"
	"fmt"
	"strings"

	"cdp/connectors/contract"
)

// EnsureRawTable creates the entity's raw table when it does not exist (a
// project's own feed, loaded the first time) and checks that an existing
// one has the contract's columns, in order and type. A contract whose
// columns changed after its table was created is refused, naming the
// differences: the warehouse never guesses how to move rows.
func (w *Warehouse) EnsureRawTable(ctx context.Context, e *contract.Entity) error {
	if _, err := w.db.ExecContext(ctx, e.CreateTableSQL()); err != nil {
		return fmt.Errorf("create %s: %w", e.Table(), err)
	}
	rows, err := w.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position`, e.Feed+"_"+e.Name)
	if err != nil {
		return fmt.Errorf("columns of %s: %w", e.Table(), err)
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return fmt.Errorf("columns of %s: %w", e.Table(), err)
		}
		have = append(have, name+" "+strings.ReplaceAll(typ, "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("columns of %s: %w", e.Table(), err)
	}
	var want []string
	for _, c := range e.Columns {
		want = append(want, c.Name+" "+c.SQL())
	}
	for _, l := range contract.Lineage {
		want = append(want, l.Name+" "+l.SQL)
	}
	if strings.Join(have, ", ") == strings.Join(want, ", ") {
		return nil
	}
	return fmt.Errorf("%s has the columns (%s) but the contract of %s declares (%s): "+
		"a contract's columns cannot change under a loaded table yet; restore the contract, or load the changed feed under a new feed name",
		e.Table(), strings.Join(have, ", "), e.ID(), strings.Join(want, ", "))
}
