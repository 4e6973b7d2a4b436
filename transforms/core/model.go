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
//   - An incremental build gives the tables a full one would: both come from
//     the one definition of each table (tables/*.sql, see definition) and a
//     shared mechanism — the key and the newest version, and rows re-pointed
//     when their source record moves to another party. Only the aggregates
//     carry incremental statements of their own, and their files say why.
//
// It also owns the business date: the newest snapshot day of the model
// (NewestSnapshotDay) and the placeholders of SQL evaluated as of a day
// (AsOf).
package core

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"cdp/warehouse"
)

//go:embed tables/*.sql
var tableFiles embed.FS

// Tables are the core model's tables, in build order.
var Tables = func() []string {
	out := make([]string, len(definitions))
	for i, t := range definitions {
		out[i] = t.name
	}
	return out
}()

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
	// SystemOfRecord names, per product, the one system the model reads it
	// from (deposits: core_banking or wealth), so nothing is counted twice.
	// Unset products take DefaultRecords'.
	SystemOfRecord Records
	// ChainParts builds core.chain_link in that many parts (hash buckets of
	// the companies); 0 lets the memory budget decide.
	ChainParts int
}

// Records maps a product (deposits) to its system of record.
type Records map[string]string

// Products with a system of record, their possible systems (the first is
// the default).
var recordSystems = map[string][]string{"deposits": {"core_banking", "wealth"}}

// DefaultRecords are the systems of record when cdp.yaml names none: core
// banking holds the deposits.
func DefaultRecords() Records {
	out := Records{}
	for p, systems := range recordSystems {
		out[p] = systems[0]
	}
	return out
}

// RecordSystems lists the systems a product's record may come from, the
// default first; nil for a product without a system of record.
func RecordSystems(product string) []string { return slices.Clone(recordSystems[product]) }

// Products lists the products that have a system of record.
func Products() []string { return slices.Sorted(maps.Keys(recordSystems)) }

// CheckRecords reports, as "product: problem", a system_of_record: entry
// that names an unknown product or a system the product cannot come from.
func CheckRecords(r Records) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(r)) {
		systems, ok := recordSystems[p]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: no product of that name has a system of record (%s)", p, strings.Join(Products(), ", ")))
		case !slices.Contains(systems, r[p]):
			out = append(out, fmt.Sprintf("%s: %q is not one of its systems (%s)", p, r[p], strings.Join(systems, ", ")))
		}
	}
	return out
}

func (r Records) of(product string) (string, error) {
	systems, ok := recordSystems[product]
	if !ok {
		return "", fmt.Errorf("no system of record for %q (products: %s)", product, strings.Join(Products(), ", "))
	}
	if s, ok := r[product]; ok && s != "" {
		if !slices.Contains(systems, s) {
			return "", fmt.Errorf("system of record for %s: %q is not %s", product, s, strings.Join(systems, " or "))
		}
		return s, nil
	}
	return systems[0], nil
}

// hash identifies the model's definitions and the systems of record it
// reads: a build under others is followed by a full one.
func (r Records) hash() (string, error) {
	h := sha256.New()
	h.Write([]byte(modelHash))
	for _, p := range Products() {
		s, err := r.of(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s=%s", p, s)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// modelHash identifies the model's definitions: a build by another version
// is followed by a full one.
var modelHash = func() string {
	h := sha256.New()
	fmt.Fprint(h, "core model 2\x00") // the engine's version
	for _, t := range definitions {
		fmt.Fprintf(h, "%s\x00%s\x00", t.file, t.text)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
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
func plan(ctx context.Context, conn *sql.Conn, full bool, modelHash string) (buildPlan, error) {
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
		p.reason = "the model or its systems of record changed since the last build"
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
// in one transaction: incrementally from the last build when it can, else
// by rebuilding every table. Both come from the same definitions
// (tables/*.sql) and give the same tables.
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
	hash, err := o.SystemOfRecord.hash()
	if err != nil {
		return nil, err
	}
	sum := &Summary{}
	err = warehouse.InTx(ctx, conn, func() error {
		p, err := plan(ctx, conn, o.Full, hash)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		sum.Mode, sum.Reason = p.mode, p.reason
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM ops.loads WHERE load_id > ? AND status = 'loaded'`, p.from).Scan(&sum.NewLoads); err != nil {
			return err
		}
		var stmts []statement
		if p.mode == ModeIncremental {
			stmts, err = incremental(p.from, o.SystemOfRecord)
		} else {
			stmts, err = full(o.SystemOfRecord)
		}
		if err != nil {
			return err
		}
		for i, st := range stmts {
			t0 := time.Now()
			if _, err := conn.ExecContext(ctx, st.sql); err != nil {
				return fmt.Errorf("%s, statement %d (%s): %w", st.table, i+1, firstLine(st.sql), err)
			}
			log.Debug("core model statement", "table", st.table, "n", i+1, "statement", firstLine(st.sql), "seconds", round(time.Since(t0).Seconds()),
				"peak_rss_mib", warehouse.PeakRSS()>>20)
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
		t0 := time.Now()
		if err := writeReference(ctx, conn, w.Budget().DuckDB, o.ChainParts, log); err != nil {
			return err
		}
		log.Debug("core model reference tables", "seconds", round(time.Since(t0).Seconds()), "peak_rss_mib", warehouse.PeakRSS()>>20)
		for _, q := range []string{
			`DELETE FROM core.model_xref`,
			`INSERT INTO core.model_xref SELECT system, source_key, party_id FROM core.party_xref`,
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("core.model_xref: %w", err)
			}
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO ops.model_builds VALUES (now(), ?, ?, ?, ?, ?, ?)`,
			p.mode, warehouse.NullString(p.reason), p.maxLoad, p.superseded, hash, time.Since(start).Seconds())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build the core model: %w", err)
	}
	log.Debug("core model committed", "peak_rss_mib", warehouse.PeakRSS()>>20)
	sum.Seconds = time.Since(start).Seconds()
	log.Info("core model built", "mode", sum.Mode, "reason", sum.Reason, "new_loads", sum.NewLoads, "moved_records", sum.Moved, "seconds", round(sum.Seconds))
	return sum, nil
}

func round(s float64) float64 { return float64(int(s*1000)) / 1000 }

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
