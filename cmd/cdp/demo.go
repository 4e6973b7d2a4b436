package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"
	"cdp/connectors/contract"
	"cdp/internal/synthbank"
	"cdp/outbox"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/schedules"
	"cdp/schemas"
	"cdp/serve"
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
--config DIR/cdp.yaml. Its memory budget (warehouse.memory_limit) is sized
for the bank it is created with: the larger of 3 GiB and 12 KiB a party,
never more than the default (60% of the machine's memory). Running it
again regenerates the same bytes and loads nothing twice.

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
		if err := writeProject(dir, config.StarterOptions{Embedded: true, Listen: "127.0.0.1:0", Demo: true, MemoryLimit: demoBudget(parties)}); err != nil {
			return err
		}
	}
	if err := demoPasswords(dir); err != nil {
		return err
	}
	p, err := pipeline.LoadProject(cfgPath)
	if err != nil {
		return err
	}
	budget, err := warehouse.MemoryBudget(p.Warehouse.MemoryLimit)
	if err != nil {
		return err
	}
	// The bank is generated in memory: the Go heap keeps to the budget
	// too, collecting more often rather than growing past it.
	debug.SetMemoryLimit(budget.Total)
	fmt.Fprintf(out, "cdp demo: project %s, memory budget %s\n\n", dir, budget)

	// 1. The synthetic bank.
	prog := pipeline.TerminalProgress(os.Stderr)
	t0 := time.Now()
	sum, err := generateBank(ctx, synthbank.Options{
		Out: dir, Parties: parties, Days: days, Seed: seed, BadRowRate: 0.0005, StreamDays: 2, HistoryMonths: synthbank.DefaultHistoryMonths,
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
	broker, err := pipeline.StartEmbeddedBroker(p.Project, g.logger)
	if err != nil {
		return err
	}
	defer broker.Close()
	topic := "ebank.events"
	for _, f := range p.Feeds {
		if f.Kind == config.KindKafka && f.Contract == "ebank" {
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

	w, err := openWarehouse(ctx, p)
	if err != nil {
		return err
	}
	defer w.Close()
	// 3–9: the demo project's own daily job (every stage of the DAG), as
	// the daemon fires it, each stage's summary printed as it ends.
	job, err := p.Schedules.Job(demoJob)
	if err != nil {
		return fmt.Errorf("%s: %w (it predates the demo's jobs: delete it to get them)", cfgPath, err)
	}
	cat, err := (&pipeline.Env{Project: p}).Catalog()
	if err != nil {
		return err
	}
	d := &demoDay{ctx: ctx, out: out, w: w, dir: dir, cat: cat, first: true}
	sched := schedules.New(p, w, schedules.Options{Logger: g.logger, Brokers: broker.Addrs, OnStage: d.stage})
	if err := fireDemo(ctx, sched, job.Name, d); err != nil {
		return err
	}

	// The CRM answers the first day's signals on crm.outcomes.
	if err := answerAsCRM(ctx, out, broker.Addrs, p, w, dir, seed, lastDay.AddDate(0, 0, -1)); err != nil {
		return err
	}

	// 10. The next business day, through the same job.
	if err := deliver(); err != nil {
		return err
	}
	d.first, d.results = false, map[string]pipeline.Result{}
	t0 = time.Now()
	if err := fireDemo(ctx, sched, job.Name, d); err != nil {
		return err
	}
	d.printNextDay(time.Since(t0))

	// 11. What the day's publish stage sent, read back.
	if ps, ok := d.results["publish"].Summary.(*outbox.RelaySummary); ok {
		fmt.Fprint(out, "\n11. ")
		printPublish(out, ps)
	}
	if err := printReadBack(ctx, out, broker.Addrs, p); err != nil {
		return err
	}
	// 12. The loop closed: what the CRM answered, as the funnel and the lift.
	f, err := signals.Report(ctx, w.DB(), signals.ReportOptions{By: "rule"})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "\n12. the CRM's answers, loaded from crm.outcomes on the next day (cdp signals report): ")
	printFunnel(out, f)
	lift, err := signals.Lift(ctx, w.DB(), signals.LiftOptions{})
	if err != nil {
		return err
	}
	fmt.Fprint(out, "    and cdp signals lift (one day of answers on a small bank: wide intervals; truth/crm_rates.csv has the planted uplift): ")
	printLift(out, lift)

	var example string
	_ = w.DB().QueryRowContext(ctx, `SELECT party_id FROM core.party p WHERE party_type = 'P' AND len(systems) >= 4
		AND EXISTS (SELECT 1 FROM core.party_xref x WHERE x.party_id = p.party_id AND x.rule = 'probabilistic')
		ORDER BY len(systems) DESC, party_id LIMIT 1`).Scan(&example)
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
  %[3]s sql --config %[4]s "SELECT system, product_type, count(*), sum(amount_cny) FROM core.holding GROUP BY ALL ORDER BY 1, 4 DESC"
  %[3]s sql --config %[4]s "SELECT channel, direction, count(*), sum(amount_cny) FROM core.settlement GROUP BY ALL ORDER BY 4 DESC"
  %[3]s sql --config %[4]s "SELECT position, reason, detail FROM ops.rejects LIMIT 10"
`, abs, time.Since(started).Seconds(), os.Args[0], cfgPath, example)
	if !serveAfter {
		fmt.Fprintf(out, "  %s demo --serve   # the same, then stay up as the daemon with SQL for psql\n", os.Args[0])
		return nil
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
	return serve.Serve(ctx, p, w, serve.Options{Logger: g.logger, Brokers: broker.Addrs, Out: out})
}

// answerAsCRM plays the bank's CRM: it reads the signal events the first
// day published, answers each signal (synthbank.AnswerSignals) on the
// outcome topic, and writes what it planted to the ground truth.
func answerAsCRM(ctx context.Context, out io.Writer, brokers []string, p *pipeline.Project, w *warehouse.Warehouse, dir string, seed int64, day time.Time) error {
	outcomes := ""
	for _, f := range p.Feeds {
		if f.Kind == config.KindKafka && f.Contract == "contact" && f.IsEnabled() {
			outcomes = f.Topic
		}
	}
	if outcomes == "" {
		return nil // the project reads no outcome topic
	}
	var msgs []synthbank.SignalMessage
	for _, topic := range pipeline.PublishTopics {
		if !strings.HasPrefix(topic, "cdp.signals.") {
			continue
		}
		if r := p.Publish.Topics[topic]; r != "" {
			topic = r
		}
		read, err := pipeline.ReadTopic(ctx, brokers, topic)
		if err != nil {
			return err
		}
		for _, m := range read {
			msgs = append(msgs, synthbank.SignalMessage{CEID: headers(m)["ce_id"], Body: m.Value})
		}
	}
	// The world knows who cdp held out (the CRM does not): some of them
	// buy unprompted, which the bank's sales records report.
	var held []synthbank.HeldOut
	rows, err := w.DB().QueryContext(ctx, `SELECT DISTINCT d.party_id, d.rule_id, r.product FROM mart.signal_decisions d
		JOIN mart.signal_rules r USING (rule_id) WHERE d.decision = 'holdout' AND r.product IS NOT NULL ORDER BY 1, 2`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var h synthbank.HeldOut
		if err := rows.Scan(&h.Party, &h.Rule, &h.Product); err != nil {
			rows.Close()
			return err
		}
		held = append(held, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ans, err := synthbank.AnswerSignals(msgs, synthbank.CRMOptions{Seed: seed, Day: day, Held: held})
	if err != nil {
		return err
	}
	if err := synthbank.Produce(ctx, brokers, outcomes, ans.Outcomes); err != nil {
		return fmt.Errorf("the CRM's outcomes: %w", err)
	}
	if err := synthbank.WriteCRMTruth(filepath.Join(dir, "truth"), ans); err != nil {
		return err
	}
	fmt.Fprintf(out, "    a synthetic CRM read the signal events and answered %d signals with %d outcomes on %s (planted rates in truth/crm_rates.csv)\n",
		ans.Signals, len(ans.Outcomes), outcomes)
	if len(held) > 0 {
		fmt.Fprintf(out, "    (and reported the unprompted purchases of the %d customers cdp held out, as the bank's sales records would)\n", len(held))
	}
	return nil
}

// demoBudget is the memory budget the demo writes into its project's
// warehouse.memory_limit for a bank of that many parties: the larger of
// 3 GiB and 12 KiB a party, or "" (the default share of the machine) when
// that would be more. Measured at 200k parties × 2 days: 2.25 GiB peak
// (docs/performance.md, "Memory, again"). Where the machine's memory
// cannot be read, the figure is written as it is.
func demoBudget(parties int) string {
	b := max(int64(3)<<30, int64(parties)*12<<10)
	if def, err := warehouse.MemoryBudget(""); err == nil && b >= def.Total {
		return ""
	}
	return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + "GiB"
}

// demoJob is the demo project's job that runs every stage of the DAG.
const demoJob = "daily"

// fireDemo fires the demo's job by hand and fails with its error.
func fireDemo(ctx context.Context, s *schedules.Scheduler, job string, d *demoDay) error {
	res := s.Fire(ctx, schedules.Fire{Job: job, Trigger: schedules.TriggerManual})
	if d.err != nil {
		return d.err
	}
	if res.Status != schedules.StatusSuccess {
		return fmt.Errorf("the demo's %s job: %v", job, res.Err)
	}
	return nil
}

// demoDay prints what each stage of the demo's job did: on the first day
// each stage as it ends, with a look into the warehouse; on the next day
// one line for the whole run.
type demoDay struct {
	ctx     context.Context
	out     io.Writer
	w       *warehouse.Warehouse
	dir     string
	cat     *tags.Catalog
	first   bool
	results map[string]pipeline.Result
	err     error // a failure to print
}

func (d *demoDay) stage(_ string, r pipeline.Result, err error) {
	if err != nil || d.err != nil {
		return
	}
	if !d.first {
		d.results[r.Stage] = r
		return
	}
	out := d.out
	switch s := r.Summary.(type) {
	case *pipeline.IngestReport:
		fmt.Fprintf(out, "3. ingest: ")
		printIngestReport(out, s)
		d.err = d.printLoaded()
	case *identity.Summary:
		fmt.Fprint(out, "\n4. ")
		printUnifySummary(out, s)
		d.err = d.printParties()
	case *core.Summary:
		fmt.Fprint(out, "\n5. ")
		printModelSummary(out, s)
	case *tags.RunSummary:
		fmt.Fprint(out, "\n6. ")
		printTagRun(out, s)
		d.err = printTagMix(d.ctx, out, d.w, d.cat)
	case *tiers.Summary:
		fmt.Fprint(out, "\n7. ")
		printTiers(out, s)
	case *view.Summary:
		fmt.Fprint(out, "\n8. ")
		printView(out, s)
	case *signals.RunSummary:
		fmt.Fprint(out, "\n9. ")
		printSignalRun(out, s)
	case *outbox.RelaySummary:
		fmt.Fprintf(out, "    the first day's events went to the broker: %d published in %.1fs\n", s.Published, s.Seconds)
	}
}

// printLoaded shows what is in the raw layer and what was rejected.
func (d *demoDay) printLoaded() error {
	var parts []string
	for _, e := range contract.Entities {
		parts = append(parts, fmt.Sprintf("SELECT '%s' AS \"table\", count(*) AS \"rows\", count(DISTINCT _load_id) AS loads FROM %s", e.Table(), e.Table()))
	}
	fmt.Fprintln(d.out, "\nRows per raw table:")
	if err := queryTable(d.ctx, d.out, d.w, strings.Join(parts, " UNION ALL ")+" ORDER BY 1"); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nRejected rows by reason (every one kept in ops.rejects with its raw text and position;")
	fmt.Fprintln(d.out, "duplicate_key = e-banking events delivered twice, by Kafka redelivery or in both stream and archive: loaded once):")
	return queryTable(d.ctx, d.out, d.w, `SELECT reason, count(*) AS "rows", min(position) AS example FROM ops.rejects r
		JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded' GROUP BY reason ORDER BY 2 DESC`)
}

// printParties checks the parties against the generator's truth and shows
// them by the systems that know them.
func (d *demoDay) printParties() error {
	if ev, err := identity.EvaluateTruth(d.ctx, d.w.DB(), filepath.Join(d.dir, "truth", "xref.csv")); err == nil {
		fmt.Fprintf(d.out, "checked against the generator's ground truth (truth/xref.csv): pairwise precision %.4f, recall %.4f, F1 %.4f over %d source records\n",
			ev.Pairwise.Precision, ev.Pairwise.Recall, ev.Pairwise.F1, ev.Records)
	}
	fmt.Fprintln(d.out, "\nParties by the systems that know them:")
	return queryTable(d.ctx, d.out, d.w, `SELECT party_type AS type, array_to_string(systems, '+') AS systems, count(*) AS parties,
		sum(source_records) AS source_records FROM core.party GROUP BY ALL ORDER BY 3 DESC LIMIT 12`)
}

// printNextDay sums up the second day's run in a line.
func (d *demoDay) printNextDay(took time.Duration) {
	r := d.results
	us, _ := r["unify"].Summary.(*identity.Summary)
	ts, _ := r["tags"].Summary.(*tags.RunSummary)
	vs, _ := r["view"].Summary.(*view.Summary)
	ss, _ := r["signals"].Summary.(*signals.RunSummary)
	if us == nil || ts == nil || vs == nil || ss == nil {
		return
	}
	fmt.Fprintf(d.out, "\n10. the next business day (%s) arrives and runs in %.1fs: %d rows ingested; unify %s (%d records re-decided); "+
		"%d tag values changed for %d parties; %d profile summaries changed\n",
		ts.AsOf, took.Seconds(), r["ingest"].Rows, us.Mode, us.Records, ts.Changes, ts.Events, vs.Profiles)
	fmt.Fprint(d.out, "    ")
	printSignalRun(d.out, ss)
}

// demoPasswords writes random passwords for the demo's SQL users, once.
func demoPasswords(dir string) error {
	for _, name := range []string{"analyst", "engineer"} {
		if err := writeSecret(filepath.Join(dir, "secrets", name+".password")); err != nil {
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
	if err := rows.Err(); err != nil {
		return err
	}
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

// printReadBack reads every publish topic back from the broker, checks each
// event against its JSON schema and CloudEvents headers, and prints one
// sample per topic.
func printReadBack(ctx context.Context, out io.Writer, brokers []string, p *pipeline.Project) error {
	fmt.Fprintln(out, "\nRead back from the broker (CloudEvents binary mode; each body checked against schemas/):")
	for _, topic := range pipeline.PublishTopics {
		name := topic
		if r := p.Publish.Topics[topic]; r != "" {
			name = r
		}
		// (one event at a time: the profile topic alone holds an event
		// per party and day)
		valid, tombstones := 0, 0
		var sample *kafka.Message
		err := pipeline.ScanTopic(ctx, brokers, name, func(m kafka.Message) error {
			h := headers(m)
			if m.Value == nil {
				tombstones++
				return nil
			}
			if h["ce_specversion"] != "1.0" || h["ce_id"] == "" {
				return fmt.Errorf("%s offset %d: not a CloudEvent: %v", name, m.Offset, h)
			}
			if err := schemas.Validate(h["ce_type"], m.Value); err != nil {
				return fmt.Errorf("%s offset %d: %w", name, m.Offset, err)
			}
			valid++
			if sample == nil || (h["ce_type"] == "cdp.signal.opened" && headers(*sample)["ce_type"] != "cdp.signal.opened") {
				sample = &m
			}
			return nil
		})
		if err != nil {
			return err
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
