package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/pipeline/config"
)

// KafkaClient turns the project's kafka section into broker addresses and a
// dialer carrying TLS and SASL. Non-empty override replaces the brokers.
func KafkaClient(p *config.Project, override []string) ([]string, *kafka.Dialer, error) {
	k := p.Kafka
	brokers := k.Brokers
	if len(override) > 0 {
		brokers = override
	}
	if len(brokers) == 0 {
		return nil, nil, fmt.Errorf("%s: kafka.brokers is empty", p.Path)
	}
	d := &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, ClientID: k.ClientID}
	if k.TLS.Enabled {
		cfg := &tls.Config{InsecureSkipVerify: k.TLS.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if k.TLS.CAFile != "" {
			pem, err := os.ReadFile(p.Resolve(k.TLS.CAFile))
			if err != nil {
				return nil, nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, nil, fmt.Errorf("kafka.tls.ca_file %s: no PEM certificates", k.TLS.CAFile)
			}
			cfg.RootCAs = pool
		}
		if k.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(p.Resolve(k.TLS.CertFile), p.Resolve(k.TLS.KeyFile))
			if err != nil {
				return nil, nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		d.TLS = cfg
	}
	if k.SASL.Mechanism != "" {
		password := os.Getenv(k.SASL.PasswordEnv)
		if k.SASL.PasswordEnv != "" && password == "" {
			return nil, nil, fmt.Errorf("kafka.sasl.password_env: environment variable %s is empty", k.SASL.PasswordEnv)
		}
		var m sasl.Mechanism
		var err error
		switch k.SASL.Mechanism {
		case "PLAIN":
			m = plain.Mechanism{Username: k.SASL.Username, Password: password}
		case "SCRAM-SHA-256":
			m, err = scram.Mechanism(scram.SHA256, k.SASL.Username, password)
		case "SCRAM-SHA-512":
			m, err = scram.Mechanism(scram.SHA512, k.SASL.Username, password)
		default:
			err = fmt.Errorf("unknown mechanism %q", k.SASL.Mechanism)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		d.SASLMechanism = m
	}
	return brokers, d, nil
}

// EmbeddedBroker is the in-process Kafka-protocol broker (kfake) used by the
// demo and tests. It is not a production broker.
type EmbeddedBroker struct {
	cluster *kfake.Cluster
	Addrs   []string
}

// StartEmbeddedBroker starts the broker the project's kafka.embedded section
// describes, keeping its log in data_dir so topics survive between commands;
// extra options go to kfake after the section's.
func StartEmbeddedBroker(p *config.Project, log *slog.Logger, extra ...kfake.Opt) (*EmbeddedBroker, error) {
	e := p.Kafka.Embedded
	_, portText, err := splitHostPort(e.Listen)
	if err != nil {
		return nil, fmt.Errorf("kafka.embedded.listen %q: %w", e.Listen, err)
	}
	port, _ := strconv.Atoi(portText)
	var topics []string
	for _, f := range p.Feeds {
		if f.Kind == config.KindKafka && f.Topic != "" {
			topics = append(topics, f.Topic)
		}
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(e.Partitions)}
	if e.DataDir != "" {
		dir := p.Resolve(e.DataDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("kafka.embedded.data_dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(dir))
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(e.Partitions), topics...))
	}
	c, err := kfake.NewCluster(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", e.Listen, err)
	}
	log.Info("embedded Kafka-protocol broker started (demo/test only)", "addr", c.ListenAddrs())
	return &EmbeddedBroker{cluster: c, Addrs: c.ListenAddrs()}, nil
}

// Close stops the broker.
func (b *EmbeddedBroker) Close() { b.cluster.Close() }

func splitHostPort(s string) (string, string, error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("want host:port")
}

// PartitionRange is the offsets a partition holds: First ≤ offset < Last.
type PartitionRange struct {
	Partition   int
	First, Last int64
}

// TopicRanges gives each partition's offset range; a topic that does not
// exist has none.
func TopicRanges(ctx context.Context, brokers []string, topic string) ([]PartitionRange, error) {
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return nil, err
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		return nil, nil
	}
	var out []PartitionRange
	for _, pt := range parts {
		lc, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, pt.ID)
		if err != nil {
			return nil, err
		}
		first, last, err := lc.ReadOffsets()
		lc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, PartitionRange{pt.ID, first, last})
	}
	return out, nil
}

// ReadTopic reads every message a topic holds now, partition by partition
// (the demo's CRM and tests; not a consumer for production). A topic that
// does not exist holds nothing.
func ReadTopic(ctx context.Context, brokers []string, topic string) ([]kafka.Message, error) {
	var out []kafka.Message
	err := ScanTopic(ctx, brokers, topic, func(m kafka.Message) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// ScanTopic hands every message a topic holds now to fn, partition by
// partition, keeping none (the reader buffers a fetch of up to 16 MiB): a
// read-back of a topic of millions of events needs no more memory than
// one of ten. A topic that does not exist holds nothing; fn's error stops
// the scan and is returned.
func ScanTopic(ctx context.Context, brokers []string, topic string, fn func(kafka.Message) error) error {
	ranges, err := TopicRanges(ctx, brokers, topic)
	if err != nil {
		return err
	}
	for _, pr := range ranges {
		if pr.Last <= pr.First {
			continue
		}
		if err := scanPartition(ctx, brokers, topic, pr, fn); err != nil {
			return err
		}
	}
	return nil
}

func scanPartition(ctx context.Context, brokers []string, topic string, pr PartitionRange, fn func(kafka.Message) error) error {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: pr.Partition, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(pr.First); err != nil {
		return err
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", topic, pr.Partition, err)
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset >= pr.Last-1 {
			return nil
		}
	}
}
