-- 名单制: the approved key-account list of the contact feed
-- (raw.contact_key_accounts, created before this file), a daily full
-- snapshot like the roster: the latest file on or before a day is that
-- day's list.

-- core.key_account_entry: every list row delivered, with its party and the
-- business day of the file it came in.
CREATE OR REPLACE VIEW core.key_account_entry AS
SELECT k.list_id, coalesce(p.party_id, s.party_id, x.party_id) AS party_id, k.system, k.source_key, k.tier, k.reason, k.approver, k.approved_on,
       k.valid_from, k.valid_to,
       core.file_date(k._source) AS list_date,
       k._source AS source_ref, k._load_id AS load_id
FROM raw.contact_key_accounts k
LEFT JOIN core.party p ON p.party_id = k.party_id
LEFT JOIN core.party_successor s ON s.old_party_id = k.party_id
LEFT JOIN core.party_xref x ON x.system = k.system AND x.source_key = k.source_key;

-- core.key_accounts_as_of(d): the entries of the list in force on day d,
-- each with its status on d: active (it holds), pending (it begins
-- later), expired (its last day has passed: it lapsed), or
-- unknown_customer (its customer key names no party: a source key is
-- resolved once unification has run, so it cannot be judged as it loads).
CREATE OR REPLACE MACRO core.key_accounts_as_of(d) AS TABLE
SELECT e.list_id, e.party_id, e.system, e.source_key, e.tier, e.reason, e.approver, e.approved_on, e.valid_from, e.valid_to, e.list_date,
       CASE WHEN e.party_id IS NULL THEN 'unknown_customer'
            WHEN e.valid_from > CAST(d AS DATE) THEN 'pending'
            WHEN e.valid_to < CAST(d AS DATE) THEN 'expired' ELSE 'active' END AS status
FROM core.key_account_entry e
WHERE e.list_date = (SELECT max(list_date) FROM core.key_account_entry WHERE list_date <= CAST(d AS DATE));

-- mart.value_tier (rebuilt by cdp tiers) gains the list's columns; a
-- warehouse whose last cdp tiers predates this version has none yet.
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS computed_tier VARCHAR;
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS tier_source VARCHAR DEFAULT 'computed';
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS list_id VARCHAR;
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS list_reason VARCHAR;
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS list_approver VARCHAR;
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS list_approved_on DATE;
ALTER TABLE IF EXISTS mart.value_tier ADD COLUMN IF NOT EXISTS list_valid_to DATE;

-- mart.key_account_list: the list as of the last cdp tiers build, every
-- entry with its status, the tier it gives and the tier the party would
-- have without it — who approved whom, why, until when.
CREATE TABLE IF NOT EXISTS mart.key_account_list (
    list_id       VARCHAR NOT NULL,
    party_id      VARCHAR,
    tier          VARCHAR NOT NULL,   -- the approved tier
    reason        VARCHAR NOT NULL,
    approver      VARCHAR NOT NULL,
    approved_on   DATE,
    valid_from    DATE NOT NULL,
    valid_to      DATE,
    status        VARCHAR NOT NULL,   -- active | pending | expired | unknown_customer
    system        VARCHAR,            -- the customer key as the list gave it
    source_key    VARCHAR,
    applied       BOOLEAN NOT NULL,   -- it sets the party's tier (one active entry per party does)
    computed_tier VARCHAR,            -- the party's tier by the floors
    list_date     DATE,
    as_of         DATE NOT NULL
);
