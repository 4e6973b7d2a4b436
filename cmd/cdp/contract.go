package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"cdp/connectors/contract"
)

func newContractCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "The feed contracts: what each source system's files hold, column by column",
		Long: `contract shows the feed contracts: the feeds, their entities, the file each
is delivered in and its typed columns. The built-in contracts are YAML files
embedded in cdp (connectors/contract/feeds/); a project adds its own with
contracts: [folder, ...] in cdp.yaml. Run in a project folder (or with
--config), the commands show the built-in feeds and the project's; see
docs/feeds.md.`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the feeds and their entities",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := contractSet(g)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "feed\tentity\ttable\tformat\tfile\tcolumns\tsystem")
			for _, f := range set.Feeds {
				for _, e := range f.Entities {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", f.Name, e.Name, e.Table(), e.Format, e.Pattern, len(e.Columns), f.ZH)
				}
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show FEED",
		Short: "Show one feed's entities and columns: types, values, required, PII class, descriptions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := contractSet(g)
			if err != nil {
				return err
			}
			if f := set.Feed(args[0]); f != nil {
				return contract.Show(cmd.OutOrStdout(), f)
			}
			return fmt.Errorf("no feed %q (the feeds: %s)", args[0], strings.Join(set.Names(), ", "))
		},
	}
	var out string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the feed contracts as Markdown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := contractSet(g)
			if err != nil {
				return err
			}
			return writeOut(cmd, out, func(w io.Writer) error { return contract.Docs(w, set.Feeds) })
		},
	}
	docs.Flags().StringVar(&out, "out", "", "write to this file (default: standard output)")
	cmd.AddCommand(list, show, docs)
	return cmd
}

// contractSet is the project's feeds when there is a project file, else
// the built-in ones.
func contractSet(g *globals) (*contract.Set, error) {
	env, err := g.docsEnv()
	if err != nil {
		return nil, err
	}
	return env.Project.FeedContracts(), nil
}
