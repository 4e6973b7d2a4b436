package pipeline

import (
	"context"

	"cdp/transforms/core"
)

// modelStage brings the core model up to date with raw.* and the parties
// (core.Build), incrementally unless the Env asks for a full build.
type modelStage struct{}

func (modelStage) Run(ctx context.Context, env *Env) (Result, error) {
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
