-- Month-incremental contribution (cdp tiers). mart.contribution holds one
-- row per party and calendar month, and a month's rows read only that
-- month's inputs (and, for the month of the newest snapshot day, that
-- day). Each build keeps here what every input looked like per month —
-- the count of its rows and the sum of their hashes over the columns the
-- contribution reads — and the next build rebuilds only the months whose
-- print moved, and those from the month of the newest snapshot day on.
CREATE TABLE IF NOT EXISTS ops.contribution_prints (
    input VARCHAR NOT NULL,
    month DATE,
    n     BIGINT NOT NULL,
    print HUGEINT NOT NULL
);
-- The build the prints are of: its SQL with the prices filled in (a new
-- ftp_curve, fx_to_cny or cdp's own change rebuilds every month), its run
-- day and the count of rows it left in mart.contribution (a count that
-- moved, a table emptied or cut by hand, rebuilds every month).
CREATE TABLE IF NOT EXISTS ops.contribution_builds (
    sql_print VARCHAR NOT NULL,
    run_day   DATE,
    row_count BIGINT NOT NULL,
    mode      VARCHAR NOT NULL,
    months    INTEGER NOT NULL,
    built_at  TIMESTAMPTZ NOT NULL
);
