package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"cdp/pipeline"
)

func newIngestCmd(g *globals) *cobra.Command {
	var feeds []string
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Load what is new in the feeds into raw.* (files by md5, streams from their checkpoint)",
		Long: `Load every file and stream message not yet in the warehouse.

Each file, and each stream batch, is one transaction together with its
checkpoint: stop it at any point and run it again, nothing is lost or loaded
twice. A file without its .ok control file waits; a file whose control file
disagrees (row count, md5), or that cannot be read as its contract says, is
reported, recorded in ops.loads and not loaded at all; bad rows in a good
file go to ops.rejects with their reason.

Exit status: 0 when everything loaded or waits, 3 when some input failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			env := g.env(p, w)
			env.Feeds = feeds
			res, err := pipeline.Run(cmd.Context(), env, "ingest")
			if rep, ok := res.Summary.(*pipeline.IngestReport); ok {
				printIngestReport(cmd.OutOrStdout(), rep)
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&feeds, "feed", nil, "only these feeds (config names; repeatable)")
	return cmd
}

func printIngestReport(w io.Writer, rep *pipeline.IngestReport) {
	in, loaded, rejected, replaced := rep.Totals()
	fmt.Fprintf(w, "run %s: %d loaded, %d unchanged, %d pending, %d failed in %.1fs\n",
		rep.RunID, rep.Count("loaded"), rep.Count("unchanged"), rep.Count("pending"), rep.Count("failed"), rep.Elapsed.Seconds())
	fmt.Fprintf(w, "rows: %d in = %d loaded + %d rejected", in, loaded, rejected)
	if replaced > 0 {
		fmt.Fprintf(w, " (%d rows of earlier deliveries replaced by corrections)", replaced)
	}
	fmt.Fprintln(w)
	reasons := map[string]int64{}
	for _, u := range rep.Units {
		for r, n := range u.Result.Reasons {
			reasons[r] += n
		}
	}
	if len(reasons) > 0 {
		var keys []string
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprint(w, "rejects by reason:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, reasons[k])
		}
		fmt.Fprintln(w)
	}
	for _, u := range rep.Units {
		switch u.Status {
		case "failed":
			fmt.Fprintf(w, "FAILED  %s: %v\n", u.Source, u.Err)
		case "pending":
			fmt.Fprintf(w, "PENDING %s: waiting for %s.ok\n", u.Source, u.Source)
		}
	}
}
