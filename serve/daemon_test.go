package serve

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/outbox"
	"cdp/pipeline"
	"cdp/schedules"
	"cdp/warehouse"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return answer(t, url)(http.Get(url))
}

// postAs POSTs with the credentials auth sets.
func postAs(t *testing.T, url string, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth(req)
	return answer(t, url)(http.DefaultClient.Do(req))
}

// answer reads a response whole, failing the test on any error.
func answer(t *testing.T, url string) func(*http.Response, error) (int, string) {
	return func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		return resp.StatusCode, string(b)
	}
}

// start runs the daemon with its HTTP endpoint on 127.0.0.1 and waits
// until it is ready; stop cancels it and checks how it ended.
func start(t *testing.T, d *Daemon) (base string, stop func()) {
	t.Helper()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, httpLn, nil) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	ready := false
	defer func() {
		if !ready { // await failed the test: stop before the warehouse closes
			stop()
		}
	}()
	await(t, "the daemon is ready", d.Ready())
	ready = true
	return "http://" + httpLn.Addr().String(), stop
}

// The daemon publishes snapshots at start and after each successful fire,
// and answers health, readiness, status, metrics and run triggers.
func TestDaemon_HTTPSnapshotsAndTriggers(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 23, BadRowRate: 0.01})
	p := testbank.WithConfig(t, b.Dir, `
schedules:
  jobs:
    - {name: describe, stages: [tags, tiers, view]}
    - {name: nightly, stages: [signals], depends_on: [describe], cron: "0 30 2 * * *"}
    - {name: ingest, stages: [ingest]}
`)
	fired := make(chan *schedules.FireResult, 4)
	d := NewDaemon(p, b.W, DaemonOptions{Logger: testbank.Quiet, Roles: []string{"analyst", "engineer"},
		OnFire:  func(r *schedules.FireResult) { fired <- r },
		Control: Credentials{Token: "c0ntrol-t0ken", Engineers: map[string]string{"eng": "eng-pw"}}})
	base, stop := start(t, d)
	defer stop()
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz %d %q once ready", code, body)
	}
	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz %d %q", code, body)
	}
	// The start snapshot: the core model, no mart tables built yet.
	if n := snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotFull), "core.party"); n == 0 {
		t.Errorf("full snapshot at start has no core.party rows")
	}

	// Operating the daemon needs the control token or an engineer's login.
	for _, c := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"no credentials", func(*http.Request) {}},
		{"a wrong token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer guess") }},
		{"an analyst", func(r *http.Request) { r.SetBasicAuth("ana", "eng-pw") }},
		{"a wrong password", func(r *http.Request) { r.SetBasicAuth("eng", "guess") }},
	} {
		if code, body := postAs(t, base+"/run/nightly", c.auth); code != http.StatusUnauthorized || !strings.Contains(body, "control token") {
			t.Errorf("POST /run/nightly with %s: %d %q, want 401", c.name, code, body)
		}
	}
	if code, body := postAs(t, base+"/run/nightly", func(r *http.Request) { r.Header.Set("Authorization", "Bearer c0ntrol-t0ken") }); code != http.StatusAccepted {
		t.Fatalf("POST /run/nightly: %d %q", code, body)
	}
	if code, body := postAs(t, base+"/run/nope", func(r *http.Request) { r.SetBasicAuth("eng", "eng-pw") }); code != http.StatusNotFound {
		t.Errorf("POST /run/nope: %d %q, want 404", code, body)
	}
	// The read-only endpoints answer loopback clients only, unless opened.
	for _, public := range []bool{false, true} {
		p.Serve.PublicEndpoints = public
		for _, path := range []string{"/healthz", "/metrics", "/status"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.RemoteAddr = "10.20.30.40:51000"
			d.Handler().ServeHTTP(rec, req)
			if want := map[bool]int{false: http.StatusForbidden, true: http.StatusOK}[public]; rec.Code != want {
				t.Errorf("GET %s from another host, public_endpoints %v: %d, want %d", path, public, rec.Code, want)
			}
		}
	}
	p.Serve.PublicEndpoints = false
	if r := awaitValue(t, "the fire of nightly", fired); r.Fire.Job != "nightly" || r.Status != schedules.StatusSuccess {
		t.Fatalf("fire of nightly: %s %v", r.Status, r.Err)
	}
	var st schedules.Status
	_, body := get(t, base+"/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Runs) != 2 || st.Runs[0].Status != schedules.StatusSuccess {
		t.Fatalf("/status after the fire: %v\n%s", err, body)
	}
	if !st.Daemon || st.Runs[0].Job != "nightly" || st.Runs[1].Job != "describe" || len(st.Next) != 1 || st.Next[0].Job != "nightly" {
		t.Errorf("/status %+v", st)
	}
	if h := st.Next[0].Next.In(p.Schedules.Location); h.Hour() != 2 || h.Minute() != 30 {
		t.Errorf("next fire of nightly at %v, want 02:30 China time", h)
	}
	// After the fire (its snapshots are published before it ends): the
	// analyst snapshot holds the mart the fire built, and only the mart.
	if n := snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotAnalyst), "mart.customer_360"); n <= 0 {
		t.Errorf("the analyst snapshot after the fire has %d 360 rows", n)
	}
	if n := snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotAnalyst), "core.party"); n != -1 {
		t.Errorf("the analyst snapshot has core.party (%d rows)", n)
	}
	// A fire that writes nothing (every file already loaded) keeps the
	// snapshots.
	published := d.Published(warehouse.SnapshotAnalyst)
	if res := d.Sched.Fire(context.Background(), schedules.Fire{Job: "ingest", Trigger: schedules.TriggerManual}); res.Status != schedules.StatusSuccess || res.Runs[0].Rows != 0 {
		t.Fatalf("ingest again: %+v", res)
	}
	<-fired
	if n := d.Published(warehouse.SnapshotAnalyst); n != published || n < 2 {
		t.Errorf("analyst snapshots published: %d before an empty fire, %d after (want equal, ≥ 2)", published, n)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`cdp_job_runs_total{job="nightly",status="success"} 1`,
		`cdp_job_runs_total{job="describe",status="success"} 1`,
		`cdp_stage_rows_total{stage="tags"}`,
		`cdp_outbox_backlog `,
		`cdp_rows_loaded_total `,
		`cdp_rows_rejected_total`,
		`cdp_snapshot_timestamp_seconds{kind="analyst"}`,
		`cdp_warehouse_up 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var backlog int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&backlog)
	if !strings.Contains(metrics, "cdp_outbox_backlog "+strconv.Itoa(backlog)+"\n") {
		t.Errorf("/metrics cdp_outbox_backlog is not the outbox's %d", backlog)
	}
}

// await waits for ch to be closed, failing the test after two minutes.
func await(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: not within two minutes", what)
	}
}

// awaitValue waits for the next value on ch, failing the test after two
// minutes.
func awaitValue[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: not within two minutes", what)
		var zero T
		return zero
	}
}

// snapshotCount counts a table's rows in a snapshot file, -1 when the
// table is not there.
func snapshotCount(t *testing.T, path, table string) int {
	t.Helper()
	db, err := warehouse.OpenSnapshot(context.Background(), path, warehouse.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return -1
		}
		if err == sql.ErrNoRows {
			return 0
		}
		t.Fatal(err)
	}
	return n
}

// With publish.continuous the daemon relays the outbox itself: what a fire
// queues reaches the broker without a publish job, every event once.
func TestDaemon_ContinuousRelaySendsWhatAFireQueues(t *testing.T) {
	ctx := context.Background()
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 25})
	p := testbank.WithConfig(t, b.Dir, `
publish: {continuous: true, interval: 1h}
schedules:
  jobs:
    - {name: describe, stages: [tags, tiers, view, signals]}
`)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	relayed := make(chan *outbox.RelaySummary, 8)
	d := NewDaemon(p, b.W, DaemonOptions{Logger: testbank.Quiet, Brokers: c.ListenAddrs(),
		AfterRelay: func(s *outbox.RelaySummary, err error) {
			if err != nil {
				t.Errorf("relay: %v", err)
			}
			relayed <- s
		}})
	_, stop := start(t, d)
	defer stop()
	if s := awaitValue(t, "the relay at start", relayed); s == nil || s.Published != 0 {
		t.Fatalf("the relay at start published %+v from an empty outbox", s)
	}
	if r := d.Sched.Fire(ctx, schedules.Fire{Job: "describe", Trigger: schedules.TriggerManual}); r.Status != schedules.StatusSuccess {
		t.Fatalf("describe: %v", r.Err)
	}
	var queued int64
	if err := b.W.DB().QueryRow(`SELECT count(*) FROM ops.outbox`).Scan(&queued); err != nil || queued == 0 {
		t.Fatalf("the fire queued %d events (%v)", queued, err)
	}
	// The fire wakes the relay; it drains the outbox.
	var sent int64
	for sent < queued {
		s := awaitValue(t, "the relay after the fire", relayed)
		if s == nil {
			t.Fatal("a relay after the fire failed")
		}
		sent += s.Published
	}
	if sent != queued {
		t.Errorf("relayed %d of %d queued events", sent, queued)
	}
	var waiting int64
	if err := b.W.DB().QueryRow(`SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&waiting); err != nil || waiting != 0 {
		t.Errorf("%d events still waiting (%v)", waiting, err)
	}
	var onBroker int64
	for _, topic := range pipeline.PublishTopics {
		ranges, err := pipeline.TopicRanges(ctx, c.ListenAddrs(), topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ranges {
			onBroker += r.Last - r.First
		}
	}
	if onBroker != queued {
		t.Errorf("the broker holds %d events, the outbox queued %d", onBroker, queued)
	}
}

// cdp run authenticates with the control token, else with the first
// engineer whose password it can read, else with nothing (the daemon then
// says what it takes); an engineer whose password this shell lacks does
// not stop it.
func TestAuthorize_ClientCredentials(t *testing.T) {
	dir := t.TempDir()
	load := func(yaml string) *pipeline.Project {
		t.Helper()
		p, err := pipeline.ParseProject(filepath.Join(dir, "cdp.yaml"), []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := func(p *pipeline.Project) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/run/x", nil)
		if err := Authorize(p.Project, req); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	users := "serve:\n  sql:\n    users:\n      - {name: gone, role: engineer, password_env: CDP_TEST_UNSET_PW}\n      - {name: eng, role: engineer, password_file: eng.pw}\n"
	if got := header(load(users)); got != "" {
		t.Errorf("no token, no readable password: %q, want no credentials", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "eng.pw"), []byte("eng-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := header(load(users)); got != "Basic "+base64.StdEncoding.EncodeToString([]byte("eng:eng-pw")) {
		t.Errorf("the readable engineer: %q", got)
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "control.token"), []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := header(load(users)); got != "Bearer t0ken" {
		t.Errorf("the token file: %q", got)
	}
	req := httptest.NewRequest(http.MethodPost, "/run/x", nil)
	if err := Authorize(load("serve:\n  control: {token_env: CDP_TEST_UNSET_TOKEN, token_file: \"\"}\n").Project, req); err == nil ||
		!strings.Contains(err.Error(), "CDP_TEST_UNSET_TOKEN is empty or not set") {
		t.Errorf("a token variable that is not set: %v", err)
	}
}
