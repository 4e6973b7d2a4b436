-- What each tag was last computed from (cdp tags run): a hash of its SQL and
-- of the rows of every table it reads. A run skips a tag whose hash is
-- unchanged, since its values would be too; cdp tags run --full ignores it.
CREATE TABLE IF NOT EXISTS ops.tag_inputs (
    tag_id      VARCHAR NOT NULL,
    inputs      VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);
