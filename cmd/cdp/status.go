package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"
	"cdp/pipeline"
	"cdp/schedules"
	"cdp/warehouse"
)

// statusQueries are what `cdp status` shows, in order.
var statusQueries = []struct{ title, sql string }{
	{"Loads by entity (files and stream batches that committed; contract: the version/fingerprint of the last load)", `
SELECT entity, feed, count(*) AS loads, sum(rows_in) AS rows_in, sum(rows_loaded) AS rows_loaded,
       sum(rows_rejected) AS rows_rejected, max(finished_at) AS last_load,
       arg_max(contract_version, load_id) AS contract,
       count(DISTINCT contract_version) AS versions
FROM ops.loads WHERE status = 'loaded'
GROUP BY ALL ORDER BY entity, feed`},
	{"Contract changes applied to raw tables (ops.contract_changes)", `
SELECT table_name, version, fingerprint, change, detail, applied_at
FROM ops.contract_changes WHERE change <> 'baseline'
ORDER BY applied_at DESC LIMIT 10`},
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
		Short: "Show jobs (last runs, next fires), loads, inputs waiting or failed, rejects by reason, stream checkpoints and unify runs",
		Long: `status shows the scheduled jobs (the last runs from ops.job_runs and when
each cron fires next), then loads, inputs waiting or failed, rejects by
reason, stream checkpoints and unify runs. While cdp serve holds the
warehouse, status asks the daemon (serve.http) for the jobs part instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			p, w, err := g.openProject(cmd.Context())
			if errors.Is(err, warehouse.ErrLocked) {
				st, derr := daemonStatus(cmd.Context(), p)
				if derr != nil {
					return fmt.Errorf("%w; and the daemon: %v", err, derr)
				}
				fmt.Fprintf(out, "warehouse %s is held by cdp serve (%s); jobs as the daemon reports them:\n", p.WarehousePath(), p.Serve.HTTP)
				printJobStatus(out, st, p.Schedules.Location)
				return nil
			}
			if err != nil {
				return err
			}
			defer w.Close()
			fmt.Fprintf(out, "warehouse %s\n", p.WarehousePath())
			st, err := schedules.ReadStatus(cmd.Context(), w.DB(), p.Project, nil, 15)
			if err != nil {
				return err
			}
			printJobStatus(out, st, p.Schedules.Location)
			if err := printLateFeeds(cmd.Context(), out, p, w.DB(), time.Now()); err != nil {
				return err
			}
			return printQueries(cmd.Context(), out, w.DB(), statusQueries)
		},
	}
}

func printJobStatus(out io.Writer, st *schedules.Status, loc *time.Location) {
	if len(st.Next) > 0 {
		fmt.Fprintln(out, "\nScheduled jobs (next fire in schedules.time_zone)")
		for _, n := range st.Next {
			fmt.Fprintf(out, "  %-16s %-28s next %s (in %s)\n", n.Job, n.Cron, n.Next.In(loc).Format("2006-01-02 15:04:05 MST"),
				time.Until(n.Next).Round(time.Second))
		}
	}
	if len(st.Running) > 0 {
		fmt.Fprintf(out, "\nRunning now: %s\n", strings.Join(st.Running, ", "))
	}
	fmt.Fprintln(out, "\nLast job runs (ops.job_runs, newest first)")
	if len(st.Runs) == 0 {
		fmt.Fprintln(out, "  none yet (cdp run JOB, or cdp serve runs the schedules)")
		return
	}
	printRuns(out, st.Runs)
}

// printLateFeeds shows the files due by now (their contracts' expected:)
// and not loaded; nothing when no contract declares arrivals.
func printLateFeeds(ctx context.Context, out io.Writer, p *pipeline.Project, db *sql.DB, now time.Time) error {
	declared := false
	for _, f := range p.Feeds {
		for _, e := range f.Spec().Entities {
			declared = declared || e.Expected != nil
		}
	}
	if !declared {
		return nil
	}
	late, err := pipeline.LateFeeds(ctx, p, db, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nFeeds due and not loaded (expected: in their contracts; the last %d business days)\n", pipeline.LateWindow)
	if len(late) == 0 {
		fmt.Fprintln(out, "  none: every expected file has loaded")
		return nil
	}
	loc := now.Location()
	for _, l := range late {
		state := "missing"
		if l.Pending {
			state = "arrived, not loaded (no control file yet, or failed)"
		}
		fmt.Fprintf(out, "  LATE %-12s %-22s business day %s, due %s, %s overdue: %s\n", l.Feed, l.Entity, l.Day.Format("2006-01-02"),
			l.Due.In(loc).Format("2006-01-02 15:04 MST"), l.Overdue(now).Round(time.Minute), state)
	}
	return nil
}

// daemonStatus asks the running cdp serve for its job status.
func daemonStatus(ctx context.Context, p *pipeline.Project) (*schedules.Status, error) {
	var st schedules.Status
	if err := askDaemon(ctx, p, http.MethodGet, "/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
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
