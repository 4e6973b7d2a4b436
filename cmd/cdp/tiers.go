package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"cdp/pipeline"
	"cdp/transforms/tiers"
	"cdp/warehouse"
)

func newTiersCmd(g *globals) *cobra.Command {
	var full bool
	cmd := stageCmd(g, &cobra.Command{
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
entry holds; mart.key_account_list shows every entry with its status.

Before the tiers it rebuilds mart.contribution: what every party brings
per month — net interest on loans and deposits against the funds transfer
price (tiers: contribution: ftp_curve), and fee and commission income by
source — and after them mart.contribution_12m, the last twelve months per
party beside its tier. It rebuilds only the months whose inputs changed
since the last build and those from the month of the last build's or
this one's newest snapshot day on (the earlier; ops.contribution_builds
says how many); --full rebuilds every month.
cdp tiers report shows it by tier with the concentration curve.`,
	}, "tiers", func(env *pipeline.Env) error { env.Full = full; return nil }, printTiers)
	cmd.Flags().BoolVar(&full, "full", false, "rebuild every month of mart.contribution, even when only some months' inputs changed")
	report := projectCmd(g, &cobra.Command{
		Use:   "report",
		Short: "Contribution by tier and the concentration curve (which share of the parties brings which share of the contribution)",
		Long: `report reads what the last cdp tiers left in mart.contribution_12m: the
contribution of the twelve months ending with the tiers' day (net interest
income on loans and deposits against the funds transfer price, plus fee and
commission income), by party type and tier, and the concentration curve:
the share of the total the top 1, 5, 10, 15, 20, 50% of parties bring
(the seeds' "15% of clients bring 60%+ of the profit"). It also says how
far the interest computed from balances and rates is from the interest the
credit feed delivered, and how many accounts could not be priced. The
conventions are in docs/tiers-and-360.md.`,
		Example: `  cdp tiers report
  cdp tiers report --format json
  cdp sql "SELECT month, sum(nii), sum(fee_income) FROM mart.contribution GROUP BY month ORDER BY month"`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*tiers.Report, error) {
		return tiers.ReadReport(ctx, w.DB(), "true")
	}, printTierReport)
	cmd.AddCommand(report)
	return cmd
}

var tierNames = map[string]string{"core": "战略核心 core", "growth": "重点培育 growth", "base": "潜力挖掘 base"}
var partyKinds = map[string]string{"P": "persons", "C": "companies"}

func printTierReport(w io.Writer, r *tiers.Report) {
	p := message.NewPrinter(language.English)
	s := r.Summary
	if s.From == "" {
		fmt.Fprintf(w, "no contribution yet as of %s: the core model has no balances or fees (load feeds, then cdp model and cdp tiers)\n", r.AsOf)
		return
	}
	p.Fprintf(w, "contribution %s … %s (to %s, %d days known): CNY %.0f = net interest CNY %.0f + fees and commissions CNY %.0f\n",
		s.From[:7], s.To[:7], r.AsOf, s.Days, s.Total, s.NII, s.Fees)
	fmt.Fprintln(w, "by tier:")
	for _, t := range r.ByTier {
		p.Fprintf(w, "  %-9s %-18s %8d parties  CNY %16.0f  %5.1f%%  CNY %12.0f a party\n",
			partyKinds[t.PartyType], tierNames[t.Tier], t.Parties, t.Contribution, 100*t.Share, t.PerParty)
	}
	fmt.Fprintln(w, "concentration (parties ranked by contribution; share of all, and within persons and companies):")
	within := map[[2]any]float64{}
	for _, c := range r.Concentration {
		within[[2]any{c.PartyType, c.Percent}] = c.Share
	}
	for _, c := range r.Concentration {
		if c.PartyType == "" {
			p.Fprintf(w, "  top %3d%%  %8d parties  CNY %16.0f  %5.1f%%   persons %5.1f%%  companies %5.1f%%\n", c.Percent, c.Parties, c.Contribution, 100*c.Share,
				100*within[[2]any{"P", c.Percent}], 100*within[[2]any{"C", c.Percent}])
		}
	}
	p.Fprintf(w, "loan interest delivered by the credit feed − computed from balances and rates: CNY %.0f (repayments pay a period's interest on its due day)\n", s.InterestDifference)
	if s.LoansUnpriced+s.DepositsUnpriced > 0 {
		fmt.Fprintf(w, "left out: %d loan-months and %d deposit-months without a rate or with a currency tiers: contribution: fx_to_cny lacks\n", s.LoansUnpriced, s.DepositsUnpriced)
	}
}

func printTiers(w io.Writer, s *tiers.Summary) {
	fmt.Fprintf(w, "value tiers as of %s for %d parties in %.1fs:\n", s.AsOf, s.Parties, s.Seconds)
	for _, m := range s.Mix {
		fmt.Fprintf(w, "  %-9s %-18s %8d  %5.1f%%\n", partyKinds[m.PartyType], tierNames[m.Tier], m.Parties, 100*m.Share)
	}
	if c := s.Contribution; c != nil && c.From != "" {
		message.NewPrinter(language.English).Fprintf(w, "  contribution %s … %s: CNY %.0f (net interest %.0f, fees %.0f); the top 15%% of parties bring %.1f%% (cdp tiers report)\n",
			c.From[:7], c.To[:7], c.Total, c.NII, c.Fees, 100*c.Top15)
	}
	if s.ContributionMode != "" {
		fmt.Fprintf(w, "  mart.contribution: %s build, %d month(s) rebuilt (ops.contribution_builds)\n", s.ContributionMode, s.ContributionMonths)
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
