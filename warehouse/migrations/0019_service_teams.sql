-- Service teams (the seeds' "1+N"): who serves each customer, in which
-- role, from the contact feed's roster (raw.contact_team, created before
-- this file); the owner and team role every signal event names; the
-- funnel and the service coverage by team member.

-- core.team_member: every roster row delivered, with its party and the
-- business day of the roster file it came in (a daily full snapshot).
CREATE OR REPLACE VIEW core.team_member AS
SELECT t.assignment_id, coalesce(p.party_id, s.party_id, x.party_id) AS party_id, t.member_id, t.role,
       t.valid_from, t.valid_to,
       core.file_date(t._source) AS roster_date,
       t._source AS source_ref, t._load_id AS load_id
FROM raw.contact_team t
LEFT JOIN core.party p ON p.party_id = t.party_id
LEFT JOIN core.party_successor s ON s.old_party_id = t.party_id
LEFT JOIN core.party_xref x ON x.system = t.system AND x.source_key = t.source_key;

-- core.team_as_of(d): each party's team on day d: the assignments of the
-- latest roster delivered on or before d that hold on d (valid_to is the
-- assignment's last day), and, for a party whose roster names no RM, its
-- golden record's RM (source golden_record). A member is named once per
-- party and role.
CREATE OR REPLACE MACRO core.team_as_of(d) AS TABLE
WITH latest AS (
    SELECT max(roster_date) AS roster_date FROM core.team_member WHERE roster_date <= CAST(d AS DATE)
), roster AS (
    -- Two assignments of one member in one role: the widest span (an open
    -- end stays open).
    SELECT t.party_id, t.member_id, t.role,
           CASE WHEN bool_or(t.valid_from IS NULL) THEN NULL ELSE min(t.valid_from) END AS valid_from,
           CASE WHEN bool_or(t.valid_to IS NULL) THEN NULL ELSE max(t.valid_to) END AS valid_to,
           any_value(t.roster_date) AS roster_date
    FROM core.team_member t JOIN latest USING (roster_date)
    WHERE t.party_id IS NOT NULL
      AND (t.valid_from IS NULL OR t.valid_from <= CAST(d AS DATE))
      AND (t.valid_to IS NULL OR t.valid_to >= CAST(d AS DATE))
    GROUP BY t.party_id, t.member_id, t.role
)
SELECT party_id, member_id, role, 'roster' AS source, valid_from, valid_to, roster_date FROM roster
UNION ALL
SELECT p.party_id, p.rm_id, 'RM', 'golden_record', CAST(NULL AS DATE), CAST(NULL AS DATE), CAST(NULL AS DATE)
FROM core.party p
WHERE nullif(p.rm_id, '') IS NOT NULL AND p.party_id NOT IN (SELECT party_id FROM roster WHERE role = 'RM');

-- A team role in Chinese.
CREATE OR REPLACE MACRO core.team_role_zh(role) AS
CASE role WHEN 'RM' THEN '主办客户经理' WHEN 'PRODUCT' THEN '产品经理' WHEN 'RISK' THEN '风险经理'
          WHEN 'INVESTMENT_BANKING' THEN '投行经理' WHEN 'ADVISOR' THEN '投资顾问' ELSE role END;

-- mart.party_team: each party's team as of the last cdp view (its 360's
-- day), one row per member and role. cdp serve limits a team member's
-- scope (serve.sql.users[].members) to the parties of their teams.
-- mart.party_owner (written by cdp view) gains the team's members; a
-- warehouse whose last cdp view predates this version has none yet.
ALTER TABLE IF EXISTS mart.party_owner ADD COLUMN IF NOT EXISTS team_members VARCHAR[] DEFAULT [];

CREATE TABLE IF NOT EXISTS mart.party_team (
    party_id    VARCHAR NOT NULL,
    member_id   VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,   -- RM | PRODUCT | RISK | INVESTMENT_BANKING | ADVISOR
    role_zh     VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,   -- roster | golden_record (no RM on the roster)
    valid_from  DATE,
    valid_to    DATE,
    roster_date DATE,               -- the roster file it came from
    as_of       DATE NOT NULL
);

-- core.signal_event with the owner each event names: the team member (or
-- the queue) it is for, and the team role.
CREATE OR REPLACE VIEW core.signal_event AS
SELECT o.event_id AS ce_id, o.topic, o.time AS queued_at, o.published_at,
       json_extract_string(o.data, '$.signal_id') AS signal_id, json_extract_string(o.data, '$.state') AS state,
       json_extract_string(o.data, '$.tier') AS tier, json_extract_string(o.data, '$.rm_id') AS rm_id,
       json_extract_string(o.data, '$.branch_code') AS branch_code,
       json_extract_string(o.data, '$.owner_id') AS owner_id, json_extract_string(o.data, '$.owner_type') AS owner_type,
       json_extract_string(o.data, '$.team_role') AS team_role
FROM ops.outbox o WHERE o.topic LIKE 'cdp.signals.%';

-- mart.signal_outcomes, as in 0017, with the owner and team role of the
-- signal's first event.
CREATE OR REPLACE VIEW mart.signal_outcomes AS
WITH ev AS (
    SELECT signal_id, min(published_at) AS published_at, arg_min(tier, queued_at) AS tier,
           arg_min(rm_id, queued_at) AS rm_id, arg_min(branch_code, queued_at) AS branch_code,
           arg_min(owner_id, queued_at) AS owner_id, arg_min(owner_type, queued_at) AS owner_type,
           arg_min(team_role, queued_at) AS team_role
    FROM core.signal_event GROUP BY signal_id
), answered AS (
    SELECT e.signal_id, min(c.contact_time) AS contact_at
    FROM core.contact c JOIN core.signal_event e ON e.ce_id = c.ce_id GROUP BY e.signal_id
), oc AS (
    SELECT signal_id,
           min(outcome_time) FILTER (status = 'ACCEPTED') AS accepted_at,
           min(outcome_time) FILTER (status IN ('CONTACTED', 'INTERESTED', 'DECLINED', 'CONVERTED', 'COMPLAINT')) AS contacted_at,
           min(outcome_time) FILTER (status IN ('INTERESTED', 'CONVERTED')) AS interested_at,
           min(outcome_time) FILTER (status = 'CONVERTED') AS converted_at,
           min(outcome_time) FILTER (status = 'DECLINED') AS declined_at,
           min(outcome_time) FILTER (status = 'UNREACHABLE') AS unreachable_at,
           min(outcome_time) FILTER (status = 'COMPLAINT') AS complaint_at,
           coalesce(sum(amount) FILTER (status = 'CONVERTED'), 0) AS converted_amount,
           count(*) AS outcomes
    FROM core.outcome WHERE signal_id IS NOT NULL GROUP BY signal_id
)
SELECT s.signal_id, s.rule_id, s.kind, s.party_id, s.product, ev.tier, ev.rm_id, ev.branch_code,
       ev.owner_id, ev.owner_type, ev.team_role,
       s.opened_on, s.expires_on, s.closed_on, s.status AS signal_status,
       ev.published_at, oc.accepted_at,
       CASE WHEN a.contact_at IS NULL THEN oc.contacted_at WHEN oc.contacted_at IS NULL THEN a.contact_at
            ELSE least(a.contact_at, oc.contacted_at) END AS contacted_at,
       oc.interested_at, oc.converted_at, oc.declined_at, oc.unreachable_at, oc.complaint_at,
       coalesce(oc.converted_amount, 0) AS converted_amount, coalesce(oc.outcomes, 0) AS outcomes,
       CASE WHEN oc.converted_at IS NOT NULL THEN 'converted'
            WHEN oc.declined_at IS NOT NULL THEN 'declined'
            WHEN oc.interested_at IS NOT NULL THEN 'interested'
            WHEN a.contact_at IS NOT NULL OR oc.contacted_at IS NOT NULL THEN 'contacted'
            WHEN s.status IN ('expired', 'closed') THEN 'expired'
            WHEN ev.published_at IS NOT NULL THEN 'published'
            ELSE 'issued' END AS state
FROM mart.signals s
LEFT JOIN ev USING (signal_id)
LEFT JOIN answered a USING (signal_id)
LEFT JOIN oc USING (signal_id);

-- mart.signal_funnel, as in 0017, by the owner (team member or queue) and
-- team role as well.
CREATE OR REPLACE VIEW mart.signal_funnel AS
SELECT rule_id, kind, tier, branch_code, rm_id, owner_id, team_role, CAST(date_trunc('week', opened_on) AS DATE) AS week,
       count(*) AS signals,
       count(published_at) AS published,
       count(contacted_at) AS contacted,
       count(interested_at) AS interested,
       count(converted_at) AS converted,
       count(declined_at) AS declined,
       count(*) FILTER (state = 'expired') AS expired_uncontacted,
       sum(converted_amount) AS converted_amount,
       round(count(contacted_at) / nullif(count(published_at), 0), 4) AS contact_rate,
       round(count(converted_at) / nullif(count(contacted_at), 0), 4) AS conversion_rate,
       round(median(epoch(contacted_at - CAST(opened_on AS TIMESTAMPTZ)) / 86400.0), 2) AS median_days_to_contact
FROM mart.signal_outcomes
GROUP BY ALL;

-- mart.service_coverage.rm_id is the RM of the party's service team (the
-- roster's, else the golden record's), from this version on.

-- mart.service_team_coverage: the service standards by team member, as of
-- the last signal run: the parties of each member's teams on that day
-- (core.team_as_of) that have a standard, how many met it, are on track,
-- at risk or not yet judged, and the contacts and visits the member made
-- with them this period.
CREATE OR REPLACE VIEW mart.service_team_coverage AS
WITH team AS (
    SELECT t.*, core.team_role_zh(t.role) AS role_zh
    FROM core.team_as_of((SELECT max(as_of) FROM mart.service_coverage)) t
), own AS (
    -- A member's contacts with a party, once however many roles they hold.
    SELECT c.party_id, t.member_id, count(k.contact_id) AS contacts, count(k.contact_id) FILTER (k.channel = 'VISIT') AS visits
    FROM mart.service_coverage c
    JOIN (SELECT DISTINCT party_id, member_id FROM team) t USING (party_id)
    LEFT JOIN core.contact k ON k.party_id = c.party_id AND k.rm_id = t.member_id
         AND CAST(k.contact_time AS DATE) BETWEEN c.period_start AND c.as_of
    GROUP BY c.party_id, t.member_id
)
SELECT t.member_id, t.role, any_value(t.role_zh) AS role_zh,
       count(*) AS parties,
       count(*) FILTER (c.status = 'met') AS met,
       count(*) FILTER (c.status = 'on_track') AS on_track,
       count(*) FILTER (c.status = 'at_risk') AS at_risk,
       count(*) FILTER (c.status = 'incomplete') AS incomplete,
       round(count(*) FILTER (c.status = 'met') / count(*), 4) AS met_rate,
       sum(o.contacts) AS own_contacts, sum(o.visits) AS own_visits,
       max(c.as_of) AS as_of
FROM mart.service_coverage c
JOIN team t USING (party_id)
JOIN own o ON o.party_id = c.party_id AND o.member_id = t.member_id
GROUP BY t.member_id, t.role;
