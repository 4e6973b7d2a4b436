package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// InsertArrow inserts every batch of rr into table, matching columns by the
// schema's field names. conn may be inside a transaction (BEGIN on conn);
// the insert then commits or rolls back with it.
func InsertArrow(ctx context.Context, conn *sql.Conn, table string, rr array.RecordReader) (int64, error) {
	view := fmt.Sprintf("cdp_insert_%d", viewSeq.Add(1))
	cols := ""
	for i, f := range rr.Schema().Fields() {
		if i > 0 {
			cols += ", "
		}
		cols += `"` + f.Name + `"`
	}
	n, err := execWithView(ctx, conn, rr, view, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", table, cols, cols, view))
	if err != nil {
		return 0, fmt.Errorf("insert into %s: %w", table, err)
	}
	return n, nil
}

// execWithView registers rr as the Arrow view name on conn, runs query
// (which reads the view) with args and drops the view; it returns the rows
// affected.
func execWithView(ctx context.Context, conn *sql.Conn, rr array.RecordReader, view, query string, args ...driver.NamedValue) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(rr, view)
		if err != nil {
			return err
		}
		ex := dc.(driver.ExecerContext)
		dropped := false
		defer func() {
			// The view must not outlive its stream, also when the query
			// failed: a later query naming it would read freed memory. In
			// an aborted transaction the drop fails, and the rollback
			// removes the view.
			if !dropped {
				ex.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+view, nil)
			}
			release()
		}()
		r, err := ex.ExecContext(ctx, query, args)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		_, err = ex.ExecContext(ctx, "DROP VIEW IF EXISTS "+view, nil)
		dropped = err == nil
		return err
	})
	return n, err
}

// QueryArrow runs query on conn and hands each result batch to fn; the
// batch is released when fn returns.
func QueryArrow(ctx context.Context, conn *sql.Conn, query string, fn func(arrow.RecordBatch) error) error {
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := ar.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rr.Release()
		for rr.Next() {
			if err := fn(rr.RecordBatch()); err != nil {
				return err
			}
		}
		return rr.Err()
	})
}

// InTx runs fn inside one transaction on conn: it commits when fn returns
// nil, and rolls back when fn fails or the commit does. Every statement fn
// runs must use conn.
func InTx(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
