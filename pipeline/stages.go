package pipeline

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"cdp/outbox"
	"cdp/pipeline/config"
	"cdp/transforms/core"
	"cdp/transforms/identity"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/transforms/view"
	"cdp/warehouse"
)

// StageEnv is what a stage runs against.
type StageEnv struct {
	Project *config.Project
	W       *warehouse.Warehouse
	Logger  *slog.Logger
	Feeds   []string  // ingest: only these feeds; nil = all
	AsOf    time.Time // tags and signals: the business date; zero = the newest snapshot day
	Brokers []string  // ingest streams and publish; nil = the project's (or its embedded broker)
	Catalog *tags.Catalog
	Rules   *signals.Rules
}

// StageResult is what one stage did: the rows it wrote (loaded, modelled,
// changed, decided or published, by stage) and its rejects.
type StageResult struct {
	Stage   string  `json:"stage"`
	Rows    int64   `json:"rows"`
	Rejects int64   `json:"rejects"`
	AsOf    string  `json:"as_of,omitempty"`
	Seconds float64 `json:"seconds"`
	Summary any     `json:"summary,omitempty"`
}

// LoadCatalog loads the built-in tag catalog.
func LoadCatalog() (*tags.Catalog, error) { return tags.Load(tags.Builtin()) }

// LoadRules loads the signal rules: dir, else the project's signals.rules,
// else the built-in set, with the project's parameter overrides.
func LoadRules(p *config.Project, dir string) (*signals.Rules, error) {
	var fsys fs.FS = signals.Builtin()
	var params map[string]map[string]any
	if p != nil {
		params = p.Signals.Params
		if dir == "" && p.Signals.Rules != "" {
			dir = p.Resolve(p.Signals.Rules)
		}
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("rules %s: not a folder of rule files", dir)
		}
		fsys = os.DirFS(dir)
	}
	return signals.Load(fsys, params)
}

// RunStage runs one stage of the DAG (config.Stages) to completion.
func RunStage(ctx context.Context, env *StageEnv, stage string) (StageResult, error) {
	t0 := time.Now()
	res, err := runStage(ctx, env, stage)
	res.Stage, res.Seconds = stage, time.Since(t0).Seconds()
	if err != nil {
		return res, fmt.Errorf("stage %s: %w", stage, err)
	}
	return res, nil
}

func runStage(ctx context.Context, env *StageEnv, stage string) (StageResult, error) {
	p, w, log := env.Project, env.W, env.Logger
	if log == nil {
		log = slog.Default()
	}
	switch stage {
	case "ingest":
		rep, err := Ingest(ctx, p, w, IngestOptions{Feeds: env.Feeds, Logger: log, Brokers: env.Brokers})
		if rep == nil {
			return StageResult{}, err
		}
		_, loaded, rejected, _ := rep.Totals()
		return StageResult{Rows: loaded, Rejects: rejected, Summary: ingestBrief(rep)}, err
	case "unify":
		s, err := identity.Unify(ctx, w, identity.Options{Config: p.Identity, Logger: log})
		if err != nil {
			return StageResult{}, err
		}
		return StageResult{Rows: int64(s.Records), Summary: s}, nil
	case "model":
		s, err := core.Build(ctx, w, log)
		if err != nil {
			return StageResult{}, err
		}
		var rows int64
		for _, t := range s.Tables {
			rows += t.Rows
		}
		return StageResult{Rows: rows, Summary: s}, nil
	case "tags":
		if env.Catalog == nil {
			cat, err := LoadCatalog()
			if err != nil {
				return StageResult{}, err
			}
			env.Catalog = cat
		}
		s, err := tags.Run(ctx, w, env.Catalog, tags.RunOptions{AsOf: env.AsOf, Logger: log})
		if err != nil {
			return StageResult{}, err
		}
		return StageResult{Rows: s.Changes, AsOf: s.AsOf, Summary: s}, nil
	case "tiers":
		s, err := tiers.Build(ctx, w, p.Tiers, log)
		if err != nil {
			return StageResult{}, err
		}
		return StageResult{Rows: int64(s.Parties), AsOf: s.AsOf, Summary: s}, nil
	case "view":
		s, err := view.Build(ctx, w, view.Options{Logger: log, AllowPII: p.Publish.AllowPII})
		if err != nil {
			return StageResult{}, err
		}
		return StageResult{Rows: int64(s.Parties), AsOf: s.AsOf, Summary: s}, nil
	case "signals":
		if env.Rules == nil {
			rules, err := LoadRules(p, "")
			if err != nil {
				return StageResult{}, err
			}
			env.Rules = rules
		}
		s, err := signals.Run(ctx, w, env.Rules, p.Signals, signals.RunOptions{AsOf: env.AsOf, Logger: log, AllowPII: p.Publish.AllowPII})
		if err != nil {
			return StageResult{}, err
		}
		return StageResult{Rows: int64(s.Events), AsOf: s.AsOf, Summary: s}, nil
	case "publish":
		s, err := PublishOutbox(ctx, p, w, env.Brokers, 0, log)
		if s == nil {
			return StageResult{}, err
		}
		return StageResult{Rows: s.Published, Summary: s}, err
	}
	return StageResult{}, fmt.Errorf("unknown stage %q (want one of %v)", stage, config.Stages)
}

// PublishOutbox drains the outbox to brokers (default: the project's, or
// its embedded broker, started for the duration), creating missing topics
// first. At most max events when max > 0.
func PublishOutbox(ctx context.Context, p *config.Project, w *warehouse.Warehouse, brokers []string, max int64, log *slog.Logger) (*outbox.RelaySummary, error) {
	if len(brokers) == 0 && len(p.Kafka.Brokers) == 0 && p.Kafka.Embedded.Enabled {
		b, err := StartEmbeddedBroker(p, log)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		brokers = b.Addrs
	}
	if *p.Publish.CreateTopics {
		if err := EnsureTopics(ctx, p, brokers, PublishTopics); err != nil {
			return nil, fmt.Errorf("publish: %w (set publish.create_topics: false if the topics are managed elsewhere)", err)
		}
	}
	writer, err := NewPublisher(p, brokers)
	if err != nil {
		return nil, err
	}
	defer writer.Close()
	return outbox.Relay(ctx, w.DB(), writer, outbox.RelayOptions{Batch: p.Publish.Batch, Max: max, Topics: p.Publish.Topics, Logger: log})
}

// ingestBrief is the part of an ingest report worth keeping in run history.
func ingestBrief(rep *IngestReport) map[string]any {
	b := map[string]any{"run_id": rep.RunID}
	for _, s := range []string{"loaded", "unchanged", "pending", "failed"} {
		b[s] = rep.Count(s)
	}
	var failed []string
	for _, u := range rep.Failed() {
		failed = append(failed, fmt.Sprintf("%s: %v", u.Source, u.Err))
	}
	if failed != nil {
		b["failures"] = failed
	}
	return b
}
