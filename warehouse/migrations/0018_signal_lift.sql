-- Lift: what each rule adds, from its holdout group. mart.signal_rules is
-- the rule set of the last signal run (written by it); the views compare
-- the customers a rule reached with those it held out.
CREATE TABLE IF NOT EXISTS mart.signal_rules (
    rule_id         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    name_zh         VARCHAR,
    name_en         VARCHAR,
    product         VARCHAR,
    holdout_share   DOUBLE NOT NULL,   -- of the hits the contact policy lets through
    conversion_days INTEGER NOT NULL   -- a conversion counts this many days after the signal or the holdout
);

-- One row per observation: each signal a rule with a holdout group opened
-- (treated), and each customer it held out (holdout, from the first time),
-- and whether the customer took the rule's product within conversion_days:
-- an outcome CONVERTED of the product, whether it answers the signal or not
-- (customers also buy unprompted).
CREATE OR REPLACE VIEW mart.signal_lift_observations AS
WITH obs AS (
    SELECT s.rule_id, 'treated' AS grp, s.party_id, s.opened_on AS since, coalesce(s.product, r.product) AS product, r.conversion_days
    FROM mart.signals s JOIN mart.signal_rules r USING (rule_id) WHERE r.holdout_share > 0
    UNION ALL
    SELECT d.rule_id, 'holdout', d.party_id, min(d.as_of), any_value(r.product), any_value(r.conversion_days)
    FROM mart.signal_decisions d JOIN mart.signal_rules r USING (rule_id) WHERE d.decision = 'holdout'
    GROUP BY d.rule_id, d.party_id
), conv AS (
    SELECT o.party_id, coalesce(o.product, s.product) AS product, CAST(o.outcome_time AS DATE) AS day, o.amount
    FROM core.outcome o LEFT JOIN mart.signals s USING (signal_id)
    WHERE o.status = 'CONVERTED' AND o.party_id IS NOT NULL
)
SELECT b.rule_id, b.grp, b.party_id, b.since,
       count(c.day) > 0 AS converted, coalesce(sum(c.amount), 0) AS converted_amount
FROM obs b LEFT JOIN conv c ON c.party_id = b.party_id AND c.product = b.product
     AND c.day >= b.since AND c.day <= b.since + b.conversion_days
GROUP BY ALL;

-- mart.signal_lift: per rule, the conversion of the treated and of the
-- holdout, the difference (the lift) with its 95% interval — Newcombe's
-- hybrid score interval from each rate's Wilson interval, as cdp signals
-- lift computes it (docs/signals.md) — and the incremental conversions and
-- value it stands for.
CREATE OR REPLACE VIEW mart.signal_lift AS
WITH g AS (
    SELECT rule_id,
           count(*) FILTER (grp = 'treated') AS treated, count(*) FILTER (grp = 'treated' AND converted) AS treated_converted,
           count(*) FILTER (grp = 'holdout') AS holdout, count(*) FILTER (grp = 'holdout' AND converted) AS holdout_converted,
           sum(converted_amount) FILTER (grp = 'treated' AND converted) AS treated_amount
    FROM mart.signal_lift_observations GROUP BY rule_id
), r AS (
    SELECT *, treated_converted / treated AS p_t, holdout_converted / holdout AS p_h, 1.959964 AS z
    FROM g WHERE treated > 0 AND holdout > 0
), w AS (
    SELECT *,
           (p_t + z * z / (2 * treated)) / (1 + z * z / treated) - z * sqrt(p_t * (1 - p_t) / treated + z * z / (4 * treated * treated)) / (1 + z * z / treated) AS l_t,
           (p_t + z * z / (2 * treated)) / (1 + z * z / treated) + z * sqrt(p_t * (1 - p_t) / treated + z * z / (4 * treated * treated)) / (1 + z * z / treated) AS u_t,
           (p_h + z * z / (2 * holdout)) / (1 + z * z / holdout) - z * sqrt(p_h * (1 - p_h) / holdout + z * z / (4 * holdout * holdout)) / (1 + z * z / holdout) AS l_h,
           (p_h + z * z / (2 * holdout)) / (1 + z * z / holdout) + z * sqrt(p_h * (1 - p_h) / holdout + z * z / (4 * holdout * holdout)) / (1 + z * z / holdout) AS u_h
    FROM r
)
SELECT rule_id, treated, treated_converted, round(p_t, 4) AS treated_rate,
       holdout, holdout_converted, round(p_h, 4) AS holdout_rate,
       round(p_t - p_h, 4) AS lift,
       round(p_t - p_h - sqrt((p_t - l_t) ** 2 + (u_h - p_h) ** 2), 4) AS lift_low,
       round(p_t - p_h + sqrt((u_t - p_t) ** 2 + (p_h - l_h) ** 2), 4) AS lift_high,
       round((p_t - p_h) * treated, 1) AS incremental_conversions,
       round((p_t - p_h) * treated * treated_amount / nullif(treated_converted, 0), 2) AS incremental_value
FROM w;

-- mart.service_coverage: each customer with a service standard (by tier)
-- as of the last signal run: the period, the contacts and visits every line
-- made in it so far, what the standard asks, the days left and the status
-- (met, on_track, at_risk). Rebuilt by every signal run.
CREATE TABLE IF NOT EXISTS mart.service_coverage (
    party_id          VARCHAR NOT NULL,
    tier              VARCHAR NOT NULL,
    tier_zh           VARCHAR,
    period            VARCHAR NOT NULL,   -- month | quarter
    period_start      DATE NOT NULL,
    period_end        DATE NOT NULL,
    contacts          BIGINT NOT NULL,
    visits            BIGINT NOT NULL,
    contacts_required INTEGER NOT NULL,
    visits_required   INTEGER NOT NULL,
    days_left         INTEGER NOT NULL,
    status            VARCHAR NOT NULL,
    rm_id             VARCHAR,
    branch_code       VARCHAR,
    as_of             DATE NOT NULL
);

-- The reason and action in Chinese, for the relationship managers.
ALTER TABLE mart.signals ADD COLUMN IF NOT EXISTS reason_zh VARCHAR;
ALTER TABLE mart.signals ADD COLUMN IF NOT EXISTS action_zh VARCHAR;
