package signals_test

import (
	"context"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/signals"
)

// TestRun_RulesFindThePlantedBehaviours: on a generated bank, every shipped
// rule that names a planted behaviour opens signals for (nearly) only the
// parties carrying it: precision ≥ 0.9 per rule, as the issue asks. Recall
// must be ≥ 0.9 too.
func TestRun_RulesFindThePlantedBehaviours(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 2})
	rules, err := signals.Load(signals.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := signals.Run(context.Background(), b.W, rules, signals.Config{}, signals.RunOptions{Logger: testbank.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events == 0 || sum.Counts[signals.Opened] == 0 {
		t.Fatalf("run opened nothing: %+v", sum)
	}
	ours := b.OurParty(t)
	planted := map[string]map[string]bool{} // behaviour[:detail] → our party ids
	for _, r := range b.Truth(t, "behaviours.csv") {
		for _, key := range []string{r[1], r[1] + ":" + "target_subset=true"} {
			if key != r[1] && !strings.Contains(r[4], "target_subset=true") {
				continue
			}
			if planted[key] == nil {
				planted[key] = map[string]bool{}
			}
			planted[key][ours[r[0]]] = true
		}
	}
	// The industry chain's and the external feed's truths have files of
	// their own: the first column is the party the rule is about (the
	// supplier in the chain's). The chain is read from core banking: there
	// a party stands for the real one its core banking record went to
	// (whether unification merged its other records is the identity
	// stage's test).
	byCore := map[string]string{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT source_key, party_id FROM core.party_xref WHERE system = 'core_banking'`) {
		var k, p string
		scan(&k, &p)
		byCore[k] = p
	}
	coreParty := map[string]string{}
	for _, r := range b.Truth(t, "xref.csv") {
		if _, ok := coreParty[r[2]]; !ok && r[0] == "core_banking" && byCore[r[1]] != "" {
			coreParty[r[2]] = byCore[r[1]]
		}
	}
	for file, behaviour := range map[string]string{"downstream_risk.csv": "downstream_risk", "buyer_concentration.csv": "buyer_concentration",
		"chain_prospects.csv":         "chain_prospects",
		"financial_deterioration.csv": "financial_deterioration", "negative_news.csv": "negative_news_spike", "industry_downturn.csv": "industry_downturn"} {
		planted[behaviour] = map[string]bool{}
		chain := file == "downstream_risk.csv" || file == "buyer_concentration.csv" || file == "chain_prospects.csv"
		for _, r := range b.Truth(t, file) {
			if p := coreParty[r[0]]; chain && p != "" {
				planted[behaviour][p] = true
			} else {
				planted[behaviour][ours[r[0]]] = true
			}
		}
	}
	for _, r := range rules.Rules {
		if r.Behaviour == "" {
			continue
		}
		want := planted[r.Behaviour]
		if len(want) == 0 {
			t.Errorf("%s: the generated bank planted no %s", r.ID, r.Behaviour)
			continue
		}
		got := ruleHits(t, b, r.ID)
		precision, recall := precisionRecall(got, want)
		t.Logf("%-26s %-40s planted %3d, fired %3d: precision %.2f recall %.2f", r.ID, r.Behaviour, len(want), len(got), precision, recall)
		if len(got) == 0 || precision < 0.9 {
			t.Errorf("%s: precision %.2f on %d signals; want ≥ 0.9", r.ID, precision, len(got))
		}
		if recall < 0.9 {
			t.Errorf("%s: recall %.2f; want ≥ 0.9", r.ID, recall)
		}
	}
}

// ruleHits are the parties a rule decided about in the bank's runs:
// opened, plus capped and suppressed (a cap is fairness, not a miss).
func ruleHits(t *testing.T, b *testbank.Bank, rule string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT DISTINCT party_id FROM mart.signal_decisions WHERE rule_id = ?`, rule) {
		var p string
		scan(&p)
		got[p] = true
	}
	return got
}

// precisionRecall of the parties got against those wanted (0 for an
// empty side).
func precisionRecall(got, want map[string]bool) (precision, recall float64) {
	hit := 0
	for p := range got {
		if want[p] {
			hit++
		}
	}
	return float64(hit) / float64(max(len(got), 1)), float64(hit) / float64(max(len(want), 1))
}

// The ladder: the companies that settle with the bank and use its
// e-banking but have no credit with it (truth/ladder.csv, from what the
// generator delivered) are offered a first credit line, precision and
// recall ≥ 0.9.
func TestRun_CreditLadderFindsSettlementClientsWithoutCredit(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 2})
	rules, err := signals.Load(signals.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signals.Run(context.Background(), b.W, rules, signals.Config{}, signals.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	ours := b.OurParty(t)
	want := map[string]bool{}
	for _, r := range b.Truth(t, "ladder.csv") {
		want[ours[r[0]]] = true
	}
	got := ruleHits(t, b, "xs_credit_ladder")
	precision, recall := precisionRecall(got, want)
	t.Logf("ladder: %d companies, %d offered: precision %.2f recall %.2f", len(want), len(got), precision, recall)
	if len(want) == 0 || precision < 0.9 || recall < 0.9 {
		t.Errorf("credit ladder: %d companies, %d offered, precision %.2f recall %.2f; want ≥ 0.9 each", len(want), len(got), precision, recall)
	}
}
