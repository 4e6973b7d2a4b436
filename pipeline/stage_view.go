package pipeline

import (
	"context"

	"cdp/transforms/view"
)

// viewStage rebuilds mart.customer_360 and queues the changed profile
// summaries (view.Build), with ID numbers and mobiles only when the PII
// policy lets them into events.
type viewStage struct{}

func (viewStage) Run(ctx context.Context, env *Env) (Result, error) {
	s, err := view.Build(ctx, env.W, view.Options{Logger: env.Log(), AllowPII: env.PII().InEvents})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: int64(s.Parties), AsOf: s.AsOf, Summary: s}, nil
}
