package schedules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/warehouse"
)

// Run is one row of ops.job_runs.
type Run struct {
	RunID        string    `json:"run_id"`
	FireID       string    `json:"fire_id"`
	FiredJob     string    `json:"fired_job"`
	Job          string    `json:"job"`
	Trigger      string    `json:"trigger"`
	ScheduledAt  time.Time `json:"scheduled_at,omitzero"`
	BusinessDate string    `json:"business_date,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	EndedAt      time.Time `json:"ended_at,omitzero"`
	Status       string    `json:"status"`
	Attempt      int       `json:"attempt"`
	Rows         int64     `json:"rows"`
	Rejects      int64     `json:"rejects"`
	Error        string    `json:"error,omitempty"`
}

// Seconds is how long the attempt took (so far, when still running).
func (r Run) Seconds() float64 {
	end := r.EndedAt
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(r.StartedAt).Seconds()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// record writes or rewrites the row of r. It uses its own context: the
// outcome of a cancelled attempt must still be written.
func record(db *sql.DB, r *Run) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx, `INSERT OR REPLACE INTO ops.job_runs
		(run_id, fire_id, fired_job, job, trigger, scheduled_at, business_date, started_at, ended_at, status, attempt, rows, rejects, error)
		VALUES (?, ?, ?, ?, ?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?)`,
		r.RunID, r.FireID, r.FiredJob, r.Job, r.Trigger, nullTime(r.ScheduledAt), warehouse.NullString(r.BusinessDate), r.StartedAt,
		nullTime(r.EndedAt), r.Status, r.Attempt, r.Rows, r.Rejects, warehouse.NullString(r.Error))
	if err != nil {
		return fmt.Errorf("ops.job_runs: recording %s of job %s: %w", r.RunID, r.Job, err)
	}
	return nil
}

// recordStage writes one stage's metrics.
func recordStage(db *sql.DB, runID string, started time.Time, res pipeline.Result, stageErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, msg := "success", ""
	if stageErr != nil {
		status, msg = "failed", stageErr.Error()
	}
	var summary any
	if res.Summary != nil {
		kept := res.Summary
		if b, ok := kept.(interface{ Brief() any }); ok {
			kept = b.Brief() // what is worth keeping of a long summary
		}
		b, err := json.Marshal(kept)
		if err == nil {
			summary = string(b)
		}
	}
	_, err := db.ExecContext(ctx, `INSERT INTO ops.job_stages (run_id, stage, started_at, seconds, rows, rejects, status, error, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, runID, res.Stage, started, res.Seconds, res.Rows, res.Rejects, status, warehouse.NullString(msg), summary)
	if err != nil {
		return fmt.Errorf("ops.job_stages: recording stage %s of %s: %w", res.Stage, runID, err)
	}
	return nil
}

// closeStale marks attempts a dead process left running as failed.
func closeStale(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE ops.job_runs SET status = 'cancelled', ended_at = now(),
		error = 'the process running it stopped before it finished (closed at the next start)' WHERE status = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("ops.job_runs: closing runs left running: %w", err)
	}
	return res.RowsAffected()
}

const runColumns = `run_id, fire_id, fired_job, job, trigger, scheduled_at, coalesce(CAST(business_date AS VARCHAR), ''), started_at, ended_at,
	status, attempt, coalesce(rows, 0), coalesce(rejects, 0), coalesce(error, '')`

// LastRuns returns the newest limit rows of ops.job_runs, newest first.
func LastRuns(ctx context.Context, db *sql.DB, limit int) ([]Run, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+runColumns+` FROM ops.job_runs ORDER BY started_at DESC, run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("ops.job_runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var sched, ended sql.NullTime
		if err := rows.Scan(&r.RunID, &r.FireID, &r.FiredJob, &r.Job, &r.Trigger, &sched, &r.BusinessDate, &r.StartedAt, &ended,
			&r.Status, &r.Attempt, &r.Rows, &r.Rejects, &r.Error); err != nil {
			return nil, fmt.Errorf("ops.job_runs: %w", err)
		}
		r.ScheduledAt, r.EndedAt = sched.Time, ended.Time
		out = append(out, r)
	}
	return out, rows.Err()
}

// lastScheduled is the newest cron time job was fired for (by cron or
// catch-up) and not cancelled, or zero: a fire the process stopped during
// counts as missed.
func lastScheduled(ctx context.Context, db *sql.DB, job string) (time.Time, error) {
	var t sql.NullTime
	err := db.QueryRowContext(ctx, `SELECT max(scheduled_at) FROM ops.job_runs
		WHERE fired_job = ? AND trigger IN ('cron', 'catchup') AND status <> 'cancelled'`, job).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("ops.job_runs: last fire of %s: %w", job, err)
	}
	return t.Time, nil
}

// doneDates are the business dates job succeeded for.
func doneDates(ctx context.Context, db *sql.DB, job string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT CAST(business_date AS VARCHAR) FROM ops.job_runs
		WHERE job = ? AND status = 'success' AND business_date IS NOT NULL`, job)
	if err != nil {
		return nil, fmt.Errorf("ops.job_runs: dates done by %s: %w", job, err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		done[d] = true
	}
	return done, rows.Err()
}

// Status is what `cdp status` and the daemon's /status show about jobs.
type Status struct {
	At      time.Time  `json:"at"`
	Daemon  bool       `json:"daemon"` // read from a running cdp serve
	Running []string   `json:"running"`
	Next    []NextFire `json:"next"`
	Runs    []Run      `json:"runs"` // newest first
}

// ReadStatus reads the last runs and computes the next fire times.
func ReadStatus(ctx context.Context, db *sql.DB, p *config.Project, running []string, runs int) (*Status, error) {
	last, err := LastRuns(ctx, db, runs)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &Status{At: now, Running: running, Next: NextFires(p, now), Runs: last}, nil
}
