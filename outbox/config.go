package outbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config is the publish: section of cdp.yaml: how events go from the
// outbox to Kafka.
type Config struct {
	Batch int `yaml:"batch"` // events per broker write; default 5000
	// BatchBytes caps the bytes sent to one partition in one request
	// (kafka-go splits a batch above it); it must not exceed the broker's
	// message.max.bytes (Kafka's default, 1 MiB, is the default here).
	BatchBytes        int64             `yaml:"batch_bytes"`
	MaxAttempts       int               `yaml:"max_attempts"`       // tries per write before the relay fails; default 3
	TimeoutSeconds    int               `yaml:"timeout_seconds"`    // per write; default 30
	CreateTopics      *bool             `yaml:"create_topics"`      // create missing topics; default true
	Partitions        int               `yaml:"partitions"`         // of created topics; default 6
	ReplicationFactor int               `yaml:"replication_factor"` // of created topics; default 1
	Topics            map[string]string `yaml:"topics"`             // canonical topic → name to publish under
	AllowPII          bool              `yaml:"allow_pii"`          // ID numbers and mobiles in events; default false
	// Continuous relays the outbox all the time in the daemon (cdp serve):
	// after every fire and at least every Interval. Without it events leave
	// when a job with the publish stage runs.
	Continuous bool   `yaml:"continuous"`
	Interval   string `yaml:"interval"` // default 5s

	IntervalDur time.Duration `yaml:"-"`
}

// WithDefaults fills what the section left out.
func (c Config) WithDefaults() Config {
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.Batch, 5000}, {&c.MaxAttempts, 3}, {&c.TimeoutSeconds, 30}, {&c.Partitions, 6}, {&c.ReplicationFactor, 1}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 1 << 20
	}
	if c.CreateTopics == nil {
		yes := true
		c.CreateTopics = &yes
	}
	if c.Interval == "" {
		c.Interval = "5s"
	}
	if d, err := time.ParseDuration(c.Interval); err == nil {
		c.IntervalDur = d
	}
	return c
}

// Check lists what is wrong, each as "field: problem"; topics are the
// canonical topics cdp publishes to.
func (c Config) Check(topics []string) []string {
	var out []string
	for _, f := range []struct {
		key string
		v   int
	}{{"batch", c.Batch}, {"max_attempts", c.MaxAttempts}, {"timeout_seconds", c.TimeoutSeconds},
		{"partitions", c.Partitions}, {"replication_factor", c.ReplicationFactor}} {
		if f.v < 0 {
			out = append(out, fmt.Sprintf("%s: must be 1 or more, not %d", f.key, f.v))
		}
	}
	renamed := make([]string, 0, len(c.Topics))
	for t := range c.Topics {
		renamed = append(renamed, t)
	}
	slices.Sort(renamed)
	for _, t := range renamed {
		if !slices.Contains(topics, t) {
			out = append(out, fmt.Sprintf("topics.%s: not a topic cdp publishes (want one of %s)", t, strings.Join(topics, ", ")))
		}
	}
	if c.BatchBytes < 0 || (c.BatchBytes > 0 && c.BatchBytes < 64<<10) {
		out = append(out, fmt.Sprintf("batch_bytes: at least 65536 (a record batch must hold an event), not %d", c.BatchBytes))
	}
	if d, err := time.ParseDuration(c.Interval); err != nil || d <= 0 {
		out = append(out, fmt.Sprintf("interval: %q: want a duration like 1s or 30s", c.Interval))
	}
	return out
}

// TopicName is the name a canonical topic is published under.
func (c Config) TopicName(canonical string) string {
	if r := c.Topics[canonical]; r != "" {
		return r
	}
	return canonical
}
