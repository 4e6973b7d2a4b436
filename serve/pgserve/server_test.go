package pgserve_test

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cdp/serve/pgserve"
	"cdp/warehouse"

	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed testdata/warehouse.sql
var warehouseSQL string

const psqlPath = "/usr/bin/psql"

// Passwords of the test users; none may appear in the log.
const (
	analystPassword  = "an4lyst-s3cret"
	engineerPassword = "eng1neer-s3cret"
	scopedPassword   = "sc0ped-s3cret" // of the users limited to branches or RMs
)

// endpoint is a warehouse with its two snapshots and a server on
// 127.0.0.1 serving them.
type endpoint struct {
	t     *testing.T
	w     *warehouse.Warehouse
	srv   *pgserve.Server
	port  string
	dir   string
	logs  *syncBuffer
	paths map[string]string // snapshot file by role

	mu     sync.Mutex
	seen   *sync.Cond
	events map[pgserve.EventKind]int // what the server observed, by kind
	hook   func(pgserve.Event)       // if set, runs on the server's goroutine as each event happens
}

func (e *endpoint) observe(ev pgserve.Event) {
	e.mu.Lock()
	hook := e.hook
	e.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
	e.mu.Lock()
	e.events[ev.Kind]++
	e.mu.Unlock()
	e.seen.Broadcast()
}

// count is how many events of a kind the server reported so far.
func (e *endpoint) count(kind pgserve.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events[kind]
}

// await waits until ok holds over the server's event counts, failing the
// test after a minute.
func (e *endpoint) await(what string, ok func(events map[pgserve.EventKind]int) bool) {
	e.t.Helper()
	late := time.AfterFunc(time.Minute, e.seen.Broadcast)
	defer late.Stop()
	deadline := time.Now().Add(time.Minute)
	e.mu.Lock()
	defer e.mu.Unlock()
	for !ok(e.events) {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within a minute (events %v)", what, e.events)
		}
		e.seen.Wait()
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// serve starts an endpoint; publish says whether the snapshots are
// published before it starts.
func serve(t *testing.T, o pgserve.Options, publish bool) *endpoint {
	t.Helper()
	if _, err := os.Stat(psqlPath); err != nil {
		t.Fatalf("these tests run the real psql client, not found at %s: install postgresql-client (apt-get install postgresql-client)", psqlPath)
	}
	dir := t.TempDir()
	w, err := warehouse.Open(context.Background(), filepath.Join(dir, "live.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB().Exec(warehouseSQL); err != nil {
		t.Fatal(err)
	}
	e := &endpoint{t: t, w: w, dir: dir, logs: &syncBuffer{}, paths: map[string]string{
		pgserve.RoleAnalyst:  filepath.Join(dir, "snapshots", "analyst.duckdb"),
		pgserve.RoleEngineer: filepath.Join(dir, "snapshots", "full.duckdb"),
	}, events: map[pgserve.EventKind]int{}}
	e.seen = sync.NewCond(&e.mu)
	o.Observe = e.observe
	o.Users = []pgserve.User{
		{Name: "analyst", Password: analystPassword, Role: pgserve.RoleAnalyst},
		{Name: "engineer", Password: engineerPassword, Role: pgserve.RoleEngineer},
		// Limited to parties owned by branch BR01, by RM RM0, or either
		// (testdata/warehouse.sql: mart.party_owner).
		{Name: "branch", Password: scopedPassword, Role: pgserve.RoleAnalyst, Scope: warehouse.PartyScope{Branches: []string{"BR01"}}},
		{Name: "rm", Password: scopedPassword, Role: pgserve.RoleAnalyst, Scope: warehouse.PartyScope{RMs: []string{"RM0"}}},
		{Name: "both", Password: scopedPassword, Role: pgserve.RoleAnalyst, Scope: warehouse.PartyScope{Branches: []string{"BR01"}, RMs: []string{"RM0"}}},
		{Name: "team", Password: scopedPassword, Role: pgserve.RoleAnalyst, Scope: warehouse.PartyScope{Members: []string{"S1"}}},
	}
	o.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Snapshot = warehouse.SnapshotOptions{Threads: 1, MemoryLimit: "256MB"}
	e.srv, err = pgserve.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if publish {
		for _, role := range e.srv.UserRoles() {
			e.publish(role)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		w.Close()
		for _, secret := range []string{analystPassword, engineerPassword, scopedPassword, "wrong-password"} {
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("a password is in the log:\n%s", e.logs.String())
			}
		}
	})
	return e
}

// publish writes the role's snapshot from the live warehouse and serves it.
func (e *endpoint) publish(role string) {
	e.t.Helper()
	var scope *warehouse.SnapshotScope
	if role == pgserve.RoleAnalyst {
		scope = e.srv.SnapshotScope()
	}
	if _, err := e.w.Snapshot(context.Background(), e.paths[role], pgserve.Roles[role], scope); err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.Publish(role, e.paths[role]); err != nil {
		e.t.Fatal(err)
	}
}

// psql runs the real client with one -c per statement; out is stdout,
// stderr is what psql printed there (errors), err the exit status.
func (e *endpoint) psql(user, password string, statements ...string) (out, stderr string, err error) {
	args := []string{"-h", "127.0.0.1", "-p", e.port, "-U", user, "-d", "cdp", "-X", "-w",
		"-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-At"}
	for _, s := range statements {
		args = append(args, "-c", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psqlPath, args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=disable", "PGGSSENCMODE=disable", "PGCONNECT_TIMEOUT=10")
	var o, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &se
	err = cmd.Run()
	return strings.TrimSpace(o.String()), se.String(), err
}

// query runs statements that must succeed.
func (e *endpoint) query(user, password string, statements ...string) string {
	e.t.Helper()
	out, stderr, err := e.psql(user, password, statements...)
	if err != nil {
		e.t.Fatalf("psql %q: %v\n%s", statements, err, stderr)
	}
	return out
}

func (e *endpoint) analyst(statements ...string) string {
	e.t.Helper()
	return e.query("analyst", analystPassword, statements...)
}

func TestServe_AnalystReadsTheMartWithMaskedIdentity(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	got := e.analyst(`SELECT party_id, name, id_no_masked, mobile_masked, aum, updated_at
		FROM mart.customer_360 WHERE party_id IN ('P00', 'P07') ORDER BY party_id`)
	want := "P00|客户0|110105********0000|138****0000|1000.50|2026-11-20 10:00:00+08\n" +
		"P07|客户7|110105********0007|138****0007|1007.50|2026-11-20 10:00:00+08"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := e.analyst(`SELECT count(*) FROM mart.customer_360`); got != "20" {
		t.Errorf("count %s, want 20", got)
	}
	// The analyst's snapshot has no core: the full ID numbers are not there.
	_, stderr, err := e.psql("analyst", analystPassword, `SELECT id_no FROM core.party`)
	if err == nil || !strings.Contains(stderr, "does not exist") {
		t.Errorf("core.party for the analyst: %v %s", err, stderr)
	}
	// Besides mart's views, only the copies they scope (scope.go).
	if got := e.analyst(`SELECT count(*) FROM duckdb_tables() WHERE schema_name NOT IN ('mart', 'cdp_base')`); got != "0" {
		t.Errorf("%s tables outside mart in the analyst's snapshot", got)
	}
	if got := e.analyst(`SELECT string_agg(table_name || ':' || table_type, ' ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'mart' AND table_name IN ('customer_360', 'party_owner')`); got != "customer_360:VIEW party_owner:VIEW" {
		t.Errorf("mart in the analyst's snapshot: %s", got)
	}
}

func TestServe_EngineerReadsEverySchemaReadOnly(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	got := e.query("engineer", engineerPassword, `SELECT id_no, mobile FROM core.party WHERE party_id = 'P07'`)
	if got != "110105194912310007|13800130007" {
		t.Errorf("core.party: %q", got)
	}
	if got := e.query("engineer", engineerPassword, `SELECT count(*) FROM raw.demo_events`); got != "50" {
		t.Errorf("raw.demo_events: %q", got)
	}
	_, stderr, err := e.psql("engineer", engineerPassword, `DELETE FROM core.party`)
	if err == nil || !strings.Contains(stderr, "25006: cdp serve is read-only: DELETE is not allowed (engineers query a read-only snapshot of the warehouse)") {
		t.Errorf("DELETE as engineer: %v %s", err, stderr)
	}
}

func TestServe_WrongPasswordAndUnknownUserAreRefusedAlike(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	for _, c := range []struct{ user, password string }{
		{"analyst", "wrong-password"},
		{"mallory", "wrong-password"},
	} {
		_, stderr, err := e.psql(c.user, c.password, `SELECT 1`)
		want := fmt.Sprintf(`FATAL:  password authentication failed for user "%s"`, c.user)
		if err == nil || !strings.Contains(stderr, want) {
			t.Errorf("%s/%q: %v\n%s", c.user, c.password, err, stderr)
		}
	}
	if n := e.srv.Stats().AuthFailures; n != 2 {
		t.Errorf("%d auth failures counted, want 2", n)
	}
	if !strings.Contains(e.logs.String(), `msg="sql login refused" user=mallory`) {
		t.Errorf("refused login not logged:\n%s", e.logs.String())
	}
}

// Every refusal names what was refused; the SQLSTATE says why (25006 a
// write, 42501 a privilege the endpoint does not give).
func TestServe_AnalystIsRefusedAnythingButQueries(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	csv := filepath.Join(e.dir, "x.csv")
	cases := []struct{ sql, want string }{
		{`CREATE TABLE mart.t (a INT)`, `25006: cdp serve is read-only: CREATE is not allowed (analysts query the mart snapshot)`},
		{`CREATE TEMP TABLE t AS SELECT 1`, `25006: cdp serve is read-only: CREATE is not allowed`},
		{`INSERT INTO mart.customer_360 (party_id) VALUES ('X')`, `25006: cdp serve is read-only: INSERT is not allowed`},
		{`COPY (SELECT 1) TO '/tmp/x.csv'`, `42501: cdp serve does not read or write files: COPY is not allowed`},
		{`COPY (SELECT 1) TO '` + csv + `'`, `42501: cdp serve does not read or write files: COPY is not allowed`},
		{`SELECT * FROM read_csv('/etc/passwd')`, `42501: cdp serve does not read or write files: Cannot access file "/etc/passwd"`},
		{`SELECT * FROM '/etc/passwd'`, `42501: cdp serve does not read or write files: /etc/passwd is not a table of the snapshot`},
		{`SELECT * FROM glob('/etc/*')`, `42501: cdp serve does not read or write files`},
		{`ATTACH '/tmp/x.duckdb'`, `42501: cdp serve serves one snapshot: ATTACH is not allowed`},
		{`INSTALL httpfs`, `42501: cdp serve does not install or load extensions: INSTALL is not allowed`},
		{`LOAD httpfs`, `42501: cdp serve does not install or load extensions: LOAD is not allowed`},
		{`SET threads = 1`, `42501: cdp serve settings are fixed: SET threads is not allowed`},
		{`SET GLOBAL lock_configuration = false`, `42501: cdp serve settings are fixed: SET lock_configuration is not allowed`},
		{`SET search_path = core`, `42501: cdp serve settings are fixed: SET search_path is not allowed`},
		{`RESET threads`, `42501: cdp serve settings are fixed: RESET threads is not allowed`},
		{`CALL pragma_version()`, `42501: cdp serve runs queries only: CALL is not allowed`},
		{`CHECKPOINT`, `25006: cdp serve is read-only: CHECKPOINT is not allowed`},
		{`EXPORT DATABASE '/tmp/x'`, `42501: cdp serve does not read or write files: EXPORT is not allowed`},
		// Layer 3: the first keyword starts a query, DuckDB's parser says otherwise.
		{`WITH x AS (SELECT 'X' AS id) INSERT INTO mart.customer_360 (party_id) SELECT id FROM x`, `25006: cdp serve is read-only: INSERT is not allowed`},
		{`PRAGMA threads = 1`, `42501: cdp serve settings are fixed: SET is not allowed`},
		{`EXPLAIN ANALYZE DELETE FROM mart.customer_360`, `25006: cdp serve is read-only: DELETE is not allowed`},
		{`EXPLAIN ANALYZE WITH x AS (SELECT 1) DELETE FROM mart.customer_360`, `25006: cdp serve is read-only: DELETE is not allowed`},
		{`SELECT 1; DROP TABLE mart.customer_360`, `0A000: cdp serve runs one statement per query`},
		{`WITH x AS (SELECT 1) SELECT * FROM x; DROP TABLE mart.customer_360`, `0A000: cdp serve runs one statement per query`},
		{`COMMIT; DROP TABLE mart.customer_360`, `0A000: cdp serve runs one statement per query`},
		// DuckDB counts these as SELECTs; they would change the shared reader.
		{`SELECT * FROM enable_logging(storage := 'file', storage_path := '/tmp/x')`, `42501: cdp serve runs queries only: enable_logging() is not allowed`},
		{`SELECT * FROM enable_profiling()`, `42501: cdp serve runs queries only: enable_profiling() is not allowed`},
		{`/* hidden */ DROP TABLE mart.customer_360`, `25006: cdp serve is read-only: DROP is not allowed`},
	}
	for _, c := range cases {
		_, stderr, err := e.psql("analyst", analystPassword, c.sql)
		if err == nil || !strings.Contains(stderr, "ERROR:  "+c.want) {
			t.Errorf("%s\n got: %v %s\nwant: ERROR:  %s", c.sql, err, stderr, c.want)
		}
	}
	if _, err := os.Stat(csv); !os.IsNotExist(err) {
		t.Errorf("COPY wrote %s", csv)
	}
	if got := e.analyst(`SELECT count(*) FROM mart.customer_360`); got != "20" {
		t.Errorf("after the refusals: %s rows, want 20", got)
	}
	st := e.srv.Stats()
	if st.Refused != int64(len(cases)) {
		t.Errorf("%d refusals counted, want %d", st.Refused, len(cases))
	}
	if !strings.Contains(e.logs.String(), `msg="sql statement refused" user=analyst role=analyst`) {
		t.Errorf("refusals not logged at Info:\n%s", e.logs.String())
	}
}

func TestServe_QueriesTheGateLetsThrough(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	for _, c := range []struct{ sql, want string }{
		{`WITH c AS (SELECT * FROM mart.customer_360) SELECT count(*) FROM c`, "20"},
		{`VALUES (1, 'a')`, "1|a"},
		{`FROM mart.customer_360 SELECT count(*)`, "20"},
		{`TABLE mart.customer_360 LIMIT 1`, "P00|客户0|110105********0000|138****0000|1000.50|2026-11-20 10:00:00+08"},
		{`(SELECT 1) UNION ALL (SELECT 2)`, "1\n2"},
		{`SHOW ALL TABLES`, "analyst|mart|customer_360|"},
		{`DESCRIBE mart.customer_360`, "party_id|VARCHAR|YES|||"},
		{`PRAGMA table_info('mart.customer_360')`, "0|party_id|VARCHAR|f||f"},
		{`SELECT count(*) FROM (SUMMARIZE mart.customer_360)`, "6"},
		{`EXPLAIN SELECT count(*) FROM mart.customer_360`, "physical_plan"},
		{`SELECT 1;`, "1"},
		{`-- a comment first
		  SELECT 2`, "2"},
	} {
		out := e.analyst(c.sql)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: got %q, want %q in it", c.sql, out, c.want)
		}
	}
}

func TestServe_TypesAsPsqlShowsThem(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	got := e.analyst(`SELECT true, 7::TINYINT, 70000::INTEGER, 9000000000::BIGINT, 18446744073709551615::UBIGINT,
		170141183460469231731687303715884105727::HUGEINT, 12.5::DECIMAL(18, 2), 1.5::FLOAT, 0.1::DOUBLE,
		DATE '2026-11-20', TIME '10:20:30.5', TIMESTAMP '2026-11-20 10:20:30', TIMESTAMPTZ '2026-11-20 02:20:30Z',
		INTERVAL '1 year 2 days 03:04:05', '\xAB'::BLOB, 'text', NULL::INTEGER, [1, 2], {'a': 1, 'b': 'x y'},
		MAP {'k': 1}, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID`)
	want := "t|7|70000|9000000000|18446744073709551615|170141183460469231731687303715884105727|12.50|1.5|0.1|" +
		"2026-11-20|10:20:30.5|2026-11-20 10:20:30|2026-11-20 10:20:30+08|1 year 2 days 03:04:05|\\xab|text||" +
		`[1,2]|{"a":1,"b":"x y"}|{"k":1}|6ba7b810-9dad-11d1-80b4-00c04fd430c8`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// What psql, JDBC/DBeaver and BI tools send on their own is answered.
func TestServe_ClientChatterIsAnswered(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	got := e.analyst(
		`SET extra_float_digits = 3`,
		`SET application_name = 'DBeaver 24.1'`,
		`SET DateStyle = ISO`,
		`SET client_encoding = 'UTF8'`,
		`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`,
		`SHOW TRANSACTION ISOLATION LEVEL`,
		`SHOW transaction_read_only`,
		`BEGIN`,
		`SELECT count(*) FROM mart.customer_360`,
		`COMMIT`,
		`BEGIN READ ONLY`,
		`ROLLBACK`,
		`SELECT version()`,
	)
	want := "SET\nSET\nSET\nSET\nSET\nread committed\non\nBEGIN\n20\nCOMMIT\nBEGIN\nROLLBACK\nPostgreSQL 15.0 (cdp serve: read-only snapshots on DuckDB v"
	if !strings.HasPrefix(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	_, stderr, err := e.psql("analyst", analystPassword, `SET client_encoding = 'LATIN1'`)
	if err == nil || !strings.Contains(stderr, "cdp serve speaks UTF8 only") {
		t.Errorf("client_encoding LATIN1: %v %s", err, stderr)
	}
}

func TestServe_BeforeTheFirstRunQueriesSayNoSnapshotYet(t *testing.T) {
	e := serve(t, pgserve.Options{}, false)
	if e.srv.Ready() {
		t.Fatal("ready without a snapshot")
	}
	_, stderr, err := e.psql("analyst", analystPassword, `SELECT count(*) FROM mart.customer_360`)
	if err == nil || !strings.Contains(stderr, "57P03: no snapshot published yet: the first run has not finished") {
		t.Errorf("before publishing: %v %s", err, stderr)
	}
	// Chatter needs no snapshot: clients can connect.
	if got := e.analyst(`SET application_name = 'x'`); got != "SET" {
		t.Errorf("SET before publishing: %q", got)
	}
	e.publish(pgserve.RoleAnalyst)
	if e.srv.Ready() {
		t.Error("ready with the engineer's snapshot missing")
	}
	e.publish(pgserve.RoleEngineer)
	if !e.srv.Ready() {
		t.Error("not ready with both snapshots")
	}
	if got := e.analyst(`SELECT count(*) FROM mart.customer_360`); got != "20" {
		t.Errorf("after publishing: %q", got)
	}
}

func TestServe_MaxRowsFailsRatherThanTruncates(t *testing.T) {
	e := serve(t, pgserve.Options{MaxRows: 5}, true)
	if got := e.analyst(`SELECT * FROM range(5)`); got != "0\n1\n2\n3\n4" {
		t.Errorf("5 rows: %q", got)
	}
	_, stderr, err := e.psql("analyst", analystPassword, `SELECT * FROM range(6)`)
	if err == nil || !strings.Contains(stderr, "54000: the result has more than 5 rows") {
		t.Errorf("6 rows: %v %s", err, stderr)
	}
	if n := e.srv.Stats().QueryErrors; n != 1 {
		t.Errorf("%d query errors counted, want 1", n)
	}
}

func TestServe_QueryTimeoutAndCancel(t *testing.T) {
	e := serve(t, pgserve.Options{QueryTimeout: time.Second}, true)
	const slow = `SELECT sum(hash(range)) FROM range(100000000000)`
	start := time.Now()
	_, stderr, err := e.psql("analyst", analystPassword, slow)
	if err == nil || !strings.Contains(stderr, "57014: canceling statement due to statement timeout (1s)") {
		t.Errorf("timeout: %v %s", err, stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the timeout took %s", took)
	}
	// Ctrl-C in psql sends a cancel request with the session's key. (On a
	// server of its own, whose timeout is far off: on a loaded machine the
	// cancel could otherwise arrive after a 1s timeout had fired.)
	e = serve(t, pgserve.Options{QueryTimeout: time.Minute}, true)
	cmd := exec.Command(psqlPath, "-h", "127.0.0.1", "-p", e.port, "-U", "analyst", "-d", "cdp", "-X", "-w",
		"-v", "VERBOSITY=verbose", "-At", "-c", slow)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+analystPassword, "PGSSLMODE=disable", "PGGSSENCMODE=disable")
	var se bytes.Buffer
	cmd.Stderr = &se
	started := e.count(pgserve.StatementStarted)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.await("the slow statement starts", func(ev map[pgserve.EventKind]int) bool { return ev[pgserve.StatementStarted] > started })
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if !strings.Contains(se.String(), "57014: canceling statement due to user request") {
		t.Errorf("cancel: %s", se.String())
	}
}

// A cancel stops the client's request, not only the statement running at
// that instant: one arriving after the statement was described and before
// it runs (two snapshot connections, nothing running in between) stops the
// run as it starts. A cancel while the session is idle does nothing to the
// next query.
func TestServe_CancelBetweenDescribeAndRunStopsTheRun(t *testing.T) {
	e := serve(t, pgserve.Options{QueryTimeout: time.Minute}, true)
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, "postgres://analyst:"+analystPassword+"@127.0.0.1:"+e.port+"/cdp?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	described, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.mu.Lock()
	e.hook = func(ev pgserve.Event) { // hold the session right after the description
		if ev.Kind == pgserve.StatementEnded {
			once.Do(func() { close(described); <-release })
		}
	}
	e.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, `SELECT sum(hash(range)) FROM range(100000000000)`).ReadAll()
		done <- err
	}()
	<-described
	if err := conn.CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	e.await("the cancel request", func(ev map[pgserve.EventKind]int) bool { return ev[pgserve.CancelRequested] == 1 })
	close(release)
	var pgErr *pgconn.PgError
	if err := <-done; !errors.As(err, &pgErr) || pgErr.Code != "57014" || pgErr.Message != "canceling statement due to user request" {
		t.Fatalf("the run after a cancel: %v", err)
	}

	if err := conn.CancelRequest(ctx); err != nil { // idle: nothing to cancel
		t.Fatal(err)
	}
	e.await("the idle cancel request", func(ev map[pgserve.EventKind]int) bool { return ev[pgserve.CancelRequested] == 2 })
	res, err := conn.Exec(ctx, `SELECT 41 + 1`).ReadAll()
	if err != nil || len(res) != 1 || len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != "42" {
		t.Fatalf("the query after an idle cancel: %v %v", res, err)
	}
}

// The daemon's life: a writer keeps loading the live warehouse, runs end
// with a new snapshot published, and analysts keep querying throughout
// without an error, seeing the answers move forward with every snapshot.
func TestServe_AnswersWhileTheWarehouseIsWrittenAndSnapshotsRepublished(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var queries atomic.Int64
	seen := make(chan int, 1000)
	wg.Go(func() { // an analyst, querying all along
		last := 0
		for ctx.Err() == nil {
			out, stderr, err := e.psql("analyst", analystPassword, `SELECT count(*) FROM mart.customer_360`)
			if err != nil {
				t.Errorf("query during republishing: %v %s", err, stderr)
				return
			}
			n, err := strconv.Atoi(out)
			if err != nil {
				t.Errorf("count(*) answered %q: %v", out, err)
				return
			}
			if n < last {
				t.Errorf("the answer went back from %d to %d", last, n)
			}
			if n != last {
				seen <- n
			}
			last = n
			queries.Add(1)
		}
	})
	const rounds, start = 6, 20
	want := start
	for r := range rounds { // the daemon: a run writes, then a snapshot is published
		if _, err := e.w.DB().Exec(`INSERT INTO mart.customer_360 (party_id) SELECT 'W' || ? || '-' || range FROM range(10)`, r); err != nil {
			t.Fatalf("writer: %v", err)
		}
		want += 10
		e.publish(pgserve.RoleAnalyst)
		// The analyst, still querying, sees the new snapshot's count.
		for got := 0; got < want; {
			select {
			case got = <-seen:
			case <-time.After(time.Minute):
				t.Fatalf("round %d: the analyst did not see %d rows within a minute", r, want)
			}
			if got > want {
				t.Fatalf("round %d: the analyst saw %d rows, more than the %d written", r, got, want)
			}
		}
	}
	stop()
	wg.Wait()
	t.Logf("%d queries answered over %d snapshots", queries.Load(), rounds)
	if final := e.analyst(`SELECT count(*) FROM mart.customer_360`); final != strconv.Itoa(want) {
		t.Errorf("final count %s, want %d", final, want)
	}
	// The server ends every session once psql has left.
	e.await("every session ends", func(ev map[pgserve.EventKind]int) bool {
		return ev[pgserve.SessionClosed] == ev[pgserve.SessionOpened]
	})
	if st := e.srv.Stats(); st.QueryErrors != 0 || st.Snapshots[pgserve.RoleAnalyst].Running != 0 || st.Sessions != 0 {
		t.Errorf("stats after the run: %+v", st)
	}
}

func TestServe_NewRefusesBadUsers(t *testing.T) {
	for _, c := range []struct {
		users []pgserve.User
		want  string
	}{
		{[]pgserve.User{{Name: "a", Password: "p", Role: "admin"}}, `user a: unknown role "admin"`},
		{[]pgserve.User{{Name: "a", Role: "analyst"}}, "user a has no password"},
		{[]pgserve.User{{Name: "a", Password: "p", Role: "analyst"}, {Name: "a", Password: "q", Role: "engineer"}}, "user a is declared twice"},
	} {
		_, err := pgserve.New(pgserve.Options{Users: c.users})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.users, err, c.want)
		}
	}
	s, err := pgserve.New(pgserve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish("admin", "x.duckdb"); err == nil || !strings.Contains(err.Error(), `unknown role "admin"`) {
		t.Errorf("Publish for an unknown role: %v", err)
	}
}
