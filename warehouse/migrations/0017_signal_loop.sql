-- The signal loop: what the contact center and the CRM report back (the
-- contact feed's raw tables, created before this file), resolved to
-- parties and to the signals they answer, as views that are always current.

-- A party id the CRM holds may have been merged away since: it stands for
-- the party that took most of its records.
CREATE OR REPLACE VIEW core.party_successor AS
SELECT old_party_id, arg_max(new_party_id, records) AS party_id
FROM ops.identity_events GROUP BY old_party_id;

-- core.contact: every contact a business line made, with its party.
CREATE OR REPLACE VIEW core.contact AS
SELECT c.contact_id, coalesce(p.party_id, s.party_id, x.party_id) AS party_id, c.business_line, c.channel, c.rm_id,
       c.contact_time, c.purpose, c.product, c.ce_id, c._source AS source_ref, c._load_id AS load_id
FROM raw.contact_contacts c
LEFT JOIN core.party p ON p.party_id = c.party_id
LEFT JOIN core.party_successor s ON s.old_party_id = c.party_id
LEFT JOIN core.party_xref x ON x.system = c.system AND x.source_key = c.source_key;

-- core.consent: consents and opt-outs per channel, with their party.
CREATE OR REPLACE VIEW core.consent AS
SELECT c.consent_id, coalesce(p.party_id, s.party_id, x.party_id) AS party_id, c.channel, c.consent, c.effective_at,
       c._source AS source_ref, c._load_id AS load_id
FROM raw.contact_consents c
LEFT JOIN core.party p ON p.party_id = c.party_id
LEFT JOIN core.party_successor s ON s.old_party_id = c.party_id
LEFT JOIN core.party_xref x ON x.system = c.system AND x.source_key = c.source_key;

-- core.signal_event: every signal event cdp queued, with the signal it is
-- about and, from its body, the tier, RM and branch it was sent for.
CREATE OR REPLACE VIEW core.signal_event AS
SELECT o.event_id AS ce_id, o.topic, o.time AS queued_at, o.published_at,
       json_extract_string(o.data, '$.signal_id') AS signal_id, json_extract_string(o.data, '$.state') AS state,
       json_extract_string(o.data, '$.tier') AS tier, json_extract_string(o.data, '$.rm_id') AS rm_id,
       json_extract_string(o.data, '$.branch_code') AS branch_code
FROM ops.outbox o WHERE o.topic LIKE 'cdp.signals.%';

-- core.outcome: every outcome, with its party and the signal it answers
-- (by the ce_id of any of the signal's events).
CREATE OR REPLACE VIEW core.outcome AS
SELECT c.outcome_id, c.ce_id, e.signal_id, c.task_id,
       coalesce(g.party_id, p.party_id, s.party_id, x.party_id) AS party_id,
       c.status, c.product, c.amount, c.outcome_time, c.rm_id, c._source AS source_ref, c._load_id AS load_id
FROM raw.contact_outcomes c
LEFT JOIN core.signal_event e ON e.ce_id = c.ce_id
LEFT JOIN mart.signals g ON g.signal_id = e.signal_id
LEFT JOIN core.party p ON p.party_id = c.party_id
LEFT JOIN core.party_successor s ON s.old_party_id = c.party_id
LEFT JOIN core.party_xref x ON x.system = c.system AND x.source_key = c.source_key;

-- mart.signal_outcomes: one row per signal and how far it went: issued
-- (opened) → published (its first event acknowledged by the broker) →
-- contacted (a contact answering one of its events, or an outcome saying
-- so) → interested → converted or declined; or expired without contact.
-- Times are the first of each; state is the furthest step reached.
CREATE OR REPLACE VIEW mart.signal_outcomes AS
WITH ev AS (
    SELECT signal_id, min(published_at) AS published_at, arg_min(tier, queued_at) AS tier,
           arg_min(rm_id, queued_at) AS rm_id, arg_min(branch_code, queued_at) AS branch_code
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

-- mart.signal_funnel: the funnel by rule, kind, tier, branch, RM (those the
-- signal was sent for) and the week it opened. Days to contact count from
-- the signal's business day (opened_on, at midnight).
CREATE OR REPLACE VIEW mart.signal_funnel AS
SELECT rule_id, kind, tier, branch_code, rm_id, CAST(date_trunc('week', opened_on) AS DATE) AS week,
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
