-- The external feed (vendors' statements, public opinion, industry
-- indices) names companies by their unified social credit code. Each
-- company party's organisation code (the 9th to 17th characters of the
-- code, the identity stage's deterministic key "O" + code) resolves them;
-- a code two parties share resolves to neither. Always current: it reads
-- the identity stage's own table.
CREATE OR REPLACE VIEW core.company_code AS
SELECT substr(match_key, 2) AS org_code, min(party_id) AS party_id
FROM core.party_xref WHERE party_type = 'C' AND starts_with(match_key, 'O')
GROUP BY 1 HAVING count(DISTINCT party_id) = 1;
