package tiers

import (
	"strings"
	"testing"
)

func TestConfig_ScoreReasonWeighsTheThreeValues(t *testing.T) {
	got := DefaultConfig().ScoreReason(40, 50, 60, 47)
	if !strings.HasPrefix(got, "value score 47.0 = 0.5 × historical 40.0 + 0.3 × potential 50.0 + 0.2 × strategic 60.0") {
		t.Errorf("the score reason: %q", got)
	}
}
