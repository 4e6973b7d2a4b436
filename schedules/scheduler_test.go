package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/pipeline"
	"cdp/warehouse"
)

// withJobs appends a schedules: section to the bank's cdp.yaml and loads it.
func withJobs(t *testing.T, dir, schedules string) *pipeline.Project {
	return testbank.WithConfig(t, dir, schedules)
}

// emptyWarehouse is a project with no feeds and the given schedules, and its
// open warehouse.
func emptyWarehouse(t *testing.T, schedules string) (*pipeline.Project, *warehouse.Warehouse) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdp.yaml"), []byte("warehouse: {path: wh.duckdb}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := withJobs(t, dir, schedules)
	w, err := warehouse.Open(context.Background(), p.WarehousePath(), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return p, w
}

func runs(t *testing.T, w *warehouse.Warehouse) []Run {
	t.Helper()
	rs, err := LastRuns(context.Background(), w.DB(), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	// oldest first
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// A schedule firing every two seconds runs the whole pipeline DAG on a real
// generated bank, each job after the ones it depends on, and skips the fire
// that comes while the previous one still runs. The scheduler's clock is
// the test's: cron times come when the test moves it.
func TestScheduler_CronRunsDAGInOrderAndSkipsOverlap(t *testing.T) {
	b := testbank.Generate(t, testbank.Options{Parties: 300, Days: 2, Seed: 21})
	p := withJobs(t, b.Dir, `
schedules:
  jobs:
    - {name: ingest, stages: [ingest]}
    - {name: core, stages: [unify, model], depends_on: [ingest]}
    - {name: describe, stages: [tags, tiers, view], depends_on: [core]}
    - name: signals
      stages: [signals]
      depends_on: [describe]
      cron: "*/2 * * * * *"
      overlap: skip
`)
	// The first stage of the first fire waits for the test, so that the
	// next cron time comes while the fire still runs.
	started, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	var mu sync.Mutex
	var stages []string
	stage := func(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
		if first.Swap(false) {
			close(started)
			<-release
		}
		mu.Lock()
		stages = append(stages, name)
		mu.Unlock()
		return pipeline.Run(ctx, env, name)
	}
	clock := newFakeClock(time.Date(2026, 11, 21, 2, 0, 0, 0, p.Schedules.Location))
	ended := make(fires, 8)
	s := New(p, b.W, Options{Logger: testbank.Quiet, Stage: stage, Clock: clock, OnFire: ended.hook})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Armed(t)
	clock.Advance(2 * time.Second) // 02:00:02: the first fire
	<-started
	clock.Armed(t)
	clock.Advance(2 * time.Second) // 02:00:04, while the first still runs
	if r := ended.next(t); r.Status != StatusSkipped || r.Fire.Scheduled.Second() != 4 {
		t.Fatalf("the fire at 02:00:04 during the first: %s for %v, want skipped", r.Status, r.Fire.Scheduled)
	}
	close(release)
	if r := ended.next(t); r.Status != StatusSuccess || r.Fire.Scheduled.Second() != 2 {
		t.Fatalf("the first fire: %s for %v (%v)", r.Status, r.Fire.Scheduled, r.Err)
	}
	s.Stop()

	all := runs(t, b.W)
	fire := ""
	for _, r := range all {
		if r.Job == "signals" && r.Status == StatusSuccess {
			fire = r.FireID
			break
		}
	}
	if fire == "" {
		t.Fatalf("no successful fire of signals: %+v", all)
	}
	var order []string
	var prevEnd time.Time
	for _, r := range all {
		if r.FireID != fire {
			continue
		}
		if r.Trigger != TriggerCron || r.ScheduledAt.IsZero() || r.FiredJob != "signals" || r.Status != StatusSuccess {
			t.Errorf("run %+v: want a successful cron run fired by signals", r)
		}
		if r.StartedAt.Before(prevEnd) {
			t.Errorf("job %s started at %v before the previous job ended at %v", r.Job, r.StartedAt, prevEnd)
		}
		prevEnd = r.EndedAt
		order = append(order, r.Job)
	}
	if got := strings.Join(order, ","); got != "ingest,core,describe,signals" {
		t.Errorf("jobs ran in the order %s, want ingest,core,describe,signals", got)
	}
	var stageOrder []string
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT stage FROM ops.job_stages s JOIN ops.job_runs r USING (run_id)
		WHERE r.fire_id = ? ORDER BY s.started_at`, fire) {
		var st string
		scan(&st)
		stageOrder = append(stageOrder, st)
	}
	if got := strings.Join(stageOrder, ","); got != "ingest,unify,model,tags,tiers,view,signals" {
		t.Errorf("stages recorded in the order %s", got)
	}
	var loaded, parties int64
	sqltest.Row(t, b.W.DB(), `SELECT rows FROM ops.job_runs WHERE fire_id = ? AND job = 'ingest'`, fire).Scan(&loaded)
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.customer_360`).Scan(&parties)
	if loaded == 0 || parties == 0 {
		t.Errorf("the fire loaded %d rows and built %d 360 rows; want both > 0", loaded, parties)
	}
	skipped := 0
	for _, r := range all {
		if r.Status == StatusSkipped && r.Job == "signals" && strings.Contains(r.Error, "still running") {
			skipped++
		}
	}
	if skipped == 0 {
		t.Errorf("no overlapping fire was skipped; runs: %+v", all)
	}
}

// A job that fails is retried with backoff, then raises the alert (webhook
// and metrics); the job depending on it is recorded as skipped, not run.
func TestScheduler_RetriesThenAlerts(t *testing.T) {
	var mu sync.Mutex
	var alerts []Alert
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a Alert
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("alert body: %v", err)
		}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("alert body %q: %v", body, err)
		}
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
	}))
	defer hook.Close()
	p, w := emptyWarehouse(t, `
schedules:
  alert: {webhook: `+hook.URL+`}
  jobs:
    - {name: push, stages: [publish], retries: 2, backoff: 50ms}
    - {name: after, stages: [tiers], depends_on: [push]}
`)
	reg := prometheus.NewRegistry()
	// A real publish to a port nothing listens on.
	clock := newFakeClock(time.Now())
	clock.auto = true // backoff waits are recorded, not waited for
	s := New(p, w, Options{Logger: testbank.Quiet, Brokers: []string{"127.0.0.1:1"}, Metrics: NewMetrics(reg), Clock: clock})
	res := s.Fire(context.Background(), Fire{Job: "after", Trigger: TriggerManual})
	if res.Status != StatusFailed || res.Err == nil || !strings.Contains(res.Err.Error(), "job push failed") {
		t.Fatalf("fire: status %s, err %v; want failed because push failed", res.Status, res.Err)
	}
	if got := fmt.Sprint(clock.waited); got != "[50ms 100ms]" {
		t.Errorf("the attempts waited %s between them, want the backoff 50ms then 100ms", got)
	}
	all := runs(t, w)
	var got []string
	for _, r := range all {
		got = append(got, r.Job+":"+r.Status)
		if r.Job == "push" && !strings.Contains(r.Error, "127.0.0.1:1") {
			t.Errorf("push attempt %d error %q does not name the broker", r.Attempt, r.Error)
		}
	}
	if strings.Join(got, " ") != "push:failed push:failed push:failed after:skipped" {
		t.Errorf("runs %v; want three failed attempts of push, then after skipped", got)
	}
	for i, r := range all[:3] {
		if r.Attempt != i+1 {
			t.Errorf("attempt %d recorded as %d", i+1, r.Attempt)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 1 || alerts[0].Job != "push" || alerts[0].Attempts != 3 || alerts[0].Kind != "job_failed" || alerts[0].Error == "" {
		t.Fatalf("alerts %+v; want one job_failed alert for push after 3 attempts", alerts)
	}
	if n := testutil.ToFloat64(s.o.Metrics.alerts.WithLabelValues("push")); n != 1 {
		t.Errorf("cdp_job_alerts_total{job=push} = %v", n)
	}
	if n := testutil.ToFloat64(s.o.Metrics.runs.WithLabelValues("push", "failed")); n != 3 {
		t.Errorf("cdp_job_runs_total{push,failed} = %v", n)
	}
}

// A failing job's error quotes what failed; the IDs and mobiles in it are
// masked wherever it is kept or sent: ops.job_runs (and /status) and the
// alert webhook.
func TestScheduler_FailureTextIsMasked(t *testing.T) {
	alerts := make(chan Alert, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("alert body: %v", err)
		}
		alerts <- a
	}))
	defer hook.Close()
	p, w := emptyWarehouse(t, `
tags: {catalogs: [leaky], builtin: false}
schedules:
  alert: {webhook: `+hook.URL+`}
  jobs:
    - {name: describe, stages: [tags], retries: 0}
`)
	if err := os.MkdirAll(p.Resolve("leaky"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Resolve("leaky"), "leak.yaml"), []byte(`category: natural
owner: test
tags:
  - id: leak
    name_zh: 漏
    name_en: Leak
    type: int
    description: fails quoting a mobile and an ID number
    sql: SELECT 'P1' AS party_id, CAST('13812345678 110101199003071234' AS INTEGER) AS value
`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(p, w, Options{Logger: testbank.Quiet, Clock: newFakeClock(time.Now())})
	res := s.Fire(context.Background(), Fire{Job: "describe", Trigger: TriggerManual, BusinessDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if res.Status != StatusFailed {
		t.Fatalf("fire: %s %v; want the tag's conversion error", res.Status, res.Err)
	}
	a := <-alerts
	for where, text := range map[string]string{"ops.job_runs": runs(t, w)[0].Error, "the alert": a.Error} {
		if !strings.Contains(text, "138****5678 110101********1234") || strings.Contains(text, "13812345678") || strings.Contains(text, "199003071234") {
			t.Errorf("%s keeps the error %q; want it with the mobile and the ID number masked", where, text)
		}
	}
}

// A job longer than its timeout is cancelled and failed with a clear error.
func TestScheduler_Timeout(t *testing.T) {
	p, w := emptyWarehouse(t, `
schedules:
  jobs:
    - {name: slow, stages: [tiers], retries: 0, timeout: 200ms}
`)
	stage := func(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
		<-ctx.Done()
		return pipeline.Result{}, ctx.Err()
	}
	s := New(p, w, Options{Logger: testbank.Quiet, Stage: stage})
	res := s.Fire(context.Background(), Fire{Job: "slow", Trigger: TriggerManual})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "timed out after") || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("status %s err %v; want a timeout", res.Status, res.Err)
	}
}

// After a restart, fires missed while down are caught up per policy: all
// (each missed second), latest (only the newest) or none.
func TestScheduler_CatchUpAfterRestart(t *testing.T) {
	for _, policy := range []string{"all", "latest", "none"} {
		t.Run(policy, func(t *testing.T) {
			p, w := emptyWarehouse(t, `
schedules:
  jobs:
    - {name: tick, stages: [tiers], cron: "* * * * * *", catch_up: `+policy+`}
`)
			stage := func(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
				return pipeline.Result{Rows: 1}, nil
			}
			ctx := context.Background()
			clock := newFakeClock(time.Date(2026, 11, 21, 2, 0, 0, 0, p.Schedules.Location))
			ended := make(fires, 16)
			s := New(p, w, Options{Logger: testbank.Quiet, Stage: stage, Clock: clock, OnFire: ended.hook})
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Armed(t)
			clock.Advance(time.Second)
			if r := ended.next(t); r.Status != StatusSuccess {
				t.Fatalf("the first fire: %s %v", r.Status, r.Err)
			}
			s.Stop()
			last, err := lastScheduled(ctx, w.DB(), "tick")
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(3200 * time.Millisecond) // down: 3 fires missed
			restart := clock.Now()
			s2 := New(p, w, Options{Logger: testbank.Quiet, Stage: stage, Clock: clock})
			if err := s2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s2.Stop() // waits for the catch-up fires
			var caught []time.Time
			for _, r := range runs(t, w) {
				if r.Trigger == TriggerCatchUp {
					caught = append(caught, r.ScheduledAt)
				}
			}
			switch policy {
			case "all":
				if len(caught) != 3 {
					t.Fatalf("caught up %d fires, want every missed second (3)", len(caught))
				}
				for i, c := range caught {
					if want := last.Add(time.Duration(i+1) * time.Second); !c.Equal(want) {
						t.Errorf("catch-up %d for %v, want %v", i, c, want)
					}
				}
			case "latest":
				if len(caught) != 1 || !caught[0].After(last.Add(2*time.Second)) || caught[0].After(restart) {
					t.Fatalf("caught up %v, want only the newest missed fire (after %v, before %v)", caught, last.Add(2*time.Second), restart)
				}
			case "none":
				if len(caught) != 0 {
					t.Fatalf("caught up %v with catch_up: none", caught)
				}
			}
		})
	}
}

// Backfill runs each business date once, skips dates done (policy skip),
// reruns them (policy rerun), and refuses dates behind the tag history.
func TestScheduler_Backfill(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 3, Seed: 22})
	p := withJobs(t, b.Dir, `
schedules:
  jobs:
    - {name: tags, stages: [tags], retries: 0}
`)
	s := New(p, b.W, Options{Logger: testbank.Quiet})
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tagRuns := func() string {
		var out []string
		for scan := range sqltest.Rows(t, b.W.DB(), `SELECT CAST(as_of AS VARCHAR) FROM ops.tag_runs ORDER BY started_at`) {
			var d string
			scan(&d)
			out = append(out, d)
		}
		return strings.Join(out, ",")
	}
	res, err := s.Backfill(ctx, "tags", day("2026-11-18"), day("2026-11-19"), BackfillSkip)
	if err != nil || len(res) != 2 || res[0].Action != "ran" || res[1].Action != "ran" {
		t.Fatalf("backfill 18–19: %+v, %v", res, err)
	}
	if got := tagRuns(); got != "2026-11-18,2026-11-19" {
		t.Fatalf("tag runs as of %s", got)
	}
	res, err = s.Backfill(ctx, "tags", day("2026-11-18"), day("2026-11-20"), BackfillSkip)
	if err != nil || res[0].Action != "skipped" || res[1].Action != "skipped" || res[2].Action != "ran" {
		t.Fatalf("backfill 18–20 with skip: %+v, %v", res, err)
	}
	res, err = s.Backfill(ctx, "tags", day("2026-11-20"), day("2026-11-20"), BackfillRerun)
	if err != nil || res[0].Action != "ran" {
		t.Fatalf("rerun of 20: %+v, %v", res, err)
	}
	if got := tagRuns(); got != "2026-11-18,2026-11-19,2026-11-20,2026-11-20" {
		t.Fatalf("tag runs as of %s", got)
	}
	var dates []string
	for _, r := range runs(t, b.W) {
		if r.Trigger != TriggerBackfill || r.Status != StatusSuccess {
			t.Errorf("run %+v: want a successful backfill", r)
		}
		dates = append(dates, r.BusinessDate)
	}
	if got := strings.Join(dates, ","); got != "2026-11-18,2026-11-19,2026-11-20,2026-11-20" {
		t.Errorf("backfill runs recorded for %s", got)
	}
	res, err = s.Backfill(ctx, "tags", day("2026-11-19"), day("2026-11-20"), BackfillRerun)
	if err == nil || res[0].Status != StatusFailed || !strings.Contains(res[0].Error, "history only moves forward") || res[1].Action != "not run" {
		t.Fatalf("rerun of a date behind the history: %+v, %v; want it refused and the next date not run", res, err)
	}
}

// Stopping the scheduler cancels a running job: recorded as cancelled, no
// alert, and no fire is taken afterwards.
func TestScheduler_ShutdownCancelsWithoutAlert(t *testing.T) {
	p, w := emptyWarehouse(t, `
schedules:
  jobs:
    - {name: tick, stages: [tiers], cron: "* * * * * *", retries: 3}
`)
	started := make(chan struct{}, 10)
	stage := func(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
		started <- struct{}{}
		<-ctx.Done()
		return pipeline.Result{}, ctx.Err()
	}
	reg := prometheus.NewRegistry()
	clock := newFakeClock(time.Date(2026, 11, 21, 2, 0, 0, 0, p.Schedules.Location))
	s := New(p, w, Options{Logger: testbank.Quiet, Stage: stage, Metrics: NewMetrics(reg), Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Armed(t)
	clock.Advance(time.Second)
	<-started
	cancel()
	s.Stop()
	if s.FireAsync(Fire{Job: "tick", Trigger: TriggerManual}) {
		t.Error("a fire was taken after Stop")
	}
	var statuses []string
	for _, r := range runs(t, w) {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) == 0 || statuses[0] != StatusCancelled || strings.Contains(strings.Join(statuses, ","), StatusFailed) {
		t.Errorf("runs %v: want the running attempt cancelled, none failed", statuses)
	}
	if n := testutil.ToFloat64(s.o.Metrics.alerts.WithLabelValues("tick")); n != 0 {
		t.Errorf("%v alerts for a job cancelled by shutdown", n)
	}
	if last, _ := lastScheduled(context.Background(), w.DB(), "tick"); !last.IsZero() {
		t.Errorf("the cancelled fire counts as done (%v); it must be caught up", last)
	}
}

// A fire of a job that is running as another fire's dependency is skipped
// too.
func TestScheduler_OverlapCoversDependencies(t *testing.T) {
	p, w := emptyWarehouse(t, `
schedules:
  jobs:
    - {name: dep, stages: [unify]}
    - {name: top, stages: [tiers], depends_on: [dep]}
`)
	inDep, release := make(chan struct{}), make(chan struct{})
	stage := func(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
		if name == "unify" {
			select {
			case inDep <- struct{}{}:
				<-release
			default:
			}
		}
		return pipeline.Result{Rows: 1}, nil
	}
	s := New(p, w, Options{Logger: testbank.Quiet, Stage: stage})
	done := make(chan *FireResult)
	go func() { done <- s.Fire(context.Background(), Fire{Job: "top", Trigger: TriggerManual}) }()
	<-inDep
	res := s.Fire(context.Background(), Fire{Job: "dep", Trigger: TriggerManual})
	close(release)
	if res.Status != StatusSkipped || !strings.Contains(res.Runs[0].Error, "job dep is still running") {
		t.Errorf("fire of dep while top runs it: %s %+v", res.Status, res.Runs)
	}
	if top := <-done; top.Status != StatusSuccess {
		t.Errorf("top: %s %v", top.Status, top.Err)
	}
}
