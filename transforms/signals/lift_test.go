package signals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cdp/internal/synthbank"
	"cdp/transforms/signals"
	"cdp/warehouse"
)

// Lift against planted truth. Five seeds of a bank where four cross-sell
// rules each pick 12,000 customers: the real holdout draw (10%) splits
// them, the synthetic CRM answers the treated ones' signals (accepted,
// contacted, interested, converted at the rates it plants per rule) and
// the bank's sales records report the customers who buy unprompted, treated
// or held out alike (2–5% per rule); one rule (xs_bill_pool) sells nothing
// more than that. At this size every planted uplift (5–16 points) is far
// from zero: each rule's 95% interval must exclude zero, at least 90% of
// the 15 intervals of the rules with an uplift must contain it, and the
// zero rule's must contain zero in at least 4 of 5 seeds. A lift computed
// as zero, or as the treated conversion alone, fails.
func TestLift_IntervalsCoverThePlantedUplift(t *testing.T) {
	const perRule = 12000
	rules := []struct{ id, product string }{{"xs_a", "WMP"}, {"xs_b", "FUND"}, {"xs_c", "PLATINUM"}, {"xs_bill_pool", "BILL_POOL"}}
	cfg := signals.Config{}.WithDefaults()
	asOf := "2026-11-02"
	covered, withUplift, zeroCovered := 0, 0, 0
	for seed := int64(1); seed <= 5; seed++ {
		dir := t.TempDir()
		w, err := warehouse.Open(context.Background(), filepath.Join(dir, "w.duckdb"), warehouse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []synthbank.SignalMessage
		var held []synthbank.HeldOut
		var signalRows, decisionRows, ruleRows, partyRows [][]any
		for ri, r := range rules {
			rule := &signals.Rule{ID: r.id, Kind: "cross_sell", Product: r.product}
			ruleRows = append(ruleRows, []any{r.id, "cross_sell", r.id, r.id, r.product, cfg.Holdout.Share(rule), cfg.Holdout.ConversionDays})
			for i := range perRule {
				party := fmt.Sprintf("P%d%09d", ri, i)
				partyRows = append(partyRows, []any{party})
				if out, _ := cfg.Holdout.HeldOut(rule, party, asOf); out {
					held = append(held, synthbank.HeldOut{Party: party, Rule: r.id, Product: r.product})
					decisionRows = append(decisionRows, []any{"run", asOf, r.id, "cross_sell", party, 50.0, signals.HoldoutDecision, "holdout"})
					continue
				}
				id := fmt.Sprintf("%016x%016x", seed, ri*perRule+i)
				signalRows = append(signalRows, []any{id, r.id, "cross_sell", party, "open", 50.0, "medium", "r", "a", r.product, "{}",
					asOf, asOf, "2026-12-02", nil, 50.0, asOf, "run", nil, nil})
				body, _ := json.Marshal(map[string]string{"signal_id": id, "state": "opened", "rule_id": r.id, "kind": "cross_sell",
					"party_id": party, "product": r.product})
				msgs = append(msgs, synthbank.SignalMessage{CEID: "ce-" + id, Body: body})
			}
		}
		ans, err := synthbank.AnswerSignals(msgs, synthbank.CRMOptions{Seed: seed, Day: time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), Held: held})
		if err != nil {
			t.Fatal(err)
		}
		// The outcomes as the contact feed lands them; a treated customer's
		// party comes from its signal, a sale names it.
		var lines []string
		for _, o := range ans.Outcomes {
			var m map[string]any
			if err := json.Unmarshal(o.Value, &m); err != nil {
				t.Fatal(err)
			}
			m["party_id"] = string(o.Key)
			b, _ := json.Marshal(m)
			lines = append(lines, string(b))
		}
		outcomes := filepath.Join(dir, "outcomes.jsonl")
		if err := os.WriteFile(outcomes, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		csvOf := func(name string, rows [][]any) string {
			var b strings.Builder
			for _, r := range rows {
				for i, v := range r {
					if i > 0 {
						b.WriteByte('|')
					}
					if v != nil {
						fmt.Fprint(&b, v)
					}
				}
				b.WriteByte('\n')
			}
			path := filepath.Join(dir, name+".csv")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			return "read_csv('" + path + "', delim = '|', header = false, all_varchar = true, null_padding = true)"
		}
		for _, q := range []string{
			`INSERT INTO mart.signal_rules SELECT * FROM ` + csvOf("rules", ruleRows),
			`INSERT INTO core.party (party_id, party_type, name, source_records, fingerprint) SELECT column0, 'P', column0, 1, 0 FROM ` + csvOf("parties", partyRows),
			`INSERT INTO mart.signals SELECT * REPLACE (CAST(NULL AS DATE) AS column14), NULL, NULL FROM ` + csvOf("signals", signalRows),
			`INSERT INTO mart.signal_decisions SELECT * FROM ` + csvOf("decisions", decisionRows),
			`INSERT INTO raw.contact_outcomes (outcome_id, ce_id, task_id, party_id, status, product, amount, outcome_time)
			 SELECT outcome_id, ce_id, task_id, CASE WHEN ce_id IS NULL THEN party_id END, status, product, amount, outcome_time
			 FROM read_json('` + outcomes + `', columns = {outcome_id: 'VARCHAR', ce_id: 'VARCHAR', task_id: 'VARCHAR', party_id: 'VARCHAR',
			   status: 'VARCHAR', product: 'VARCHAR', amount: 'DECIMAL(18,2)', outcome_time: 'TIMESTAMPTZ'})`,
			// Every event the CRM answered was published by cdp.
			`INSERT INTO ops.outbox (seq, event_id, topic, key, type, source, time, data, producer, created_at, published_at)
			 SELECT row_number() OVER (), 'ce-' || signal_id, 'cdp.signals.crosssell', party_id, 'cdp.signal.opened', '/t', now(),
			   json_object('signal_id', signal_id, 'state', 'opened'), 'run', now(), now() FROM mart.signals`,
		} {
			if _, err := w.DB().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		rep, err := signals.Lift(ctx, w.DB(), signals.LiftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != len(rules) {
			t.Fatalf("seed %d: lift of %d rules, want %d", seed, len(rep.Rows), len(rules))
		}
		// The SQL view gives analysts the same numbers.
		for _, row := range rep.Rows {
			var lift, low, high float64
			if err := w.DB().QueryRow(`SELECT lift, lift_low, lift_high FROM mart.signal_lift WHERE rule_id = ?`, row.Rule).Scan(&lift, &low, &high); err != nil {
				t.Fatal(err)
			}
			for _, c := range [][2]float64{{lift, row.Lift}, {low, row.LiftLow}, {high, row.LiftHigh}} {
				if math.Abs(c[0]-c[1]) > 0.00006 {
					t.Errorf("seed %d %s: mart.signal_lift %.4f, cdp signals lift %.4f", seed, row.Rule, c[0], c[1])
				}
			}
		}
		for _, row := range rep.Rows {
			planted := synthbank.RatesOf(row.Rule, nil).Uplift()
			inside := row.LiftLow <= planted && planted <= row.LiftHigh
			t.Logf("seed %d %-13s treated %5d (%.3f) holdout %4d (%.3f): lift %.4f [%.4f, %.4f], planted %.4f",
				seed, row.Rule, row.Treated, row.TreatedRate, row.Holdout, row.HoldoutRate, row.Lift, row.LiftLow, row.LiftHigh, planted)
			if planted == 0 {
				if inside {
					zeroCovered++
				}
				continue
			}
			withUplift++
			if inside {
				covered++
			}
			if row.LiftLow <= 0 {
				t.Errorf("seed %d %s: the interval [%.4f, %.4f] does not exclude zero with a planted uplift of %.4f", seed, row.Rule, row.LiftLow, row.LiftHigh, planted)
			}
		}
		w.Close()
	}
	if covered*10 < withUplift*9 {
		t.Errorf("%d of %d intervals contain the planted uplift, want at least 90%%", covered, withUplift)
	}
	if zeroCovered < 4 {
		t.Errorf("the zero-uplift rule's interval contains zero in %d of 5 seeds, want at least 4", zeroCovered)
	}
}
