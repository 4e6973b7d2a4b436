-- Signals (transforms/signals) and the transactional outbox every published
-- event goes through (signals, tag changes, profile summaries).

-- One row per signal: a rule firing for a party, from the day it opened to
-- the day it closed (its condition no longer held) or expired (it outlived
-- the rule's validity period). status: open | updated | closed | expired.
CREATE TABLE IF NOT EXISTS mart.signals (
    signal_id       VARCHAR NOT NULL,   -- sha256(rule_id|party_id|opened_on), 32 hex
    rule_id         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- churn | cross_sell | risk
    party_id        VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    score           DOUBLE NOT NULL,    -- 0..100, the latest evaluation
    priority        VARCHAR NOT NULL,   -- high | medium | low
    reason          VARCHAR NOT NULL,   -- the rule's reason template filled with the evidence
    action          VARCHAR NOT NULL,
    product         VARCHAR,
    evidence        JSON,
    opened_on       DATE NOT NULL,
    updated_on      DATE NOT NULL,      -- last day the rule evaluated it
    expires_on      DATE NOT NULL,      -- opened_on + the rule's valid_days
    closed_on       DATE,               -- closed or expired on
    sent_score      DOUBLE NOT NULL,    -- score of the last event sent for it
    sent_on         DATE NOT NULL,      -- day of that event
    run_id          VARCHAR NOT NULL    -- the run that last changed the row
);

-- What each run decided for every rule hit and every open signal: opened,
-- updated, unchanged, suppressed, capped, closed or expired, and why.
CREATE TABLE IF NOT EXISTS mart.signal_decisions (
    run_id    VARCHAR NOT NULL,
    as_of     DATE NOT NULL,
    rule_id   VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    party_id  VARCHAR NOT NULL,
    score     DOUBLE,
    decision  VARCHAR NOT NULL,
    detail    VARCHAR
);

-- One row per signal run.
CREATE TABLE IF NOT EXISTS ops.signal_runs (
    run_id      VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    rules       INTEGER NOT NULL,
    hits        BIGINT NOT NULL,
    opened      BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    closed      BIGINT NOT NULL,
    expired     BIGINT NOT NULL,
    suppressed  BIGINT NOT NULL,
    capped      BIGINT NOT NULL
);

-- The outbox: every event, written in the transaction that produced it and
-- published in seq order. published_at is set only after the broker
-- acknowledged the event (acks=all); a crash in between re-sends it with the
-- same event_id, which consumers de-duplicate on.
CREATE TABLE IF NOT EXISTS ops.outbox (
    seq          BIGINT NOT NULL,       -- publish order
    event_id     VARCHAR NOT NULL,      -- CloudEvents id, deterministic
    topic        VARCHAR NOT NULL,
    key          VARCHAR NOT NULL,      -- party_id: murmur2 partitioning keeps per-customer order
    type         VARCHAR NOT NULL,      -- CloudEvents type
    source       VARCHAR NOT NULL,      -- CloudEvents source
    subject      VARCHAR,
    time         TIMESTAMPTZ NOT NULL,  -- CloudEvents time: when the producing run ran
    data         VARCHAR NOT NULL,      -- the JSON body
    producer     VARCHAR NOT NULL,      -- run id of the producing run
    created_at   TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR
);

-- The profile summary last put in the outbox per party (its hash), so that
-- only changed summaries go to the compacted cdp.profile topic.
CREATE TABLE IF NOT EXISTS ops.profile_state (
    party_id VARCHAR NOT NULL,
    hash     VARCHAR NOT NULL,
    as_of    DATE NOT NULL
);
