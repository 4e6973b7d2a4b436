package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/schedules"
	"cdp/serve"
	"cdp/serve/console"
)

// cdp bench console: every console page, loaded 20 times warm against the
// project's warehouse (the demo's is 50k parties), p50 and p95 each; the
// bar is p95 under 500 ms.

func newBenchConsoleCmd(g *globals) *cobra.Command {
	var loads int
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Load time of every console page against the project's warehouse: p50 and p95 of warm loads",
		Long: `Opens the project's warehouse (cdp demo leaves a 50k-party one in
cdp-demo), serves the console in-process, logs in, and loads each page
--loads times after one warm-up load, through HTTP as a browser would
(the customer page for a party with signals). Prints each page's median and
95th percentile; the bar is a p95 under 500 ms. The daemon must not hold
the warehouse.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			return benchConsole(cmd.Context(), cmd.OutOrStdout(), p, w.DB(), loads)
		},
	}
	cmd.Flags().IntVar(&loads, "loads", 20, "timed loads per page")
	return cmd
}

func benchConsole(ctx context.Context, out io.Writer, p *pipeline.Project, db *sql.DB, loads int) error {
	c, err := serve.NewConsole(p, console.Options{DB: db,
		Users: map[string]console.User{"bench": {Password: "bench", Role: console.RoleAnalyst}},
		Status: func(ctx context.Context) (*schedules.Status, error) {
			return schedules.ReadStatus(ctx, db, p.Project, nil, 50)
		}})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.PostForm(srv.URL+"/console/login", url.Values{"user": {"bench"}, "password": {"bench"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	var party string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(min(party_id), '') FROM mart.signals`).Scan(&party); err != nil {
		return fmt.Errorf("a party with signals: %w", err)
	}
	var parties int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM core.party`).Scan(&parties); err != nil {
		return err
	}
	pages := []string{"/console/", "/console/loads", "/console/outbox", "/console/customer?q=" + url.QueryEscape(party), "/console/identity", "/console/catalog", "/console/funnel", "/console/coverage", "/console/keyaccounts"}
	fmt.Fprintf(out, "console pages against %s (%d parties), %d warm loads each:\n", p.WarehousePath(), parties, loads)
	fmt.Fprintf(out, "%-40s %8s %8s %8s\n", "page", "p50 ms", "p95 ms", "bytes")
	worst := 0.0
	for _, page := range pages {
		var times []float64
		var size int64
		for i := 0; i <= loads; i++ {
			t0 := time.Now()
			resp, err := client.Get(srv.URL + page)
			if err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", page, resp.Status)
			}
			if i > 0 { // the first load warms the caches
				times = append(times, float64(time.Since(t0).Microseconds())/1000)
			}
			size = n
		}
		p50, p95 := medianAndP95(times)
		worst = max(worst, p95)
		fmt.Fprintf(out, "%-40s %8.1f %8.1f %8d\n", page, p50, p95, size)
	}
	verdict := "under"
	if worst >= 500 {
		verdict = "OVER"
	}
	fmt.Fprintf(out, "slowest p95 %.1f ms: %s the 500 ms bar\n", worst, verdict)
	return nil
}

// medianAndP95 are the 50th and 95th percentiles of times (nearest rank).
func medianAndP95(times []float64) (float64, float64) {
	sort.Float64s(times)
	return times[len(times)/2], times[min(len(times)-1, (len(times)*95+99)/100-1)]
}
