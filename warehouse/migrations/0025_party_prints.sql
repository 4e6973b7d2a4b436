-- Per-party incremental tags (cdp tags run). A tag declared scope: party
-- gives each party a value from that party's rows alone; when only tables
-- keyed by party changed since it was last computed, a run computes it for
-- the parties whose rows changed and keeps the others' values.
--
-- What each such table looked like per party at the last tag run: the sum
-- of the hashes of the party's rows over the columns the party-scoped tags
-- read (party_print_columns, with the table's print in ops.table_prints
-- when its parties were printed; a new set of columns, or prints of an
-- older state of the table than the last run's, start afresh) and their
-- count.
CREATE TABLE IF NOT EXISTS ops.party_prints (
    table_name VARCHAR NOT NULL,
    party_id   VARCHAR NOT NULL,
    print      HUGEINT NOT NULL,
    n          BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.party_print_columns (
    table_name  VARCHAR NOT NULL,
    columns     VARCHAR NOT NULL,
    table_print VARCHAR NOT NULL
);
