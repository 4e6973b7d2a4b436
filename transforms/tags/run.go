package tags

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"cdp/outbox"
	"cdp/pii"
	"cdp/transforms/core"
	"cdp/warehouse"
)

// RunOptions are one tag run's settings.
type RunOptions struct {
	// AsOf is the business date the run describes; zero means the newest
	// snapshot day in core.aum_daily (an error when there is none).
	AsOf  time.Time
	RunID string
	// Full computes every tag; by default a tag whose SQL and input tables
	// are unchanged since it was last computed is skipped (ops.tag_inputs).
	Full bool
	// AllowPII lets tag values that carry ID numbers or mobiles into
	// tag-change events unmasked; by default the events mask them
	// (pii.Redact, in SQL mask_text) as every event does. mart.tags keeps
	// the values as computed.
	AllowPII bool
	Logger   *slog.Logger
}

// RunSummary is what a tag run did.
type RunSummary struct {
	RunID string `json:"run_id"`
	AsOf  string `json:"as_of"`
	Tags  int    `json:"tags"`
	// Unchanged is how many tags were skipped because nothing they read
	// changed since they were last computed; Values counts the others'.
	Unchanged int `json:"unchanged_skipped"`
	// Partial is how many of the computed tags were computed for the
	// parties whose rows changed only (party-scoped tags, see Run), and
	// PartialParties how many parties that was, over all of them.
	Partial        int   `json:"changed_parties_only"`
	PartialParties int64 `json:"changed_parties"`
	// PartialTags are those tags, by id; Filtered those of them that read
	// their tables filtered to the changed parties (the others read every
	// party's rows, their values filtered after: see restrictToParties).
	PartialTags []string `json:"-"`
	Filtered    []string `json:"-"`
	Values      int64    `json:"values"`
	Changes     int64    `json:"changes"`
	// Events is how many tag-change events (one per party with changes)
	// went to the outbox; none on the baseline run, the first on an empty
	// mart.tags, whose values CRMs take from cdp.profile or SQL instead.
	Events   int64          `json:"events"`
	Baseline bool           `json:"baseline,omitempty"`
	ByTag    map[string]int `json:"changes_by_tag,omitempty"`
	Seconds  float64        `json:"seconds"`
}

// Run computes every tag of the catalog for every party and records, in one
// transaction, the current values (mart.tags), their history
// (mart.tag_history: the value a party had on any day is the row with
// valid_from ≤ day < valid_to) and what changed (mart.tag_changes; not on
// the baseline run, the first over an empty mart.tags, whose values are
// the history's first rows).
//
// Runs go forward in business time: a run for a date before the last run's
// is refused. A second run for the same date replaces that date's values.
func Run(ctx context.Context, w *warehouse.Warehouse, cat *Catalog, o RunOptions) (*RunSummary, error) {
	start := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.RunID == "" {
		o.RunID = "tags-" + start.UTC().Format("20060102T150405.000")
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	asOf, err := core.BusinessDate(ctx, conn, o.AsOf, "ops.tag_runs")
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}

	var sum *RunSummary
	err = warehouse.InTx(ctx, conn, func() (err error) {
		sum, err = compute(ctx, conn, cat, asOf, o, start, w.Budget().DuckDB, log)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("tags computed", "as_of", asOf, "values", sum.Values, "changes", sum.Changes,
		"changed_parties_only", sum.Partial, "read_for_them_alone", len(sum.Filtered), "seconds", sum.Seconds)
	return sum, nil
}

// compute fills mart.tags, mart.tag_history, mart.tag_changes and
// ops.tag_runs on conn, inside the caller's transaction.
func compute(ctx context.Context, conn *sql.Conn, cat *Catalog, asOf string, o RunOptions, start time.Time, duckdb int64, log *slog.Logger) (*RunSummary, error) {
	runID := o.RunID
	var existing int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM mart.tags`).Scan(&existing); err != nil {
		return nil, err
	}
	queries := map[string]string{} // the tags' SQL as of the day
	for _, t := range cat.Tags {
		var err error
		if queries[t.ID], err = t.Query(asOf); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
		}
	}
	// The last run's day, and the SQL of the tags with windows as of it:
	// what their inputs hash was in that run (tagState.before). The value
	// of any other tag whose SQL names the day moves with the calendar
	// (an age, loans maturing within 90 days): its SQL as of today is not
	// what it was, and it is computed for every party.
	var lastDay, lastRun sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR), arg_max(run_id, finished_at) FROM ops.tag_runs`).Scan(&lastDay, &lastRun); err != nil {
		return nil, fmt.Errorf("ops.tag_runs: %w", err)
	}
	queriesBefore := maps.Clone(queries)
	for _, t := range cat.Tags {
		if len(t.Windows) > 0 && lastDay.Valid {
			var err error
			if queriesBefore[t.ID], err = t.Query(lastDay.String); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
			}
		}
	}
	t0 := time.Now()
	in, err := tagInputs(ctx, conn, cat, queries, queriesBefore, runID)
	if err != nil {
		return nil, err
	}
	inputs, read := in.hash, in.reads
	log.Debug("tag inputs printed", "tables_changed", len(in.changed), "seconds", time.Since(t0).Seconds())
	last := map[string]string{}
	if existing > 0 && !o.Full {
		// the input hash each tag was last computed with
		if last, err = keyed[string](ctx, conn, `SELECT tag_id, inputs FROM ops.tag_inputs`); err != nil {
			return nil, fmt.Errorf("ops.tag_inputs: %w", err)
		}
	}
	var computed []*Tag
	for _, t := range cat.Tags {
		if last[t.ID] == inputs[t.ID] {
			continue // nothing it reads changed: neither did its values
		}
		computed = append(computed, t)
	}
	pp, err := partyPrints(ctx, conn, cat, in, snapshotPrints{asOf: asOf, runID: runID, lastRun: lastRun.String}, log)
	if err != nil {
		return nil, fmt.Errorf("party prints: %w", err)
	}
	// A party-scoped tag whose stored inputs hash is what its inputs hash
	// was in the last run (the same SQL, and values computed from the
	// tables as the last run left them), and of whose tables only those
	// keyed by party changed since, is computed for the parties whose rows
	// there changed — and, for a tag with windows, those with rows on the
	// days that entered or left a window since the last run's day: the
	// others' values are what they were.
	partial := map[string][]string{} // tag → the changed tables its parties come from
	for _, t := range computed {
		if !pp.tags[t.ID] || last[t.ID] != in.before[t.ID] {
			continue
		}
		var from []string
		ok := true
		snap := map[string]bool{} // the tables it reads a snapshot of
		for _, win := range t.Windows {
			if win.Snapshot {
				key := snapshotKey(win.Table)
				snap[strings.ToLower(win.Table)] = true
				ok = ok && pp.diffed[key]
				from = append(from, key)
			}
			ok = ok && pp.keyed[strings.ToLower(win.Table)]
		}
		for _, tb := range read[t.ID].Tables {
			key := qualified(tb)
			if !in.changed[key] || snap[key] {
				continue
			}
			if !pp.diffed[key] {
				ok = false
				break
			}
			from = append(from, key)
		}
		if ok {
			partial[t.ID] = from
		}
	}
	edges := windowEdges{conn: conn, from: lastDay.String, to: asOf, done: map[Window]string{}}
	defer edges.drop(ctx)
	// Tags whose parties come from the same changes share a table of them.
	dirty := map[string]string{}     // tag → the temp table of its parties
	partySets := map[string]string{} // the query of the parties → its temp table
	defer func() {
		for _, table := range partySets {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+table) // (a failed run's rollback drops them)
		}
	}()
	for _, t := range computed {
		from, ok := partial[t.ID]
		if !ok {
			continue
		}
		var sources []string
		if len(from) > 0 {
			lits := make([]string, len(from))
			for i, f := range from {
				lits[i] = warehouse.Literal(f)
			}
			slices.Sort(lits)
			sources = append(sources, `SELECT party_id FROM cdp_party_changes WHERE table_name IN (`+strings.Join(slices.Compact(lits), ", ")+`)`)
		}
		for i, win := range t.Windows {
			if win.Snapshot {
				continue // (its parties are among from: the snapshot's prints)
			}
			table, err := edges.parties(ctx, win)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: windows[%d] (%s.%s): %w", t.File, t.Line, t.ID, i, win.Table, win.Column, err)
			}
			if table != "" {
				sources = append(sources, `SELECT party_id FROM `+table)
			}
		}
		if len(sources) == 0 {
			continue // no party changed: nothing to compute
		}
		slices.Sort(sources)
		q := strings.Join(slices.Compact(sources), " UNION ALL ")
		table, ok := partySets[q]
		if !ok {
			table = fmt.Sprintf("cdp_tag_parties_%d", len(partySets))
			if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+table+` AS SELECT DISTINCT party_id FROM (`+q+`)`); err != nil {
				return nil, fmt.Errorf("%s: changed parties: %w", t.ID, err)
			}
			partySets[q] = table
		}
		dirty[t.ID] = table
	}
	// The SQL run has each snapshot day as a date, not a subquery over the
	// snapshot table: the same values, and a tag computed for changed
	// parties reads its tables filtered to them (restrictToParties), where
	// the subquery would find the newest day of their rows.
	vars := core.AsOfFixed(ctx, conn, asOf)
	lit := warehouse.Literal
	day := "DATE " + lit(asOf)
	run := lit(runID)
	// The first run (no current values and no open history interval) has
	// nothing to compare with and nothing to close: each tag's values go
	// straight into mart.tags, and the history and the changes are copied
	// from there at the end. Any other run compares each tag's values with
	// its current ones as they are computed and keeps only what differs
	// (cdp_tag_found), with one row more a tag, its party_id NULL, counting
	// the values computed. Nothing bigger than one tag's values (a row a
	// party at most) is held: a table of every value would stay until the
	// transaction ends, as DuckDB keeps even a dropped temp table's rows
	// for a rollback, and at 5M parties the day's 300M values and their
	// comparison all at once spilled 27 GB.
	var open int64
	if existing == 0 {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM mart.tag_history WHERE valid_to IS NULL`).Scan(&open); err != nil {
			return nil, err
		}
	}
	first := existing == 0 && open == 0
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE cdp_tag_found (party_id VARCHAR, tag_id VARCHAR, old_value VARCHAR, new_value VARCHAR, gone BOOLEAN)`,
		`CREATE OR REPLACE TEMP VIEW cdp_tag_diff AS SELECT * FROM cdp_tag_found WHERE party_id IS NOT NULL`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	defer func() {
		for _, q := range []string{`DROP VIEW IF EXISTS cdp_tag_diff`, `DROP TABLE IF EXISTS cdp_tag_found`} {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), q) // (a failed run's rollback drops them)
		}
	}()
	written := map[string]int64{} // the first run: tag → values
	var filtered []string
	for _, t := range computed {
		_, part := partial[t.ID]
		if part && dirty[t.ID] == "" {
			continue // no party changed
		}
		text, err := t.Fill(vars)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
		}
		id := lit(t.ID)
		// (%s: the tag's SQL, formatted in below)
		values := `SELECT party_id, CAST(value AS VARCHAR) AS value FROM (%s) WHERE party_id IS NOT NULL`
		current := `SELECT party_id, value FROM mart.tags WHERE tag_id = ` + id
		if part {
			only := ` AND party_id IN (SELECT party_id FROM ` + dirty[t.ID] + `)`
			values += only
			current += only
		}
		// What differs from the current values, NULL-safe: a value
		// appearing or disappearing is a change too.
		q := `INSERT INTO cdp_tag_found
			 WITH cdp_new AS MATERIALIZED (` + values + `), cdp_old AS (` + current + `)
			 SELECT coalesce(n.party_id, o.party_id), ` + id + `, o.value, n.value, n.party_id IS NULL
			 FROM cdp_new n FULL JOIN cdp_old o ON o.party_id = n.party_id
			 WHERE o.party_id IS NULL OR n.party_id IS NULL OR o.value IS DISTINCT FROM n.value
			 UNION ALL SELECT NULL, ` + id + `, NULL, CAST(count(*) AS VARCHAR), NULL FROM cdp_new`
		if first {
			q = `INSERT INTO mart.tags SELECT party_id, ` + id + `, value, ` + day + `, ` + day + ` FROM (` + values + `)`
		}
		restricted := false
		if part {
			text, restricted = restrict(ctx, conn, t, text, pp.keyed, dirty[t.ID], q, log)
		}
		t0 := time.Now()
		res, err := conn.ExecContext(ctx, fmt.Sprintf(q, text))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
		}
		if first {
			if written[t.ID], err = res.RowsAffected(); err != nil {
				return nil, fmt.Errorf("%s: %w", t.ID, err)
			}
		}
		if restricted {
			filtered = append(filtered, t.ID)
		}
		log.Debug("tag computed", "tag", t.ID, "changed_parties_only", part, "tables_filtered", restricted, "seconds", time.Since(t0).Seconds())
	}
	// The catalog's tags, and which of them were computed, as tables: a
	// semi-join on them costs a fraction of an IN list of 127 literals
	// over millions of rows.
	ids := func(name string, tags []*Tag) error {
		q := `CREATE OR REPLACE TEMP TABLE ` + name + ` (tag_id VARCHAR, inputs VARCHAR)`
		if len(tags) > 0 {
			vals := make([]string, len(tags))
			for i, t := range tags {
				vals[i] = "(" + lit(t.ID) + ", " + lit(inputs[t.ID]) + ")"
			}
			q = `CREATE OR REPLACE TEMP TABLE ` + name + ` AS SELECT * FROM (VALUES ` + strings.Join(vals, ", ") + `) v(tag_id, inputs)`
		}
		_, err := conn.ExecContext(ctx, q)
		return err
	}
	if err := ids("cdp_tag_catalog", cat.Tags); err != nil {
		return nil, err
	}
	if err := ids("cdp_tag_computed", computed); err != nil {
		return nil, err
	}
	// Only the catalog's tags are compared: a tag removed from the catalog
	// keeps its last values rather than vanishing from history.
	inCatalog := "tag_id IN (SELECT tag_id FROM cdp_tag_catalog)"
	// Of those, only the tags computed: a skipped one keeps its values.
	inComputed := "tag_id IN (SELECT tag_id FROM cdp_tag_computed)"
	var stmts []string
	if first {
		// mart.tags holds this run's values alone: they begin the history.
		// They are not copied into mart.tag_changes as well: a change log
		// from nothing would repeat the history's first rows (391M values
		// at 5M parties, 37% of the run) and no event is sent for them.
		stmts = append(stmts,
			`INSERT INTO mart.tag_history SELECT party_id, tag_id, value, `+day+`, NULL, `+run+` FROM mart.tags`)
	} else {
		stmts = append(stmts,
			`INSERT INTO mart.tag_changes SELECT `+run+`, `+day+`, party_id, tag_id, old_value, new_value FROM cdp_tag_diff`,
			// History: a value that began today and changes again today is
			// replaced, not closed with an empty interval.
			`DELETE FROM mart.tag_history h USING cdp_tag_diff d
			 WHERE h.party_id = d.party_id AND h.tag_id = d.tag_id AND h.valid_to IS NULL AND h.valid_from = `+day,
			`UPDATE mart.tag_history h SET valid_to = `+day+` FROM cdp_tag_diff d
			 WHERE h.party_id = d.party_id AND h.tag_id = d.tag_id AND h.valid_to IS NULL`,
			`INSERT INTO mart.tag_history SELECT party_id, tag_id, new_value, `+day+`, NULL, `+run+`
			 FROM cdp_tag_diff WHERE NOT gone`,
			// Current values: changed ones get a new since; all get this as_of.
			`DELETE FROM mart.tags t USING cdp_tag_diff d WHERE t.party_id = d.party_id AND t.tag_id = d.tag_id`,
			`INSERT INTO mart.tags SELECT party_id, tag_id, new_value, `+day+`, `+day+` FROM cdp_tag_diff WHERE NOT gone`,
			`UPDATE mart.tags SET as_of = `+day+` WHERE `+inCatalog)
	}
	stmts = append(stmts, `DELETE FROM ops.tag_inputs WHERE `+inComputed)
	for i, q := range stmts {
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, err
		}
		log.Debug("tag values written", "step", i, "seconds", time.Since(t0).Seconds())
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO ops.tag_inputs SELECT tag_id, inputs, now() FROM cdp_tag_computed`); err != nil {
		return nil, fmt.Errorf("ops.tag_inputs: %w", err)
	}
	sum := &RunSummary{RunID: runID, AsOf: asOf, Tags: len(cat.Tags), Unchanged: len(cat.Tags) - len(computed),
		Partial: len(partial), PartialTags: slices.Sorted(maps.Keys(partial)), Filtered: filtered, Baseline: existing == 0}
	if len(partySets) > 0 {
		sets := make([]string, 0, len(partySets))
		for _, table := range partySets {
			sets = append(sets, `SELECT party_id FROM `+table)
		}
		slices.Sort(sets)
		if err := conn.QueryRowContext(ctx, `SELECT count(DISTINCT party_id) FROM (`+strings.Join(sets, " UNION ALL ")+`)`).Scan(&sum.PartialParties); err != nil {
			return nil, err
		}
	}
	if !sum.Baseline {
		t0 := time.Now()
		if sum.Events, err = queueTagEvents(ctx, conn, asOf, runID, o.AllowPII, duckdb); err != nil {
			return nil, fmt.Errorf("tag-change events: %w", err)
		}
		log.Debug("tag-change events queued", "events", sum.Events, "seconds", time.Since(t0).Seconds())
	}
	if first {
		sum.ByTag = map[string]int{}
		for id, n := range written {
			sum.Values += n
			if n > 0 {
				sum.ByTag[id] = int(n)
			}
		}
		sum.Changes = sum.Values
	} else {
		if err := conn.QueryRowContext(ctx, `SELECT (SELECT coalesce(sum(CAST(new_value AS BIGINT)), 0) FROM cdp_tag_found WHERE party_id IS NULL),
			(SELECT count(*) FROM cdp_tag_diff)`).Scan(&sum.Values, &sum.Changes); err != nil {
			return nil, err
		}
		if sum.ByTag, err = keyed[int](ctx, conn, `SELECT tag_id, count(*) FROM cdp_tag_diff GROUP BY ALL`); err != nil {
			return nil, err
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO ops.tag_runs VALUES (?, CAST(? AS DATE), ?, now(), ?, ?, ?)`,
		runID, asOf, start, sum.Tags, sum.Values, sum.Changes); err != nil {
		return nil, fmt.Errorf("ops.tag_runs: %w", err)
	}
	return sum, nil
}

// restrict returns a party-scoped tag's SQL (text) with its tables read
// for the parties of the temp table parties alone (restrictToParties), and
// whether it is: SQL the rewrite leaves as written, or whose rewrite does
// not bind (the insert q around it is prepared to find out), is computed
// as written, over every party, its values filtered after.
func restrict(ctx context.Context, conn *sql.Conn, t *Tag, text string, keyed map[string]bool, parties, q string, log *slog.Logger) (string, bool) {
	out, why, err := restrictToParties(ctx, conn, text, keyed, parties)
	if err != nil {
		// (its parse failed to run: the SQL as written is right, if slower)
		log.Debug("tag computed over every party", "tag", t.ID, "why", "its parse failed", "error", err)
		return text, false
	}
	if out == "" {
		log.Debug("tag computed over every party", "tag", t.ID, "why", why)
		return text, false
	}
	stmt, err := conn.PrepareContext(ctx, fmt.Sprintf(q, out))
	if err != nil {
		// A binder error leaves the transaction usable.
		log.Debug("tag computed over every party", "tag", t.ID, "why", "its tables filtered, it does not bind", "error", err)
		return text, false
	}
	_ = stmt.Close()
	return out, true
}

// tagInputs returns, for every tag, a hash of its SQL as of the run's day
// (queries) and of the contents of each table it reads: equal hashes mean equal values, as a tag is SQL
// over those tables alone. A table's print is its row count and the sum of
// its rows' hashes, so that any change to any row shows; but a table whose
// row count differs from the last run's (ops.table_prints) has changed for
// sure, and is not read at all: its print is then unique to this run (the
// daily case for the big tables, whose reading would grow with history).
// The next run that finds its count unchanged reads it, and computes its
// tags once more. A tag that calls a function whose result changes by
// itself (now(), current_date, random() …), names a table that does not
// exist, or does not parse gets a hash of its own every run, so it is
// always computed.
func tagInputs(ctx context.Context, conn *sql.Conn, cat *Catalog, queries, queriesBefore map[string]string, runID string) (*tagState, error) {
	lastCount, err := keyed[int64](ctx, conn, `SELECT table_name, row_count FROM ops.table_prints`)
	if err != nil {
		return nil, fmt.Errorf("ops.table_prints: %w", err)
	}
	lastPrint, err := keyed[string](ctx, conn, `SELECT table_name, print FROM ops.table_prints`)
	if err != nil {
		return nil, fmt.Errorf("ops.table_prints: %w", err)
	}
	prints := map[string]string{} // table → print; "" for a name that is not a table (a CTE)
	changed := map[string]bool{}
	fingerprint := func(schema, name string) (string, error) {
		key := schema + "." + name
		if p, ok := prints[key]; ok {
			return p, nil
		}
		var exists bool
		if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
			schema, name).Scan(&exists); err != nil {
			return "", err
		}
		if !exists {
			prints[key] = ""
			return "", nil
		}
		table := warehouse.Ident(schema) + `.` + warehouse.Ident(name)
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			return "", fmt.Errorf("count %s: %w", key, err)
		}
		p := fmt.Sprintf("%d:changed in %s at %d", n, runID, time.Now().UnixNano())
		if was, ok := lastCount[key]; !ok || was == n {
			var sum string
			if err := conn.QueryRowContext(ctx, `SELECT CAST(coalesce(sum(hash(t)), 0) AS VARCHAR) FROM `+table+` t`).Scan(&sum); err != nil {
				return "", fmt.Errorf("fingerprint %s: %w", key, err)
			}
			p = fmt.Sprintf("%d:%s", n, sum)
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM ops.table_prints WHERE table_name = ?`, key); err != nil {
			return "", fmt.Errorf("ops.table_prints: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO ops.table_prints VALUES (?, ?, ?, ?)`, key, n, p, runID); err != nil {
			return "", fmt.Errorf("ops.table_prints: %w", err)
		}
		prints[key] = p
		if last, ok := lastPrint[key]; !ok || last != p {
			changed[key] = true
		}
		return p, nil
	}
	st := &tagState{hash: map[string]string{}, before: map[string]string{}, reads: map[string]*reads{},
		prints: prints, last: lastPrint, changed: changed}
	for _, t := range cat.Tags {
		h, before := sha256.New(), sha256.New()
		fmt.Fprintf(h, "%s\x00%v\x00", queries[t.ID], t.Windows)
		fmt.Fprintf(before, "%s\x00%v\x00", queriesBefore[t.ID], t.Windows)
		r, err := tagReads(ctx, conn, queries[t.ID])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", t.File, t.SQLLine, t.ID, err)
		}
		for _, tb := range r.Tables {
			schema, name := tb[0], tb[1]
			if schema == "" {
				schema = "main" // unqualified: a table of the default schema, or else a CTE
			}
			p, err := fingerprint(schema, name)
			if err != nil {
				return nil, err
			}
			if p == "" && tb[0] != "" {
				r.Volatile = true // a table that is not there: the tag's own SQL says so
			}
			fmt.Fprintf(h, "%s.%s=%s\x00", schema, name, p)
			if p != "" {
				p = lastPrint[schema+"."+name]
			}
			fmt.Fprintf(before, "%s.%s=%s\x00", schema, name, p)
		}
		if r.Volatile {
			fmt.Fprintf(h, "%d", time.Now().UnixNano())
		}
		st.hash[t.ID] = hex.EncodeToString(h.Sum(nil)[:16])
		st.before[t.ID] = hex.EncodeToString(before.Sum(nil)[:16])
		st.reads[t.ID] = r
	}
	return st, nil
}

// tagState is what tagInputs found.
type tagState struct {
	// hash is each tag's inputs hash; before what it was in the last run
	// (its SQL as of the last run's day, over the last run's table
	// prints): a tag whose stored hash equals it was computed in the last
	// run, from the tables as that run left them.
	hash, before map[string]string
	reads        map[string]*reads
	// prints are the tables' prints now ("schema.name"), last the last
	// run's, changed the tables whose print is not the last run's.
	prints, last map[string]string
	changed      map[string]bool
}

// volatileFuncs give a different result from run to run over the same
// tables; volatileNames are the ones SQL writes without parentheses.
var (
	volatileFuncs = map[string]bool{"now": true, "today": true, "get_current_time": true, "get_current_timestamp": true,
		"transaction_timestamp": true, "current_localtimestamp": true, "current_localtime": true, "random": true,
		"uuid": true, "gen_random_uuid": true, "setseed": true, "nextval": true, "currval": true}
	volatileNames = map[string]bool{"current_date": true, "current_timestamp": true, "current_time": true,
		"localtimestamp": true, "localtime": true}
)

// reads is what a tag's SQL names, from DuckDB's parse of it.
type reads struct {
	// Tables are the tables it names, as [schema, name] ("" when
	// unqualified), sorted and unique.
	Tables [][2]string
	// Volatile: it calls a function whose result changes by itself, or
	// does not parse.
	Volatile bool
	// Names are every name its column references use (columns, and the
	// tables or aliases that qualify them), lower case; Star that it
	// selects * or COLUMNS(…) somewhere, which may read any column.
	Names map[string]bool
	Star  bool
	// Aliases are the names its tables go by (their own, and AS …).
	Aliases map[string]bool
}

// tagReads parses sql with DuckDB (json_serialize_sql) and returns what it
// reads. SQL that does not parse counts as volatile.
func tagReads(ctx context.Context, conn *sql.Conn, sqlText string) (*reads, error) {
	root, ok, err := parseSQL(ctx, conn, sqlText)
	if err != nil {
		return nil, err
	}
	out := &reads{Names: map[string]bool{}, Aliases: map[string]bool{}}
	var rowRefs []string // single-name column references: a column, or a table as a row
	if !ok {
		out.Volatile = true
		return out, nil
	}
	warehouse.EachNode(root, func(v map[string]any) {
		if v["type"] == "BASE_TABLE" {
			schema, _ := v["schema_name"].(string)
			name, _ := v["table_name"].(string)
			out.Tables = append(out.Tables, [2]string{strings.ToLower(schema), strings.ToLower(name)})
			out.Aliases[strings.ToLower(name)] = true
			if a, ok := v["alias"].(string); ok && a != "" {
				out.Aliases[strings.ToLower(a)] = true
			}
		}
		if f, ok := v["function_name"].(string); ok && volatileFuncs[strings.ToLower(f)] {
			out.Volatile = true
		}
		if v["class"] == "STAR" || v["class"] == "POSITIONAL_REFERENCE" || v["ref_type"] == "NATURAL" {
			out.Star = true // any column, by position, or every column both sides share
		}
		if aliases, ok := v["column_name_alias"].([]any); ok && len(aliases) > 0 {
			out.Star = true // a table's columns renamed: names no longer say which
		}
		if using, ok := v["using_columns"].([]any); ok {
			for _, c := range using {
				if c, ok := c.(string); ok {
					out.Names[strings.ToLower(c)] = true
				}
			}
		}
		if cols, ok := v["column_names"].([]any); ok && v["class"] == "COLUMN_REF" {
			for _, c := range cols {
				if c, ok := c.(string); ok {
					out.Names[strings.ToLower(c)] = true
				}
			}
			if len(cols) == 1 {
				if c, ok := cols[0].(string); ok {
					rowRefs = append(rowRefs, strings.ToLower(c))
					if volatileNames[strings.ToLower(c)] {
						out.Volatile = true
					}
				}
			}
		}
	})
	for _, c := range rowRefs {
		if out.Aliases[c] {
			out.Star = true // a table named as a value is its whole row
		}
	}
	slices.SortFunc(out.Tables, func(a, b [2]string) int { return strings.Compare(a[0]+"."+a[1], b[0]+"."+b[1]) })
	out.Tables = slices.Compact(out.Tables)
	return out, nil
}

// keyed runs a query of two columns, a key and a value, into a map.
func keyed[V any](ctx context.Context, conn *sql.Conn, q string) (map[string]V, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]V{}
	for rows.Next() {
		var k string
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// TagChangesTopic is the topic tag-change events go to.
const TagChangesTopic = "cdp.tags.changes"

// queueTagEvents puts one event per party with changes into the outbox:
// the party's changed tags with old and new values
// (schemas/tag-change.json). The event id hashes the party, the day and the
// changes themselves, so a rerun producing the same changes produces the
// same id. The events are built in parts by a hash of the party, as many
// as DuckDB's memory limit (duckdb bytes) needs at eventChangesPerGiB.
func queueTagEvents(ctx context.Context, conn *sql.Conn, asOf, runID string, allowPII bool, duckdb int64) (int64, error) {
	lit := warehouse.Literal
	value := func(col string) string {
		if allowPII {
			return col
		}
		return pii.MaskSQL(pii.FreeText, col)
	}
	var changes int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM cdp_tag_diff`).Scan(&changes); err != nil {
		return 0, err
	}
	parts := warehouse.Parts(changes, eventChangesPerGiB, duckdb)
	if eventParts > 0 {
		parts = eventParts
	}
	var events int64
	for part := range parts {
		cond := ""
		if parts > 1 {
			cond = fmt.Sprintf(" WHERE hash(party_id) %% %d = %d", parts, part)
		}
		n, err := outbox.EnqueueSQL(ctx, conn, `SELECT `+outbox.IDSQL("'tags'", "party_id", lit(asOf), "changes")+` AS event_id,
		       `+lit(TagChangesTopic)+` AS topic, party_id AS key, 'cdp.tags.changed' AS type, '/cdp/tags' AS source,
		       party_id AS subject, now() AS time,
		       CAST(json_object('party_id', party_id, 'as_of', `+lit(asOf)+`, 'run_id', `+lit(runID)+`, 'changes', json(changes)) AS VARCHAR) AS data,
		       `+lit(runID)+` AS producer
		FROM (SELECT party_id,
		             CAST(to_json(list_sort(list(struct_pack(tag_id := tag_id, old_value := `+value("old_value")+`, new_value := `+value("new_value")+`)))) AS VARCHAR) AS changes
		      FROM cdp_tag_diff`+cond+` GROUP BY party_id)`, "key")
		if err != nil {
			if parts > 1 {
				err = fmt.Errorf("part %d of %d: %w", part+1, parts, err)
			}
			return events, err
		}
		events += n
	}
	return events, nil
}

// eventChangesPerGiB is how many tag changes are built into events at
// once per GiB of DuckDB's memory limit: each party's changes are
// gathered into a list, held until the party's group is done, and at 5M
// parties a day's changes all at once ran out of DuckDB's 4.7 GiB.
const eventChangesPerGiB = 1_000_000

// eventParts, when positive, is the number of parts the events are built
// in (tests set it).
var eventParts int64

// qualified is a table's key, "schema.name" (main when unqualified).
func qualified(tb [2]string) string {
	if tb[0] == "" {
		return "main." + tb[1]
	}
	return tb[0] + "." + tb[1]
}

// printed is what partyPrints did for the run.
type printed struct {
	// tags are the party-scoped tags the prints serve (current, or dated
	// with windows; not volatile): those a run may compute for changed
	// parties only.
	tags map[string]bool
	// keyed are the tables keyed by party ("schema.name", lower case).
	keyed map[string]bool
	// diffed are the tables whose changed parties are in
	// cdp_party_changes: changed since the last run, which printed them
	// over the same columns.
	diffed map[string]bool
}

// partyPrints keeps ops.party_prints, a print per party of every table
// keyed by party (it has a party_id column) that a party-scoped tag reads:
// the sum of the hashes of the party's rows over the columns those tags
// name (all of them when one selects *), and their count. A table that
// changed since the last run is printed again, and the parties whose print
// moved (or that appeared or went) go to the temp table
// cdp_party_changes(table_name, party_id). A table printed before over
// other columns (the catalog changed) starts afresh: its changes are not
// known this run, and the tags reading it are computed whole.
func partyPrints(ctx context.Context, conn *sql.Conn, cat *Catalog, in *tagState, sp snapshotPrints, log *slog.Logger) (*printed, error) {
	out := &printed{tags: map[string]bool{}, diffed: map[string]bool{}, keyed: map[string]bool{}}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_party_changes (table_name VARCHAR, party_id VARCHAR)`); err != nil {
		return nil, err
	}
	cols, err := warehouse.PartyTables(ctx, conn, "") // table keyed by party → its columns
	if err != nil {
		return nil, err
	}
	for key := range cols {
		out.keyed[strings.ToLower(key)] = true
	}
	named := map[string]map[string]bool{}     // table → the columns the tags name
	snapNamed := map[string]map[string]bool{} // snapshot table → the columns the tags reading its snapshot name
	// A table every such tag reads through day windows on one column is
	// printed over the longest window's rows alone, so that its prints do
	// not grow with history: a row outside every window is read by none.
	// (A party with rows on a day that entered or left the longest window
	// since the last prints shows as changed: it is among the window
	// edges' parties anyway.)
	within := map[string]*dayWindow{}
	for _, t := range cat.Tags {
		r := in.reads[t.ID]
		if t.Scope != PartyScope || (t.Reads != Current && len(t.Windows) == 0) || r == nil || r.Volatile {
			continue
		}
		out.tags[t.ID] = true
		snap := map[string]bool{}
		for _, win := range t.Windows {
			if win.Snapshot {
				snap[strings.ToLower(win.Table)] = true
			}
		}
		for _, tb := range r.Tables {
			key := qualified(tb)
			all, ok := cols[key]
			if !ok {
				continue // not keyed by party, or a CTE's name
			}
			into := named
			if snap[key] {
				into = snapNamed
			} else {
				within[key] = within[key].and(t.Windows, key)
			}
			if into[key] == nil {
				into[key] = map[string]bool{}
			}
			for _, c := range all {
				if (r.Star || r.Names[strings.ToLower(c)]) && !(snap[key] && strings.EqualFold(c, snapshotColumn)) {
					into[key][c] = true
				}
			}
		}
	}
	stored, err := keyed[string](ctx, conn, `SELECT table_name, columns FROM ops.party_print_columns`)
	if err != nil {
		return nil, fmt.Errorf("ops.party_print_columns: %w", err)
	}
	// the table's print when its parties were printed
	printedAt, err := keyed[string](ctx, conn, `SELECT table_name, table_print FROM ops.party_print_columns`)
	if err != nil {
		return nil, fmt.Errorf("ops.party_print_columns: %w", err)
	}
	lit := warehouse.Literal
	for _, key := range slices.Sorted(maps.Keys(named)) {
		columns := inOrder(cols[key], named[key])
		def, cond := strings.Join(columns, ", "), ""
		if w := within[key]; w != nil && w.ok {
			d := `CAST(` + warehouse.Ident(w.column) + ` AS DATE)`
			cond = fmt.Sprintf(`%s > DATE %s - %d AND %s <= DATE %s`, d, lit(sp.asOf), w.days, d, lit(sp.asOf))
			def += fmt.Sprintf(" (the rows of %d days by %s)", w.days, w.column)
		}
		was, had := stored[key]
		same := had && was == def
		if same && printedAt[key] == in.prints[key] {
			continue // printed as it is
		}
		// Compared only with prints of the table as the last run left it
		// (the run the tags' values are from); prints of an older state
		// (no party-scoped tag read it then) start afresh.
		same = same && printedAt[key] == in.last[key]
		t0 := time.Now()
		if err := reprint(ctx, conn, key, key, columns, cond, same, def, in.prints[key]); err != nil {
			return nil, err
		}
		out.diffed[key] = same
		log.Debug("party prints", "table", key, "columns", len(columns), "within", within[key].String(), "compared", same, "seconds", time.Since(t0).Seconds())
	}
	// A snapshot is printed every run, on the run's snapshot day, and
	// compared with the prints of the last run's.
	for _, table := range slices.Sorted(maps.Keys(snapNamed)) {
		columns := inOrder(cols[table], snapNamed[table])
		key := snapshotKey(table)
		def := strings.Join(columns, ", ")
		var day sql.NullString
		schema, name, _ := strings.Cut(table, ".")
		ident := warehouse.Ident(schema) + "." + warehouse.Ident(name)
		if err := conn.QueryRowContext(ctx, `SELECT CAST(max(`+snapshotColumn+`) AS VARCHAR) FROM `+ident+` WHERE `+snapshotColumn+` <= CAST(? AS DATE)`, sp.asOf).Scan(&day); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		// compared with the last run's prints of the same columns only
		same := stored[key] == def && printedAt[key] == sp.stamp(sp.lastRun) && sp.lastRun != ""
		t0 := time.Now()
		on := snapshotColumn + ` = DATE ` + lit(day.String)
		if !day.Valid {
			on = "false" // no snapshot yet: no party has rows
		}
		if err := reprint(ctx, conn, key, table, columns, on, same, def, sp.stamp(sp.runID)); err != nil {
			return nil, err
		}
		out.diffed[key] = same
		log.Debug("party prints", "table", key, "day", day.String, "columns", len(columns), "compared", same, "seconds", time.Since(t0).Seconds())
	}
	return out, nil
}

// reprint prints the parties of table (of its rows where cond says, "" all)
// over columns into cdp_party_print; when compare, puts the parties whose
// print differs from the one ops.party_prints keeps as key (or that only
// one of them has) into cdp_party_changes; then keeps the new prints as
// key, with their columns (def) and what they were printed from (at).
func reprint(ctx context.Context, conn *sql.Conn, key, table string, columns []string, cond string, compare bool, def, at string) error {
	lit := warehouse.Literal
	stmts := []string{`CREATE OR REPLACE TEMP TABLE cdp_party_print AS ` + warehouse.PartyPrintSQL(table, columns, cond)}
	if compare {
		stmts = append(stmts, `INSERT INTO cdp_party_changes SELECT `+lit(key)+`, party_id FROM (`+
			warehouse.PartyChangesSQL(`SELECT party_id, print, n FROM ops.party_prints WHERE table_name = `+lit(key), `FROM cdp_party_print`)+`)`)
	}
	stmts = append(stmts,
		`DELETE FROM ops.party_prints WHERE table_name = `+lit(key),
		`INSERT INTO ops.party_prints SELECT `+lit(key)+`, party_id, print, n FROM cdp_party_print`,
		`DELETE FROM ops.party_print_columns WHERE table_name = `+lit(key),
		`INSERT INTO ops.party_print_columns VALUES (`+lit(key)+`, `+lit(def)+`, `+lit(at)+`)`,
	)
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// inOrder are the columns of set, in the table's order (all).
func inOrder(all []string, set map[string]bool) []string {
	var out []string
	for _, c := range all {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}

// dayWindow is the longest of the day windows the tags read a table
// through, on its one date column; ok false when a tag reads it otherwise
// (whole, or by another column).
type dayWindow struct {
	column string
	days   int
	ok     bool
}

// and is w with the windows of one more tag that reads table: nil (no
// tag yet) becomes those windows; a tag without a day window on the
// table, or with one on another column, makes it whole.
func (w *dayWindow) and(windows []Window, table string) *dayWindow {
	if w != nil && !w.ok {
		return w
	}
	out := &dayWindow{}
	if w != nil {
		*out = *w
	}
	found := false
	for _, win := range windows {
		if win.Snapshot || !strings.EqualFold(win.Table, table) {
			continue
		}
		switch {
		case !found && w == nil:
			out.column, out.days, out.ok = win.Column, win.Days, true
		case strings.EqualFold(out.column, win.Column):
			out.days = max(out.days, win.Days)
		default:
			return &dayWindow{}
		}
		found = true
	}
	if !found {
		return &dayWindow{}
	}
	return out
}

// String says what the prints cover, for logs.
func (w *dayWindow) String() string {
	if w == nil || !w.ok {
		return "all rows"
	}
	return fmt.Sprintf("%d days by %s", w.days, w.column)
}

// snapshotPrints is what printing the snapshots a run reads needs: its day
// and id, and the last run's id (whose prints it compares with).
type snapshotPrints struct{ asOf, runID, lastRun string }

// stamp marks the prints of a snapshot as a run's.
func (snapshotPrints) stamp(runID string) string { return "snapshot read by " + runID }

// snapshotKey is the name a snapshot table's prints go by in
// ops.party_prints and cdp_party_changes: the parties' rows on the
// snapshot day a run read, its date left out.
func snapshotKey(table string) string { return strings.ToLower(table) + "@snapshot" }

// windowEdges finds, once per window, the parties with rows on the days
// that entered or left it between the last run's day (from) and this
// run's (to): rows dated in (from, to], and in (from - days, to - days].
type windowEdges struct {
	conn     *sql.Conn
	from, to string
	done     map[Window]string // window → the temp table of its parties
}

// parties returns the temp table of win's parties ("" when the day did not
// move, or this is the first run).
func (e *windowEdges) parties(ctx context.Context, win Window) (string, error) {
	if e.from == "" || e.from == e.to {
		return "", nil
	}
	key := Window{Table: strings.ToLower(win.Table), Column: strings.ToLower(win.Column), Days: win.Days}
	if table, ok := e.done[key]; ok {
		return table, nil
	}
	schema, name, _ := strings.Cut(key.Table, ".")
	table := fmt.Sprintf("cdp_window_edge_%d", len(e.done))
	lit := warehouse.Literal
	d := `CAST(` + warehouse.Ident(key.Column) + ` AS DATE)`
	from, to := `DATE `+lit(e.from), `DATE `+lit(e.to)
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT DISTINCT party_id FROM %s.%s
		WHERE party_id IS NOT NULL AND (%s > %s AND %s <= %s OR %s > %s - %d AND %s <= %s - %d)`,
		table, warehouse.Ident(schema), warehouse.Ident(name), d, from, d, to, d, from, key.Days, d, to, key.Days)
	if _, err := e.conn.ExecContext(ctx, q); err != nil {
		return "", err
	}
	e.done[key] = table
	return table, nil
}

// drop removes the temp tables.
func (e *windowEdges) drop(ctx context.Context) {
	for _, table := range e.done {
		_, _ = e.conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+table) // (a failed run's rollback drops them)
	}
}
