package pipeline

import (
	"context"

	"cdp/transforms/signals"
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
	return Result{Rows: int64(s.Events), AsOf: s.AsOf, Summary: s}, nil
}
