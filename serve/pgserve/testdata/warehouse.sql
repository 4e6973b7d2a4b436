-- A small warehouse for the SQL endpoint's tests: full identities in
-- core.party, masked ones in mart.customer_360, a raw feed table.
CREATE TABLE raw.demo_events AS
SELECT range AS event_id, 'LOGIN' AS event_type FROM range(50);

INSERT INTO core.party (party_id, party_type, name, id_no, mobile, source_records, fingerprint)
SELECT 'P' || lpad(range::VARCHAR, 2, '0'), 'P', '客户' || range,
       '11010519491231' || lpad(range::VARCHAR, 4, '0'), '1380013' || lpad(range::VARCHAR, 4, '0'), 1, range
FROM range(20);

CREATE TABLE mart.customer_360 AS
SELECT party_id, name,
       left(id_no, 6) || '********' || right(id_no, 4) AS id_no_masked,
       left(mobile, 3) || '****' || right(mobile, 4) AS mobile_masked,
       CAST(1000.5 + fingerprint AS DECIMAL(18, 2)) AS aum,
       TIMESTAMPTZ '2026-11-20 02:00:00Z' AS updated_at
FROM core.party;

-- Who owns each party (transforms/view/party_owner.sql): the analyst
-- snapshot is written with row-level scope.
-- Parties whose fingerprint is a multiple of 5 have team member S1 (and
-- S2); those one more than a multiple of 5, S2 alone.
CREATE TABLE mart.party_owner AS
SELECT party_id, 'RM' || (fingerprint % 3) AS owner_rm, 'BR0' || (fingerprint % 2) AS owner_branch, 'rm' AS owner_rule,
       CASE fingerprint % 5 WHEN 0 THEN ['S1', 'S2'] WHEN 1 THEN ['S2'] ELSE [] END::VARCHAR[] AS team_members
FROM core.party;

-- A figure by branch (scoped by its branch_code) and a whole-bank one
-- (no party, branch or RM column: unscoped analysts only).
CREATE TABLE mart.branch_totals AS
SELECT owner_branch AS branch_code, count(*) AS parties FROM mart.party_owner GROUP BY ALL;
CREATE TABLE mart.bank_totals AS SELECT count(*) AS parties FROM core.party;
-- A figure by team member (scoped by its member_id).
CREATE TABLE mart.member_totals AS
SELECT m AS member_id, count(*) AS parties FROM (SELECT unnest(team_members) AS m FROM mart.party_owner) GROUP BY ALL;
