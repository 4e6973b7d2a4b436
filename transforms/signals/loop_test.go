package signals_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/pipeline"
	"cdp/transforms/signals"
)

// The loop closes: signals go to the broker, the CRM answers on
// crm.outcomes and in its daily file, the contact center reports a
// contact; each answer lands once, on the signal whose event it names,
// and the funnel counts exactly the answers. An answer to no signal cdp
// sent, or naming an unknown party, is a reject with its reason.
func TestLoop_OutcomesComeBackToTheirSignals(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.SeedTopics(2, "crm.outcomes"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	b := testbank.Load(t, testbank.Options{Parties: 600, Days: 2, Seed: 41})
	// The feeds list ends the testbank's cdp.yaml: one more feed, then kafka.
	b.Project = testbank.WithConfig(t, b.Dir, fmt.Sprintf(`  - {name: crm_outcomes, contract: contact, kind: kafka, topic: crm.outcomes, entity: outcomes}
kafka:
  brokers: [%s]
`, strings.Join(broker.ListenAddrs(), ", ")))
	b.Run(t, "tags", "tiers", "view", "signals", "publish")
	db := b.W.DB()

	// Six published signal events, each of another signal.
	type sig struct{ ce, signal, party string }
	var sigs []sig
	for scan := range sqltest.Rows(t, db, `SELECT arg_min(event_id, seq), json_extract_string(any_value(data), '$.signal_id'), any_value(key)
		FROM ops.outbox WHERE topic LIKE 'cdp.signals.%' AND published_at IS NOT NULL
		GROUP BY json_extract_string(data, '$.signal_id') ORDER BY 2 LIMIT 6`) {
		var s sig
		scan(&s.ce, &s.signal, &s.party)
		sigs = append(sigs, s)
	}
	if len(sigs) != 6 {
		t.Fatalf("%d published signals, want 6", len(sigs))
	}
	// Every signal event speaks Chinese to the RM, and English.
	var noZH, zhSample string
	sqltest.Row(t, db, `SELECT CAST(count(*) FILTER ((data::JSON->>'reason_zh') IS NULL OR (data::JSON->>'action_zh') IS NULL) AS VARCHAR),
		coalesce(min(data::JSON->>'reason_zh'), '') FROM ops.outbox WHERE topic LIKE 'cdp.signals.%'`).Scan(&noZH, &zhSample)
	if noZH != "0" || !regexp.MustCompile(`\p{Han}`).MatchString(zhSample) {
		t.Errorf("%s signal events without Chinese; one says %q", noZH, zhSample)
	}
	outcome := func(id, ce, status string, amount float64, at string) string {
		return fmt.Sprintf(`{"outcome_id":%q,"ce_id":%q,"status":%q,"product":"WMP","amount":%.2f,"outcome_time":"2026-11-%sT10:00:00+08:00","rm_id":"RM10001"}`,
			id, ce, status, amount, at)
	}
	// The daily file: signal 0 converted (after interest), signal 1 declined.
	file := strings.Join([]string{
		outcome("O1", sigs[0].ce, "INTERESTED", 0, "21"),
		outcome("O2", sigs[0].ce, "CONVERTED", 250000, "22"),
		outcome("O3", sigs[1].ce, "DECLINED", 0, "21"),
		outcome("O9", "no-such-event", "CONTACTED", 0, "21"),
		`{"outcome_id":"O10","task_id":"T77","party_id":"P9999999999","status":"CONTACTED","outcome_time":"2026-11-21T10:00:00+08:00"}`,
		`{"outcome_id":"O11","status":"CONTACTED","outcome_time":"2026-11-21T10:00:00+08:00"}`,
		`{"outcome_id":"O12","task_id":"T78","status":"CONTACTED","outcome_time":"2026-11-21T10:00:00+08:00"}`,
	}, "\n") + "\n"
	deliver(t, filepath.Join(b.Dir, "feeds", "contact", "outcomes_20261120.jsonl"), file, 7)
	// The topic: signal 2 interested, signal 3 converted, and O2 again.
	w := &kafka.Writer{Addr: kafka.TCP(broker.ListenAddrs()...), Topic: "crm.outcomes", RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	var msgs []kafka.Message
	for _, v := range []string{outcome("O4", sigs[2].ce, "INTERESTED", 0, "21"), outcome("O5", sigs[3].ce, "CONVERTED", 80000.5, "23"),
		outcome("O2", sigs[0].ce, "CONVERTED", 250000, "22")} {
		msgs = append(msgs, kafka.Message{Value: []byte(v)})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// The contact center: signal 4 was answered by a call.
	contacts := "contact_id|party_id|system|source_key|business_line|channel|rm_id|contact_time|purpose|product|ce_id\n" +
		"C1|" + sigs[4].party + "|||WEALTH|PHONE|RM10001|2026-11-21 09:30:00|MARKETING|WMP|" + sigs[4].ce + "\n"
	deliver(t, filepath.Join(b.Dir, "feeds", "contact", "contacts_20261121.csv"), contacts, 1)

	for range 2 { // the second ingest finds nothing new: each answer lands once
		if _, err := pipeline.Run(context.Background(), b.Env(), "ingest"); err != nil {
			var errs []string
			for scan := range sqltest.Rows(t, db, `SELECT source || ': ' || coalesce(error, '') FROM ops.loads WHERE status <> 'loaded'`) {
				var e string
				scan(&e)
				errs = append(errs, e)
			}
			t.Fatalf("ingest: %v %q", err, errs)
		}
	}
	var loaded int
	sqltest.Row(t, db, `SELECT count(*) FROM raw.contact_outcomes`).Scan(&loaded)
	if loaded != 5 {
		t.Errorf("%d outcomes loaded, want 5 (O1–O5, O2 once)", loaded)
	}
	var rejects []string
	for scan := range sqltest.Rows(t, db, `SELECT reason || ': ' || detail FROM ops.rejects WHERE entity = 'contact.outcomes' ORDER BY 1`) {
		var r string
		scan(&r)
		rejects = append(rejects, r)
	}
	want := []string{
		contract.ReasonDuplicate + ": outcome_id O2 already loaded from contact/outcomes_20261120.jsonl:2",
		contract.ReasonMissing + ": outcome O11 names neither a signal (ce_id) nor a CRM task (task_id)",
		contract.ReasonMissing + ": outcome O12 of task T78 names no customer: give party_id, or system and source_key",
		contract.ReasonUnknownParty + ": party P9999999999 is no party of the warehouse",
		contract.ReasonUnknownSignal + ": ce_id no-such-event is no signal event cdp published",
	}
	if strings.Join(rejects, "\n") != strings.Join(want, "\n") {
		t.Errorf("the outcomes' rejects:\n%s\nwant\n%s", strings.Join(rejects, "\n"), strings.Join(want, "\n"))
	}

	states := map[string]string{}
	for scan := range sqltest.Rows(t, db, `SELECT signal_id, state FROM mart.signal_outcomes`) {
		var id, st string
		scan(&id, &st)
		states[id] = st
	}
	for i, want := range []string{"converted", "declined", "interested", "converted", "contacted", "published"} {
		if got := states[sigs[i].signal]; got != want {
			t.Errorf("signal %d: %s, want %s", i, got, want)
		}
	}
	// The funnel counts the answers: 2 converted for 330,000.50, 1
	// declined, 3 interested (the converted ones included), 5 contacted.
	f, err := signals.Report(context.Background(), db, signals.ReportOptions{By: "rule"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) == 0 || !regexp.MustCompile(`\p{Han}`).MatchString(f.Rows[0].Name) {
		t.Errorf("the funnel's rules are named in Chinese by default: %+v", f.Rows)
	}
	tot := f.Total
	if tot.Converted != 2 || tot.Declined != 1 || tot.Interested != 3 || tot.Contacted != 5 || tot.ConvertedAmount != 330000.5 {
		t.Errorf("funnel total %+v", tot)
	}
	var published, signalsN int64
	sqltest.Row(t, db, `SELECT count(*), count(*) FILTER (signal_id IN (SELECT signal_id FROM core.signal_event WHERE published_at IS NOT NULL)) FROM mart.signals`).Scan(&signalsN, &published)
	if tot.Signals != signalsN || tot.Published != published {
		t.Errorf("funnel: %d signals, %d published; mart.signals has %d, %d published", tot.Signals, tot.Published, signalsN, published)
	}
	var sum int64
	for _, r := range f.Rows {
		sum += r.Signals
	}
	if sum != tot.Signals {
		t.Errorf("the rules' rows add up to %d signals, the total says %d", sum, tot.Signals)
	}
	// The SQL view agrees.
	var converted int64
	sqltest.Row(t, db, `SELECT sum(converted) FROM mart.signal_funnel`).Scan(&converted)
	if converted != 2 {
		t.Errorf("mart.signal_funnel: %d converted", converted)
	}
}

// deliver writes a feed file and its control file (rows|md5), as a source
// system does.
func deliver(t *testing.T, path, body string, rows int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".ok", fmt.Appendf(nil, "%d|%x", rows, md5.Sum([]byte(body))), 0o644); err != nil {
		t.Fatal(err)
	}
}
