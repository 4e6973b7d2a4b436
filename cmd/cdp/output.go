package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"cdp/pipeline"
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

// projectCmd builds a command that opens the project, runs over its
// warehouse and prints what it returns as text or JSON (--format).
func projectCmd[T any](g *globals, cmd *cobra.Command, run func(context.Context, *pipeline.Project, *warehouse.Warehouse) (T, error), text func(io.Writer, T)) *cobra.Command {
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

// stageCmd builds the command of one stage: it opens the project, runs the
// stage through the pipeline's registry (configure sets what the flags ask
// for on the Env) and prints the stage's summary as text or JSON.
func stageCmd[T any](g *globals, cmd *cobra.Command, stage string, configure func(*pipeline.Env) error, text func(io.Writer, T)) *cobra.Command {
	return projectCmd(g, cmd, func(ctx context.Context, p *pipeline.Project, w *warehouse.Warehouse) (T, error) {
		var zero T
		env := g.env(p, w)
		if configure != nil {
			if err := configure(env); err != nil {
				return zero, err
			}
		}
		res, err := pipeline.Run(ctx, env, stage)
		if err != nil {
			return zero, err
		}
		sum, ok := res.Summary.(T)
		if !ok {
			return zero, fmt.Errorf("stage %s summed up as %T, not %T", stage, res.Summary, zero)
		}
		return sum, nil
	}, text)
}

// writeOut runs write on standard output, or on the file out names when it
// is set; a file that cannot be written or closed is an error naming it.
func writeOut(cmd *cobra.Command, out string, write func(io.Writer) error) error {
	if out == "" {
		return write(cmd.OutOrStdout())
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	return nil
}
