package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/schedules"
	"cdp/serve"
	"cdp/warehouse"
)

func newRunCmd(g *globals) *cobra.Command {
	var asOf, format string
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run a job of schedules.jobs now, after the jobs it depends on",
		Long: `run fires one job of schedules.jobs in cdp.yaml now: the jobs it depends
on run first, in dependency order, each with its retries, backoff and
timeout, and every attempt is recorded in ops.job_runs (trigger manual).

When a cdp serve daemon holds the warehouse, run asks it to fire the job
(through serve.http) and returns at once; follow it with cdp status.

Exit status: 0 when every job succeeded, 3 when one failed for good.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			day, err := parseAsOf(asOf)
			if err != nil {
				return err
			}
			p, w, err := g.openProject(cmd.Context())
			if errors.Is(err, warehouse.ErrLocked) && asOf == "" {
				return fireOnDaemon(cmd.Context(), cmd.OutOrStdout(), p, args[0])
			}
			if err != nil {
				return err
			}
			defer w.Close()
			if _, err := p.Schedules.Job(args[0]); err != nil {
				return err
			}
			trigger := schedules.TriggerManual
			if !day.IsZero() {
				trigger = schedules.TriggerBackfill
			}
			s := schedules.New(p, w, schedules.Options{Logger: g.logger})
			res := s.Fire(cmd.Context(), schedules.Fire{Job: args[0], Trigger: trigger, BusinessDate: day})
			if err := emit(cmd.OutOrStdout(), format, res, printFire); err != nil {
				return err
			}
			if res.Status != schedules.StatusSuccess {
				return fmt.Errorf("%w: %v", errJobFailed, res.Err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD for the dated stages (tags, signals); default the newest")
	formatFlag(cmd, &format)
	return cmd
}

func newBackfillCmd(g *globals) *cobra.Command {
	var from, to, policy, format string
	cmd := &cobra.Command{
		Use:   "backfill JOB --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "Run a job once per business date of a range, oldest first",
		Long: `backfill fires JOB (after the jobs it depends on) once for each business
date from --from to --to, oldest first, the dated stages (tags, signals)
running as of that date: for feeds that arrived late, or days the daemon was
down. --policy says what to do with a date the job already succeeded for:
skip it (the default) or rerun it. Tag and signal history only moves
forward, so rerunning a date before their last run is refused, with the
date named. Backfill stops at the first date that fails; run it again once
the cause is fixed (with skip, dates done are not repeated). Each date is a
row per job in ops.job_runs (trigger backfill, business_date).

Stop cdp serve first: the daemon holds the warehouse.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if from == "" || to == "" {
				return fmt.Errorf("backfill needs --from and --to (YYYY-MM-DD)")
			}
			f, err := time.Parse(time.DateOnly, from)
			if err != nil {
				return fmt.Errorf("--from %q: want YYYY-MM-DD", from)
			}
			t, err := time.Parse(time.DateOnly, to)
			if err != nil {
				return fmt.Errorf("--to %q: want YYYY-MM-DD", to)
			}
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			s := schedules.New(p, w, schedules.Options{Logger: g.logger})
			days, err := s.Backfill(cmd.Context(), args[0], f, t, policy)
			if days != nil {
				if perr := emit(cmd.OutOrStdout(), format, days, printBackfill); perr != nil {
					return perr
				}
			}
			if err != nil && days != nil {
				return fmt.Errorf("%w: %v", errJobFailed, err)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first business date YYYY-MM-DD")
	cmd.Flags().StringVar(&to, "to", "", "last business date YYYY-MM-DD (inclusive)")
	cmd.Flags().StringVar(&policy, "policy", schedules.BackfillSkip, "dates already done: skip | rerun")
	formatFlag(cmd, &format)
	return cmd
}

// errJobFailed exits with status 3, like ingest with failed inputs.
var errJobFailed = errors.New("job failed")

func printFire(w io.Writer, r *schedules.FireResult) {
	fmt.Fprintf(w, "fire %s of %s (%s): %s\n", r.FireID, r.Fire.Job, r.Fire.Trigger, r.Status)
	printRuns(w, r.Runs)
	if r.Err != nil {
		fmt.Fprintf(w, "error: %v\n", r.Err)
	}
}

func printRuns(w io.Writer, runs []schedules.Run) {
	fmt.Fprintf(w, "  %-16s %-8s %-7s %-8s %10s %8s %8s  %s\n", "job", "trigger", "attempt", "status", "rows", "rejects", "seconds", "business date / error")
	for _, r := range runs {
		note := r.BusinessDate
		if r.Error != "" {
			note = strings.TrimSpace(note + " " + firstLine(r.Error, 100))
		}
		fmt.Fprintf(w, "  %-16s %-8s %-7d %-8s %10d %8d %8.1f  %s\n", r.Job, r.Trigger, r.Attempt, r.Status, r.Rows, r.Rejects, r.Seconds(), note)
	}
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func printBackfill(w io.Writer, days []schedules.BackfillDate) {
	for _, d := range days {
		line := fmt.Sprintf("%s  %-8s", d.Date, d.Action)
		if d.Status != "" {
			line += " " + d.Status
		}
		if d.Error != "" {
			line += "  " + firstLine(d.Error, 160)
		}
		fmt.Fprintln(w, line)
	}
}

// daemonURL is the HTTP address of the project's cdp serve.
func daemonURL(p *pipeline.Project, path string) string {
	return "http://" + p.Serve.HTTP + path
}

// askDaemon calls the running cdp serve of the project over serve.http
// and decodes its JSON answer into out.
func askDaemon(ctx context.Context, p *pipeline.Project, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, daemonURL(p, path), nil)
	if err != nil {
		return err
	}
	if method != http.MethodGet {
		if err := serve.Authorize(p.Project, req); err != nil {
			return err
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no cdp serve answers at %s: %w", p.Serve.HTTP, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("cdp serve at %s: %s %s: %s %s", p.Serve.HTTP, method, path, resp.Status, e.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("cdp serve at %s: %s %s: %w", p.Serve.HTTP, method, path, err)
	}
	return nil
}

// fireOnDaemon asks the running daemon to fire job.
func fireOnDaemon(ctx context.Context, out io.Writer, p *pipeline.Project, job string) error {
	var ok struct{ Message string }
	if err := askDaemon(ctx, p, http.MethodPost, "/run/"+url.PathEscape(job), &ok); err != nil {
		return fmt.Errorf("the warehouse is held by another process, and: %w", err)
	}
	fmt.Fprintf(out, "the running cdp serve (%s) %s; follow it with cdp status\n", p.Serve.HTTP, ok.Message)
	return nil
}
