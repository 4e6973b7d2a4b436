-- core.activity_day: the card transactions, e-banking events and wealth
-- trades of each source account (src_key: card account, e-banking user,
-- wealth client) on each day, summed. Tags, tiers and the 360 view read
-- these sums instead of scanning every transaction of the whole history,
-- so a day's run costs about the same however long the history is. Rows of
-- records never unified keep a NULL party_id, as in the tables they sum.
-- Counts are INTEGER (a day's count is small), sums keep the source type.
-- kind: aggregate
-- order: day
-- scope card: (card_account_id, CAST(txn_time AS DATE)) IN (SELECT src_key, day FROM cdp_activity_keys WHERE src = 'card')
-- scope ebank: (user_id, CAST(ts AS DATE)) IN (SELECT src_key, day FROM cdp_activity_keys WHERE src = 'ebank')
-- scope wealth: (client_id, CAST(trade_time AS DATE)) IN (SELECT src_key, day FROM cdp_activity_keys WHERE src = 'wealth')
--
-- Its own incremental logic: a sum per account and day, which a new or
-- replaced transaction, event or trade changes without any row of it being
-- replaced. An incremental build sums again the (account, day) pairs of the
-- rows that changed ({scope:SRC}), and re-points the sums of accounts whose
-- party changed.
SELECT party_id, 'card' AS src, card_account_id AS src_key, CAST(txn_time AS DATE) AS day,
       CAST(count(*) AS INTEGER) AS n, max(txn_time) AS last_at,
       CAST(count(*) FILTER (txn_type = 'PURCHASE') AS INTEGER) AS purchases,
       sum(amount) FILTER (txn_type = 'PURCHASE') AS purchase_amount,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND currency = 'CNY') AS INTEGER) AS purchases_cny,
       sum(amount) FILTER (txn_type = 'PURCHASE' AND currency = 'CNY') AS purchase_cny_amount,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND coalesce(country_code, 'CN') <> 'CN') AS INTEGER) AS purchases_abroad,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND channel = 'ONLINE') AS INTEGER) AS purchases_online,
       CAST(count(*) FILTER (txn_type = 'CASH') AS INTEGER) AS cash_advances,
       -- Purchases by merchant category group (MCC).
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'daily') AS INTEGER) AS spend_daily,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'dining') AS INTEGER) AS spend_dining,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'travel') AS INTEGER) AS spend_travel,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'shopping') AS INTEGER) AS spend_shopping,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'luxury') AS INTEGER) AS spend_luxury,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'education') AS INTEGER) AS spend_education,
       CAST(count(*) FILTER (txn_type = 'PURCHASE' AND grp = 'other') AS INTEGER) AS spend_other
FROM (SELECT *, CASE WHEN mcc IN ('5411', '5912', '5541', '5542', '5499') THEN 'daily'
                     WHEN mcc IN ('5812', '5813', '5814') THEN 'dining'
                     WHEN mcc IN ('4511', '7011', '4121', '4111', '4112', '4722') THEN 'travel'
                     WHEN mcc IN ('5311', '5691', '5651', '5732', '5999') THEN 'shopping'
                     WHEN mcc IN ('5944', '5977', '5681', '5094') THEN 'luxury'
                     WHEN mcc IN ('8211', '8220', '8299') THEN 'education'
                     ELSE 'other' END AS grp
      FROM core.card_txn WHERE {scope:card})
GROUP BY party_id, card_account_id, CAST(txn_time AS DATE)
UNION ALL BY NAME
SELECT party_id, 'ebank' AS src, user_id AS src_key, CAST(ts AS DATE) AS day,
       CAST(count(*) AS INTEGER) AS n, max(ts) AS last_at,
       CAST(count(*) FILTER (event_type = 'LOGIN') AS INTEGER) AS logins,
       max(ts) FILTER (event_type = 'LOGIN') AS last_login,
       CAST(count(*) FILTER (event_type = 'TRANSFER_OUT') AS INTEGER) AS transfers_out,
       sum(amount) FILTER (event_type = 'TRANSFER_OUT' AND currency = 'CNY') AS transfer_out_cny,
       CAST(count(*) FILTER (event_type = 'FX_SETTLEMENT') AS INTEGER) AS fx_settlements,
       CAST(count(*) FILTER (event_type = 'PAYROLL') AS INTEGER) AS payrolls,
       CAST(count(*) FILTER (event_type = 'BILL_PAY') AS INTEGER) AS bill_pays,
       CAST(count(*) FILTER (event_type = 'PRODUCT_VIEW') AS INTEGER) AS product_views,
       CAST(count(*) FILTER (coalesce(cross_border, false)) AS INTEGER) AS cross_border_events,
       -- FX settlements and cross-border transfers out.
       CAST(count(*) FILTER (event_type = 'FX_SETTLEMENT' OR (event_type = 'TRANSFER_OUT' AND cross_border)) AS INTEGER) AS fx_payments,
       -- CNY transfers in and out and bill payments.
       sum(amount) FILTER (event_type IN ('TRANSFER_IN', 'TRANSFER_OUT', 'BILL_PAY') AND currency = 'CNY') AS settled_cny,
       -- Every money movement, any currency (the tier model's monetary input).
       sum(amount) FILTER (event_type IN ('TRANSFER_OUT', 'TRANSFER_IN', 'FX_SETTLEMENT', 'BILL_PAY', 'PAYROLL')) AS settled_amount,
       CAST(count(*) FILTER (channel = 'APP') AS INTEGER) AS via_app,
       CAST(count(*) FILTER (channel = 'WEB') AS INTEGER) AS via_web,
       CAST(count(*) FILTER (channel = 'CORP_WEB') AS INTEGER) AS via_corp_web,
       CAST(count(*) FILTER (channel = 'WECHAT') AS INTEGER) AS via_wechat
FROM core.digital_event WHERE {scope:ebank}
GROUP BY party_id, user_id, CAST(ts AS DATE)
UNION ALL BY NAME
SELECT party_id, 'wealth' AS src, client_id AS src_key, CAST(trade_time AS DATE) AS day,
       CAST(count(*) AS INTEGER) AS n, max(trade_time) AS last_at,
       CAST(count(*) FILTER (side = 'BUY') AS INTEGER) AS buys,
       CAST(count(*) FILTER (side = 'REDEEM') AS INTEGER) AS redemptions,
       -- Bought minus redeemed or matured, and how many trades that counts.
       sum(CASE WHEN side = 'BUY' THEN amount_cny ELSE -amount_cny END) FILTER (side IN ('BUY', 'REDEEM', 'MATURE')) AS net_flow,
       CAST(count(*) FILTER (side IN ('BUY', 'REDEEM', 'MATURE')) AS INTEGER) AS flow_trades,
       sum(amount_cny) AS traded_amount,
       CAST(count(*) FILTER (channel = 'APP') AS INTEGER) AS via_app,
       CAST(count(*) FILTER (channel = 'WEB') AS INTEGER) AS via_web,
       CAST(count(*) FILTER (channel = 'COUNTER') AS INTEGER) AS via_counter,
       CAST(count(*) FILTER (channel = 'RM') AS INTEGER) AS via_rm
FROM core.trade WHERE {scope:wealth}
GROUP BY party_id, client_id, CAST(trade_time AS DATE)
-- incremental:
CREATE OR REPLACE TEMP TABLE cdp_activity_keys AS
SELECT DISTINCT * FROM (
    SELECT 'card' AS src, card_account_id AS src_key, CAST(txn_time AS DATE) AS day FROM cdp_changed_card_txn
    UNION ALL SELECT 'wealth', client_id, CAST(trade_time AS DATE) FROM cdp_changed_trade
    UNION ALL SELECT 'ebank', user_id, CAST(ts AS DATE) FROM cdp_changed_digital_event);
UPDATE core.activity_day t SET party_id = m.party_id FROM cdp_moved m
WHERE t.src IN ('wealth', 'ebank') AND m.system = t.src AND t.src_key = m.source_key;
UPDATE core.activity_day t SET party_id = a.party_id FROM core.card_account a
WHERE t.src = 'card' AND t.src_key = a.card_account_id AND t.src_key IN (SELECT card_account_id FROM cdp_touched_card_account)
  AND t.party_id IS DISTINCT FROM a.party_id;
DELETE FROM core.activity_day t USING cdp_activity_keys k
WHERE t.src = k.src AND t.src_key = k.src_key AND t.day = k.day;
INSERT INTO core.activity_day BY NAME {definition};
