-- Tier history and movements: every cdp tiers build compares each party's
-- tier with the one it had (mart.tier_history: the tier on any day is the
-- row with valid_from ≤ day < valid_to) and records what moved
-- (mart.tier_changes), which goes out on cdp.tiers.changes.
CREATE TABLE IF NOT EXISTS mart.tier_history (
    party_id   VARCHAR NOT NULL,
    tier       VARCHAR NOT NULL,   -- core | growth | base
    tier_zh    VARCHAR NOT NULL,
    valid_from DATE NOT NULL,
    valid_to   DATE,               -- NULL: the current tier
    reason     VARCHAR,            -- the basis against the floors, as of valid_from
    run_id     VARCHAR NOT NULL
);

-- What each build changed: a party's first tier (old_tier NULL), a move up
-- or down, and a party gone (merged away; new_tier NULL).
CREATE TABLE IF NOT EXISTS mart.tier_changes (
    run_id      VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    party_id    VARCHAR NOT NULL,
    party_type  VARCHAR,
    old_tier    VARCHAR,
    new_tier    VARCHAR,
    direction   VARCHAR NOT NULL,  -- new | up | down | gone
    basis       VARCHAR,           -- aum | annual_revenue
    basis_value DECIMAL(20, 2),
    reason      VARCHAR
);
