package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// MessageWriter is what the relay sends through: a *kafka.Writer with
// acks from all in-sync replicas.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// RelayOptions are one drain of the outbox.
type RelayOptions struct {
	Batch  int               // events per broker write; default 5000
	Max    int64             // stop after this many events; 0 = drain the outbox
	Topics map[string]string // canonical topic → the name to publish under
	Logger *slog.Logger
	// AfterBatch, if set, is called after each acknowledged batch with the
	// running total (progress, tests).
	AfterBatch func(published int64)
}

// RelaySummary is what a drain did.
type RelaySummary struct {
	Published int64            `json:"published"`
	ByTopic   map[string]int64 `json:"by_topic"`
	Batches   int              `json:"batches"`
	Backlog   int64            `json:"backlog"` // left unpublished
	Seconds   float64          `json:"seconds"`
	PerSecond float64          `json:"events_per_second"`
	// Where the time went: reading the outbox (overlapping the writes),
	// waiting for the broker, marking events published.
	ReadSeconds  float64 `json:"read_seconds"`
	WriteSeconds float64 `json:"write_seconds"`
	MarkSeconds  float64 `json:"mark_seconds"`
}

type row struct {
	seq                                  int64
	id, topic, key, typ, source, subject string
	time                                 time.Time
	data                                 string
	checked                              bool
	producer                             string
}

// ErrInvalidBody is returned (wrapped) when the relay stops at an event
// whose body does not match its schema.
var ErrInvalidBody = errors.New("an event body does not match its schema")

// Relay drains the outbox to Kafka in seq order, one batch at a time. An
// event is marked published only once the broker acknowledged it (the
// writer must use acks=all); when a write fails, the events not
// acknowledged stay in the outbox with the error and attempt count, Relay
// returns the error, and the next drain sends them again. Events that were
// acknowledged but not yet marked when the process died are sent again with
// the same event id (ce_id), which consumers de-duplicate on. A body built
// in SQL is checked against its schema before it is sent; the first that
// does not match stops the drain there (the events before it are sent).
func Relay(ctx context.Context, db *sql.DB, out MessageWriter, o RelayOptions) (*RelaySummary, error) {
	start := time.Now()
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	sum := &RelaySummary{ByTopic: map[string]int64{}}
	var after int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(min(seq), 0) - 1 FROM ops.outbox WHERE published_at IS NULL`).Scan(&after); err != nil {
		return nil, fmt.Errorf("relay: read ops.outbox: %w", err)
	}
	// A reader goroutine fetches the next batch while the broker takes the
	// current one (it reads by seq, not by the marks, so it need not wait).
	type batch struct {
		rows    []row
		seconds float64
		err     error
	}
	readCtx, stopReading := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	// Whatever way Relay returns, the reader is stopped and has finished
	// with the warehouse first.
	defer func() {
		stopReading()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		var got int64
		for o.Max == 0 || got < o.Max {
			n := o.Batch
			if o.Max > 0 {
				n = int(min(int64(n), o.Max-got))
			}
			t0 := time.Now()
			rows, err := read(readCtx, db, after, n)
			select {
			case batches <- batch{rows, time.Since(t0).Seconds(), err}:
			case <-readCtx.Done():
				return
			}
			if err != nil || len(rows) == 0 {
				return
			}
			got += int64(len(rows))
			after = rows[len(rows)-1].seq
		}
	}()
	lastLog := time.Now()
	finish := func(err error) (*RelaySummary, error) {
		sum.Seconds = time.Since(start).Seconds()
		if sum.Seconds > 0 {
			sum.PerSecond = float64(sum.Published) / sum.Seconds
		}
		if berr := db.QueryRowContext(context.WithoutCancel(ctx), `SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&sum.Backlog); berr != nil && err == nil {
			err = fmt.Errorf("relay: read ops.outbox: %w", berr)
		}
		return sum, err
	}
	for b := range batches {
		if b.err != nil {
			return finish(b.err)
		}
		rows := b.rows
		if len(rows) == 0 {
			break
		}
		sum.ReadSeconds += b.seconds
		// Bodies built in SQL are checked now; the batch is cut before the
		// first that does not match, which stops the drain once the rows
		// before it are sent.
		var invalid error
		for i, r := range rows {
			if r.checked {
				continue
			}
			if err := check(r.typ, []byte(r.data)); err != nil {
				invalid = fmt.Errorf("%w: seq %d (ce_id %s, type %s, topic %s, key %s, producer %s): %v; "+
					"the relay stops here and sends nothing after it: fix the producer, then repair or delete this event",
					ErrInvalidBody, r.seq, r.id, r.typ, r.topic, r.key, r.producer, err)
				if merr := markInvalid(ctx, db, r.seq, err.Error()); merr != nil {
					invalid = errors.Join(invalid, merr)
				}
				rows = rows[:i]
				break
			}
		}
		if len(rows) > 0 {
			msgs := make([]kafka.Message, len(rows))
			for i, r := range rows {
				msgs[i] = message(r, o.Topics)
			}
			t0 := time.Now()
			werr := out.WriteMessages(ctx, msgs...)
			sum.WriteSeconds += time.Since(t0).Seconds()
			t0 = time.Now()
			acked, failed, cause := splitAcks(rows, werr)
			if err := mark(ctx, db, acked, failed, cause); err != nil {
				return finish(err)
			}
			sum.MarkSeconds += time.Since(t0).Seconds()
			for _, r := range acked {
				sum.ByTopic[r.topic]++
			}
			sum.Published += int64(len(acked))
			sum.Batches++
			if werr != nil {
				return finish(fmt.Errorf("relay: the broker did not acknowledge %d of %d events (first seq %d); %d published so far; "+
					"all unacknowledged events stay in ops.outbox and go out on the next cdp publish: %s",
					len(failed), len(rows), failed[0].seq, sum.Published, cause))
			}
			if o.AfterBatch != nil {
				o.AfterBatch(sum.Published)
			}
		}
		if invalid != nil {
			return finish(invalid)
		}
		if time.Since(lastLog) > 5*time.Second {
			log.Info("publishing", "published", sum.Published, "per_second", int(float64(sum.Published)/time.Since(start).Seconds()))
			lastLog = time.Now()
		}
	}
	s, err := finish(nil)
	if err == nil {
		log.Info("published", "events", s.Published, "batches", s.Batches, "backlog", s.Backlog, "seconds", s.Seconds)
	}
	return s, err
}

func read(ctx context.Context, db *sql.DB, after int64, n int) ([]row, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, event_id, topic, key, type, source, coalesce(subject, ''), time, data,
		coalesce(checked, false), producer
		FROM ops.outbox WHERE seq > ? AND published_at IS NULL ORDER BY seq LIMIT ?`, after, n)
	if err != nil {
		return nil, fmt.Errorf("relay: read ops.outbox: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.id, &r.topic, &r.key, &r.typ, &r.source, &r.subject, &r.time, &r.data, &r.checked, &r.producer); err != nil {
			return nil, fmt.Errorf("relay: read ops.outbox: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// message is an outbox row as a CloudEvents 1.0 Kafka message in binary
// mode: attributes in ce_* headers, the JSON body as the value. An empty
// body is a tombstone (a deleted profile), sent with a null value.
func message(r row, topics map[string]string) kafka.Message {
	topic := r.topic
	if t, ok := topics[topic]; ok && t != "" {
		topic = t
	}
	h := []kafka.Header{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte(r.id)},
		{Key: "ce_source", Value: []byte(r.source)},
		{Key: "ce_type", Value: []byte(r.typ)},
		{Key: "ce_time", Value: []byte(r.time.UTC().Format(time.RFC3339Nano))},
	}
	if r.subject != "" {
		h = append(h, kafka.Header{Key: "ce_subject", Value: []byte(r.subject)})
	}
	m := kafka.Message{Topic: topic, Key: []byte(r.key), Headers: h}
	if r.data != "" {
		m.Value = []byte(r.data)
		m.Headers = append(m.Headers, kafka.Header{Key: "content-type", Value: []byte("application/json")})
	}
	return m
}

// splitAcks sorts a batch into acknowledged and failed events, and gives a
// short cause (kafka-go's combined error text can run to tens of KB).
func splitAcks(rows []row, err error) (acked, failed []row, cause string) {
	if err == nil {
		return rows, nil, ""
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) && len(we) == len(rows) {
		causes := map[string]int{}
		for i, e := range we {
			if e == nil {
				acked = append(acked, rows[i])
			} else {
				failed = append(failed, rows[i])
				causes[e.Error()]++
			}
		}
		var parts []string
		for c, n := range causes {
			parts = append(parts, fmt.Sprintf("%d× %s", n, c))
		}
		sort.Strings(parts)
		return acked, failed, shorten(strings.Join(parts, "; "))
	}
	return nil, rows, shorten(err.Error())
}

func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func mark(ctx context.Context, db *sql.DB, acked, failed []row, cause string) error {
	seqs := func(rs []row) string {
		var b strings.Builder
		for i, r := range rs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, r.seq)
		}
		return b.String()
	}
	if len(acked) > 0 {
		q := `UPDATE ops.outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq IN (` + seqs(acked) + `)`
		if len(failed) == 0 {
			q = fmt.Sprintf(`UPDATE ops.outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq BETWEEN %d AND %d AND published_at IS NULL`,
				acked[0].seq, acked[len(acked)-1].seq)
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("relay: mark %d acknowledged events: %w (they will be sent again with the same ids)", len(acked), err)
		}
	}
	if len(failed) > 0 {
		if _, err := db.ExecContext(ctx, `UPDATE ops.outbox SET attempts = attempts + 1, last_error = ? WHERE seq IN (`+seqs(failed)+`)`, cause); err != nil {
			return fmt.Errorf("relay: record the failure: %w", err)
		}
	}
	return nil
}

// markInvalid records why an event cannot be sent.
func markInvalid(ctx context.Context, db *sql.DB, seq int64, cause string) error {
	if _, err := db.ExecContext(context.WithoutCancel(ctx), `UPDATE ops.outbox SET last_error = ? WHERE seq = ?`,
		shorten("invalid body: "+cause), seq); err != nil {
		return fmt.Errorf("relay: record the invalid body of seq %d: %w", seq, err)
	}
	return nil
}

// Pending is the unpublished part of the outbox as the Kafka messages
// Relay would send (benchmarks compare it with a bare writer).
func Pending(ctx context.Context, db *sql.DB, topics map[string]string) ([]kafka.Message, error) {
	rows, err := read(ctx, db, -1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	msgs := make([]kafka.Message, len(rows))
	for i, r := range rows {
		msgs[i] = message(r, topics)
	}
	return msgs, nil
}

// Resend marks every event of the outbox as not yet published, so the next
// relay sends them all again, in order, with their own ce_ids: consumers
// that de-duplicate on ce_id see nothing new. The publish benchmark drains
// the same outbox on each of its runs this way.
func Resend(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE ops.outbox SET published_at = NULL, attempts = 0, last_error = NULL`)
	if err != nil {
		return 0, fmt.Errorf("ops.outbox: %w", err)
	}
	return res.RowsAffected()
}
