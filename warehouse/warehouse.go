package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Options tune the DuckDB instance.
type Options struct {
	// MemoryLimit is the process's memory budget, DuckDB and the Go heap
	// together, e.g. "4GB"; empty: DefaultMemoryShare of the machine's
	// memory. DuckDB's memory_limit is its part of it (MemoryBudget).
	MemoryLimit string
	// GoLimit keeps the Go runtime's soft memory limit at what DuckDB
	// leaves of the budget while the warehouse is open: for a process that
	// opens one warehouse (the cdp commands), not for tests opening many.
	GoLimit  bool
	Threads  int    // 0 = all cores
	TimeZone string // session time zone for TIMESTAMPTZ display; default Asia/Shanghai
	ReadOnly bool
}

// Warehouse is an open DuckDB warehouse file.
type Warehouse struct {
	path      string
	connector *duckdb.Connector
	db        *sql.DB
	opened    map[string]string // settings given at open, for TemporarySetting to restore
	budget    Budget
	goLimit   *goLimit
}

// Open opens (creating if needed) the warehouse file and applies pending
// migrations.
func Open(ctx context.Context, path string, o Options) (*Warehouse, error) {
	if o.TimeZone == "" {
		o.TimeZone = "Asia/Shanghai"
	}
	if dir := filepath.Dir(path); dir != "" && !o.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("warehouse %s: %w", path, err)
		}
	}
	q := url.Values{}
	// Nothing can be downloaded here or in a bank's data centre: fail fast
	// instead of trying the network for a missing extension.
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "true")
	budget, err := MemoryBudget(o.MemoryLimit)
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", path, err)
	}
	q.Set("memory_limit", FormatSize(budget.DuckDB))
	for k, v := range allocatorSettings {
		q.Set(k, v)
	}
	if o.Threads > 0 {
		q.Set("threads", strconv.Itoa(o.Threads))
	}
	if o.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	tz := o.TimeZone
	connector, err := duckdb.NewConnector(path+"?"+q.Encode(), func(execer driver.ExecerContext) error {
		_, err := execer.ExecContext(context.Background(), "SET TimeZone = '"+strings.ReplaceAll(tz, "'", "")+"'", nil)
		return err
	})
	if err != nil {
		if strings.Contains(err.Error(), "Conflicting lock") {
			return nil, fmt.Errorf("warehouse %s is in use by another process (DuckDB allows one; query it through `cdp serve` or stop the other process): %w: %w", path, ErrLocked, err)
		}
		return nil, explainMemory(fmt.Errorf("open warehouse %s: %w", path, err), budget)
	}
	w := &Warehouse{path: path, connector: connector, db: sql.OpenDB(connector), opened: map[string]string{}, budget: budget}
	w.opened["memory_limit"] = FormatSize(budget.DuckDB)
	if o.Threads > 0 {
		w.opened["threads"] = strconv.Itoa(o.Threads)
	}
	if !o.ReadOnly {
		if err := w.migrate(ctx); err != nil {
			w.Close()
			return nil, explainMemory(err, budget)
		}
	}
	if o.GoLimit {
		w.goLimit = w.startGoLimit(2 * time.Second)
	}
	return w, nil
}

// ErrLocked is returned by Open when another process holds the file (a
// running cdp serve, say).
var ErrLocked = errors.New("warehouse locked")

// Path is the warehouse file.
func (w *Warehouse) Path() string { return w.path }

// DB is the shared database handle for ordinary SQL.
func (w *Warehouse) DB() *sql.DB { return w.db }

// Close checkpoints and closes the file.
func (w *Warehouse) Close() error {
	if w.db == nil {
		return nil
	}
	w.goLimit.close()
	w.goLimit = nil
	_, cpErr := w.db.Exec("CHECKPOINT")
	err := w.db.Close()
	w.db = nil
	return errors.Join(err, ignoreReadOnly(cpErr))
}

func ignoreReadOnly(err error) error {
	if err != nil && strings.Contains(err.Error(), "read-only") {
		return nil
	}
	return err
}

// TemporarySetting sets a DuckDB setting (threads, memory_limit) until the
// returned restore is called, which puts back the value the warehouse was
// opened with (or DuckDB's default). Loads use it to cap DuckDB's memory.
func (w *Warehouse) TemporarySetting(ctx context.Context, name, value string) (restore func(), err error) {
	// What to put back: the value given at open, else the current one.
	// current_setting() shows a size rounded ("18.8 GiB"), which is close
	// enough; RESET is not used because DuckDB's RESET memory_limit shows
	// the default again but leaves the buffer pool at the temporary limit.
	back, configured := w.opened[name]
	if !configured {
		if err := w.db.QueryRowContext(ctx, "SELECT current_setting("+Literal(name)+")").Scan(&back); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}
	if _, err := w.db.ExecContext(ctx, fmt.Sprintf("SET %s = %s", name, Literal(value))); err != nil {
		return nil, fmt.Errorf("setting %s = %s: %w", name, value, err)
	}
	return func() {
		v := strings.ReplaceAll(back, " ", "")
		if _, err := w.db.ExecContext(context.Background(), fmt.Sprintf("SET %s = %s", name, Literal(v))); err != nil {
			slog.Warn("could not restore a DuckDB setting", "setting", name, "value", v, "error", err)
		}
	}, nil
}

// Ident quotes s as a SQL identifier.
func Ident(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Literal quotes s as a SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ListLiteral is a list of strings as DuckDB reads it, as SQL or as the
// text of a VARCHAR[] parameter: ['a', 'b'].
func ListLiteral(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = Literal(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// SnapshotDateSQL is the SQL expression for the business date (YYYYMMDD) of
// a raw row of table alias (or unqualified when alias is ""), taken from the
// path part of its _source: customers_20261120.csv:17 and
// clients/dt=2026-11-20/part-0.parquet:5 both give 20261120; the empty string when the
// name carries no date.
func SnapshotDateSQL(alias string) string {
	col := "_source"
	if alias != "" {
		col = alias + "._source"
	}
	return SnapshotDateOfSQL(col)
}

// SnapshotDateOfSQL is SnapshotDateSQL over any column holding a _source
// value (core tables keep it as source_ref).
func SnapshotDateOfSQL(col string) string {
	return `coalesce(replace(regexp_extract(split_part(` + col + `, ':', 1), '(\d{4}-?\d{2}-?\d{2})', 1), '-', ''), '')`
}

// Column is one column of a query's result.
type Column struct{ Name, Type string }

// Describe compiles query without running it and returns its columns.
func Describe(ctx context.Context, db *sql.DB, query string) ([]Column, error) {
	rows, err := db.QueryContext(ctx, "DESCRIBE "+query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		cols = append(cols, Column{fmt.Sprint(vals[0]), fmt.Sprint(vals[1])})
	}
	return cols, rows.Err()
}
