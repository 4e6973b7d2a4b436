-- core.holding_daily: every wealth holding on every snapshot day, the input
-- of the AUM series.
-- kind: latest
-- key: client_id, product_code, as_of_date
-- newest: load_id, source_ref
-- repoint: party_id = wealth.client_id
SELECT x.party_id, h.client_id, h.product_code, h.product_type, h.currency, h.amount_cny, h.open_date,
       h.maturity_date, h.product_risk, h.as_of_date, h._source AS source_ref, h._load_id AS load_id
FROM raw.wealth_holdings h
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = h.client_id
WHERE {new:h}
