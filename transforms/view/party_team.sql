-- mart.party_team: each party's service team on the 360's day (the
-- latest roster of the contact feed on or before it, core.team_as_of),
-- the golden record's RM standing in for a roster that names no RM.
DELETE FROM mart.party_team;
INSERT INTO mart.party_team
SELECT party_id, member_id, role, core.team_role_zh(role) AS role_zh,
       source, valid_from, valid_to, roster_date, (SELECT coalesce(max(as_of), current_date) FROM mart.customer_360)
FROM core.team_as_of((SELECT coalesce(max(as_of), current_date) FROM mart.customer_360))
ORDER BY party_id, role, member_id;
