package synthbank

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// streamPartitions is the partition count of a topic Produce creates.
const streamPartitions = 6

// Produce writes events to a Kafka topic, key = user_id, creating the topic
// (6 partitions) if it does not exist. Writes are synchronous with acks=all
// and Murmur2 partitioning (the Java client's, so a user's events land on the
// same partition whichever client wrote them). A retried write may store a
// message twice; consumers de-duplicate on event_id.
func Produce(ctx context.Context, brokers []string, topic string, events []StreamEvent) error {
	if len(brokers) == 0 {
		return errors.New("synthbank: no Kafka brokers given")
	}
	if err := ensureTopic(ctx, brokers, topic); err != nil {
		return err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchTimeout: 5 * time.Millisecond,
		BatchBytes:   16 << 20,
		MaxAttempts:  10,
	}
	const chunk = 10_000
	msgs := make([]kafka.Message, 0, min(chunk, len(events)))
	for start := 0; start < len(events); start += chunk {
		msgs = msgs[:0]
		for _, e := range events[start:min(start+chunk, len(events))] {
			msgs = append(msgs, kafka.Message{Key: e.Key, Value: e.Value})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			w.Close()
			return fmt.Errorf("synthbank: produce to %s (events %d..%d): %s", topic, start, start+len(msgs)-1, summarise(err))
		}
	}
	return w.Close()
}

// summarise keeps a kafka.WriteErrors (one error per message) short.
func summarise(err error) string {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				return fmt.Sprintf("%d of %d messages failed, first: %v", we.Count(), len(we), e)
			}
		}
	}
	return err.Error()
}

// ensureTopic creates the topic when it is missing and waits until the
// cluster reports its partitions.
func ensureTopic(ctx context.Context, brokers []string, topic string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("synthbank: kafka metadata: %w", err)
	}
	if topicReady(meta, topic) {
		return nil
	}
	replication := min(3, len(meta.Brokers))
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: streamPartitions, ReplicationFactor: max(replication, 1)}},
	})
	if err != nil {
		return fmt.Errorf("synthbank: create topic %s: %w", topic, err)
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("synthbank: create topic %s: %w", topic, err)
	}
	for i := 0; i < 50; i++ {
		meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err == nil && topicReady(meta, topic) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("synthbank: topic %s not visible after creation", topic)
}

func topicReady(meta *kafka.MetadataResponse, topic string) bool {
	for _, t := range meta.Topics {
		if t.Name == topic && t.Error == nil && len(t.Partitions) > 0 {
			return true
		}
	}
	return false
}
