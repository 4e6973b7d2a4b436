-- mart.party_owner: who owns each party, one row per party. cdp serve
-- limits a scoped user (serve.sql.users[].branches, rm_ids) to the parties
-- owned by their branches or RMs, in every mart table; analysts read it to
-- see why a party is in a portfolio.
--
-- The owner is the party's relationship manager (owner_rm), else the branch
-- of its golden record, else the branch of its oldest source record (the
-- record first delivered, by business date; the five contracts' account
-- tables carry no branch, their customer records do). owner_branch is the
-- golden record's branch, else that oldest record's, for RM-owned parties
-- too: it is the branch a branch-scoped user sees them under. A party with
-- neither is visible to unscoped users only (owner_rule NULL).
-- team_members lists the members of its service team (mart.party_team): a
-- user scoped to members sees the parties of their teams.
CREATE OR REPLACE TABLE mart.party_owner AS
WITH oldest AS (
    SELECT party_id, arg_min(branch_code, (coalesce(business_date, ''), system, source_key)) AS branch_code
    FROM core.party_xref WHERE branch_code IS NOT NULL AND branch_code <> '' GROUP BY party_id
)
SELECT p.party_id,
       nullif(p.rm_id, '') AS owner_rm,
       coalesce(nullif(p.branch_code, ''), o.branch_code) AS owner_branch,
       CASE WHEN nullif(p.rm_id, '') IS NOT NULL THEN 'rm'
            WHEN nullif(p.branch_code, '') IS NOT NULL THEN 'golden_branch'
            WHEN o.branch_code IS NOT NULL THEN 'oldest_record_branch' END AS owner_rule,
       coalesce(t.members, []) AS team_members
FROM core.party p LEFT JOIN oldest o USING (party_id)
LEFT JOIN (SELECT party_id, list(DISTINCT member_id ORDER BY member_id) AS members FROM mart.party_team GROUP BY party_id) t USING (party_id)
ORDER BY p.party_id;
