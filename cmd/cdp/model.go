package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/transforms/core"
)

func newModelCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Build the core model (holdings, AUM by day, trades, loans, repayments, cards, card transactions, digital events) keyed by party",
		Long: `model rebuilds the core.* tables from raw.* and the parties of the last
cdp unify, in one transaction: typed, de-duplicated (a row delivered again in
a later snapshot replaces its earlier version), each row with its source
lineage (source_ref, load_id). Rows whose source record was never unified
keep a NULL party_id and are counted, not dropped. Run it after cdp unify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			_, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			sum, err := core.Build(cmd.Context(), w, g.logger)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), format, sum, printModelSummary)
		},
	}
	formatFlag(cmd, &format)
	return cmd
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
