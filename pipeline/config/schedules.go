package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedules are the jobs the daemon (cdp serve) runs on cron, and that
// cdp run and cdp backfill run on demand.
type Schedules struct {
	TimeZone string `yaml:"time_zone"` // of cron specs without CRON_TZ=; default Asia/Shanghai
	CatchUp  string `yaml:"catch_up"`  // none | latest | all: fires missed while the daemon was down; default latest
	Alert    Alert  `yaml:"alert"`
	Jobs     []Job  `yaml:"jobs"`

	Location *time.Location `yaml:"-"`
}

// Alert is what happens when a job fails for good (every retry used).
type Alert struct {
	Webhook string `yaml:"webhook"` // POST a JSON description here; empty = none
	Log     *bool  `yaml:"log"`     // an ERROR log line; default true
}

// Job is one schedulable unit: some pipeline stages, on a cron, after its
// dependencies.
type Job struct {
	Name       string   `yaml:"name"`        // unique; lower-case letters, digits, - and _
	Stages     []string `yaml:"stages"`      // in DAG order; "all" = every stage
	Feeds      []string `yaml:"feeds"`       // ingest only these feeds; default all
	Cron       string   `yaml:"cron"`        // seconds optional; CRON_TZ= optional; empty = only as a dependency or by hand
	DependsOn  []string `yaml:"depends_on"`  // jobs run first, in the same fire
	Retries    *int     `yaml:"retries"`     // extra attempts after a failure; default 2
	Backoff    string   `yaml:"backoff"`     // wait before the first retry, doubling; default 30s
	MaxBackoff string   `yaml:"max_backoff"` // longest wait between retries; default 10m
	Timeout    string   `yaml:"timeout"`     // per attempt; default 2h
	Overlap    string   `yaml:"overlap"`     // skip | delay: a fire while the job still runs; default skip
	CatchUp    string   `yaml:"catch_up"`    // none | latest | all; default schedules.catch_up
	Line       int      `yaml:"-"`

	BackoffDur, MaxBackoffDur, TimeoutDur time.Duration `yaml:"-"`
	Schedule                              cron.Schedule `yaml:"-"` // nil without a cron
}

func (j *Job) setLine(n int) { j.Line = n }

// CronParser parses job specs: five fields or six with seconds first,
// descriptors (@daily, @every 5m) and a CRON_TZ= prefix.
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var (
	jobName       = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	catchUps      = []string{"none", "latest", "all"}
	overlaps      = []string{"skip", "delay"}
	DefaultZone   = "Asia/Shanghai"
	defaultRetry  = 2
	defaultBackof = 30 * time.Second
)

func (p *Project) validateSchedules(d *decoder, stages []string) {
	s := &p.Schedules
	if s.TimeZone == "" {
		s.TimeZone = DefaultZone
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		d.fieldErrorf("schedules.time_zone", "unknown time zone %q (want an IANA name like Asia/Shanghai)", s.TimeZone)
		loc = time.UTC
	}
	s.Location = loc
	if s.CatchUp == "" {
		s.CatchUp = "latest"
	}
	if !slices.Contains(catchUps, s.CatchUp) {
		d.fieldErrorf("schedules.catch_up", "%q: want %s", s.CatchUp, orList(catchUps))
	}
	if s.Alert.Log == nil {
		yes := true
		s.Alert.Log = &yes
	}
	if s.Alert.Webhook != "" {
		if u, err := url.Parse(s.Alert.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.fieldErrorf("schedules.alert.webhook", "%q: want an http(s) URL", s.Alert.Webhook)
		}
	}
	names := map[string]int{}
	for i := range s.Jobs {
		at := index("schedules.jobs", i)
		j := &s.Jobs[i]
		switch {
		case !jobName.MatchString(j.Name):
			d.fieldErrorf(at+".name", "%q: want lower-case letters, digits, - and _, starting with a letter", j.Name)
		case names[j.Name] > 0:
			d.fieldErrorf(at+".name", "job %q is declared twice (first at line %d)", j.Name, names[j.Name])
		default:
			names[j.Name] = j.Line
		}
		p.validateJob(d, j, at, loc, stages)
	}
	for i := range s.Jobs {
		for k, dep := range s.Jobs[i].DependsOn {
			if _, ok := names[dep]; !ok {
				d.fieldErrorf(index(index("schedules.jobs", i)+".depends_on", k), "no job named %q", dep)
			}
		}
	}
	if cycle := s.cycle(); cycle != nil {
		d.fieldErrorf("schedules.jobs", "dependencies go round in a circle: %s", strings.Join(cycle, " → "))
	}
}

func (p *Project) validateJob(d *decoder, j *Job, at string, loc *time.Location, stages []string) {
	if len(j.Stages) == 0 {
		d.fieldErrorf(at+".stages", "a job needs stages: some of %s, or all", strings.Join(stages, ", "))
	}
	if len(j.Stages) == 1 && j.Stages[0] == "all" {
		j.Stages = slices.Clone(stages)
	}
	last := -1
	for k, st := range j.Stages {
		n := slices.Index(stages, st)
		switch {
		case n < 0:
			d.fieldErrorf(index(at+".stages", k), "unknown stage %q (want %s, or all)", st, orList(stages))
		case n <= last:
			d.fieldErrorf(index(at+".stages", k), "stage %q is out of order: stages run in the order %s", st, strings.Join(stages, " → "))
		default:
			last = n
		}
	}
	for k, f := range j.Feeds {
		known := false
		for _, feed := range p.Feeds {
			known = known || feed.Name == f
		}
		if !known {
			d.fieldErrorf(index(at+".feeds", k), "no feed named %q", f)
		}
	}
	if len(j.Feeds) > 0 && !slices.Contains(j.Stages, "ingest") {
		d.fieldErrorf(at+".feeds", "only the ingest stage reads feeds, and this job has none")
	}
	if j.Cron != "" {
		spec := j.Cron
		if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
			spec = "CRON_TZ=" + loc.String() + " " + spec
		}
		sched, err := CronParser.Parse(spec)
		if err != nil {
			d.fieldErrorf(at+".cron", "%q: %v (want five fields, or six with seconds first, e.g. \"0 30 2 * * *\")", j.Cron, err)
		}
		j.Schedule = sched
	}
	if j.Retries == nil {
		r := defaultRetry
		j.Retries = &r
	} else if *j.Retries < 0 {
		d.fieldErrorf(at+".retries", "must be 0 or more, not %d", *j.Retries)
	}
	for _, f := range []struct {
		key string
		s   *string
		d   *time.Duration
		def time.Duration
	}{{"backoff", &j.Backoff, &j.BackoffDur, defaultBackof}, {"max_backoff", &j.MaxBackoff, &j.MaxBackoffDur, 10 * time.Minute},
		{"timeout", &j.Timeout, &j.TimeoutDur, 2 * time.Hour}} {
		if *f.s == "" {
			*f.d = f.def
			continue
		}
		v, err := time.ParseDuration(*f.s)
		if err != nil || v <= 0 {
			d.fieldErrorf(at+"."+f.key, "%q: want a duration like 30s, 5m or 2h", *f.s)
		}
		*f.d = v
	}
	if j.BackoffDur > j.MaxBackoffDur {
		d.fieldErrorf(at+".backoff", "%s is longer than max_backoff (%s)", j.BackoffDur, j.MaxBackoffDur)
	}
	if j.Overlap == "" {
		j.Overlap = "skip"
	}
	if !slices.Contains(overlaps, j.Overlap) {
		d.fieldErrorf(at+".overlap", "%q: want skip or delay", j.Overlap)
	}
	if j.CatchUp == "" {
		j.CatchUp = p.Schedules.CatchUp
	}
	if !slices.Contains(catchUps, j.CatchUp) {
		d.fieldErrorf(at+".catch_up", "%q: want %s", j.CatchUp, orList(catchUps))
	}
}

// cycle returns one dependency cycle among the jobs, or nil.
func (s *Schedules) cycle() []string {
	deps := map[string][]string{}
	for _, j := range s.Jobs {
		deps[j.Name] = j.DependsOn
	}
	state := map[string]int{} // 1 visiting, 2 done
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		switch state[n] {
		case 1:
			i := slices.Index(path, n)
			return append(slices.Clone(path[i:]), n)
		case 2:
			return nil
		}
		state[n] = 1
		path = append(path, n)
		for _, m := range deps[n] {
			if c := visit(m); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return nil
	}
	for _, j := range s.Jobs {
		if c := visit(j.Name); c != nil {
			return c
		}
	}
	return nil
}

// Job returns the job named name.
func (s *Schedules) Job(name string) (*Job, error) {
	for i := range s.Jobs {
		if s.Jobs[i].Name == name {
			return &s.Jobs[i], nil
		}
	}
	var names []string
	for _, j := range s.Jobs {
		names = append(names, j.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no job %q: the project declares no jobs (schedules.jobs in cdp.yaml)", name)
	}
	return nil, fmt.Errorf("no job %q (jobs: %s)", name, strings.Join(names, ", "))
}

// Closure lists the job and everything it depends on, dependencies first.
func (s *Schedules) Closure(name string) ([]*Job, error) {
	var out []*Job
	seen := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		j, err := s.Job(n)
		if err != nil {
			return err
		}
		for _, dep := range j.DependsOn {
			if err := visit(dep); err != nil {
				return err
			}
		}
		out = append(out, j)
		return nil
	}
	return out, visit(name)
}
