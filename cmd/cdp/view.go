package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/transforms/view"
)

func newViewCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Build mart.customer_360: one wide, PII-masked row per party",
		Long: `view rebuilds mart.customer_360 from the core model, mart.value_tier and
mart.tags (run cdp model, cdp tags run and cdp tiers first): masked identity,
tier and scores, holdings by product type, AUM and its 30/90-day trend,
credit exposure and worst five-class, cards and spend, digital activity,
relationships, tags and relationship manager. cdp profile shows one row as a
card.`,
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
			s, err := view.Build(cmd.Context(), w, g.logger)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), format, s, printView)
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func printView(w io.Writer, s *view.Summary) {
	fmt.Fprintf(w, "mart.customer_360 as of %s: %d parties in %.1fs\n", s.AsOf, s.Parties, s.Seconds)
}
