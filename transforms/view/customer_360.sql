-- mart.customer_360: one wide row per party, as of the newest snapshot day.
-- Identity is masked here by the PII policy's macros (cdp/pii: ID numbers
-- keep their first 6 and last 4 characters, mobiles their first 3 and last
-- 4); the full values stay in core.party. Needs the core model, mart.value_tier (with mart.contribution) and mart.tags.
-- The build runs in parts, each over a range of party ids: {part:COLUMN}
-- is that range's condition on COLUMN (cdp/transforms/view: the parts
-- follow the memory budget, one part up to a few hundred thousand parties).
WITH day AS (
    SELECT coalesce(max(as_of_date), current_date) AS d FROM core.aum_daily
), aum AS (
    -- AUM on the newest day (0 without holdings that day) and at the start
    -- of the last 30 and 90 days (the first day with holdings in them).
    SELECT a.party_id,
           coalesce(any_value(a.aum) FILTER (a.as_of_date = day.d), 0) AS aum_now,
           arg_min(a.aum, a.as_of_date) FILTER (a.as_of_date >= day.d - INTERVAL 30 DAY) AS aum_30d_start,
           arg_min(a.aum, a.as_of_date) AS aum_90d_start
    FROM core.aum_daily a, day WHERE a.as_of_date >= day.d - INTERVAL 90 DAY AND {part:a.party_id} GROUP BY a.party_id
), holdings AS (
    SELECT party_id,
           sum(amount_cny) FILTER (product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')) AS deposits,
           sum(amount_cny) FILTER (product_type = 'WMP') AS wmp,
           sum(amount_cny) FILTER (product_type = 'FUND') AS funds,
           sum(amount_cny) FILTER (product_type = 'INSURANCE') AS insurance,
           sum(amount_cny) FILTER (product_type IN ('TRUST', 'PRIVATE_FUND')) AS trusts_private_funds,
           count(DISTINCT product_type) AS product_types
    FROM core.holding WHERE party_id IS NOT NULL AND {part:party_id} GROUP BY party_id
), credit AS (
    SELECT party_id, sum(balance) FILTER (status = 'ACTIVE') AS credit_exposure,
           count(*) FILTER (status = 'ACTIVE') AS active_loans, max(five_class) AS worst_five_class,
           max(overdue_days) AS max_overdue_days
    FROM core.loan WHERE party_id IS NOT NULL AND {part:party_id} GROUP BY party_id
), cards AS (
    SELECT a.party_id, count(DISTINCT a.card_account_id) AS card_accounts,
           arg_max(a.product_tier, CASE a.product_tier WHEN 'INFINITE' THEN 5 WHEN 'DIAMOND' THEN 4
               WHEN 'PLATINUM' THEN 3 WHEN 'GOLD' THEN 2 ELSE 1 END) AS best_card_tier,
           sum(DISTINCT a.credit_limit) AS card_limit
    FROM core.card_account a WHERE a.party_id IS NOT NULL AND {part:a.party_id} GROUP BY a.party_id
), spend AS (
    -- Card and e-banking activity of the last 30 days, from the per-day sums.
    SELECT a.party_id, sum(a.purchase_amount) AS card_spend_30d, CAST(sum(a.n) AS BIGINT) AS card_txns_30d
    FROM core.activity_day a, day WHERE a.src = 'card' AND a.party_id IS NOT NULL AND {part:a.party_id} AND a.day > day.d - INTERVAL 30 DAY
    GROUP BY a.party_id
), digital AS (
    SELECT a.party_id, CAST(sum(a.n) AS BIGINT) AS digital_events_30d, max(a.last_login) AS last_login,
           sum(a.cross_border_events) > 0 AS cross_border
    FROM core.activity_day a, day WHERE a.src = 'ebank' AND a.party_id IS NOT NULL AND {part:a.party_id} AND a.day > day.d - INTERVAL 30 DAY
    GROUP BY a.party_id
), settle AS (
    -- Core banking settlements of the last 30 days, in and out.
    SELECT s.party_id, sum(s.amount_cny) AS settlement_30d, count(DISTINCT s.counterparty_name) AS counterparties_30d
    FROM core.settlement s, day WHERE s.party_id IS NOT NULL AND {part:s.party_id} AND CAST(s.txn_time AS DATE) > day.d - INTERVAL 30 DAY
      AND CAST(s.txn_time AS DATE) <= day.d
    GROUP BY s.party_id
), rels AS (
    SELECT party_id,
           count(*) FILTER (rel_type = 'legal_representative' AND role = 'company') AS legal_representatives,
           count(*) FILTER (rel_type = 'legal_representative' AND role = 'person') AS companies_represented,
           count(*) FILTER (rel_type IN ('shared_mobile', 'supplementary_card')) AS family_links,
           list(DISTINCT other ORDER BY other) AS related_parties
    FROM (SELECT party_id, related_party_id AS other, rel_type, 'company' AS role FROM core.party_relationship
          UNION ALL SELECT related_party_id, party_id, rel_type, 'person' FROM core.party_relationship)
    WHERE {part:party_id}
    GROUP BY party_id
), last_month AS (
    -- contribution of the last closed month (mart.contribution)
    SELECT c.party_id, c.contribution FROM mart.contribution c, day
    WHERE c.month = CAST(date_trunc('month', day.d) - INTERVAL 1 MONTH AS DATE) AND {part:c.party_id}
), tag_map AS (
    -- A JSON object cast to a MAP: the same map (every key, NULL values
    -- kept) at about 60% of the cost of map_from_entries(list(...)), whose
    -- list() aggregate of millions of strings dominated this build.
    SELECT party_id, CAST(json_group_object(tag_id, value) AS MAP(VARCHAR, VARCHAR)) AS tags
    FROM mart.tags WHERE {part:party_id} GROUP BY party_id
)
SELECT p.party_id, p.party_type, p.name,
       mask_id(p.id_no) AS id_no_masked,
       p.id_type, p.id_valid,
       mask_mobile(p.mobile) AS mobile_masked,
       p.gender, p.birth_date, p.industry_code, p.annual_revenue, p.annual_income, p.risk_level, p.segment,
       p.rm_id, p.branch_code, p.systems,
       v.tier, v.tier_zh, v.value_score, v.historical, v.potential, v.strategic, v.rfm, v.lifecycle,
       -- why the tier: the floors, or the approved list (名单制) until its
       -- entry's last day; the reason as the tier history keeps it.
       v.tier_source, v.computed_tier, v.list_valid_to AS tier_list_valid_to, th.reason AS tier_reason,
       -- what the party brings (mart.contribution_12m): the last twelve
       -- months, the last closed month, and its place among all parties
       coalesce(ct.contribution_12m, 0) AS contribution_12m, coalesce(ct.nii_12m, 0) AS nii_12m,
       coalesce(ct.fee_income_12m, 0) AS fee_income_12m, lm.contribution AS contribution_last_month,
       ct.top_pct AS contribution_top_pct,
       CASE WHEN ct.top_pct IS NULL THEN NULL WHEN ct.top_pct <= 1 THEN 1 WHEN ct.top_pct <= 5 THEN 5 WHEN ct.top_pct <= 10 THEN 10
            WHEN ct.top_pct <= 15 THEN 15 WHEN ct.top_pct <= 20 THEN 20 WHEN ct.top_pct <= 50 THEN 50 ELSE 100 END AS contribution_band,
       coalesce(a.aum_now, 0) AS aum,
       CASE WHEN a.aum_30d_start > 0 THEN CAST(100 * (a.aum_now - a.aum_30d_start) / a.aum_30d_start AS DECIMAL(12, 2)) END AS aum_trend_30d_pct,
       CASE WHEN a.aum_90d_start > 0 THEN CAST(100 * (a.aum_now - a.aum_90d_start) / a.aum_90d_start AS DECIMAL(12, 2)) END AS aum_trend_90d_pct,
       coalesce(h.deposits, 0) AS deposits, coalesce(h.wmp, 0) AS wmp, coalesce(h.funds, 0) AS funds,
       coalesce(h.insurance, 0) AS insurance, coalesce(h.trusts_private_funds, 0) AS trusts_private_funds,
       coalesce(h.product_types, 0) AS product_types,
       coalesce(c.credit_exposure, 0) AS credit_exposure, coalesce(c.active_loans, 0) AS active_loans,
       c.worst_five_class, coalesce(c.max_overdue_days, 0) AS max_overdue_days,
       coalesce(k.card_accounts, 0) AS card_accounts, k.best_card_tier, coalesce(k.card_limit, 0) AS card_limit,
       coalesce(s.card_spend_30d, 0) AS card_spend_30d, coalesce(s.card_txns_30d, 0) AS card_txns_30d,
       coalesce(g.digital_events_30d, 0) AS digital_events_30d, g.last_login, coalesce(g.cross_border, false) AS cross_border_30d,
       coalesce(st.settlement_30d, 0) AS settlement_30d, coalesce(st.counterparties_30d, 0) AS settlement_counterparties_30d,
       coalesce(r.legal_representatives, 0) AS legal_representatives, coalesce(r.companies_represented, 0) AS companies_represented,
       coalesce(r.family_links, 0) AS family_links, coalesce(r.related_parties, []) AS related_parties,
       -- the industry chain (tags over core.chain_link): the company's role
       -- among the bank's clients and its largest buyer's share of inflows
       t.tags['chain_role'] AS chain_role, TRY_CAST(t.tags['top_buyer_share'] AS DOUBLE) AS top_buyer_share,
       coalesce(t.tags, MAP {}) AS tags,
       -- the open signals (mart.party_open_signals) as of the last signal
       -- run; the signals stage refreshes them after it runs
       os.open_signals,
       day.d AS as_of
FROM core.party p CROSS JOIN day
LEFT JOIN mart.value_tier v USING (party_id)
LEFT JOIN (SELECT party_id, reason FROM mart.tier_history WHERE valid_to IS NULL) th USING (party_id)
LEFT JOIN aum a USING (party_id) LEFT JOIN holdings h USING (party_id) LEFT JOIN credit c USING (party_id)
LEFT JOIN cards k USING (party_id) LEFT JOIN spend s USING (party_id) LEFT JOIN digital g USING (party_id)
LEFT JOIN settle st USING (party_id) LEFT JOIN rels r USING (party_id) LEFT JOIN tag_map t USING (party_id)
LEFT JOIN mart.contribution_12m ct USING (party_id) LEFT JOIN last_month lm USING (party_id)
LEFT JOIN mart.party_open_signals os USING (party_id)
WHERE {part:p.party_id}
