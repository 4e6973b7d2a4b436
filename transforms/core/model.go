// Package core builds the core model: holdings and the daily AUM series,
// wealth trades, loans and repayments, card accounts and card transactions,
// and digital events, each keyed by party_id from identity unification
// (cdp/transforms/identity), typed, de-duplicated and carrying its source
// lineage (source_ref = the raw row's _source, load_id).
//
// Guarantees:
//   - A build is one transaction: the core tables change together or not
//     at all, and always agree with one state of core.party_xref.
//   - Nothing is dropped: every raw row is in its core table once (a row
//     delivered again in a later snapshot replaces its earlier version); a row
//     whose source record was never unified keeps a NULL party_id and is
//     counted in the build's summary.
//   - Rebuilding over the same input gives the same tables.
package core

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cdp/warehouse"
)

//go:embed model.sql
var modelSQL string

//go:embed incremental.sql
var incrementalSQL string

//go:embed activity.sql
var activitySQL string

// Tables are the core model's tables, in build order.
var Tables = []string{
	"core.holding_daily", "core.holding", "core.aum_daily", "core.trade", "core.loan_daily", "core.loan", "core.repayment",
	"core.card_account", "core.card_txn", "core.digital_event", "core.activity_day",
}

// TableCount is one table's size after a build.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	// NoParty counts rows whose source record has no party (not unified).
	NoParty int64 `json:"rows_without_party"`
}

// Build modes.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// Summary is what a build did.
type Summary struct {
	Mode string `json:"mode"`
	// Reason says why a build was full.
	Reason string `json:"reason,omitempty"`
	// NewLoads is how many loads the build added (all, for a full one).
	NewLoads int64 `json:"new_loads"`
	// Moved is how many source records changed party since the last build
	// (incremental builds).
	Moved   int64        `json:"moved_records"`
	Tables  []TableCount `json:"tables"`
	Seconds float64      `json:"seconds"`
}

// Options are a build's settings.
type Options struct {
	// Full rebuilds every table from raw even when an incremental build
	// would do.
	Full   bool
	Logger *slog.Logger
}

var datePlaceholder = regexp.MustCompile(`\{\{(date|refdate):(\w+)\}\}`)

// activityKeys are the columns core.activity_day's src_key and day come
// from, by source table.
var activityKeys = map[string][2]string{
	"card": {"card_account_id", "txn_time"}, "ebank": {"user_id", "ts"}, "wealth": {"client_id", "trade_time"},
}

var onlyPlaceholder = regexp.MustCompile(`\{\{only:(\w+)\}\}`)

// fill returns sql with its placeholders filled: {{date:X}} and
// {{refdate:X}} the snapshot date of raw or core row alias X, {{hwm}} the
// newest load the last build read, {{activity}} the activity query
// (activity.sql) over every row in a full build and over the
// (source account, day) pairs in cdp_activity_keys in an incremental one.
func fill(sql string, hwm int64, incremental bool) string {
	activity := onlyPlaceholder.ReplaceAllStringFunc(activitySQL, func(m string) string {
		if !incremental {
			return "true"
		}
		src := onlyPlaceholder.FindStringSubmatch(m)[1]
		k := activityKeys[src]
		return fmt.Sprintf("(%s, CAST(%s AS DATE)) IN (SELECT src_key, day FROM cdp_activity_keys WHERE src = '%s')", k[0], k[1], src)
	})
	sql = strings.ReplaceAll(sql, "{{activity}}", activity)
	sql = datePlaceholder.ReplaceAllStringFunc(sql, func(m string) string {
		p := datePlaceholder.FindStringSubmatch(m)
		if p[1] == "refdate" {
			return warehouse.SnapshotDateOfSQL(p[2] + ".source_ref")
		}
		return warehouse.SnapshotDateSQL(p[2])
	})
	return strings.ReplaceAll(sql, "{{hwm}}", strconv.FormatInt(hwm, 10))
}

// modelHash identifies the model's SQL: a build by another version is
// followed by a full one.
var modelHash = func() string {
	h := sha256.Sum256([]byte(modelSQL + incrementalSQL + activitySQL))
	return hex.EncodeToString(h[:8])
}()

// buildPlan is how a build goes: full or incremental from the load after
// from (the newest load the last build read; 0 before the first build).
type buildPlan struct {
	mode, reason string
	from         int64
	// The state this build records: the newest load and how many loads
	// were superseded.
	maxLoad, superseded int64
}

// plan decides between a full and an incremental build: incremental when
// an earlier build of this model exists and no load was superseded since
// (a correction removes rows, which only a full build handles).
func plan(ctx context.Context, conn *sql.Conn, full bool) (buildPlan, error) {
	var p buildPlan
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(load_id), 0), count(*) FILTER (status = 'superseded') FROM ops.loads`).Scan(&p.maxLoad, &p.superseded); err != nil {
		return p, err
	}
	var superseded int64
	var hash string
	err := conn.QueryRowContext(ctx, `SELECT max_load_id, superseded, model_hash FROM ops.model_builds ORDER BY built_at DESC LIMIT 1`).
		Scan(&p.from, &superseded, &hash)
	p.mode = ModeFull
	switch {
	case errors.Is(err, sql.ErrNoRows):
		p.reason = "first build"
	case err != nil:
		return p, err
	case full:
		p.reason = "asked for (--full)"
	case hash != modelHash:
		p.reason = "the model changed since the last build"
	case superseded != p.superseded:
		p.reason = "a correction superseded a load since the last build"
	default:
		p.mode = ModeIncremental
	}
	if p.mode == ModeFull {
		p.from = 0 // a full build reads every load
	}
	return p, nil
}

// Build brings the core model up to date with raw.* and core.party_xref,
// in one transaction: incrementally from the last build when it can (see
// incremental.sql), else by rebuilding every table (model.sql). Both give
// the same tables.
func Build(ctx context.Context, w *warehouse.Warehouse, log *slog.Logger) (*Summary, error) {
	return BuildWith(ctx, w, Options{Logger: log})
}

// BuildWith is Build with options.
func BuildWith(ctx context.Context, w *warehouse.Warehouse, o Options) (*Summary, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	sum := &Summary{}
	err = warehouse.InTx(ctx, conn, func() error {
		p, err := plan(ctx, conn, o.Full)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		sum.Mode, sum.Reason = p.mode, p.reason
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM ops.loads WHERE load_id > ? AND status = 'loaded'`, p.from).Scan(&sum.NewLoads); err != nil {
			return err
		}
		q := fill(modelSQL, 0, false)
		if p.mode == ModeIncremental {
			q = fill(incrementalSQL, p.from, true)
		}
		for i, stmt := range statements(q) {
			t0 := time.Now()
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("statement %d (%s): %w", i+1, firstLine(stmt), err)
			}
			log.Debug("core model statement", "n", i+1, "statement", firstLine(stmt), "seconds", round(time.Since(t0).Seconds()))
		}
		if p.mode == ModeIncremental {
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM cdp_moved`).Scan(&sum.Moved); err != nil {
				return err
			}
		}
		for _, t := range Tables {
			c := TableCount{Table: t}
			q := fmt.Sprintf(`SELECT count(*), count(*) FILTER (party_id IS NULL) FROM %s`, t)
			if err := conn.QueryRowContext(ctx, q).Scan(&c.Rows, &c.NoParty); err != nil {
				return fmt.Errorf("count %s: %w", t, err)
			}
			sum.Tables = append(sum.Tables, c)
		}
		for _, q := range []string{
			`DELETE FROM core.model_xref`,
			`INSERT INTO core.model_xref SELECT system, source_key, party_id FROM core.party_xref`,
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("core.model_xref: %w", err)
			}
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO ops.model_builds VALUES (now(), ?, ?, ?, ?, ?, ?)`,
			p.mode, warehouse.NullString(p.reason), p.maxLoad, p.superseded, modelHash, time.Since(start).Seconds())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build the core model: %w", err)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("core model built", "mode", sum.Mode, "reason", sum.Reason, "new_loads", sum.NewLoads, "moved_records", sum.Moved, "seconds", round(sum.Seconds))
	return sum, nil
}

func round(s float64) float64 { return float64(int(s*1000)) / 1000 }

// statements splits a model script into its statements: each ends with a
// semicolon at the end of a line that is not a comment (the scripts keep
// semicolons out of strings). Comment lines before a statement stay with it.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(script, "\n") {
		cur.WriteString(line)
		if t := strings.TrimSpace(line); strings.HasSuffix(t, ";") && !strings.HasPrefix(t, "--") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(stripComments(cur.String())) != "" {
		out = append(out, cur.String())
	}
	return out
}

// firstLine is a statement's first line that is not a comment, for logs
// and errors.
func firstLine(stmt string) string {
	for _, l := range strings.Split(stmt, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return ""
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
