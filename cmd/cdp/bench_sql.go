package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/serve/pgserve"
	"cdp/warehouse"
)

// cdp bench sql: statement latency on the SQL endpoint, through the
// Postgres protocol as a client sends it, for an analyst on a snapshot
// written without row-level scope, the same analyst on the scoped snapshot
// every analyst now shares, and a user limited to one branch.

func newBenchSQLCmd(g *globals) *cobra.Command {
	var queries int
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "SQL endpoint latency: an analyst without and with row-level scope, and a branch user",
		Long: `Writes the project's analyst snapshot twice into a temporary folder, once
without row-level scope and once with it (as cdp serve writes it), serves
each on 127.0.0.1 in-process, and runs four statements --queries times each
after a warm-up, through pgx's extended protocol: a point lookup, a count,
a join with an aggregate, and a group-by over the tags. Three users: an
analyst on the unscoped snapshot (the cost without scope), an analyst on the
scoped one (what every unscoped analyst pays for scope), and a user limited
to the branch owning the most parties. Prints p50 and p95 per statement and
user, and each median's ratio to the unscoped snapshot's. Needs
mart.party_owner (cdp view); the daemon must not hold the warehouse.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			return benchSQL(cmd.Context(), cmd.OutOrStdout(), p, w, queries)
		},
	}
	cmd.Flags().IntVar(&queries, "queries", 20, "timed runs of each statement per user")
	return cmd
}

// sqlBenchUser is one client of the benchmark.
type sqlBenchUser struct {
	label string
	srv   *pgserve.Server
	user  pgserve.User
	port  int
}

func benchSQL(ctx context.Context, out io.Writer, p *pipeline.Project, w *warehouse.Warehouse, queries int) error {
	if queries < 1 {
		return errors.New("--queries must be 1 or more")
	}
	dir, err := os.MkdirTemp("", "cdp-bench-sql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var branch, party string
	var parties, branchParties int64
	if err := w.DB().QueryRowContext(ctx, `SELECT owner_branch, count(*), min(party_id), (SELECT count(*) FROM mart.party_owner)
		FROM mart.party_owner WHERE owner_branch IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&branch, &branchParties, &party, &parties); err != nil {
		return fmt.Errorf("the branch owning the most parties (mart.party_owner; run cdp view): %w", err)
	}
	const password = "bench"
	scoped := pgserve.SnapshotScope
	var users []sqlBenchUser
	for _, s := range []struct {
		file  string
		scope *warehouse.SnapshotScope
		users []sqlBenchUser
	}{
		{"plain", nil, []sqlBenchUser{{label: "analyst, unscoped snapshot", user: pgserve.User{Name: "plain"}}}},
		{"scoped", &scoped, []sqlBenchUser{{label: "analyst, scoped snapshot", user: pgserve.User{Name: "all"}},
			{label: "user of branch " + branch, user: pgserve.User{Name: "branch", Scope: warehouse.PartyScope{Branches: []string{branch}}}}}},
	} {
		path := filepath.Join(dir, s.file, "analyst.duckdb")
		t0 := time.Now()
		if _, err := w.Snapshot(ctx, path, warehouse.SnapshotAnalyst, s.scope); err != nil {
			return err
		}
		took := time.Since(t0)
		var list []pgserve.User
		for _, u := range s.users {
			u.user.Password, u.user.Role = password, pgserve.RoleAnalyst
			list = append(list, u.user)
		}
		srv, err := pgserve.New(pgserve.Options{Users: list, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return err
		}
		defer srv.Close()
		if err := srv.Publish(pgserve.RoleAnalyst, path); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go srv.Serve(sctx, ln)
		for _, u := range s.users {
			u.srv, u.port = srv, ln.Addr().(*net.TCPAddr).Port
			users = append(users, u)
		}
		fmt.Fprintf(out, "%s snapshot written in %.1fs\n", s.file, took.Seconds())
	}
	statements := []struct{ name, sql string }{
		{"point lookup", `SELECT * FROM mart.customer_360 WHERE party_id = $1`},
		{"count of the tags", `SELECT count(*) FROM mart.tags`},
		{"join and aggregate", `SELECT v.tier, count(*), sum(c.aum) FROM mart.customer_360 c JOIN mart.value_tier v USING (party_id) GROUP BY 1`},
		{"tag values", `SELECT value, count(*) FROM mart.tags WHERE tag_id = 'aum_tier' GROUP BY 1`},
	}
	fmt.Fprintf(out, "SQL endpoint against %s (%d parties; branch %s owns %d), %d runs each after a warm-up:\n",
		p.WarehousePath(), parties, branch, branchParties, queries)
	fmt.Fprintf(out, "%-20s %-34s %8s %8s %7s\n", "statement", "user", "p50 ms", "p95 ms", "× p50")
	conns := make([]*pgx.Conn, len(users))
	for i, u := range users {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/cdp?sslmode=disable", u.user.Name, password, u.port))
		if err != nil {
			return fmt.Errorf("connect as %s: %w", u.user.Name, err)
		}
		defer c.Close(context.Background())
		conns[i] = c
	}
	for _, st := range statements {
		var base float64
		for i, u := range users {
			times := make([]float64, 0, queries)
			for run := 0; run <= queries; run++ {
				var args []any
				if st.name == "point lookup" {
					args = []any{party}
				}
				t0 := time.Now()
				rows, err := conns[i].Query(ctx, st.sql, args...)
				if err != nil {
					return fmt.Errorf("%s as %s: %w", st.name, u.user.Name, err)
				}
				for rows.Next() {
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return fmt.Errorf("%s as %s: %w", st.name, u.user.Name, err)
				}
				if run > 0 { // the first run warms the caches
					times = append(times, float64(time.Since(t0).Microseconds())/1000)
				}
			}
			p50, p95 := medianAndP95(times)
			if i == 0 {
				base = p50
			}
			fmt.Fprintf(out, "%-20s %-34s %8.2f %8.2f %7.2f\n", st.name, u.label, p50, p95, p50/base)
		}
	}
	return nil
}
