package tags_test

import (
	"context"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tags"
)

// TestRun_PlantedBehavioursShowInTheirTags: the behaviours the generator
// planted (truth/behaviours.csv) are found by the tags meant to show them,
// and the tags rarely fire for parties without the behaviour. (The three
// short-window behaviours, activity_drop, dormant_card and
// company_new_loan, are signal rules against a party's own baseline: they
// belong to the signals stage, not to a tag.)
func TestRun_PlantedBehavioursShowInTheirTags(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 1})
	ctx := context.Background()
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Run(ctx, b.W, cat, tags.RunOptions{Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	// behaviour → the parties a tag condition selects.
	conditions := map[string]string{
		"aum_outflow":           `SELECT party_id FROM mart.tags WHERE tag_id = 'aum_trend' AND value = 'declining'`,
		"loan_overdue":          `SELECT party_id FROM mart.tags WHERE tag_id = 'has_overdue' AND value = 'true'`,
		"early_repayment":       `SELECT party_id FROM mart.tags WHERE tag_id = 'early_repayment' AND value = 'true'`,
		"cross_border_no_hedge": `SELECT party_id FROM mart.tags WHERE tag_id = 'fx_unhedged' AND value = 'true'`,
		"deposit_maturing":      `SELECT party_id FROM mart.tags WHERE tag_id = 'deposit_maturing_30d' AND CAST(value AS DOUBLE) >= 1000000`,
		"deposit_not_renewed":   `SELECT party_id FROM mart.tags WHERE tag_id = 'deposit_not_renewed_30d' AND CAST(value AS DOUBLE) >= 1000000`,
		"new_large_deposit":     `SELECT party_id FROM mart.tags WHERE tag_id = 'new_large_deposit_30d'`,
		"settlement_drop":       `SELECT party_id FROM mart.tags WHERE tag_id = 'settlement_change_pct' AND CAST(value AS DOUBLE) <= -50`,
		"heavy_settlement_low_credit": `SELECT s.party_id FROM mart.tags s
			LEFT JOIN mart.tags c ON c.party_id = s.party_id AND c.tag_id = 'credit_exposure'
			WHERE s.tag_id = 'avg_daily_settlement' AND CAST(s.value AS DOUBLE) >= 5000000
			  AND coalesce(CAST(c.value AS DOUBLE), 0) <= 5 * CAST(s.value AS DOUBLE)`,
		"premium_card_candidate": `SELECT a.party_id FROM mart.tags a
			JOIN mart.tags k ON k.party_id = a.party_id AND k.tag_id = 'card_tier_highest' AND k.value = 'CLASSIC'
			JOIN mart.tags s ON s.party_id = a.party_id AND s.tag_id = 'card_spend_cny' AND CAST(s.value AS DOUBLE) >= 30000
			WHERE a.tag_id = 'aum' AND CAST(a.value AS DOUBLE) >= 2000000`,
	}
	ours := b.OurParty(t)
	planted := map[string]map[string]bool{}
	for _, r := range b.Truth(t, "behaviours.csv") {
		if planted[r[1]] == nil {
			planted[r[1]] = map[string]bool{}
		}
		planted[r[1]][ours[r[0]]] = true
	}
	for behaviour, q := range conditions {
		want := planted[behaviour]
		if len(want) == 0 {
			t.Errorf("%s: the generated bank planted none", behaviour)
			continue
		}
		got := map[string]bool{}
		for scan := range sqltest.Rows(t, b.W.DB(), q) {
			var p string
			scan(&p)
			got[p] = true
		}
		hit := 0
		for p := range want {
			if got[p] {
				hit++
			}
		}
		recall := float64(hit) / float64(len(want))
		precision := 1.0
		if len(got) > 0 {
			precision = float64(hit) / float64(len(got))
		}
		t.Logf("%-28s planted %3d, tagged %3d: recall %.2f precision %.2f", behaviour, len(want), len(got), recall, precision)
		if recall < 0.9 || precision < 0.9 {
			t.Errorf("%s: recall %.2f, precision %.2f; want both ≥ 0.9", behaviour, recall, precision)
		}
	}
}
