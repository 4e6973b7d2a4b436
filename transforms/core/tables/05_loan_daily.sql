-- core.loan_daily: every loan on every snapshot day, the series a
-- five-class downgrade is read from.
-- kind: latest
-- key: loan_no, as_of_date
-- newest: load_id
-- repoint: party_id = credit.cust_no
SELECT x.party_id, l.loan_no, l.cust_no, l.balance, l.five_class, l.overdue_days, l.status, l.interest_rate, l.currency,
       CAST(strptime({date:l}, '%Y%m%d') AS DATE) AS as_of_date, l._source AS source_ref, l._load_id AS load_id
FROM raw.credit_loans l
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = l.cust_no
WHERE {new:l}
