// Package pgserve is the SQL endpoint of `cdp serve`: analysts and
// engineers connect with any Postgres client (psql, DBeaver, JDBC, pgx, BI
// tools) and query the snapshot written after the last successful run.
//
// What it guarantees:
//   - Nobody reaches the live warehouse. Each role reads its own snapshot file
//     (analyst: the mart schema, masked; engineer: every schema), opened by a
//     separate DuckDB instance that is read-only, has no file, network or
//     extension access and has its configuration locked
//     (warehouse.OpenSnapshot).
//   - A gate in front lets only queries through, and refuses the rest with
//     Postgres errors that say why: SQLSTATE 25006 for writes, 42501 for
//     files, ATTACH, extensions and settings (gate.go). DuckDB's lockdown is
//     the second line; its refusals read the same.
//   - Publish swaps a role's snapshot at once: a statement runs start to end
//     on one snapshot, and the previous instance is closed when its last
//     statement finishes, never under one.
//   - Passwords are checked in constant time and never logged; an unknown
//     user and a wrong password get the same answer.
//
// The simple query protocol (psql) and the extended one (JDBC, pgx, BI
// tools: Parse, Describe, Bind, Execute, with parameters and text or binary
// results) are both served, one statement per query. Rows stream to the
// client as DuckDB hands them over; a result longer than MaxRows fails
// rather than arrive silently cut.
package pgserve

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/xdg-go/scram"

	"cdp/warehouse"
)

// The roles of the endpoint.
const (
	RoleAnalyst  = "analyst"  // reads the analyst snapshot: the mart schema
	RoleEngineer = "engineer" // reads the full snapshot: every schema
)

// Roles maps each role to the kind of snapshot published for it.
var Roles = map[string]warehouse.SnapshotKind{
	RoleAnalyst:  warehouse.SnapshotAnalyst,
	RoleEngineer: warehouse.SnapshotFull,
}

// User is one login of the endpoint.
type User struct {
	Name, Password string
	Role           string // RoleAnalyst or RoleEngineer
	// Scope limits an analyst to the parties its branches or RMs own or its
	// team members serve (scope.go); a party is visible when any list
	// allows it. All empty: every party.
	Scope warehouse.PartyScope
}

// Options configure a Server.
type Options struct {
	Addr   string // host:port to listen on, e.g. 127.0.0.1:5433
	Users  []User
	Logger *slog.Logger
	// QueryTimeout bounds one statement, sending its rows included; the
	// default is 5 minutes.
	QueryTimeout time.Duration
	// MaxRows caps the rows of one result (0: no cap). A statement that
	// would return more fails with SQLSTATE 54000 (program_limit_exceeded)
	// rather than hand back a silently truncated answer.
	MaxRows int
	// Snapshot sets the memory limit, threads and time zone of each
	// snapshot's DuckDB instance. The time zone also shows TIMESTAMPTZ.
	Snapshot warehouse.SnapshotOptions
	// Observe, if set, is told of sessions and statements as they start and
	// end (tests wait on them).
	Observe func(Event)
	// TLS, when set, lets clients encrypt (sslmode=require, verify-full);
	// RequireTLS then refuses connections that do not.
	TLS        *tls.Config
	RequireTLS bool
	// Audit, if set, is handed a record of every login and statement
	// (audit.go); it must be safe for concurrent use.
	Audit func(AuditRecord)
}

// Event is something that happened in the endpoint.
type Event struct {
	Kind EventKind
	Role string
}

// EventKind says what happened.
type EventKind string

// The kinds of Event.
const (
	SessionOpened    EventKind = "session opened"
	SessionClosed    EventKind = "session closed"
	StatementStarted EventKind = "statement started"
	StatementEnded   EventKind = "statement ended"
	CancelRequested  EventKind = "cancel requested" // with the right key, and acted on
)

func (s *Server) observe(kind EventKind, role string) {
	if s.o.Observe != nil {
		s.o.Observe(Event{Kind: kind, Role: role})
	}
}

// Server is the SQL endpoint.
type Server struct {
	o          Options
	log        *slog.Logger
	loc        *time.Location
	users      map[string]User
	creds      map[string]scram.StoredCredentials
	credSecret []byte
	conns      *connSet

	mu       sync.Mutex
	current  map[string]*snapshot // by role
	sessions map[int32]*session   // by process id (the cancel key)
	closed   bool

	nextPID      atomic.Int32
	sessionsOpen atomic.Int64
	queries      atomic.Int64
	queryErrors  atomic.Int64
	refusals     atomic.Int64
	authFailures atomic.Int64
}

// snapshot is a published snapshot file and the DuckDB instance reading it.
type snapshot struct {
	role, path string
	db         *sql.DB
	published  time.Time
	version    string // DuckDB's, for SELECT version()
	catalog    string // the database name DuckDB gives the file
	// relations says how each mart relation is scoped (by "party", by
	// its own columns, or "" for whole-bank); nil when the snapshot was
	// written without a scope (scope.go).
	relations map[string]string
	granted   string // the relations a scoped user may query, as a VARCHAR[] literal
	refs      int    // statements running on it
	retired   bool   // a newer one was published: close at refs 0
}

// New checks the options and makes a server; it serves once a snapshot is
// published for a role (Publish) and ListenAndServe or Serve runs.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 5 * time.Minute
	}
	if o.MaxRows < 0 {
		return nil, fmt.Errorf("sql endpoint: MaxRows %d: want 0 (no cap) or more", o.MaxRows)
	}
	if o.Snapshot.TimeZone == "" {
		o.Snapshot.TimeZone = "Asia/Shanghai"
	}
	o.Snapshot.Init = append(append([]string(nil), o.Snapshot.Init...), catalogInit...)
	loc, err := time.LoadLocation(o.Snapshot.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("sql endpoint: time zone: %w", err)
	}
	users := map[string]User{}
	for _, u := range o.Users {
		switch {
		case u.Name == "":
			return nil, errors.New("sql endpoint: a user without a name")
		case u.Password == "":
			return nil, fmt.Errorf("sql endpoint: user %s has no password", u.Name)
		case Roles[u.Role] == "":
			return nil, fmt.Errorf("sql endpoint: user %s: unknown role %q (want %s or %s)", u.Name, u.Role, RoleAnalyst, RoleEngineer)
		case u.scoped() && u.Role != RoleAnalyst:
			return nil, fmt.Errorf("sql endpoint: user %s: branches, rm_ids and members limit analysts; an %s reads every schema", u.Name, u.Role)
		case slices.Contains(u.Scope.Branches, "") || slices.Contains(u.Scope.RMs, "") || slices.Contains(u.Scope.Members, ""):
			return nil, fmt.Errorf("sql endpoint: user %s: an empty branch, RM or member id in its scope", u.Name)
		}
		if _, dup := users[u.Name]; dup {
			return nil, fmt.Errorf("sql endpoint: user %s is declared twice", u.Name)
		}
		users[u.Name] = u
	}
	if o.RequireTLS && (o.TLS == nil || len(o.TLS.Certificates) == 0) {
		return nil, errors.New("sql endpoint: TLS is required but no certificate is configured")
	}
	creds, secret, err := credentials(users)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, log: o.Logger, loc: loc, users: users, creds: creds, credSecret: secret,
		current: map[string]*snapshot{}, sessions: map[int32]*session{}, conns: &connSet{open: map[*trackedConn]struct{}{}}}
	return s, nil
}

// UserRoles lists the roles that have a user: the snapshots to publish.
func (s *Server) UserRoles() []string {
	seen := map[string]bool{}
	var roles []string
	for _, u := range s.users {
		if !seen[u.Role] {
			seen[u.Role] = true
			roles = append(roles, u.Role)
		}
	}
	sort.Strings(roles)
	return roles
}

// Publish serves the snapshot file at path to role from now on, opened
// with warehouse.OpenSnapshot. Statements already running finish on the
// previous snapshot, whose instance is closed after the last of them.
func (s *Server) Publish(role, path string) error {
	if Roles[role] == "" {
		return fmt.Errorf("publish %s: unknown role %q (want %s or %s)", path, role, RoleAnalyst, RoleEngineer)
	}
	db, err := warehouse.OpenSnapshot(context.Background(), path, s.o.Snapshot)
	if err != nil {
		return fmt.Errorf("publish for %s: %w", role, err)
	}
	snap := &snapshot{role: role, path: path, db: db, published: time.Now()}
	if err := db.QueryRow(`SELECT library_version, current_database() FROM pragma_version()`).Scan(&snap.version, &snap.catalog); err != nil {
		db.Close()
		return fmt.Errorf("publish for %s: %w", role, err)
	}
	if role == RoleAnalyst {
		if snap.relations, err = readScope(context.Background(), db); err != nil {
			db.Close()
			return fmt.Errorf("publish for %s: %w", role, err)
		}
		snap.granted = grantedLiteral(snap.relations)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		db.Close()
		return fmt.Errorf("publish %s for %s: the sql endpoint is closed", path, role)
	}
	old := s.current[role]
	s.current[role] = snap
	closeOld := old != nil && s.retire(old)
	s.mu.Unlock()
	if closeOld {
		s.closeSnapshot(old)
	}
	s.log.Debug("serving a new snapshot", "role", role, "path", path)
	return nil
}

// retire marks snap replaced and says whether nothing runs on it any
// more. s.mu is held.
func (s *Server) retire(snap *snapshot) bool {
	snap.retired = true
	return snap.refs == 0
}

func (s *Server) closeSnapshot(snap *snapshot) {
	if err := snap.db.Close(); err != nil {
		s.log.Warn("closing a replaced snapshot", "role", snap.role, "path", snap.path, "error", err)
		return
	}
	s.log.Debug("replaced snapshot closed", "role", snap.role, "path", snap.path)
}

// errNoSnapshot answers statements before the first publication.
var errNoSnapshot = psqlerr.WithSeverity(psqlerr.WithCode(
	errors.New("no snapshot published yet: the first run has not finished"), codes.CannotConnectNow), psqlerr.LevelError)

// acquire takes the current snapshot of role for one statement.
func (s *Server) acquire(role string) (*snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.current[role]
	if snap == nil {
		return nil, errNoSnapshot
	}
	snap.refs++
	return snap, nil
}

// release gives back a snapshot taken by acquire, closing it if it was
// replaced meanwhile and this was its last statement.
func (s *Server) release(snap *snapshot) {
	s.mu.Lock()
	snap.refs--
	last := snap.retired && snap.refs == 0
	s.mu.Unlock()
	if last {
		s.closeSnapshot(snap)
	}
}

// Ready reports whether every role that has a user has a snapshot.
func (s *Server) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if s.current[u.Role] == nil {
			return false
		}
	}
	return true
}

// Stats are the endpoint's counters, for metrics.
type Stats struct {
	Sessions     int64 // open now
	Queries      int64 // statements received, refused ones included
	QueryErrors  int64 // statements that failed: DuckDB errors, timeouts, results over MaxRows
	Refused      int64 // statements refused by the gate or by DuckDB's lockdown
	AuthFailures int64
	Snapshots    map[string]SnapshotStats // by role, for the roles with a snapshot
}

// SnapshotStats describe the snapshot a role reads.
type SnapshotStats struct {
	Path        string
	PublishedAt time.Time
	Age         time.Duration // since published
	Running     int           // statements running on it
}

// Stats reads the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Sessions:     s.sessionsOpen.Load(),
		Queries:      s.queries.Load(),
		QueryErrors:  s.queryErrors.Load(),
		Refused:      s.refusals.Load(),
		AuthFailures: s.authFailures.Load(),
		Snapshots:    map[string]SnapshotStats{},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for role, snap := range s.current {
		st.Snapshots[role] = SnapshotStats{Path: snap.path, PublishedAt: snap.published,
			Age: time.Since(snap.published), Running: snap.refs}
	}
	return st
}

// Close closes the snapshots, each once its statements finish; Publish
// fails afterwards. Call it after ListenAndServe returns.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var idle []*snapshot
	for role, snap := range s.current {
		if s.retire(snap) {
			idle = append(idle, snap)
		}
		delete(s.current, role)
	}
	s.mu.Unlock()
	var errs []error
	for _, snap := range idle {
		errs = append(errs, snap.db.Close())
	}
	return errors.Join(errs...)
}

// ListenAndServe listens on Options.Addr and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.o.Addr)
	if err != nil {
		return fmt.Errorf("sql endpoint: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves connections from ln until ctx is done, then stops
// accepting, cancels the statements running, closes the connections and
// returns nil once every session has ended. ln is closed.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	conns := s.conns
	conns.Listener = ln
	opts := []wire.OptionFn{
		wire.SessionAuthStrategy(s.authenticate),
		wire.BackendKeyData(s.backendKey),
		wire.CancelRequest(s.cancelRequest),
		wire.SessionMiddleware(s.startSession),
		wire.CloseConn(s.endSession),
		wire.TxStatus(s.txStatus),
		wire.GlobalParameters(s.serverParameters()),
		wire.Logger(slog.New(quietHandler{s.log.Handler()})),
	}
	if s.o.TLS != nil {
		opts = append(opts, wire.TLSConfig(s.o.TLS))
	}
	ws, err := wire.NewServer(s.parse, opts...)
	if err != nil {
		ln.Close()
		return fmt.Errorf("sql endpoint: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- ws.Serve(conns) }()
	s.log.Info("sql endpoint listening", "addr", ln.Addr().String(), "users", len(s.users), "tls", s.o.TLS != nil, "tls_required", s.o.RequireTLS)
	var serveErr error
	select {
	case serveErr = <-served: // the listener failed or was closed
		ws.Close()
	case <-ctx.Done():
		ws.Close()
		serveErr = <-served
	}
	s.mu.Lock()
	for _, sess := range s.sessions {
		sess.interrupt(errShuttingDown)
	}
	s.mu.Unlock()
	conns.closeAll()
	ws.Wait()
	if serveErr != nil {
		return fmt.Errorf("sql endpoint %s: %w", ln.Addr(), serveErr)
	}
	s.log.Info("sql endpoint stopped", "addr", ln.Addr().String())
	return nil
}

// serverParameters are sent to clients after login. psql-wire adds the
// encodings and server_version (it reports 15).
func (s *Server) serverParameters() wire.Parameters {
	return wire.Parameters{
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"TimeZone":                      s.loc.String(),
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
		"default_transaction_read_only": "on",
	}
}

// The Postgres version clients are told; psql-wire announces 15 on its own.
const (
	serverVersion    = "15.0"
	serverVersionNum = "150000"
)

// versionString answers SELECT version(): clients parse "PostgreSQL x.y".
func (s *Server) versionString(sess *session) string {
	duck := ""
	s.mu.Lock()
	if snap := s.current[sess.user.Role]; snap != nil {
		duck = " " + snap.version
	}
	s.mu.Unlock()
	return "PostgreSQL " + serverVersion + " (cdp serve: read-only snapshots on DuckDB" + duck + ")"
}

// connSet tracks the connections a listener accepted, to close them on
// shutdown: psql-wire's Close stops accepting but leaves them open.
type connSet struct {
	net.Listener
	mu   sync.Mutex
	open map[*trackedConn]struct{}
}

type trackedConn struct {
	*sniffConn
	set  *connSet
	once sync.Once
}

func (l *connSet) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{sniffConn: &sniffConn{Conn: c}, set: l}
	l.mu.Lock()
	l.open[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// encrypted says whether the open connection from remote asked for TLS
// (and so, with a certificate configured, got it).
func (l *connSet) encrypted(remote string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.open {
		if c.RemoteAddr().String() == remote {
			return c.askedForTLS()
		}
	}
	return false
}

func (c *trackedConn) Close() error {
	err := c.sniffConn.Close()
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.open, c)
		c.set.mu.Unlock()
	})
	return err
}

func (l *connSet) closeAll() {
	l.mu.Lock()
	open := make([]*trackedConn, 0, len(l.open))
	for c := range l.open {
		open = append(open, c)
	}
	l.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

// quietHandler passes psql-wire's own log records on from Warn up: its
// Debug and Info lines repeat what the endpoint logs per query and session.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
