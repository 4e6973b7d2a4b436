// Package kafka is the stream source: the ebank.events topic, one JSON object
// per message, read with kafka-go.
//
// The source keeps no consumer-group offsets in Kafka. Where it resumes is
// the warehouse's stream checkpoint, committed in the same transaction as the
// rows it covers, so a crash between "rows written" and "offset committed"
// cannot happen. Each call to Next reads up to a batch of messages, from the
// checkpoint up to the high watermark seen when the source was opened, so an
// ingest run ends once it has caught up.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/segmentio/kafka-go"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

// Options configure one stream feed.
type Options struct {
	Name     string // config feed name
	Topic    string
	Brokers  []string
	Dialer   *kafka.Dialer // TLS and SASL; nil = plain TCP
	Entity   *contract.Entity
	Location *time.Location
	// BatchMessages is the most messages one load (one transaction) takes.
	BatchMessages int
	Logger        *slog.Logger
}

// Source reads one topic partition by partition.
type Source struct {
	o       Options
	ends    map[int32]int64 // high watermark per partition when opened
	starts  map[int32]int64 // earliest offset still on the broker
	readers map[int32]*kafka.Reader
}

// Open looks up the topic's partitions and their offsets.
func Open(ctx context.Context, o Options) (*Source, error) {
	if o.BatchMessages <= 0 {
		o.BatchMessages = 50000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	dialer := o.Dialer
	if dialer == nil {
		dialer = &kafka.Dialer{Timeout: 10 * time.Second}
	}
	o.Dialer = dialer
	var parts []kafka.Partition
	var err error
	for _, b := range o.Brokers {
		parts, err = dialer.LookupPartitions(ctx, "tcp", b, o.Topic)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: topic %s on %v: %w", o.Name, o.Topic, o.Brokers, err)
	}
	s := &Source{o: o, ends: map[int32]int64{}, starts: map[int32]int64{}, readers: map[int32]*kafka.Reader{}}
	for _, p := range parts {
		first, last, err := partitionOffsets(ctx, dialer, p)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %s/%d offsets: %w", o.Name, o.Topic, p.ID, err)
		}
		s.starts[int32(p.ID)] = first
		s.ends[int32(p.ID)] = last
	}
	return s, nil
}

func partitionOffsets(ctx context.Context, d *kafka.Dialer, p kafka.Partition) (int64, int64, error) {
	conn, err := d.DialLeader(ctx, "tcp", fmt.Sprintf("%s:%d", p.Leader.Host, p.Leader.Port), p.Topic, p.ID)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	return conn.ReadOffsets()
}

// Partitions lists the topic's partitions in order.
func (s *Source) Partitions() []int32 {
	var out []int32
	for p := range s.ends {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Lag is how many messages remain between the offsets and the watermarks.
func (s *Source) Lag(from map[int32]int64) int64 {
	var lag int64
	for p, end := range s.ends {
		start := from[p]
		if start < s.starts[p] {
			start = s.starts[p]
		}
		if end > start {
			lag += end - start
		}
	}
	return lag
}

// Lost reports, per partition, the messages between the checkpoint and the
// broker's earliest offset: deleted by retention before they were loaded.
func (s *Source) Lost(from map[int32]int64) map[int32]int64 {
	out := map[int32]int64{}
	for p, start := range s.starts {
		if off, ok := from[p]; ok && off < start {
			out[p] = start - off
		}
	}
	return out
}

// Close closes the partition readers.
func (s *Source) Close() error {
	var errs []error
	for _, r := range s.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// Batch is one slice of the stream to load in one transaction.
type Batch struct {
	Records  array.RecordReader
	Messages int64
	rejects  []contract.Reject
	// Next is the checkpoint after this batch: next offset per partition read.
	Next map[int32]int64
}

// Finish reports what the batch read; the stream has no control file, so the
// count is the messages taken.
func (b *Batch) Finish() (int64, []contract.Reject, error) { return b.Messages, b.rejects, nil }

// Next reads the next batch from the checkpoint `from` (next offset per
// partition; absent = the earliest still on the broker). It returns nil once
// every partition has reached the watermark seen at Open.
func (s *Source) Next(ctx context.Context, from map[int32]int64) (*Batch, error) {
	b := rows.NewBuilder(s.o.Entity, s.o.Location)
	defer b.Release()
	j := rows.NewJSONRow(b)
	batch := &Batch{Next: map[int32]int64{}}
	for p, off := range from {
		batch.Next[p] = off
	}
	for _, p := range s.Partitions() {
		start, ok := from[p]
		if !ok || start < s.starts[p] {
			if ok {
				s.o.Logger.Warn("stream checkpoint is older than the broker's earliest offset: messages were deleted by retention before they were loaded",
					"feed", s.o.Name, "topic", s.o.Topic, "partition", p, "checkpoint", start, "earliest", s.starts[p], "lost", s.starts[p]-start)
			}
			start = s.starts[p]
		}
		end := s.ends[p]
		if start >= end {
			continue
		}
		r, err := s.reader(p, start)
		if err != nil {
			return nil, err
		}
		next := start
		for next < end && batch.Messages < int64(s.o.BatchMessages) {
			m, err := s.fetch(ctx, r)
			if errors.Is(err, errNothingMore) {
				// Offsets below the watermark can hold no message (transaction
				// markers, compacted records): the partition is caught up.
				s.o.Logger.Warn("no message where the watermark promised one; treating the partition as caught up",
					"feed", s.o.Name, "topic", s.o.Topic, "partition", p, "offset", next, "watermark", end)
				s.ends[p] = next
				break
			}
			if err != nil {
				return nil, fmt.Errorf("stream %s: %s/%d at offset %d: %w", s.o.Name, s.o.Topic, p, next, err)
			}
			batch.Messages++
			prob := j.Stage(m.Value)
			if prob == nil {
				prob = b.Commit(m.Offset, p)
			}
			if prob != nil {
				batch.rejects = append(batch.rejects, contract.Reject{
					Position:  s.o.Topic + "/" + strconv.Itoa(int(p)) + "/" + strconv.FormatInt(m.Offset, 10),
					Partition: p, Offset: m.Offset, Reason: prob.Reason, Detail: prob.Detail, Raw: rawText(m.Value),
				})
			}
			next = m.Offset + 1
		}
		batch.Next[p] = next
		if batch.Messages >= int64(s.o.BatchMessages) {
			break
		}
	}
	if batch.Messages == 0 {
		return nil, nil
	}
	rec := b.Batch()
	rr, err := array.NewRecordReader(s.o.Entity.BatchSchema(), []arrow.RecordBatch{rec})
	rec.Release()
	if err != nil {
		return nil, err
	}
	batch.Records = rr
	return batch, nil
}

var errNothingMore = errors.New("no message before the wait ran out")

// fetchWait is how long a fetch may wait for a message the watermark says
// exists.
var fetchWait = 10 * time.Second

func (s *Source) fetch(ctx context.Context, r *kafka.Reader) (kafka.Message, error) {
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	m, err := r.FetchMessage(fctx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return m, errNothingMore
	}
	return m, err
}

// reader returns the partition's reader positioned at offset. Readers are
// kept between batches so consecutive batches continue one fetch session.
func (s *Source) reader(p int32, offset int64) (*kafka.Reader, error) {
	if r, ok := s.readers[p]; ok && r.Offset() == offset {
		return r, nil
	}
	if r, ok := s.readers[p]; ok {
		r.Close()
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.o.Brokers, Topic: s.o.Topic, Partition: int(p), Dialer: s.o.Dialer,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond,
	})
	if err := r.SetOffset(offset); err != nil {
		r.Close()
		return nil, fmt.Errorf("stream %s: %s/%d: %w", s.o.Name, s.o.Topic, p, err)
	}
	s.readers[p] = r
	return r, nil
}

func rawText(b []byte) string {
	s := string(b)
	for _, r := range s {
		if r == '\uFFFD' {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}
