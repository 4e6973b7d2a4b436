-- core.holding_daily: every holding on every snapshot day, the input of the
-- AUM series: the wealth system's investments, and deposits from their
-- system of record (cdp.yaml system_of_record: deposits: core_banking, the
-- default, or wealth), so no deposit is counted twice. A wealth row has
-- client_id, a core banking row cust_no and acct_no; system says which.
-- rate is a deposit's interest rate paid and fee_rate an investment's
-- yearly fee to the bank, both percent a year.
-- kind: latest
-- key: client_id, cust_no, acct_no, product_code, as_of_date
-- newest: load_id, source_ref
-- repoint: party_id = wealth.client_id
-- repoint: party_id = core_banking.cust_no
SELECT x.party_id, h.client_id, h.product_code, h.product_type, h.currency, h.amount_cny, h.open_date,
       h.maturity_date, h.product_risk, h.as_of_date, h._source AS source_ref, h._load_id AS load_id,
       'wealth' AS system, NULL::VARCHAR AS cust_no, NULL::VARCHAR AS acct_no, NULL::DECIMAL(7,4) AS rate,
       NULL::INTEGER AS term_months, NULL::BOOLEAN AS auto_renew, NULL::VARCHAR AS renewed_from, h.fee_rate
FROM raw.wealth_holdings h
LEFT JOIN core.party_xref x ON x.system = 'wealth' AND x.source_key = h.client_id
WHERE {new:h} AND ({sor:deposits=wealth} OR h.product_type NOT IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD'))
UNION ALL
SELECT x.party_id, NULL, d.product_code, d.product_type, d.currency, d.balance_cny, d.open_date,
       d.maturity_date, 'R1', d.as_of_date, d._source, d._load_id,
       'core_banking', d.cust_no, d.acct_no, d.rate, d.term_months, d.auto_renew, d.renewed_from, NULL
FROM raw.core_banking_deposits d
LEFT JOIN core.party_xref x ON x.system = 'core_banking' AND x.source_key = d.cust_no
WHERE {new:d} AND {sor:deposits=core_banking}
