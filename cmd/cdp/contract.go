package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"cdp/connectors/contract"
	"cdp/pii"
	"cdp/pipeline"
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
			env, err := g.docsEnv()
			if err != nil {
				return err
			}
			set := env.Project.FeedContracts()
			if f := set.Feed(args[0]); f != nil {
				if err := contract.Show(cmd.OutOrStdout(), f); err != nil {
					return err
				}
				return showMappings(cmd.OutOrStdout(), env.Project, f)
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
	var feed, entity string
	var limit int
	check := &cobra.Command{
		Use:   "check --feed FEED FILE",
		Short: "Dry run: parse a file as the feed would load it and report every would-be reject; writes nothing",
		Long: `check parses FILE with the feed's contract and settings (format, encoding,
delimiter, patterns) exactly as cdp ingest would, and reports how many rows
would load, every would-be reject with its line and reason, and the fields
the contract does not know (kept in _extra). It opens no warehouse and needs
no control file. The entity is the one whose file pattern the name matches,
or --entity. ID numbers and mobiles in the details are masked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pipeline.LoadProject(g.config)
			if err != nil {
				return err
			}
			rep, err := pipeline.CheckFile(cmd.Context(), p.Project, feed, args[0], entity)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(rep.Mapping) > 0 {
				fmt.Fprintf(w, "mapping of %s (feeds[%s].mapping):\n", rep.Entity, feed)
				for _, m := range rep.Mapping {
					fmt.Fprintf(w, "  %s\n", m)
				}
			}
			fmt.Fprintf(w, "%s as %s (%s): %d rows, %d would load, %d would be rejected\n",
				args[0], rep.Entity, rep.Table, rep.RowsIn, rep.WouldLoad, len(rep.Rejects))
			if rep.Skipped > 0 {
				fmt.Fprintf(w, "%d lines skipped by the mapping (banner, header, blank, trailer)\n", rep.Skipped)
			}
			for _, x := range rep.Warnings {
				fmt.Fprintf(w, "warning: %s\n", x)
			}
			if len(rep.Rejects) > 0 {
				by := rep.RejectsByReason()
				fmt.Fprint(w, "rejects by reason:")
				for _, r := range slices.Sorted(maps.Keys(by)) {
					fmt.Fprintf(w, " %s=%d", r, by[r])
				}
				fmt.Fprintln(w)
				for i, r := range rep.Rejects {
					if i == limit {
						fmt.Fprintf(w, "  … %d more (--limit)\n", len(rep.Rejects)-limit)
						break
					}
					fmt.Fprintf(w, "  %s  %s  %s\n", r.Position, r.Reason, pii.Redact(r.Detail))
				}
			}
			if len(rep.Extra) > 0 {
				fmt.Fprint(w, "fields the contract does not know (kept in _extra):")
				for _, n := range slices.Sorted(maps.Keys(rep.Extra)) {
					fmt.Fprintf(w, " %s (%d rows)", n, rep.Extra[n])
				}
				fmt.Fprintln(w)
			}
			return nil
		},
	}
	check.Flags().StringVar(&feed, "feed", "", "the feed of cdp.yaml whose contract and settings to use (required)")
	check.Flags().StringVar(&entity, "entity", "", "the entity (default: the one whose file pattern the name matches)")
	check.Flags().IntVar(&limit, "limit", 20, "rejects to list")
	check.MarkFlagRequired("feed")
	var headerLine int
	var sfeed, sentity string
	suggest := &cobra.Command{
		Use:   "suggest --feed FEED --entity ENTITY FILE",
		Short: "Propose a mapping of a file's columns onto a contract, as a commented cdp.yaml snippet to review",
		Long: `suggest reads FILE's header and up to 1000 lines with the feed's encoding and
delimiter, and proposes which field each contract column comes from: by
name (the column's name and its Chinese description, compared in
characters, pinyin and English, with the synonyms bank exports use: 编号,
号码, 代码; 姓名, 名称, 户名; 手机, 电话 …) and by the values (ID numbers,
mobiles, dates and the layout they need, amounts with digit groups, an
enum's values or codes that need a code map). Each column gets a
confidence and the reason. The output is a snippet for the feed's entry in
cdp.yaml: review it, then run cdp contract check. Nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := pipeline.LoadProject(g.config)
			if err != nil {
				return err
			}
			rep, err := pipeline.SuggestMapping(p, sfeed, sentity, args[0], headerLine)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), rep.YAML(sfeed))
			return nil
		},
	}
	suggest.Flags().StringVar(&sfeed, "feed", "", "the feed of cdp.yaml whose contract, encoding and delimiter to use (required)")
	suggest.Flags().StringVar(&sentity, "entity", "", "the contract entity the file holds (required)")
	suggest.Flags().IntVar(&headerLine, "header-line", 1, "the line the header is on (after a banner)")
	suggest.MarkFlagRequired("feed")
	suggest.MarkFlagRequired("entity")
	cmd.AddCommand(list, show, docs, check, suggest)
	return cmd
}

// showMappings lists how the project's feeds of a contract map their
// files onto it.
func showMappings(w io.Writer, p *pipeline.Project, f *contract.Feed) error {
	for _, feed := range p.Feeds {
		if feed.Contract != f.Name {
			continue
		}
		for _, e := range f.Entities {
			plan := feed.Mappings()[e.Name]
			if plan == nil {
				continue
			}
			fmt.Fprintf(w, "\nfeed %s maps %s (cdp.yaml line %d):\n", feed.Name, e.ID(), feed.Line)
			for _, line := range plan.Describe() {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
	}
	return nil
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
