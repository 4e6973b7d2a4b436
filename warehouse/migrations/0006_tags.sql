-- Tag values (transforms/tags). Values are text; the catalog gives each
-- tag's type. as_of is the business date a run describes.

-- The current value of every tag for every party that has one.
CREATE TABLE IF NOT EXISTS mart.tags (
    party_id VARCHAR NOT NULL,
    tag_id   VARCHAR NOT NULL,
    value    VARCHAR,
    as_of    DATE NOT NULL,     -- the run that last computed it
    since    DATE NOT NULL      -- the day it took this value
);

-- Every value a tag has had for a party: valid_from ≤ day < valid_to
-- (valid_to NULL = still current). "Tags of P on day D" is one query.
CREATE TABLE IF NOT EXISTS mart.tag_history (
    party_id   VARCHAR NOT NULL,
    tag_id     VARCHAR NOT NULL,
    value      VARCHAR,
    valid_from DATE NOT NULL,
    valid_to   DATE,
    run_id     VARCHAR NOT NULL
);

-- What each run changed: the input of the tag-change topic.
CREATE TABLE IF NOT EXISTS mart.tag_changes (
    run_id    VARCHAR NOT NULL,
    as_of     DATE NOT NULL,
    party_id  VARCHAR NOT NULL,
    tag_id    VARCHAR NOT NULL,
    old_value VARCHAR,          -- NULL: the party had no value
    new_value VARCHAR           -- NULL: the party no longer has one
);

-- One row per tag run.
CREATE TABLE IF NOT EXISTS ops.tag_runs (
    run_id      VARCHAR NOT NULL,
    as_of       DATE NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    tags        INTEGER NOT NULL,
    values_set  BIGINT NOT NULL,
    changes     BIGINT NOT NULL
);
