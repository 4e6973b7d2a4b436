// Package sqltest runs a test's SQL with every error checked: a query, a
// scan or a row iteration that fails fails the test (t.Fatalf, naming the
// query), so a broken query cannot let a test pass on zero values. For
// tests only.
//
//	sqltest.Row(t, db, `SELECT count(*) FROM core.party`).Scan(&n)
//
//	for scan := range sqltest.Rows(t, db, `SELECT party_id, tier FROM mart.value_tier`) {
//		var p, tier string
//		scan(&p, &tier)
//		…
//	}
//
//	sqltest.Exec(t, db, `DELETE FROM core.party WHERE party_id = ?`, id)
package sqltest

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"strings"
	"testing"
)

// Querier is what a test queries: *sql.DB, *sql.Conn and *sql.Tx all are.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// OneRow is a query's single row, to scan.
type OneRow struct {
	t     testing.TB
	row   *sql.Row
	query string
}

// Row runs a query that returns one row; scan it with Scan (or ScanOptional
// where no row is a legitimate answer).
func Row(t testing.TB, q Querier, query string, args ...any) *OneRow {
	t.Helper()
	return &OneRow{t: t, row: q.QueryRowContext(context.Background(), query, args...), query: query}
}

// Scan copies the row's columns into dest. Any error fails the test,
// sql.ErrNoRows included.
func (r *OneRow) Scan(dest ...any) {
	r.t.Helper()
	if err := r.row.Scan(dest...); err != nil {
		r.t.Fatalf("%s\n%v", Short(r.query), err)
	}
}

// ScanOptional is Scan for a query that may legitimately return no row: it
// reports whether there was one (dest is untouched when not). Any other
// error fails the test.
func (r *OneRow) ScanOptional(dest ...any) bool {
	r.t.Helper()
	err := r.row.Scan(dest...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false
	case err != nil:
		r.t.Fatalf("%s\n%v", Short(r.query), err)
	}
	return true
}

// Rows runs a query and yields, for each row, a function that scans it
// into dest. Ranging stops early on break; a failed query, scan or
// iteration (rows.Err) fails the test, and the rows are always closed.
func Rows(t testing.TB, q Querier, query string, args ...any) iter.Seq[func(dest ...any)] {
	t.Helper()
	return func(yield func(func(dest ...any)) bool) {
		t.Helper()
		rows, err := q.QueryContext(context.Background(), query, args...)
		if err != nil {
			t.Fatalf("%s\n%v", Short(query), err)
		}
		defer rows.Close()
		scan := func(dest ...any) {
			t.Helper()
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s\n%v", Short(query), err)
			}
		}
		for rows.Next() {
			if !yield(scan) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s\n%v", Short(query), err)
		}
	}
}

// Execer is what a test runs statements on: *sql.DB, *sql.Conn and
// *sql.Tx all are.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Exec runs a statement; an error fails the test, naming the statement.
func Exec(t testing.TB, e Execer, query string, args ...any) {
	t.Helper()
	if _, err := e.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s\n%v", Short(query), err)
	}
}

// Short is a query's text on one line, for messages.
func Short(query string) string {
	return strings.Join(strings.Fields(query), " ")
}
