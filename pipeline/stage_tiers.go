package pipeline

import (
	"context"

	"cdp/transforms/tiers"
)

// tiersStage scores and tiers every party (tiers.Build): mart.value_tier.
type tiersStage struct{}

func (tiersStage) Run(ctx context.Context, env *Env) (Result, error) {
	s, err := tiers.Build(ctx, env.W, env.Project.Tiers, env.Log())
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: int64(s.Parties), AsOf: s.AsOf, Summary: s}, nil
}
