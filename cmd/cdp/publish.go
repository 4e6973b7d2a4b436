package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cdp/outbox"
	"cdp/pipeline"
	"cdp/warehouse"
)

func newPublishCmd(g *globals) *cobra.Command {
	var brokers []string
	var max int64
	var format string
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Send the outbox's events to Kafka, in order, marking each published once the broker acknowledged it",
		Long: `publish drains ops.outbox to Kafka: signal events to cdp.signals.churn,
cdp.signals.crosssell and cdp.signals.risk, tag changes to cdp.tags.changes,
profile summaries to the compacted cdp.profile (names can be changed under
publish.topics). Each event is a CloudEvents 1.0 message in binary mode (ce_*
headers, JSON body) keyed by party_id, written with acks from all in-sync
replicas. An event is marked published only after the broker acknowledged
it. If the broker fails, publish exits non-zero, every unacknowledged event
stays in the outbox (see cdp outbox status), and the next publish sends
them; an event may then arrive twice, with the same ce_id, never zero times.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			p, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			env := g.env(p, w)
			env.Brokers, env.MaxEvents = brokers, max
			res, err := pipeline.Run(cmd.Context(), env, "publish")
			if sum, ok := res.Summary.(*outbox.RelaySummary); ok && err == nil {
				return emit(cmd.OutOrStdout(), format, sum, printPublish)
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&brokers, "brokers", nil, "brokers host:port, replacing kafka.brokers")
	cmd.Flags().Int64Var(&max, "max", 0, "publish at most this many events (default: all)")
	formatFlag(cmd, &format)
	return cmd
}

func printPublish(w io.Writer, s *outbox.RelaySummary) {
	fmt.Fprintf(w, "published %d events in %d batches (%.1fs, %.0f/s); %d left in the outbox\n", s.Published, s.Batches, s.Seconds, s.PerSecond, s.Backlog)
	topics := make([]string, 0, len(s.ByTopic))
	for t := range s.ByTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		fmt.Fprintf(w, "  %-24s %8d\n", t, s.ByTopic[t])
	}
}

func newOutboxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "The transactional outbox of events waiting for Kafka"}
	status := projectCmd(g, &cobra.Command{
		Use:   "status",
		Short: "Backlog, oldest unpublished event, last error, per topic",
	}, func(ctx context.Context, _ *pipeline.Project, w *warehouse.Warehouse) (*outbox.Status, error) {
		return outbox.ReadStatus(ctx, w.DB())
	}, printOutboxStatus)
	cmd.AddCommand(status)
	return cmd
}

func printOutboxStatus(w io.Writer, s *outbox.Status) {
	fmt.Fprintf(w, "outbox: %d events, %d published, %d waiting\n", s.Events, s.Published, s.Backlog)
	if s.OldestAt != nil {
		fmt.Fprintf(w, "oldest waiting: queued %s (%s ago)\n", s.OldestAt.Local().Format(time.DateTime), s.OldestAge)
	}
	if s.LastPublish != nil {
		fmt.Fprintf(w, "last published: %s\n", s.LastPublish.Local().Format(time.DateTime))
	}
	if s.LastError != "" {
		fmt.Fprintf(w, "last error (%d waiting events failed at least once): %s\n", s.Failing, strings.TrimSpace(s.LastError))
	}
	for _, t := range s.Topics {
		fmt.Fprintf(w, "  %-24s waiting %8d  published %8d\n", t.Topic, t.Backlog, t.Published)
	}
}
