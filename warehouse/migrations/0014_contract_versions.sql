-- Contract versions: each raw table's column changes as they were applied
-- (create, baseline, add_column), and the contract version every load used
-- ("<version>/<fingerprint of the columns>").
CREATE TABLE ops.contract_changes (
    table_name  VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint VARCHAR NOT NULL,
    change      VARCHAR NOT NULL,  -- create | baseline | add_column
    detail      VARCHAR,           -- the column added, with its type
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE ops.loads ADD COLUMN contract_version VARCHAR;
