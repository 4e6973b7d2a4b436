// Package schedules runs the pipeline's jobs, and nothing else: on cron
// schedules (specs parsed by robfig/cron v3, fired by the scheduler's own
// clock, which tests replace) in the daemon, by hand (cdp run) and over a
// range of business dates (cdp backfill), with run history in ops.job_runs
// and per-stage metrics in ops.job_stages. Stages run through the
// pipeline's registry; the scheduler knows no stage.
//
// Guarantees:
//   - A fire of a job runs the jobs it depends on first, in dependency order,
//     each to success before the next starts; when one fails for good, the
//     jobs after it are recorded as skipped, never run on stale inputs.
//   - One job writes the warehouse at a time (DuckDB has one writer per file
//     and stages rebuild shared tables); fires of different jobs queue.
//   - A fire of a job that is still running, alone or as a dependency of
//     another fire, is skipped (overlap: skip, and recorded so) or waits for
//     it, at most one waiting (overlap: delay).
//   - A failed attempt is retried after a backoff that doubles up to
//     max_backoff; an attempt longer than timeout is cancelled and failed.
//     When every retry is used the alert hook fires: an ERROR log line and/or
//     a JSON POST to the webhook.
//   - Fires missed while the daemon was down are caught up at start by each
//     job's policy: none, latest (only the newest missed fire; the default)
//     or all (each, oldest first). A job never fired before has missed
//     nothing.
//   - Every attempt is a row in ops.job_runs, written before it starts and
//     closed when it ends. Stopping cancels running attempts (cancelled, no
//     alert); rows a dead daemon left "running" are closed as cancelled at
//     the next start; a cancelled cron fire counts as missed and is caught
//     up by its policy.
//   - A panicking stage fails its job; the process stays up.
package schedules
