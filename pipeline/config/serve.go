package config

import (
	"slices"
	"strings"
	"time"
)

// Serve configures the daemon, cdp serve: its SQL endpoint for analysts, its
// HTTP endpoint (health, metrics, status, triggers) and the snapshots it
// publishes after each successful run.
type Serve struct {
	HTTP string `yaml:"http"` // host:port of /healthz, /readyz, /metrics, /status and POST /run; default 127.0.0.1:9464
	// PublicEndpoints lets clients other than loopback read /healthz,
	// /readyz, /metrics and /status (a Prometheus on another host).
	PublicEndpoints bool      `yaml:"public_endpoints"`
	Control         Control   `yaml:"control"`
	Audit           Audit     `yaml:"audit"`
	SnapshotDir     string    `yaml:"snapshot_dir"` // default snapshots, relative to the project dir
	SQL             SQLServer `yaml:"sql"`
}

// Control is who may operate the daemon over HTTP (POST /run/JOB): a
// bearer token read from an environment variable or a file, or an engineer
// of the SQL endpoint with HTTP basic authentication.
type Control struct {
	TokenEnv  string `yaml:"token_env"`  // environment variable holding the token
	TokenFile string `yaml:"token_file"` // or a file holding it (relative to the project dir)
}

// Audit is the audit log: every SQL login and statement as JSON lines,
// rotated by size.
type Audit struct {
	File       string `yaml:"file"`         // default audit/sql.jsonl, relative to the project dir; "off" disables it
	MaxSizeMB  int    `yaml:"max_size_mb"`  // rotate when the file reaches this size; default 100
	MaxBackups int    `yaml:"max_backups"`  // rotated files kept; default 30
	MaxAgeDays int    `yaml:"max_age_days"` // rotated files older than this are removed; 0 keeps them (up to max_backups)
}

// SQLServer is the Postgres wire protocol endpoint. It serves the snapshot
// published after the last successful run, read-only and locked down.
type SQLServer struct {
	Listen       string    `yaml:"listen"`        // host:port; default 127.0.0.1:5433; "off" disables it
	QueryTimeout string    `yaml:"query_timeout"` // default 5m
	MaxRows      int       `yaml:"max_rows"`      // rows per result; default 1000000, 0 in the file keeps the default
	TLS          SQLTLS    `yaml:"tls"`
	Users        []SQLUser `yaml:"users"`

	QueryTimeoutDur time.Duration `yaml:"-"`
}

// SQLTLS encrypts the SQL endpoint's connections. Logins are always
// SCRAM-SHA-256: the password never crosses the wire.
type SQLTLS struct {
	CertFile string `yaml:"cert_file"` // PEM certificate (chain) of the endpoint, relative to the project dir
	KeyFile  string `yaml:"key_file"`  // its PEM private key
	Require  bool   `yaml:"require"`   // refuse connections that do not encrypt (sslmode=disable)
}

// SQLUser is one login of the SQL endpoint. Its password is read at start
// from an environment variable or a file, never written in cdp.yaml.
type SQLUser struct {
	Name         string `yaml:"name"`
	Role         string `yaml:"role"`          // analyst (mart and masked views) | engineer (every schema, read-only)
	PasswordEnv  string `yaml:"password_env"`  // environment variable holding the password
	PasswordFile string `yaml:"password_file"` // or a file holding it (relative to the project dir)
	// Branches and RMIDs limit an analyst to the parties those own
	// (mart.party_owner), Members to the parties of those staff members'
	// service teams (mart.party_team), in every mart table; any list
	// allows a party.
	Branches []string `yaml:"branches"`
	RMIDs    []string `yaml:"rm_ids"`
	Members  []string `yaml:"members"`
}

// Roles of the SQL endpoint.
var Roles = []string{"analyst", "engineer"}

// Defaults of the daemon.
const (
	DefaultServeHTTP   = "127.0.0.1:9464"
	DefaultServeSQL    = "127.0.0.1:5433"
	DefaultSnapshotDir = "snapshots"
	// DefaultControlTokenFile holds the daemon's control token; cdp init
	// writes a random one. Without the file only engineers may operate it.
	DefaultControlTokenFile = "secrets/control.token"
	DefaultAuditFile        = "audit/sql.jsonl"
)

func (p *Project) validateServe(d *decoder) {
	s := &p.Serve
	if s.HTTP == "" {
		s.HTTP = DefaultServeHTTP
	}
	if err := checkHostPort(s.HTTP, true); err != nil {
		d.fieldErrorf("serve.http", "%q: %v", s.HTTP, err)
	}
	if s.SnapshotDir == "" {
		s.SnapshotDir = DefaultSnapshotDir
	}
	if s.Audit.File == "" {
		s.Audit.File = DefaultAuditFile
	}
	if s.Audit.MaxSizeMB == 0 {
		s.Audit.MaxSizeMB = 100
	}
	if s.Audit.MaxBackups == 0 {
		s.Audit.MaxBackups = 30
	}
	for field, v := range map[string]int{"max_size_mb": s.Audit.MaxSizeMB, "max_backups": s.Audit.MaxBackups, "max_age_days": s.Audit.MaxAgeDays} {
		if v < 0 {
			d.fieldErrorf("serve.audit."+field, "must not be negative, not %d", v)
		}
	}
	if s.Control.TokenEnv == "" && s.Control.TokenFile == "" {
		s.Control.TokenFile = DefaultControlTokenFile
	}
	switch c := s.Control; {
	case c.TokenEnv != "" && c.TokenFile != "":
		d.fieldErrorf("serve.control.token_file", "give token_env or token_file, not both")
	case c.TokenEnv != "" && !envVarName.MatchString(c.TokenEnv):
		d.fieldErrorf("serve.control.token_env", "must name an environment variable (like CDP_CONTROL_TOKEN) that holds the token, never the token itself")
	}
	q := &s.SQL
	if q.Listen == "" {
		q.Listen = DefaultServeSQL
	}
	if q.Listen != "off" {
		if err := checkHostPort(q.Listen, true); err != nil {
			d.fieldErrorf("serve.sql.listen", "%q: %v (or off)", q.Listen, err)
		}
	}
	if q.QueryTimeout == "" {
		q.QueryTimeout = "5m"
	}
	v, err := time.ParseDuration(q.QueryTimeout)
	if err != nil || v <= 0 {
		d.fieldErrorf("serve.sql.query_timeout", "%q: want a duration like 30s or 5m", q.QueryTimeout)
	}
	q.QueryTimeoutDur = v
	switch {
	case q.MaxRows == 0:
		q.MaxRows = 1_000_000
	case q.MaxRows < 0:
		d.fieldErrorf("serve.sql.max_rows", "must be 1 or more, not %d", q.MaxRows)
	}
	switch {
	case (q.TLS.CertFile == "") != (q.TLS.KeyFile == ""):
		d.fieldErrorf("serve.sql.tls", "give both cert_file and key_file, or neither")
	case q.TLS.Require && q.TLS.CertFile == "":
		d.fieldErrorf("serve.sql.tls.require", "TLS cannot be required without cert_file and key_file")
	}
	seen := map[string]bool{}
	for i := range q.Users {
		at := index("serve.sql.users", i)
		u := &q.Users[i]
		if u.Name == "" {
			d.fieldErrorf(at+".name", "a user needs a name")
		} else if seen[u.Name] {
			d.fieldErrorf(at+".name", "user %q is declared twice", u.Name)
		}
		seen[u.Name] = true
		if u.Role == "" {
			u.Role = "analyst"
		}
		if !slices.Contains(Roles, u.Role) {
			d.fieldErrorf(at+".role", "%q: want %s", u.Role, orList(Roles))
		}
		if (len(u.Branches) > 0 || len(u.RMIDs) > 0 || len(u.Members) > 0) && u.Role != "analyst" {
			d.fieldErrorf(at+".branches", "branches, rm_ids and members limit analysts; an %s reads every schema", u.Role)
		}
		for field, list := range map[string][]string{"branches": u.Branches, "rm_ids": u.RMIDs, "members": u.Members} {
			for j, v := range list {
				if strings.TrimSpace(v) == "" {
					d.fieldErrorf(index(at+"."+field, j), "an empty code")
				}
			}
		}
		switch {
		case u.PasswordEnv == "" && u.PasswordFile == "":
			d.fieldErrorf(at, "user %q needs password_env (an environment variable) or password_file (a file) holding its password", u.Name)
		case u.PasswordEnv != "" && u.PasswordFile != "":
			d.fieldErrorf(at+".password_file", "give password_env or password_file, not both")
		case u.PasswordEnv != "" && !envVarName.MatchString(u.PasswordEnv):
			d.fieldErrorf(at+".password_env", "must name an environment variable (like CDP_ANALYST_PASSWORD) that holds the password, never the password itself")
		}
	}
}
