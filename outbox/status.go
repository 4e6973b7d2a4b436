package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Status is the state of the outbox: what `cdp outbox status` shows.
type Status struct {
	Events      int64         `json:"events"`
	Published   int64         `json:"published"`
	Backlog     int64         `json:"backlog"`
	OldestAt    *time.Time    `json:"oldest_unpublished_at,omitempty"`
	OldestAge   string        `json:"oldest_unpublished_age,omitempty"`
	LastPublish *time.Time    `json:"last_published_at,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	Failing     int64         `json:"events_with_errors"`
	Topics      []TopicStatus `json:"topics"`
}

// TopicStatus is one topic's share of the outbox.
type TopicStatus struct {
	Topic     string `json:"topic"`
	Backlog   int64  `json:"backlog"`
	Published int64  `json:"published"`
}

// ReadStatus reads the outbox's backlog, its oldest waiting event, the last
// error and the counts per topic.
func ReadStatus(ctx context.Context, db *sql.DB) (*Status, error) {
	s := &Status{}
	var oldest, last sql.NullTime
	var lastErr sql.NullString
	err := db.QueryRowContext(ctx, `SELECT count(*), count(published_at), count(*) - count(published_at),
		min(created_at) FILTER (published_at IS NULL), max(published_at),
		arg_max(last_error, seq) FILTER (last_error IS NOT NULL AND published_at IS NULL),
		count(*) FILTER (last_error IS NOT NULL AND published_at IS NULL)
		FROM ops.outbox`).Scan(&s.Events, &s.Published, &s.Backlog, &oldest, &last, &lastErr, &s.Failing)
	if err != nil {
		return nil, fmt.Errorf("ops.outbox: %w", err)
	}
	if oldest.Valid {
		s.OldestAt = &oldest.Time
		s.OldestAge = time.Since(oldest.Time).Round(time.Second).String()
	}
	if last.Valid {
		s.LastPublish = &last.Time
	}
	s.LastError = lastErr.String
	rows, err := db.QueryContext(ctx, `SELECT topic, count(*) - count(published_at), count(published_at) FROM ops.outbox GROUP BY topic ORDER BY topic`)
	if err != nil {
		return nil, fmt.Errorf("ops.outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TopicStatus
		if err := rows.Scan(&t.Topic, &t.Backlog, &t.Published); err != nil {
			return nil, fmt.Errorf("ops.outbox: %w", err)
		}
		s.Topics = append(s.Topics, t)
	}
	return s, rows.Err()
}

// Collector is a Prometheus collector of the outbox, read at each scrape:
// backlog, the age of the oldest waiting event and the waiting events whose
// last publish attempt failed.
func Collector(db *sql.DB) prometheus.Collector { return &collector{db: db} }

var (
	backlogDesc = prometheus.NewDesc("cdp_outbox_backlog", "Events in ops.outbox not yet acknowledged by Kafka.", nil, nil)
	oldestDesc  = prometheus.NewDesc("cdp_outbox_oldest_age_seconds",
		"Age of the oldest event waiting in ops.outbox (0 when empty).", nil, nil)
	errorsDesc = prometheus.NewDesc("cdp_outbox_publish_errors",
		"Waiting events whose last publish attempt failed (ops.outbox.last_error).", nil, nil)
)

type collector struct{ db *sql.DB }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDesc
	ch <- errorsDesc
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var backlog, failing int64
	var oldest float64
	err := c.db.QueryRowContext(ctx, `SELECT count(*), coalesce(epoch(now()) - epoch(min(created_at)), 0),
		count(*) FILTER (last_error IS NOT NULL)
		FROM ops.outbox WHERE published_at IS NULL`).Scan(&backlog, &oldest, &failing)
	if err != nil {
		return // cdp_warehouse_up says the warehouse did not answer
	}
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(backlog))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest)
	ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.GaugeValue, float64(failing))
}

// Topic is a topic the outbox publishes to, as it is created when missing.
type Topic struct {
	Name              string // the name published under
	Partitions        int
	ReplicationFactor int
	Compacted         bool // cleanup.policy=compact (the latest value per key)
}

// EnsureTopics creates the topics that do not exist yet.
func EnsureTopics(ctx context.Context, client *kafka.Client, topics []Topic) error {
	cfgs := make([]kafka.TopicConfig, 0, len(topics))
	for _, t := range topics {
		c := kafka.TopicConfig{Topic: t.Name, NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor}
		if t.Compacted {
			c.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}
		}
		cfgs = append(cfgs, c)
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: cfgs})
	if err != nil {
		return fmt.Errorf("create topics on %s: %w", client.Addr, err)
	}
	var names []string
	for name, e := range res.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			names = append(names, fmt.Sprintf("%s: %v", name, e))
		}
	}
	if len(names) > 0 {
		return fmt.Errorf("create topics: %s", strings.Join(names, "; "))
	}
	return nil
}
