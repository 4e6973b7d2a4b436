-- core.settlement: every core banking settlement (increments), once: money
-- in and out of the customer's accounts by counter, e-banking, batch
-- payroll, SWIFT and bills, with the counterparty.
-- kind: latest
-- key: txn_id
-- newest: load_id
-- repoint: party_id = core_banking.cust_no
SELECT x.party_id, s.txn_id, s.cust_no, s.acct_no, s.txn_time, s.direction, s.amount, s.currency, s.amount_cny,
       s.channel, s.counterparty_name, s.counterparty_acct, s.counterparty_bank, s.fee, s.purpose,
       s._source AS source_ref, s._load_id AS load_id
FROM raw.core_banking_settlements s
LEFT JOIN core.party_xref x ON x.system = 'core_banking' AND x.source_key = s.cust_no
WHERE {new:s}
