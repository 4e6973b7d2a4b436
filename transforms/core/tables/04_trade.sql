-- core.trade: every wealth trade (increments), once.
-- kind: latest
-- key: trade_id
-- newest: load_id
-- repoint: party_id = wealth.client_id
SELECT x.party_id, t.trade_id, t.client_id, t.product_code, t.side, t.amount_cny, t.trade_time, t.channel, t.fee,
       t._source AS source_ref, t._load_id AS load_id
FROM raw.wealth_trades t
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = t.client_id
WHERE {new:t}
