-- Identity unification (transforms/identity). Rewritten by each unify run in
-- one transaction; the party ids in them are stable across runs.

-- core.party: one row per real customer, with the golden record: each
-- attribute from the most trusted source that has a usable value, then the
-- most recent. *_source says which record (system:source_key) won.
CREATE TABLE IF NOT EXISTS core.party (
    party_id       VARCHAR NOT NULL,
    party_type     VARCHAR NOT NULL,     -- P person | C company
    name           VARCHAR,
    id_type        VARCHAR,              -- ID_CARD | USCC | ORG_CODE | OTHER | PASSPORT
    id_no          VARCHAR,              -- canonical (18 digits, 15-digit IDs upgraded; upper-case credit code)
    id_valid       BOOLEAN,
    birth_date     DATE,
    gender         VARCHAR,              -- M | F (persons, from the resident ID)
    mobile         VARCHAR,              -- 11-digit mainland mobile when one is known
    industry_code  VARCHAR,
    annual_revenue DECIMAL(18,2),
    legal_rep_name VARCHAR,
    employer       VARCHAR,
    annual_income  DECIMAL(18,2),
    risk_level     VARCHAR,
    segment        VARCHAR,
    rm_id          VARCHAR,
    branch_code    VARCHAR,
    systems        VARCHAR[],            -- systems holding a record of this party
    source_records INTEGER NOT NULL,
    name_source    VARCHAR,
    id_source      VARCHAR,
    birth_source   VARCHAR,
    mobile_source  VARCHAR,
    fingerprint    UBIGINT NOT NULL,     -- hash of the golden record and its members: unchanged → same
    created_run    VARCHAR,              -- the unify run that issued the id
    updated_run    VARCHAR               -- the last run that changed this row
);

-- core.party_xref: every source record and the party it belongs to, with the
-- rule and score that decided it and its normalised identity.
CREATE TABLE IF NOT EXISTS core.party_xref (
    system        VARCHAR NOT NULL,      -- credit | wealth | card | ebank
    source_key    VARCHAR NOT NULL,      -- cust_no | client_id | holder_id | user_id
    party_id      VARCHAR NOT NULL,
    party_type    VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,      -- resident_id | credit_code | probabilistic | alone
    score         DOUBLE NOT NULL,       -- match probability of the deciding link (1 for an identifier)
    matched_to    VARCHAR,               -- system:source_key at the other end of the deciding link
    name          VARCHAR,               -- normalised name
    id_no         VARCHAR,               -- normalised ID or credit code
    id_valid      BOOLEAN,
    id_problem    VARCHAR,               -- why an ID is not trusted (bad_check, ...)
    birth_date    DATE,
    mobile        VARCHAR,
    match_key     VARCHAR,               -- R+resident ID or O+organisation code when valid: the deterministic key
    mobile_valid  BOOLEAN,               -- a mainland mobile (1[3-9] and 9 digits)
    id_type       VARCHAR,               -- as delivered
    legal_rep_id  VARCHAR,               -- companies: the legal representative's resident ID, when valid
    -- the record's other attributes as delivered, for the golden record
    industry_code  VARCHAR,
    annual_revenue DECIMAL(18,2),
    legal_rep_name VARCHAR,
    employer       VARCHAR,
    annual_income  DECIMAL(18,2),
    risk_level     VARCHAR,
    segment        VARCHAR,
    rm_id          VARCHAR,
    branch_code    VARCHAR,
    record_hash   UBIGINT NOT NULL,      -- of the raw fields: a change makes the record active again
    business_date VARCHAR,               -- the snapshot the record was last seen in
    load_id       BIGINT,
    updated_run   VARCHAR
);

-- core.party_link: the probabilistic links behind the parties, kept so an
-- incremental run re-scores only pairs that involve a changed record.
CREATE TABLE IF NOT EXISTS core.party_link (
    a_system    VARCHAR NOT NULL,
    a_key       VARCHAR NOT NULL,
    b_system    VARCHAR NOT NULL,
    b_key       VARCHAR NOT NULL,
    probability DOUBLE NOT NULL,
    a_party_id  VARCHAR NOT NULL,         -- the parties of both ends (different when the union was
    b_party_id  VARCHAR NOT NULL,         -- refused for two different identifiers)
    run_id      VARCHAR
);

-- core.party_relationship: parties that are related, not the same.
CREATE TABLE IF NOT EXISTS core.party_relationship (
    party_id         VARCHAR NOT NULL,
    related_party_id VARCHAR NOT NULL,
    rel_type         VARCHAR NOT NULL,   -- legal_representative | supplementary_card | shared_mobile
    evidence         VARCHAR,            -- the source record that shows it
    run_id           VARCHAR
);

-- ops.identity_events: parties merged or split, with the old and new ids.
CREATE TABLE IF NOT EXISTS ops.identity_events (
    run_id       VARCHAR NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    kind         VARCHAR NOT NULL,       -- merge | split
    old_party_id VARCHAR NOT NULL,
    new_party_id VARCHAR NOT NULL,
    records      INTEGER NOT NULL,       -- source records that moved
    detail       VARCHAR
);

-- ops.identity_runs: one row per unify run; the model a full run estimated
-- is reused by incremental runs so unchanged pairs keep their scores.
CREATE TABLE IF NOT EXISTS ops.identity_runs (
    run_id          VARCHAR NOT NULL,
    mode            VARCHAR NOT NULL,    -- full | incremental | unchanged
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ NOT NULL,
    records         BIGINT,
    active_records  BIGINT,
    candidate_pairs BIGINT,
    matched_pairs   BIGINT,
    parties         BIGINT,
    new_parties     BIGINT,
    merges          BIGINT,
    splits          BIGINT,
    last_party_seq  BIGINT NOT NULL,     -- highest party id number issued so far
    last_load_id    BIGINT NOT NULL,     -- highest raw load seen: the next incremental run reads later loads only
    model           JSON
);
