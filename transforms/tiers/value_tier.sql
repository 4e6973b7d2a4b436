-- mart.value_tier: one row per party with its tier, scores, lifecycle stage
-- and the inputs that decided them, as of the newest snapshot day of the
-- core model. Placeholders such as {tier} are the tiers settings of cdp.yaml
-- (criteria.go turns the criteria into SQL).
-- A party on the approved key-account list (名单制) has the list's tier
-- (tier_source list, the floors' tier kept as computed_tier).
CREATE OR REPLACE TABLE mart.value_tier AS
WITH day AS (
    SELECT coalesce(max(as_of_date), current_date) AS d FROM core.aum_daily
), aum AS (
    SELECT party_id, aum FROM core.aum_daily, day WHERE as_of_date = day.d
), aum_30 AS (
    -- AUM at the start of the last 30 days (the first day with holdings in them)
    SELECT party_id, arg_min(aum, as_of_date) AS aum_start
    FROM core.aum_daily, day WHERE as_of_date >= day.d - INTERVAL 30 DAY GROUP BY party_id
), credit AS (
    SELECT party_id, sum(balance) FILTER (status = 'ACTIVE') AS credit, min(start_date) AS first_loan
    FROM core.loan WHERE party_id IS NOT NULL GROUP BY party_id
), cards AS (
    -- Card, e-banking and wealth activity come from the per-day sums
    -- (core.activity_day), not from every transaction of the history.
    SELECT a.party_id, min(a.open_date) AS first_card, any_value(u.spend) AS spend,
           coalesce(any_value(u.txns), 0) AS txns, any_value(u.last_txn) AS last_txn
    FROM core.card_account a
    LEFT JOIN (SELECT party_id, sum(purchase_amount) AS spend, CAST(sum(n) AS BIGINT) AS txns, max(last_at) AS last_txn
               FROM core.activity_day WHERE src = 'card' AND party_id IS NOT NULL GROUP BY party_id) u USING (party_id)
    WHERE a.party_id IS NOT NULL GROUP BY a.party_id
), digital AS (
    SELECT party_id, CAST(sum(n) AS BIGINT) AS events, max(last_at) AS last_event, sum(settled_amount) AS settled
    FROM core.activity_day WHERE src = 'ebank' AND party_id IS NOT NULL GROUP BY party_id
), trades AS (
    SELECT party_id, CAST(sum(n) AS BIGINT) AS trades, max(last_at) AS last_trade, sum(traded_amount) AS traded
    FROM core.activity_day WHERE src = 'wealth' AND party_id IS NOT NULL GROUP BY party_id
), holdings_since AS (
    SELECT party_id, min(open_date) AS first_holding FROM core.holding WHERE party_id IS NOT NULL GROUP BY party_id
), rels AS (
    SELECT party_id, count(*) AS relationships FROM (
        SELECT party_id FROM core.party_relationship UNION ALL SELECT related_party_id FROM core.party_relationship)
    GROUP BY party_id
), computed_months AS (
    -- the last twelve months: cdp's own (mart.contribution, built just
    -- before) where it has them, else the bank's monthly summary
    -- (core.monthly_history, 月日均); the days each covers, bank-wide
    -- (a month with fees but no balance snapshot has no days: the bank's
    -- summary keeps it)
    SELECT month, max(days) AS days FROM mart.contribution, day
    WHERE month > CAST(date_trunc('month', day.d) - INTERVAL 12 MONTH AS DATE) AND month <= day.d AND days > 0 GROUP BY month
), history_months AS (
    SELECT DISTINCT month, CAST(CAST(month + INTERVAL 1 MONTH AS DATE) - month AS INTEGER) AS days FROM core.monthly_history, day
    WHERE month > CAST(date_trunc('month', day.d) - INTERVAL 12 MONTH AS DATE) AND month <= day.d
      AND month NOT IN (SELECT month FROM computed_months)
), window12 AS (
    SELECT * FROM computed_months UNION ALL SELECT * FROM history_months
), twelve AS (
    -- each party's balance-days and flows over them
    SELECT party_id, sum(deposit_bd) AS deposit_bd, sum(loan_bd) AS loan_bd, sum(fee_income) AS fee_income, sum(nii) AS nii,
           sum(fee_income + nii) AS contribution
    FROM (SELECT c.party_id, c.deposit_adb * c.days AS deposit_bd, c.loan_adb * c.days AS loan_bd, c.fee_income, c.nii
          FROM mart.contribution c JOIN computed_months USING (month)
          UNION ALL
          SELECT h.party_id, h.deposit_adb * m.days, coalesce(h.loan_adb, 0) * m.days, coalesce(h.fee_income, 0), coalesce(h.nii, 0)
          FROM core.monthly_history h JOIN history_months m USING (month) WHERE h.party_id IS NOT NULL)
    GROUP BY party_id
), company AS (
    -- enterprise stage and industry groups (core.enterprise_stage, core.party_industry_group)
    SELECT p.party_id, arg_max(core.enterprise_stage(c.founded_on, c.annual_revenue, c.prior_year_revenue, (SELECT d FROM day)),
                                 (c.last_seen, c.load_id, c.cust_no)) AS enterprise_stage
    FROM core.party p JOIN core.company_profile c USING (party_id) WHERE p.party_type = 'C' GROUP BY p.party_id
), groups AS (
    SELECT party_id, list(DISTINCT group_id ORDER BY group_id) AS industry_groups FROM core.party_industry_group GROUP BY party_id
), inputs AS (
    SELECT p.party_id, p.party_type, day.d AS as_of,
           coalesce(a.aum, 0) AS aum, a30.aum_start, p.annual_revenue, p.annual_income,
           coalesce(c.credit, 0) AS credit_balance, coalesce(k.spend, 0) AS card_spend,
           coalesce(k.txns, 0) + coalesce(g.events, 0) + coalesce(t.trades, 0) AS activity,
           coalesce(k.spend, 0) + coalesce(g.settled, 0) + coalesce(t.traded, 0) AS monetary,
           CAST(greatest(k.last_txn, g.last_event, t.last_trade) AS DATE) AS last_activity,
           least(c.first_loan, k.first_card, h.first_holding) AS first_seen,
           len(p.systems) AS systems, coalesce(r.relationships, 0) AS relationships,
           CAST((SELECT sum(days) FROM window12) AS INTEGER) AS measure_days, (SELECT min(month) FROM window12) AS measure_from,
           CAST(coalesce(tw.deposit_bd / nullif((SELECT sum(days) FROM window12), 0), 0) AS DECIMAL(18,2)) AS deposit_adb_12m,
           CAST(coalesce(tw.loan_bd / nullif((SELECT sum(days) FROM window12), 0), 0) AS DECIMAL(18,2)) AS loan_adb_12m,
           coalesce(tw.fee_income, 0) AS fee_income_12m, coalesce(tw.nii, 0) AS nii_12m, coalesce(tw.contribution, 0) AS contribution_12m,
           co.enterprise_stage, coalesce(gr.industry_groups, []) AS industry_groups
    FROM core.party p CROSS JOIN day
    LEFT JOIN aum a USING (party_id) LEFT JOIN aum_30 a30 USING (party_id) LEFT JOIN credit c USING (party_id)
    LEFT JOIN cards k USING (party_id) LEFT JOIN digital g USING (party_id) LEFT JOIN trades t USING (party_id)
    LEFT JOIN holdings_since h USING (party_id) LEFT JOIN rels r USING (party_id)
    LEFT JOIN twelve tw USING (party_id) LEFT JOIN company co USING (party_id) LEFT JOIN groups gr USING (party_id)
), scored AS (
    SELECT *,
           -- historical: what the party brings now; potential: its capacity;
           -- strategic: breadth of the relationship. Each 0–100 within its type.
           round(100 * percent_rank() OVER (PARTITION BY party_type ORDER BY aum + credit_balance + card_spend), 1) AS historical,
           round(100 * percent_rank() OVER (PARTITION BY party_type ORDER BY coalesce(annual_revenue, annual_income, 0) + aum), 1) AS potential,
           -- (systems: of those feeding unification, however many the contracts declare)
           round(100 * (0.7 * systems / greatest(1, (SELECT count(DISTINCT system) FROM core.party_xref))
                        + 0.3 * least(relationships, 5) / 5.0), 1) AS strategic,
           -- (party_id breaks ties, so a rerun scores every party the same)
           ntile(5) OVER (PARTITION BY party_type ORDER BY last_activity NULLS FIRST, party_id) AS recency,
           ntile(5) OVER (PARTITION BY party_type ORDER BY activity, party_id) AS frequency,
           ntile(5) OVER (PARTITION BY party_type ORDER BY monetary, party_id) AS monetary_score
    FROM inputs
), valued AS (
    SELECT *, round({w_historical} * historical + {w_potential} * potential + {w_strategic} * strategic, 1) AS value_score
    FROM scored
), criteria AS (
    -- the declared criteria (tiers: criteria, else the floors of
    -- company_revenue and person_aum): the highest tier any criterion of
    -- which holds; the reason lists those that held (and, below core,
    -- those of the tier above that did not)
    SELECT *, {tier} AS crit_tier, {reason} AS criteria_reason, {basis} AS tier_basis, {basis_value} AS basis_value
    FROM valued
), tiered AS (
SELECT party_id, party_type,
       crit_tier AS tier,
       CASE crit_tier WHEN 'core' THEN '战略核心' WHEN 'growth' THEN '重点培育' ELSE '潜力挖掘' END AS tier_zh,
       CASE crit_tier WHEN 'core' THEN 1 WHEN 'growth' THEN 2 ELSE 3 END AS tier_rank,
       tier_basis, basis_value,
       historical, potential, strategic,
       value_score,
       recency, frequency, monetary_score, recency * 100 + frequency * 10 + monetary_score AS rfm,
       CASE WHEN last_activity IS NULL OR last_activity < as_of - INTERVAL {dormant_days} DAY THEN 'dormant'
            WHEN aum_start > 0 AND aum < aum_start * (1 - {trend}) THEN 'declining'
            WHEN first_seen >= as_of - INTERVAL 90 DAY THEN 'new'
            WHEN aum_start > 0 AND aum > aum_start * (1 + {trend}) THEN 'growing'
            ELSE 'mature' END AS lifecycle,
       aum, aum_start, annual_revenue, annual_income, credit_balance, card_spend, activity, monetary,
       last_activity, first_seen, systems, relationships, as_of,
       criteria_reason, measure_from, measure_days, deposit_adb_12m, loan_adb_12m, fee_income_12m, nii_12m, contribution_12m,
       enterprise_stage, industry_groups
FROM criteria
), listed AS (
    -- 名单制: an active entry of the approved list (core.key_accounts_as_of)
    -- sets the tier; of several, the latest approved (then the highest).
    SELECT party_id, arg_max(struct_pack(tier := tier, list_id := list_id, reason := reason, approver := approver,
                                         approved_on := approved_on, valid_to := valid_to),
                             (coalesce(approved_on, DATE '1900-01-01'), -CASE tier WHEN 'core' THEN 1 WHEN 'growth' THEN 2 ELSE 3 END, list_id)) AS e
    FROM core.key_accounts_as_of((SELECT d FROM day))
    WHERE status = 'active' AND party_id IS NOT NULL
    GROUP BY party_id
)
SELECT t.* REPLACE (coalesce(l.e.tier, t.tier) AS tier,
                    CASE coalesce(l.e.tier, t.tier) WHEN 'core' THEN '战略核心' WHEN 'growth' THEN '重点培育' ELSE '潜力挖掘' END AS tier_zh,
                    CASE coalesce(l.e.tier, t.tier) WHEN 'core' THEN 1 WHEN 'growth' THEN 2 ELSE 3 END AS tier_rank),
       t.tier AS computed_tier, CASE WHEN l.party_id IS NULL THEN 'computed' ELSE 'list' END AS tier_source,
       l.e.list_id AS list_id, l.e.reason AS list_reason, l.e.approver AS list_approver,
       l.e.approved_on AS list_approved_on, l.e.valid_to AS list_valid_to
FROM tiered t LEFT JOIN listed l USING (party_id)
