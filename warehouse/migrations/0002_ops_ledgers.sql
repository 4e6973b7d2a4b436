-- Every load attempt: a file, or a slice of a stream.
CREATE SEQUENCE IF NOT EXISTS ops.load_id_seq START 1;

CREATE TABLE IF NOT EXISTS ops.loads (
    load_id       BIGINT NOT NULL,
    run_id        VARCHAR,
    feed          VARCHAR NOT NULL,   -- the config feed name (credit, ebank_stream, ...)
    entity        VARCHAR NOT NULL,   -- the contract entity (credit.customers, ...)
    kind          VARCHAR NOT NULL,   -- file | stream
    source        VARCHAR NOT NULL,   -- file path relative to the feed root, or topic
    md5           VARCHAR,
    bytes         BIGINT,
    rows_in       BIGINT,
    rows_loaded   BIGINT,
    rows_rejected BIGINT,
    rows_replaced BIGINT,             -- rows of an earlier delivery this correction replaced
    status        VARCHAR NOT NULL,   -- loaded | superseded | failed | pending
    error         VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    superseded_by BIGINT
);

-- Every row that did not load, with where it was and why.
CREATE TABLE IF NOT EXISTS ops.rejects (
    load_id     BIGINT NOT NULL,
    feed        VARCHAR NOT NULL,
    entity      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    position    VARCHAR NOT NULL,     -- file:line or topic/partition/offset
    line        BIGINT,               -- file line, header = 1
    "partition" INTEGER,
    "offset"    BIGINT,
    reason      VARCHAR NOT NULL,     -- a code from the reject reason list
    detail      VARCHAR,
    raw         VARCHAR,
    rejected_at TIMESTAMPTZ NOT NULL
);

-- Files loaded, by name and md5: the file source's checkpoint.
CREATE TABLE IF NOT EXISTS ops.file_checkpoints (
    feed      VARCHAR NOT NULL,
    path      VARCHAR NOT NULL,
    md5       VARCHAR NOT NULL,
    bytes     BIGINT NOT NULL,
    rows_in   BIGINT NOT NULL,
    load_id   BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

-- Next offset to read per topic partition: the stream source's checkpoint.
CREATE TABLE IF NOT EXISTS ops.stream_checkpoints (
    feed        VARCHAR NOT NULL,
    topic       VARCHAR NOT NULL,
    "partition" INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    load_id     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
