package pipeline

import (
	"context"
	"fmt"

	"cdp/transforms/signals"
	"cdp/transforms/view"
)

// signalsStage evaluates the project's signal rules as of the business date
// and moves signals through their lifecycle (signals.Run).
type signalsStage struct{}

func (signalsStage) Run(ctx context.Context, env *Env) (Result, error) {
	rules, err := env.Rules()
	if err != nil {
		return Result{}, err
	}
	s, err := signals.Run(ctx, env.W, rules, env.Project.Signals, signals.RunOptions{AsOf: env.AsOf, Logger: env.Log(),
		AllowPII: env.PII().InEvents})
	if err != nil {
		return Result{}, err
	}
	// The 360 and cdp.profile carry each party's open signals: those that
	// moved in this run go out now, not with tomorrow's view.
	if _, err := view.RefreshSignals(ctx, env.W, view.Options{Logger: env.Log(), AllowPII: env.PII().InEvents}); err != nil {
		return Result{}, fmt.Errorf("open signals in the 360: %w", err)
	}
	return Result{Rows: int64(s.Events), AsOf: s.AsOf, Summary: s}, nil
}
