// Command cdp is the bank customer data platform pipeline: it lands the
// credit, wealth, card, e-banking and core banking feeds (and a bank's own,
// declared in YAML) in a DuckDB warehouse, and runs
// every later stage from the same binary.
//
// Every command reads the project file given by --config (default
// ./cdp.yaml). `cdp demo` builds a complete example project with no setup.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"cdp/pii"
	"cdp/pipeline"
)

type globals struct {
	config    string
	logLevel  string
	logFormat string
	logger    *slog.Logger
	cpuProf   string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot(&globals{}).ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "cdp:", pii.Redact(err.Error())) // errors quote values: IDs and mobiles masked, as in the logs
	switch {
	case errors.Is(err, pipeline.ErrUnitsFailed), errors.Is(err, errJobFailed):
		os.Exit(3)
	case errors.Is(err, context.Canceled):
		os.Exit(130)
	}
	os.Exit(1)
}

// newRoot builds the command tree.
func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "cdp",
		Short:         "The bank customer data platform pipeline: feeds → DuckDB warehouse → Kafka",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.cpuProf != "" {
				f, err := os.Create(g.cpuProf)
				if err != nil {
					return err
				}
				pprof.StartCPUProfile(f)
			}
			return g.setupLogging()
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			if g.cpuProf != "" {
				pprof.StopCPUProfile()
			}
		},
	}
	root.PersistentFlags().StringVar(&g.cpuProf, "cpuprofile", "", "write a Go CPU profile here (for developers)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&g.config, "config", "cdp.yaml", "project file")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "debug | info | warn | error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "text | json (structured logs go to stderr)")
	root.AddCommand(
		newInitCmd(g), newGenCmd(g), newIngestCmd(g), newSQLCmd(g), newStatusCmd(g),
		newDemoCmd(g), newBenchCmd(g), newLinkCmd(g), newUnifyCmd(g), newModelCmd(g), newTagsCmd(g), newTiersCmd(g), newViewCmd(g), newProfileCmd(g),
		newSignalsCmd(g), newPublishCmd(g), newOutboxCmd(g), newRunCmd(g), newBackfillCmd(g), newServeCmd(g), newExportCmd(g),
		newContractCmd(g), newDocsCmd(g),
	)
	return root
}

func (g *globals) setupLogging() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch g.logFormat {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", g.logFormat)
	}
	g.logger = slog.New(pii.LogHandler(h)) // no ID number or mobile reaches a log line
	slog.SetDefault(g.logger)
	return nil
}
