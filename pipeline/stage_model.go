package pipeline

import (
	"context"
	"fmt"

	"cdp/transforms/core"
)

// modelStage brings the core model up to date with raw.* and the parties
// (core.Build), incrementally unless the Env asks for a full build.
type modelStage struct{}

func (modelStage) Run(ctx context.Context, env *Env) (Result, error) {
	// The model reads every raw table: one a contract declares but no file
	// has loaded into yet is created empty, and one a newer contract
	// version added columns to gains them (as a load would), so a
	// warehouse from an older cdp builds before its next load.
	for _, e := range env.Project.FeedContracts().Entities() {
		if err := env.W.EnsureRawTable(ctx, e); err != nil {
			return Result{}, fmt.Errorf("entity %s: %w", e.ID(), err)
		}
	}
	s, err := core.BuildWith(ctx, env.W, core.Options{Full: env.Full, Logger: env.Log(), SystemOfRecord: env.Project.SystemsOfRecord()})
	if err != nil {
		return Result{}, err
	}
	var rows int64
	for _, t := range s.Tables {
		rows += t.Rows
	}
	return Result{Rows: rows, Summary: s}, nil
}
