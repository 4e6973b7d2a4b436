-- core.company_profile: each company's industry code, founding day and
-- revenue this and last year, as in the latest credit customers snapshot
-- it appeared in (last_seen): the inputs of the enterprise stage
-- (core.enterprise_stage) and the industry groups (core.party_industry_group).
-- kind: latest
-- key: cust_no
-- newest: last_seen, load_id
-- repoint: party_id = credit.cust_no
SELECT x.party_id, c.cust_no, c.industry_code, c.founded_on, c.annual_revenue, c.prior_year_revenue,
       {date:c} AS last_seen, c._source AS source_ref, c._load_id AS load_id
FROM raw.credit_customers c
LEFT JOIN core.party_xref x ON x.system = 'credit' AND x.source_key = c.cust_no
WHERE {new:c} AND c.cust_type = 'C'
