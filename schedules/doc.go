// Package schedules will run the pipeline's jobs on cron schedules
// (robfig/cron v3): dependencies, retries, no overlap, catch-up and
// backfill, with run history in ops.job_runs.
//
// It is empty until the scheduling stage lands (see the project issues); the
// folder exists so the layout the design names is in place from the start.
package schedules
