package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cdp/internal/testbank"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMain lets a test run the cdp command line as a child process
// (CDP_TEST_RUN_MAIN=1): the test binary is then cdp.
func TestMain(m *testing.M) {
	if os.Getenv("CDP_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
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
  sql:
    listen: ` + freeAddr(t) + `
    users:
      - {name: ana, role: analyst, password_env: TEST_ANA_PW}
`)
	f.Close()
	t.Setenv("TEST_ANA_PW", "s3cret-ana")

	out, err := run(t, "run", "describe", "--config", cfg)
	if err != nil || !regexp.MustCompile(`fire \S+ of describe \(manual\): success`).MatchString(out) {
		t.Fatalf("cdp run describe: %v\n%s", err, out)
	}

	// The daemon is its own process, as in production: DuckDB's driver
	// shares one database per file within a process, so only another
	// process meets the lock that sends cdp status and cdp run to it.
	var served syncBuffer
	daemon := exec.Command(os.Args[0], "serve", "--config", cfg, "--log-level", "warn")
	daemon.Env = append(os.Environ(), "CDP_TEST_RUN_MAIN=1")
	daemon.Stdout, daemon.Stderr = &served, &served
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Process.Kill()
	addrs := regexp.MustCompile(`http\s+http://(\S+)[\s\S]*psql -h 127\.0\.0\.1 -p (\d+) -U ana cdp`)
	var httpAddr, sqlPort string
	waitUntil(t, func() bool {
		m := addrs.FindStringSubmatch(served.String())
		if m != nil {
			httpAddr, sqlPort = m[1], m[2]
		}
		return m != nil
	})
	base := "http://" + httpAddr
	waitUntil(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

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
	resp, err := http.Post(base+"/run/describe", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /run/describe: %v %v", err, resp)
	}
	resp.Body.Close()
	// While the daemon holds the warehouse, cdp status asks it.
	var status string
	var serr error
	waitUntil(t, func() bool {
		status, serr = run(t, "status", "--config", cfg)
		return strings.Contains(status, "Running now: describe")
	}, func() string { return fmt.Sprint(status, serr) })
	mu.Lock()
	before := answered
	mu.Unlock()
	waitUntil(t, func() bool {
		status, serr = run(t, "status", "--config", cfg)
		return !strings.Contains(status, "Running now") && strings.Count(status, "describe") >= 3
	}, func() string { return fmt.Sprint(status, serr) })
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
		t.Errorf("serve: %v\n%s", err, served.String())
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

func waitUntil(t *testing.T, ok func() bool, show ...func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			var state string
			for _, f := range show {
				state += f()
			}
			t.Fatal("condition not met in 90 s", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
