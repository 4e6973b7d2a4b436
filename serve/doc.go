// Package serve is cdp serve, the long-running daemon: it holds the
// warehouse (DuckDB lets one process open the file) and
//   - runs the jobs of schedules.jobs on their crons (cdp/schedules), with
//     their dependencies, retries, timeouts, overlap rules and catch-up;
//   - decides when to take snapshots and which to serve: after the start
//     and after every successful fire that wrote rows it publishes a
//     consistent read-only copy per role (analyst: the mart schema; full:
//     every schema, when an engineer user exists), made by the warehouse's
//     snapshot mechanism while no job writes;
//   - serves SQL over the Postgres wire protocol from those snapshots
//     (cdp/serve/pgserve), with logins whose passwords come from the
//     environment or a file, never from cdp.yaml;
//   - answers on serve.http: /healthz, /readyz, /metrics (Prometheus),
//     /status and POST /run/JOB;
//   - with publish.continuous, relays the outbox to Kafka after every fire
//     and at least every publish.interval, one relay at a time.
//
// Stopping (Ctrl-C, SIGTERM, a cancelled context) takes no new fires,
// cancels running jobs — each stage commits whole or not at all, so they are
// recorded as cancelled and caught up at the next start — and returns when
// they have stopped.
package serve
