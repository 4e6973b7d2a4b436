package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
)

// TestMain lets a test run the cdp command line as a child process
// (CDP_TEST_RUN_MAIN=1): the test binary is then cdp. Otherwise it runs
// the tests, building each generated bank they ask for once.
func TestMain(m *testing.M) {
	if os.Getenv("CDP_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(testbank.Main(m))
}

func psql(t *testing.T, port, user, password, query string) (string, error) {
	t.Helper()
	cmd := exec.Command("psql", "-h", "127.0.0.1", "-p", port, "-U", user, "-d", "cdp", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", query)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// cdp run builds the mart; cdp serve then serves it to psql while a job it
// fires rewrites the warehouse, and cdp status and cdp run reach the daemon
// while it holds the file.
func TestServe_PsqlQueriesKeepWorkingWhileAJobWrites(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found: install postgresql-client (.ci/run does)")
	}
	b := testbank.Load(t, testbank.Options{Parties: 1500, Days: 3, Seed: 24})
	// br is limited to the branch with the most parties.
	var branch string
	var branchParties int
	sqltest.Row(t, b.W.DB(), `SELECT branch_code, count(*) FROM core.party WHERE branch_code IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&branch, &branchParties)
	b.W.Close() // the commands open the warehouse themselves
	cfg := filepath.Join(b.Dir, "cdp.yaml")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Fixed ports: cdp status and cdp run find the daemon at serve.http.
	f.WriteString(`
schedules:
  jobs:
    - {name: describe, stages: [tags, tiers, view, signals], cron: "0 30 2 * * *"}
serve:
  http: ` + freeAddr(t) + `
  control: {token_env: TEST_CONTROL_TOKEN, token_file: ""}
  sql:
    listen: ` + freeAddr(t) + `
    users:
      - {name: ana, role: analyst, password_env: TEST_ANA_PW}
      - {name: br, role: analyst, password_env: TEST_ANA_PW, branches: [` + branch + `]}
`)
	f.Close()
	t.Setenv("TEST_ANA_PW", "s3cret-ana")
	t.Setenv("TEST_CONTROL_TOKEN", "c0ntrol-t0ken")

	out, err := run(t, "run", "describe", "--config", cfg)
	if err != nil || !regexp.MustCompile(`fire \S+ of describe \(manual\): success`).MatchString(out) {
		t.Fatalf("cdp run describe: %v\n%s", err, out)
	}

	// The daemon is its own process, as in production: DuckDB's driver
	// shares one database per file within a process, so only another
	// process meets the lock that sends cdp status and cdp run to it.
	// The test follows the daemon by what it prints: its banner, then its
	// log lines (JSON), each read as it is written.
	daemon := exec.Command(os.Args[0], "serve", "--config", cfg, "--log-level", "info", "--log-format", "json")
	daemon.Env = append(os.Environ(), "CDP_TEST_RUN_MAIN=1")
	output, err := daemon.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	daemon.Stderr = daemon.Stdout
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Process.Kill()
	said := follow(output)
	httpAddr := said.expect(t, `^\s+http\s+http://(\S+)`)[1]
	sqlPort := said.expect(t, `psql -h 127\.0\.0\.1 -p (\d+) -U ana cdp`)[1]
	said.expect(t, `"msg":"ready"`)
	base := "http://" + httpAddr
	if resp, err := http.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz once ready: %v %v", err, resp)
	}

	// The analyst sees the mart, masked.
	got, err := psql(t, sqlPort, "ana", "s3cret-ana", "SELECT count(*) FROM mart.customer_360 WHERE id_no_masked LIKE '%*%'")
	if err != nil || got == "0" {
		t.Fatalf("masked ids: %v %q", err, got)
	}
	if got, err := psql(t, sqlPort, "ana", "s3cret-ana", "SELECT count(*) FROM mart.customer_360 WHERE regexp_matches(id_no_masked, '^[0-9]{17}[0-9X]$') OR regexp_matches(mobile_masked, '^1[0-9]{10}$')"); err != nil || got != "0" {
		t.Fatalf("unmasked ids or mobiles visible to the analyst: %v %q", err, got)
	}
	if _, err := psql(t, sqlPort, "ana", "wrong", "SELECT 1"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	// The branch user's rows are exactly the branch's parties' rows, in
	// every mart table and in aggregates: what the unscoped analyst gets
	// by filtering on the branch.
	if got, err := psql(t, sqlPort, "br", "s3cret-ana", "SELECT count(*) FROM mart.customer_360"); err != nil || got != strconv.Itoa(branchParties) {
		t.Errorf("the branch user's customers: %v %q, want %d", err, got, branchParties)
	}
	ofBranch := "party_id IN (SELECT party_id FROM mart.customer_360 WHERE branch_code = '" + branch + "')"
	for _, c := range []struct{ scoped, filtered string }{
		{"SELECT count(*) FROM mart.tags", "SELECT count(*) FROM mart.tags WHERE " + ofBranch},
		{"SELECT count(*), count(DISTINCT rule_id) FROM mart.signals", "SELECT count(*), count(DISTINCT rule_id) FROM mart.signals WHERE " + ofBranch},
		{"SELECT tier, count(*), sum(value_score)::DECIMAL(18,1) FROM mart.value_tier GROUP BY 1 ORDER BY 1", "SELECT tier, count(*), sum(value_score)::DECIMAL(18,1) FROM mart.value_tier WHERE " + ofBranch + " GROUP BY 1 ORDER BY 1"},
		{"SELECT count(*) FROM mart.tag_history h JOIN mart.value_tier v USING (party_id)", "SELECT count(*) FROM mart.tag_history h JOIN mart.value_tier v USING (party_id) WHERE h." + ofBranch},
		{"SELECT count(*) FROM mart.signal_decisions", "SELECT count(*) FROM mart.signal_decisions WHERE " + ofBranch},
		{"SELECT sum(aum) FROM mart.customer_360", "SELECT sum(aum) FROM mart.customer_360 WHERE " + ofBranch},
	} {
		got, err1 := psql(t, sqlPort, "br", "s3cret-ana", c.scoped)
		want, err2 := psql(t, sqlPort, "ana", "s3cret-ana", c.filtered)
		if err1 != nil || err2 != nil || got != want || want == "" {
			t.Errorf("%s as the branch user: %v %q, want %v %q", c.scoped, err1, got, err2, want)
		}
	}

	// Queries run in a loop while the daemon runs the job again.
	stop := make(chan struct{})
	var mu sync.Mutex
	var answered int
	var failures []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := psql(t, sqlPort, "ana", "s3cret-ana", "SELECT tier, count(*) FROM mart.value_tier GROUP BY 1 ORDER BY 1")
			mu.Lock()
			if err != nil || !strings.Contains(got, "core|") {
				failures = append(failures, got)
			} else {
				answered++
			}
			mu.Unlock()
		}
	}()
	// Nobody fires a job without credentials; cdp run sends the token.
	resp, err := http.Post(base+"/run/describe", "", nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /run/describe without credentials: %v %v", err, resp)
	}
	resp.Body.Close()
	if out, err := run(t, "run", "describe", "--config", cfg); err != nil || !strings.Contains(out, "fired job describe") {
		t.Fatalf("cdp run describe while the daemon holds the warehouse: %v\n%s", err, out)
	}
	// While the daemon holds the warehouse, cdp status asks it.
	said.expect(t, `"msg":"job started","job":"describe"`)
	status, serr := run(t, "status", "--config", cfg)
	if serr != nil || !strings.Contains(status, "Running now: describe") {
		t.Errorf("status while describe runs: %v\n%s", serr, status)
	}
	mu.Lock()
	before := answered
	mu.Unlock()
	said.expect(t, `"msg":"fire ended","job":"describe"`)
	status, serr = run(t, "status", "--config", cfg)
	if serr != nil || strings.Contains(status, "Running now") || strings.Count(status, "describe") < 3 {
		t.Errorf("status after describe: %v\n%s", serr, status)
	}
	mu.Lock()
	during := answered - before
	mu.Unlock()
	close(stop)
	wg.Wait()
	if !strings.Contains(status, "held by cdp serve") || !strings.Contains(status, "next 20") {
		t.Errorf("status while serving:\n%s", status)
	}
	t.Logf("%d analyst queries answered, %d of them while the job ran", answered, during)
	if len(failures) > 0 || during == 0 {
		t.Errorf("analyst queries while the job wrote: %d answered (%d while it ran), failures %q", answered, during, failures)
	}
	// cdp run while the daemon holds the file asks the daemon.
	if out, err := run(t, "run", "describe", "--config", cfg); err != nil || !strings.Contains(out, "fired job describe") {
		t.Errorf("cdp run while serving: %v\n%s", err, out)
	}
	var st struct {
		Runs []struct{ Job, Trigger, Status string }
	}
	resp, err = http.Get(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Runs) < 2 || st.Runs[len(st.Runs)-1].Trigger != "manual" {
		t.Errorf("/status runs %+v", st.Runs)
	}
	// SIGTERM: the daemon stops taking fires, waits for running ones and exits 0.
	daemon.Process.Signal(syscall.SIGTERM)
	if err := daemon.Wait(); err != nil {
		t.Errorf("serve: %v", err)
	}
	// The audit log has a JSON line for every login and statement, the
	// refused login among them, and no password.
	audit, err := os.ReadFile(filepath.Join(b.Dir, "audit", "sql.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(audit)), "\n") {
		var r struct{ Kind, User, Outcome, Remote string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		outcomes[r.Kind+"/"+r.User+"/"+r.Outcome]++
	}
	if outcomes["login/ana/refused"] != 1 || outcomes["login/ana/ok"] < answered || outcomes["statement/ana/ok"] < answered {
		t.Errorf("audit outcomes %v for %d answered queries", outcomes, answered)
	}
	if strings.Contains(string(audit), "s3cret-ana") || strings.Contains(string(audit), "wrong") {
		t.Error("a password is in the audit log")
	}
}

// freeAddr is a 127.0.0.1 address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// output is the lines a child process prints, kept as it prints them (the
// child never waits for the test to read).
type output struct {
	mu    sync.Mutex
	more  *sync.Cond
	lines []string
	next  int   // the first line expect has not looked at
	ended bool  // the child closed its output
	err   error // why reading it stopped, if not at its end
}

func follow(r io.Reader) *output {
	o := &output{}
	o.more = sync.NewCond(&o.mu)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			o.mu.Lock()
			o.lines = append(o.lines, sc.Text())
			o.mu.Unlock()
			o.more.Broadcast()
		}
		o.mu.Lock()
		o.ended, o.err = true, sc.Err()
		o.mu.Unlock()
		o.more.Broadcast()
	}()
	return o
}

// expect waits for the next line matching pattern and returns its
// submatches; the test fails when the output ends or two minutes pass
// first.
func (o *output) expect(t *testing.T, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	late := time.AfterFunc(2*time.Minute, o.more.Broadcast)
	defer late.Stop()
	deadline := time.Now().Add(2 * time.Minute)
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		for ; o.next < len(o.lines); o.next++ {
			if m := re.FindStringSubmatch(o.lines[o.next]); m != nil {
				o.next++
				return m
			}
		}
		switch {
		case o.ended:
			t.Fatalf("the output ended (read error: %v) before a line matching %s:\n%s", o.err, pattern, strings.Join(o.lines, "\n"))
		case time.Now().After(deadline):
			t.Fatalf("no line matching %s within two minutes:\n%s", pattern, strings.Join(o.lines, "\n"))
		}
		o.more.Wait()
	}
}
