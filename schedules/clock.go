package schedules

import (
	"context"
	"time"
)

// Clock is the scheduler's time: what time it is, and a wait. The real one
// is the system clock; tests drive their own, so that cron times, catch-up
// and backoff are tested without waiting for them.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// tick is the cron clock. It waits for the earliest next cron time among
// the jobs, fires the jobs due then, and takes each one's next time from
// the moment it fired, as robfig/cron does: a process that was busy or
// stopped does not repeat the times it missed here (catch-up at start is
// what answers for those). It starts from the time catch-up ran up to, so
// a cron time between the two is neither lost nor fired twice. It returns
// when stop is closed or ctx is done.
func (s *Scheduler) tick(ctx context.Context, stop <-chan struct{}, from time.Time) {
	loc := s.p.Schedules.Location
	now := from.In(loc)
	next := map[string]time.Time{}
	for _, j := range s.p.Schedules.Jobs {
		if j.Schedule != nil {
			next[j.Name] = j.Schedule.Next(now)
		}
	}
	if len(next) == 0 {
		return
	}
	for {
		var earliest time.Time
		for _, t := range next {
			if earliest.IsZero() || t.Before(earliest) {
				earliest = t
			}
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-s.clock.After(earliest.Sub(s.clock.Now())):
		}
		now = s.clock.Now().In(loc)
		for _, j := range s.p.Schedules.Jobs { // in file order, for a stable order of fires
			if t, ok := next[j.Name]; ok && !t.After(now) {
				s.FireAsync(Fire{Job: j.Name, Trigger: TriggerCron, Scheduled: t})
				next[j.Name] = j.Schedule.Next(now)
			}
		}
	}
}
