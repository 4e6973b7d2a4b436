package schedules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"cdp/pii"
	"cdp/pipeline/config"
)

// Alert is the JSON body posted to schedules.alert.webhook when a job fails
// for good. It carries no customer data: the error's IDs and mobiles are
// masked (pii.Redact).
type Alert struct {
	Kind        string    `json:"kind"` // "job_failed" or "feed_late"
	Project     string    `json:"project"`
	Host        string    `json:"host"`
	Job         string    `json:"job,omitempty"`
	FiredJob    string    `json:"fired_job,omitempty"`
	FireID      string    `json:"fire_id,omitempty"`
	RunID       string    `json:"run_id,omitempty"`
	Trigger     string    `json:"trigger,omitempty"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	Attempts    int       `json:"attempts,omitempty"`
	// A late feed: the feed, the contract entity and the business day
	// whose file was due at Due and has not loaded.
	Feed        string    `json:"feed,omitempty"`
	Entity      string    `json:"entity,omitempty"`
	BusinessDay string    `json:"business_day,omitempty"`
	Due         time.Time `json:"due,omitzero"`
	Error       string    `json:"error"`
	At          time.Time `json:"at"`
}

// FeedLate raises the alert hook for a file that was due and has not
// loaded: logged (schedules.alert.log) and posted to the webhook.
func (s *Scheduler) FeedLate(ctx context.Context, feed, entity string, day, due time.Time, msg string) {
	host, _ := os.Hostname()
	a := Alert{Kind: "feed_late", Project: s.p.Path, Host: host, Feed: feed, Entity: entity,
		BusinessDay: day.Format("2006-01-02"), Due: due, Error: msg, At: s.clock.Now()}
	cfg := s.p.Schedules.Alert
	if *cfg.Log {
		s.log.Error("ALERT: feed late", "feed", feed, "entity", entity, "business_day", a.BusinessDay, "due", due, "detail", msg)
	}
	if cfg.Webhook == "" {
		return
	}
	if err := s.postAlert(context.WithoutCancel(ctx), cfg.Webhook, a); err != nil {
		s.log.Error("alert webhook failed", "feed", feed, "err", err)
	}
}

// alert raises the alert hook for a job that failed for good.
func (s *Scheduler) alert(ctx context.Context, j *config.Job, res *FireResult, last Run, err error) {
	s.o.Metrics.alerted(j.Name)
	host, _ := os.Hostname()
	a := Alert{Kind: "job_failed", Project: s.p.Path, Host: host, Job: j.Name, FiredJob: res.Fire.Job, FireID: res.FireID,
		RunID: last.RunID, Trigger: res.Fire.Trigger, ScheduledAt: res.Fire.Scheduled, Attempts: last.Attempt, Error: pii.Redact(err.Error()), At: time.Now()}
	cfg := s.p.Schedules.Alert
	if *cfg.Log {
		s.log.Error("ALERT: job failed for good", "job", j.Name, "attempts", last.Attempt, "fire_id", res.FireID, "run_id", last.RunID, "err", err)
	}
	if cfg.Webhook == "" {
		return
	}
	if werr := s.postAlert(context.WithoutCancel(ctx), cfg.Webhook, a); werr != nil {
		s.log.Error("alert webhook failed", "job", j.Name, "err", werr)
	}
}

func (s *Scheduler) postAlert(ctx context.Context, url string, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	var last error
	for try := 0; try < 3; try++ {
		if try > 0 {
			select {
			case <-s.clock.After(time.Duration(try) * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.o.HTTP.Do(req)
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return last
}

// Clock is the scheduler's clock (the system's, or a test's).
func (s *Scheduler) Clock() Clock { return s.clock }
