package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/transforms/identity"
)

func newBenchUnifyCmd(g *globals) *cobra.Command {
	var records int
	var data string
	cmd := &cobra.Command{
		Use:   "unify",
		Short: "Identity unification at scale: a full run, then one incremental day, timed, with peak RSS and accuracy",
		Long: `Generates a bank of about --records source customer records over two
days (or reuses --data), ingests the first day and runs a full unify in a
child process, then delivers the second day, ingests it and runs the
incremental unify the same way. Reports wall time and peak RSS of each
unify, the incremental run as a fraction of the full one, and pairwise
precision and recall against the generator's ground truth.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchUnify(cmd.Context(), g, cmd.OutOrStdout(), records, data)
		},
	}
	child := &cobra.Command{
		Use: "unify-project CONFIG", Hidden: true, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.config = args[0]
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			s, err := identity.Unify(cmd.Context(), w, identity.Options{Config: p.Identity, Logger: g.logger})
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(childReport{Summary: s, PeakRSS: peakRSS()})
		},
	}
	cmd.AddCommand(child)
	cmd.Flags().IntVar(&records, "records", 1_000_000, "source customer records to unify (about 2.3 per party)")
	cmd.Flags().StringVar(&data, "data", "", "project folder to generate into or reuse (default: a temp folder, removed after)")
	return cmd
}

func benchUnify(ctx context.Context, g *globals, out io.Writer, records int, dir string) error {
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
		parties := records * 100 / 231 // the generator writes ~2.31 customer records per party
		t0 := time.Now()
		if _, err := synthbank.Generate(ctx, synthbank.Options{Out: dir, Parties: parties, Days: 2, Seed: 1, End: end}); err != nil {
			return err
		}
		fmt.Fprintf(out, "generated %d parties × 2 days in %.1fs\n", parties, time.Since(t0).Seconds())
		yaml := "warehouse: {path: warehouse.duckdb}\nfeeds:\n"
		for _, f := range []string{"credit", "wealth", "card", "ebank"} {
			yaml += fmt.Sprintf("  - {name: %s, path: feeds/%s}\n", f, f)
		}
		if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
			return err
		}
	}
	p, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	os.Remove(p.WarehousePath())

	// Hold the second day back.
	held := filepath.Join(dir, "held")
	var moved [][2]string
	err = filepath.Walk(filepath.Join(dir, "feeds"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !(strings.Contains(path, "20261120") || strings.Contains(path, "2026-11-20")) {
			return err
		}
		dst := filepath.Join(held, strings.ReplaceAll(strings.TrimPrefix(path, dir), string(os.PathSeparator), "_"))
		os.MkdirAll(held, 0o755)
		moved = append(moved, [2]string{dst, path})
		return os.Rename(path, dst)
	})
	if err != nil {
		return err
	}
	ingest := func() error {
		w, err := openWarehouse(ctx, p)
		if err != nil {
			return err
		}
		defer w.Close()
		_, err = pipeline.Ingest(ctx, p, w, pipeline.IngestOptions{Logger: g.logger})
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
	for _, m := range moved {
		if err := os.Rename(m[0], m[1]); err != nil {
			return err
		}
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
	fmt.Fprintf(out, "against the ground truth: pairwise precision %.4f recall %.4f F1 %.4f; B-cubed F1 %.4f (%d records)\n",
		ev.Pairwise.Precision, ev.Pairwise.Recall, ev.Pairwise.F1, ev.BCubed.F1, ev.Records)
	return nil
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
	exe, err := os.Executable()
	if err != nil {
		return nil, 0, 0, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "unify", "unify-project", cfgPath, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	b, err := cmd.Output()
	sec := time.Since(t0).Seconds()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("child unify: %w", err)
	}
	var r childReport
	if err := json.Unmarshal(b, &r); err != nil || r.Summary == nil {
		return nil, 0, 0, fmt.Errorf("child unify output %q: %v", b, err)
	}
	return r.Summary, r.PeakRSS, sec, nil
}
