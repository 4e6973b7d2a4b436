// Package pipeline composes the pipeline. It owns no data and implements no
// stage; it holds:
//
//   - the Stage contract and its registry (DAG): every stage is one type,
//     in a file of its own (stage_<name>.go), registered by name in DAG
//     order, and run through Run by every path — its own command, cdp run,
//     the daemon, cdp backfill, the benchmarks and cdp demo;
//   - the Env a stage runs in: the project (cdp.yaml whole, each stage's
//     section decoded into its own options type: Project), the warehouse,
//     the business date, full or incremental, the tag catalog and signal
//     rules (the built-in ones and the project's folders), the PII policy,
//     logger and progress;
//   - the ingest run over the connectors, the Kafka client settings, the
//     embedded broker of the demo, and the outbox relay's wiring.
//
// Guarantee: every path builds its Env the same way from the same project,
// so a stage gets the same options whichever way it is run.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"cdp/pii"
	"cdp/transforms/core"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/warehouse"
)

// Stage is one step of the pipeline DAG. Every stage is one type with this
// one method, in its own file of this package (stage_<name>.go), and one
// line of DAG; it reads everything it needs from the Env. Every way of
// running a stage — its own command, cdp run, the daemon, cdp backfill,
// the benchmarks, cdp demo — goes through Run, so they all pass the same
// options.
type Stage interface {
	Run(ctx context.Context, env *Env) (Result, error)
}

// Result is what one stage did: the rows it wrote (loaded, modelled,
// changed, decided or published, by stage), its rejects, and its own
// summary (what its command prints).
type Result struct {
	Stage   string  `json:"stage"`
	Rows    int64   `json:"rows"`
	Rejects int64   `json:"rejects"`
	AsOf    string  `json:"as_of,omitempty"`
	Seconds float64 `json:"seconds"`
	Summary any     `json:"summary,omitempty"`
}

// DAG is the registry: every stage by name, in the order they run.
var DAG = []struct {
	Name  string
	Stage Stage
	Doc   string
}{
	{"ingest", ingestStage{}, "load what is new in the feeds into raw.*"},
	{"unify", unifyStage{}, "decide which source records are the same party: core.party"},
	{"model", modelStage{}, "bring the core model up to date, keyed by party"},
	{"tags", tagsStage{}, "compute the tag catalog as of the business date: mart.tags and their history"},
	{"tiers", tiersStage{}, "score and tier every party: mart.value_tier"},
	{"view", viewStage{}, "rebuild mart.customer_360 and queue changed profile summaries"},
	{"signals", signalsStage{}, "evaluate the signal rules and move signals through their lifecycle"},
	{"publish", publishStage{}, "relay the outbox to Kafka"},
}

// Names lists the stages in DAG order.
func Names() []string {
	out := make([]string, len(DAG))
	for i, s := range DAG {
		out[i] = s.Name
	}
	return out
}

// Lookup finds a stage by name.
func Lookup(name string) (Stage, error) {
	for _, s := range DAG {
		if s.Name == name {
			return s.Stage, nil
		}
	}
	return nil, fmt.Errorf("unknown stage %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Run runs one stage by name to completion and times it; its error names
// the stage.
func Run(ctx context.Context, env *Env, name string) (Result, error) {
	st, err := Lookup(name)
	if err != nil {
		return Result{Stage: name}, err
	}
	t0 := time.Now()
	res, err := func() (Result, error) {
		// What the stage held in Go (unification's records, Arrow
		// batches) goes back to the system as it ends, not when the
		// runtime gets to it: a job runs its stages one after another in
		// one process (the daemon, the demo), and the next one's DuckDB
		// work would otherwise sit on top of it. It costs a collection of
		// what stays alive (the embedded broker's records, in the demo),
		// counted in the stage's time.
		defer debug.FreeOSMemory()
		return st.Run(ctx, env)
	}()
	res.Stage, res.Seconds = name, time.Since(t0).Seconds()
	if err != nil {
		if env.W != nil {
			err = env.W.ExplainMemory(err)
		}
		return res, fmt.Errorf("stage %s: %w", name, err)
	}
	return res, nil
}

// Env is what a stage runs against: the project, its warehouse, how to
// report, and what this run asks for. The tag catalog and the signal rules
// are loaded from the project once per Env, when a stage first needs them.
type Env struct {
	Project  *Project
	W        *warehouse.Warehouse
	Logger   *slog.Logger // nil: slog.Default()
	Progress Progress     // nil: none

	// AsOf is the business date of the dated stages (tags, signals); zero
	// means the newest snapshot day.
	AsOf time.Time
	// Full recomputes instead of catching up: unify re-estimates and
	// compares everything, the core model is rebuilt from raw, every tag
	// is computed.
	Full bool
	// Feeds narrows ingest to these feeds; nil is every enabled feed.
	Feeds []string
	// Brokers replace the project's Kafka brokers (the demo's embedded
	// broker); nil: the project's, or its embedded broker.
	Brokers []string
	// MaxEvents stops publish after this many events; 0 drains the outbox.
	MaxEvents int64
	// Catalogs and RuleFolders add folders to those cdp.yaml names (the
	// --catalog and --rules flags).
	Catalogs, RuleFolders []string

	catalogOnce, rulesOnce sync.Once
	catalog                *tags.Catalog
	rules                  *signals.Rules
	catalogErr, rulesErr   error
}

// Log is the stage's logger.
func (e *Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}

// Reporter is the stage's progress display.
func (e *Env) Reporter() Progress {
	if e.Progress == nil {
		return NoProgress{}
	}
	return e.Progress
}

// PII is the project's PII policy.
func (e *Env) PII() pii.Policy { return pii.Policy{InEvents: e.Project.Publish.AllowPII} }

// Catalog is the tag catalog the project uses: the built-in catalog (less
// what tags.disable names, or none with tags.builtin: false) and the tags
// of tags.catalogs and Catalogs.
func (e *Env) Catalog() (*tags.Catalog, error) {
	e.catalogOnce.Do(func() {
		e.catalog, e.catalogErr = tags.Open(e.Project.Tags, append(e.Project.TagFolders(), e.Catalogs...)...)
		if e.catalogErr != nil {
			e.catalogErr = fmt.Errorf("tag catalog: %w", e.catalogErr)
		}
	})
	return e.catalog, e.catalogErr
}

// Rules are the signal rules the project uses: the built-in rules (less
// what signals.disable names, or none with signals.builtin: false), the
// rules of signals.rules and RuleFolders, with signals.params applied.
func (e *Env) Rules() (*signals.Rules, error) {
	e.rulesOnce.Do(func() {
		e.rules, e.rulesErr = signals.Open(e.Project.Signals, append(e.Project.RuleFolders(), e.RuleFolders...)...)
		if e.rulesErr != nil {
			e.rulesErr = fmt.Errorf("signal rules: %w", e.rulesErr)
		}
	})
	return e.rules, e.rulesErr
}

// BusinessDay is the warehouse's business date: the core model's newest
// snapshot day, which dated stages run as of by default.
func BusinessDay(ctx context.Context, w *warehouse.Warehouse) (time.Time, error) {
	day, err := core.NewestSnapshotDay(ctx, w.DB())
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.DateOnly, day)
}
