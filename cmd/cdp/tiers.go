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
the lifecycle stage, and the inputs that decided each. In the same
transaction it records what moved: mart.tier_history (each party's tier
from and to a day), mart.tier_changes (up, down, new, gone, with the
reason) and one event per moved party on cdp.tiers.changes (none on the
first build, which is the baseline). A party on the approved key-account
list (名单制, the contact feed's key_accounts) has the list's tier while its
entry holds; mart.key_account_list shows every entry with its status.`,
	}, "tiers", nil, printTiers)
}

func printTiers(w io.Writer, s *tiers.Summary) {
	fmt.Fprintf(w, "value tiers as of %s for %d parties in %.1fs:\n", s.AsOf, s.Parties, s.Seconds)
	names := map[string]string{"core": "战略核心 core", "growth": "重点培育 growth", "base": "潜力挖掘 base"}
	kinds := map[string]string{"P": "persons", "C": "companies"}
	for _, m := range s.Mix {
		fmt.Fprintf(w, "  %-9s %-18s %8d  %5.1f%%\n", kinds[m.PartyType], names[m.Tier], m.Parties, 100*m.Share)
	}
	if l := s.List; len(l) > 0 {
		fmt.Fprintf(w, "  approved key-account list (名单制): %d entries set a tier; %d expired, %d pending, %d name no known customer (mart.key_account_list)\n",
			l["applied"], l["expired"], l["pending"], l["unknown_customer"])
	}
	switch h := s.History; {
	case h == nil:
	case h.Skipped:
		fmt.Fprintf(w, "  tier history left alone: it already runs past %s (history goes forward in business time)\n", s.AsOf)
	case h.Baseline:
		fmt.Fprintf(w, "  tier history begins: %d parties' first tiers (mart.tier_history), no events\n", h.Changes)
	default:
		fmt.Fprintf(w, "  tier moves: %d up, %d down, %d new or gone (mart.tier_changes); %d events queued for %s\n",
			h.Up, h.Down, h.Changes-h.Up-h.Down, h.Events, tiers.TierChangesTopic)
	}
}
