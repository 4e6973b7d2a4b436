-- The core model: one table per real-world thing, keyed by party_id, built
-- from the raw layer and core.party_xref. Each table is rebuilt whole, in one
-- transaction with the others (incremental.sql reaches the same tables from
-- the last build's; keep the two in step). party_id is NULL only when the source record
-- the row belongs to was never unified (its customer row was rejected, say);
-- such rows are kept, not dropped. {{date:X}} is the snapshot date of raw
-- row alias X, taken from its _source file name.

-- Wealth holdings, every snapshot day: the input of the AUM series.
CREATE OR REPLACE TABLE core.holding_daily AS
SELECT x.party_id, h.client_id, h.product_code, h.product_type, h.currency, h.amount_cny, h.open_date,
       h.maturity_date, h.product_risk, h.as_of_date, h._source AS source_ref, h._load_id AS load_id
FROM raw.wealth_holdings h
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = h.client_id
QUALIFY row_number() OVER (PARTITION BY h.client_id, h.product_code, h.as_of_date
                           ORDER BY h._load_id DESC, h._source DESC) = 1;

-- Holdings now: the newest snapshot day. A client absent from it holds nothing.
CREATE OR REPLACE TABLE core.holding AS
SELECT * FROM core.holding_daily WHERE as_of_date = (SELECT max(as_of_date) FROM core.holding_daily);

-- AUM per party and day, split into deposits and investments.
CREATE OR REPLACE TABLE core.aum_daily AS
SELECT party_id, as_of_date,
       sum(amount_cny) AS aum,
       coalesce(sum(amount_cny) FILTER (product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS deposits,
       coalesce(sum(amount_cny) FILTER (product_type NOT IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS investments,
       count(*) AS holdings,
       -- The earliest opening date of the day's holdings (customer since).
       min(open_date) AS first_open_date
FROM core.holding_daily WHERE party_id IS NOT NULL
GROUP BY party_id, as_of_date;

-- Wealth trades (increments), once each.
CREATE OR REPLACE TABLE core.trade AS
SELECT x.party_id, t.trade_id, t.client_id, t.product_code, t.side, t.amount_cny, t.trade_time, t.channel,
       t._source AS source_ref, t._load_id AS load_id
FROM raw.wealth_trades t
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = t.client_id
QUALIFY row_number() OVER (PARTITION BY t.trade_id ORDER BY t._load_id DESC) = 1;

-- Loans by snapshot day: the series a five-class downgrade is read from.
CREATE OR REPLACE TABLE core.loan_daily AS
SELECT x.party_id, l.loan_no, l.cust_no, l.balance, l.five_class, l.overdue_days, l.status,
       CAST(strptime({{date:l}}, '%Y%m%d') AS DATE) AS as_of_date, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
QUALIFY row_number() OVER (PARTITION BY l.loan_no, {{date:l}} ORDER BY l._load_id DESC) = 1;

-- Loans: the latest snapshot each loan appeared in (last_seen says which).
CREATE OR REPLACE TABLE core.loan AS
SELECT x.party_id, l.loan_no, l.cust_no, l.product_code, l.product_name, l.currency, l.contract_amount,
       l.balance, l.interest_rate, l.start_date, l.maturity_date, l.five_class, l.overdue_days, l.status,
       {{date:l}} AS last_seen, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
QUALIFY row_number() OVER (PARTITION BY l.loan_no ORDER BY {{date:l}} DESC, l._load_id DESC) = 1;

-- Repayments (increments): the latest word on each instalment.
CREATE OR REPLACE TABLE core.repayment AS
SELECT l.party_id, r.loan_no, r.due_date, r.paid_date, r.principal_due, r.principal_paid, r.interest_paid,
       r._source AS source_ref, r._load_id AS load_id
FROM raw.credit_repayments r
LEFT JOIN core.loan l USING (loan_no)
QUALIFY row_number() OVER (PARTITION BY r.loan_no, r.due_date ORDER BY {{date:r}} DESC, r._load_id DESC) = 1;

-- Card accounts: the latest snapshot each appeared in; a supplementary card
-- also names its primary holder's party.
CREATE OR REPLACE TABLE core.card_account AS
SELECT x.party_id, p.party_id AS primary_party_id, a.card_account_id, a.holder_id, a.primary_holder_id,
       a.product_tier, a.credit_limit, a.open_date, a.status, a.card_last4,
       {{date:a}} AS last_seen, a._source AS source_ref, a._load_id AS load_id
FROM raw.card_accounts a
LEFT JOIN core.party_xref x ON x.system = 'card' AND x.source_key = a.holder_id
LEFT JOIN core.party_xref p ON p.system = 'card' AND p.source_key = a.primary_holder_id
QUALIFY row_number() OVER (PARTITION BY a.card_account_id ORDER BY {{date:a}} DESC, a._load_id DESC) = 1;

-- Card transactions (increments), once each.
CREATE OR REPLACE TABLE core.card_txn AS
SELECT a.party_id, t.txn_id, t.card_account_id, t.txn_time, t.amount, t.currency, t.mcc, t.merchant_name,
       t.country_code, t.channel, t.txn_type, t._source AS source_ref, t._load_id AS load_id
FROM raw.card_txns t
LEFT JOIN core.card_account a USING (card_account_id)
QUALIFY row_number() OVER (PARTITION BY t.txn_id ORDER BY t._load_id DESC) = 1;

-- Digital events (already unique by event_id at ingest).
CREATE OR REPLACE TABLE core.digital_event AS
SELECT x.party_id, e.event_id, e.user_id, e.ts, e.channel, e.event_type, e.amount, e.currency,
       e.counterparty_name, e.counterparty_bank, e.cross_border, e.product_code,
       e._source AS source_ref, e._load_id AS load_id
FROM raw.ebank_events e
LEFT JOIN core.party_xref x ON x.system = 'ebank' AND x.source_key = e.user_id;

-- Activity per source account and day (activity.sql), oldest day first.
CREATE OR REPLACE TABLE core.activity_day AS
SELECT * FROM ({{activity}}) ORDER BY day;
