package pipeline

import (
	"context"

	"cdp/transforms/tiers"
)

// tiersStage scores and tiers every party (tiers.BuildWith): mart.value_tier,
// after mart.contribution (every month with env.Full).
type tiersStage struct{}

func (tiersStage) Run(ctx context.Context, env *Env) (Result, error) {
	s, err := tiers.BuildWith(ctx, env.W, env.Project.Tiers, tiers.Options{Full: env.Full, Logger: env.Log()})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: int64(s.Parties), AsOf: s.AsOf, Summary: s}, nil
}
