-- An incremental build of the core model: the same tables as model.sql would
-- give, reached from the last build's by (1) re-pointing rows whose source
-- record changed party since that build (core.model_xref holds the parties
-- it saw) and (2) adding the rows of loads newer than it ({{hwm}} is the
-- newest load it read), where a newer version of a row replaces the older
-- one by the same rules as model.sql. The caller falls back to model.sql
-- when a load was superseded since (a correction removes rows, which this
-- does not handle). {{date:X}} is the snapshot date of raw row alias X,
-- {{refdate:X}} that of core row alias X (from its source_ref).

-- Source records whose party changed (or that are new, or gone from the xref).
CREATE OR REPLACE TEMP TABLE cdp_moved AS
SELECT system, source_key, party_id FROM core.party_xref
EXCEPT
SELECT system, source_key, party_id FROM core.model_xref
UNION ALL
SELECT m.system, m.source_key, NULL FROM core.model_xref m
ANTI JOIN core.party_xref x ON x.system = m.system AND x.source_key = m.source_key;

-- Parties whose AUM series must be summed again: those wealth records left
-- and joined.
CREATE OR REPLACE TEMP TABLE cdp_aum_parties AS
SELECT m.party_id FROM core.model_xref m JOIN cdp_moved c ON c.system = 'wealth' AND c.source_key = m.source_key
UNION
SELECT party_id FROM cdp_moved WHERE system = 'wealth' AND party_id IS NOT NULL;

-- (1) Re-point rows of moved records.
UPDATE core.holding_daily t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'wealth' AND t.client_id = m.source_key;
UPDATE core.trade t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'wealth' AND t.client_id = m.source_key;
UPDATE core.loan_daily t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'credit' AND t.cust_no = m.source_key;
UPDATE core.loan t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'credit' AND t.cust_no = m.source_key;
UPDATE core.card_account t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'card' AND t.holder_id = m.source_key;
UPDATE core.card_account t SET primary_party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'card' AND t.primary_holder_id = m.source_key;
UPDATE core.digital_event t SET party_id = m.party_id FROM cdp_moved m
WHERE m.system = 'ebank' AND t.user_id = m.source_key;
UPDATE core.activity_day t SET party_id = m.party_id FROM cdp_moved m
WHERE t.src IN ('wealth', 'ebank') AND m.system = t.src AND t.src_key = m.source_key;

-- The (source account, day) pairs whose activity sums must be summed again:
-- those of rows added or replaced below.
CREATE OR REPLACE TEMP TABLE cdp_activity_keys (src VARCHAR, src_key VARCHAR, day DATE);

-- Loans and card accounts whose party changed, or that a new snapshot
-- replaces below: their repayments and transactions follow them.
CREATE OR REPLACE TEMP TABLE cdp_touched_loans AS
SELECT loan_no FROM core.loan WHERE cust_no IN (SELECT source_key FROM cdp_moved WHERE system = 'credit');
CREATE OR REPLACE TEMP TABLE cdp_touched_cards AS
SELECT card_account_id FROM core.card_account
WHERE holder_id IN (SELECT source_key FROM cdp_moved WHERE system = 'card');

-- (2) Rows of new loads. Wealth holdings, every snapshot day.
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT x.party_id, h.client_id, h.product_code, h.product_type, h.currency, h.amount_cny, h.open_date,
       h.maturity_date, h.product_risk, h.as_of_date, h._source AS source_ref, h._load_id AS load_id
FROM raw.wealth_holdings h
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = h.client_id
WHERE h._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY h.client_id, h.product_code, h.as_of_date
                           ORDER BY h._load_id DESC, h._source DESC) = 1;
DELETE FROM core.holding_daily t USING cdp_new n
WHERE t.as_of_date = n.as_of_date AND t.client_id = n.client_id AND t.product_code = n.product_code;
INSERT INTO core.holding_daily SELECT * FROM cdp_new;

CREATE OR REPLACE TABLE core.holding AS
SELECT * FROM core.holding_daily WHERE as_of_date = (SELECT max(as_of_date) FROM core.holding_daily);

-- AUM: the days new holdings arrived for, and the parties records moved between.
CREATE OR REPLACE TEMP TABLE cdp_aum_days AS SELECT DISTINCT as_of_date FROM cdp_new;
DELETE FROM core.aum_daily
WHERE as_of_date IN (SELECT as_of_date FROM cdp_aum_days) OR party_id IN (SELECT party_id FROM cdp_aum_parties);
INSERT INTO core.aum_daily
SELECT party_id, as_of_date,
       sum(amount_cny) AS aum,
       coalesce(sum(amount_cny) FILTER (product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS deposits,
       coalesce(sum(amount_cny) FILTER (product_type NOT IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS investments,
       count(*) AS holdings,
       min(open_date) AS first_open_date
FROM core.holding_daily
WHERE party_id IS NOT NULL
  AND (as_of_date IN (SELECT as_of_date FROM cdp_aum_days) OR party_id IN (SELECT party_id FROM cdp_aum_parties))
GROUP BY party_id, as_of_date;

-- Wealth trades.
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT x.party_id, t.trade_id, t.client_id, t.product_code, t.side, t.amount_cny, t.trade_time, t.channel,
       t._source AS source_ref, t._load_id AS load_id
FROM raw.wealth_trades t
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = t.client_id
WHERE t._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY t.trade_id ORDER BY t._load_id DESC) = 1;
INSERT INTO cdp_activity_keys
SELECT 'wealth', client_id, CAST(trade_time AS DATE) FROM cdp_new
UNION ALL
SELECT 'wealth', t.client_id, CAST(t.trade_time AS DATE) FROM core.trade t SEMI JOIN cdp_new n ON t.trade_id = n.trade_id;
DELETE FROM core.trade t USING cdp_new n WHERE t.trade_id = n.trade_id;
INSERT INTO core.trade SELECT * FROM cdp_new;

-- Loans by snapshot day.
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT x.party_id, l.loan_no, l.cust_no, l.balance, l.five_class, l.overdue_days, l.status,
       CAST(strptime({{date:l}}, '%Y%m%d') AS DATE) AS as_of_date, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
WHERE l._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY l.loan_no, {{date:l}} ORDER BY l._load_id DESC) = 1;
DELETE FROM core.loan_daily t USING cdp_new n
WHERE t.loan_no = n.loan_no AND t.as_of_date IS NOT DISTINCT FROM n.as_of_date;
INSERT INTO core.loan_daily SELECT * FROM cdp_new;

-- Loans: a new snapshot replaces the current row when it is newer (by
-- snapshot day, then load).
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT x.party_id, l.loan_no, l.cust_no, l.product_code, l.product_name, l.currency, l.contract_amount,
       l.balance, l.interest_rate, l.start_date, l.maturity_date, l.five_class, l.overdue_days, l.status,
       {{date:l}} AS last_seen, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
WHERE l._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY l.loan_no ORDER BY {{date:l}} DESC, l._load_id DESC) = 1;
DELETE FROM cdp_new n USING core.loan t
WHERE t.loan_no = n.loan_no AND (t.last_seen > n.last_seen OR (t.last_seen = n.last_seen AND t.load_id > n.load_id));
DELETE FROM core.loan t USING cdp_new n WHERE t.loan_no = n.loan_no;
INSERT INTO core.loan SELECT * FROM cdp_new;
INSERT INTO cdp_touched_loans SELECT loan_no FROM cdp_new;

-- Repayments: the latest word on each instalment (by snapshot day, then load).
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT NULL::VARCHAR AS party_id, r.loan_no, r.due_date, r.paid_date, r.principal_due, r.principal_paid, r.interest_paid,
       r._source AS source_ref, r._load_id AS load_id, {{date:r}} AS seen
FROM raw.credit_repayments r
WHERE r._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY r.loan_no, r.due_date ORDER BY {{date:r}} DESC, r._load_id DESC) = 1;
DELETE FROM cdp_new n USING core.repayment t
WHERE t.loan_no = n.loan_no AND t.due_date IS NOT DISTINCT FROM n.due_date
  AND ({{refdate:t}} > n.seen OR ({{refdate:t}} = n.seen AND t.load_id > n.load_id));
DELETE FROM core.repayment t USING cdp_new n WHERE t.loan_no = n.loan_no AND t.due_date IS NOT DISTINCT FROM n.due_date;
INSERT INTO core.repayment
SELECT l.party_id, n.loan_no, n.due_date, n.paid_date, n.principal_due, n.principal_paid, n.interest_paid, n.source_ref, n.load_id
FROM cdp_new n LEFT JOIN core.loan l USING (loan_no);
UPDATE core.repayment t SET party_id = l.party_id FROM core.loan l
WHERE t.loan_no = l.loan_no AND t.loan_no IN (SELECT loan_no FROM cdp_touched_loans)
  AND t.party_id IS DISTINCT FROM l.party_id;

-- Card accounts: a new snapshot replaces the current row when it is newer.
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT x.party_id, p.party_id AS primary_party_id, a.card_account_id, a.holder_id, a.primary_holder_id,
       a.product_tier, a.credit_limit, a.open_date, a.status, a.card_last4,
       {{date:a}} AS last_seen, a._source AS source_ref, a._load_id AS load_id
FROM raw.card_accounts a
LEFT JOIN core.party_xref x ON x.system = 'card' AND x.source_key = a.holder_id
LEFT JOIN core.party_xref p ON p.system = 'card' AND p.source_key = a.primary_holder_id
WHERE a._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY a.card_account_id ORDER BY {{date:a}} DESC, a._load_id DESC) = 1;
DELETE FROM cdp_new n USING core.card_account t
WHERE t.card_account_id = n.card_account_id
  AND (t.last_seen > n.last_seen OR (t.last_seen = n.last_seen AND t.load_id > n.load_id));
DELETE FROM core.card_account t USING cdp_new n WHERE t.card_account_id = n.card_account_id;
INSERT INTO core.card_account SELECT * FROM cdp_new;
INSERT INTO cdp_touched_cards SELECT card_account_id FROM cdp_new;

-- Card transactions.
CREATE OR REPLACE TEMP TABLE cdp_new AS
SELECT a.party_id, t.txn_id, t.card_account_id, t.txn_time, t.amount, t.currency, t.mcc, t.merchant_name,
       t.country_code, t.channel, t.txn_type, t._source AS source_ref, t._load_id AS load_id
FROM raw.card_txns t
LEFT JOIN core.card_account a USING (card_account_id)
WHERE t._load_id > {{hwm}}
QUALIFY row_number() OVER (PARTITION BY t.txn_id ORDER BY t._load_id DESC) = 1;
INSERT INTO cdp_activity_keys
SELECT 'card', card_account_id, CAST(txn_time AS DATE) FROM cdp_new
UNION ALL
SELECT 'card', t.card_account_id, CAST(t.txn_time AS DATE) FROM core.card_txn t SEMI JOIN cdp_new n ON t.txn_id = n.txn_id;
DELETE FROM core.card_txn t USING cdp_new n WHERE t.txn_id = n.txn_id;
INSERT INTO core.card_txn SELECT * FROM cdp_new;
UPDATE core.card_txn t SET party_id = a.party_id FROM core.card_account a
WHERE t.card_account_id = a.card_account_id AND t.card_account_id IN (SELECT card_account_id FROM cdp_touched_cards)
  AND t.party_id IS DISTINCT FROM a.party_id;
UPDATE core.activity_day t SET party_id = a.party_id FROM core.card_account a
WHERE t.src = 'card' AND t.src_key = a.card_account_id AND t.src_key IN (SELECT card_account_id FROM cdp_touched_cards)
  AND t.party_id IS DISTINCT FROM a.party_id;

-- Digital events (unique by event_id at ingest).
INSERT INTO core.digital_event
SELECT x.party_id, e.event_id, e.user_id, e.ts, e.channel, e.event_type, e.amount, e.currency,
       e.counterparty_name, e.counterparty_bank, e.cross_border, e.product_code,
       e._source AS source_ref, e._load_id AS load_id
FROM raw.ebank_events e
LEFT JOIN core.party_xref x ON x.system = 'ebank' AND x.source_key = e.user_id
WHERE e._load_id > {{hwm}};
INSERT INTO cdp_activity_keys
SELECT DISTINCT 'ebank', user_id, CAST(ts AS DATE) FROM core.digital_event WHERE load_id > {{hwm}};

-- Activity sums of the pairs touched (activity.sql).
DELETE FROM core.activity_day t USING (SELECT DISTINCT * FROM cdp_activity_keys) k
WHERE t.src = k.src AND t.src_key = k.src_key AND t.day = k.day;
INSERT INTO core.activity_day BY NAME {{activity}};

DROP TABLE cdp_new;
DROP TABLE cdp_activity_keys;
