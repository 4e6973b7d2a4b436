package pipeline

import (
	"context"
	"fmt"
)

// ingestStage loads what is new in the feeds into raw.*: files by md5,
// streams from their checkpoint (Ingest).
type ingestStage struct{}

func (ingestStage) Run(ctx context.Context, env *Env) (Result, error) {
	rep, err := Ingest(ctx, env.Project.Project, env.W, IngestOptions{Feeds: env.Feeds, Logger: env.Log(),
		Progress: env.Reporter(), Brokers: env.Brokers})
	if rep == nil {
		return Result{}, err
	}
	_, loaded, rejected, _ := rep.Totals()
	return Result{Rows: loaded, Rejects: rejected, Summary: rep}, err
}

// Brief is the part of an ingest report worth keeping in run history.
func (r *IngestReport) Brief() any {
	b := map[string]any{"run_id": r.RunID}
	for _, s := range []string{"loaded", "unchanged", "pending", "failed"} {
		b[s] = r.Count(s)
	}
	var failed []string
	for _, u := range r.Failed() {
		failed = append(failed, fmt.Sprintf("%s: %v", u.Source, u.Err))
	}
	if failed != nil {
		b["failures"] = failed
	}
	return b
}
