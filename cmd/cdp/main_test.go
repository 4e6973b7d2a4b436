package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/pii"
	"cdp/pipeline"
	"cdp/schemas"
	"cdp/warehouse"
)

var quiet = slog.New(slog.DiscardHandler)

// run executes the cdp command line in-process and returns its stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot(&globals{})
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(args, "--log-level", "error"))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// The demo sizes its project's budget by its bank: the larger of 3 GiB and
// 12 KiB a party, never more than the machine's default share (then the
// setting is left empty, the default).
func TestDemoBudget_GrowsWithTheBankUpToTheDefault(t *testing.T) {
	def, err := warehouse.MemoryBudget("")
	if err != nil {
		t.Fatal(err)
	}
	for parties, want := range map[int]string{600: "3.0GiB", 200_000: "3.0GiB", 262_144: "3.0GiB", 300_000: "3.4GiB",
		500_000: "5.7GiB", 1_000_000: "11.4GiB", 5_000_000: "57.2GiB"} {
		got := demoBudget(parties)
		b, err := warehouse.MemoryBudget(want)
		if err != nil {
			t.Fatal(err)
		}
		if b.Total >= def.Total {
			want = "" // more than the default: the default
		}
		if got != want {
			t.Errorf("%d parties: budget %q, want %q (the default is %s)", parties, got, want, def)
		}
	}
}

func TestDemo_RunsEveryStageAndLeavesAWorkingProject(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, err := run(t, "demo", "--dir", dir, "--parties", "600", "--days", "4")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"1. generated a bank of 600 parties × 4 days", "2. embedded Kafka-protocol broker on 127.0.0.1:",
		"3. ingest: run ", "0 failed", "raw.ebank_events", "duplicate_key", " sql --config ",
		"4. unify ", "(full): ", "records joined by: ", "resident_id=", "credit_code=", "probabilistic=",
		"relationships (not merges): ", "legal_representative=", "checked against the generator's ground truth", " profile --config ",
		"5. core model built in ", "core.aum_daily", "core.card_txn", "6. tags ", "aum_tier", "preferred_channel", "7. value tiers as of ", "战略核心 core", "8. mart.customer_360 as of ", "A sample 360 card", "value score",
		"9. signals ", "10. the next business day (2026-11-20)", "tag values changed", "11. published ", "0 left in the outbox",
		"cdp.signals.churn", "cdp.signals.crosssell", "cdp.signals.risk", "cdp.tags.changes", "cdp.profile", "events, all valid",
		"a synthetic CRM read the signal events and answered", "12. the CRM's answers", "funnel of all signals, by rule:",
		"lift of each rule over its holdout group"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	cfg := filepath.Join(dir, "cdp.yaml")
	checkPublishedEvents(t, cfg)
	// The project keeps to the demo's budget, and says so.
	p, err := pipeline.LoadProject(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := demoBudget(600); p.Warehouse.MemoryLimit != want {
		t.Errorf("the demo's warehouse.memory_limit is %q, want %q", p.Warehouse.MemoryLimit, want)
	} else if b, err := warehouse.MemoryBudget(want); err != nil || !strings.Contains(out, "memory budget "+b.String()) {
		t.Errorf("the demo does not print its budget %v (%v):\n%s", b, err, out)
	}
	// A back-test of a dated rule over the demo's days, a variant beside it.
	out, err = run(t, "signals", "backtest", "--config", cfg, "--rule", "churn_aum_outflow", "--from", "2026-11-17", "--to", "2026-11-20",
		"--param", "min_drop_pct=20")
	if err != nil || !strings.Contains(out, "back-test of churn_aum_outflow (churn, reads dated)") || !strings.Contains(out, "| variant ") ||
		!regexp.MustCompile(`(?m)^  2026-11-20 +\d+ +\d+ +0 `).MatchString(out) {
		t.Errorf("signals backtest: %v\n%s", err, out)
	}
	if _, err := run(t, "signals", "backtest", "--config", cfg, "--rule", "churn_aum_outflow", "--to", "2026-11-20"); err == nil {
		t.Error("a back-test without --from ran")
	}
	// The loop: every answer the CRM planted came back, once, on its signal.
	truth, err := os.ReadFile(filepath.Join(dir, "truth", "crm_outcomes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	planted, _ := csv.NewReader(strings.NewReader(string(truth))).ReadAll()
	converted := map[string]bool{}
	for _, r := range planted[1:] {
		if r[4] == "CONVERTED" && r[2] != "" { // a sale answers no signal
			converted[r[2]] = true
		}
	}
	out, err = run(t, "sql", "--config", cfg, "--format", "csv", "SELECT (SELECT count(*) FROM raw.contact_outcomes), count(*) FILTER (converted_at IS NOT NULL) FROM mart.signal_outcomes")
	if err != nil {
		t.Fatal(err)
	}
	if recs, _ := csv.NewReader(strings.NewReader(out)).ReadAll(); len(recs) != 2 || recs[1][0] != strconv.Itoa(len(planted)-1) ||
		recs[1][1] != strconv.Itoa(len(converted)) || len(converted) == 0 {
		t.Errorf("outcomes loaded and signals converted %q, want %d and %d (truth/crm_outcomes.csv)", out, len(planted)-1, len(converted))
	}
	// Every other command works on the project it left.
	out, err = run(t, "sql", "--config", cfg, "--format", "csv", "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM raw.ebank_events")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	if len(recs) != 2 || recs[1][0] == "0" || recs[1][0] != recs[1][1] {
		t.Fatalf("events after the demo: %q", out)
	}
	if out, err = run(t, "status", "--config", cfg); err != nil || !strings.Contains(out, "Rejected rows by reason") ||
		!strings.Contains(out, "Identity unification") || !strings.Contains(out, " full ") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	// A second ingest, with the embedded broker restarted from its data dir,
	// loads nothing new; a second unify finds nothing to do.
	out, err = run(t, "ingest", "--config", cfg)
	if err != nil || !strings.Contains(out, "0 loaded") || !strings.Contains(out, "rows: 0 in") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	out, err = run(t, "unify", "--config", cfg, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Mode    string `json:"mode"`
		Parties int    `json:"parties"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Mode != "unchanged" || sum.Parties == 0 {
		t.Fatalf("unify rerun: %v %+v\n%s", err, sum, out)
	}

	// profile finds a party by its id, by a member's mobile and by a source
	// key, masking PII unless asked.
	out, err = run(t, "sql", "--config", cfg, "--format", "csv", `SELECT p.party_id, x.mobile, x.source_key, p.id_no
		FROM core.party p JOIN core.party_xref x USING (party_id)
		WHERE p.party_type = 'P' AND x.mobile_valid AND p.id_valid AND p.source_records > 1 ORDER BY p.party_id LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ = csv.NewReader(strings.NewReader(out)).ReadAll()
	if len(recs) != 2 {
		t.Fatalf("no multi-record person: %q", out)
	}
	party, mobile, key, idNo := recs[1][0], recs[1][1], recs[1][2], recs[1][3]
	for _, arg := range []string{party, mobile[:3] + "-" + mobile[3:7] + "-" + mobile[7:], key, strings.ToLower(idNo)} {
		out, err = run(t, "profile", "--config", cfg, arg)
		if err != nil {
			t.Fatalf("profile %s: %v", arg, err)
		}
		if !strings.HasPrefix(out, party) || !strings.Contains(out, "Source records") || !strings.Contains(out, "value score") {
			t.Errorf("profile %s does not show party %s:\n%s", arg, party, out)
		}
		if strings.Contains(out, idNo) || strings.Contains(out, mobile) {
			t.Errorf("profile %s shows an unmasked ID or mobile:\n%s", arg, out)
		}
	}
	out, err = run(t, "profile", "--config", cfg, "--unmask", "--format", "json", party)
	if err != nil || !strings.Contains(out, idNo) {
		t.Fatalf("profile --unmask: %v\n%s", err, out)
	}
	if _, err := run(t, "profile", "--config", cfg, "P9999999999"); err == nil || !strings.Contains(err.Error(), "no party matches") {
		t.Errorf("profile of an unknown id: %v", err)
	}

	// The built-in tag catalog compiles against the demo's core model.
	// Its party-scoped tags keep their promises on the demo's data.
	if out, err = run(t, "tags", "validate", "--config", cfg); err != nil || !strings.Contains(out, "tags valid: natural=") ||
		!strings.Contains(out, " sampled parties: ") || strings.Contains(out, " do not") || strings.Contains(out, "not checked") {
		t.Errorf("tags validate: %v\n%s", err, out)
	}
	lies := t.TempDir()
	os.WriteFile(filepath.Join(lies, "x.yaml"), []byte("category: assets\nowner: o\ntags:\n  - id: t1\n    name_zh: 一\n    name_en: One\n    type: int\n    description: d\n    scope: party\n"+
		"    sql: SELECT party_id, CAST(rank() OVER (ORDER BY party_id) AS BIGINT) AS value FROM core.party\n"), 0o644)
	if out, err = run(t, "tags", "validate", "--config", cfg, "--catalog", lies); err == nil || !strings.Contains(err.Error(), "x.yaml:4: t1: scope: party does not hold: ") ||
		!strings.Contains(out, ", 1 do not") {
		t.Errorf("tags validate of a tag that reads other parties: %v\n%s", err, out)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.yaml"), []byte("category: assets\nowner: o\ntags:\n  - id: t1\n    name_zh: 一\n    name_en: One\n    type: int\n    description: d\n    sql: SELECT party_id, name AS value FROM core.party\n"), 0o644)
	if _, err = run(t, "tags", "validate", "--config", cfg, "--catalog", bad); err == nil || !strings.Contains(err.Error(), "x.yaml:9: t1: value is VARCHAR, which a tag of type int cannot hold") {
		t.Errorf("tags validate of a bad catalog: %v", err)
	}

	// The built-in signal rules compile; a broken rule is named by file
	// and line; the docs list every rule; the outbox is drained.
	if out, err = run(t, "signals", "validate", "--config", cfg); err != nil || !strings.Contains(out, "27 rules valid: churn=8 cross_sell=9 risk=8 service=2") {
		t.Errorf("signals validate: %v\n%s", err, out)
	}
	badRules := t.TempDir()
	os.WriteFile(filepath.Join(badRules, "churn.yaml"), []byte("kind: churn\nowner: o\nrules:\n  - id: r1\n    name_zh: 一\n    name_en: One\n    description: d\n    priority: high\n    valid_days: 3\n    action: a\n    params: {}\n    reason: \"{{.missing}}\"\n    sql: SELECT party_id, 50 AS score, mobile FROM core.party\n"), 0o644)
	_, err = run(t, "signals", "validate", "--config", cfg, "--rules", badRules)
	if err == nil || !strings.Contains(err.Error(), "churn.yaml:13: r1: column mobile looks like an ID number or phone") ||
		!strings.Contains(err.Error(), "churn.yaml:12: r1: reason:") {
		t.Errorf("signals validate of a bad rule: %v", err)
	}
	if out, err = run(t, "signals", "docs", "--config", cfg); err != nil || !strings.Contains(out, "`xs_private_wealth`") || !strings.Contains(out, "topic `cdp.signals.risk`") {
		t.Errorf("signals docs: %v\n%.500s", err, out)
	}
	if out, err = run(t, "outbox", "status", "--config", cfg); err != nil || !strings.Contains(out, " published, 0 waiting") {
		t.Errorf("outbox status: %v\n%s", err, out)
	}

	// The demo project's jobs run by hand and by business date, and
	// status shows them with their next fires.
	if out, err = run(t, "run", "publish", "--config", cfg); err != nil || !strings.Contains(out, "of publish (manual): success") {
		t.Errorf("run publish: %v\n%s", err, out)
	}
	if _, err = run(t, "run", "nightly", "--config", cfg); err == nil || !strings.Contains(err.Error(), `no job "nightly" (jobs: ebank, daily, publish)`) {
		t.Errorf("run of an unknown job: %v", err)
	}
	// The demo ran its daily job for 2026-11-20: a backfill skips the date,
	// unless asked to run it again.
	out, err = run(t, "backfill", "daily", "--config", cfg, "--from", "2026-11-20", "--to", "2026-11-20", "--policy", "skip")
	if err != nil || !strings.Contains(out, "2026-11-20  skipped") {
		t.Errorf("backfill of a date done: %v\n%s", err, out)
	}
	out, err = run(t, "backfill", "daily", "--config", cfg, "--from", "2026-11-20", "--to", "2026-11-20", "--policy", "rerun")
	if err != nil || !strings.Contains(out, "2026-11-20  ran      success") {
		t.Errorf("backfill: %v\n%s", err, out)
	}
	out, err = run(t, "status", "--config", cfg)
	for _, want := range []string{"Scheduled jobs", "daily", "0 30 2 * * *", "CST", "Last job runs", "backfill", "manual"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("status lacks %q: %v\n%s", want, err, out)
		}
	}
}

func TestInit_WritesAProjectThatIngests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bank")
	if out, err := run(t, "init", dir); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, f := range []string{"credit", "wealth", "card", "ebank", "core_banking"} {
		if st, err := os.Stat(filepath.Join(dir, "feeds", f)); err != nil || !st.IsDir() {
			t.Errorf("feeds/%s not created", f)
		}
	}
	cfg := filepath.Join(dir, "cdp.yaml")
	out, err := run(t, "ingest", "--config", cfg)
	if err != nil || !strings.Contains(out, "0 loaded, 0 unchanged, 0 pending, 0 failed") {
		t.Fatalf("ingest on an empty starter project: %v\n%s", err, out)
	}
	if _, err := run(t, "init", dir); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("init over an existing project: %v", err)
	}
}

func TestSQL_FormatsAndErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "init", dir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "cdp.yaml")
	out, err := run(t, "sql", "--config", cfg, "--format", "json", "SELECT 1 AS n, '张伟' AS name, 12.50::DECIMAL(18,2) AS amount")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0]["name"] != "张伟" || rows[0]["amount"] != 12.5 {
		t.Fatalf("json output %q: %v", out, err)
	}
	if _, err := run(t, "sql", "--config", cfg, "--format", "xml", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "want table, csv or json") {
		t.Fatalf("bad format: %v", err)
	}
	if _, err := run(t, "sql", "--config", cfg, "SELECT * FROM raw.no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Fatalf("bad query: %v", err)
	}
}

func TestConfigErrorsNameFileLineAndField(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cdp.yaml")
	os.WriteFile(cfg, []byte("warehouse:\n  path: w.duckdb\nfeeds:\n  - name: credit\n    encoding: big5\n"), 0o644)
	_, err := run(t, "status", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), "cdp.yaml:5:") || !strings.Contains(err.Error(), "feeds[0].encoding") {
		t.Fatalf("error %v, want file:line and field", err)
	}
}

// checkPublishedEvents reads back every topic the demo published to (from
// the embedded broker's log) and checks each event on its own: CloudEvents
// headers, key = subject = party, body valid against its JSON schema, no
// ID number or mobile; and that the topics hold exactly the outbox's
// events, each once.
func checkPublishedEvents(t *testing.T, cfg string) {
	t.Helper()
	p, err := pipeline.LoadProject(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pipeline.StartEmbeddedBroker(p.Project, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	seen := map[string]bool{}
	byType := map[string]int{}
	for _, topic := range pipeline.PublishTopics {
		msgs, err := pipeline.ReadTopic(ctx, b.Addrs, topic)
		if err != nil {
			t.Fatal(err)
		}
		// Every topic has events: service reminders too (the contact
		// feed's first file carries the quarter's contacts so far).
		if len(msgs) == 0 {
			t.Errorf("%s: no events", topic)
		}
		for _, m := range msgs {
			h := map[string]string{}
			for _, x := range m.Headers {
				h[x.Key] = string(x.Value)
			}
			where := fmt.Sprintf("%s offset %d", topic, m.Offset)
			if h["ce_specversion"] != "1.0" || h["ce_id"] == "" || h["ce_source"] == "" || h["ce_time"] == "" || h["ce_subject"] != string(m.Key) {
				t.Fatalf("%s: CloudEvents headers %v", where, h)
			}
			seen[h["ce_id"]] = true
			byType[h["ce_type"]]++
			if m.Value == nil {
				continue // a tombstone
			}
			if h["content-type"] != "application/json" {
				t.Errorf("%s: content-type %q", where, h["content-type"])
			}
			if err := schemas.Validate(h["ce_type"], m.Value); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			if red := pii.Redact(string(m.Value)); red != string(m.Value) {
				t.Errorf("%s: an ID number or mobile in the event: %.300s", where, m.Value)
			}
		}
	}
	w, err := openWarehouse(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var published, distinct int
	sqltest.Row(t, w.DB(), `SELECT count(*), count(DISTINCT event_id) FROM ops.outbox WHERE published_at IS NOT NULL`).Scan(&published, &distinct)
	if len(seen) != distinct || published != distinct {
		t.Errorf("the topics hold %d distinct events; the outbox published %d (%d distinct ids)", len(seen), published, distinct)
	}
	for _, typ := range []string{"cdp.signal.opened", "cdp.signal.updated", "cdp.tags.changed", "cdp.profile.updated"} {
		if byType[typ] == 0 {
			t.Errorf("no %s events: %v", typ, byType)
		}
	}
	t.Logf("events read back by type: %v", byType)
}
