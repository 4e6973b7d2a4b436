-- core.monthly_history: each customer's monthly summary from core
-- banking's management accounting (月日均: deposits' and loans' average
-- daily balances, fee income, net interest), once per customer and month:
-- a later delivery of a month replaces an earlier one. The key-account
-- criteria read the months before cdp's own daily figures
-- (mart.contribution) begin.
-- kind: latest
-- key: cust_no, month
-- newest: load_id, source_ref
-- repoint: party_id = core_banking.cust_no
SELECT x.party_id, m.cust_no, CAST(date_trunc('month', m.month) AS DATE) AS month, m.deposit_adb, m.loan_adb, m.fee_income, m.nii,
       m._source AS source_ref, m._load_id AS load_id
FROM raw.core_banking_monthly m
LEFT JOIN core.party_xref x ON x.system = 'core_banking' AND x.source_key = m.cust_no
WHERE {new:m}
