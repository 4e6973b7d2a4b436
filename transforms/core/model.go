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
	_ "embed"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"cdp/warehouse"
)

//go:embed model.sql
var modelSQL string

// Tables are the core model's tables, in build order.
var Tables = []string{
	"core.holding_daily", "core.holding", "core.aum_daily", "core.trade", "core.loan_daily", "core.loan", "core.repayment",
	"core.card_account", "core.card_txn", "core.digital_event",
}

// TableCount is one table's size after a build.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	// NoParty counts rows whose source record has no party (not unified).
	NoParty int64 `json:"rows_without_party"`
}

// Summary is what a build did.
type Summary struct {
	Tables  []TableCount `json:"tables"`
	Seconds float64      `json:"seconds"`
}

var datePlaceholder = regexp.MustCompile(`\{\{date:(\w+)\}\}`)

// statements returns model.sql with its placeholders filled.
func statements() string {
	return datePlaceholder.ReplaceAllStringFunc(modelSQL, func(m string) string {
		return warehouse.SnapshotDateSQL(datePlaceholder.FindStringSubmatch(m)[1])
	})
}

// Build rebuilds the core model from raw.* and core.party_xref.
func Build(ctx context.Context, w *warehouse.Warehouse, log *slog.Logger) (*Summary, error) {
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
		if _, err := conn.ExecContext(ctx, statements()); err != nil {
			return err
		}
		for _, t := range Tables {
			c := TableCount{Table: t}
			q := fmt.Sprintf(`SELECT count(*), count(*) FILTER (party_id IS NULL) FROM %s`, t)
			if err := conn.QueryRowContext(ctx, q).Scan(&c.Rows, &c.NoParty); err != nil {
				return fmt.Errorf("count %s: %w", t, err)
			}
			sum.Tables = append(sum.Tables, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build the core model: %w", err)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("core model built", "seconds", round(sum.Seconds))
	return sum, nil
}

func round(s float64) float64 { return float64(int(s*1000)) / 1000 }
