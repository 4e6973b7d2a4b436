package pipeline

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

	"cdp/pipeline/config"
	"cdp/transforms/view"
	"cdp/warehouse"
)

// MessageWriter is what the publisher sends through: a *kafka.Writer.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// PublishOptions are one drain of the outbox.
type PublishOptions struct {
	Batch  int               // events per broker write; default 5000
	Max    int64             // stop after this many events; 0 = drain the outbox
	Topics map[string]string // canonical topic → the name to publish under
	Logger *slog.Logger
	// AfterBatch, if set, is called after each acknowledged batch with the
	// running total (progress, tests).
	AfterBatch func(published int64)
}

// PublishSummary is what a drain did.
type PublishSummary struct {
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

type outboxRow struct {
	seq                                  int64
	id, topic, key, typ, source, subject string
	time                                 time.Time
	data                                 string
}

// Publish drains ops.outbox to Kafka in seq order, one batch at a time. An
// event is marked published only once the broker acknowledged it (the
// writer must use acks=all); when a write fails, the events not acknowledged
// stay in the outbox with the error and attempt count, Publish returns the
// error, and the next drain sends them again. Events that were acknowledged
// but not yet marked when the process died are sent again with the same
// event id (ce_id), which consumers de-duplicate on.
func Publish(ctx context.Context, w *warehouse.Warehouse, out MessageWriter, o PublishOptions) (*PublishSummary, error) {
	start := time.Now()
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	db := w.DB()
	sum := &PublishSummary{ByTopic: map[string]int64{}}
	var after int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(min(seq), 0) - 1 FROM ops.outbox WHERE published_at IS NULL`).Scan(&after); err != nil {
		return nil, fmt.Errorf("publish: read ops.outbox: %w", err)
	}
	// A reader goroutine fetches the next batch while the broker takes the
	// current one (it reads by seq, not by the marks, so it need not wait).
	type batch struct {
		rows    []outboxRow
		seconds float64
		err     error
	}
	readCtx, stopReading := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	// Whatever way Publish returns, the reader is stopped and has finished
	// with the warehouse first.
	defer func() {
		stopReading()
		for range batches {
		}
	}()
	go func() {
		defer close(batches)
		var read int64
		for o.Max == 0 || read < o.Max {
			n := o.Batch
			if o.Max > 0 {
				n = int(min(int64(n), o.Max-read))
			}
			t0 := time.Now()
			rows, err := readOutbox(readCtx, db, after, n)
			select {
			case batches <- batch{rows, time.Since(t0).Seconds(), err}:
			case <-readCtx.Done():
				return
			}
			if err != nil || len(rows) == 0 {
				return
			}
			read += int64(len(rows))
			after = rows[len(rows)-1].seq
		}
	}()
	lastLog := time.Now()
	for b := range batches {
		if b.err != nil {
			return sum, b.err
		}
		rows := b.rows
		if len(rows) == 0 {
			break
		}
		sum.ReadSeconds += b.seconds
		msgs := make([]kafka.Message, len(rows))
		for i, r := range rows {
			msgs[i] = message(r, o.Topics)
		}
		t0 := time.Now()
		werr := out.WriteMessages(ctx, msgs...)
		sum.WriteSeconds += time.Since(t0).Seconds()
		t0 = time.Now()
		acked, failed, cause := splitAcks(rows, werr)
		if err := markOutbox(ctx, db, acked, failed, cause); err != nil {
			return sum, err
		}
		sum.MarkSeconds += time.Since(t0).Seconds()
		for _, r := range acked {
			sum.ByTopic[r.topic]++
		}
		sum.Published += int64(len(acked))
		sum.Batches++
		if werr != nil {
			sum.Seconds = time.Since(start).Seconds()
			db.QueryRowContext(ctx, `SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&sum.Backlog)
			return sum, fmt.Errorf("publish: the broker did not acknowledge %d of %d events (first seq %d); %d published so far; "+
				"all unacknowledged events stay in ops.outbox and go out on the next cdp publish: %s",
				len(failed), len(rows), failed[0].seq, sum.Published, cause)
		}
		if o.AfterBatch != nil {
			o.AfterBatch(sum.Published)
		}
		if time.Since(lastLog) > 5*time.Second {
			log.Info("publishing", "published", sum.Published, "per_second", int(float64(sum.Published)/time.Since(start).Seconds()))
			lastLog = time.Now()
		}
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&sum.Backlog); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.PerSecond = float64(sum.Published) / sum.Seconds
	}
	log.Info("published", "events", sum.Published, "batches", sum.Batches, "backlog", sum.Backlog, "seconds", sum.Seconds)
	return sum, nil
}

func readOutbox(ctx context.Context, db *sql.DB, after int64, n int) ([]outboxRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, event_id, topic, key, type, source, coalesce(subject, ''), time, data
		FROM ops.outbox WHERE seq > ? AND published_at IS NULL ORDER BY seq LIMIT ?`, after, n)
	if err != nil {
		return nil, fmt.Errorf("publish: read ops.outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.seq, &r.id, &r.topic, &r.key, &r.typ, &r.source, &r.subject, &r.time, &r.data); err != nil {
			return nil, fmt.Errorf("publish: read ops.outbox: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// message is an outbox row as a CloudEvents 1.0 Kafka message in binary
// mode: attributes in ce_* headers, the JSON body as the value. An empty
// body is a tombstone (a deleted profile), sent with a null value.
func message(r outboxRow, topics map[string]string) kafka.Message {
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
func splitAcks(rows []outboxRow, err error) (acked, failed []outboxRow, cause string) {
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

func markOutbox(ctx context.Context, db *sql.DB, acked, failed []outboxRow, cause string) error {
	seqs := func(rs []outboxRow) string {
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
			return fmt.Errorf("publish: mark %d acknowledged events: %w (they will be sent again with the same ids)", len(acked), err)
		}
	}
	if len(failed) > 0 {
		if _, err := db.ExecContext(ctx, `UPDATE ops.outbox SET attempts = attempts + 1, last_error = ? WHERE seq IN (`+seqs(failed)+`)`, cause); err != nil {
			return fmt.Errorf("publish: record the failure: %w", err)
		}
	}
	return nil
}

// NewPublisher is the Kafka writer for the outbox: acks from all in-sync
// replicas, murmur2 partitioning on the key (party_id, as the Java client
// does, so each customer's events stay in order on one partition), batched
// synchronous writes, TLS and SASL from the project's kafka section.
func NewPublisher(p *config.Project, brokers []string) (*kafka.Writer, error) {
	addrs, dialer, err := KafkaClient(p, brokers)
	if err != nil {
		return nil, err
	}
	pub := p.Publish
	return &kafka.Writer{
		Addr:         kafka.TCP(addrs...),
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    pub.Batch,
		BatchBytes:   16 << 20,
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  pub.MaxAttempts,
		WriteTimeout: time.Duration(pub.TimeoutSeconds) * time.Second,
		Transport: &kafka.Transport{
			Dial: dialer.DialFunc, ClientID: dialer.ClientID, TLS: dialer.TLS, SASL: dialer.SASLMechanism,
			DialTimeout: dialer.Timeout,
		},
	}, nil
}

// EnsureTopics creates the publish topics that do not exist yet: partitions
// and replication from the publish section, cdp.profile compacted.
func EnsureTopics(ctx context.Context, p *config.Project, brokers []string, topics []string) error {
	addrs, dialer, err := KafkaClient(p, brokers)
	if err != nil {
		return err
	}
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Timeout: 10 * time.Second, Transport: &kafka.Transport{
		Dial: dialer.DialFunc, ClientID: dialer.ClientID, TLS: dialer.TLS, SASL: dialer.SASLMechanism, DialTimeout: dialer.Timeout,
	}}
	var cfgs []kafka.TopicConfig
	for _, t := range topics {
		name := t
		if r := p.Publish.Topics[t]; r != "" {
			name = r
		}
		c := kafka.TopicConfig{Topic: name, NumPartitions: p.Publish.Partitions, ReplicationFactor: p.Publish.ReplicationFactor}
		if t == view.ProfileTopic {
			c.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}
		}
		cfgs = append(cfgs, c)
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: cfgs})
	if err != nil {
		return fmt.Errorf("create topics on %s: %w", strings.Join(addrs, ","), err)
	}
	for name, e := range res.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, e)
		}
	}
	return nil
}

// PublishTopics are the topics cdp publishes to, by canonical name.
var PublishTopics = config.PublishTopics

// PendingMessages is the unpublished part of the outbox as the Kafka
// messages Publish would send (benchmarks compare it with a bare writer).
func PendingMessages(ctx context.Context, w *warehouse.Warehouse, topics map[string]string) ([]kafka.Message, error) {
	rows, err := readOutbox(ctx, w.DB(), -1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	msgs := make([]kafka.Message, len(rows))
	for i, r := range rows {
		msgs[i] = message(r, topics)
	}
	return msgs, nil
}
