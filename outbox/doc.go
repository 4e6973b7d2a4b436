// Package outbox owns ops.outbox, the transactional outbox every event cdp
// publishes goes through, end to end: enqueueing inside the producer's
// transaction, the relay to Kafka, its status and its metrics. No other
// package reads or writes ops.outbox.
//
// The contract, for producers and for the CRMs that consume the topics:
//
//   - Atomic with the change. An event is enqueued in the same DuckDB
//     transaction as the change it announces (a signal's transition, a tag
//     run's changes, a 360 build's changed summaries), row by row from Go
//     (Enqueue) or set-based from SQL (EnqueueSQL). A crash can never leave
//     a change without its event, or an event without its change.
//   - Valid or not sent. Every body is checked against its JSON Schema
//     (cdp/schemas) before it leaves: bodies built in Go at enqueue, so the
//     producing stage fails and nothing is queued; bodies built in SQL by the
//     relay before sending, where an invalid body stops the relay with an
//     error naming the event, and nothing after it is sent (nothing is
//     skipped).
//   - Order per party. Events are numbered (seq) in the order they were
//     produced and relayed in that order, keyed by party_id with murmur2
//     partitioning (the Java client's), so one customer's events stay in
//     order on one partition.
//   - At least once. An event is marked published only after the broker
//     acknowledged it (acks from all in-sync replicas). A broker outage
//     delays events and never loses them: unacknowledged events stay with
//     their error and attempt count and go out on the next relay. An event
//     acknowledged just before a crash is sent again with the same id.
//   - De-duplicate on ce_id. Event ids are deterministic (EventID, IDSQL):
//     the same change always gets the same id, so consumers drop repeats.
//
// Messages are CloudEvents 1.0 in Kafka binary mode: ce_* headers, the JSON
// body as the value; an empty body is a tombstone (a deleted profile on the
// compacted cdp.profile topic), sent with a null value.
package outbox
