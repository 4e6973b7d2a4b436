-- core.card_txn: every card transaction (increments), once; its party is
-- its card account's.
-- kind: latest
-- key: txn_id
-- newest: load_id
-- follows: core.card_account (card_account_id)
SELECT a.party_id, t.txn_id, t.card_account_id, t.txn_time, t.amount, t.currency, t.mcc, t.merchant_name,
       t.country_code, t.channel, t.txn_type, t.fee, t.interchange, t._source AS source_ref, t._load_id AS load_id
FROM raw.card_txns t
LEFT JOIN core.card_account a USING (card_account_id)
WHERE {new:t}
