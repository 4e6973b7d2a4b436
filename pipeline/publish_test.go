package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/internal/sqltest"
	"cdp/outbox"
	"cdp/warehouse"
)

// freePort finds a port on 127.0.0.1 nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// queueEvents puts n events into the outbox in one transaction, spread over
// the publish topics and 50 parties, and returns their ids.
func queueEvents(t *testing.T, w *warehouse.Warehouse, n int) map[string]bool {
	t.Helper()
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ids := map[string]bool{}
	var evs []outbox.Event
	for i := range n {
		party := fmt.Sprintf("P%06d", i%50)
		e := outbox.Event{
			ID: outbox.EventID("test", fmt.Sprint(i)), Topic: PublishTopics[i%len(PublishTopics)], Key: party,
			Type: "cdp.tags.changed", Source: "/cdp/test", Subject: party, Time: time.Now(), Producer: "test",
			Data: fmt.Appendf(nil, `{"party_id":%q,"as_of":"2026-11-20","run_id":"test","changes":[{"tag_id":"n","old_value":null,"new_value":"%d"}]}`, party, i),
		}
		ids[e.ID] = true
		evs = append(evs, e)
	}
	if err := warehouse.InTx(ctx, conn, func() error { return outbox.Enqueue(ctx, conn, evs) }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestPublish_BrokerOutageLosesNothing stops the broker in the middle of a
// publish: the publish fails loudly, every event the broker did not
// acknowledge stays in the outbox with its error, and once the broker is
// back the next publish delivers them. A consumer de-duplicating on ce_id
// ends with exactly the queued set, in per-party order.
func TestPublish_BrokerOutageLosesNothing(t *testing.T) {
	port := freePort(t)
	dataDir := t.TempDir()
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dataDir), kfake.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	broker := start()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	proj := newProject(t, fmt.Sprintf("kafka:\n  brokers: [%q]\npublish:\n  batch: 500\n  max_attempts: 2\n  timeout_seconds: 3\n", addr))
	p := proj.config()
	w := openTestWarehouse(t, p)
	const total = 6000
	want := queueEvents(t, w, total)
	ctx := context.Background()
	if err := EnsureTopics(ctx, p, nil, PublishTopics); err != nil {
		t.Fatal(err)
	}

	// First publish: the broker goes away after the third batch.
	writer, err := NewPublisher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	sum, err := outbox.Relay(ctx, w.DB(), writer, outbox.RelayOptions{Batch: 500, Logger: quiet, AfterBatch: func(n int64) {
		if n >= 1500 && !stopped {
			stopped = true
			broker.Close()
		}
	}})
	writer.Close()
	if err == nil {
		t.Fatalf("publish with the broker gone succeeded: %+v", sum)
	}
	if !strings.Contains(err.Error(), "stay in ops.outbox") {
		t.Errorf("error does not say the events are kept: %v", err)
	}
	var published, waiting, withError int64
	sqltest.Row(t, w.DB(), `SELECT count(published_at), count(*) - count(published_at), count(*) FILTER (published_at IS NULL AND last_error IS NOT NULL)
		FROM ops.outbox`).Scan(&published, &waiting, &withError)
	if published != sum.Published || published < 1500 || waiting == 0 || published+waiting != total || withError == 0 {
		t.Fatalf("after the outage: %d published (publish says %d), %d waiting (%d with an error), of %d", published, sum.Published, waiting, withError, total)
	}
	t.Logf("outage: %d acknowledged before the broker stopped, %d kept; error: %.200s", published, waiting, err)

	// The broker returns (same port, same log); the next publish drains.
	broker = start()
	defer broker.Close()
	writer, err = NewPublisher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	sum, err = outbox.Relay(ctx, w.DB(), writer, outbox.RelayOptions{Batch: 500, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Published != waiting || sum.Backlog != 0 {
		t.Errorf("second publish sent %d of %d waiting, %d left", sum.Published, waiting, sum.Backlog)
	}

	// Consumer side: de-duplicate on ce_id; per party, n only increases.
	got := map[string]bool{}
	dups := 0
	for _, topic := range PublishTopics {
		msgs, err := ReadTopic(ctx, []string{addr}, topic)
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]int{}
		for _, m := range msgs {
			h := map[string]string{}
			for _, x := range m.Headers {
				h[x.Key] = string(x.Value)
			}
			if h["ce_specversion"] != "1.0" || h["ce_type"] != "cdp.tags.changed" || h["content-type"] != "application/json" || h["ce_subject"] != string(m.Key) {
				t.Fatalf("%s: CloudEvents headers wrong: %v", topic, h)
			}
			id := h["ce_id"]
			if got[id] {
				dups++
				continue
			}
			got[id] = true
			var body struct {
				Changes []struct {
					New string `json:"new_value"`
				} `json:"changes"`
			}
			if err := json.Unmarshal(m.Value, &body); err != nil || len(body.Changes) != 1 {
				t.Fatalf("%s: body %s: %v", topic, m.Value, err)
			}
			n, err := strconv.Atoi(body.Changes[0].New)
			if err != nil {
				t.Fatalf("%s: body %s: %v", topic, m.Value, err)
			}
			if prev, ok := last[string(m.Key)]; ok && n < prev {
				t.Errorf("%s: party %s event %d after %d: order broken", topic, m.Key, n, prev)
			}
			last[string(m.Key)] = n
		}
	}
	missing := 0
	for id := range want {
		if !got[id] {
			missing++
		}
	}
	if missing != 0 || len(got) != len(want) {
		t.Errorf("consumer has %d distinct events, want %d; %d missing", len(got), len(want), missing)
	}
	t.Logf("consumer: %d distinct events, %d duplicates dropped", len(got), dups)
}

func openTestWarehouse(t *testing.T, p interface{ WarehousePath() string }) *warehouse.Warehouse {
	t.Helper()
	w, err := warehouse.Open(context.Background(), p.WarehousePath(), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// A batch whose events for one partition exceed the broker's
// message.max.bytes (1 MiB, Kafka's and kfake's default) is split, not
// refused: 5000 events of 1 KB for one party go out in one publish.
func TestPublish_ABatchLargerThanTheBrokersMessageLimit(t *testing.T) {
	port := freePort(t)
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := newProject(t, fmt.Sprintf("kafka:\n  brokers: [%q]\n", addr)).config()
	w := openTestWarehouse(t, p)
	ctx := context.Background()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 5000
	pad := strings.Repeat("x", 1000)
	var evs []outbox.Event
	for i := range n {
		evs = append(evs, outbox.Event{ID: outbox.EventID("big", fmt.Sprint(i)), Topic: PublishTopics[0], Key: "P1", Type: "cdp.tags.changed",
			Source: "/cdp/test", Subject: "P1", Time: time.Now(), Producer: "test",
			Data: fmt.Appendf(nil, `{"party_id":"P1","as_of":"2026-11-20","run_id":"test","changes":[{"tag_id":"n","old_value":null,"new_value":"%d %s"}]}`, i, pad)})
	}
	if err := warehouse.InTx(ctx, conn, func() error { return outbox.Enqueue(ctx, conn, evs) }); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, p, nil, PublishTopics); err != nil {
		t.Fatal(err)
	}
	writer, err := NewPublisher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	sum, err := outbox.Relay(ctx, w.DB(), writer, outbox.RelayOptions{Batch: p.Publish.Batch, Logger: quiet})
	if err != nil {
		t.Fatalf("publishing %d events of 1 KB for one partition: %v", n, err)
	}
	if sum.Published != n || sum.Backlog != 0 {
		t.Errorf("published %d of %d, %d left", sum.Published, n, sum.Backlog)
	}
}
