package synthbank

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// readAll reads every message of a topic, partition by partition, up to the
// high watermark seen when it starts.
func readAll(t *testing.T, ctx context.Context, brokers []string, topic string) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != streamPartitions {
		t.Errorf("topic %s has %d partitions, want %d", topic, len(parts), streamPartitions)
	}
	var out []kafka.Message
	for _, p := range parts {
		leader, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := leader.ReadLastOffset()
		leader.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 50 * time.Millisecond})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("partition %d: %v", p.ID, err)
			}
			out = append(out, m)
			if m.Offset+1 >= last {
				break
			}
		}
		r.Close()
	}
	return out
}

func TestProduce_EveryStreamEventCanBeReadBack(t *testing.T) {
	dir := t.TempDir()
	sum, err := Generate(context.Background(), Options{Out: dir, Parties: 1000, Days: 3, StreamDays: 2})
	if err != nil {
		t.Fatal(err)
	}
	events := sum.StreamEvents
	if len(events) == 0 {
		t.Fatal("no stream events")
	}
	ids := map[string]int{}
	for _, e := range events {
		var obj struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(e.Value, &obj); err != nil {
			t.Fatal(err)
		}
		ids[obj.EventID]++
	}
	if dups := len(events) - len(ids); dups == 0 || dups > len(events)/50 {
		t.Errorf("%d redeliveries among %d events, want about 0.5%%", dups, len(events))
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "ebank.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, topic := range []string{"ebank.events", "ebank.events.created"} {
		t.Run(topic, func(t *testing.T) {
			if err := Produce(ctx, brokers, topic, events); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, ctx, brokers, topic)
			if len(got) != len(events) {
				t.Fatalf("read %d messages, produced %d", len(got), len(events))
			}
			want := map[string]int{}
			for _, e := range events {
				want[string(e.Key)+"\x00"+string(e.Value)]++
			}
			byUser := map[string]int{}
			for _, m := range got {
				k := string(m.Key) + "\x00" + string(m.Value)
				if want[k] == 0 {
					t.Fatalf("unexpected message %s", m.Value)
				}
				want[k]--
				if p, ok := byUser[string(m.Key)]; ok && p != m.Partition {
					t.Fatalf("user %s on partitions %d and %d", m.Key, p, m.Partition)
				}
				byUser[string(m.Key)] = m.Partition
			}
		})
	}
}
