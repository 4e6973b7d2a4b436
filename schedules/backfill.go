package schedules

import (
	"context"
	"fmt"
	"time"
)

// Backfill policies for business dates a job already succeeded for.
const (
	BackfillSkip  = "skip"
	BackfillRerun = "rerun"
)

// BackfillDate is what backfill did for one business date.
type BackfillDate struct {
	Date   string      `json:"date"`
	Action string      `json:"action"` // ran | skipped (already done) | not run (an earlier date failed)
	Result *FireResult `json:"-"`
	Status string      `json:"status,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// Backfill fires job once per business date from..to (inclusive, oldest
// first), the dated stages running as of that date. Dates the job already
// succeeded for are skipped or rerun per policy. It stops at the first date
// that fails: later dates would build on a hole.
func (s *Scheduler) Backfill(ctx context.Context, job string, from, to time.Time, policy string) ([]BackfillDate, error) {
	if policy != BackfillSkip && policy != BackfillRerun {
		return nil, fmt.Errorf("backfill policy %q: want skip or rerun", policy)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("backfill from %s to %s: the range is empty (from is after to)", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	if _, err := s.p.Schedules.Job(job); err != nil {
		return nil, err
	}
	done, err := doneDates(ctx, s.w.DB(), job)
	if err != nil {
		return nil, err
	}
	var out []BackfillDate
	failed := false
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		switch {
		case failed:
			out = append(out, BackfillDate{Date: day, Action: "not run", Error: "an earlier date failed"})
			continue
		case done[day] && policy == BackfillSkip:
			s.log.Info("backfill: date already done, skipped (policy skip)", "job", job, "date", day)
			out = append(out, BackfillDate{Date: day, Action: "skipped"})
			continue
		}
		s.log.Info("backfill", "job", job, "date", day)
		res := s.Fire(ctx, Fire{Job: job, Trigger: TriggerBackfill, BusinessDate: d})
		bd := BackfillDate{Date: day, Action: "ran", Result: res, Status: res.Status}
		if res.Err != nil {
			bd.Error = res.Err.Error()
		}
		if res.Status != StatusSuccess {
			failed = true
		}
		out = append(out, bd)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	if failed {
		return out, fmt.Errorf("backfill of %s failed; fix the cause and run it again (dates already done are skipped)", job)
	}
	return out, nil
}
