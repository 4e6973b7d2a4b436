// Package view builds mart.customer_360: one wide row per party describing
// the customer whole — masked identity, tier and scores, holdings by product
// type, AUM and its 30/90-day trend, credit exposure and worst five-class,
// cards and spend, digital activity, relationships, tags and relationship
// manager. It reads the core model, mart.value_tier and mart.tags, and is
// rebuilt whole in one statement.
package view

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"time"

	"cdp/warehouse"
)

//go:embed customer_360.sql
var customer360SQL string

// Summary is what a build did.
type Summary struct {
	Parties int64   `json:"parties"`
	AsOf    string  `json:"as_of"`
	Seconds float64 `json:"seconds"`
}

// Build replaces mart.customer_360.
func Build(ctx context.Context, w *warehouse.Warehouse, log *slog.Logger) (*Summary, error) {
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	if _, err := w.DB().ExecContext(ctx, customer360SQL); err != nil {
		return nil, fmt.Errorf("build mart.customer_360: %w (run cdp model, cdp tags run and cdp tiers first)", err)
	}
	s := &Summary{}
	if err := w.DB().QueryRowContext(ctx, `SELECT count(*), coalesce(CAST(max(as_of) AS VARCHAR), '') FROM mart.customer_360`).Scan(&s.Parties, &s.AsOf); err != nil {
		return nil, err
	}
	s.Seconds = time.Since(start).Seconds()
	log.Info("customer 360 built", "parties", s.Parties, "seconds", s.Seconds)
	return s, nil
}
