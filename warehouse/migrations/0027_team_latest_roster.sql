-- core.team_as_of(d), as in 0019, reading only the latest roster. The
-- roster is a daily full snapshot, so raw.contact_team holds one copy of
-- the bank's teams per delivered day. 0019 resolved every delivered row to
-- its party (core.party, the successors, core.party_xref) before it picked
-- the latest day; at 5M parties that join alone outgrew DuckDB's memory
-- limit. Now the latest day is picked from the file dates first, and only
-- its assignments valid on d are resolved, once (the roster is used twice
-- below: MATERIALIZED keeps DuckDB from computing it twice).
CREATE OR REPLACE MACRO core.team_as_of(d) AS TABLE
WITH dated AS (
    SELECT t.party_id, t.system, t.source_key, t.member_id, t.role, t.valid_from, t.valid_to,
           core.file_date(t._source) AS roster_date
    FROM raw.contact_team t
), latest AS (
    SELECT max(roster_date) AS roster_date FROM dated WHERE roster_date <= CAST(d AS DATE)
), roster AS MATERIALIZED (
    -- Two assignments of one member in one role: the widest span (an open
    -- end stays open).
    SELECT coalesce(p.party_id, s.party_id, x.party_id) AS party_id, t.member_id, t.role,
           CASE WHEN bool_or(t.valid_from IS NULL) THEN NULL ELSE min(t.valid_from) END AS valid_from,
           CASE WHEN bool_or(t.valid_to IS NULL) THEN NULL ELSE max(t.valid_to) END AS valid_to,
           any_value(t.roster_date) AS roster_date
    FROM dated t JOIN latest USING (roster_date)
    LEFT JOIN core.party p ON p.party_id = t.party_id
    LEFT JOIN core.party_successor s ON s.old_party_id = t.party_id
    LEFT JOIN core.party_xref x ON x.system = t.system AND x.source_key = t.source_key
    WHERE (t.valid_from IS NULL OR t.valid_from <= CAST(d AS DATE))
      AND (t.valid_to IS NULL OR t.valid_to >= CAST(d AS DATE))
      AND coalesce(p.party_id, s.party_id, x.party_id) IS NOT NULL
    GROUP BY coalesce(p.party_id, s.party_id, x.party_id), t.member_id, t.role
)
SELECT party_id, member_id, role, 'roster' AS source, valid_from, valid_to, roster_date FROM roster
UNION ALL
SELECT p.party_id, p.rm_id, 'RM', 'golden_record', CAST(NULL AS DATE), CAST(NULL AS DATE), CAST(NULL AS DATE)
FROM core.party p
WHERE nullif(p.rm_id, '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM roster r WHERE r.party_id = p.party_id AND r.role = 'RM');
