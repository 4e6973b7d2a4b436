package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/transforms/tiers"
)

func newTiersCmd(g *globals) *cobra.Command {
	return stageCmd(g, &cobra.Command{
		Use:   "tiers",
		Short: "Score every party and assign its key-account tier (mart.value_tier)",
		Long: `tiers rebuilds mart.value_tier from the core model (build it first with
cdp model): the tier 战略核心 core / 重点培育 growth / 潜力挖掘 base (companies by
annual revenue, persons by AUM; thresholds under tiers: in cdp.yaml), the
value score weighing historical, potential and strategic value, RFM scores,
the lifecycle stage, and the inputs that decided each.`,
	}, "tiers", nil, printTiers)
}

func printTiers(w io.Writer, s *tiers.Summary) {
	fmt.Fprintf(w, "value tiers as of %s for %d parties in %.1fs:\n", s.AsOf, s.Parties, s.Seconds)
	names := map[string]string{"core": "战略核心 core", "growth": "重点培育 growth", "base": "潜力挖掘 base"}
	kinds := map[string]string{"P": "persons", "C": "companies"}
	for _, m := range s.Mix {
		fmt.Fprintf(w, "  %-9s %-18s %8d  %5.1f%%\n", kinds[m.PartyType], names[m.Tier], m.Parties, 100*m.Share)
	}
}
