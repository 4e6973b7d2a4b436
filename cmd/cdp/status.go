package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"
)

// statusQueries are what `cdp status` shows, in order.
var statusQueries = []struct{ title, sql string }{
	{"Loads by entity (files and stream batches that committed)", `
SELECT entity, feed, count(*) AS loads, sum(rows_in) AS rows_in, sum(rows_loaded) AS rows_loaded,
       sum(rows_rejected) AS rows_rejected, max(finished_at) AS last_load
FROM ops.loads WHERE status = 'loaded'
GROUP BY ALL ORDER BY entity, feed`},
	{"Inputs not loaded (latest attempt per file)", `
SELECT source, status, finished_at AS at, error
FROM ops.loads
QUALIFY row_number() OVER (PARTITION BY feed, source ORDER BY load_id DESC) = 1
    AND status IN ('failed', 'pending')
ORDER BY source`},
	{"Rejected rows by reason", `
SELECT r.entity, r.reason, count(*) AS rows, min(r.position) AS first_position
FROM ops.rejects r JOIN ops.loads l USING (load_id)
WHERE l.status = 'loaded'
GROUP BY ALL ORDER BY r.entity, rows DESC`},
	{"Stream checkpoints (next offset to read)", `
SELECT feed, topic, "partition", next_offset, updated_at
FROM ops.stream_checkpoints ORDER BY feed, topic, "partition"`},
	{"Recent runs", `
SELECT run_id, min(started_at) AS started, max(finished_at) AS finished,
       count(*) FILTER (WHERE status IN ('loaded', 'superseded')) AS loaded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       sum(rows_loaded) AS rows_loaded
FROM ops.loads GROUP BY run_id ORDER BY started DESC LIMIT 5`},
	{"Identity unification (recent runs; merges and splits in ops.identity_events)", `
SELECT run_id, mode, finished_at AS finished, records, active_records AS compared, parties,
       new_parties, merges, splits
FROM ops.identity_runs ORDER BY finished_at DESC LIMIT 5`},
}

func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show loads, inputs waiting or failed, rejects by reason, stream checkpoints and unify runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "warehouse %s\n", p.WarehousePath())
			return printQueries(cmd.Context(), out, w.DB(), statusQueries)
		},
	}
}

func printQueries(ctx context.Context, out io.Writer, db *sql.DB, qs []struct{ title, sql string }) error {
	for _, q := range qs {
		fmt.Fprintf(out, "\n%s\n", q.title)
		rows, err := db.QueryContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
		_, err = render.Rows(out, rows, render.Table)
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
