package warehouse

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Snapshots are what `cdp serve` shows analysts: a copy of the warehouse
// written after each successful run and opened by a separate, locked-down
// DuckDB instance, so untrusted SQL never touches the live file (DuckDB
// lets one process hold it, and that process keeps writing).

// SnapshotKind selects what a snapshot holds.
type SnapshotKind string

// The kinds of snapshot.
const (
	// SnapshotAnalyst holds the mart schema only: the tables analysts and
	// CRMs read, already PII-masked (mart.customer_360). Views in mart are
	// materialized as tables, so the snapshot needs nothing outside mart.
	SnapshotAnalyst SnapshotKind = "analyst"
	// SnapshotFull holds every schema: raw, ops, core and mart.
	SnapshotFull SnapshotKind = "full"
)

// martSchema is the one schema of an analyst snapshot.
const martSchema = "mart"

// SnapshotInfo describes a snapshot written.
type SnapshotInfo struct {
	Path   string
	Kind   SnapshotKind
	Tables int   // tables in the snapshot (mart views count as tables)
	Rows   int64 // rows in all of them
	Bytes  int64 // size of the file
	Took   time.Duration
}

// snapshotSeq numbers the aliases snapshots are attached under, so two
// snapshots written at once do not collide.
var snapshotSeq atomic.Int64

// Snapshot writes a consistent copy of the warehouse to path: built at
// path+".tmp" in one transaction, checkpointed (no .wal is left), then
// renamed over path. The rename is atomic, and a reader holding the old
// file keeps reading its inode until it closes it.
//
// The snapshot's catalog is named after its file (analyst.duckdb opens as
// "analyst"): name the file after neither a schema nor the live database.
//
// scope, if not nil, makes an analyst snapshot serve row-level scope (see
// SnapshotScope); a full snapshot takes none.
func (w *Warehouse) Snapshot(ctx context.Context, path string, kind SnapshotKind, scope *SnapshotScope) (SnapshotInfo, error) {
	start := time.Now()
	if kind != SnapshotAnalyst && kind != SnapshotFull {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: unknown kind %q (want %s or %s)", path, kind, SnapshotAnalyst, SnapshotFull)
	}
	if scope != nil && kind != SnapshotAnalyst {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: row-level scope is for analyst snapshots, not %s ones", path, kind)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	tmp := path + ".tmp"
	// A crash while writing leaves a partial file; ATTACH would open it.
	if err := removeDatabaseFile(tmp); err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: stale %s: %w", path, tmp, err)
	}
	info, err := w.writeSnapshot(ctx, tmp, kind, scope)
	if err != nil {
		removeDatabaseFile(tmp)
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		removeDatabaseFile(tmp)
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	info.Path, info.Kind, info.Bytes, info.Took = path, kind, st.Size(), time.Since(start)
	return info, nil
}

// writeSnapshot attaches a new database file at tmp, copies into it in one
// transaction (DuckDB lets a transaction read the warehouse while it writes
// one attached database), checkpoints and detaches it.
func (w *Warehouse) writeSnapshot(ctx context.Context, tmp string, kind SnapshotKind, scope *SnapshotScope) (SnapshotInfo, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer conn.Close()
	var source string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&source); err != nil {
		return SnapshotInfo{}, fmt.Errorf("current database: %w", err)
	}
	alias := "cdp_snapshot_" + strconv.FormatInt(snapshotSeq.Add(1), 10)
	if _, err := conn.ExecContext(ctx, "ATTACH "+Literal(tmp)+" AS "+alias); err != nil {
		return SnapshotInfo{}, fmt.Errorf("attach: %w", err)
	}
	attached := true
	defer func() {
		if attached {
			conn.ExecContext(context.Background(), "DETACH "+alias)
		}
	}()
	copyInto := copyFullSnapshot
	if kind == SnapshotAnalyst {
		copyInto = func(ctx context.Context, conn *sql.Conn, source, alias string) error {
			return copyMartSnapshot(ctx, conn, source, alias, scope)
		}
	}
	if err := InTx(ctx, conn, func() error { return copyInto(ctx, conn, source, alias) }); err != nil {
		return SnapshotInfo{}, err
	}
	var info SnapshotInfo
	if err := conn.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(estimated_size), 0)::BIGINT FROM duckdb_tables() WHERE database_name = ?`, alias).Scan(&info.Tables, &info.Rows); err != nil {
		return SnapshotInfo{}, fmt.Errorf("count the snapshot: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "CHECKPOINT "+alias); err != nil {
		return SnapshotInfo{}, fmt.Errorf("checkpoint: %w", err)
	}
	attached = false
	if _, err := conn.ExecContext(ctx, "DETACH "+alias); err != nil {
		return SnapshotInfo{}, fmt.Errorf("detach: %w", err)
	}
	return info, nil
}

// copyFullSnapshot copies every schema, with its views, sequences and macros.
func copyFullSnapshot(ctx context.Context, conn *sql.Conn, source, alias string) error {
	if _, err := conn.ExecContext(ctx, "COPY FROM DATABASE "+Ident(source)+" TO "+alias); err != nil {
		return fmt.Errorf("copy the warehouse: %w", err)
	}
	return nil
}

// copyMartSnapshot copies the mart tables and materializes the mart views:
// a view may read core, which an analyst snapshot does not hold. With a
// scope, the copies go to ScopeBaseSchema and mart holds a view of each
// (scopeView).
func copyMartSnapshot(ctx context.Context, conn *sql.Conn, source, alias string, scope *SnapshotScope) error {
	relations, err := martRelations(ctx, conn, source)
	if err != nil {
		return err
	}
	if scope != nil && !slices.Contains(relations, scope.Owners) {
		if !scope.Optional {
			return fmt.Errorf("row-level scope: %s.%s, the owner of each party, is not in the warehouse (run cdp view)", martSchema, scope.Owners)
		}
		scope = nil
	}
	into := martSchema
	if scope != nil {
		into = ScopeBaseSchema
	}
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+alias+"."+into); err != nil {
		return fmt.Errorf("create the %s schema: %w", into, err)
	}
	for _, name := range relations {
		q := fmt.Sprintf("CREATE TABLE %s.%s.%s AS SELECT * FROM %s.%s.%s",
			alias, into, Ident(name), Ident(source), martSchema, Ident(name))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("copy %s.%s: %w", martSchema, name, err)
		}
	}
	if scope == nil {
		return nil
	}
	return writeScopeViews(ctx, conn, alias, relations, scope)
}

// martRelations lists the base tables and views of the mart schema.
func martRelations(ctx context.Context, conn *sql.Conn, source string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `
		SELECT table_name FROM duckdb_tables()
		WHERE database_name = $1 AND schema_name = $2 AND NOT temporary
		UNION ALL
		SELECT view_name FROM duckdb_views()
		WHERE database_name = $1 AND schema_name = $2 AND NOT internal AND NOT temporary
		ORDER BY 1`, source, martSchema)
	if err != nil {
		return nil, fmt.Errorf("list the mart tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// removeDatabaseFile removes a DuckDB file and its write-ahead log, if any.
func removeDatabaseFile(path string) error {
	for _, p := range []string{path, path + ".wal"} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// SnapshotOptions tune a DuckDB instance reading a snapshot.
type SnapshotOptions struct {
	MemoryLimit string // e.g. "2GB"; empty keeps DuckDB's default (80% of RAM)
	Threads     int    // 0 = all cores
	TimeZone    string // for TIMESTAMPTZ arithmetic and casts; default Asia/Shanghai, like the warehouse
	// Init are statements every connection runs when it opens, after the
	// lockdown: temporary macros and views a reader's clients expect (the
	// SQL endpoint's Postgres catalog). They cannot write the file.
	Init []string
}

// OpenSnapshot opens a snapshot file for untrusted readers. The instance
// is read-only (access_mode=read_only), cannot touch files, attach
// databases or load extensions (enable_external_access=false, extension
// autoinstall and autoload off), and its settings cannot be changed
// (lock_configuration=true). All of it is fixed when the instance starts,
// before its first connection runs any query, and checked before
// OpenSnapshot returns.
//
// Every call opens an instance of its own, through a hard link to the file
// that is removed once the file is open. The DuckDB driver shares one
// instance per path: opened by its path, a new snapshot renamed over the
// old one would be served by the old instance while that one is still
// open. The link also gives the instance a spill directory of its own
// (DuckDB's default, beside the file with a .tmp suffix, would otherwise
// be where Snapshot builds the next snapshot).
func OpenSnapshot(ctx context.Context, path string, o SnapshotOptions) (*sql.DB, error) {
	if o.TimeZone == "" {
		o.TimeZone = "Asia/Shanghai"
	}
	link, err := linkSnapshot(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer os.Remove(link)
	q := url.Values{}
	q.Set("access_mode", "READ_ONLY")
	q.Set("enable_external_access", "false")
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	if o.MemoryLimit != "" {
		q.Set("memory_limit", o.MemoryLimit)
	}
	if o.Threads > 0 {
		q.Set("threads", strconv.Itoa(o.Threads))
	}
	// TimeZone comes from the ICU extension and is not accepted at open:
	// the first connection sets it for the instance, then locks the
	// configuration. Every connection waits for that before it is handed out.
	var (
		once    sync.Once
		lockErr error
	)
	connector, err := duckdb.NewConnector(link+"?"+q.Encode(), func(execer driver.ExecerContext) error {
		once.Do(func() { lockErr = lockSnapshotConfig(execer, o.TimeZone) })
		if lockErr != nil {
			return lockErr
		}
		for _, stmt := range o.Init {
			if _, err := execer.ExecContext(context.Background(), stmt, nil); err != nil {
				return fmt.Errorf("snapshot connection init: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	// A connection costs its Init statements when it opens (the SQL
	// endpoint's catalog: about 16 ms), so connections are kept for reuse
	// rather than closed past database/sql's default of two idle ones.
	db.SetMaxIdleConns(32)
	if err := checkLockedDown(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return db, nil
}

// linkSnapshot makes a hard link to path under a name of its own. The
// link keeps the catalog name (DuckDB names it after the file name up to
// its first dot: analyst.duckdb.open-… opens as "analyst").
func linkSnapshot(path string) (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	link := path + ".open-" + hex.EncodeToString(b)
	if err := os.Link(path, link); err != nil {
		return "", err
	}
	return link, nil
}

// lockSnapshotConfig sets the time zone for the whole instance and locks
// the configuration.
func lockSnapshotConfig(execer driver.ExecerContext, timeZone string) error {
	for _, q := range []string{
		"SET GLOBAL TimeZone = " + Literal(timeZone),
		"SET GLOBAL lock_configuration = true",
	} {
		if _, err := execer.ExecContext(context.Background(), q, nil); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// checkLockedDown refuses an instance whose lockdown did not take.
func checkLockedDown(ctx context.Context, db *sql.DB) error {
	var mode string
	var external, locked bool
	err := db.QueryRowContext(ctx, `SELECT lower(current_setting('access_mode')),
		current_setting('enable_external_access'), current_setting('lock_configuration')`).Scan(&mode, &external, &locked)
	if err != nil {
		return err
	}
	if mode != "read_only" || external || !locked {
		return fmt.Errorf("not locked down (access_mode=%s enable_external_access=%t lock_configuration=%t)", mode, external, locked)
	}
	return nil
}
