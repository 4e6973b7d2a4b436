package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/pipeline"
	"cdp/warehouse"
)

// cdp bench stream: rows per second loaded from Kafka, the CRM's outcomes
// (crm.outcomes, checked against the signals and parties they name) against
// the e-banking events (ebank.events), the same number of messages each,
// from an in-process broker on 127.0.0.1.

func newBenchStreamCmd(g *globals) *cobra.Command {
	var messages, runs int
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Kafka ingest throughput: CRM outcomes (crm.outcomes) against e-banking events (ebank.events)",
		Long: `Starts a Kafka-protocol broker in-process on 127.0.0.1, produces --messages
e-banking events to ebank.events and as many CRM outcomes to crm.outcomes
(each answering a signal event the warehouse's outbox holds, so every
outcome passes its contract checks as a real one would), and times cdp's
ingest of each topic into a fresh warehouse, --runs times: exactly-once
batches with the checkpoint in the same transaction, contract checks and
de-duplication included. Prints the median rows per second of each and the
ratio (the bar: outcomes at 0.5x the events' rate or better).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchStream(cmd.Context(), cmd.OutOrStdout(), messages, runs)
		},
	}
	cmd.Flags().IntVar(&messages, "messages", 200000, "messages per topic")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per topic (the median is reported)")
	return cmd
}

func benchStream(ctx context.Context, out io.Writer, messages, runs int) error {
	if messages < 1 || runs < 1 {
		return errors.New("--messages and --runs must be 1 or more")
	}
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ebank.events", "crm.outcomes"))
	if err != nil {
		return err
	}
	defer broker.Close()
	dir, err := os.MkdirTemp("", "cdp-bench-stream-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	events := make([]kafka.Message, messages)
	outcomes := make([]kafka.Message, messages)
	for i := range messages {
		events[i] = kafka.Message{Key: fmt.Appendf(nil, "u%d", i%5000), Value: fmt.Appendf(nil,
			`{"event_id":"E%09d","user_id":"u%d","ts":"2026-11-20T10:%02d:%02d+08:00","channel":"APP","event_type":"TRANSFER_OUT","amount":%d.50,"currency":"CNY","cross_border":false}`,
			i, i%5000, (i/60)%60, i%60, 100+i%9000)}
		status := []string{"ACCEPTED", "CONTACTED", "INTERESTED", "DECLINED", "CONVERTED"}[i%5]
		outcomes[i] = kafka.Message{Key: fmt.Appendf(nil, "P%010d", i%5000), Value: fmt.Appendf(nil,
			`{"outcome_id":"O%09d","ce_id":"ce-%d","status":%q,"product":"WMP","amount":%d.00,"outcome_time":"2026-11-20T11:%02d:%02d+08:00","rm_id":"RM%05d"}`,
			i, i%20000, status, 50000+i%900000, (i/60)%60, i%60, 10000+i%400)}
	}
	t0 := time.Now()
	for topic, msgs := range map[string][]kafka.Message{"ebank.events": events, "crm.outcomes": outcomes} {
		w := &kafka.Writer{Addr: kafka.TCP(broker.ListenAddrs()...), Topic: topic, Balancer: kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll, BatchSize: 5000, BatchTimeout: 5 * time.Millisecond}
		for lo := 0; lo < len(msgs); lo += 20000 {
			if err := w.WriteMessages(ctx, msgs[lo:min(lo+20000, len(msgs))]...); err != nil {
				w.Close()
				return fmt.Errorf("produce %s: %w", topic, err)
			}
		}
		w.Close()
	}
	fmt.Fprintf(out, "produced %d messages to each of ebank.events and crm.outcomes in %.1fs\n", messages, time.Since(t0).Seconds())
	cfg := filepath.Join(dir, "cdp.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`warehouse: {path: wh.duckdb}
ingest: {stream_batch: 20000}
kafka: {brokers: [%s]}
feeds:
  - {name: ebank_stream, contract: ebank, kind: kafka, topic: ebank.events, entity: events}
  - {name: crm_outcomes, contract: contact, kind: kafka, topic: crm.outcomes, entity: outcomes}
`, strings.Join(broker.ListenAddrs(), ", "))), 0o644); err != nil {
		return err
	}
	p, err := pipeline.LoadProject(cfg)
	if err != nil {
		return err
	}
	rate := map[string]float64{}
	for _, feed := range []string{"ebank_stream", "crm_outcomes"} {
		var rates []float64
		for run := range runs {
			os.Remove(p.WarehousePath())
			os.Remove(p.WarehousePath() + ".wal")
			w, err := warehouse.Open(ctx, p.WarehousePath(), warehouse.Options{})
			if err != nil {
				return err
			}
			// The signal events the outcomes answer, as cdp published them.
			if _, err := w.DB().ExecContext(ctx, `INSERT INTO ops.outbox (seq, event_id, topic, key, type, source, time, data, producer, created_at, published_at)
				SELECT range, 'ce-' || range, 'cdp.signals.crosssell', 'P' || range, 'cdp.signal.opened', '/bench', now(),
				  json_object('signal_id', md5(range::VARCHAR), 'state', 'opened'), 'bench', now(), now() FROM range(20000)`); err != nil {
				w.Close()
				return err
			}
			t0 := time.Now()
			rep, err := pipeline.Ingest(ctx, p.Project, w, pipeline.IngestOptions{Feeds: []string{feed}, Logger: slog.New(slog.DiscardHandler)})
			took := time.Since(t0)
			w.Close()
			if err != nil {
				return fmt.Errorf("%s run %d: %w", feed, run+1, err)
			}
			in, loaded, rejected, _ := rep.Totals()
			if in != int64(messages) || loaded != int64(messages) || rejected != 0 {
				return fmt.Errorf("%s run %d: %d in, %d loaded, %d rejected; want %d loaded", feed, run+1, in, loaded, rejected, messages)
			}
			rates = append(rates, float64(messages)/took.Seconds())
		}
		sort.Float64s(rates)
		rate[feed] = rates[len(rates)/2]
		fmt.Fprintf(out, "  %-14s %9.0f rows/s (median of %d: %s)\n", feed, rate[feed], runs, fmtRates(rates))
	}
	ratio := rate["crm_outcomes"] / rate["ebank_stream"]
	verdict := "meets"
	if ratio < 0.5 {
		verdict = "MISSES"
	}
	fmt.Fprintf(out, "outcomes at %.2fx the events' rate: %s the 0.5x bar\n", ratio, verdict)
	return nil
}

func fmtRates(rates []float64) string {
	var s []string
	for _, r := range rates {
		s = append(s, fmt.Sprintf("%.0f", r))
	}
	return strings.Join(s, ", ")
}
