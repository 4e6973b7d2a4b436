-- mart.contribution: what each party brings the bank, per calendar month
-- (综合贡献度): net interest income on loans and deposits against the funds
-- transfer price, and fee and commission income by source. Conventions
-- (docs/tiers-and-360.md, "Contribution"):
--   * a snapshot's balance holds from its day until the feed's next
--     snapshot day (so a weekend without files still accrues), at most to
--     the month's end and to the run's day;
--   * interest actual/365 on those day-weighted balances: the loan's
--     interest_rate (a fraction a year), a deposit's rate (percent a
--     year); the FTP at the product's original tenor from tiers:
--     contribution: ftp_curve (linear between points, flat beyond);
--   * foreign-currency loans at tiers: contribution: fx_to_cny; a loan or
--     deposit without a rate or a known currency is left out and counted
--     (loans_unpriced, deposits_unpriced);
--   * fees in the month their transaction is booked;
--   * each component is rounded to the cent per party and month (half
--     away from zero), and every total is the sum of its rounded parts;
--   * the interest the credit feed delivers (repayments' interest_paid, by
--     the day paid) is reported beside the computed interest with the
--     difference, not folded in.
-- {ftp} is the curve as segments, {fx} the currencies' rates.
CREATE OR REPLACE TABLE mart.contribution AS
WITH run AS (
    SELECT greatest((SELECT max(as_of_date) FROM core.loan_daily), (SELECT max(as_of_date) FROM core.holding_daily)) AS d
), ftp(m_from, m_to, r_from, r_to) AS (
    VALUES {ftp}
), fx(currency, rate) AS (
    VALUES {fx}
), loan_days AS (
    SELECT d, least(coalesce(lead(d) OVER (ORDER BY d), (SELECT d FROM run) + 1),
                    CAST(date_trunc('month', d) + INTERVAL 1 MONTH AS DATE)) - d AS w
    FROM (SELECT DISTINCT as_of_date AS d FROM core.loan_daily)
), holding_days AS (
    SELECT system, d, least(coalesce(lead(d) OVER (PARTITION BY system ORDER BY d), (SELECT d FROM run) + 1),
                            CAST(date_trunc('month', d) + INTERVAL 1 MONTH AS DATE)) - d AS w
    FROM (SELECT DISTINCT system, as_of_date AS d FROM core.holding_daily)
), months AS (
    -- the days each month's figures cover: from its first snapshot day to
    -- the month's end or the run's day
    SELECT CAST(date_trunc('month', d) AS DATE) AS month, min(d) AS first_day,
           least(max(CAST(date_trunc('month', d) + INTERVAL 1 MONTH AS DATE)) - 1, (SELECT d FROM run)) AS last_day
    FROM (SELECT d FROM loan_days UNION SELECT d FROM holding_days) GROUP BY ALL
), priced_loans AS (
    SELECT ld.party_id, CAST(date_trunc('month', ld.as_of_date) AS DATE) AS month, ld.loan_no, w.w,
           CAST(ld.balance AS DOUBLE) * fx.rate AS bal, CAST(ld.interest_rate AS DOUBLE) AS r,
           coalesce(date_diff('month', l.start_date, l.maturity_date), 12) AS tenor,
           fx.rate IS NULL OR ld.interest_rate IS NULL AS unpriced
    FROM core.loan_daily ld JOIN loan_days w ON w.d = ld.as_of_date
    LEFT JOIN core.loan l USING (loan_no)
    LEFT JOIN fx ON fx.currency = coalesce(ld.currency, l.currency)
    WHERE ld.party_id IS NOT NULL AND ld.status = 'ACTIVE'
), loans AS (
    SELECT p.*, f.r_from + (f.r_to - f.r_from) * (p.tenor - f.m_from) / greatest(f.m_to - f.m_from, 1e-9) AS ftp
    FROM priced_loans p JOIN ftp f ON p.tenor >= f.m_from AND p.tenor < f.m_to
), holdings AS (
    SELECT h.party_id, CAST(date_trunc('month', h.as_of_date) AS DATE) AS month, coalesce(h.acct_no, h.product_code) AS acct,
           w.w, CAST(h.amount_cny AS DOUBLE) AS bal, h.product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD') AS deposit,
           CAST(h.rate AS DOUBLE) AS r, CAST(h.fee_rate AS DOUBLE) AS fee_rate,
           CASE WHEN h.product_type = 'DEMAND' THEN 0
                ELSE coalesce(h.term_months, date_diff('month', h.open_date, h.maturity_date), 0) END AS tenor
    FROM core.holding_daily h JOIN holding_days w ON w.system = h.system AND w.d = h.as_of_date
    WHERE h.party_id IS NOT NULL
), deposits AS (
    SELECT h.*, f.r_from + (f.r_to - f.r_from) * (h.tenor - f.m_from) / greatest(f.m_to - f.m_from, 1e-9) AS ftp
    FROM holdings h JOIN ftp f ON h.tenor >= f.m_from AND h.tenor < f.m_to
    WHERE h.deposit
), parts(party_id, month, k, v) AS (
    SELECT party_id, month, 'loan_bd', sum(w * bal) FROM loans WHERE NOT unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loan_interest', sum(w * bal * r) / 365 FROM loans WHERE NOT unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loan_ftp', sum(w * bal * ftp / 100) / 365 FROM loans WHERE NOT unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loans_unpriced', count(DISTINCT loan_no) FROM loans WHERE unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_bd', sum(w * bal) FROM deposits WHERE r IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_interest', sum(w * bal * r / 100) / 365 FROM deposits WHERE r IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_ftp', sum(w * bal * ftp / 100) / 365 FROM deposits WHERE r IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposits_unpriced', count(DISTINCT acct) FROM deposits WHERE r IS NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'investment_bd', sum(w * bal) FROM holdings WHERE NOT deposit GROUP BY ALL
    UNION ALL SELECT party_id, month, 'fee_wealth_management', sum(w * bal * fee_rate / 100) / 365
              FROM holdings WHERE NOT deposit AND fee_rate IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', trade_time) AS DATE), 'fee_wealth_sales', sum(fee)
              FROM core.trade WHERE party_id IS NOT NULL AND fee IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE), 'fee_card', sum(fee)
              FROM core.card_txn WHERE party_id IS NOT NULL AND fee IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE), 'fee_card_interchange', sum(interchange)
              FROM core.card_txn WHERE party_id IS NOT NULL AND interchange IS NOT NULL GROUP BY ALL
    -- core banking's fees by channel: SWIFT is cross-border (FX), BILL the
    -- bill business, BATCH cash management (payroll, collections), the
    -- counter and e-banking plain settlement
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE),
                     CASE channel WHEN 'SWIFT' THEN 'fee_fx' WHEN 'BILL' THEN 'fee_bill' WHEN 'BATCH' THEN 'fee_cash_management'
                                  ELSE 'fee_settlement' END, sum(fee)
              FROM core.settlement WHERE party_id IS NOT NULL AND fee IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', paid_date) AS DATE), 'loan_interest_delivered', sum(interest_paid)
              FROM core.repayment WHERE party_id IS NOT NULL AND paid_date IS NOT NULL AND interest_paid IS NOT NULL GROUP BY ALL
), cents AS (
    SELECT p.party_id, p.month, any_value(m.first_day) AS first_day, any_value(m.last_day) AS last_day,
           CAST(coalesce(any_value(m.last_day) - any_value(m.first_day) + 1, 0) AS INTEGER) AS days,
           CAST(round(coalesce(sum(v) FILTER (k = 'loan_bd'), 0) / any_value(m.last_day - m.first_day + 1), 2) AS DECIMAL(18,2)) AS loan_adb,
           CAST(round(coalesce(sum(v) FILTER (k = 'loan_interest'), 0), 2) AS DECIMAL(18,2)) AS loan_interest,
           CAST(round(coalesce(sum(v) FILTER (k = 'loan_ftp'), 0), 2) AS DECIMAL(18,2)) AS loan_ftp,
           CAST(round(coalesce(sum(v) FILTER (k = 'deposit_bd'), 0) / any_value(m.last_day - m.first_day + 1), 2) AS DECIMAL(18,2)) AS deposit_adb,
           CAST(round(coalesce(sum(v) FILTER (k = 'deposit_interest'), 0), 2) AS DECIMAL(18,2)) AS deposit_interest,
           CAST(round(coalesce(sum(v) FILTER (k = 'deposit_ftp'), 0), 2) AS DECIMAL(18,2)) AS deposit_ftp,
           CAST(round(coalesce(sum(v) FILTER (k = 'investment_bd'), 0) / any_value(m.last_day - m.first_day + 1), 2) AS DECIMAL(18,2)) AS investment_adb,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_wealth_sales'), 0), 2) AS DECIMAL(18,2)) AS fee_wealth_sales,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_wealth_management'), 0), 2) AS DECIMAL(18,2)) AS fee_wealth_management,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_card'), 0), 2) AS DECIMAL(18,2)) AS fee_card,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_card_interchange'), 0), 2) AS DECIMAL(18,2)) AS fee_card_interchange,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_settlement'), 0), 2) AS DECIMAL(18,2)) AS fee_settlement,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_fx'), 0), 2) AS DECIMAL(18,2)) AS fee_fx,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_bill'), 0), 2) AS DECIMAL(18,2)) AS fee_bill,
           CAST(round(coalesce(sum(v) FILTER (k = 'fee_cash_management'), 0), 2) AS DECIMAL(18,2)) AS fee_cash_management,
           CAST(round(coalesce(sum(v) FILTER (k = 'loan_interest_delivered'), 0), 2) AS DECIMAL(18,2)) AS loan_interest_delivered,
           CAST(coalesce(sum(v) FILTER (k = 'loans_unpriced'), 0) AS INTEGER) AS loans_unpriced,
           CAST(coalesce(sum(v) FILTER (k = 'deposits_unpriced'), 0) AS INTEGER) AS deposits_unpriced
    -- (a month with fees but no snapshot has no days and no averages)
    FROM parts p LEFT JOIN months m USING (month)
    GROUP BY p.party_id, p.month
)
SELECT c.party_id, coalesce(pt.party_type, '?') AS party_type, c.month, c.first_day, c.last_day, c.days,
       c.loan_adb, c.loan_interest, c.loan_ftp, c.loan_interest - c.loan_ftp AS loan_nii,
       c.deposit_adb, c.deposit_interest, c.deposit_ftp, c.deposit_ftp - c.deposit_interest AS deposit_nii,
       c.investment_adb,
       c.fee_wealth_sales, c.fee_wealth_management, c.fee_card, c.fee_card_interchange,
       c.fee_settlement, c.fee_fx, c.fee_bill, c.fee_cash_management,
       c.fee_wealth_sales + c.fee_wealth_management + c.fee_card + c.fee_card_interchange
         + c.fee_settlement + c.fee_fx + c.fee_bill + c.fee_cash_management AS fee_income,
       (c.loan_interest - c.loan_ftp) + (c.deposit_ftp - c.deposit_interest) AS nii,
       (c.loan_interest - c.loan_ftp) + (c.deposit_ftp - c.deposit_interest)
         + c.fee_wealth_sales + c.fee_wealth_management + c.fee_card + c.fee_card_interchange
         + c.fee_settlement + c.fee_fx + c.fee_bill + c.fee_cash_management AS contribution,
       c.loan_interest_delivered, c.loan_interest_delivered - c.loan_interest AS loan_interest_difference,
       c.loans_unpriced, c.deposits_unpriced
FROM cents c LEFT JOIN core.party pt USING (party_id)
ORDER BY c.month, c.party_id
