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
	now := time.Now()
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{last + int64(i) + 1, e.ID, e.Topic, e.Key, e.Type, e.Source, e.Subject, e.Time, string(e.Data), e.Producer, now}
	}
	if err := InsertRows(ctx, conn, "ops.outbox (seq, event_id, topic, key, type, source, subject, time, data, producer, created_at)", rows); err != nil {
		return fmt.Errorf("ops.outbox: %w", err)
	}
	return nil
}

// InsertRows inserts rows (each with one value per column of target, a
// table with an optional column list) through multi-row INSERT statements:
// a statement per row costs DuckDB about half a millisecond, so rows go 500
// to a statement. Values bind as parameters; columns left out of the list
// take their defaults.
func InsertRows(ctx context.Context, conn *sql.Conn, target string, rows [][]any) error {
	const per = 500
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		var q strings.Builder
		q.WriteString("INSERT INTO " + target + " VALUES ")
		var args []any
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j := range rows[i] {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteByte('?')
			}
			q.WriteByte(')')
			args = append(args, rows[i]...)
		}
		if _, err := conn.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
