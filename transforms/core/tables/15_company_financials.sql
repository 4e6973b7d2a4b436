-- core.company_financials: each company's yearly financial statements from
-- the external feed (企业财报), one row per credit code and fiscal year: the
-- delivery of the latest business day (then the latest load) wins, so a
-- restatement replaces the first report and a backfilled older file does
-- not undo it. The company is named by its unified social credit code,
-- resolved to the party by its organisation code (core.company_code;
-- party_id NULL for a company that is not the bank's). debt_ratio is
-- liabilities ÷ assets (NULL when the assets are not positive or the ratio
-- is beyond reason). Rebuilt whole every build (a few rows a company), so
-- a company that becomes a client, or whose party changes, is resolved at
-- once. core.party_financials has one row per party and year.
-- kind: derived
SELECT c.party_id, f.credit_code, f.fiscal_year, f.report_date, f.revenue, f.net_profit, f.total_assets, f.total_liabilities,
       f.operating_cash_flow, TRY_CAST(f.total_liabilities / CASE WHEN f.total_assets > 0 THEN f.total_assets END AS DECIMAL(9,4)) AS debt_ratio,
       f.provider, f.source_ref, f.load_id
FROM (
    SELECT upper(trim(x.credit_code)) AS credit_code, x.fiscal_year, x.report_date, x.revenue, x.net_profit,
           x.total_assets, x.total_liabilities, x.operating_cash_flow, x.provider, x._source AS source_ref, x._load_id AS load_id
    FROM raw.external_financials x
    QUALIFY row_number() OVER (PARTITION BY upper(trim(x.credit_code)), x.fiscal_year ORDER BY {date:x} DESC, x._load_id DESC, x._source DESC) = 1
) f
LEFT JOIN core.company_code c ON c.org_code = substr(f.credit_code, 9, 9)
