package outbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"cdp/schemas"
	"cdp/warehouse"
)

// Event is one entry of the outbox: a CloudEvent waiting to be published.
type Event struct {
	ID       string    // deterministic: EventID of what the event is about
	Topic    string    // canonical topic name (cdp.signals.churn, …)
	Key      string    // party_id
	Type     string    // CloudEvents type; its schema checks Data
	Source   string    // CloudEvents source
	Subject  string    // CloudEvents subject
	Time     time.Time // when the producing run ran
	Data     []byte    // JSON body; empty for a tombstone
	Producer string    // run id
}

// EventID is the deterministic id of an event about parts: the first 32 hex
// characters of sha256 over the parts joined by "|". The same change always
// gets the same id, so a consumer de-duplicates re-sent events on it. IDSQL
// computes the same in SQL.
func EventID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:16])
}

// IDSQL is the SQL expression equal to EventID over the SQL expressions
// parts (none may be NULL).
func IDSQL(parts ...string) string {
	return "left(sha256(concat_ws('|', " + strings.Join(parts, ", ") + ")), 32)"
}

// lastSeqSQL is the last seq given out; new events take the numbers after
// it, in the order they are produced.
const lastSeqSQL = "(SELECT coalesce(max(seq), 0) FROM ops.outbox)"

// columns are the outbox columns a producer fills.
const columns = "seq, event_id, topic, key, type, source, subject, time, data, producer, created_at, checked"

// Enqueue appends events to the outbox on conn, in order, inside the
// caller's transaction: they become visible (and publishable) only with the
// rest of what the transaction writes. Every body is checked against its
// JSON Schema first; one that does not match fails the call and nothing is
// queued.
func Enqueue(ctx context.Context, conn *sql.Conn, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	for i, e := range events {
		if err := check(e.Type, e.Data); err != nil {
			return fmt.Errorf("ops.outbox: event %d of %d (ce_id %s, key %s, producer %s): %w; nothing was queued",
				i+1, len(events), e.ID, e.Key, e.Producer, err)
		}
	}
	var last int64
	if err := conn.QueryRowContext(ctx, "SELECT "+lastSeqSQL).Scan(&last); err != nil {
		return fmt.Errorf("ops.outbox: %w", err)
	}
	now := time.Now()
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{last + int64(i) + 1, e.ID, e.Topic, e.Key, e.Type, e.Source, e.Subject, e.Time, string(e.Data), e.Producer, now, true}
	}
	if err := warehouse.InsertRows(ctx, conn, "ops.outbox ("+columns+")", rows); err != nil {
		return fmt.Errorf("ops.outbox: %w", err)
	}
	return nil
}

// EnqueueSQL appends the events a query describes to the outbox on conn,
// inside the caller's transaction, and returns how many it queued. query
// yields one row per event with the columns event_id, topic, key, type,
// source, subject, time, data (the JSON body as VARCHAR; empty for a
// tombstone) and producer; they are queued in the order of orderBy (an
// ORDER BY list over those columns, e.g. "key"). Their bodies are checked
// against their schemas by the relay before they are sent.
func EnqueueSQL(ctx context.Context, conn *sql.Conn, query, orderBy string) (int64, error) {
	q := `INSERT INTO ops.outbox (` + columns + `)
		SELECT ` + lastSeqSQL + ` + row_number() OVER (ORDER BY ` + orderBy + `),
		       event_id, topic, key, type, source, subject, time, data, producer, now(), false
		FROM (` + query + `)`
	res, err := conn.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("ops.outbox: %w", err)
	}
	return res.RowsAffected()
}

// Queued counts the events a producer (a run id) queued.
func Queued(ctx context.Context, conn *sql.Conn, producer string) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT type, count(*) FROM ops.outbox WHERE producer = ? GROUP BY type`, producer)
	if err != nil {
		return nil, fmt.Errorf("ops.outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("ops.outbox: %w", err)
		}
		out[t] = n
	}
	return out, rows.Err()
}

// check validates a body against the schema of its type; a tombstone (no
// body) has none to match.
func check(ceType string, body []byte) error {
	if len(body) == 0 {
		if strings.HasSuffix(ceType, ".deleted") {
			return nil
		}
		return fmt.Errorf("%s: empty body (only a .deleted event may be a tombstone)", ceType)
	}
	return schemas.Validate(ceType, body)
}
