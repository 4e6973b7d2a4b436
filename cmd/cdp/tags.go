package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/transforms/tags"
	"cdp/warehouse"
)

func newTagsCmd(g *globals) *cobra.Command {
	var catalogs []string
	var sample int
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "The tag catalog: check it against the warehouse, write its documentation, compute it",
	}
	cmd.PersistentFlags().StringSliceVar(&catalogs, "catalog", nil,
		"folder of tag YAML files added to the project's catalog (the built-in tags and tags.catalogs in cdp.yaml); repeatable")
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check the catalog: unique ids, required fields, SQL that compiles with columns party_id and value of the declared type",
		Long: `validate loads every tag file and checks each tag: unique id, both names,
description, owner, a known type (and values for an enum), and SQL that
compiles against the warehouse, gives the columns party_id and value of the
declared type, at most one row per party, and only declared enum values.

Then it holds every tag declared scope: party to its promise on the
warehouse's data, for --sample random parties (at most half the bank, so
that the others' rows are left out; the same ones every time):
its values are those of its SQL with each table keyed by party read for the
sampled parties' rows alone; with windows, also with each window's table
read inside the window alone, and as of the next day over the same rows.
A tag run relies on these to compute such a tag for the parties whose rows
changed only. A promise the data cannot break yet (no history outside a
window) passes; --sample 0 skips the check.

Every problem names the file and line. Build the core model first (cdp model).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			env := g.env(p, w)
			env.Catalogs = catalogs
			cat, err := env.Catalog()
			if err != nil {
				return err
			}
			day := time.Now()
			if newest, err := pipeline.BusinessDay(cmd.Context(), w); err == nil {
				day = newest
			}
			if err := tags.Validate(cmd.Context(), w.DB(), cat, day.Format(time.DateOnly)); err != nil {
				return err
			}
			by := cat.ByCategory()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%d tags valid:", len(cat.Tags))
			for _, c := range tags.Categories {
				fmt.Fprintf(out, " %s=%d", c.ID, len(by[c.ID]))
			}
			fmt.Fprintln(out)
			if sample <= 0 {
				return nil
			}
			pc, err := tags.CheckPromises(cmd.Context(), w.DB(), cat, day.Format(time.DateOnly), sample)
			if pc != nil {
				fmt.Fprintf(out, "as of %s, for %d sampled parties: %d party-scoped tags keep their scope and windows", day.Format(time.DateOnly), pc.Sampled, pc.Checked)
				if pc.Broken > 0 {
					fmt.Fprintf(out, ", %d do not", pc.Broken)
				}
				fmt.Fprintln(out)
				for _, id := range slices.Sorted(maps.Keys(pc.Unchecked)) {
					fmt.Fprintf(out, "  %s not checked: %s (a run reads every party's rows for it)\n", id, pc.Unchecked[id])
				}
			}
			return err
		},
	}
	var out string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the catalog as Markdown for analysts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The docs need no warehouse; a project, when there is one,
			// adds its catalogs.
			env, err := g.docsEnv()
			if err != nil {
				return err
			}
			env.Catalogs = catalogs
			cat, err := env.Catalog()
			if err != nil {
				return err
			}
			return writeOut(cmd, out, func(w io.Writer) error { return tags.Docs(w, cat) })
		},
	}
	docs.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	var asOf string
	var full bool
	runCmd := stageCmd(g, &cobra.Command{
		Use:   "run",
		Short: "Compute every tag for every party: mart.tags now, mart.tag_history over time, mart.tag_changes per run",
		Long: `run computes the catalog's tags over the core model (build it first with
cdp model) as of a business date (--as-of, default the newest snapshot day),
in one transaction: current values in mart.tags, their history in
mart.tag_history (valid_from <= day < valid_to), and what this run changed in
mart.tag_changes (except on the first run over an empty mart.tags, whose
values begin the history). A run for a date before the last run's is
refused; a second run for the same date replaces that date's values.

A tag whose SQL and input tables (every table its SQL reads, compared by a
hash of their rows) are as when it was last computed is skipped: its values
cannot have changed. Tags calling now(), current_date, random() and the like
are computed every run; --full computes every tag.`,
	}, "tags", func(env *pipeline.Env) (err error) {
		env.AsOf, err = parseAsOf(asOf)
		env.Full, env.Catalogs = full, catalogs
		return err
	}, printTagRun)
	runCmd.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD (default: the newest snapshot day)")
	runCmd.Flags().BoolVar(&full, "full", false, "compute every tag, also those whose inputs are unchanged")
	var evalAsOf string
	var only []string
	eval := projectCmd(g, &cobra.Command{
		Use:   "eval --as-of YYYY-MM-DD",
		Short: "Compute tags as of any day, past ones included, into scratch.tag_values, without touching their history",
		Long: `eval computes the catalog's tags (or --tag ones) as of a business day — a
past one too, which cdp tags run refuses since history only moves forward —
into the table scratch.tag_values, replacing what an earlier eval left
there. It writes nothing else: not mart.tags, not the history, not the
outbox.

For each tag it prints whether it reads dated facts or the current state,
how many parties have a value and the most common one, and compares the
values with those the history records for the day, over the parties the
runs had described by then. A dated tag gives exactly the recorded values
(differ 0); a current tag shows today's state of a past day.`,
		Example: `  cdp tags eval --as-of 2026-11-18
  cdp tags eval --as-of 2026-11-18 --tag aum_tier --tag card_txn_count
  cdp sql "SELECT value, count(*) FROM scratch.tag_values WHERE tag_id = 'aum_tier' GROUP BY 1"`,
	}, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (*tags.EvalSummary, error) {
		day, err := parseAsOf(evalAsOf)
		if err != nil {
			return nil, err
		}
		if day.IsZero() {
			return nil, fmt.Errorf("tags eval needs --as-of YYYY-MM-DD")
		}
		env := g.env(p, w)
		env.Catalogs = catalogs
		cat, err := env.Catalog()
		if err != nil {
			return nil, err
		}
		return tags.Eval(ctx, w, cat, tags.EvalOptions{AsOf: day, Tags: only, Logger: g.logger})
	}, printTagEval)
	eval.Flags().StringVar(&evalAsOf, "as-of", "", "business date YYYY-MM-DD to evaluate the tags as of (required)")
	eval.Flags().StringSliceVar(&only, "tag", nil, "only these tags (repeatable)")
	validate.Flags().IntVar(&sample, "sample", 1000, "parties to check the party-scoped tags' promises (scope, windows) for (at most half the bank); 0 skips the check")
	cmd.AddCommand(validate, docs, runCmd, eval)
	return cmd
}

func printTagEval(w io.Writer, s *tags.EvalSummary) {
	fmt.Fprintf(w, "tags as of %s: %d evaluated into %s in %.1fs\n", s.AsOf, len(s.Tags), s.Table, s.Seconds)
	if !s.Described {
		fmt.Fprintln(w, "  no tag run has described this day yet: there is no recorded value to compare with")
	}
	fmt.Fprintf(w, "  %-32s %-8s %9s %9s %7s  %s\n", "tag", "reads", "parties", "recorded", "differ", "most common value")
	for _, t := range s.Tags {
		fmt.Fprintf(w, "  %-32s %-8s %9d %9d %7d  %s (%d)\n", t.ID, t.Reads, t.Parties, t.Recorded, t.Differ, t.Top, t.TopN)
	}
}

func printTagRun(w io.Writer, s *tags.RunSummary) {
	fmt.Fprintf(w, "tags %s as of %s: %d tags (%d skipped, inputs unchanged), %d values computed, %d changed in %.1fs\n",
		s.RunID, s.AsOf, s.Tags, s.Unchanged, s.Values, s.Changes, s.Seconds)
	if s.Partial > 0 {
		fmt.Fprintf(w, "  %d party-scoped tags computed for the %d parties whose rows changed only\n", s.Partial, s.PartialParties)
	}
	if s.Baseline {
		fmt.Fprintln(w, "  baseline run: no tag-change events (CRMs take the starting values from cdp.profile or SQL)")
	} else {
		fmt.Fprintf(w, "  %d tag-change events queued for cdp.tags.changes (one per party with changes)\n", s.Events)
	}
}
