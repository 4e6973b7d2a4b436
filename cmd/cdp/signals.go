package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/transforms/signals"
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
	var rulesDir string
	cmd := &cobra.Command{
		Use:   "signals",
		Short: "Churn warnings, cross-sell signals and risk alerts: check the rules, document them, run them",
	}
	cmd.PersistentFlags().StringVar(&rulesDir, "rules", "", "folder of rule YAML files (default: signals.rules in cdp.yaml, else the rules built into cdp)")
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
			rules, err := pipeline.LoadRules(p, rulesDir)
			if err != nil {
				return err
			}
			if err := signals.Validate(cmd.Context(), w.DB(), rules, day, p.Publish.AllowPII); err != nil {
				return err
			}
			n := map[string]int{}
			for _, r := range rules.Rules {
				n[r.Kind]++
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d rules valid: churn=%d cross_sell=%d risk=%d\n", len(rules.Rules), n["churn"], n["cross_sell"], n["risk"])
			return nil
		},
	}
	validate.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD to compile the SQL for (default: today)")
	var out string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the rules as Markdown for CRM teams and relationship managers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The docs need no warehouse; a project, when there is one,
			// adds its rules folder and parameters.
			var p *config.Project
			if _, err := os.Stat(g.config); err == nil {
				if p, err = config.Load(g.config); err != nil {
					return err
				}
			}
			rules, err := pipeline.LoadRules(p, rulesDir)
			if err != nil {
				return err
			}
			cfg := signals.Config{}
			if p != nil {
				cfg = p.Signals
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return signals.Docs(w, rules, cfg)
		},
	}
	docs.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	var runAsOf, format string
	run := &cobra.Command{
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			day, err := parseAsOf(runAsOf)
			if err != nil {
				return err
			}
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			rules, err := pipeline.LoadRules(p, rulesDir)
			if err != nil {
				return err
			}
			sum, err := signals.Run(cmd.Context(), w, rules, p.Signals, signals.RunOptions{AsOf: day, Logger: g.logger, AllowPII: p.Publish.AllowPII})
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), format, sum, printSignalRun)
		},
	}
	run.Flags().StringVar(&runAsOf, "as-of", "", "business date YYYY-MM-DD (default: the newest snapshot day)")
	formatFlag(run, &format)
	cmd.AddCommand(validate, docs, run)
	return cmd
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
