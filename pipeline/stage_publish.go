package pipeline

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

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
	r, err := NewRelayer(env)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Drain(ctx)
}

// Relayer drains the outbox to Kafka drain after drain over one writer (and
// one embedded broker, when the project runs one and names no brokers):
// the daemon's continuous relay keeps one for its life. Topics are created
// at the first drain that reaches the broker, once.
type Relayer struct {
	env         *Env
	brokers     []string
	embedded    *EmbeddedBroker // started by the Relayer, if any
	writer      *kafka.Writer
	topicsReady bool
}

// NewRelayer resolves the brokers (starting the embedded one if the project
// uses it) and builds the writer; it sends nothing yet.
func NewRelayer(env *Env) (*Relayer, error) {
	r := &Relayer{env: env, brokers: env.Brokers}
	p := env.Project
	if len(r.brokers) == 0 && len(p.Kafka.Brokers) == 0 && p.Kafka.Embedded.Enabled {
		b, err := StartEmbeddedBroker(p.Project, env.Log())
		if err != nil {
			return nil, err
		}
		r.embedded, r.brokers = b, b.Addrs
	}
	w, err := NewPublisher(p, r.brokers)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.writer = w
	return r, nil
}

// Drain relays what the outbox holds (at most env.MaxEvents when set).
func (r *Relayer) Drain(ctx context.Context) (*outbox.RelaySummary, error) {
	p := r.env.Project
	if *p.Publish.CreateTopics && !r.topicsReady {
		if err := EnsureTopics(ctx, p, r.brokers, PublishTopics); err != nil {
			return nil, fmt.Errorf("publish: %w (set publish.create_topics: false if the topics are managed elsewhere)", err)
		}
		r.topicsReady = true
	}
	return outbox.Relay(ctx, r.env.W.DB(), r.writer, outbox.RelayOptions{Batch: p.Publish.Batch, Max: r.env.MaxEvents,
		Topics: p.Publish.Topics, Logger: r.env.Log()})
}

// Close closes the writer and stops the embedded broker it started.
func (r *Relayer) Close() error {
	var err error
	if r.writer != nil {
		err = r.writer.Close()
	}
	if r.embedded != nil {
		r.embedded.Close()
	}
	return err
}
