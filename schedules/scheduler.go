package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"

	"cdp/pii"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/warehouse"
)

// Triggers of a fire.
const (
	TriggerCron     = "cron"
	TriggerCatchUp  = "catchup"
	TriggerManual   = "manual"
	TriggerBackfill = "backfill"
)

// Statuses of a run.
const (
	StatusRunning = "running"
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	// StatusCancelled is an attempt the process stopped (shutdown, crash);
	// a cancelled cron fire is caught up at the next start.
	StatusCancelled = "cancelled"
)

// StageFunc runs one stage; pipeline.Run unless a test injects faults.
type StageFunc func(ctx context.Context, env *pipeline.Env, stage string) (pipeline.Result, error)

// Options tune a Scheduler.
type Options struct {
	Logger  *slog.Logger
	Brokers []string // for ingest streams and publish; nil = the project's
	// Stage runs one stage; default pipeline.Run.
	Stage StageFunc
	// OnSuccess is called after a fire whose jobs all succeeded, before the
	// fire returns, while no job writes (the daemon publishes its snapshots
	// here).
	OnSuccess func(ctx context.Context, f *FireResult)
	// OnStage, if set, is told of every stage an attempt ran, as it ends
	// (the demo prints each stage's summary as it goes).
	OnStage func(job string, r pipeline.Result, err error)
	// OnFire, if set, is told of every fire as it ends (tests wait on it).
	OnFire func(*FireResult)
	// Clock is the time cron fires, catch-up and backoff go by; nil is the
	// system clock.
	Clock Clock
	// Metrics records what runs do; nil records nothing.
	Metrics *Metrics
	// HTTP posts alerts; default a client with a 10 s timeout.
	HTTP *http.Client
}

// Fire is one request to run a job (and the jobs it depends on).
type Fire struct {
	Job          string
	Trigger      string
	Scheduled    time.Time // the cron time it stands for; zero by hand
	BusinessDate time.Time // backfill: the date the dated stages run as of; zero = newest
}

// FireResult is what a fire did: one Run per attempt of each job, in order.
type FireResult struct {
	FireID string
	Fire   Fire
	Status string // success | failed | skipped
	Runs   []Run
	Err    error
}

// Scheduler runs jobs of one project against one open warehouse.
type Scheduler struct {
	p     *pipeline.Project
	w     *warehouse.Warehouse
	o     Options
	log   *slog.Logger
	write sync.Mutex // one job writes the warehouse at a time

	mu      sync.Mutex
	running map[string]bool // fired jobs now running
	queued  map[string]bool // fired jobs waiting for their previous fire (overlap: delay)
	idle    *sync.Cond

	clock    Clock
	stop     chan struct{}   // closed by Stop: the cron clock ends
	base     context.Context // of Start; nil before
	stopping bool
	wg       sync.WaitGroup
}

// New prepares a scheduler; Start starts its clock.
func New(p *pipeline.Project, w *warehouse.Warehouse, o Options) *Scheduler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Stage == nil {
		o.Stage = pipeline.Run
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	s := &Scheduler{p: p, w: w, o: o, log: o.Logger, running: map[string]bool{}, queued: map[string]bool{}, clock: o.Clock,
		stop: make(chan struct{})}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// Start closes runs a dead process left open, catches up missed fires by
// each job's policy (in the background) and starts the cron clock. Fires
// run under ctx: cancelling it cancels running jobs (recorded as
// cancelled, caught up at the next start); Stop waits for them.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	if n, err := closeStale(ctx, s.w.DB()); err != nil {
		return err
	} else if n > 0 {
		s.log.Warn("closed runs a stopped process left running (recorded as cancelled; cron fires among them are caught up)", "runs", n)
	}
	last := map[string]time.Time{}
	for i := range s.p.Schedules.Jobs {
		j := &s.p.Schedules.Jobs[i]
		if j.Schedule == nil {
			continue
		}
		t, err := lastScheduled(ctx, s.w.DB(), j.Name)
		if err != nil {
			return err
		}
		last[j.Name] = t
	}
	// Fires up to now are caught up; the clock takes over from now.
	now := s.clock.Now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.tick(ctx, s.stop, now)
	}()
	var catchUps []Fire
	for i := range s.p.Schedules.Jobs {
		if j := &s.p.Schedules.Jobs[i]; j.Schedule != nil {
			catchUps = append(catchUps, s.missed(j, last[j.Name], now)...)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, f := range catchUps {
			if ctx.Err() != nil {
				return
			}
			s.Fire(ctx, f)
		}
	}()
	for _, n := range s.NextFires() {
		s.log.Info("scheduled", "job", n.Job, "cron", n.Cron, "next", n.Next.In(s.p.Schedules.Location).Format(time.DateTime))
	}
	return nil
}

// Stop stops the clock, refuses new fires and waits for running ones.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	already := s.stopping
	s.stopping = true
	s.mu.Unlock()
	if !already {
		close(s.stop)
	}
	s.wg.Wait()
}

// missed lists the fires of j to catch up per its policy: cron times after
// the last one recorded and not after now.
func (s *Scheduler) missed(j *config.Job, last, now time.Time) []Fire {
	if last.IsZero() {
		return nil
	}
	var times []time.Time
	for t := j.Schedule.Next(last); !t.After(now); t = j.Schedule.Next(t) {
		times = append(times, t)
		if len(times) > 10_000 {
			times = times[1:] // keep the newest 10,000
		}
	}
	if len(times) == 0 {
		return nil
	}
	switch j.CatchUp {
	case "none":
		s.log.Warn("fires missed while the daemon was down are not caught up (catch_up: none)", "job", j.Name,
			"missed", len(times), "first", times[0], "last", times[len(times)-1])
		return nil
	case "latest":
		times = times[len(times)-1:]
	}
	s.log.Info("catching up fires missed while the daemon was down", "job", j.Name, "policy", j.CatchUp, "fires", len(times))
	fires := make([]Fire, len(times))
	for i, t := range times {
		fires[i] = Fire{Job: j.Name, Trigger: TriggerCatchUp, Scheduled: t}
	}
	return fires
}

// FireAsync fires in the background under the Start context; false when
// the scheduler has not started or is stopping.
func (s *Scheduler) FireAsync(f Fire) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.base == nil {
		return false
	}
	ctx := s.base
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.Fire(ctx, f)
	}()
	return true
}

// Fire runs f.Job, after the jobs it depends on, and returns when done.
// A fire of a job already running is skipped or waits, per its overlap.
func (s *Scheduler) Fire(ctx context.Context, f Fire) *FireResult {
	res := s.fire(ctx, f)
	s.log.Info("fire ended", "job", f.Job, "fire_id", res.FireID, "trigger", f.Trigger, "status", res.Status)
	if s.o.OnFire != nil {
		s.o.OnFire(res)
	}
	return res
}

func (s *Scheduler) fire(ctx context.Context, f Fire) *FireResult {
	res := &FireResult{FireID: uuid.NewString(), Fire: f}
	job, err := s.p.Schedules.Job(f.Job)
	if err != nil {
		res.Status, res.Err = StatusFailed, err
		return res
	}
	jobs, err := s.p.Schedules.Closure(job.Name)
	if err != nil {
		res.Status, res.Err = StatusFailed, err
		return res
	}
	skip := func(why string) *FireResult {
		run := s.newRun(res, job.Name, 0)
		run.Status, run.EndedAt, run.Error = StatusSkipped, run.StartedAt, why
		s.save(&run)
		res.Runs, res.Status = append(res.Runs, run), StatusSkipped
		s.o.Metrics.run(run)
		return res
	}
	if busy := s.enter(ctx, job, jobs); busy != "" {
		s.log.Warn("fire skipped: a job of it is still running", "job", job.Name, "running", busy, "trigger", f.Trigger, "overlap", job.Overlap)
		return skip("job " + busy + " is still running (overlap: " + job.Overlap + ")")
	}
	defer s.leave(jobs)
	if ctx.Err() != nil {
		return skip("not run: the scheduler is stopping")
	}
	res.Status = StatusSuccess
	for _, j := range jobs {
		if res.Status != StatusSuccess {
			run := s.newRun(res, j.Name, 0)
			run.Status, run.EndedAt = StatusSkipped, run.StartedAt
			run.Error = "not run: " + res.Err.Error()
			s.save(&run)
			res.Runs = append(res.Runs, run)
			s.o.Metrics.run(run)
			continue
		}
		if err := s.runJob(ctx, res, j); err != nil {
			res.Status, res.Err = StatusFailed, fmt.Errorf("job %s failed: %w", j.Name, err)
		}
	}
	if res.Status == StatusSuccess && s.o.OnSuccess != nil {
		s.write.Lock() // no other job writes while the hook reads the result
		s.o.OnSuccess(ctx, res)
		s.write.Unlock()
	}
	return res
}

// enter claims every job of a fire (the fired job and its dependencies).
// When one is already running it returns its name (skip the fire), or with
// overlap: delay waits for it, at most one fire waiting per job.
func (s *Scheduler) enter(ctx context.Context, fired *config.Job, jobs []*config.Job) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	busy := func() string {
		for _, j := range jobs {
			if s.running[j.Name] {
				return j.Name
			}
		}
		return ""
	}
	if b := busy(); b != "" {
		if fired.Overlap != "delay" || s.queued[fired.Name] {
			return b
		}
		s.queued[fired.Name] = true
		for busy() != "" && ctx.Err() == nil {
			s.idle.Wait()
		}
		s.queued[fired.Name] = false
	}
	for _, j := range jobs {
		s.running[j.Name] = true
	}
	return ""
}

func (s *Scheduler) leave(jobs []*config.Job) {
	s.mu.Lock()
	for _, j := range jobs {
		s.running[j.Name] = false
	}
	s.mu.Unlock()
	s.idle.Broadcast()
}

func (s *Scheduler) newRun(res *FireResult, job string, attempt int) Run {
	r := Run{RunID: uuid.NewString(), FireID: res.FireID, FiredJob: res.Fire.Job, Job: job, Trigger: res.Fire.Trigger, ScheduledAt: res.Fire.Scheduled,
		StartedAt: time.Now(), Status: StatusRunning, Attempt: attempt}
	if !res.Fire.BusinessDate.IsZero() {
		r.BusinessDate = res.Fire.BusinessDate.Format(time.DateOnly)
	}
	return r
}

func (s *Scheduler) save(r *Run) {
	if err := record(s.w.DB(), r); err != nil {
		s.log.Error("run history not written", "job", r.Job, "run_id", r.RunID, "err", err)
	}
}

// runJob runs j's attempts until one succeeds or the retries are used; the
// last failure raises the alert.
func (s *Scheduler) runJob(ctx context.Context, res *FireResult, j *config.Job) error {
	wait := min(j.BackoffDur, j.MaxBackoffDur)
	for attempt := 1; ; attempt++ {
		run, err := s.attempt(ctx, res, j, attempt)
		res.Runs = append(res.Runs, run)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return err // the scheduler is stopping: cancelled, not failed for good
		case attempt > *j.Retries:
			s.alert(ctx, j, res, run, err)
			return err
		}
		s.log.Warn("job attempt failed; retrying", "job", j.Name, "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-s.clock.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(2*wait, j.MaxBackoffDur)
	}
}

// attempt runs j's stages once, holding the write lock, within j's timeout.
func (s *Scheduler) attempt(ctx context.Context, res *FireResult, j *config.Job, attempt int) (Run, error) {
	s.write.Lock()
	defer s.write.Unlock()
	run := s.newRun(res, j.Name, attempt)
	s.save(&run)
	s.o.Metrics.started(j.Name)
	s.log.Info("job started", "job", j.Name, "run_id", run.RunID, "trigger", run.Trigger, "attempt", attempt)

	actx, cancel := context.WithTimeout(ctx, j.TimeoutDur)
	defer cancel()
	env := &pipeline.Env{Project: s.p, W: s.w, Logger: s.log.With("job", j.Name, "run_id", run.RunID),
		Feeds: j.Feeds, AsOf: res.Fire.BusinessDate, Brokers: s.o.Brokers}
	var err error
	for _, stage := range j.Stages {
		started := time.Now()
		r, serr := s.runStage(actx, env, stage)
		r.Stage = stage
		if errors.Is(actx.Err(), context.DeadlineExceeded) && serr != nil {
			serr = fmt.Errorf("timed out after %s (timeout: %s): %w", time.Since(run.StartedAt).Round(time.Second), j.Timeout, serr)
		}
		if rerr := recordStage(s.w.DB(), run.RunID, started, r, serr); rerr != nil {
			s.log.Error("stage metrics not written", "err", rerr)
		}
		s.o.Metrics.stage(j.Name, r, serr)
		if s.o.OnStage != nil {
			s.o.OnStage(j.Name, r, serr)
		}
		run.Rows += r.Rows
		run.Rejects += r.Rejects
		if r.AsOf != "" && res.Fire.BusinessDate.IsZero() {
			run.BusinessDate = r.AsOf
		}
		if serr != nil {
			err = serr
			break
		}
	}
	run.EndedAt = time.Now()
	run.Status = StatusSuccess
	switch {
	case err != nil && ctx.Err() != nil:
		run.Status, run.Error = StatusCancelled, "cancelled: the scheduler is stopping ("+pii.Redact(err.Error())+")"
	case err != nil:
		run.Status, run.Error = StatusFailed, pii.Redact(err.Error()) // kept in ops.job_runs, shown by /status
	}
	s.save(&run)
	s.o.Metrics.run(run)
	s.log.Info("job finished", "job", j.Name, "run_id", run.RunID, "status", run.Status, "rows", run.Rows,
		"rejects", run.Rejects, "seconds", fmt.Sprintf("%.1f", run.Seconds()))
	return run, err
}

// runStage runs one stage, turning a panic into the stage's error: a bug
// in one stage must fail its job, not stop the daemon.
func (s *Scheduler) runStage(ctx context.Context, env *pipeline.Env, stage string) (res pipeline.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("stage panicked", "stage", stage, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("stage %s panicked: %v", stage, p)
		}
	}()
	return s.o.Stage(ctx, env, stage)
}

// NextFire is when a scheduled job fires next.
type NextFire struct {
	Job  string    `json:"job"`
	Cron string    `json:"cron"`
	Next time.Time `json:"next"`
}

// NextFires lists the next fire time of every job with a cron.
func (s *Scheduler) NextFires() []NextFire { return NextFires(s.p.Project, s.clock.Now()) }

// NextFires lists the next fire time after now of every job with a cron.
func NextFires(p *config.Project, now time.Time) []NextFire {
	var out []NextFire
	for _, j := range p.Schedules.Jobs {
		if j.Schedule != nil {
			out = append(out, NextFire{Job: j.Name, Cron: j.Cron, Next: j.Schedule.Next(now)})
		}
	}
	return out
}

// Running lists the jobs now running.
func (s *Scheduler) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for j, r := range s.running {
		if r {
			out = append(out, j)
		}
	}
	return out
}
