package sqltest_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"cdp/internal/sqltest"
)

// recorder is a testing.TB whose Fatalf records the message and stops the
// goroutine, as the real one does, without failing the test around it.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatal runs fn with a recorder on its own goroutine (Fatalf ends it) and
// returns what Fatalf said, "" if it was not called, and whether fn ran
// to its end.
func fatal(t *testing.T, fn func(tb testing.TB)) (msg string, finished bool) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
		finished = true
	}()
	<-done
	return r.fatal, finished
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one in-memory database, whatever the connection
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t AS SELECT i, 'v' || i AS s FROM range(3) r(i)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestRowFailsTheTestOnAnyError(t *testing.T) {
	db := openDB(t)
	for _, c := range []struct {
		name, query, want string
		dest              func() []any
	}{
		{"bad query", `SELECT count(*) FROM no_such_table`, "no_such_table", func() []any { var n int64; return []any{&n} }},
		{"bad scan", `SELECT s FROM t WHERE i = 1`, "converting", func() []any { var n int64; return []any{&n} }},
		{"too few destinations", `SELECT i, s FROM t WHERE i = 1`, "expected 2 destination arguments", func() []any { var n int64; return []any{&n} }},
		{"no row", `SELECT s FROM t WHERE i = 99`, sql.ErrNoRows.Error(), func() []any { var s string; return []any{&s} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg, finished := fatal(t, func(tb testing.TB) { sqltest.Row(tb, db, c.query).Scan(c.dest()...) })
			if finished || !strings.Contains(msg, c.want) || !strings.Contains(msg, c.query) {
				t.Fatalf("finished %v, Fatalf said %q; want it to stop the test naming the query and %q", finished, msg, c.want)
			}
		})
	}
}

func TestRowScans(t *testing.T) {
	db := openDB(t)
	var n int64
	var s string
	sqltest.Row(t, db, `SELECT i, s FROM t WHERE i = ?`, 2).Scan(&n, &s)
	if n != 2 || s != "v2" {
		t.Fatalf("scanned %d %q", n, s)
	}
	s = "kept"
	if sqltest.Row(t, db, `SELECT s FROM t WHERE i = 99`).ScanOptional(&s) || s != "kept" {
		t.Fatalf("no row: ScanOptional reported a row or changed dest to %q", s)
	}
	if !sqltest.Row(t, db, `SELECT s FROM t WHERE i = 1`).ScanOptional(&s) || s != "v1" {
		t.Fatalf("a row: ScanOptional scanned %q", s)
	}
	msg, finished := fatal(t, func(tb testing.TB) { sqltest.Row(tb, db, `SELECT s FROM nowhere`).ScanOptional(&s) })
	if finished || !strings.Contains(msg, "nowhere") {
		t.Fatalf("ScanOptional on a bad query: finished %v, Fatalf said %q", finished, msg)
	}
}

func TestRowsFailsTheTestOnAnyError(t *testing.T) {
	db := openDB(t)
	for _, c := range []struct {
		name, query, want string
		rowsFirst         bool
	}{
		{"bad query", `SELECT i FROM no_such_table`, "no_such_table", false},
		{"bad scan", `SELECT s FROM t`, "converting", false},
		// DuckDB reports every error at the query; the fake driver fails
		// after its first row, which only rows.Err() reports.
		{"error while iterating", `fail after one row`, "boom", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := 0
			msg, finished := fatal(t, func(tb testing.TB) {
				q := sqltest.Querier(db)
				if c.rowsFirst {
					q = failing
				}
				for scan := range sqltest.Rows(tb, q, c.query) {
					var n int64
					scan(&n)
					seen++
				}
			})
			if finished || !strings.Contains(msg, c.want) || !strings.Contains(msg, sqltest.Short(c.query)) || c.rowsFirst != (seen > 0) {
				t.Fatalf("finished %v after %d rows, Fatalf said %q; want it to stop the test naming the query and %q", finished, seen, msg, c.want)
			}
		})
	}
}

func TestRowsOverDBConnAndTx(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := func(q sqltest.Querier) string {
		var got []string
		for scan := range sqltest.Rows(t, q, `SELECT i, s FROM t WHERE i >= ? ORDER BY i`, 1) {
			var i int64
			var s string
			scan(&i, &s)
			got = append(got, fmt.Sprintf("%d %s", i, s))
		}
		return strings.Join(got, ",")
	}
	if got := read(conn); got != "1 v1,2 v2" {
		t.Errorf("over a Conn: %s", got)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(tx); got != "1 v1,2 v2" {
		t.Errorf("over a Tx: %s", got)
	}
	// Breaking out early closes the rows: the transaction can go on.
	for range sqltest.Rows(t, tx, `SELECT i FROM t`) {
		break
	}
	var n int64
	sqltest.Row(t, tx, `SELECT count(*) FROM t`).Scan(&n)
	if n != 3 {
		t.Errorf("count in the Tx: %d", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if got := read(db); got != "1 v1,2 v2" {
		t.Errorf("over a DB: %s", got)
	}
}

// failing is a database whose every query returns one row and then fails.
var failing = func() *sql.DB {
	sql.Register("sqltest-failing", failingDriver{})
	db, err := sql.Open("sqltest-failing", "")
	if err != nil {
		panic(err)
	}
	return db
}()

type failingDriver struct{}

func (failingDriver) Open(string) (driver.Conn, error) { return failingConn{}, nil }

type failingConn struct{}

func (failingConn) Prepare(string) (driver.Stmt, error) { return failingStmt{}, nil }
func (failingConn) Close() error                        { return nil }
func (failingConn) Begin() (driver.Tx, error)           { return nil, errors.New("no transactions") }

type failingStmt struct{}

func (failingStmt) Close() error  { return nil }
func (failingStmt) NumInput() int { return -1 }
func (failingStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("no exec")
}
func (failingStmt) Query([]driver.Value) (driver.Rows, error) { return &failingRows{}, nil }

type failingRows struct{ n int }

func (*failingRows) Columns() []string { return []string{"i"} }
func (*failingRows) Close() error      { return nil }
func (r *failingRows) Next(dest []driver.Value) error {
	r.n++
	switch r.n {
	case 1:
		dest[0] = int64(1)
		return nil
	case 2:
		return errors.New("boom")
	}
	return io.EOF
}

func TestExecRunsAndFailsTheTestOnAnError(t *testing.T) {
	db := openDB(t)
	sqltest.Exec(t, db, `INSERT INTO t VALUES (?, ?)`, 7, "v7")
	var s string
	sqltest.Row(t, db, `SELECT s FROM t WHERE i = 7`).Scan(&s)
	if s != "v7" {
		t.Fatalf("the inserted row reads %q", s)
	}
	msg, finished := fatal(t, func(tb testing.TB) { sqltest.Exec(tb, db, `DELETE FROM no_such_table`) })
	if finished || !strings.Contains(msg, "no_such_table") || !strings.Contains(msg, "DELETE FROM") {
		t.Fatalf("finished %v, Fatalf said %q; want it to stop the test naming the statement", finished, msg)
	}
}
