package pipeline

import (
	"context"

	"cdp/transforms/identity"
)

// unifyStage decides which source customer records are the same party
// (identity.Unify), incrementally unless the Env asks for a full run.
type unifyStage struct{}

func (unifyStage) Run(ctx context.Context, env *Env) (Result, error) {
	s, err := identity.Unify(ctx, env.W, identity.Options{Config: env.Project.Identity, Full: env.Full, Logger: env.Log()})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: int64(s.Records), Summary: s}, nil
}
