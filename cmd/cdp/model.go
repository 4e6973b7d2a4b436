package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/transforms/core"
)

func newModelCmd(g *globals) *cobra.Command {
	var full bool
	cmd := stageCmd(g, &cobra.Command{
		Use:   "model",
		Short: "Build the core model (holdings, AUM by day, trades, loans, repayments, cards, card transactions, digital events) keyed by party",
		Long: `model brings the core.* tables up to date with raw.* and the parties of
the last cdp unify, in one transaction: typed, de-duplicated (a row delivered
again in a later snapshot replaces its earlier version), each row with its
source lineage (source_ref, load_id). Rows whose source record was never
unified keep a NULL party_id and are counted, not dropped. Run it after
cdp unify.

A build is incremental when it can: it adds the rows of loads newer than the
last build and re-points the rows of source records that changed party since
(ops.model_builds records each build). It is full (every table rebuilt from
raw) on the first build, after a correction superseded a load, when the
model's SQL changed, or with --full. Both give the same tables.`,
	}, "model", func(env *pipeline.Env) error { env.Full = full; return nil }, printModelSummary)
	cmd.Flags().BoolVar(&full, "full", false, "rebuild every table from raw, even when an incremental build would do")
	return cmd
}

func printModelSummary(w io.Writer, s *core.Summary) {
	how := s.Mode
	switch {
	case s.Reason != "":
		how += ", " + s.Reason
	case s.Mode == core.ModeIncremental:
		how += fmt.Sprintf(", %d new loads, %d source records changed party", s.NewLoads, s.Moved)
	}
	fmt.Fprintf(w, "core model built in %.1fs (%s):\n", s.Seconds, how)
	for _, t := range s.Tables {
		fmt.Fprintf(w, "  %-20s %10d rows", t.Table, t.Rows)
		switch {
		case t.NoParty > 0 && (t.Table == "core.company_financials" || t.Table == "core.opinion_event"):
			// the external feed names companies by credit code, clients or not
			fmt.Fprintf(w, "  (%d without a party: companies that are not the bank's)", t.NoParty)
		case t.NoParty > 0:
			fmt.Fprintf(w, "  (%d without a party: their source record was not unified)", t.NoParty)
		}
		fmt.Fprintln(w)
	}
}
