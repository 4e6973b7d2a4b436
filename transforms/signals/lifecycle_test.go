package signals_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/signals"
	"cdp/warehouse"
)

const testRules = `kind: %s
owner: test
rules:
%s`

func testRule(id string, validDays int) string {
	return `  - id: ` + id + `
    name_zh: 测试
    name_en: Test ` + id + `
    description: fires from the test table
    priority: medium
    valid_days: ` + strconv.Itoa(validDays) + `
    product: p_` + id + `
    action: act
    params: {}
    reason: "score {{.note}}"
    sql: SELECT party_id, score, note FROM main.hits WHERE rule_id = '` + id + `'
`
}

// lifecycleBank is an empty warehouse with a hits table the test rules read.
func lifecycleBank(t *testing.T) (*warehouse.Warehouse, *signals.Rules) {
	t.Helper()
	return ruleBank(t, map[string][]string{
		"cross_sell": {testRule("xs_a", 30), testRule("xs_b", 30), testRule("xs_c", 30)},
		"churn":      {testRule("ch_a", 3)},
	})
}

// ruleBank is an empty warehouse with a hits table, and the rules given
// by kind (testRule's), which read it.
func ruleBank(t *testing.T, byKind map[string][]string) (*warehouse.Warehouse, *signals.Rules) {
	t.Helper()
	dir := t.TempDir()
	for kind, rules := range byKind {
		body := strings.Replace(strings.Replace(testRules, "%s", kind, 1), "%s", strings.Join(rules, ""), 1)
		if err := os.WriteFile(filepath.Join(dir, kind+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := signals.Load(os.DirFS(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warehouse.Open(context.Background(), filepath.Join(dir, "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.DB().Exec(`CREATE TABLE main.hits (rule_id VARCHAR, party_id VARCHAR, score DOUBLE, note VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	return w, rules
}

// day sets the hits, runs signals for date and returns its decisions
// ("rule/party/decision", sorted) and the events it put in the outbox
// ("type rule/party", sorted).
func day(t *testing.T, w *warehouse.Warehouse, rules *signals.Rules, date string, hits ...string) (decisions, events []string) {
	t.Helper()
	db := w.DB()
	if _, err := db.Exec(`DELETE FROM main.hits`); err != nil {
		t.Fatal(err)
	}
	for _, h := range hits { // "rule party score"
		f := strings.Fields(h)
		if _, err := db.Exec(`INSERT INTO main.hits VALUES (?, ?, CAST(? AS DOUBLE), ?)`, f[0], f[1], f[2], f[2]); err != nil {
			t.Fatal(err)
		}
	}
	asOf, _ := time.Parse(time.DateOnly, date)
	var before int64
	sqltest.Row(t, db, `SELECT coalesce(max(seq), 0) FROM ops.outbox`).Scan(&before)
	sum, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: asOf, RunID: "run-" + date, Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	for scan := range sqltest.Rows(t, db, `SELECT rule_id || '/' || party_id || '/' || decision FROM mart.signal_decisions WHERE run_id = ?`, sum.RunID) {
		var s string
		scan(&s)
		decisions = append(decisions, s)
	}
	for scan := range sqltest.Rows(t, db, `SELECT type || ' ' || (data::JSON->>'rule_id') || '/' || key FROM ops.outbox WHERE seq > ?`, before) {
		var s string
		scan(&s)
		events = append(events, s)
	}
	sort.Strings(decisions)
	sort.Strings(events)
	if len(events) != sum.Events {
		t.Errorf("%s: summary says %d events, the outbox got %d", date, sum.Events, len(events))
	}
	return decisions, events
}

func same(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// TestRun_LifecycleSuppressionAndCapAcrossDays walks one customer through
// nine days: the cross-sell cap (2 per 7 days) keeps the lowest-scoring
// pitch back, a rising score sends an update, a vanished condition closes,
// an expired signal whose rule still fires is suppressed within the window
// (as is a reappearing one with no higher score), and once the window has
// passed both come back.
func TestRun_LifecycleSuppressionAndCapAcrossDays(t *testing.T) {
	w, rules := lifecycleBank(t)

	d, e := day(t, w, rules, "2026-11-01", "xs_a P1 50", "xs_b P1 70", "xs_c P1 60", "ch_a P2 40")
	same(t, "day 1 decisions", d, "xs_a/P1/capped", "xs_b/P1/opened", "xs_c/P1/opened", "ch_a/P2/opened")
	same(t, "day 1 events", e, "cdp.signal.opened xs_b/P1", "cdp.signal.opened xs_c/P1", "cdp.signal.opened ch_a/P2")

	d, e = day(t, w, rules, "2026-11-02", "xs_a P1 50", "xs_b P1 80", "xs_c P1 60", "ch_a P2 40")
	same(t, "day 2 decisions", d, "xs_a/P1/capped", "xs_b/P1/updated", "xs_c/P1/unchanged", "ch_a/P2/unchanged")
	same(t, "day 2 events", e, "cdp.signal.updated xs_b/P1")

	// A rerun of the same day sends nothing new.
	_, e = day(t, w, rules, "2026-11-02", "xs_a P1 50", "xs_b P1 80", "xs_c P1 60", "ch_a P2 40")
	same(t, "day 2 rerun events", e)

	d, e = day(t, w, rules, "2026-11-03", "xs_a P1 50", "xs_b P1 80", "ch_a P2 40")
	same(t, "day 3 decisions", d, "xs_a/P1/capped", "xs_b/P1/unchanged", "xs_c/P1/closed", "ch_a/P2/unchanged")
	same(t, "day 3 events", e, "cdp.signal.closed xs_c/P1")

	// ch_a (valid 3 days) expires; its rule still fires but was sent 3 days
	// ago with the same score. xs_c is back with no higher score.
	d, e = day(t, w, rules, "2026-11-04", "xs_a P1 50", "xs_b P1 80", "xs_c P1 60", "ch_a P2 40")
	same(t, "day 4 decisions", d, "xs_a/P1/capped", "xs_b/P1/unchanged", "xs_c/P1/suppressed", "ch_a/P2/expired", "ch_a/P2/suppressed")
	same(t, "day 4 events", e, "cdp.signal.expired ch_a/P2")

	// A higher score lifts the suppression, but the cap still holds.
	d, _ = day(t, w, rules, "2026-11-05", "xs_a P1 50", "xs_b P1 80", "xs_c P1 65", "ch_a P2 40")
	same(t, "day 5 decisions", d, "xs_a/P1/capped", "xs_b/P1/unchanged", "xs_c/P1/capped", "ch_a/P2/suppressed")

	// Day 9: the day-1 openings have left the 7-day cap window and the
	// suppression window: xs_c and xs_a open (highest first), ch_a reopens.
	d, e = day(t, w, rules, "2026-11-09", "xs_a P1 50", "xs_b P1 80", "xs_c P1 65", "ch_a P2 40")
	same(t, "day 9 decisions", d, "xs_a/P1/opened", "xs_b/P1/unchanged", "xs_c/P1/opened", "ch_a/P2/opened")
	same(t, "day 9 events", e, "cdp.signal.opened xs_a/P1", "cdp.signal.opened xs_c/P1", "cdp.signal.opened ch_a/P2")

	// Two ch_a signals for P2, the first expired, with distinct ids.
	var n, ids int
	sqltest.Row(t, w.DB(), `SELECT count(*), count(DISTINCT signal_id) FROM mart.signals WHERE rule_id = 'ch_a'`).Scan(&n, &ids)
	if n != 2 || ids != 2 {
		t.Errorf("ch_a signals: %d rows, %d ids; want 2 and 2", n, ids)
	}
	var status string
	sqltest.Row(t, w.DB(), `SELECT string_agg(status, ',' ORDER BY opened_on) FROM mart.signals WHERE rule_id = 'ch_a'`).Scan(&status)
	if status != "expired,open" {
		t.Errorf("ch_a statuses %q, want expired,open", status)
	}
	// Event ids are unique across the outbox.
	var events, distinct int
	sqltest.Row(t, w.DB(), `SELECT count(*), count(DISTINCT event_id) FROM ops.outbox`).Scan(&events, &distinct)
	if events != distinct || events != 9 {
		t.Errorf("outbox: %d events, %d distinct ids; want 9 and 9", events, distinct)
	}

	// History only moves forward.
	asOf, _ := time.Parse(time.DateOnly, "2026-11-08")
	if _, err := signals.Run(context.Background(), w, rules, signals.Config{}, signals.RunOptions{AsOf: asOf, Logger: testbank.Quiet}); err == nil ||
		!strings.Contains(err.Error(), "before the last run") {
		t.Errorf("a backdated run: err = %v, want a refusal", err)
	}
}
