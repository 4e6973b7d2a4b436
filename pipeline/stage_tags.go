package pipeline

import (
	"context"

	"cdp/transforms/tags"
)

// tagsStage computes the project's tag catalog for every party as of the
// business date (tags.Run): mart.tags, their history and the day's changes.
type tagsStage struct{}

func (tagsStage) Run(ctx context.Context, env *Env) (Result, error) {
	cat, err := env.Catalog()
	if err != nil {
		return Result{}, err
	}
	s, err := tags.Run(ctx, env.W, cat, tags.RunOptions{AsOf: env.AsOf, Full: env.Full, AllowPII: env.PII().InEvents, Logger: env.Log()})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: s.Changes, AsOf: s.AsOf, Summary: s}, nil
}
