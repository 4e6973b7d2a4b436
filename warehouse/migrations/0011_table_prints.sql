-- What each table a tag reads looked like at the last tag run: its row
-- count and a print of its rows (the sum of their hashes), or, when the
-- count had changed and the table was not read, a print unique to that run.
-- A run reads (hashes) a table only when its count is what it was: a new
-- count alone proves it changed.
CREATE TABLE IF NOT EXISTS ops.table_prints (
    table_name VARCHAR NOT NULL,
    row_count  BIGINT NOT NULL,
    print      VARCHAR NOT NULL,
    run_id     VARCHAR NOT NULL
);
