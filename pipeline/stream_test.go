package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/connectors/contract"
)

// startBroker runs a Kafka-protocol broker on 127.0.0.1 for the test.
func startBroker(t *testing.T, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "ebank.events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func event(id, user string) string {
	return fmt.Sprintf(`{"event_id":"%s","user_id":"%s","ts":"2026-11-20T10:00:00+08:00","channel":"APP","event_type":"TRANSFER_OUT","amount":10.00,"currency":"CNY","cross_border":false}`, id, user)
}

func produce(t *testing.T, c *kfake.Cluster, values ...string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(c.ListenAddrs()...), Topic: "ebank.events", Balancer: kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000}
	defer w.Close()
	var msgs []kafka.Message
	for i, v := range values {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("u%d", i%37)), Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func newStreamProject(t *testing.T, c *kfake.Cluster) *project {
	return newProject(t, fmt.Sprintf(`  - {name: ebank_stream, contract: ebank, kind: kafka, topic: ebank.events, entity: events}
kafka:
  brokers: [%s]
`, strings.Join(c.ListenAddrs(), ", ")))
}

func TestStream_ResumesFromCheckpointWithoutLossOrDuplicates(t *testing.T) {
	c := startBroker(t, 3)
	var first []string
	for i := 0; i < 500; i++ {
		first = append(first, event(fmt.Sprintf("E%04d", i), fmt.Sprintf("u%d", i%37)))
	}
	first = append(first, event("E0007", "u7"), `{"broken":`) // a redelivery and a bad message
	produce(t, c, first...)
	p := newStreamProject(t, c)

	rep, err := p.ingest("ebank_stream")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count("loaded") < 5 {
		t.Fatalf("%d stream batches, want at least 5 of at most 120 messages", rep.Count("loaded"))
	}
	in, loaded, rejected, _ := rep.Totals()
	if in != 502 || loaded != 500 || rejected != 2 {
		t.Fatalf("first run: %d in = %d loaded + %d rejected, want 502 = 500 + 2", in, loaded, rejected)
	}

	// A restart: new source, same warehouse. Only the new messages load.
	var second []string
	for i := 500; i < 800; i++ {
		second = append(second, event(fmt.Sprintf("E%04d", i), fmt.Sprintf("u%d", i%37)))
	}
	produce(t, c, second...)
	rep, err = p.ingest("ebank_stream")
	if err != nil {
		t.Fatal(err)
	}
	if in, loaded, _, _ := rep.Totals(); in != 300 || loaded != 300 {
		t.Fatalf("after restart: %d in, %d loaded; want 300 and 300", in, loaded)
	}
	if n := p.count(`SELECT count(*) FROM raw.ebank_events`); n != 800 {
		t.Fatalf("raw.ebank_events has %d rows, want 800", n)
	}
	if n := p.count(`SELECT count(DISTINCT event_id) FROM raw.ebank_events`); n != 800 {
		t.Fatalf("%d distinct event ids, want 800", n)
	}
	if n := p.count(`SELECT sum(next_offset) FROM ops.stream_checkpoints`); n != 802 {
		t.Fatalf("checkpoints sum to %d, want 802 messages", n)
	}
	// Nothing new: a third run loads nothing.
	rep, _ = p.ingest("ebank_stream")
	if in, _, _, _ := rep.Totals(); in != 0 {
		t.Fatalf("idle rerun read %d messages", in)
	}
}

func TestStream_EventInStreamAndArchiveLoadsOnce(t *testing.T) {
	c := startBroker(t, 2)
	produce(t, c, event("E1", "u1"), event("E2", "u2"))
	p := newStreamProject(t, c)
	p.deliver("ebank/events_20261120.jsonl.gz", gz(t, event("E2", "u2")+"\n"+event("E3", "u3")+"\n"), 2)
	if _, err := p.ingest(); err != nil {
		t.Fatal(err)
	}
	if n := p.count(`SELECT count(*) FROM raw.ebank_events`); n != 3 {
		t.Fatalf("%d events, want 3 (E2 once)", n)
	}
	var detail string
	p.queryRow(`SELECT detail FROM ops.rejects WHERE reason = ?`, []any{contract.ReasonDuplicate}, &detail)
	if !strings.HasPrefix(detail, "event_id E2 already loaded from ") {
		t.Fatalf("duplicate reject detail %q", detail)
	}
}

func TestStream_MessagesLostToRetentionAreRecorded(t *testing.T) {
	c := startBroker(t, 1)
	produce(t, c, event("E1", "u1"), event("E2", "u1"))
	p := newStreamProject(t, c)
	if _, err := p.ingest("ebank_stream"); err != nil {
		t.Fatal(err)
	}
	var more []string
	for i := 3; i <= 10; i++ {
		more = append(more, event(fmt.Sprintf("E%d", i), "u1"))
	}
	produce(t, c, more...)
	// Retention deletes offsets 2..4 before the next run reads them.
	if err := c.DeleteRecords("ebank.events", 0, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ingest("ebank_stream"); err != nil {
		t.Fatal(err)
	}
	var msg string
	p.queryRow(`SELECT error FROM ops.loads WHERE status = 'failed'`, nil, &msg)
	if !strings.Contains(msg, "ebank.events/0: 3 messages were deleted by retention") {
		t.Fatalf("ops.loads error %q", msg)
	}
	if n := p.count(`SELECT count(*) FROM raw.ebank_events`); n != 7 {
		t.Fatalf("%d events, want 7 (E1, E2, then offsets 5..9)", n)
	}
}

func TestIngest_CorrectionRestoresAnEventAnotherSourceDelivered(t *testing.T) {
	c := startBroker(t, 1)
	p := newStreamProject(t, c)
	p.deliver("ebank/events_20261120.jsonl.gz", gz(t, event("E1", "u1")+"\n"+event("E2", "u2")+"\n"), 2)
	if _, err := p.ingest("ebank"); err != nil {
		t.Fatal(err)
	}
	withExtra := strings.Replace(event("E1", "u1"), `"cross_border":false`, `"cross_border":false,"device_os":"iOS"`, 1)
	produce(t, c, withExtra) // the stream's copy of E1 is a duplicate_key reject
	if _, err := p.ingest("ebank_stream"); err != nil {
		t.Fatal(err)
	}
	// The archive is corrected and no longer has E1: the stream's copy must come back.
	p.deliver("ebank/events_20261120.jsonl.gz", gz(t, event("E2", "u2")+"\n"), 1)
	if _, err := p.ingest("ebank"); err != nil {
		t.Fatal(err)
	}
	var source, extra string
	var amount float64
	p.queryRow(`SELECT _source, _extra::VARCHAR, amount::DOUBLE FROM raw.ebank_events WHERE event_id = 'E1'`, nil, &source, &extra, &amount)
	if source != "ebank.events/0/0" || extra != `{"device_os":"iOS"}` || amount != 10 {
		t.Fatalf("restored E1: source %q extra %q amount %v", source, extra, amount)
	}
	if n := p.count(`SELECT count(*) FROM raw.ebank_events`); n != 2 {
		t.Fatalf("%d events, want E1 and E2", n)
	}
	if n := p.count(`SELECT count(*) FROM ops.rejects`); n != 0 {
		t.Fatalf("%d rejects left, want 0", n)
	}
	if n := p.count(`SELECT count(*) FROM ops.loads WHERE status = 'loaded' AND (rows_in <> rows_loaded + rows_rejected OR (feed = 'ebank_stream' AND rows_loaded <> 1))`); n != 0 {
		t.Fatal("ledger not moved from rejected to loaded")
	}
}
