-- core.company_financials: each company's yearly financial statements from
-- the external feed (企业财报), one row per credit code and fiscal year: a
-- later delivery of a year (a restatement) replaces an earlier one. The
-- company is named by its unified social credit code, resolved to the
-- party by its organisation code (core.company_code; party_id NULL for a
-- company that is not the bank's). debt_ratio is liabilities ÷ assets.
-- Rebuilt whole every build (a few rows a company), so a company that
-- becomes a client, or whose party changes, is resolved at once.
-- kind: derived
SELECT c.party_id, f.credit_code, f.fiscal_year, f.report_date, f.revenue, f.net_profit, f.total_assets, f.total_liabilities,
       f.operating_cash_flow, CAST(f.total_liabilities / nullif(f.total_assets, 0) AS DECIMAL(9,4)) AS debt_ratio,
       f.provider, f.source_ref, f.load_id
FROM (
    SELECT upper(replace(replace(credit_code, '-', ''), ' ', '')) AS credit_code, fiscal_year, report_date, revenue, net_profit,
           total_assets, total_liabilities, operating_cash_flow, provider, _source AS source_ref, _load_id AS load_id
    FROM raw.external_financials
    QUALIFY row_number() OVER (PARTITION BY credit_code, fiscal_year ORDER BY _load_id DESC, report_date DESC NULLS LAST, _source DESC) = 1
) f
LEFT JOIN core.company_code c ON c.org_code = substr(f.credit_code, 9, 9)
