package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/pipeline/config"
	"cdp/transforms/core"
	"cdp/warehouse"
)

func newModelCmd(g *globals) *cobra.Command {
	return stageCmd(g, &cobra.Command{
		Use:   "model",
		Short: "Build the core model (holdings, AUM by day, trades, loans, repayments, cards, card transactions, digital events) keyed by party",
		Long: `model rebuilds the core.* tables from raw.* and the parties of the last
cdp unify, in one transaction: typed, de-duplicated (a row delivered again in
a later snapshot replaces its earlier version), each row with its source
lineage (source_ref, load_id). Rows whose source record was never unified
keep a NULL party_id and are counted, not dropped. Run it after cdp unify.`,
	}, func(ctx context.Context, _ *config.Project, w *warehouse.Warehouse) (*core.Summary, error) {
		return core.Build(ctx, w, g.logger)
	}, printModelSummary)
}

func printModelSummary(w io.Writer, s *core.Summary) {
	fmt.Fprintf(w, "core model built in %.1fs:\n", s.Seconds)
	for _, t := range s.Tables {
		fmt.Fprintf(w, "  %-20s %10d rows", t.Table, t.Rows)
		if t.NoParty > 0 {
			fmt.Fprintf(w, "  (%d without a party: their source record was not unified)", t.NoParty)
		}
		fmt.Fprintln(w)
	}
}
