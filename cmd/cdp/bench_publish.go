package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/outbox"
	"cdp/pipeline"
	"cdp/warehouse"
)

func newBenchPublishCmd(g *globals) *cobra.Command {
	var events, batch, runs int
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Outbox → Kafka throughput with acks=all, against kafka-go's bare Writer sending the same messages",
		Long: `Queues --events signal-sized events (about 400 bytes of JSON each) in the
outbox of a fresh warehouse and starts an in-process Kafka-protocol broker
(kfake) on 127.0.0.1. Each run times kafka-go's bare Writer sending the very
messages the outbox holds (same headers, keys, batch size, acks=all, murmur2)
in batches, and our publisher draining the outbox (reading it from DuckDB,
marking each batch published after the broker's acknowledgement). The order
alternates between runs; medians and their ratio are reported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchPublish(cmd.Context(), g, cmd.OutOrStdout(), events, batch, runs)
		},
	}
	cmd.Flags().IntVar(&events, "events", 200000, "events in the outbox")
	cmd.Flags().IntVar(&batch, "batch", 5000, "events per broker write, for both")
	cmd.Flags().IntVar(&runs, "runs", 5, "runs of each (medians are reported)")
	return cmd
}

func benchPublish(ctx context.Context, g *globals, out io.Writer, events, batch, runs int) error {
	dir, err := os.MkdirTemp("", "cdp-bench-publish-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := warehouse.Open(ctx, filepath.Join(dir, "w.duckdb"), warehouse.Options{})
	if err != nil {
		return err
	}
	defer w.Close()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	evs := make([]outbox.Event, events)
	for i := range evs {
		party := fmt.Sprintf("P%010d", i%100000)
		evs[i] = outbox.Event{
			ID: outbox.EventID("bench", fmt.Sprint(i)), Topic: pipeline.PublishTopics[i%3], Key: party,
			Type: "cdp.signal.opened", Source: "/cdp/signals/churn_aum_outflow", Subject: party, Time: time.Now(), Producer: "bench",
			Data: fmt.Appendf(nil, `{"signal_id":"%032d","state":"opened","rule_id":"churn_aum_outflow","rule_name":"AUM outflow","rule_name_zh":"资产流出预警","kind":"churn","party_id":%q,"score":87,"priority":"high","reason":"AUM fell 41.3%% in 30 days, from 8,120,000 on 10-21 to 4,766,000","action":"Call the client within 3 working days.","evidence":{"aum_now":4766000},"opened_on":"2026-11-20","valid_until":"2026-12-04","as_of":"2026-11-20","owner_id":"RM10001","owner_type":"team_member","team_role":"RM"}`, i, party),
		}
	}
	err = warehouse.InTx(ctx, conn, func() error { return outbox.Enqueue(ctx, conn, evs) })
	conn.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued %d events in the outbox in %.1fs\n", events, time.Since(t0).Seconds())
	msgs, err := outbox.Pending(ctx, w.DB(), nil)
	if err != nil {
		return err
	}
	var bytes int
	for _, m := range msgs {
		bytes += len(m.Value)
	}
	fmt.Fprintf(out, "%d messages, %.0f bytes of body on average\n", len(msgs), float64(bytes)/float64(len(msgs)))

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(6))
	if err != nil {
		return err
	}
	defer c.Close()
	newWriter := func() *kafka.Writer {
		return &kafka.Writer{Addr: kafka.TCP(c.ListenAddrs()...), Balancer: kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll,
			BatchSize: batch, BatchBytes: 16 << 20, BatchTimeout: 5 * time.Millisecond, AllowAutoTopicCreation: true}
	}
	// Warm up: create the topics.
	warm := newWriter()
	if err := warm.WriteMessages(ctx, msgs[:min(len(msgs), 1000)]...); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warm.Close()
	bare := func() (float64, error) {
		wr := newWriter()
		defer wr.Close()
		start := time.Now()
		for i := 0; i < len(msgs); i += batch {
			if err := wr.WriteMessages(ctx, msgs[i:min(i+batch, len(msgs))]...); err != nil {
				return 0, err
			}
		}
		return time.Since(start).Seconds(), nil
	}
	ours := func() (float64, error) {
		if _, err := outbox.Resend(ctx, w.DB()); err != nil {
			return 0, err
		}
		wr := newWriter()
		defer wr.Close()
		start := time.Now()
		sum, err := outbox.Relay(ctx, w.DB(), wr, outbox.RelayOptions{Batch: batch, Logger: g.logger})
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(out, "  ours: read %.2fs, write %.2fs, mark %.2fs\n", sum.ReadSeconds, sum.WriteSeconds, sum.MarkSeconds)
		if sum.Published != int64(len(msgs)) {
			return 0, fmt.Errorf("published %d of %d", sum.Published, len(msgs))
		}
		return time.Since(start).Seconds(), nil
	}
	var bareS, oursS []float64
	for r := range runs {
		for i := range 2 {
			if (i+r)%2 == 0 {
				s, err := bare()
				if err != nil {
					return err
				}
				bareS = append(bareS, s)
			} else {
				s, err := ours()
				if err != nil {
					return err
				}
				oursS = append(oursS, s)
			}
		}
	}
	med := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	b, o := med(bareS), med(oursS)
	n := float64(len(msgs))
	fmt.Fprintf(out, "\n%-44s %12s %14s\n", fmt.Sprintf("acks=all, batch %d, %d runs (medians)", batch, runs), "seconds", "events/s")
	fmt.Fprintf(out, "%-44s %12.2f %14.0f\n", "kafka-go bare Writer", b, n/b)
	fmt.Fprintf(out, "%-44s %12.2f %14.0f\n", "cdp publish (outbox → Kafka, marked)", o, n/o)
	fmt.Fprintf(out, "\nours / bare: %.2fx the bare writer's throughput\n", b/o)
	return nil
}
