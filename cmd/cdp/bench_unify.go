package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/transforms/core"
	"cdp/transforms/identity"
	"cdp/warehouse"
)

func newBenchUnifyCmd(g *globals) *cobra.Command {
	var records, days int
	var data string
	var describe bool
	var activity float64
	cmd := &cobra.Command{
		Use:   "unify",
		Short: "Identity unification at scale: a full run, then one incremental day, timed, with peak RSS and accuracy",
		Long: `Generates a bank of about --records source customer records over --days
business days (or reuses --data), ingests all days but the last and runs a
full unify in a child process, then delivers the last day, ingests it and
runs the incremental unify the same way. Reports wall time and peak RSS of
each unify, the incremental run as a fraction of the full one, and pairwise
precision and recall against the generator's ground truth.

With --describe, the core model, tags, tiers and the 360 view are timed in a
child process after each unify, and once more with the core model rebuilt in
full over every day and every tag computed, from a copy of the warehouse as
the last day's unify left it: the yardstick the incremental day is compared
with (the copy needs the warehouse's size again in the temp folder).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchUnify(cmd.Context(), g, cmd.OutOrStdout(), records, days, data, describe, activity)
		},
	}
	child := benchChild(g, "unify-project CONFIG", 1, func(ctx context.Context, env *pipeline.Env, _ []string) (any, error) {
		res, err := pipeline.Run(ctx, env, "unify")
		if err != nil {
			return nil, err
		}
		return childReport{Summary: res.Summary.(*identity.Summary), PeakRSS: warehouse.PeakRSS()}, nil
	})
	cmd.AddCommand(child)
	cmd.Flags().BoolVar(&describe, "describe", false, "after each unify, also time the core model, tags, tiers and the 360 view (in a child process)")
	var describeFull bool
	describeChild := benchChild(g, "describe-project CONFIG", 1, func(ctx context.Context, env *pipeline.Env, _ []string) (any, error) {
		r, err := describeAll(ctx, env, describeFull)
		if err != nil {
			return nil, err
		}
		r.PeakRSS = warehouse.PeakRSS()
		return r, nil
	})
	describeChild.Flags().BoolVar(&describeFull, "full", false, "build the core model in full and compute every tag")
	cmd.AddCommand(describeChild)
	cmd.Flags().IntVar(&records, "records", 1_000_000, "source customer records to unify (about 3.2 per party since core banking is a fifth system)")
	cmd.Flags().IntVar(&days, "days", 2, "business days in the bank: all but the last are loaded first, the last is the incremental day")
	cmd.Flags().StringVar(&data, "data", "", "project folder to generate into or reuse (default: a temp folder, removed after)")
	cmd.Flags().Float64Var(&activity, "activity", synthbank.DefaultActivity, "share of the generated bank's parties acting on a business day (as cdp bench dag's; planted parties always act); 0 = every party every day. Applies when the bank is generated, not to a reused --data")
	return cmd
}

func benchUnify(ctx context.Context, g *globals, out io.Writer, records, days int, dir string, describe bool, activity float64) error {
	if days < 2 {
		return fmt.Errorf("--days %d: need at least 2 (history, then the incremental day)", days)
	}
	if activity < 0 || activity > 1 {
		return fmt.Errorf("--activity %g: a share, from 0 to 1", activity)
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cdp-bench-unify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfgPath := filepath.Join(dir, "cdp.yaml")
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, err := os.Stat(filepath.Join(dir, "feeds")); os.IsNotExist(err) {
		parties := records * 100 / 316 // the generator writes ~3.16 customer records per party
		t0 := time.Now()
		if _, err := generateBank(ctx, synthbank.Options{Out: dir, Parties: parties, Days: days, Seed: 1, End: end, Activity: activity}); err != nil {
			return err
		}
		fmt.Fprintf(out, "generated %d parties × %d days (%g of them acting on a day; 0: all) in %.1fs\n", parties, days, activity, time.Since(t0).Seconds())
		yaml := "warehouse: {path: warehouse.duckdb}\nfeeds:\n"
		for _, f := range []string{"credit", "wealth", "card", "ebank", "core_banking", "external"} {
			yaml += fmt.Sprintf("  - {name: %s, path: feeds/%s}\n", f, f)
		}
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
			return err
		}
	}
	p, err := pipeline.LoadProject(cfgPath)
	if err != nil {
		return err
	}
	// a fresh warehouse, without the write-ahead log of a run cut short
	if err := removeWarehouse(p.WarehousePath()); err != nil {
		return err
	}

	// Hold the second day back.
	deliver, err := holdBack(dir, end)
	if err != nil {
		return err
	}
	ingest := func() error {
		w, err := openWarehouse(ctx, p)
		if err != nil {
			return err
		}
		defer w.Close()
		_, err = pipeline.Run(ctx, &pipeline.Env{Project: p, W: w, Logger: g.logger}, "ingest")
		return err
	}
	t0 := time.Now()
	if err := ingest(); err != nil {
		return err
	}
	fmt.Fprintf(out, "ingested day 1 in %.1fs\n", time.Since(t0).Seconds())
	full, fullRSS, fullSec, err := childUnify(ctx, cfgPath)
	if err != nil {
		return err
	}
	var d1, d2, d3 *describeReport
	if describe {
		if d1, err = childDescribe(ctx, cfgPath, false); err != nil {
			return err
		}
	}
	if err := deliver(); err != nil {
		return err
	}
	t0 = time.Now()
	if err := ingest(); err != nil {
		return err
	}
	fmt.Fprintf(out, "ingested day 2 in %.1fs\n", time.Since(t0).Seconds())
	inc, incRSS, incSec, err := childUnify(ctx, cfgPath)
	if err != nil {
		return err
	}
	if describe {
		// The same state recomputed in full is the yardstick of the
		// incremental day: from a copy of the warehouse as the day's
		// unification left it, so that both have the day's values, changes
		// and events to write.
		tmp, err := os.MkdirTemp("", "cdp-bench-unify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		state := filepath.Join(tmp, "state.duckdb")
		if err := copyWarehouse(p.WarehousePath(), state); err != nil {
			return fmt.Errorf("a copy of the unified state: %w", err)
		}
		if d2, err = childDescribe(ctx, cfgPath, false); err != nil {
			return err
		}
		if err := copyWarehouse(state, p.WarehousePath()); err != nil {
			return fmt.Errorf("the unified state back: %w", err)
		}
		if d3, err = childDescribe(ctx, cfgPath, true); err != nil {
			return err
		}
	}
	w, err := openWarehouse(ctx, p)
	if err != nil {
		return err
	}
	defer w.Close()
	ev, err := identity.EvaluateTruth(ctx, w.DB(), filepath.Join(dir, "truth", "xref.csv"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%-26s %12s %12s\n", "", "full", "incremental")
	fmt.Fprintf(out, "%-26s %12d %12d\n", "records in the run", full.Records, inc.Records)
	fmt.Fprintf(out, "%-26s %12d %12d\n", "records compared (active)", full.Active, inc.Active)
	fmt.Fprintf(out, "%-26s %12d %12d\n", "candidate pairs", full.Candidates, inc.Candidates)
	fmt.Fprintf(out, "%-26s %12d %12d\n", "parties", full.Parties, inc.Parties)
	fmt.Fprintf(out, "%-26s %12.1f %12.1f\n", "wall seconds (process)", fullSec, incSec)
	fmt.Fprintf(out, "%-26s %12.0f %12.0f\n", "peak RSS MB", float64(fullRSS)/(1<<20), float64(incRSS)/(1<<20))
	fmt.Fprintf(out, "\nincremental / full: %.1f%% of the time\n", 100*incSec/fullSec)
	if describe {
		fmt.Fprintf(out, "\ndescribe (model + tags + tiers + 360), process seconds:\n  %-28s %16s %16s %16s\n", "", "days 1–"+fmt.Sprint(days-1), "day "+fmt.Sprint(days)+" (incr.)", "all days, full")
		for _, st := range []string{"model", "tags", "tiers", "view"} {
			fmt.Fprintf(out, "  %-28s %16.1f %16.1f %16.1f\n", st, d1.Seconds[st], d2.Seconds[st], d3.Seconds[st])
		}
		fmt.Fprintf(out, "  %-28s %16.1f %16.1f %16.1f\n", "total", d1.Total, d2.Total, d3.Total)
		fmt.Fprintf(out, "  %-28s %16.0f %16.0f %16.0f\n", "peak RSS MB", float64(d1.PeakRSS)/(1<<20), float64(d2.PeakRSS)/(1<<20), float64(d3.PeakRSS)/(1<<20))
		fmt.Fprintf(out, "  model builds: %s, %s, %s\n", d1.ModelMode, d2.ModelMode, d3.ModelMode)
		fmt.Fprintf(out, "  incremental day / full recompute of the same state: %.0f%% (model alone: %.0f%%)\n",
			100*d2.Total/d3.Total, 100*d2.Seconds["model"]/d3.Seconds["model"])
	}
	fmt.Fprintf(out, "against the ground truth: pairwise precision %.4f recall %.4f F1 %.4f; B-cubed F1 %.4f (%d records)\n",
		ev.Pairwise.Precision, ev.Pairwise.Recall, ev.Pairwise.F1, ev.BCubed.F1, ev.Records)
	return nil
}

// benchChild is a hidden command a benchmark runs in a child process: it
// opens the project args[0] (the warehouse under the project's memory
// budget, as every command does), runs fn on it, and prints what fn
// returns as one JSON object on stdout.
func benchChild(g *globals, use string, nargs int, fn func(ctx context.Context, env *pipeline.Env, args []string) (any, error)) *cobra.Command {
	return &cobra.Command{
		Use: use, Hidden: true, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.config = args[0]
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			r, err := fn(cmd.Context(), &pipeline.Env{Project: p, W: w, Logger: g.logger}, args[1:])
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
}

// childReport is what the hidden unify-project command prints.
type childReport struct {
	Summary *identity.Summary `json:"summary"`
	PeakRSS int64             `json:"peak_rss_bytes"` // the child's own VmHWM
}

// childUnify runs unify in a child process: its summary, peak RSS and wall
// time. The child reads its own VmHWM: the rusage of a child forked from a
// large parent would report the parent's peak.
func childUnify(ctx context.Context, cfgPath string) (*identity.Summary, int64, float64, error) {
	var r childReport
	t0 := time.Now()
	if err := runChild(ctx, &r, "bench", "unify", "unify-project", cfgPath, "--log-level", "warn"); err != nil {
		return nil, 0, 0, err
	}
	if r.Summary == nil {
		return nil, 0, 0, fmt.Errorf("child unify printed no summary")
	}
	return r.Summary, r.PeakRSS, time.Since(t0).Seconds(), nil
}

// runChild runs cdp with args in a child process and decodes the one JSON
// object it prints into out.
func runChild(ctx context.Context, out any, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child %s: %w", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("child %s printed %q: %w", strings.Join(args, " "), b, err)
	}
	return nil
}

// describeReport is what the hidden describe-project command prints.
type describeReport struct {
	Seconds map[string]float64 `json:"seconds"`
	Total   float64            `json:"total"`
	Tags    int                `json:"tags"`
	PeakRSS int64              `json:"peak_rss_bytes"`
	// ModelMode is how the core model was built: full or incremental.
	ModelMode string `json:"model_mode"`
}

// describeAll runs the describe stages in order, through the pipeline's
// registry, and times each.
func describeAll(ctx context.Context, env *pipeline.Env, full bool) (*describeReport, error) {
	r := &describeReport{Seconds: map[string]float64{}}
	start := time.Now()
	env.Full = full
	cat, err := env.Catalog()
	if err != nil {
		return nil, err
	}
	r.Tags = len(cat.Tags)
	for _, stage := range []string{"model", "tags", "tiers", "view"} {
		res, err := pipeline.Run(ctx, env, stage)
		r.Seconds[stage] = res.Seconds
		if err != nil {
			return nil, err
		}
		if s, ok := res.Summary.(*core.Summary); ok {
			r.ModelMode = s.Mode
		}
	}
	r.Total = time.Since(start).Seconds()
	return r, nil
}

// childDescribe runs describeAll in a child process.
func childDescribe(ctx context.Context, cfgPath string, full bool) (*describeReport, error) {
	var r describeReport
	if err := runChild(ctx, &r, "bench", "unify", "describe-project", cfgPath, "--log-level", "warn", fmt.Sprintf("--full=%t", full)); err != nil {
		return nil, err
	}
	return &r, nil
}

// holdBack moves the feed files of business day out of dir/feeds (into
// dir/held), as if that day had not arrived yet; deliver moves them back.
// Each move is written to dir/held/.moves before it is made, so that files
// a run cut short left held (killed before it delivered them) are moved
// back first, by the next holdBack, rather than missing from the feeds.
func holdBack(dir string, day time.Time) (deliver func() error, err error) {
	held := filepath.Join(dir, "held")
	manifest := filepath.Join(held, ".moves")
	if err := restoreHeld(manifest); err != nil {
		return nil, fmt.Errorf("the files a run cut short held back: %w", err)
	}
	compact, iso := day.Format("20060102"), day.Format(time.DateOnly)
	var moved [][2]string
	var log *os.File
	err = filepath.Walk(filepath.Join(dir, "feeds"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		// The day is matched in the path below the feeds folder only: the
		// folder above it may hold any date.
		if rel := strings.TrimPrefix(path, dir); !(strings.Contains(rel, compact) || strings.Contains(rel, iso)) {
			return nil
		}
		dst := filepath.Join(held, strings.ReplaceAll(strings.TrimPrefix(path, dir), string(os.PathSeparator), "_"))
		if log == nil {
			if err := os.MkdirAll(held, 0o755); err != nil {
				return err
			}
			if log, err = os.Create(manifest); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(log, "%s\t%s\n", dst, path); err != nil {
			return err
		}
		if err := log.Sync(); err != nil {
			return err
		}
		moved = append(moved, [2]string{dst, path})
		return os.Rename(path, dst)
	})
	if log != nil {
		if cerr := log.Close(); err == nil {
			err = cerr
		}
	}
	return func() error {
		for _, m := range moved {
			if err := os.Rename(m[0], m[1]); err != nil {
				return fmt.Errorf("deliver %s: %w", m[1], err)
			}
		}
		if err := os.Remove(manifest); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}, err
}

// restoreHeld moves back the files a manifest of held files lists (those
// still held), then removes it.
func restoreHeld(manifest string) error {
	b, err := os.ReadFile(manifest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		dst, src, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
			continue // never moved, or moved back
		}
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			return err
		}
		if err := os.Rename(dst, src); err != nil {
			return err
		}
	}
	return os.Remove(manifest)
}
