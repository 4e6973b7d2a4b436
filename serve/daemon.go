package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cdp/outbox"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/schedules"
	"cdp/warehouse"
)

// SQLEndpoint is the analysts' SQL server the daemon feeds snapshots to
// (warehouse/pgserve).
type SQLEndpoint interface {
	// Publish makes the snapshot at path the one role's new queries read.
	Publish(role, path string) error
	// Ready reports whether every role with a user has a snapshot.
	Ready() bool
	// Serve answers connections on ln until ctx is done.
	Serve(ctx context.Context, ln net.Listener) error
	// SnapshotScope is how the analyst snapshot is written for it: with
	// row-level scope, or (nil) without.
	SnapshotScope() *warehouse.SnapshotScope
}

// DaemonOptions shape a daemon.
type DaemonOptions struct {
	Logger  *slog.Logger
	Brokers []string
	SQL     SQLEndpoint // nil: no SQL endpoint
	// Roles the SQL endpoint serves: "analyst" gets the mart-only snapshot,
	// "engineer" the full one. A full snapshot is published only when an
	// engineer role is served.
	Roles    []string
	Registry *prometheus.Registry // nil: a new one
	Stage    schedules.StageFunc  // tests inject faults; nil = pipeline.Run
	// OnFire and AfterRelay, if set, are told of each fire and each
	// continuous drain as they end (tests wait on them).
	OnFire     func(*schedules.FireResult)
	AfterRelay func(*outbox.RelaySummary, error)
	// Control are the credentials POST /run/JOB takes (control.go).
	Control Credentials
	// Console, if set, serves /console/ (package console).
	Console http.Handler
}

// Daemon is cdp serve: the scheduler, the snapshots published after each
// successful fire, the SQL endpoint that serves them, the HTTP endpoint
// (health, readiness, metrics, status, triggers) and, with
// publish.continuous, the outbox relay.
type Daemon struct {
	p     *pipeline.Project
	w     *warehouse.Warehouse
	o     DaemonOptions
	log   *slog.Logger
	Sched *schedules.Scheduler
	reg   *prometheus.Registry

	// relaying keeps one relay at a time: the publish stage of a job and
	// the continuous relay would otherwise mark the same events.
	relaying sync.Mutex
	kick     chan struct{} // wakes the continuous relay
	ready    chan struct{} // closed once Run has started everything

	mu        sync.Mutex
	started   bool
	alerted   map[string]bool                   // late files already alerted: feed|entity|day
	snapshots map[string]warehouse.SnapshotInfo // by kind
	published map[warehouse.SnapshotKind]int
	snapErr   error
	snapAge   *prometheus.GaugeVec
}

// NewDaemon wires a daemon over an open warehouse.
func NewDaemon(p *pipeline.Project, w *warehouse.Warehouse, o DaemonOptions) *Daemon {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Stage == nil {
		o.Stage = pipeline.Run
	}
	d := &Daemon{p: p, w: w, o: o, log: o.Logger, reg: o.Registry, snapshots: map[string]warehouse.SnapshotInfo{},
		published: map[warehouse.SnapshotKind]int{}, kick: make(chan struct{}, 1), ready: make(chan struct{})}
	d.snapAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdp_snapshot_timestamp_seconds",
		Help: "Unix time the snapshot the SQL endpoint serves was published, by kind (analyst, full)."}, []string{"kind"})
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewWarehouseCollector(w.DB()), outbox.Collector(w.DB()), d.snapAge, NewArrivalCollector(p, w.DB(), time.Now))
	d.Sched = schedules.New(p, w, schedules.Options{Logger: o.Logger, Brokers: o.Brokers, Metrics: schedules.NewMetrics(d.reg),
		Stage: d.stage, OnSuccess: d.afterFire, OnFire: o.OnFire})
	return d
}

// stage runs a job's stage; the publish stage waits for the continuous
// relay, so that only one relay marks events at a time.
func (d *Daemon) stage(ctx context.Context, env *pipeline.Env, name string) (pipeline.Result, error) {
	if name == "publish" {
		d.relaying.Lock()
		defer d.relaying.Unlock()
	}
	return d.o.Stage(ctx, env, name)
}

// Registry is where the daemon's metrics are; callers may add collectors.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// afterFire publishes new snapshots after a successful fire that wrote
// rows; a fire that changed nothing (publish with an empty outbox, ingest
// with no new files) keeps the current ones.
func (d *Daemon) afterFire(ctx context.Context, f *schedules.FireResult) {
	var rows int64
	for _, r := range f.Runs {
		rows += r.Rows
	}
	if rows == 0 {
		d.log.Debug("the fire wrote no rows; the snapshots stay", "job", f.Fire.Job)
		return
	}
	d.publishSnapshots(ctx)
	d.wakeRelay()
}

// wakeRelay asks the continuous relay to drain now (a fire may have queued
// events); a wake while one is pending is enough.
func (d *Daemon) wakeRelay() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// relayLoop is the continuous relay (publish.continuous): it drains the
// outbox when woken after a fire and at least every publish.interval, until
// ctx is done. A failed drain (the broker is down) leaves the events in the
// outbox for the next.
func (d *Daemon) relayLoop(ctx context.Context) {
	t := time.NewTicker(d.p.Publish.IntervalDur)
	defer t.Stop()
	env := &pipeline.Env{Project: d.p, W: d.w, Logger: d.log.With("relay", "continuous"), Brokers: d.o.Brokers}
	r, err := pipeline.NewRelayer(env)
	if err != nil {
		d.log.Error("continuous relay not started; cdp publish or a publish job still drains the outbox", "err", err)
		if d.o.AfterRelay != nil {
			d.o.AfterRelay(nil, err)
		}
		return
	}
	defer r.Close()
	for {
		d.relayOnce(ctx, r)
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
		}
	}
}

// relayOnce drains the outbox once, logging what it did.
func (d *Daemon) relayOnce(ctx context.Context, r *pipeline.Relayer) {
	d.relaying.Lock()
	defer d.relaying.Unlock()
	s, err := r.Drain(ctx)
	if d.o.AfterRelay != nil {
		defer d.o.AfterRelay(s, err)
	}
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Error("relay failed; the events stay in the outbox for the next drain", "err", err)
	case s != nil && s.Published > 0:
		d.log.Info("relayed", "events", s.Published, "backlog", s.Backlog)
	}
}

// Ready is closed once Run has published the first snapshots and started
// the endpoints and the schedules.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Published counts the snapshots published so far, by kind.
func (d *Daemon) Published(kind warehouse.SnapshotKind) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.published[kind]
}

// snapshotKinds are the snapshots the served roles need.
func (d *Daemon) snapshotKinds() []warehouse.SnapshotKind {
	var kinds []warehouse.SnapshotKind
	for _, r := range []struct {
		role string
		kind warehouse.SnapshotKind
	}{{"analyst", warehouse.SnapshotAnalyst}, {"engineer", warehouse.SnapshotFull}} {
		for _, have := range d.o.Roles {
			if have == r.role {
				kinds = append(kinds, r.kind)
				break
			}
		}
	}
	return kinds
}

// SnapshotPath is where the snapshot of a kind is published.
func SnapshotPath(p *config.Project, kind warehouse.SnapshotKind) string {
	return filepath.Join(p.Resolve(p.Serve.SnapshotDir), string(kind)+".duckdb")
}

// publishSnapshots writes the snapshots the served roles read and hands
// them to the SQL endpoint. Called while no job writes.
func (d *Daemon) publishSnapshots(ctx context.Context) {
	for _, kind := range d.snapshotKinds() {
		path := SnapshotPath(d.p.Project, kind)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			d.snapshotFailed(kind, err)
			continue
		}
		info, err := d.w.Snapshot(ctx, path, kind, d.snapshotScope(kind))
		if err != nil {
			d.snapshotFailed(kind, err)
			continue
		}
		role := "analyst"
		if kind == warehouse.SnapshotFull {
			role = "engineer"
		}
		if d.o.SQL != nil {
			if err := d.o.SQL.Publish(role, path); err != nil {
				d.snapshotFailed(kind, err)
				continue
			}
		}
		d.mu.Lock()
		d.snapshots[string(kind)], d.snapErr = info, nil
		d.published[kind]++
		d.mu.Unlock()
		d.snapAge.WithLabelValues(string(kind)).SetToCurrentTime()
		d.log.Info("snapshot published", "kind", kind, "path", path, "tables", info.Tables, "rows", info.Rows,
			"mb", info.Bytes>>20, "seconds", fmt.Sprintf("%.1f", info.Took.Seconds()))
	}
}

// snapshotScope is how the SQL endpoint wants the analyst snapshot scoped.
func (d *Daemon) snapshotScope(kind warehouse.SnapshotKind) *warehouse.SnapshotScope {
	if kind != warehouse.SnapshotAnalyst || d.o.SQL == nil {
		return nil
	}
	return d.o.SQL.SnapshotScope()
}

func (d *Daemon) snapshotFailed(kind warehouse.SnapshotKind, err error) {
	d.mu.Lock()
	d.snapErr = fmt.Errorf("%s snapshot: %w", kind, err)
	d.mu.Unlock()
	d.log.Error("snapshot not published; analysts keep the previous one", "kind", kind, "err", err)
}

// Run starts the daemon and blocks until ctx is done: it publishes the
// current state as the first snapshot, listens for SQL and HTTP, starts the
// schedules, and on cancellation stops taking fires, cancels running ones
// (recorded as cancelled; cron fires among them are caught up at the next
// start) and waits for them to end.
func (d *Daemon) Run(ctx context.Context, httpLn, sqlLn net.Listener) error {
	ctx, cancel := context.WithCancel(ctx) // an endpoint failing stops the rest
	defer cancel()
	d.log.Info("publishing the first snapshot")
	d.publishSnapshots(ctx)
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http %s: %w", httpLn.Addr(), err)
		}
	}()
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}
	if d.o.SQL != nil && sqlLn != nil {
		go func() {
			if err := d.o.SQL.Serve(ctx, sqlLn); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("sql %s: %w", sqlLn.Addr(), err)
			}
		}()
	}
	if err := d.Sched.Start(ctx); err != nil {
		shutdown()
		return err
	}
	var relay sync.WaitGroup
	relay.Add(1)
	go func() {
		defer relay.Done()
		d.arrivalLoop(ctx)
	}()
	if d.p.Publish.Continuous {
		relay.Add(1)
		go func() {
			defer relay.Done()
			d.relayLoop(ctx)
		}()
	}
	d.mu.Lock()
	d.started = true
	d.mu.Unlock()
	close(d.ready)
	d.log.Info("ready", "http", httpLn.Addr().String())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	d.log.Info("stopping: no new fires; running jobs are cancelled (each stage commits whole or not at all) and caught up at the next start")
	cancel()
	shutdown() // no more triggers over HTTP
	d.Sched.Stop()
	relay.Wait()
	return err
}

// arrivalLoop checks every minute for files due and not loaded, and alerts
// each once.
func (d *Daemon) arrivalLoop(ctx context.Context) {
	clock := d.Sched.Clock()
	for {
		if _, err := d.CheckArrivals(ctx, clock.Now()); err != nil && ctx.Err() == nil {
			d.log.Warn("checking feed arrivals", "err", err)
		}
		select {
		case <-clock.After(time.Minute):
		case <-ctx.Done():
			return
		}
	}
}

// CheckArrivals raises the alert hook once for each file due by now (its
// contract's expected:) that has not loaded, and returns them all.
func (d *Daemon) CheckArrivals(ctx context.Context, now time.Time) ([]pipeline.LateFeed, error) {
	late, err := pipeline.LateFeeds(ctx, d.p, d.w.DB(), now)
	if err != nil {
		return nil, err
	}
	for _, l := range late {
		// Recorded before the alert: once per file, across restarts too.
		res, err := d.w.DB().ExecContext(ctx, `INSERT INTO ops.feed_alerts (feed, entity, business_day, due) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, l.Feed, l.Entity, l.Day.Format("2006-01-02"), l.Due)
		if err != nil {
			return late, fmt.Errorf("recording the late-feed alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // alerted before
		}
		msg := fmt.Sprintf("the %s file for %s was due %s and has not loaded", l.Entity, l.Day.Format("2006-01-02"), l.Due.Format(time.RFC3339))
		if l.Pending {
			msg += " (a file is there, waiting for its control file or failed to load)"
		}
		d.Sched.FeedLate(ctx, l.Feed, l.Entity, l.Day, l.Due, msg)
	}
	return late, nil
}

// Handler serves /healthz, /readyz, /metrics, /status and POST /run/{job}.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	public := d.p.Serve.PublicEndpoints
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, localOnly(public, h)) }
	handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := d.w.DB().PingContext(ctx); err != nil {
			http.Error(w, "warehouse: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if reason := d.notReady(); reason != "" {
			http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", localOnly(public, promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{})))
	handle("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st, err := schedules.ReadStatus(r.Context(), d.w.DB(), d.p.Project, d.Sched.Running(), 25)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		st.Daemon = true
		writeJSON(w, http.StatusOK, st)
	})
	if d.o.Console != nil {
		mux.Handle("/console/", d.o.Console)
	}
	mux.HandleFunc("POST /run/{job}", requireControl(d.o.Control, d.log, func(w http.ResponseWriter, r *http.Request) {
		job := r.PathValue("job")
		if _, err := d.p.Schedules.Job(job); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		if !d.Sched.FireAsync(schedules.Fire{Job: job, Trigger: schedules.TriggerManual}) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the daemon is starting or stopping; try again"})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"message": "fired job " + job})
	}))
	return mux
}

// notReady says why the daemon is not ready, or "".
func (d *Daemon) notReady() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !d.started:
		return "starting"
	case d.o.SQL != nil && !d.o.SQL.Ready():
		if d.snapErr != nil {
			return "no snapshot for the SQL endpoint: " + d.snapErr.Error()
		}
		return "no snapshot for the SQL endpoint yet"
	}
	return ""
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
