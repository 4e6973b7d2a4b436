-- core.repayment: every instalment (loan, due date), its latest word (the
-- snapshot it last appeared in, last_seen); its party is its loan's.
-- kind: latest
-- key: loan_no, due_date
-- newest: last_seen, load_id
-- follows: core.loan (loan_no)
SELECT l.party_id, r.loan_no, r.due_date, r.paid_date, r.principal_due, r.principal_paid, r.interest_paid,
       {date:r} AS last_seen, r._source AS source_ref, r._load_id AS load_id
FROM raw.credit_repayments r
LEFT JOIN core.loan l USING (loan_no)
WHERE {new:r}
