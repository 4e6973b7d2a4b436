package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"cdp/connectors/contract"
)

// Load kinds.
const (
	KindFile   = "file"
	KindStream = "stream"
)

// Load statuses in ops.loads.
const (
	StatusLoaded     = "loaded"
	StatusSuperseded = "superseded"
	StatusFailed     = "failed"
	StatusPending    = "pending"
)

// Load is one unit of input to commit atomically: a file, or a slice of a
// stream.
type Load struct {
	RunID  string
	Feed   string // config feed name
	Entity *contract.Entity
	Kind   string // KindFile or KindStream
	Source string // file path relative to the feed root, or the topic
	MD5    string
	Bytes  int64
	MTime  time.Time // the file's modification time (files only)
	// Records yields batches with Entity.BatchSchema(). The warehouse drains it
	// inside the transaction.
	Records array.RecordReader
	// SourceSQL is the SQL expression, over the batch columns, of each row's
	// _source lineage (e.g. 'credit/customers_20261120.csv:' || _pos).
	SourceSQL string
	// Finish is called once Records is drained. It returns how many rows were
	// read and the rows rejected on the way; an error aborts the whole load.
	Finish func() (rowsIn int64, rejects []contract.Reject, err error)
	// Offsets is the stream checkpoint this load advances to.
	Offsets []StreamOffset
	// InsertThreads, when set, caps DuckDB's threads while the batches stream
	// in: the connector's parse workers are busy on the other cores then.
	InsertThreads int
	// DedupeKeysPerPass bounds the keys the duplicate check hashes at once;
	// 0 means DefaultDedupeKeysPerPass.
	DedupeKeysPerPass int64
}

// StreamOffset is the next offset to read from a topic partition.
type StreamOffset struct {
	Topic     string
	Partition int32
	Next      int64
}

// Result is what one committed load did.
type Result struct {
	LoadID   int64
	RowsIn   int64
	Loaded   int64
	Rejected int64
	Replaced int64 // rows of an earlier delivery of the same file removed
	Reasons  map[string]int64
	// Stage timings, for logs and metrics.
	InsertSeconds, DedupeSeconds, CommitSeconds float64
}

var viewSeq atomic.Int64

// DefaultDedupeKeysPerPass bounds the keys the duplicate check hashes at
// once: a million keys fit the 64MB a load runs under by default (measured
// on DuckDB 1.5 with 20M event ids).
const DefaultDedupeKeysPerPass = 1_000_000

// Load commits one load: rows, rejects, ledger row and checkpoint in one
// transaction.
func (w *Warehouse) Load(ctx context.Context, l Load) (res Result, err error) {
	started := time.Now()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("load %s: %w", l.Source, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return res, fmt.Errorf("load %s: begin: %w", l.Source, err)
	}
	committed := false
	defer func() {
		if !committed {
			// Use a fresh context: the caller's may be the one that was cancelled.
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	if err := conn.QueryRowContext(ctx, "SELECT nextval('ops.load_id_seq')").Scan(&res.LoadID); err != nil {
		return res, fmt.Errorf("load %s: %w", l.Source, err)
	}
	if l.Kind == KindFile {
		if res.Replaced, err = replaceEarlierDelivery(ctx, conn, l, res.LoadID); err != nil {
			return res, fmt.Errorf("load %s: correction: %w", l.Source, err)
		}
	}

	if crashHook != nil {
		l.Records = &crashingReader{RecordReader: l.Records}
	}
	t0 := time.Now()
	inserted, err := w.insertRecords(ctx, conn, l, res.LoadID)
	res.InsertSeconds = time.Since(t0).Seconds()
	if err != nil {
		return res, fmt.Errorf("load %s: %w", l.Source, err)
	}
	rowsIn, rejects, err := l.Finish()
	if err != nil {
		return res, err
	}
	res.RowsIn = rowsIn

	// From here to the commit (whose checkpoint writes the new blocks), one
	// DuckDB thread: a second one's working memory made the peak grow with
	// the table (a 20M-event file: +37–40% peak RSS over a 2M-event one with
	// two threads, +23% with one; cdp bench ingest --memory). The setting is
	// global, so it is set outside this transaction.
	restoreThreads, err := w.TemporarySetting(ctx, "threads", "1")
	if err != nil {
		return res, fmt.Errorf("load %s: %w", l.Source, err)
	}
	defer restoreThreads()
	t0 = time.Now()
	for _, k := range duplicateKeys(l.Entity) {
		dups, err := rejectDuplicateKeys(ctx, conn, l, res.LoadID, inserted, k)
		if err != nil {
			return res, fmt.Errorf("load %s: duplicate keys: %w", l.Source, err)
		}
		inserted -= dups
		res.Rejected += dups
		if dups > 0 {
			if res.Reasons == nil {
				res.Reasons = map[string]int64{}
			}
			res.Reasons[contract.ReasonDuplicate] += dups
		}
	}
	for _, c := range l.Entity.Checks {
		failed, err := rejectFailedCheck(ctx, conn, l, res.LoadID, c)
		if err != nil {
			return res, fmt.Errorf("load %s: check %s of %s: %w", l.Source, c.Reason, l.Entity.ID(), err)
		}
		inserted -= failed
		res.Rejected += failed
		if failed > 0 {
			if res.Reasons == nil {
				res.Reasons = map[string]int64{}
			}
			res.Reasons[c.Reason] += failed
		}
	}
	res.DedupeSeconds = time.Since(t0).Seconds()
	if err := insertRejects(ctx, conn, l, res.LoadID, rejects); err != nil {
		return res, fmt.Errorf("load %s: rejects: %w", l.Source, err)
	}
	for _, r := range rejects {
		if res.Reasons == nil {
			res.Reasons = map[string]int64{}
		}
		res.Reasons[r.Reason]++
	}
	res.Rejected += int64(len(rejects))
	res.Loaded = inserted
	if res.RowsIn != res.Loaded+res.Rejected {
		return res, fmt.Errorf("load %s: %d rows in but %d loaded + %d rejected: refusing to commit", l.Source, res.RowsIn, res.Loaded, res.Rejected)
	}

	if _, err := conn.ExecContext(ctx, `INSERT INTO ops.loads (load_id, run_id, feed, entity, kind, source, md5, bytes,
		rows_in, rows_loaded, rows_rejected, rows_replaced, status, started_at, finished_at, contract_version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)`,
		res.LoadID, l.RunID, l.Feed, l.Entity.ID(), l.Kind, l.Source, NullString(l.MD5), l.Bytes,
		res.RowsIn, res.Loaded, res.Rejected, res.Replaced, StatusLoaded, started, l.Entity.VersionLabel()); err != nil {
		return res, fmt.Errorf("load %s: ledger: %w", l.Source, err)
	}
	if err := advanceCheckpoint(ctx, conn, l, res); err != nil {
		return res, fmt.Errorf("load %s: checkpoint: %w", l.Source, err)
	}
	if crashHook != nil {
		crashHook("before-commit")
	}
	t0 = time.Now()
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return res, fmt.Errorf("load %s: commit: %w", l.Source, err)
	}
	res.CommitSeconds = time.Since(t0).Seconds()
	committed = true
	return res, nil
}

// crashHook lets the crash test kill the process at a named point.
var crashHook func(point string)

// crashingReader calls the crash hook before each batch reaches DuckDB, so a
// test can kill the process with rows of an open transaction half-written.
type crashingReader struct{ array.RecordReader }

func (r *crashingReader) Next() bool {
	crashHook("batch")
	return r.RecordReader.Next()
}

// SetCrashHook installs a function called at named points inside a load
// transaction (tests only).
func SetCrashHook(f func(point string)) { crashHook = f }

// NullString is s as a SQL argument, NULL when empty.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// replaceEarlierDelivery deletes the rows of earlier loads of the same file and
// marks those loads superseded. For an entity with a unique key, a deleted
// row may have been the kept copy of a key another source also delivered
// (its copy rejected as duplicate_key): that copy is restored from
// ops.rejects, so a correction never loses a row another source still has.
func replaceEarlierDelivery(ctx context.Context, conn *sql.Conn, l Load, loadID int64) (replaced int64, err error) {
	table := l.Entity.Table()
	earlier := `SELECT load_id FROM ops.loads WHERE feed = ? AND source = ? AND status = 'loaded'`
	gone := fmt.Sprintf("cdp_gone_%d", loadID)
	if key := l.Entity.UniqueKey; key != "" {
		// Only keys another load delivered too (its copy rejected as
		// duplicate_key) can need restoring: those come from ops.rejects,
		// which is small, and are the build side of the probe, so a
		// correction of a large file needs no memory for all its keys.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE %[1]s AS
			SELECT DISTINCT %[2]s AS k FROM %[3]s WHERE _load_id IN (`+earlier+`)
			AND %[2]s IN (SELECT json_extract_string(r.raw, '$.%[2]s') FROM ops.rejects r JOIN ops.loads o USING (load_id)
				WHERE r.entity = ? AND r.reason = '%[4]s' AND o.status = 'loaded' AND NOT (o.feed = ? AND o.source = ?))`,
			gone, key, table, contract.ReasonDuplicate), l.Feed, l.Source, l.Entity.ID(), l.Feed, l.Source); err != nil {
			return 0, err
		}
		defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+gone)
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE _load_id IN (`+earlier+`)`, table), l.Feed, l.Source)
	if err != nil {
		return 0, err
	}
	replaced, _ = res.RowsAffected()
	if _, err := conn.ExecContext(ctx, `UPDATE ops.loads SET status = 'superseded', superseded_by = ?
		WHERE feed = ? AND source = ? AND status = 'loaded'`, loadID, l.Feed, l.Source); err != nil {
		return 0, err
	}
	if l.Entity.UniqueKey != "" {
		if err := restoreDuplicateCopies(ctx, conn, l, gone); err != nil {
			return 0, fmt.Errorf("restoring copies from other sources: %w", err)
		}
	}
	return replaced, nil
}

// restoreDuplicateCopies puts back, for every key in the gone table, the
// earliest duplicate_key reject of a still-loaded load, and moves it from
// that load's rejected count to its loaded count.
func restoreDuplicateCopies(ctx context.Context, conn *sql.Conn, l Load, gone string) error {
	e := l.Entity
	var spec, cols, typed []string
	for _, c := range e.Columns {
		spec = append(spec, fmt.Sprintf(`"%s":"%s"`, c.Name, c.SQL()))
		cols = append(cols, c.Name)
		typed = append(typed, "s."+c.Name)
	}
	spec = append(spec, `"_extra":"JSON"`)
	pick := gone + "_pick"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE %[1]s AS
		SELECT r.rowid AS rid, r.load_id, r.position, json_transform(r.raw, '{%[2]s}') AS s
		FROM ops.rejects r JOIN ops.loads l USING (load_id)
		WHERE r.entity = ? AND r.reason = '%[3]s' AND l.status = 'loaded'
		  AND json_extract_string(r.raw, '$.%[4]s') IN (SELECT k FROM %[5]s)
		QUALIFY row_number() OVER (PARTITION BY json_extract_string(r.raw, '$.%[4]s')
		                           ORDER BY r.load_id, r.line, r."offset") = 1`,
		pick, strings.Join(spec, ","), contract.ReasonDuplicate, e.UniqueKey, gone), e.ID()); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+pick)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s, _extra, _load_id, _source, _ingested_at)
		SELECT %s, s._extra, load_id, position, now() FROM (SELECT load_id, position, unnest(s) FROM %s) AS s`,
		e.Table(), strings.Join(cols, ", "), strings.Join(typed, ", "), pick)); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE ops.loads SET rows_loaded = rows_loaded + p.n, rows_rejected = rows_rejected - p.n
		FROM (SELECT load_id, count(*) AS n FROM %s GROUP BY load_id) p WHERE ops.loads.load_id = p.load_id`, pick)); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, fmt.Sprintf(`DELETE FROM ops.rejects WHERE rowid IN (SELECT rid FROM %s)`, pick))
	return err
}

func (w *Warehouse) insertRecords(ctx context.Context, conn *sql.Conn, l Load, loadID int64) (int64, error) {
	var cols []string
	for _, c := range l.Entity.Columns {
		cols = append(cols, c.Name)
	}
	colList := strings.Join(cols, ", ")
	view := fmt.Sprintf("cdp_batch_%d", viewSeq.Add(1))
	query := fmt.Sprintf(`INSERT INTO %s (%s, _extra, _load_id, _source, _ingested_at)
		SELECT %s, _extra, %d, %s, now() FROM %s`, l.Entity.Table(), colList, colList, loadID, l.SourceSQL, view)
	if l.InsertThreads > 0 {
		restore, err := w.TemporarySetting(ctx, "threads", strconv.Itoa(l.InsertThreads))
		if err != nil {
			return 0, err
		}
		defer restore()
	}
	n, err := execWithView(ctx, conn, l.Records, view, query)
	if err != nil {
		// The reader's own error (a parse failure that ends the file) is the
		// more useful one; DuckDB only sees a failed stream.
		if rerr := l.Records.Err(); rerr != nil {
			return 0, rerr
		}
		return 0, err
	}
	return n, nil
}

// dupKey is a key a load's rows must not repeat: an SQL expression over the
// raw table's columns, its name for reject details, the condition that it
// is complete (a row missing part of its key is not a duplicate), and
// whether earlier loads count (a unique key) or only this load (the
// entity's key: a daily snapshot repeats its keys every day, one file may
// not).
type dupKey struct {
	expr, name, complete string
	across               bool
}

// duplicateKeys are the keys a load of the entity is checked against.
func duplicateKeys(e *contract.Entity) []dupKey {
	var out []dupKey
	if e.UniqueKey != "" {
		out = append(out, dupKey{expr: e.UniqueKey, name: e.UniqueKey, complete: e.UniqueKey + " IS NOT NULL", across: true})
	}
	if len(e.Key) > 0 && !(len(e.Key) == 1 && e.Key[0] == e.UniqueKey) {
		k := dupKey{expr: e.Key[0], name: e.Key[0]}
		if len(e.Key) > 1 {
			fields := make([]string, len(e.Key))
			for i, c := range e.Key {
				fields[i] = c + " := " + c
			}
			k.expr, k.name = "struct_pack("+strings.Join(fields, ", ")+")", "key"
		}
		parts := make([]string, len(e.Key))
		for i, c := range e.Key {
			parts[i] = c + " IS NOT NULL"
		}
		k.complete = strings.Join(parts, " AND ")
		out = append(out, k)
	}
	return out
}

// rejectDuplicateKeys moves rows of this load whose key is already loaded
// (earlier in this load, or, for a unique key, by an earlier load) to
// ops.rejects.
func rejectDuplicateKeys(ctx context.Context, conn *sql.Conn, l Load, loadID, loadRows int64, dk dupKey) (int64, error) {
	key := dk.expr
	table := l.Entity.Table()
	var cols []string
	for _, c := range l.Entity.Columns {
		cols = append(cols, fmt.Sprintf("'%s', d.%s", c.Name, c.Name))
	}
	cols = append(cols, "'_extra', d._extra")
	stage := fmt.Sprintf("cdp_dups_%d", loadID)
	keys := stage + "_keys"
	// Find the duplicated keys first (usually none): an aggregate over this
	// load, and a probe of the table with this load's keys as the build side,
	// so the cost follows the load's size more than the table's. Both hash
	// every key of the load, so a large load is checked in passes over
	// slices of the key hash, each of at most DedupeKeysPerPass keys: the
	// memory the check needs stays the same whatever the file's size, and
	// fits the small ingest.memory_limit a load runs under.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE %s AS SELECT %s AS k FROM %s LIMIT 0`, keys, key, table)); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+keys)
	var others bool // does the table hold rows of other loads that count?
	if dk.across {
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE _load_id <> %d)`, table, loadID)).Scan(&others); err != nil {
			return 0, err
		}
	}
	perPass := l.DedupeKeysPerPass
	if perPass <= 0 {
		perPass = DefaultDedupeKeysPerPass
	}
	passes := max(1, (loadRows+perPass-1)/perPass)
	for p := range passes {
		slice := "true"
		if passes > 1 {
			slice = fmt.Sprintf("hash(%s) %% %d = %d", key, passes, p)
		}
		query := fmt.Sprintf(`INSERT INTO %[1]s
			SELECT %[2]s FROM %[3]s WHERE _load_id = %[4]d AND %[5]s AND %[6]s GROUP BY 1 HAVING count(*) > 1`, keys, key, table, loadID, slice, dk.complete)
		if others {
			query += fmt.Sprintf(`
			UNION
			SELECT DISTINCT o.%[1]s FROM %[2]s o
			WHERE o._load_id <> %[3]d AND %[4]s AND o.%[1]s IN (SELECT %[1]s FROM %[2]s WHERE _load_id = %[3]d AND %[4]s)`, key, table, loadID, slice)
		}
		if _, err := conn.ExecContext(ctx, query); err != nil {
			return 0, fmt.Errorf("pass %d of %d: %w", p+1, passes, err)
		}
	}
	var found int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+keys).Scan(&found); err != nil {
		return 0, err
	}
	if found == 0 {
		return 0, nil
	}
	// Of every copy of those keys, the earlier load's (or else the first in
	// this load) is kept; the rest of this load's copies are rejected.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TABLE %[1]s AS
		WITH copies AS (
			SELECT rowid AS rid, %[2]s AS k, _source, _load_id = %[4]d AS mine FROM %[3]s
			WHERE %[6]s AND %[2]s IN (SELECT k FROM %[5]s) AND (%[7]v OR _load_id = %[4]d)),
		ranked AS (
			SELECT *, row_number() OVER w AS n, first_value(_source) OVER w AS kept FROM copies
			WINDOW w AS (PARTITION BY k ORDER BY mine, rid))
		SELECT rid, _source, k, kept FROM ranked WHERE mine AND n > 1`,
		stage, key, table, loadID, keys, dk.complete, dk.across)); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+stage)
	src := l.Source
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO ops.rejects
		SELECT %[1]d, ?, ?, ?, s._source,
			CASE WHEN ? = 'file' THEN TRY_CAST(split_part(s._source, ':', -1) AS BIGINT) END,
			CASE WHEN ? = 'stream' THEN TRY_CAST(split_part(s._source, '/', -2) AS INTEGER) END,
			CASE WHEN ? = 'stream' THEN TRY_CAST(split_part(s._source, '/', -1) AS BIGINT) END,
			'%[2]s', '%[3]s ' || CAST(s.k AS VARCHAR) || ' already loaded from ' || s.kept,
			to_json(json_object(%[4]s))::VARCHAR, now()
		FROM %[5]s s JOIN %[6]s d ON d.rowid = s.rid`,
		loadID, contract.ReasonDuplicate, dk.name, strings.Join(cols, ", "), stage, table),
		l.Feed, l.Entity.ID(), src, l.Kind, l.Kind, l.Kind); err != nil {
		return 0, err
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE rowid IN (SELECT rid FROM %s)`, table, stage))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rejectFailedCheck moves rows of this load that fail a check of the
// contract (contract.Check) to ops.rejects.
func rejectFailedCheck(ctx context.Context, conn *sql.Conn, l Load, loadID int64, c contract.Check) (int64, error) {
	table := l.Entity.Table()
	stage := fmt.Sprintf("cdp_checked_%d", loadID)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS
		SELECT r.rowid AS rid, r._source, %s AS detail, %s AS raw
		FROM %s r WHERE r._load_id = %d AND NOT coalesce((%s), false)`,
		stage, c.DetailSQL(), rawJSON(l.Entity, "r"), table, loadID, c.Valid)); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+stage)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO ops.rejects
		SELECT %[1]d, ?, ?, ?, s._source,
			CASE WHEN ? = 'file' THEN TRY_CAST(split_part(s._source, ':', -1) AS BIGINT) END,
			CASE WHEN ? = 'stream' THEN TRY_CAST(split_part(s._source, '/', -2) AS INTEGER) END,
			CASE WHEN ? = 'stream' THEN TRY_CAST(split_part(s._source, '/', -1) AS BIGINT) END,
			?, s.detail, s.raw, now()
		FROM %[2]s s`, loadID, stage),
		l.Feed, l.Entity.ID(), l.Source, l.Kind, l.Kind, l.Kind, c.Reason); err != nil {
		return 0, err
	}
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE rowid IN (SELECT rid FROM %s)`, table, stage))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rawJSON is a row of the entity as the JSON object ops.rejects keeps.
func rawJSON(e *contract.Entity, alias string) string {
	var cols []string
	for _, c := range e.Columns {
		cols = append(cols, fmt.Sprintf("'%s', %s.%s", c.Name, alias, c.Name))
	}
	cols = append(cols, fmt.Sprintf("'_extra', %s._extra", alias))
	return "to_json(json_object(" + strings.Join(cols, ", ") + "))::VARCHAR"
}

var rejectSchema = arrow.NewSchema([]arrow.Field{
	{Name: "position", Type: arrow.BinaryTypes.String},
	{Name: "line", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "offset", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "reason", Type: arrow.BinaryTypes.String},
	{Name: "detail", Type: arrow.BinaryTypes.String},
	{Name: "raw", Type: arrow.BinaryTypes.String},
}, nil)

func insertRejects(ctx context.Context, conn *sql.Conn, l Load, loadID int64, rejects []contract.Reject) error {
	if len(rejects) == 0 {
		return nil
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, rejectSchema)
	defer b.Release()
	for _, r := range rejects {
		b.Field(0).(*array.StringBuilder).Append(r.Position)
		if l.Kind == KindFile {
			b.Field(1).(*array.Int64Builder).Append(r.Line)
			b.Field(2).AppendNull()
			b.Field(3).AppendNull()
		} else {
			b.Field(1).AppendNull()
			b.Field(2).(*array.Int32Builder).Append(r.Partition)
			b.Field(3).(*array.Int64Builder).Append(r.Offset)
		}
		b.Field(4).(*array.StringBuilder).Append(r.Reason)
		b.Field(5).(*array.StringBuilder).Append(r.Detail)
		b.Field(6).(*array.StringBuilder).Append(r.Raw)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, err := array.NewRecordReader(rejectSchema, []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	defer rr.Release()
	view := fmt.Sprintf("cdp_rejects_%d", viewSeq.Add(1))
	_, err = execWithView(ctx, conn, rr, view, fmt.Sprintf(`INSERT INTO ops.rejects
		SELECT %d, $1, $2, $3, position, line, "partition", "offset", reason, detail, raw, now() FROM %s`, loadID, view),
		driver.NamedValue{Ordinal: 1, Value: l.Feed}, driver.NamedValue{Ordinal: 2, Value: l.Entity.ID()},
		driver.NamedValue{Ordinal: 3, Value: l.Source})
	return err
}

func advanceCheckpoint(ctx context.Context, conn *sql.Conn, l Load, res Result) error {
	switch l.Kind {
	case KindFile:
		if _, err := conn.ExecContext(ctx, `DELETE FROM ops.file_checkpoints WHERE feed = ? AND path = ?`, l.Feed, l.Source); err != nil {
			return err
		}
		var mtime any
		if !l.MTime.IsZero() {
			mtime = l.MTime
		}
		_, err := conn.ExecContext(ctx, `INSERT INTO ops.file_checkpoints (feed, path, md5, bytes, rows_in, load_id, loaded_at, mtime)
			VALUES (?, ?, ?, ?, ?, ?, now(), ?)`, l.Feed, l.Source, l.MD5, l.Bytes, res.RowsIn, res.LoadID, mtime)
		return err
	case KindStream:
		for _, o := range l.Offsets {
			if _, err := conn.ExecContext(ctx, `DELETE FROM ops.stream_checkpoints WHERE feed = ? AND topic = ? AND "partition" = ?`,
				l.Feed, o.Topic, o.Partition); err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, `INSERT INTO ops.stream_checkpoints VALUES (?, ?, ?, ?, ?, now())`,
				l.Feed, o.Topic, o.Partition, o.Next, res.LoadID); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("unknown load kind " + l.Kind)
}

// Attempt is a load that did not happen: a file still waiting for its control
// file, or one that failed as a whole. It is recorded in ops.loads so the
// ledger shows every attempt.
type Attempt struct {
	RunID, Feed, Entity, Kind, Source, MD5 string
	Bytes                                  int64
	Status                                 string // StatusFailed or StatusPending
	Err                                    error
	Started                                time.Time
}

// RecordAttempt writes a failed or pending attempt to ops.loads.
func (w *Warehouse) RecordAttempt(ctx context.Context, a Attempt) (int64, error) {
	var id int64
	msg := ""
	if a.Err != nil {
		msg = a.Err.Error()
	}
	err := w.db.QueryRowContext(ctx, `INSERT INTO ops.loads (load_id, run_id, feed, entity, kind, source, md5, bytes,
		status, error, started_at, finished_at)
		VALUES (nextval('ops.load_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()) RETURNING load_id`,
		a.RunID, a.Feed, a.Entity, a.Kind, a.Source, NullString(a.MD5), a.Bytes, a.Status, NullString(msg), a.Started).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record attempt for %s: %w", a.Source, err)
	}
	return id, nil
}

// FileCheckpoint is how a file was when it was last loaded.
type FileCheckpoint struct {
	MD5   string
	Bytes int64
	MTime time.Time // zero when not recorded
}

// FileCheckpoints returns the feed's loaded files by source path.
func (w *Warehouse) FileCheckpoints(ctx context.Context, feed string) (map[string]FileCheckpoint, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT path, md5, bytes, mtime FROM ops.file_checkpoints WHERE feed = ?`, feed)
	if err != nil {
		return nil, fmt.Errorf("file checkpoints of %s: %w", feed, err)
	}
	defer rows.Close()
	out := map[string]FileCheckpoint{}
	for rows.Next() {
		var path string
		var cp FileCheckpoint
		var mtime sql.NullTime
		if err := rows.Scan(&path, &cp.MD5, &cp.Bytes, &mtime); err != nil {
			return nil, err
		}
		if mtime.Valid {
			cp.MTime = mtime.Time
		}
		out[path] = cp
	}
	return out, rows.Err()
}

// StreamCheckpoint returns the next offset per partition for the feed's topic.
func (w *Warehouse) StreamCheckpoint(ctx context.Context, feed, topic string) (map[int32]int64, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT "partition", next_offset FROM ops.stream_checkpoints WHERE feed = ? AND topic = ?`, feed, topic)
	if err != nil {
		return nil, fmt.Errorf("stream checkpoint %s: %w", topic, err)
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var p int32
		var off int64
		if err := rows.Scan(&p, &off); err != nil {
			return nil, err
		}
		out[p] = off
	}
	return out, rows.Err()
}
