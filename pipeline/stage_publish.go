package pipeline

import (
	"context"
	"fmt"

	"cdp/outbox"
)

// publishStage relays the outbox to Kafka once (outbox.Relay), creating
// missing topics first; the daemon can also relay continuously.
type publishStage struct{}

func (publishStage) Run(ctx context.Context, env *Env) (Result, error) {
	s, err := Relay(ctx, env)
	if s == nil {
		return Result{}, err
	}
	return Result{Rows: s.Published, Summary: s}, err
}

// Relay drains the outbox to env.Brokers (default: the project's, or its
// embedded broker, started for the duration), creating missing topics
// first; at most env.MaxEvents events when that is set.
func Relay(ctx context.Context, env *Env) (*outbox.RelaySummary, error) {
	p, brokers := env.Project, env.Brokers
	if len(brokers) == 0 && len(p.Kafka.Brokers) == 0 && p.Kafka.Embedded.Enabled {
		b, err := StartEmbeddedBroker(p.Project, env.Log())
		if err != nil {
			return nil, err
		}
		defer b.Close()
		brokers = b.Addrs
	}
	if *p.Publish.CreateTopics {
		if err := EnsureTopics(ctx, p, brokers, PublishTopics); err != nil {
			return nil, fmt.Errorf("publish: %w (set publish.create_topics: false if the topics are managed elsewhere)", err)
		}
	}
	writer, err := NewPublisher(p, brokers)
	if err != nil {
		return nil, err
	}
	defer writer.Close()
	return outbox.Relay(ctx, env.W.DB(), writer, outbox.RelayOptions{Batch: p.Publish.Batch, Max: env.MaxEvents,
		Topics: p.Publish.Topics, Logger: env.Log()})
}
