package serve

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/schedules"
	"cdp/serve/console"
	"cdp/serve/pgserve"
	"cdp/warehouse"
)

// Options shape cdp serve beyond what cdp.yaml says.
type Options struct {
	Logger *slog.Logger
	// Brokers replace the project's Kafka brokers (the demo passes its
	// embedded broker); nil: the project's, or its embedded broker.
	Brokers []string
	// Out receives the banner: addresses, logins, next fires.
	Out io.Writer
}

// NewConsole makes the console of a project: o with the project's tag
// catalog and signal rules.
func NewConsole(p *pipeline.Project, o console.Options) (*console.Console, error) {
	env := &pipeline.Env{Project: p}
	var err error
	if o.Catalog, err = env.Catalog(); err != nil {
		return nil, err
	}
	if o.Rules, err = env.Rules(); err != nil {
		return nil, err
	}
	o.Tiers = p.Tiers
	return console.New(o)
}

// sqlTLS loads the SQL endpoint's certificate, if cdp.yaml names one.
func sqlTLS(p *pipeline.Project) (*tls.Config, error) {
	t := p.Serve.SQL.TLS
	if t.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(p.Resolve(t.CertFile), p.Resolve(t.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("serve.sql.tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Serve runs the daemon until ctx is done: the SQL endpoint on
// serve.sql.listen (when users are configured), HTTP on serve.http, the
// schedules, the snapshots and, configured, the continuous relay.
func Serve(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	brokers := o.Brokers
	if len(brokers) == 0 && len(p.Kafka.Brokers) == 0 && p.Kafka.Embedded.Enabled {
		b, err := pipeline.StartEmbeddedBroker(p.Project, o.Logger)
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = b.Addrs
	}
	var sqlServer *pgserve.Server
	var sqlLn net.Listener
	var roles []string
	audit, closeAudit := openAudit(p.Project, o.Logger)
	defer closeAudit()
	consoleUsers := map[string]console.User{}
	for _, u := range p.Serve.SQL.Users {
		pw, err := ReadPassword(p.Project, u)
		if err != nil {
			return err
		}
		consoleUsers[u.Name] = console.User{Password: pw, Role: u.Role, Scope: userScope(u)}
	}
	if len(p.Serve.SQL.Users) > 0 && p.Serve.SQL.Listen != "off" {
		var users []pgserve.User
		for _, u := range p.Serve.SQL.Users {
			users = append(users, pgserve.User{Name: u.Name, Password: consoleUsers[u.Name].Password, Role: u.Role, Scope: userScope(u)})
			roles = append(roles, u.Role)
		}
		tlsConfig, err := sqlTLS(p)
		if err != nil {
			return err
		}
		sqlServer, err = pgserve.New(pgserve.Options{Addr: p.Serve.SQL.Listen, Users: users, Logger: o.Logger,
			QueryTimeout: p.Serve.SQL.QueryTimeoutDur, MaxRows: p.Serve.SQL.MaxRows,
			Snapshot: warehouse.SnapshotOptions{TimeZone: p.Warehouse.TimeZone},
			TLS:      tlsConfig, RequireTLS: p.Serve.SQL.TLS.Require, Audit: audit})
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

	var endpoint SQLEndpoint
	if sqlServer != nil {
		endpoint = sqlServer
	}
	control, err := ReadCredentials(p.Project)
	if err != nil {
		return err
	}
	if control.Token == "" {
		o.Logger.Warn("no control token: only engineers of serve.sql.users may POST /run", "token_file", p.Serve.Control.TokenFile)
	}
	var d *Daemon
	var web http.Handler
	if len(consoleUsers) > 0 {
		c, err := NewConsole(p, console.Options{DB: w.DB(), Users: consoleUsers, Logger: o.Logger,
			Status: func(ctx context.Context) (*schedules.Status, error) {
				st, err := schedules.ReadStatus(ctx, w.DB(), p.Project, d.Sched.Running(), 50)
				if st != nil {
					st.Daemon = true
				}
				return st, err
			},
			Audit: func(v console.View) {
				if audit != nil {
					audit(pgserve.AuditRecord{Time: v.Time, Kind: "console", User: v.User, Role: v.Role, Remote: v.Remote,
						Statement: v.Page, Millis: v.Millis, Outcome: v.Outcome, Error: v.Error})
				}
			}})
		if err != nil {
			return err
		}
		web = c.Handler()
	}
	d = NewDaemon(p, w, DaemonOptions{Logger: o.Logger, Brokers: brokers, Roles: roles, SQL: endpoint, Control: control, Console: web})
	if sqlServer != nil {
		d.Registry().MustRegister(sqlCollector{sqlServer})
	}
	out := o.Out
	fmt.Fprintf(out, "cdp serve: warehouse %s\n", p.WarehousePath())
	fmt.Fprintf(out, "  http  http://%s  (/healthz /readyz /metrics /status, POST /run/JOB)\n", httpLn.Addr())
	if sqlLn != nil {
		for _, u := range p.Serve.SQL.Users {
			fmt.Fprintf(out, "  sql   %s  (role %s; password %s)\n", psqlLine(sqlLn.Addr(), u.Name), u.Role, passwordSource(u))
		}
	} else {
		fmt.Fprintln(out, "  sql   off (no serve.sql.users in cdp.yaml)")
	}
	for _, n := range schedules.NextFires(p.Project, time.Now()) {
		fmt.Fprintf(out, "  job   %-12s %-24s next %s\n", n.Job, n.Cron, n.Next.In(p.Schedules.Location).Format("2006-01-02 15:04:05 MST"))
	}
	if len(p.Schedules.Jobs) == 0 {
		fmt.Fprintln(out, "  no jobs in schedules.jobs: only serving SQL")
	}
	if p.Publish.Continuous {
		fmt.Fprintf(out, "  relay the outbox to Kafka continuously (after every fire, at least every %s)\n", p.Publish.IntervalDur)
	}
	return d.Run(ctx, httpLn, sqlLn)
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

// ReadPassword reads a SQL user's password from its environment variable
// or file (never from cdp.yaml).
func ReadPassword(p *config.Project, u config.SQLUser) (string, error) {
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

// userScope is what a user's lists in cdp.yaml limit them to.
func userScope(u config.SQLUser) warehouse.PartyScope {
	return warehouse.PartyScope{Branches: u.Branches, RMs: u.RMIDs, Members: u.Members}
}
