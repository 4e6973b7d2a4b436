package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/schedules"
	"cdp/warehouse"
	"cdp/warehouse/pgserve"
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
    (serve.sql.listen) to psql, DBeaver or BI tools: password required,
    read-only, the analyst role sees the mart schema (masked identity) only,
    no file access, ATTACH, INSTALL/LOAD or SET;
  - answers on serve.http: /healthz, /readyz, /metrics (Prometheus),
    /status (what cdp status shows) and POST /run/JOB (what cdp run does).
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
			return serve(cmd.Context(), g, cmd.OutOrStdout(), p, w, nil)
		},
	}
}

// serve runs the daemon until ctx is done. brokers, when given, replace the
// project's (the demo passes its embedded broker).
func serve(ctx context.Context, g *globals, out io.Writer, p *config.Project, w *warehouse.Warehouse, brokers []string) error {
	if len(brokers) == 0 && len(p.Kafka.Brokers) == 0 && p.Kafka.Embedded.Enabled {
		b, err := pipeline.StartEmbeddedBroker(p, g.logger)
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs
	}
	var sqlServer *pgserve.Server
	var sqlLn net.Listener
	var roles []string
	if len(p.Serve.SQL.Users) > 0 && p.Serve.SQL.Listen != "off" {
		var users []pgserve.User
		for _, u := range p.Serve.SQL.Users {
			pw, err := readPassword(p, u)
			if err != nil {
				return err
			}
			users = append(users, pgserve.User{Name: u.Name, Password: pw, Role: u.Role})
			roles = append(roles, u.Role)
		}
		var err error
		sqlServer, err = pgserve.New(pgserve.Options{Addr: p.Serve.SQL.Listen, Users: users, Logger: g.logger,
			QueryTimeout: p.Serve.SQL.QueryTimeoutDur, MaxRows: p.Serve.SQL.MaxRows,
			Snapshot: warehouse.SnapshotOptions{TimeZone: p.Warehouse.TimeZone}})
		if err != nil {
			return err
		}
		if sqlLn, err = net.Listen("tcp", p.Serve.SQL.Listen); err != nil {
			return fmt.Errorf("serve.sql.listen %s: %w", p.Serve.SQL.Listen, err)
		}
		defer sqlLn.Close()
	}
	httpLn, err := net.Listen("tcp", p.Serve.HTTP)
	if err != nil {
		return fmt.Errorf("serve.http %s: %w", p.Serve.HTTP, err)
	}
	defer httpLn.Close()

	d := schedules.NewDaemon(p, w, schedules.DaemonOptions{Logger: g.logger, Brokers: brokers, Roles: roles, SQL: sqlEndpoint(sqlServer)})
	if sqlServer != nil {
		d.Registry().MustRegister(sqlCollector{sqlServer})
	}
	fmt.Fprintf(out, "cdp serve: warehouse %s\n", p.WarehousePath())
	fmt.Fprintf(out, "  http  http://%s  (/healthz /readyz /metrics /status, POST /run/JOB)\n", httpLn.Addr())
	if sqlLn != nil {
		for _, u := range p.Serve.SQL.Users {
			fmt.Fprintf(out, "  sql   %s  (role %s; password %s)\n", psqlLine(sqlLn.Addr(), u.Name), u.Role, passwordSource(u))
		}
	} else {
		fmt.Fprintln(out, "  sql   off (no serve.sql.users in cdp.yaml)")
	}
	for _, n := range schedules.NextFires(p, time.Now()) {
		fmt.Fprintf(out, "  job   %-12s %-24s next %s\n", n.Job, n.Cron, n.Next.In(p.Schedules.Location).Format("2006-01-02 15:04:05 MST"))
	}
	if len(p.Schedules.Jobs) == 0 {
		fmt.Fprintln(out, "  no jobs in schedules.jobs: only serving SQL")
	}
	return d.Run(ctx, httpLn, sqlLn)
}

// sqlEndpoint keeps a nil server a nil interface.
func sqlEndpoint(s *pgserve.Server) schedules.SQLEndpoint {
	if s == nil {
		return nil
	}
	return s
}

func psqlLine(addr net.Addr, user string) string {
	host, port, _ := net.SplitHostPort(addr.String())
	return fmt.Sprintf("psql -h %s -p %s -U %s cdp", host, port, user)
}

func passwordSource(u config.SQLUser) string {
	if u.PasswordEnv != "" {
		return "in $" + u.PasswordEnv
	}
	return "in " + u.PasswordFile
}

// readPassword reads a SQL user's password from its environment variable
// or file.
func readPassword(p *config.Project, u config.SQLUser) (string, error) {
	if u.PasswordEnv != "" {
		pw := os.Getenv(u.PasswordEnv)
		if pw == "" {
			return "", fmt.Errorf("serve.sql.users %s: environment variable %s is empty or not set", u.Name, u.PasswordEnv)
		}
		return pw, nil
	}
	path := p.Resolve(u.PasswordFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("serve.sql.users %s: password_file: %w", u.Name, err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("serve.sql.users %s: password_file %s is empty", u.Name, path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		slog.Warn("password file readable by others; chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
	}
	return pw, nil
}

// sqlCollector exposes the SQL endpoint's counters to Prometheus.
type sqlCollector struct{ s *pgserve.Server }

var (
	sqlSessions = prometheus.NewDesc("cdp_sql_sessions", "Open SQL sessions.", nil, nil)
	sqlQueries  = prometheus.NewDesc("cdp_sql_queries_total", "SQL statements received, refused ones included.", nil, nil)
	sqlErrors   = prometheus.NewDesc("cdp_sql_query_errors_total", "SQL statements that failed (errors, timeouts, results over max_rows).", nil, nil)
	sqlRefused  = prometheus.NewDesc("cdp_sql_refused_total", "SQL statements refused as writes, file access, ATTACH, INSTALL/LOAD or SET.", nil, nil)
	sqlAuth     = prometheus.NewDesc("cdp_sql_auth_failures_total", "Failed SQL logins.", nil, nil)
	sqlRunning  = prometheus.NewDesc("cdp_sql_running", "SQL statements running, by role.", []string{"role"}, nil)
)

func (c sqlCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sqlSessions, sqlQueries, sqlErrors, sqlRefused, sqlAuth, sqlRunning} {
		ch <- d
	}
}

func (c sqlCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(sqlSessions, prometheus.GaugeValue, float64(st.Sessions))
	ch <- prometheus.MustNewConstMetric(sqlQueries, prometheus.CounterValue, float64(st.Queries))
	ch <- prometheus.MustNewConstMetric(sqlErrors, prometheus.CounterValue, float64(st.QueryErrors))
	ch <- prometheus.MustNewConstMetric(sqlRefused, prometheus.CounterValue, float64(st.Refused))
	ch <- prometheus.MustNewConstMetric(sqlAuth, prometheus.CounterValue, float64(st.AuthFailures))
	for role, snap := range st.Snapshots {
		ch <- prometheus.MustNewConstMetric(sqlRunning, prometheus.GaugeValue, float64(snap.Running), role)
	}
}
