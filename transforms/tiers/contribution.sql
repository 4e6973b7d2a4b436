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
--     deposit without a rate or a known currency is left out of interest
--     and FTP and counted (loans_unpriced, deposits_unpriced; its balance
--     still counts in the average, a loan's when its currency is known);
--   * fees in the month their transaction is booked;
--   * each component is rounded to the cent per party and month (half
--     away from zero), and every total is the sum of its rounded parts;
--   * the interest the credit feed delivers (repayments' interest_paid, by
--     the day paid) is reported beside the computed interest with the
--     difference, not folded in.
-- {ftp} is the curve as segments, {fx} the currencies' rates. {into}
-- replaces the whole table, or inserts the months contribution.go
-- rebuilds (it deletes them first: a month's rows read only that month's
-- inputs); {in_month}, as cdp_in_month, says which rows a build reads.
-- Amounts are integers (cents, rates in millionths a year) until
-- cdp_cents divides and rounds once, half away from zero, to a
-- DECIMAL(18,2): a rebuild gives the same cents, whatever order the sums
-- run in.
CREATE OR REPLACE TEMP MACRO cdp_cents(n, d) AS
    CAST(CAST(CASE WHEN n >= 0 THEN (2 * CAST(n AS HUGEINT) + d) // (2 * d) ELSE -((-2 * CAST(n AS HUGEINT) + d) // (2 * d)) END AS DECIMAL(20,0))
         * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(18,2));
CREATE OR REPLACE TEMP MACRO cdp_in_month(m) AS {in_month};
{into}
WITH run AS (
    SELECT greatest((SELECT max(as_of_date) FROM core.loan_daily), (SELECT max(as_of_date) FROM core.holding_daily)) AS d
), ftp(m_from, m_to, r_from, r_to) AS (
    VALUES {ftp}
), fx(currency, rate) AS (
    SELECT currency, CAST(rate AS DECIMAL(18,6)) FROM (VALUES {fx}) t(currency, rate)
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
    -- exact arithmetic throughout (so a rebuild gives the same cents): a
    -- balance in cents, a rate in millionths a year, products and sums in
    -- HUGEINT, one rounding at the end (cdp_cents)
    SELECT ld.party_id, CAST(date_trunc('month', ld.as_of_date) AS DATE) AS month, ld.loan_no, w.w,
           CAST(round(CAST(ld.balance AS DECIMAL(38,2)) * fx.rate, 2) * 100 AS HUGEINT) AS cents,
           CAST(ld.interest_rate * 1000000 AS HUGEINT) AS r,
           coalesce(date_diff('month', l.start_date, l.maturity_date), 12) AS tenor,
           fx.rate IS NULL OR ld.interest_rate IS NULL AS unpriced
    FROM core.loan_daily ld JOIN loan_days w ON w.d = ld.as_of_date
    LEFT JOIN core.loan l USING (loan_no)
    LEFT JOIN fx ON fx.currency = coalesce(ld.currency, l.currency)
    WHERE ld.party_id IS NOT NULL AND ld.status = 'ACTIVE' AND cdp_in_month(CAST(date_trunc('month', ld.as_of_date) AS DATE))
), loans AS (
    SELECT p.*, {ftp_at} AS ftp
    FROM priced_loans p JOIN ftp f ON p.tenor >= f.m_from AND p.tenor < f.m_to
), holdings AS (
    SELECT h.party_id, CAST(date_trunc('month', h.as_of_date) AS DATE) AS month, coalesce(h.acct_no, h.product_code) AS acct,
           w.w, CAST(h.amount_cny * 100 AS HUGEINT) AS cents, h.product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD') AS deposit,
           CAST(h.rate * 10000 AS HUGEINT) AS r, CAST(h.fee_rate * 10000 AS HUGEINT) AS fee_rate,
           CASE WHEN h.product_type = 'DEMAND' THEN 0
                ELSE coalesce(h.term_months, date_diff('month', h.open_date, h.maturity_date), 0) END AS tenor
    FROM core.holding_daily h JOIN holding_days w ON w.system = h.system AND w.d = h.as_of_date
    WHERE h.party_id IS NOT NULL AND cdp_in_month(CAST(date_trunc('month', h.as_of_date) AS DATE))
), deposits AS (
    SELECT h.*, {ftp_at} AS ftp
    FROM holdings h JOIN ftp f ON h.tenor >= f.m_from AND h.tenor < f.m_to
    WHERE h.deposit
), parts(party_id, month, k, v) AS (
    -- balance-days in cents; interest in cents × millionths a year (÷ 365
    -- and ÷ 1e6 at the end); fees in cents
    SELECT party_id, month, 'loan_bd', sum(w * cents) FROM loans WHERE cents IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loan_interest', sum(w * cents * r) FROM loans WHERE NOT unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loan_ftp', sum(w * cents * ftp) FROM loans WHERE NOT unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'loans_unpriced', count(DISTINCT loan_no) FROM loans WHERE unpriced GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_bd', sum(w * cents) FROM deposits GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_interest', sum(w * cents * r) FROM deposits WHERE r IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposit_ftp', sum(w * cents * ftp) FROM deposits WHERE r IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'deposits_unpriced', count(DISTINCT acct) FROM deposits WHERE r IS NULL GROUP BY ALL
    UNION ALL SELECT party_id, month, 'investment_bd', sum(w * cents) FROM holdings WHERE NOT deposit GROUP BY ALL
    UNION ALL SELECT party_id, month, 'fee_wealth_management', sum(w * cents * fee_rate)
              FROM holdings WHERE NOT deposit AND fee_rate IS NOT NULL GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', trade_time) AS DATE), 'fee_wealth_sales', sum(CAST(fee * 100 AS HUGEINT))
              FROM core.trade WHERE party_id IS NOT NULL AND fee IS NOT NULL AND cdp_in_month(CAST(date_trunc('month', trade_time) AS DATE)) GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE), 'fee_card', sum(CAST(fee * 100 AS HUGEINT))
              FROM core.card_txn WHERE party_id IS NOT NULL AND fee IS NOT NULL AND cdp_in_month(CAST(date_trunc('month', txn_time) AS DATE)) GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE), 'fee_card_interchange', sum(CAST(interchange * 100 AS HUGEINT))
              FROM core.card_txn WHERE party_id IS NOT NULL AND interchange IS NOT NULL AND cdp_in_month(CAST(date_trunc('month', txn_time) AS DATE)) GROUP BY ALL
    -- core banking's fees by channel: SWIFT is cross-border (FX), BILL the
    -- bill business, BATCH cash management (payroll, collections), the
    -- counter and e-banking plain settlement
    UNION ALL SELECT party_id, CAST(date_trunc('month', txn_time) AS DATE),
                     CASE channel WHEN 'SWIFT' THEN 'fee_fx' WHEN 'BILL' THEN 'fee_bill' WHEN 'BATCH' THEN 'fee_cash_management'
                                  ELSE 'fee_settlement' END, sum(CAST(fee * 100 AS HUGEINT))
              FROM core.settlement WHERE party_id IS NOT NULL AND fee IS NOT NULL AND cdp_in_month(CAST(date_trunc('month', txn_time) AS DATE)) GROUP BY ALL
    UNION ALL SELECT party_id, CAST(date_trunc('month', paid_date) AS DATE), 'loan_interest_delivered', sum(CAST(interest_paid * 100 AS HUGEINT))
              FROM core.repayment WHERE party_id IS NOT NULL AND paid_date IS NOT NULL AND interest_paid IS NOT NULL
                AND cdp_in_month(CAST(date_trunc('month', paid_date) AS DATE)) GROUP BY ALL
), cents AS (
    SELECT p.party_id, p.month, any_value(m.first_day) AS first_day, any_value(m.last_day) AS last_day,
           CAST(coalesce(any_value(m.last_day) - any_value(m.first_day) + 1, 0) AS INTEGER) AS days,
           cdp_cents(coalesce(sum(v) FILTER (k = 'loan_bd'), 0), any_value(m.last_day - m.first_day + 1)) AS loan_adb,
           cdp_cents(coalesce(sum(v) FILTER (k = 'loan_interest'), 0), 365000000) AS loan_interest,
           cdp_cents(coalesce(sum(v) FILTER (k = 'loan_ftp'), 0), 365000000) AS loan_ftp,
           cdp_cents(coalesce(sum(v) FILTER (k = 'deposit_bd'), 0), any_value(m.last_day - m.first_day + 1)) AS deposit_adb,
           cdp_cents(coalesce(sum(v) FILTER (k = 'deposit_interest'), 0), 365000000) AS deposit_interest,
           cdp_cents(coalesce(sum(v) FILTER (k = 'deposit_ftp'), 0), 365000000) AS deposit_ftp,
           cdp_cents(coalesce(sum(v) FILTER (k = 'investment_bd'), 0), any_value(m.last_day - m.first_day + 1)) AS investment_adb,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_wealth_sales'), 0), 1) AS fee_wealth_sales,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_wealth_management'), 0), 365000000) AS fee_wealth_management,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_card'), 0), 1) AS fee_card,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_card_interchange'), 0), 1) AS fee_card_interchange,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_settlement'), 0), 1) AS fee_settlement,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_fx'), 0), 1) AS fee_fx,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_bill'), 0), 1) AS fee_bill,
           cdp_cents(coalesce(sum(v) FILTER (k = 'fee_cash_management'), 0), 1) AS fee_cash_management,
           cdp_cents(coalesce(sum(v) FILTER (k = 'loan_interest_delivered'), 0), 1) AS loan_interest_delivered,
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
ORDER BY c.month, c.party_id;
DROP MACRO cdp_cents;
DROP MACRO cdp_in_month;
