package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"cdp/outbox"
	"cdp/transforms/view"
)

// NewPublisher is the Kafka writer the outbox relay sends through: acks
// from all in-sync replicas, murmur2 partitioning on the key (party_id, as
// the Java client does, so each customer's events stay in order on one
// partition), batched synchronous writes, TLS and SASL from the project's
// kafka section.
func NewPublisher(p *Project, brokers []string) (*kafka.Writer, error) {
	addrs, dialer, err := KafkaClient(p.Project, brokers)
	if err != nil {
		return nil, err
	}
	pub := p.Publish
	return &kafka.Writer{
		Addr:         kafka.TCP(addrs...),
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    pub.Batch,
		BatchBytes:   pub.BatchBytes,
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
func EnsureTopics(ctx context.Context, p *Project, brokers []string, topics []string) error {
	addrs, dialer, err := KafkaClient(p.Project, brokers)
	if err != nil {
		return err
	}
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Timeout: 10 * time.Second, Transport: &kafka.Transport{
		Dial: dialer.DialFunc, ClientID: dialer.ClientID, TLS: dialer.TLS, SASL: dialer.SASLMechanism, DialTimeout: dialer.Timeout,
	}}
	specs := make([]outbox.Topic, 0, len(topics))
	for _, t := range topics {
		name := t
		if r := p.Publish.Topics[t]; r != "" {
			name = r
		}
		specs = append(specs, outbox.Topic{Name: name, Partitions: p.Publish.Partitions, ReplicationFactor: p.Publish.ReplicationFactor,
			Compacted: t == view.ProfileTopic})
	}
	if err := outbox.EnsureTopics(ctx, client, specs); err != nil {
		return fmt.Errorf("%w (brokers %v)", err, addrs)
	}
	return nil
}
