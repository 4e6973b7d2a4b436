package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/warehouse"
)

var quiet = slog.New(slog.DiscardHandler)

func openWarehouse(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// tagChange is a valid cdp.tags.changed event for party.
func tagChange(party string, n int) Event {
	return Event{
		ID: EventID("test", party, fmt.Sprint(n)), Topic: "cdp.tags.changes", Key: party, Type: "cdp.tags.changed",
		Source: "/cdp/tags", Subject: party, Time: time.Now(), Producer: "test-run",
		Data: fmt.Appendf(nil, `{"party_id":%q,"as_of":"2026-11-20","run_id":"test-run","changes":[{"tag_id":"aum_tier","old_value":null,"new_value":"v%d"}]}`, party, n),
	}
}

func inTx(t *testing.T, w *warehouse.Warehouse, fn func(ctx context.Context, conn *sql.Conn) error) error {
	t.Helper()
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return warehouse.InTx(ctx, conn, func() error { return fn(ctx, conn) })
}

func count(t *testing.T, w *warehouse.Warehouse, q string) int64 {
	t.Helper()
	var n int64
	if err := w.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestEnqueue_InvalidBodyFailsTheCallAndQueuesNothing(t *testing.T) {
	w := openWarehouse(t)
	bad := tagChange("P0000000002", 2)
	bad.Data = []byte(`{"party_id":"P0000000002","as_of":"2026-11-20","run_id":"test-run","changes":[]}`) // minItems 1
	err := inTx(t, w, func(ctx context.Context, conn *sql.Conn) error {
		return Enqueue(ctx, conn, []Event{tagChange("P0000000001", 1), bad, tagChange("P0000000003", 3)})
	})
	if err == nil {
		t.Fatal("an invalid body was queued")
	}
	for _, want := range []string{"event 2 of 3", bad.ID, "tag-change.json", "nothing was queued"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := count(t, w, `SELECT count(*) FROM ops.outbox`); n != 0 {
		t.Fatalf("%d events queued after a failed enqueue", n)
	}
	// An event type without a schema is refused too; a tombstone needs none.
	unknown := tagChange("P0000000004", 4)
	unknown.Type = "cdp.unknown"
	if err := inTx(t, w, func(ctx context.Context, conn *sql.Conn) error { return Enqueue(ctx, conn, []Event{unknown}) }); err == nil ||
		!strings.Contains(err.Error(), "no schema") {
		t.Errorf("an event of a type without a schema: %v", err)
	}
	tomb := Event{ID: EventID("gone"), Topic: "cdp.profile", Key: "P1", Type: "cdp.profile.deleted", Source: "/cdp/profile", Time: time.Now(), Producer: "t"}
	if err := inTx(t, w, func(ctx context.Context, conn *sql.Conn) error { return Enqueue(ctx, conn, []Event{tomb}) }); err != nil {
		t.Fatalf("a tombstone: %v", err)
	}
	if n := count(t, w, `SELECT count(*) FROM ops.outbox WHERE checked`); n != 1 {
		t.Errorf("checked events: %d, want the tombstone", n)
	}
}

// TestRelay_InvalidSQLBodyStopsTheRelayAtTheEvent queues three events from
// SQL, the second with a body its schema refuses: the relay sends the
// first, stops at the second with an error naming it, and sends nothing
// after it; once the body is repaired the next relay sends the rest, in
// order.
func TestRelay_InvalidSQLBodyStopsTheRelayAtTheEvent(t *testing.T) {
	w := openWarehouse(t)
	err := inTx(t, w, func(ctx context.Context, conn *sql.Conn) error {
		n, err := EnqueueSQL(ctx, conn, `SELECT `+IDSQL("'t'", "key")+` AS event_id, 'cdp.tags.changes' AS topic, key,
			'cdp.tags.changed' AS type, '/cdp/tags' AS source, key AS subject, now() AS time,
			CASE WHEN key = 'P2' THEN '{"party_id":"P2"}'
			     ELSE '{"party_id":"' || key || '","as_of":"2026-11-20","run_id":"r","changes":[{"tag_id":"a","old_value":null,"new_value":"1"}]}' END AS data,
			'r' AS producer
			FROM (VALUES ('P3'), ('P1'), ('P2')) v(key)`, "key")
		if err == nil && n != 3 {
			err = fmt.Errorf("queued %d, want 3", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, `SELECT count(*) FROM ops.outbox WHERE NOT checked`); n != 3 {
		t.Fatalf("%d unchecked events, want 3 (bodies built in SQL are checked by the relay)", n)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wr := &kafka.Writer{Addr: kafka.TCP(c.ListenAddrs()...), Balancer: kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, AllowAutoTopicCreation: true}
	defer wr.Close()
	ctx := context.Background()
	sum, err := Relay(ctx, w.DB(), wr, RelayOptions{Logger: quiet})
	if !errors.Is(err, ErrInvalidBody) {
		t.Fatalf("relay over an invalid body: %v", err)
	}
	var id string
	if err := w.DB().QueryRow(`SELECT event_id FROM ops.outbox WHERE key = 'P2'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"seq 2", id, "key P2", "tag-change.json", "sends nothing after it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if sum.Published != 1 || sum.Backlog != 2 {
		t.Fatalf("published %d, backlog %d: want the first event out and two waiting", sum.Published, sum.Backlog)
	}
	if n := count(t, w, `SELECT count(*) FROM ops.outbox WHERE key = 'P2' AND published_at IS NULL AND last_error LIKE 'invalid body%'`); n != 1 {
		t.Errorf("the invalid event does not carry its error")
	}
	if _, err := w.DB().Exec(`UPDATE ops.outbox SET data = '{"party_id":"P2","as_of":"2026-11-20","run_id":"r","changes":[{"tag_id":"a","old_value":"0","new_value":"1"}]}' WHERE key = 'P2'`); err != nil {
		t.Fatal(err)
	}
	sum, err = Relay(ctx, w.DB(), wr, RelayOptions{Logger: quiet})
	if err != nil || sum.Published != 2 || sum.Backlog != 0 {
		t.Fatalf("relay after the repair: %+v, %v", sum, err)
	}
	msgs := readAll(t, c.ListenAddrs(), "cdp.tags.changes", 3)
	var keys []string
	for _, m := range msgs {
		keys = append(keys, string(m.Key))
	}
	// Queued in key order, so P1, P2, P3; one partition each key, so the
	// set is what counts here.
	slices.Sort(keys)
	if strings.Join(keys, ",") != "P1,P2,P3" {
		t.Errorf("delivered keys %v", keys)
	}
	st, err := ReadStatus(ctx, w.DB())
	if err != nil || st.Events != 3 || st.Published != 3 || st.Backlog != 0 || len(st.Topics) != 1 {
		t.Errorf("status after draining: %+v, %v", st, err)
	}
	// A resend sends every event again, with the same ce_id.
	if n, err := Resend(ctx, w.DB()); err != nil || n != 3 {
		t.Fatalf("resend: %d, %v", n, err)
	}
	sum, err = Relay(ctx, w.DB(), wr, RelayOptions{Logger: quiet})
	if err != nil || sum.Published != 3 || sum.Backlog != 0 {
		t.Fatalf("relay after a resend: %+v, %v", sum, err)
	}
	ids := map[string]int{}
	for _, m := range readAll(t, c.ListenAddrs(), "cdp.tags.changes", 6) {
		for _, h := range m.Headers {
			if h.Key == "ce_id" {
				ids[string(h.Value)]++
			}
		}
	}
	if len(ids) != 3 || ids[id] != 2 {
		t.Errorf("ce_ids after a resend: %v, want 3 ids twice each", ids)
	}
	for ceID, n := range ids {
		if n != 2 {
			t.Errorf("ce_id %s delivered %d times after a resend, want 2", ceID, n)
		}
	}
}

// readAll reads n messages of topic from every partition.
func readAll(t *testing.T, brokers []string, topic string, n int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MaxWait: 50 * time.Millisecond})
		lc, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := lc.ReadLastOffset()
		lc.Close()
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < last; off++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		r.Close()
	}
	if len(out) != n {
		t.Fatalf("%s holds %d messages, want %d", topic, len(out), n)
	}
	return out
}
