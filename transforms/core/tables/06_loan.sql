-- core.loan: every loan as in the latest snapshot it appeared in
-- (last_seen): a newer snapshot replaces it, an older one delivered late
-- does not.
-- kind: latest
-- key: loan_no
-- newest: last_seen, load_id
-- repoint: party_id = credit.cust_no
SELECT x.party_id, l.loan_no, l.cust_no, l.product_code, l.product_name, l.currency, l.contract_amount,
       l.balance, l.interest_rate, l.start_date, l.maturity_date, l.five_class, l.overdue_days, l.status,
       {date:l} AS last_seen, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
WHERE {new:l}
