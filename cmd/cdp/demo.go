package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"
	"cdp/connectors/contract"
	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/schemas"
	"cdp/transforms/core"
	"cdp/transforms/identity"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
	"cdp/transforms/tiers"
	"cdp/transforms/view"
	"cdp/warehouse"
)

func newDemoCmd(g *globals) *cobra.Command {
	var dir string
	var parties, days int
	var seed int64
	var serveAfter bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on a generated bank, no setup needed",
		Long: `Generate a synthetic bank, start an embedded Kafka-protocol broker on
127.0.0.1, stream the e-banking events through it, ingest everything into a
DuckDB warehouse, unify the customer records into parties, build the core
model, tags, value tiers and the 360 view, evaluate the signal rules; then
deliver the last business day (held back until now) and run the day again
incrementally, publish every queued event to the broker and read a sample
back from each topic, checked against the JSON schemas.

The demo leaves a working project in --dir: its cdp.yaml, the generated
feeds and the warehouse, so every other command works on it with
--config DIR/cdp.yaml. Running it again regenerates the same bytes and loads
nothing twice.

With --serve the demo then stays up as the daemon (cdp serve) with the demo
project's schedules, and prints the psql line to query it; Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("log-level") {
				// The demo prints its own summary; per-file log lines are noise here.
				g.logLevel = "warn"
				if err := g.setupLogging(); err != nil {
					return err
				}
			}
			return runDemo(cmd.Context(), g, cmd.OutOrStdout(), dir, parties, days, seed, serveAfter)
		},
	}
	cmd.Flags().BoolVar(&serveAfter, "serve", false, "stay up as the daemon afterwards: schedules, SQL endpoint, metrics")
	cmd.Flags().StringVar(&dir, "dir", "cdp-demo", "project folder to create or reuse")
	cmd.Flags().IntVar(&parties, "parties", 50000, "parties in the synthetic bank")
	cmd.Flags().IntVar(&days, "days", 7, "business days of feeds")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed")
	return cmd
}

func runDemo(ctx context.Context, g *globals, out io.Writer, dir string, parties, days int, seed int64, serveAfter bool) error {
	started := time.Now()
	cfgPath := filepath.Join(dir, "cdp.yaml")
	if _, err := os.Stat(cfgPath); os.IsNotExist(err) {
		if err := writeProject(dir, config.StarterOptions{Embedded: true, Listen: "127.0.0.1:0", Demo: true}); err != nil {
			return err
		}
	}
	if err := demoPasswords(dir); err != nil {
		return err
	}
	p, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cdp demo: project %s\n\n", dir)

	// 1. The synthetic bank.
	prog := pipeline.TerminalProgress(os.Stderr)
	t0 := time.Now()
	sum, err := synthbank.Generate(ctx, synthbank.Options{
		Out: dir, Parties: parties, Days: days, Seed: seed, BadRowRate: 0.0005, StreamDays: 2,
		End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), Progress: genProgress(prog),
	})
	prog.Done()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(out, "1. generated a bank of %d parties × %d days in %.1fs: %d files, %.1f MB in %s (ground truth in %s, never read by the pipeline)\n",
		sum.Parties, days, time.Since(t0).Seconds(), sum.Files, float64(sum.Bytes)/1e6,
		filepath.Join(dir, "feeds"), filepath.Join(dir, "truth"))

	// 2. The embedded broker, and the e-banking stream through it.
	broker, err := pipeline.StartEmbeddedBroker(p, g.logger)
	if err != nil {
		return err
	}
	defer broker.Close()
	topic := "ebank.events"
	for _, f := range p.Feeds {
		if f.Kind == config.KindKafka {
			topic = f.Topic
		}
	}
	existing, err := topicSize(ctx, broker.Addrs, topic)
	if err != nil {
		return err
	}
	if existing == 0 {
		if err := synthbank.Produce(ctx, broker.Addrs, topic, sum.StreamEvents); err != nil {
			return fmt.Errorf("produce e-banking events: %w", err)
		}
		fmt.Fprintf(out, "2. embedded Kafka-protocol broker on %s: produced %d e-banking events to %s (the last 2 days, with redeliveries)\n",
			strings.Join(broker.Addrs, ","), len(sum.StreamEvents), topic)
	} else {
		fmt.Fprintf(out, "2. embedded Kafka-protocol broker on %s: %s already holds %d events from an earlier demo run\n",
			strings.Join(broker.Addrs, ","), topic, existing)
	}

	// The last business day is held back: the demo runs a first day, then
	// delivers it and runs the next day incrementally.
	lastDay := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	deliver, err := holdBack(dir, lastDay)
	if err != nil {
		return err
	}

	// 3. Ingest.
	w, err := openWarehouse(ctx, p)
	if err != nil {
		return err
	}
	defer w.Close()
	rep, ierr := pipeline.Ingest(ctx, p, w, pipeline.IngestOptions{Logger: g.logger, Progress: prog, Brokers: broker.Addrs})
	if rep == nil {
		return ierr
	}
	fmt.Fprintf(out, "3. ingest: ")
	printIngestReport(out, rep)

	// 4. What is in the warehouse.
	var parts []string
	for _, e := range contract.Entities {
		parts = append(parts, fmt.Sprintf("SELECT '%s' AS \"table\", count(*) AS \"rows\", count(DISTINCT _load_id) AS loads FROM %s", e.Table(), e.Table()))
	}
	fmt.Fprintln(out, "\nRows per raw table:")
	if err := queryTable(ctx, out, w, strings.Join(parts, " UNION ALL ")+" ORDER BY 1"); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nRejected rows by reason (every one kept in ops.rejects with its raw text and position;")
	fmt.Fprintln(out, "duplicate_key = e-banking events delivered twice, by Kafka redelivery or in both stream and archive: loaded once):")
	if err := queryTable(ctx, out, w, `SELECT reason, count(*) AS "rows", min(position) AS example FROM ops.rejects r
		JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded' GROUP BY reason ORDER BY 2 DESC`); err != nil {
		return err
	}
	// 5. Identity unification.
	us, err := identity.Unify(ctx, w, identity.Options{Config: p.Identity, Logger: g.logger})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n5. ")
	printUnifySummary(out, us)
	if ev, err := identity.EvaluateTruth(ctx, w.DB(), filepath.Join(dir, "truth", "xref.csv")); err == nil {
		fmt.Fprintf(out, "checked against the generator's ground truth (truth/xref.csv): pairwise precision %.4f, recall %.4f, F1 %.4f over %d source records\n",
			ev.Pairwise.Precision, ev.Pairwise.Recall, ev.Pairwise.F1, ev.Records)
	}
	fmt.Fprintln(out, "\nParties by the systems that know them:")
	if err := queryTable(ctx, out, w, `SELECT party_type AS type, array_to_string(systems, '+') AS systems, count(*) AS parties,
		sum(source_records) AS source_records FROM core.party GROUP BY ALL ORDER BY 3 DESC LIMIT 12`); err != nil {
		return err
	}
	// 6. The core model.
	ms, err := core.Build(ctx, w, g.logger)
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n6. ")
	printModelSummary(out, ms)

	// 7. Tags.
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		return err
	}
	ts, err := tags.Run(ctx, w, cat, tags.RunOptions{Logger: g.logger})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n7. ")
	printTagRun(out, ts)
	if err := printTagMix(ctx, out, w, cat); err != nil {
		return err
	}

	// 8. Value tiers.
	vs, err := tiers.Build(ctx, w, p.Tiers, g.logger)
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n8. ")
	printTiers(out, vs)

	// 9. The 360° view.
	v3, err := view.Build(ctx, w, view.Options{Logger: g.logger, AllowPII: p.Publish.AllowPII})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n9. ")
	printView(out, v3)

	// 10. Signals.
	rules, err := pipeline.LoadRules(p, "")
	if err != nil {
		return err
	}
	ss, err := signals.Run(ctx, w, rules, p.Signals, signals.RunOptions{Logger: g.logger, AllowPII: p.Publish.AllowPII})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n10. ")
	printSignalRun(out, ss)

	// 11. The next business day.
	if err := nextDay(ctx, g, out, p, w, deliver, cat, rules, broker.Addrs); err != nil {
		return err
	}

	// 12. Publish, and read back.
	ps, err := pipeline.PublishOutbox(ctx, p, w, broker.Addrs, 0, g.logger)
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n12. ")
	printPublish(out, ps)
	if err := printReadBack(ctx, out, broker.Addrs, p); err != nil {
		return err
	}

	var example string
	_ = w.DB().QueryRowContext(ctx, `SELECT party_id FROM core.party p WHERE party_type = 'P' AND len(systems) = 4
		AND EXISTS (SELECT 1 FROM core.party_xref x WHERE x.party_id = p.party_id AND x.rule = 'probabilistic')
		ORDER BY party_id LIMIT 1`).Scan(&example)
	if example == "" {
		example = "P0000000001"
	}
	if card, err := identity.LookupProfile(ctx, w.DB(), example, false); err == nil {
		fmt.Fprintln(out, "\nA sample 360 card (cdp profile):")
		fmt.Fprintln(out)
		printProfile(out, card)
	}

	abs, _ := filepath.Abs(p.WarehousePath())
	fmt.Fprintf(out, `
Warehouse: %s  (demo finished in %.0fs)
Try:
  %[3]s status --config %[4]s
  %[3]s profile --config %[4]s %[5]s
  %[3]s sql --config %[4]s "SELECT rule, count(*) FROM core.party_xref GROUP BY ALL"
  %[3]s sql --config %[4]s "SELECT as_of_date, sum(aum) FROM core.aum_daily GROUP BY ALL ORDER BY 1"
  %[3]s sql --config %[4]s "SELECT tag_id, value, valid_from, valid_to FROM mart.tag_history WHERE party_id = '%[5]s'"
  %[3]s tags docs --out tags.md
  %[3]s signals docs --out signals.md
  %[3]s sql --config %[4]s "SELECT rule_id, decision, count(*) FROM mart.signal_decisions GROUP BY ALL ORDER BY 1, 2"
  %[3]s outbox status --config %[4]s
  %[3]s sql --config %[4]s "SELECT product_type, count(*), sum(amount_cny) FROM raw.wealth_holdings GROUP BY ALL ORDER BY 3 DESC"
  %[3]s sql --config %[4]s "SELECT position, reason, detail FROM ops.rejects LIMIT 10"
`, abs, time.Since(started).Seconds(), os.Args[0], cfgPath, example)
	if !serveAfter || ierr != nil {
		if !serveAfter {
			fmt.Fprintf(out, "  %s demo --serve   # the same, then stay up as the daemon with SQL for psql\n", os.Args[0])
		}
		return ierr
	}
	fmt.Fprintln(out, "\nStaying up as the daemon (cdp serve); Ctrl-C stops it.")
	if g.logLevel == "warn" { // the demo's quiet default; the daemon's log is its progress
		g.logLevel = "info"
		if err := g.setupLogging(); err != nil {
			return err
		}
	}
	for _, u := range p.Serve.SQL.Users {
		if u.PasswordFile != "" {
			fmt.Fprintf(out, "  %s: PGPASSWORD=$(cat %s) psql -h %s -U %s cdp\n", u.Role, p.Resolve(u.PasswordFile),
				strings.Replace(p.Serve.SQL.Listen, ":", " -p ", 1), u.Name)
		}
	}
	if len(p.Serve.SQL.Users) == 0 {
		fmt.Fprintf(out, "  (%s predates the demo's SQL users: delete it to get them)\n", cfgPath)
	}
	return serve(ctx, g, out, p, w, broker.Addrs)
}

// demoPasswords writes random passwords for the demo's SQL users, once.
func demoPasswords(dir string) error {
	for _, name := range []string{"analyst", "engineer"} {
		path := filepath.Join(dir, "secrets", name+".password")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func queryTable(ctx context.Context, out io.Writer, w *warehouse.Warehouse, q string) error {
	rows, err := w.DB().QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	_, err = render.Rows(out, rows, render.Table)
	return err
}

// topicSize counts the messages a topic holds (0 when it does not exist).
func topicSize(ctx context.Context, brokers []string, topic string) (int64, error) {
	ranges, err := pipeline.TopicRanges(ctx, brokers, topic)
	if err != nil {
		return 0, fmt.Errorf("embedded broker: %w", err)
	}
	var n int64
	for _, r := range ranges {
		n += r.Last - r.First
	}
	return n, nil
}

// printTagMix prints, per catalog category, how many tags were computed and
// a few of them with their most common value.
func printTagMix(ctx context.Context, out io.Writer, w *warehouse.Warehouse, cat *tags.Catalog) error {
	common := map[string]string{}
	rows, err := w.DB().QueryContext(ctx, `SELECT tag_id, arg_max(value, n ORDER BY n, value) || ' (' || max(n) || ')'
		FROM (SELECT tag_id, value, count(*) AS n FROM mart.tags GROUP BY ALL) GROUP BY tag_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return err
		}
		common[id] = v
	}
	rows.Close()
	by := cat.ByCategory()
	for _, c := range tags.Categories {
		ts := by[c.ID]
		var sample []string
		for i, t := range ts {
			if i == 3 {
				break
			}
			sample = append(sample, t.ID+" → "+common[t.ID])
		}
		fmt.Fprintf(out, "   %-14s %3d tags, e.g. %s\n", c.ID, len(ts), strings.Join(sample, "; "))
	}
	return nil
}

// nextDay delivers the held-back business day and runs it: ingest, unify
// (incremental), model, tags (whose changes become events), tiers, view and
// signals.
func nextDay(ctx context.Context, g *globals, out io.Writer, p *config.Project, w *warehouse.Warehouse, deliver func() error,
	cat *tags.Catalog, rules *signals.Rules, brokers []string) error {
	if err := deliver(); err != nil {
		return err
	}
	t0 := time.Now()
	rep, err := pipeline.Ingest(ctx, p, w, pipeline.IngestOptions{Logger: g.logger, Brokers: brokers})
	if rep == nil {
		return err
	}
	_, rows, _, _ := rep.Totals()
	us, err := identity.Unify(ctx, w, identity.Options{Config: p.Identity, Logger: g.logger})
	if err != nil {
		return err
	}
	if _, err := core.Build(ctx, w, g.logger); err != nil {
		return err
	}
	ts, err := tags.Run(ctx, w, cat, tags.RunOptions{Logger: g.logger})
	if err != nil {
		return err
	}
	if _, err := tiers.Build(ctx, w, p.Tiers, g.logger); err != nil {
		return err
	}
	vs, err := view.Build(ctx, w, view.Options{Logger: g.logger, AllowPII: p.Publish.AllowPII})
	if err != nil {
		return err
	}
	ss, err := signals.Run(ctx, w, rules, p.Signals, signals.RunOptions{Logger: g.logger, AllowPII: p.Publish.AllowPII})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n11. the next business day (%s) arrives and runs in %.1fs: %d rows ingested; unify %s (%d records re-decided); "+
		"%d tag values changed for %d parties; %d profile summaries changed\n",
		ts.AsOf, time.Since(t0).Seconds(), rows, us.Mode, us.Records, ts.Changes, ts.Events, vs.Profiles)
	fmt.Fprint(out, "    ")
	printSignalRun(out, ss)
	return nil
}

// printReadBack reads every publish topic back from the broker, checks each
// event against its JSON schema and CloudEvents headers, and prints one
// sample per topic.
func printReadBack(ctx context.Context, out io.Writer, brokers []string, p *config.Project) error {
	fmt.Fprintln(out, "\nRead back from the broker (CloudEvents binary mode; each body checked against schemas/):")
	for _, topic := range pipeline.PublishTopics {
		name := topic
		if r := p.Publish.Topics[topic]; r != "" {
			name = r
		}
		msgs, err := pipeline.ReadTopic(ctx, brokers, name)
		if err != nil {
			return err
		}
		valid, tombstones := 0, 0
		var sample *kafka.Message
		for i, m := range msgs {
			h := headers(m)
			if m.Value == nil {
				tombstones++
				continue
			}
			if h["ce_specversion"] != "1.0" || h["ce_id"] == "" {
				return fmt.Errorf("%s offset %d: not a CloudEvent: %v", name, m.Offset, h)
			}
			if err := schemas.Validate(h["ce_type"], m.Value); err != nil {
				return fmt.Errorf("%s offset %d: %w", name, m.Offset, err)
			}
			valid++
			if sample == nil || (h["ce_type"] == "cdp.signal.opened" && headers(*sample)["ce_type"] != "cdp.signal.opened") {
				sample = &msgs[i]
			}
		}
		fmt.Fprintf(out, "  %-22s %7d events, all valid", name, valid)
		if tombstones > 0 {
			fmt.Fprintf(out, ", %d tombstones", tombstones)
		}
		fmt.Fprintln(out)
		if sample != nil {
			h := headers(*sample)
			fmt.Fprintf(out, "    key=%s ce_type=%s ce_id=%s\n", sample.Key, h["ce_type"], h["ce_id"])
			var sig struct {
				Rule   string  `json:"rule_id"`
				Score  float64 `json:"score"`
				Reason string  `json:"reason"`
				Action string  `json:"action"`
			}
			if json.Unmarshal(sample.Value, &sig) == nil && sig.Reason != "" {
				fmt.Fprintf(out, "    %s (score %.0f): %s\n    → %s\n", sig.Rule, sig.Score, sig.Reason, sig.Action)
			} else {
				body := []rune(string(sample.Value))
				if len(body) > 240 {
					body = append(body[:240], '…')
				}
				fmt.Fprintf(out, "    %s\n", string(body))
			}
		}
	}
	return nil
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}
