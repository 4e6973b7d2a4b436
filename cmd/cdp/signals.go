package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/transforms/signals"
	"cdp/warehouse"
)

// parseAsOf reads an --as-of flag: "" is the zero time (the newest day).
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s)
	}
	return d, nil
}

func newSignalsCmd(g *globals) *cobra.Command {
	var ruleFolders []string
	cmd := &cobra.Command{
		Use:   "signals",
		Short: "Churn warnings, cross-sell signals and risk alerts: check the rules, document them, run them",
	}
	cmd.PersistentFlags().StringSliceVar(&ruleFolders, "rules", nil,
		"folder of rule YAML files added to the project's rules (the built-in rules and signals.rules in cdp.yaml); repeatable")
	var asOf string
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check the rules: required fields, SQL that compiles with party_id and score, a reason template the SQL can fill, no PII columns",
		Long: `validate loads every rule file and checks each rule: unique id, names,
description, owner, priority, valid_days, action, a product for cross-sell,
parameters used in the SQL, a reason template that parses; then compiles
the SQL against the warehouse (for --as-of, default today) and checks it
returns party_id (VARCHAR) and a numeric score, every column the reason
quotes, and no column named like an ID number or phone (unless
publish.allow_pii). Every problem names the file and line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			day := time.Now().Format(time.DateOnly)
			if asOf != "" {
				d, err := parseAsOf(asOf)
				if err != nil {
					return err
				}
				day = d.Format(time.DateOnly)
			}
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			env := g.env(p, w)
			env.RuleFolders = ruleFolders
			rules, err := env.Rules()
			if err != nil {
				return err
			}
			if err := signals.Validate(cmd.Context(), w.DB(), rules, day, env.PII().InEvents); err != nil {
				return err
			}
			n := map[string]int{}
			for _, r := range rules.Rules {
				n[r.Kind]++
			}
			var kinds []string
			for _, k := range signals.Kinds {
				kinds = append(kinds, fmt.Sprintf("%s=%d", k.ID, n[k.ID]))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d rules valid: %s\n", len(rules.Rules), strings.Join(kinds, " "))
			return nil
		},
	}
	validate.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD to compile the SQL for (default: today)")
	var out, lang string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the rules as Markdown for CRM teams and relationship managers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The docs need no warehouse; a project, when there is one,
			// adds its rule folders and parameters.
			env, err := g.docsEnv()
			if err != nil {
				return err
			}
			env.RuleFolders = ruleFolders
			rules, err := env.Rules()
			if err != nil {
				return err
			}
			cfg := env.Project.Signals
			return writeOut(cmd, out, func(w io.Writer) error { return signals.Docs(w, rules, cfg, lang) })
		},
	}
	docs.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	docs.Flags().StringVar(&lang, "lang", "zh", "zh (the reasons and actions as the RMs read them) or en")
	var runAsOf string
	run := stageCmd(g, &cobra.Command{
		Use:   "run",
		Short: "Evaluate every rule and move signals through their lifecycle; changes go to ops.outbox",
		Long: `run evaluates every rule as of a business date (--as-of, default the newest
snapshot day) and, in one transaction, opens new signals, updates those whose
score rose, closes those whose rule stopped firing and expires those past
their validity (mart.signals), applying suppression (signals.suppress_days)
and the cross-sell cap (signals.crosssell_cap per crosssell_cap_days); logs
every decision with its reason (mart.signal_decisions) and puts one event per
change into ops.outbox for cdp publish. A run for a date before the last
run's is refused.`,
	}, "signals", func(env *pipeline.Env) (err error) {
		env.AsOf, err = parseAsOf(runAsOf)
		env.RuleFolders = ruleFolders
		return err
	}, printSignalRun)
	run.Flags().StringVar(&runAsOf, "as-of", "", "business date YYYY-MM-DD (default: the newest snapshot day)")
	var evalAsOf string
	var only []string
	eval := projectCmd(g, &cobra.Command{
		Use:   "eval --as-of YYYY-MM-DD",
		Short: "Evaluate the rules as of any day, past ones included, into scratch.signal_hits, without a lifecycle or events",
		Long: `eval evaluates the rules (or --rule ones) as of a business day — a past one
too, which cdp signals run refuses since signal history only moves forward
— and writes the parties each rule fires for, with score, reason and
evidence, to scratch.signal_hits (replacing what an earlier eval left
there). Nothing else changes: no signal opens or closes, nothing goes to
the outbox.

For each rule it prints whether it reads dated facts or the current state,
its hits, and how they compare with the hits the run of that day decided
on: a dated rule finds exactly those parties with those scores (differ 0);
a current rule reads today's state.`,
		Example: `  cdp signals eval --as-of 2026-11-18
  cdp signals eval --as-of 2026-11-18 --rule churn_aum_outflow
  cdp sql "SELECT party_id, score, reason FROM scratch.signal_hits WHERE rule_id = 'churn_aum_outflow' ORDER BY score DESC"`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*signals.EvalSummary, error) {
		day, err := parseAsOf(evalAsOf)
		if err != nil {
			return nil, err
		}
		if day.IsZero() {
			return nil, fmt.Errorf("signals eval needs --as-of YYYY-MM-DD")
		}
		env := g.env(p, w)
		env.RuleFolders = ruleFolders
		rules, err := env.Rules()
		if err != nil {
			return nil, err
		}
		return signals.Eval(ctx, w, rules, signals.EvalOptions{AsOf: day, Rules: only, AllowPII: env.PII().InEvents, Logger: g.logger})
	}, printSignalEval)
	eval.Flags().StringVar(&evalAsOf, "as-of", "", "business date YYYY-MM-DD to evaluate the rules as of (required)")
	eval.Flags().StringSliceVar(&only, "rule", nil, "only these rules (repeatable)")
	var by, from, to, reportLang string
	report := projectCmd(g, &cobra.Command{
		Use:   "report [--by rule|kind|tier|branch|rm|member|role|week] [--from D --to D]",
		Short: "The funnel of the signals: published, contacted, interested, converted, declined, with rates, value and time to contact",
		Long: `report reads how far the signals opened in a window went once the CRM
answered (the contact feed's contacts and outcomes, matched to the signals by
the ce_id of their events): published, contacted, interested, converted,
declined and expired without a contact, the contact rate (contacted ÷
published), the conversion rate (converted ÷ contacted), the converted
amount and the median days from the signal's business day to the first
contact; by rule
(default), kind, tier, branch, RM, owner (the service team member or the
branch queue the signal was for), team role or week opened, with the total. Analysts
read the same from mart.signal_outcomes and mart.signal_funnel.`,
		Example: `  cdp signals report
  cdp signals report --by rm --from 2026-11-01 --to 2026-11-30
  cdp sql "SELECT * FROM mart.signal_funnel WHERE rule_id = 'xs_private_wealth' ORDER BY week"`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*signals.Funnel, error) {
		o := signals.ReportOptions{By: by, Lang: reportLang}
		var err error
		if o.From, o.To, err = parseWindow(from, to); err != nil {
			return nil, err
		}
		return signals.Report(ctx, w.DB(), o)
	}, printFunnel)
	report.Flags().StringVar(&by, "by", "rule", "group by rule, kind, tier, branch, rm, member (the team member or queue that owns the signal), role (the team role it is for) or week")
	report.Flags().StringVar(&reportLang, "lang", "zh", "the rules' names in zh or en")
	report.Flags().StringVar(&from, "from", "", "signals opened on or after this day (YYYY-MM-DD)")
	report.Flags().StringVar(&to, "to", "", "signals opened on or before this day (YYYY-MM-DD)")
	var liftRule, liftFrom, liftTo string
	lift := projectCmd(g, &cobra.Command{
		Use:   "lift [--rule R] [--from D --to D]",
		Short: "What each rule adds: conversion of the customers it reached against its holdout group, with a 95% interval",
		Long: `lift compares, per rule with a holdout group (signals.holdout; 10% of the
cross-sell rules' signals by default), the customers it reached (each signal
opened) with the ones it held out (decision holdout; the first time): the
share of each that took the rule's product within conversion_days (default
30) — a CONVERTED outcome of the product from the CRM, answering the signal
or not — the difference (the lift) with its 95% interval, and the
incremental conversions and value it stands for. --from and --to choose the
signals and holdouts by day. The same numbers are mart.signal_lift and
mart.signal_lift_observations for analysts; docs/signals.md gives the math.`,
		Example: `  cdp signals lift
  cdp signals lift --rule xs_private_wealth --from 2026-11-01 --to 2026-11-30`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*signals.LiftReport, error) {
		o := signals.LiftOptions{Rule: liftRule}
		var err error
		if o.From, o.To, err = parseWindow(liftFrom, liftTo); err != nil {
			return nil, err
		}
		return signals.Lift(ctx, w.DB(), o)
	}, printLift)
	lift.Flags().StringVar(&liftRule, "rule", "", "one rule (default: every rule with a holdout group)")
	lift.Flags().StringVar(&liftFrom, "from", "", "signals and holdouts from this day (YYYY-MM-DD)")
	lift.Flags().StringVar(&liftTo, "to", "", "signals and holdouts up to this day (YYYY-MM-DD)")
	var btRule, btFrom, btTo string
	var btParams []string
	var btDays int
	backtest := projectCmd(g, &cobra.Command{
		Use:   "backtest --rule R --from D1 --to D2 [--param k=v …]",
		Short: "A rule (or a variant of its parameters, side by side) as of each day of a range, against what was decided and what happened",
		Long: `backtest evaluates a rule as of each day from --from to --to — with
--param k=v, a variant of its parameters beside it — and writes the hits to
scratch.signal_backtest, never to mart.signals, the decision log or the
outbox. A dated rule reads only facts up to each day (point-in-time); a
current rule reads today's state, which the report says. Identity is
today's. Per day: the hits, the parties the run of that day decided on and
how many differ (a dated rule with its current parameters: none), what the
contact policy and the lifecycle decided about the hit parties that day
(from the decision log), the overlap with other rules' hits, and the
precision against what happened afterwards (--days, default 30: for a
cross-sell rule the share who took the product, for a churn rule the share
whose AUM fell 20% or more), for the rule and its variant.`,
		Example: `  cdp signals backtest --rule churn_aum_outflow --from 2026-11-01 --to 2026-11-30
  cdp signals backtest --rule churn_aum_outflow --param min_drop_pct=20 --from 2026-11-01 --to 2026-11-30`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*signals.BacktestReport, error) {
		o := signals.BacktestOptions{Rule: btRule, Days: btDays, Logger: g.logger}
		var err error
		if o.From, o.To, err = parseWindow(btFrom, btTo); err != nil {
			return nil, err
		}
		for _, kv := range btParams {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("--param %q: want name=value", kv)
			}
			if o.Variant == nil {
				o.Variant = map[string]any{}
			}
			o.Variant[k] = paramValue(v)
		}
		env := g.env(p, w)
		env.RuleFolders = ruleFolders
		rules, err := env.Rules()
		if err != nil {
			return nil, err
		}
		o.AllowPII = env.PII().InEvents
		return signals.Backtest(ctx, w, rules, o)
	}, printBacktest)
	backtest.Flags().StringVar(&btRule, "rule", "", "the rule to back-test (required)")
	backtest.Flags().StringVar(&btFrom, "from", "", "first day YYYY-MM-DD (required)")
	backtest.Flags().StringVar(&btTo, "to", "", "last day YYYY-MM-DD (required)")
	backtest.Flags().StringArrayVar(&btParams, "param", nil, "a parameter of the variant, name=value (repeatable)")
	backtest.Flags().IntVar(&btDays, "days", 30, "days after each day in which a conversion or churn counts")
	cmd.AddCommand(validate, docs, run, eval, report, lift, backtest)
	return cmd
}

func printFunnel(w io.Writer, f *signals.Funnel) {
	window := "all signals"
	if f.From != "" || f.To != "" {
		window = fmt.Sprintf("signals opened %s … %s", f.From, f.To)
	}
	fmt.Fprintf(w, "funnel of %s, by %s:\n", window, f.By)
	fmt.Fprintf(w, "  %-28s %8s %9s %9s %10s %9s %8s %8s %8s %9s %14s %9s\n", f.By, "signals", "published", "contacted", "interested",
		"converted", "declined", "expired", "contact%", "convert%", "converted CNY", "days→1st")
	for _, r := range append(f.Rows, f.Total) {
		if r.Name != "" {
			r.Group += " " + r.Name
		}
		fmt.Fprintf(w, "  %-28s %8d %9d %9d %10d %9d %8d %8d %7.1f%% %8.1f%% %14.2f %9.1f\n", r.Group, r.Signals, r.Published, r.Contacted,
			r.Interested, r.Converted, r.Declined, r.ExpiredUncontacted, 100*r.ContactRate, 100*r.ConversionRate, r.ConvertedAmount, r.MedianDaysToContact)
	}
}

// parseWindow reads --from and --to, YYYY-MM-DD each; an empty one is no
// bound.
func parseWindow(from, to string) (time.Time, time.Time, error) {
	var days [2]time.Time
	for i, d := range []struct{ flag, v string }{{"--from", from}, {"--to", to}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			return days[0], days[1], fmt.Errorf("%s %q: want YYYY-MM-DD", d.flag, d.v)
		}
		days[i] = t
	}
	return days[0], days[1], nil
}

// paramValue reads a --param value as a number or a boolean when it is one.
func paramValue(v string) any {
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return v
}

func printBacktest(w io.Writer, r *signals.BacktestReport) {
	fmt.Fprintf(w, "back-test of %s (%s, reads %s) into %s in %.1fs", r.Rule, r.Kind, r.Reads, r.Table, r.Seconds)
	if len(r.Variant) > 0 {
		fmt.Fprintf(w, "; variant %v", r.Variant)
	}
	fmt.Fprintln(w, ":")
	if r.Reads == signals.Current {
		fmt.Fprintln(w, "  a current rule: every day reads today's state, so past days show today's hits")
	}
	fmt.Fprintf(w, "  %-10s %6s %8s %6s %8s %9s   %s\n", "day", "hits", "recorded", "differ", "overlap", "precision", "decisions that day")
	for _, d := range r.Days {
		rec := strconv.FormatInt(d.Recorded, 10)
		if d.Recorded < 0 {
			rec = "no run"
		}
		prec := "—"
		if d.Precision >= 0 {
			prec = fmt.Sprintf("%.1f%%", 100*d.Precision)
		}
		var dec []string
		for _, k := range []string{"opened", "updated", "unchanged", "suppressed", "held", "capped", "holdout"} {
			if n := d.Decisions[k]; n > 0 {
				dec = append(dec, fmt.Sprintf("%s %d", k, n))
			}
		}
		line := fmt.Sprintf("  %-10s %6d %8s %6d %8d %9s   %s", d.Day, d.Hits, rec, d.Differ, d.Overlap, prec, strings.Join(dec, ", "))
		if d.Variant != nil {
			vp := "—"
			if d.VariantPrecision >= 0 {
				vp = fmt.Sprintf("%.1f%%", 100*d.VariantPrecision)
			}
			line += fmt.Sprintf("   | variant %d hits, precision %s", *d.Variant, vp)
		}
		fmt.Fprintln(w, line)
	}
}

func printLift(w io.Writer, r *signals.LiftReport) {
	fmt.Fprintln(w, "lift of each rule over its holdout group (conversion within the window; 95% interval):")
	fmt.Fprintf(w, "  %-28s %8s %8s %8s %8s %9s %20s %12s %16s\n", "rule", "treated", "conv%", "holdout", "conv%", "lift", "95% interval", "extra conv", "extra CNY")
	for _, x := range r.Rows {
		if !x.Measurable {
			fmt.Fprintf(w, "  %-28s %8d %8s %8d %8s   not measurable yet: needs both a treated and a held-out customer\n", x.Rule, x.Treated, "", x.Holdout, "")
			continue
		}
		fmt.Fprintf(w, "  %-28s %8d %7.1f%% %8d %7.1f%% %8.1fpt [%7.1f, %7.1f]pt %12.1f %16.2f\n", x.Rule, x.Treated, 100*x.TreatedRate,
			x.Holdout, 100*x.HoldoutRate, 100*x.Lift, 100*x.LiftLow, 100*x.LiftHigh, x.IncrementalConversions, x.IncrementalValue)
	}
	if len(r.Rows) == 0 {
		fmt.Fprintln(w, "  no rule has a holdout group with signals in the window")
	}
}

func printSignalEval(w io.Writer, s *signals.EvalSummary) {
	fmt.Fprintf(w, "signal rules as of %s: %d evaluated into %s in %.1fs\n", s.AsOf, len(s.Rules), s.Table, s.Seconds)
	if !s.Described {
		fmt.Fprintln(w, "  no signal run ran as of this day: there are no recorded hits to compare with")
	}
	fmt.Fprintf(w, "  %-28s %-10s %-8s %7s %9s %7s\n", "rule", "kind", "reads", "hits", "recorded", "differ")
	for _, r := range s.Rules {
		fmt.Fprintf(w, "  %-28s %-10s %-8s %7d %9d %7d\n", r.ID, r.Kind, r.Reads, r.Hits, r.Recorded, r.Differ)
	}
}

func printSignalRun(w io.Writer, s *signals.RunSummary) {
	c := s.Counts
	fmt.Fprintf(w, "signals %s as of %s: %d rules, %d hits → %d opened, %d updated, %d unchanged, %d closed, %d expired, %d suppressed, %d capped; %d events queued (%.1fs)\n",
		s.RunID, s.AsOf, s.Rules, s.Hits, c[signals.Opened], c[signals.Updated], c[signals.Unchanged], c[signals.Closed],
		c[signals.Expired], c[signals.Suppressed], c[signals.Capped], s.Events, s.Seconds)
	ids := make([]string, 0, len(s.ByRule))
	for id := range s.ByRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := s.ByRule[id]
		fmt.Fprintf(w, "  %-28s opened %4d  updated %4d  unchanged %4d  closed %4d  expired %4d  suppressed %4d  capped %4d\n",
			id, r[signals.Opened], r[signals.Updated], r[signals.Unchanged], r[signals.Closed], r[signals.Expired], r[signals.Suppressed], r[signals.Capped])
	}
}
