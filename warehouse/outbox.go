package warehouse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Event is one entry of the transactional outbox (ops.outbox): a CloudEvent
// waiting to be published to Kafka.
type Event struct {
	ID       string    // deterministic: EventID of what the event is about
	Topic    string    // canonical topic name (cdp.signals.churn, …)
	Key      string    // party_id
	Type     string    // CloudEvents type
	Source   string    // CloudEvents source
	Subject  string    // CloudEvents subject
	Time     time.Time // when the producing run ran
	Data     []byte    // JSON body
	Producer string    // run id
}

// EventID is the deterministic id of an event about parts: the first 32 hex
// characters of sha256 over the parts joined by "|". The same change always
// gets the same id, so a consumer de-duplicates re-sent events on it.
// OutboxIDSQL computes the same in SQL.
func EventID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:16])
}

// OutboxIDSQL is the SQL expression equal to EventID over the SQL
// expressions parts (none may be NULL).
func OutboxIDSQL(parts ...string) string {
	return "left(sha256(concat_ws('|', " + strings.Join(parts, ", ") + ")), 32)"
}

// NextOutboxSeqSQL is the SQL expression of the last outbox seq; new events
// take the numbers after it, in the order they are produced.
const NextOutboxSeqSQL = "(SELECT coalesce(max(seq), 0) FROM ops.outbox)"

// Enqueue appends events to ops.outbox on conn, in order, inside the caller's
// transaction: they become visible (and publishable) only with the rest of
// what the transaction writes.
func Enqueue(ctx context.Context, conn *sql.Conn, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	var last int64
	if err := conn.QueryRowContext(ctx, "SELECT "+NextOutboxSeqSQL).Scan(&last); err != nil {
		return fmt.Errorf("ops.outbox: %w", err)
	}
	// Multi-row inserts: one statement per 500 events (a statement per
	// event costs DuckDB about 0.5 ms each).
	const rowsPer = 500
	for lo := 0; lo < len(events); lo += rowsPer {
		hi := min(lo+rowsPer, len(events))
		var q strings.Builder
		q.WriteString(`INSERT INTO ops.outbox (seq, event_id, topic, key, type, source, subject, time, data, producer, created_at) VALUES `)
		args := make([]any, 0, (hi-lo)*10)
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())")
			e := events[i]
			args = append(args, last+int64(i)+1, e.ID, e.Topic, e.Key, e.Type, e.Source, e.Subject, e.Time, string(e.Data), e.Producer)
		}
		if _, err := conn.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("ops.outbox: events %s…: %w", events[lo].ID, err)
		}
	}
	return nil
}
