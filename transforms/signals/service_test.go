package signals_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/core"
	"cdp/transforms/signals"
	"cdp/transforms/tiers"
	"cdp/warehouse"
)

// Service standards: by the 21st a 战略核心 customer with one visit and one
// call gets exactly one service signal, saying what is missing; a
// customer who met the standard gets none; once met, the signal closes.
func TestRun_ServiceStandards(t *testing.T) {
	w, rules := serviceBank(t)
	db := w.DB()
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, rm_id, source_records, fingerprint)
		 SELECT 'P' || range, 'P', 'name ' || range, 'RM1', 1, range FROM range(1, 5)`,
		`CREATE TABLE mart.value_tier AS SELECT * FROM (VALUES ('P1', 'core', '战略核心'), ('P2', 'core', '战略核心'), ('P3', 'growth', '重点培育'), ('P4', 'base', '潜力挖掘')) t(party_id, tier, tier_zh)`,
		// P1 met its standard (4 contacts, 2 visits); P2 had a visit and a
		// call; P3 (重点培育, 2 a month) has had nothing yet but 9 days left;
		// P4 (潜力挖掘, 3 a quarter) had a visit and a call last month, on
		// the day the feed begins.
		`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, contact_time, purpose) VALUES
		 ('C1', 'P1', 'WEALTH', 'VISIT', TIMESTAMPTZ '2026-11-03 10:00:00+08', 'SERVICE'),
		 ('C2', 'P1', 'CREDIT', 'VISIT', TIMESTAMPTZ '2026-11-10 10:00:00+08', 'MARKETING'),
		 ('C3', 'P1', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-11-12 10:00:00+08', 'CARE'),
		 ('C4', 'P1', 'CARD', 'WECHAT', TIMESTAMPTZ '2026-11-18 10:00:00+08', 'SERVICE'),
		 ('C5', 'P2', 'WEALTH', 'VISIT', TIMESTAMPTZ '2026-11-05 10:00:00+08', 'SERVICE'),
		 ('C6', 'P2', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-11-19 10:00:00+08', 'MARKETING'),
		 ('C7', 'P2', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-10-30 10:00:00+08', 'SERVICE'),
		 ('C10', 'P4', 'WEALTH', 'VISIT', TIMESTAMPTZ '2026-10-01 10:00:00+08', 'SERVICE'),
		 ('C11', 'P4', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-10-20 10:00:00+08', 'CARE')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run := func(date string) *signals.RunSummary {
		t.Helper()
		asOf, _ := time.Parse(time.DateOnly, date)
		sum, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: asOf, RunID: "run-" + date, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	run("2026-11-21")
	var coverage []string
	for scan := range sqltest.Rows(t, db, `SELECT party_id || ' ' || contacts || '/' || contacts_required || ' ' || visits || '/' || visits_required || ' ' || days_left || ' ' || status
		FROM mart.service_coverage ORDER BY party_id`) {
		var s string
		scan(&s)
		coverage = append(coverage, s)
	}
	if got, want := strings.Join(coverage, "; "), "P1 4/4 2/2 9 met; P2 2/4 1/2 9 at_risk; P3 0/2 0/1 9 at_risk; P4 2/3 1/1 40 on_track"; got != want {
		t.Errorf("coverage %s, want %s", got, want)
	}
	var reasons []string
	for scan := range sqltest.Rows(t, db, `SELECT party_id || ': ' || reason FROM mart.signals WHERE kind = 'service' ORDER BY party_id`) {
		var s string
		scan(&s)
		reasons = append(reasons, s)
	}
	if got, want := strings.Join(reasons, "; "), "P2: 2 of 4 contacts this month, 1 visit of 2, 9 days left; P3: 0 of 2 contacts this month, no visit of 1, 9 days left"; got != want {
		t.Errorf("service signals %s, want %s", got, want)
	}
	var topic string
	sqltest.Row(t, db, `SELECT any_value(topic) FROM ops.outbox WHERE key = 'P2'`).Scan(&topic)
	if topic != "cdp.signals.service" {
		t.Errorf("P2's event went to %q", topic)
	}
	// The next day: still at risk, nothing new is sent.
	if sum := run("2026-11-22"); sum.Events != 0 {
		t.Errorf("the next day sent %d events", sum.Events)
	}
	// P2 gets its visit and a call: the signal closes.
	if _, err := db.Exec(`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, contact_time, purpose) VALUES
		('C8', 'P2', 'WEALTH', 'VISIT', TIMESTAMPTZ '2026-11-23 10:00:00+08', 'SERVICE'),
		('C9', 'P2', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-11-23 15:00:00+08', 'SERVICE')`); err != nil {
		t.Fatal(err)
	}
	run("2026-11-24")
	var status string
	sqltest.Row(t, db, `SELECT status FROM mart.signals WHERE party_id = 'P2'`).Scan(&status)
	if status != "closed" {
		t.Errorf("P2's service signal once the standard is met: %s", status)
	}
	// Built in parts (as a bank too big for DuckDB's memory at once is),
	// the coverage is the same.
	coverageRows := func() string {
		var s string
		sqltest.Row(t, db, `SELECT string_agg(CAST(c AS VARCHAR), '|' ORDER BY party_id) FROM mart.service_coverage c`).Scan(&s)
		return s
	}
	whole := coverageRows()
	defer signals.SetCoverageParts(3)()
	asOf := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	if _, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: asOf, RunID: "run-parts", Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	if got := coverageRows(); got != whole || !strings.Contains(got, "P3") {
		t.Errorf("coverage in 3 parts:\n%s\nin one:\n%s", got, whole)
	}
}

// Coverage by team member: each member of a party's team (the roster's,
// with the golden record's RM for a roster without one) counts the party
// once per role, with the contacts and visits the member made (once, in
// however many roles); the coverage's RM is the team's.
func TestRun_ServiceCoverageByTeamMember(t *testing.T) {
	w, rules := serviceBank(t)
	db := w.DB()
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, rm_id, source_records, fingerprint) VALUES
		 ('P1', 'P', 'n1', 'RM1', 1, 1), ('P2', 'P', 'n2', 'RM1', 1, 2)`,
		`CREATE TABLE mart.value_tier AS SELECT * FROM (VALUES ('P1', 'core', '战略核心'), ('P2', 'core', '战略核心')) t(party_id, tier, tier_zh)`,
		`INSERT INTO raw.contact_team (assignment_id, party_id, member_id, role, _source) VALUES
		 ('A1', 'P1', 'S1', 'RM', 'team_20261120.csv:2'), ('A2', 'P1', 'S2', 'ADVISOR', 'team_20261120.csv:3'),
		 ('A3', 'P2', 'S2', 'ADVISOR', 'team_20261120.csv:4'), ('A4', 'P1', 'S1', 'ADVISOR', 'team_20261120.csv:5')`,
		`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, rm_id, contact_time, purpose) VALUES
		 ('C0', 'P1', 'WEALTH', 'PHONE', 'S1', TIMESTAMPTZ '2026-10-30 10:00:00+08', 'SERVICE'),
		 ('C1', 'P1', 'WEALTH', 'VISIT', 'S1', TIMESTAMPTZ '2026-11-03 10:00:00+08', 'SERVICE'),
		 ('C2', 'P1', 'WEALTH', 'PHONE', 'S2', TIMESTAMPTZ '2026-11-10 10:00:00+08', 'MARKETING'),
		 ('C3', 'P2', 'WEALTH', 'VISIT', 'S2', TIMESTAMPTZ '2026-11-12 10:00:00+08', 'SERVICE')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for scan := range sqltest.Rows(t, db, `SELECT member_id || ' ' || role || ' ' || role_zh || ': ' || parties || ' parties, ' || at_risk || ' at risk, '
		|| own_contacts || ' contacts, ' || own_visits || ' visits' FROM mart.service_team_coverage ORDER BY member_id, role`) {
		var s string
		scan(&s)
		got = append(got, s)
	}
	same(t, "coverage by member", got,
		"RM1 RM 主办客户经理: 1 parties, 1 at risk, 0 contacts, 0 visits",
		"S1 ADVISOR 投资顾问: 1 parties, 1 at risk, 1 contacts, 1 visits",
		"S1 RM 主办客户经理: 1 parties, 1 at risk, 1 contacts, 1 visits",
		"S2 ADVISOR 投资顾问: 2 parties, 2 at risk, 2 contacts, 1 visits")
	var rms string
	sqltest.Row(t, db, `SELECT string_agg(party_id || ':' || rm_id, ',' ORDER BY party_id) FROM mart.service_coverage`).Scan(&rms)
	if rms != "P1:S1,P2:RM1" {
		t.Errorf("the coverage's RMs: %s, want the roster's for P1, the golden record's for P2", rms)
	}
}

// On a generated bank the service reminders name the customers whose RMs
// neglected them (truth/service_neglected.csv: 15% of customers get none
// of their planned service contacts): on the 20th, with 10 days of the
// month left, precision and recall ≥ 0.9 over the 战略核心 and 重点培育
// customers (monthly standards), as for the planted behaviours.
func TestRun_ServiceRemindersFindTheNeglected(t *testing.T) {
	b := serviceRun(t)
	monthly := map[string]bool{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT party_id FROM mart.value_tier WHERE tier IN ('core', 'growth')`) {
		var p string
		scan(&p)
		monthly[p] = true
	}
	ours := b.OurParty(t)
	want := map[string]bool{}
	for _, r := range b.Truth(t, "service_neglected.csv") {
		if p := ours[r[0]]; monthly[p] && r[1] != "base" {
			want[p] = true
		}
	}
	got := ruleHits(t, b, "svc_standard_at_risk")
	precision, recall := precisionRecall(got, want)
	t.Logf("service reminders: %d neglected key accounts, %d reminded: precision %.2f recall %.2f", len(want), len(got), precision, recall)
	if len(want) == 0 || precision < 0.9 || recall < 0.9 {
		t.Errorf("service reminders against the neglected customers: %d planted, %d reminded, precision %.2f recall %.2f; want ≥ 0.9 each",
			len(want), len(got), precision, recall)
	}
}

// A contact feed that began after the period did says nothing of the
// contacts before it: the standard is not judged, nobody is reminded.
func TestRun_ServiceStandardsNeedTheWholePeriod(t *testing.T) {
	w, rules := serviceBank(t)
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, source_records, fingerprint) VALUES ('P1', 'P', 'n', 1, 1)`,
		`CREATE TABLE mart.value_tier AS SELECT 'P1' AS party_id, 'core' AS tier, '战略核心' AS tier_zh`,
		`INSERT INTO raw.contact_contacts (contact_id, party_id, business_line, channel, contact_time, purpose) VALUES
		 ('C1', 'P1', 'WEALTH', 'PHONE', TIMESTAMPTZ '2026-11-14 10:00:00+08', 'SERVICE')`,
	} {
		if _, err := w.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sum, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	var status string
	sqltest.Row(t, w.DB(), `SELECT status FROM mart.service_coverage WHERE party_id = 'P1'`).Scan(&status)
	if status != "incomplete" || sum.Events != 0 {
		t.Errorf("a feed from 11-14 judged a November standard: %s, %d events", status, sum.Events)
	}
}

// serviceBank is an empty warehouse and the built-in service rule alone.
func serviceBank(t *testing.T) (*warehouse.Warehouse, *signals.Rules) {
	t.Helper()
	body, err := fs.ReadFile(signals.Builtin(), "service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := signals.Load(fstest.MapFS{"service.yaml": {Data: body}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warehouse.Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	// The core model's tables, empty (svc_birthday reads core.company_profile).
	if _, err := core.Build(context.Background(), w, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	return w, rules
}

// Birthdays and founding anniversaries: the core and growth customers
// whose day is the run's or falls in the 30 days after it (truth/occasions.csv: persons
// by their birth date, companies in credit by their founding day) get a
// greeting reminder, precision and recall ≥ 0.9; the reason names the
// occasion and the days left, not the date of birth.
func TestRun_BirthdaysAndAnniversaries(t *testing.T) {
	b := serviceRun(t)
	ours := b.OurParty(t)
	want, kinds := map[string]bool{}, map[string]int{}
	for _, r := range b.Truth(t, "occasions.csv") {
		want[ours[r[0]]] = true
		kinds[r[1]]++
	}
	got := ruleHits(t, b, "svc_birthday")
	precision, recall := precisionRecall(got, want)
	t.Logf("occasions: %v planted, %d reminded: precision %.2f recall %.2f", kinds, len(got), precision, recall)
	if kinds["birthday"] == 0 || kinds["anniversary"] == 0 || precision < 0.9 || recall < 0.9 {
		t.Errorf("greeting reminders: %v planted, %d reminded, precision %.2f recall %.2f; want both kinds and ≥ 0.9 each", kinds, len(got), precision, recall)
	}
	var leaks int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.signals s JOIN core.party p USING (party_id)
		WHERE s.rule_id = 'svc_birthday' AND (regexp_matches(s.reason, '\d{4}-\d{2}-\d{2}') OR contains(s.reason_zh, CAST(p.birth_date AS VARCHAR)))`).Scan(&leaks)
	if leaks != 0 {
		t.Errorf("%d greeting reasons quote a date", leaks)
	}
}

// serviceRun tiers the 3,000-party bank and runs the shipped service rules
// on it.
func serviceRun(t *testing.T) *testbank.Bank {
	t.Helper()
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 2})
	ctx := context.Background()
	if _, err := tiers.Build(ctx, b.W, tiers.Config{}, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	body, err := fs.ReadFile(signals.Builtin(), "service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := signals.Load(fstest.MapFS{"service.yaml": {Data: body}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signals.Run(ctx, b.W, rules, signals.Config{}, signals.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	return b
}
