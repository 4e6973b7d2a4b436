package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"cdp/transforms/tags"
)

func newTagsCmd(g *globals) *cobra.Command {
	var catalog string
	load := func() (*tags.Catalog, error) {
		var fsys fs.FS = tags.Builtin()
		if catalog != "" {
			if st, err := os.Stat(catalog); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("--catalog %s: not a folder of tag files", catalog)
			}
			fsys = os.DirFS(catalog)
		}
		return tags.Load(fsys)
	}
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "The tag catalog: check it against the warehouse, write its documentation",
	}
	cmd.PersistentFlags().StringVar(&catalog, "catalog", "", "folder of tag YAML files (default: the catalog built into cdp)")
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check the catalog: unique ids, required fields, SQL that compiles with columns party_id and value of the declared type",
		Long: `validate loads every tag file and checks each tag: unique id, both names,
description, owner, a known type (and values for an enum), and SQL that
compiles against the warehouse, gives the columns party_id and value of the
declared type, at most one row per party, and only declared enum values.
Every problem names the file and line. Build the core model first (cdp model).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := load()
			if err != nil {
				return err
			}
			_, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			if err := tags.Validate(cmd.Context(), w.DB(), cat); err != nil {
				return err
			}
			by := cat.ByCategory()
			fmt.Fprintf(cmd.OutOrStdout(), "%d tags valid:", len(cat.Tags))
			for _, c := range tags.Categories {
				fmt.Fprintf(cmd.OutOrStdout(), " %s=%d", c.ID, len(by[c.ID]))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	var out string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the catalog as Markdown for analysts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := load()
			if err != nil {
				return err
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
			return tags.Docs(w, cat)
		},
	}
	docs.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	var asOf, format string
	var full bool
	runCmd := &cobra.Command{
		Use:   "run",
		Short: "Compute every tag for every party: mart.tags now, mart.tag_history over time, mart.tag_changes per run",
		Long: `run computes the catalog's tags over the core model (build it first with
cdp model) as of a business date (--as-of, default the newest snapshot day),
in one transaction: current values in mart.tags, their history in
mart.tag_history (valid_from <= day < valid_to), and what this run changed in
mart.tag_changes. A run for a date before the last run's is refused; a second
run for the same date replaces that date's values.

A tag whose SQL and input tables (every table its SQL reads, compared by a
hash of their rows) are as when it was last computed is skipped: its values
cannot have changed. Tags calling now(), current_date, random() and the like
are computed every run; --full computes every tag.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			day, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			cat, err := load()
			if err != nil {
				return err
			}
			_, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			sum, err := tags.Run(cmd.Context(), w, cat, tags.RunOptions{AsOf: day, Full: full, Logger: g.logger})
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), format, sum, printTagRun)
		},
	}
	runCmd.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD (default: the newest snapshot day)")
	runCmd.Flags().BoolVar(&full, "full", false, "compute every tag, also those whose inputs are unchanged")
	formatFlag(runCmd, &format)
	cmd.AddCommand(validate, docs, runCmd)
	return cmd
}

func printTagRun(w io.Writer, s *tags.RunSummary) {
	fmt.Fprintf(w, "tags %s as of %s: %d tags (%d skipped, inputs unchanged), %d values computed, %d changed in %.1fs\n",
		s.RunID, s.AsOf, s.Tags, s.Unchanged, s.Values, s.Changes, s.Seconds)
	if s.Baseline {
		fmt.Fprintln(w, "  baseline run: no tag-change events (CRMs take the starting values from cdp.profile or SQL)")
	} else {
		fmt.Fprintf(w, "  %d tag-change events queued for cdp.tags.changes (one per party with changes)\n", s.Events)
	}
}
