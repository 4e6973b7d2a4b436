-- Core model builds (cdp model), so a build can be incremental: it adds the
-- rows of loads newer than the last build's and re-points rows whose source
-- record changed party since then.

-- One row per build. mode: full | incremental. max_load_id: the newest load
-- the build read; superseded: how many loads were superseded then (a
-- correction since forces a full build); model_hash: of the model's SQL (a
-- new version forces a full build).
CREATE TABLE IF NOT EXISTS ops.model_builds (
    built_at     TIMESTAMPTZ NOT NULL,
    mode         VARCHAR NOT NULL,
    reason       VARCHAR,          -- why a build was full
    max_load_id  BIGINT NOT NULL,
    superseded   BIGINT NOT NULL,
    model_hash   VARCHAR NOT NULL,
    seconds      DOUBLE
);

-- The party of every source record as the last build saw it: what changed
-- since is what an incremental build re-points.
CREATE TABLE IF NOT EXISTS core.model_xref (
    system     VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    party_id   VARCHAR NOT NULL
);
