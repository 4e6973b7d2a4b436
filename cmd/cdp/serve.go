package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"cdp/serve"
	"cdp/warehouse"
)

func newServeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: the schedules, a read-only Postgres-protocol SQL endpoint, health and metrics",
		Long: `serve is the long-running daemon. It holds the warehouse (DuckDB allows one
process per file) and:
  - runs the jobs of schedules.jobs on their crons (China time), with their
    dependencies, retries, timeouts and overlap rules, first catching up
    fires missed while it was down (schedules.catch_up);
  - after every successful fire publishes a consistent read-only snapshot
    (serve.snapshot_dir) and serves it over the Postgres wire protocol
    (serve.sql.listen) to psql, DBeaver or BI tools: SCRAM-SHA-256 logins,
    TLS with serve.sql.tls (required with require: true), read-only, the
    analyst role sees the mart schema (masked identity) only, no file
    access, ATTACH, INSTALL/LOAD or SET;
  - answers on serve.http: /healthz, /readyz, /metrics (Prometheus) and
    /status (what cdp status shows) to loopback clients (any client with
    serve.public_endpoints), and POST /run/JOB (what cdp run does) to the
    control token (serve.control) or an engineer's login only;
  - with publish.continuous: true, relays the outbox to Kafka after every
    fire and at least every publish.interval.
Stop it with Ctrl-C or SIGTERM: it takes no new fires and cancels running
jobs (each stage commits whole or not at all); they are recorded as
cancelled and caught up at the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				if errors.Is(err, warehouse.ErrLocked) {
					return fmt.Errorf("%w\n(is cdp serve already running? cdp status asks it)", err)
				}
				return err
			}
			defer w.Close()
			return serve.Serve(cmd.Context(), p, w, serve.Options{Logger: g.logger, Out: cmd.OutOrStdout()})
		},
	}
}
