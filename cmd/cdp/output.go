package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"cdp/pipeline/config"
	"cdp/warehouse"
)

// formatFlag adds --format text|json to cmd.
func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVar(format, "format", "text", "text | json")
}

// checkFormat rejects a --format other than text or json.
func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: want text or json", format)
	}
	return nil
}

// emit writes v as indented JSON when format is json, else with text.
func emit[T any](w io.Writer, format string, v T, text func(io.Writer, T)) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w, v)
	return nil
}

// stageCmd builds a command that opens the project, runs one stage over its
// warehouse and prints the stage's summary as text or JSON (--format).
func stageCmd[T any](g *globals, cmd *cobra.Command, run func(context.Context, *config.Project, *warehouse.Warehouse) (T, error), text func(io.Writer, T)) *cobra.Command {
	var format string
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if err := checkFormat(format); err != nil {
			return err
		}
		p, w, err := g.openProject(c.Context())
		if err != nil {
			return err
		}
		defer w.Close()
		sum, err := run(c.Context(), p, w)
		if err != nil {
			return err
		}
		return emit(c.OutOrStdout(), format, sum, text)
	}
	formatFlag(cmd, &format)
	return cmd
}

// peakRSS reads the process's peak resident set size (VmHWM) on Linux; 0
// elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
