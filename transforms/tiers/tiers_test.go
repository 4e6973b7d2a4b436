package tiers_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tiers"
)

// TestBuild_ReproducesThePlantedTierMix: on a generated bank the tiers come
// out 15/35/50 within ±3 points for persons and for companies, and nearly
// every party gets the tier the generator planted.
func TestBuild_ReproducesThePlantedTierMix(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 4000, Days: 2, Seed: 3})
	sum, err := tiers.Build(context.Background(), b.W, tiers.Config{}, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"core": 0.15, "growth": 0.35, "base": 0.50}
	seen := 0
	for _, m := range sum.Mix {
		if d := math.Abs(m.Share - want[m.Tier]); d > 0.03 {
			t.Errorf("%s %s: %.1f%% of parties, want %.0f%% ± 3", m.PartyType, m.Tier, 100*m.Share, 100*want[m.Tier])
		}
		seen++
	}
	if seen != 6 {
		t.Errorf("mix has %d rows, want 3 tiers × 2 party types: %+v", seen, sum.Mix)
	}
	ours := b.OurParty(t)
	tier := map[string]string{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT party_id, tier FROM mart.value_tier`) {
		var p, tr string
		scan(&p, &tr)
		tier[p] = tr
	}
	truthName := map[string]string{"core": "core", "growth": "growth", "base": "base"}
	agree, total := 0, 0
	for _, r := range b.Truth(t, "parties.csv") {
		total++
		if tier[ours[r[0]]] == truthName[r[2]] {
			agree++
		}
	}
	if agree < total*97/100 {
		t.Errorf("%d of %d parties have the planted tier, want ≥ 97%%", agree, total)
	}
	t.Logf("%d of %d parties have the planted tier", agree, total)

	// Every row keeps the inputs that decided it, and the scores are in range.
	var bad int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM mart.value_tier WHERE basis_value IS NULL OR tier_basis NOT IN ('aum', 'annual_revenue')
		OR value_score NOT BETWEEN 0 AND 100 OR recency NOT BETWEEN 1 AND 5 OR lifecycle NOT IN ('new', 'growing', 'mature', 'declining', 'dormant')`).Scan(&bad)
	if bad != 0 {
		t.Errorf("%d rows with missing inputs or out-of-range scores", bad)
	}
	var stages int
	sqltest.Row(t, b.W.DB(), `SELECT count(DISTINCT lifecycle) FROM mart.value_tier`).Scan(&stages)
	if stages < 2 {
		t.Errorf("only %d lifecycle stage(s) on the generated bank", stages)
	}
	// A rebuild over the same input scores every party the same, ties
	// (many parties active on the same last day) included.
	if _, err := b.W.DB().Exec(`CREATE TABLE main.first_build AS SELECT * FROM mart.value_tier`); err != nil {
		t.Fatal(err)
	}
	if _, err := tiers.Build(context.Background(), b.W, tiers.Config{}, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	var differ int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM (SELECT * FROM mart.value_tier EXCEPT ALL SELECT * FROM main.first_build)`).Scan(&differ)
	if differ != 0 {
		t.Errorf("a rebuild over the same input changed %d parties' rows", differ)
	}
}

func TestConfig_ChecksThresholdsAndWeights(t *testing.T) {
	c := tiers.Config{CompanyRevenue: []float64{1e8, 5e8}, Weights: tiers.Weights{Historical: 0.5, Potential: 0.5, Strategic: 0.5}}.WithDefaults()
	problems := strings.Join(c.Check(), "\n")
	for _, want := range []string{"company_revenue: want two floors, core above growth", "weights: historical, potential and strategic must be ≥ 0 and add up to 1"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if p := tiers.DefaultConfig().Check(); len(p) != 0 {
		t.Errorf("the defaults have problems: %v", p)
	}
}
