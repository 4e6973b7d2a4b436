package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/warehouse"
)

func newGenCmd(g *globals) *cobra.Command {
	var o synthbank.Options
	var end, brokers, topic string
	cmd := &cobra.Command{
		Use:   "gen --out DIR",
		Short: "Generate a synthetic bank: the seven built-in feeds per their contracts, plus ground truth",
		Long: `Generate a deterministic synthetic bank into DIR/feeds (credit GBK CSV, wealth
Parquet, card pipe-delimited, ebank JSON lines, core banking fixed-width GBK,
the contact center's and CRM's files, the vendors' external data — statements,
public opinion, industry indices — each with .ok control files)
and its ground truth into DIR/truth (source key → true party, planted
behaviours and cases, deliberately damaged rows), which the pipeline never
reads.

With --kafka, the e-banking events of the last --stream-days days are also
produced to the topic (with at-least-once redeliveries); the archive files
hold every day but the last.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			t, err := time.ParseInLocation("2006-01-02", end, time.FixedZone("CST", 8*3600))
			if err != nil {
				return fmt.Errorf("--end %q: want YYYY-MM-DD", end)
			}
			o.End = t
			if brokers == "" {
				o.StreamDays = 0
			}
			prog := pipeline.TerminalProgress(os.Stderr)
			o.Progress = genProgress(prog)
			started := time.Now()
			sum, err := generateBank(cmd.Context(), o)
			prog.Done()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generated %d parties × %d days in %.1fs: %d files, %.1f MB, %d bad rows planted, ground truth in %s/truth\n",
				sum.Parties, o.Days, time.Since(started).Seconds(), sum.Files, float64(sum.Bytes)/1e6, sum.BadRows, o.Out)
			if brokers != "" {
				if err := synthbank.Produce(cmd.Context(), splitList(brokers), topic, sum.StreamEvents); err != nil {
					return fmt.Errorf("produce to %s: %w", topic, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "produced %d e-banking events to %s on %s\n", len(sum.StreamEvents), topic, brokers)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", "", "output folder (feeds/ and truth/ are created in it)")
	f.IntVar(&o.Parties, "parties", 20000, "real-world parties (persons and companies)")
	f.IntVar(&o.Days, "days", 7, "business days delivered")
	f.Int64Var(&o.Seed, "seed", 1, "random seed; the same seed gives the same bytes")
	f.StringVar(&end, "end", "2026-11-20", "last business date (YYYY-MM-DD)")
	f.Float64Var(&o.BadRowRate, "bad-rows", 0.0005, "share of data rows deliberately damaged (0 = none)")
	f.IntVar(&o.HistoryMonths, "history-months", synthbank.DefaultHistoryMonths, "months of core banking's monthly summary (月日均) before the first day, for the 12-month key-account criteria (0 = none)")
	f.Float64Var(&o.Activity, "activity", 0, fmt.Sprintf("share of the parties acting on a business day (card purchases, e-banking, discretionary trades, payments); planted parties always act. 0 = every party every day, against which the planted behaviours of the window's last days stand out; %g is a quiet bank's day, what cdp bench dag measures", synthbank.DefaultActivity))
	f.StringVar(&brokers, "kafka", "", "also produce e-banking events to these brokers (host:port,...)")
	f.StringVar(&topic, "topic", "ebank.events", "topic for --kafka")
	f.IntVar(&o.StreamDays, "stream-days", 2, "with --kafka: days of events produced to the topic")
	return cmd
}

func genProgress(p pipeline.Progress) func(stage string, done, total int) {
	current := ""
	return func(stage string, done, total int) {
		if stage != current {
			if current != "" {
				p.Done()
			}
			current = stage
			p.Start("gen "+stage, int64(total))
		}
		p.Set(int64(done))
	}
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// generateBank writes a synthetic bank as cdp gen does, from every command
// that makes one: the bank is built in memory, so while it is the Go heap
// keeps to the process's budget (60% of the machine's memory), collecting
// more often and running fewer systems' writers at once rather than
// growing past it. A soft limit already set (cdp demo's) is kept; the
// memory is handed back once the bank is written.
func generateBank(ctx context.Context, o synthbank.Options) (*synthbank.Summary, error) {
	if was := debug.SetMemoryLimit(-1); was == math.MaxInt64 {
		budget, err := warehouse.MemoryBudget("")
		if err != nil {
			return nil, err
		}
		debug.SetMemoryLimit(budget.Total)
		defer debug.SetMemoryLimit(was)
	}
	sum, err := synthbank.Generate(ctx, o)
	// The bank's world is garbage now: its memory goes back to the
	// machine before what follows (a benchmark's stages run beside this
	// process, which held 14 GiB after a 5M-party bank otherwise).
	debug.FreeOSMemory()
	return sum, err
}
