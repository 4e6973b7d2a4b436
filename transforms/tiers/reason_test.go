package tiers

import (
	"strings"
	"testing"
)

func TestConfig_ReasonsNameTheBasisAndTheFloors(t *testing.T) {
	c := DefaultConfig()
	for _, r := range []struct {
		typ, tier string
		basis     float64
		want      string
	}{
		{"P", "core", 7_200_000, "AUM CNY 7,200,000 ≥ the core floor CNY 6,000,000"},
		{"P", "growth", 1_500_000, "AUM CNY 1,500,000 ≥ the growth floor CNY 1,000,000, < the core floor CNY 6,000,000"},
		{"C", "base", 80_000_000, "annual revenue CNY 80,000,000 < the growth floor CNY 100,000,000"},
	} {
		got := c.Reasons(r.typ, r.tier, r.basis, 40, 50, 60, 47)
		if len(got) != 2 || got[0] != r.want {
			t.Errorf("%s %s: %q, want %q first", r.typ, r.tier, got, r.want)
		}
		if !strings.HasPrefix(got[1], "value score 47.0 = 0.5 × historical 40.0 + 0.3 × potential 50.0 + 0.2 × strategic 60.0") {
			t.Errorf("the score reason: %q", got[1])
		}
	}
}
