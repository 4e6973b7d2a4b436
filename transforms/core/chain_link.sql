-- core.chain_link: who each company pays and is paid by over the last 365
-- days (产业链上下游), from core banking's settlements (the system of
-- record: counterparty name, account and bank) and, for counterparties core
-- banking does not show, e-banking's CNY transfers (name and bank only).
-- A counterparty is resolved to a party of ours by its account first (an
-- account core banking holds), then by its normalised name (a company name
-- only one of our companies has); else it is a company at another bank,
-- known by name. link_type: supplier (the company pays it) or buyer (it
-- pays the company); share is the link's part of the company's outflows or
-- inflows as the link's system shows them. Payroll batches are no
-- counterparty; only companies' links, to companies or to names.
-- {day} is the window's last day, the newest settlement's (industry.go
-- reads it first: a constant lets each scan filter its rows). A link's
-- name and bank are those of its latest payment (by time, then the
-- greater name or bank, so that a rebuild gives the same row).
-- The build runs in parts, each over the companies of one hash bucket of
-- their party_id ({part:COLUMN}, {into}: the first part creates the table,
-- the others insert): a company's links come from its own payments alone,
-- and DuckDB holds one part's payments at a time (cdp/transforms/core).
{into}
WITH accts AS (
    SELECT acct_no, min(party_id) AS party_id FROM core.holding_daily
    WHERE acct_no IS NOT NULL AND party_id IS NOT NULL GROUP BY acct_no HAVING count(DISTINCT party_id) = 1
), names AS (
    SELECT nm, min(party_id) AS party_id FROM (SELECT party_id, core.company_name_key(name) AS nm FROM core.party WHERE party_type = 'C' AND name IS NOT NULL)
    GROUP BY nm HAVING count(*) = 1
), companies AS (
    SELECT party_id FROM core.party WHERE party_type = 'C'
), flows AS (
    -- (companies' flows only, filtered before anything is computed on them)
    SELECT s.party_id, s.direction, s.amount_cny AS amount, s.counterparty_name AS name, s.counterparty_acct AS acct,
           s.counterparty_bank AS bank, CAST(s.txn_time AS DATE) AS day, s.txn_time AS paid_at, 'core_banking' AS source
    FROM core.settlement s SEMI JOIN companies c ON c.party_id = s.party_id
    WHERE {part:s.party_id} AND s.channel <> 'BATCH' AND nullif(trim(s.counterparty_name), '') IS NOT NULL
      AND CAST(s.txn_time AS DATE) > {day} - 365
    UNION ALL
    SELECT e.party_id, CASE e.event_type WHEN 'TRANSFER_IN' THEN 'IN' ELSE 'OUT' END, e.amount, e.counterparty_name, NULL,
           e.counterparty_bank, CAST(e.ts AS DATE), e.ts, 'ebank'
    FROM core.digital_event e SEMI JOIN companies c ON c.party_id = e.party_id
    WHERE {part:e.party_id} AND e.event_type IN ('TRANSFER_IN', 'TRANSFER_OUT', 'BILL_PAY') AND e.currency = 'CNY'
      AND NOT coalesce(e.cross_border, false) AND nullif(trim(e.counterparty_name), '') IS NOT NULL
      AND CAST(e.ts AS DATE) > {day} - 365
), keys AS (
    -- each counterparty name's key, once per name (not once per payment)
    SELECT name, core.company_name_key(name) AS nm FROM (SELECT DISTINCT name FROM flows)
), resolved AS (
    SELECT f.*, coalesce(a.party_id, n.party_id) AS counterparty_id,
           CASE WHEN a.party_id IS NOT NULL THEN 'account' WHEN n.party_id IS NOT NULL THEN 'name' ELSE 'none' END AS matched_by,
           coalesce(a.party_id, n.party_id, 'name:' || k.nm) AS cp_key
    FROM flows f JOIN keys k USING (name)
    LEFT JOIN accts a ON a.acct_no = f.acct LEFT JOIN names n ON n.nm = k.nm
), totals AS (
    -- every flow of the company in or out, as each system shows it (its
    -- own accounts aside): what a link's share is of
    SELECT party_id, direction, source, sum(amount) AS total FROM resolved WHERE cp_key <> party_id GROUP BY ALL
), pairs AS (
    SELECT party_id, cp_key, direction, source, any_value(counterparty_id) AS counterparty_id, sum(amount) AS volume,
           count(*) AS payments, min(day) AS first_day, max(day) AS last_day,
           -- the latest payment's name and bank (by time, then the greater):
           -- the greatest of the payment's instant, zero-padded, and the
           -- name. (arg_max over row(paid_at, name) gives the same, but its
           -- struct-valued states cannot spill: a year of a big bank's
           -- payments ran out of memory.)
           substr(max(lpad(CAST(epoch_us(paid_at) AS VARCHAR), 19, '0') || name), 20) AS name,
           substr(max(lpad(CAST(epoch_us(paid_at) AS VARCHAR), 19, '0') || bank), 20) AS bank,
           min(matched_by) AS matched_by
    FROM resolved
    -- (a counterparty that is one of our persons is no link in the chain)
    WHERE cp_key <> party_id AND (counterparty_id IS NULL OR counterparty_id IN (SELECT party_id FROM companies))
    GROUP BY party_id, cp_key, direction, source
), chosen AS (
    -- core banking's word where it has one; e-banking's for the rest
    -- ('core_banking' < 'ebank')
    SELECT * FROM pairs QUALIFY source = min(source) OVER (PARTITION BY party_id, cp_key, direction)
)
SELECT party_id, counterparty_id, name AS counterparty_name, bank AS counterparty_bank,
       CASE direction WHEN 'OUT' THEN 'supplier' ELSE 'buyer' END AS link_type,
       volume AS volume_12m, CAST(payments AS INTEGER) AS payments, first_day, last_day,
       -- of all the flows the link's own system shows: core banking's
       -- settlements, or e-banking's transfers (not summed: a bank's
       -- e-banking transfers are core banking settlements too)
       round(volume / nullif(t.total, 0), 4) AS share,
       matched_by, source, counterparty_id IS NULL AS other_bank, {day} AS as_of
FROM chosen JOIN totals t USING (party_id, direction, source);
