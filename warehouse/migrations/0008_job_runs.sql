-- Run history of scheduled and manual jobs (schedules/, cdp serve, cdp run,
-- cdp backfill).

-- One row per attempt of a job. A fire of a job runs the jobs it depends on
-- first; every job of one fire shares its fire_id.
-- trigger: cron | catchup | manual | backfill.
-- status: running | success | failed | skipped | cancelled.
-- cancelled: the process stopped during the attempt (shutdown, or a crash:
-- rows left running are closed so at the next start); a cancelled cron fire
-- is caught up.
CREATE TABLE IF NOT EXISTS ops.job_runs (
    run_id         VARCHAR PRIMARY KEY,
    fire_id        VARCHAR NOT NULL,
    fired_job      VARCHAR NOT NULL,   -- the job the fire was for (job itself, or one depending on it)
    job            VARCHAR NOT NULL,
    trigger        VARCHAR NOT NULL,
    scheduled_at   TIMESTAMPTZ,        -- the cron time this fire stands for (NULL: by hand)
    business_date  DATE,               -- backfill date, or the as-of the run's stages reported
    started_at     TIMESTAMPTZ NOT NULL,
    ended_at       TIMESTAMPTZ,
    status         VARCHAR NOT NULL,
    attempt        INTEGER NOT NULL,   -- 1 for the first try
    rows           BIGINT,             -- rows written by its stages
    rejects        BIGINT,
    error          VARCHAR
);

-- Per-stage metrics of each attempt.
CREATE TABLE IF NOT EXISTS ops.job_stages (
    run_id      VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    seconds     DOUBLE NOT NULL,
    rows        BIGINT NOT NULL,
    rejects     BIGINT NOT NULL,
    status      VARCHAR NOT NULL,      -- success | failed
    error       VARCHAR,
    summary     JSON                   -- the stage's own summary
);
