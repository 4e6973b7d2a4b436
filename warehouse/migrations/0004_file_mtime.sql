-- The file's modification time when it was loaded: with the size, it lets a
-- run skip re-hashing files that have not been touched since.
ALTER TABLE ops.file_checkpoints ADD COLUMN mtime TIMESTAMPTZ;
