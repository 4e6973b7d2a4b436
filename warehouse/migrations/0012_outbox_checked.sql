-- Whether an outbox event's body was checked against its JSON Schema when it
-- was queued (bodies built in Go); the relay checks the others (bodies built
-- in SQL) before sending them. Events queued before this migration are
-- checked by the relay.
ALTER TABLE ops.outbox ADD COLUMN checked BOOLEAN DEFAULT false;
