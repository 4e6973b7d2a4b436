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
	cmd.AddCommand(validate, docs)
	return cmd
}
