package pipeline

import (
	"context"
	"fmt"

	"cdp/transforms/identity"
)

// unifyStage decides which source customer records are the same party
// (identity.Unify), incrementally unless the Env asks for a full run.
type unifyStage struct{}

func (unifyStage) Run(ctx context.Context, env *Env) (Result, error) {
	// A customer entity a contract declares may not have loaded yet: its
	// (empty) table lets unification read it.
	for _, e := range env.Project.FeedContracts().Entities() {
		if e.Identity != nil {
			if err := env.W.EnsureRawTable(ctx, e); err != nil {
				return Result{}, fmt.Errorf("customer entity %s: %w", e.ID(), err)
			}
		}
	}
	s, err := identity.Unify(ctx, env.W, identity.Options{Config: env.Project.Identity, Full: env.Full, Logger: env.Log()})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: int64(s.Records), Summary: s}, nil
}
