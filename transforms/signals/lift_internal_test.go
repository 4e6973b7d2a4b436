package signals

import (
	"math"
	"testing"
)

// The interval is Newcombe's method 10: his worked example, 56/70 against
// 48/80, gives 0.0524 to 0.3339 (Statistics in Medicine 17, 873–890, 1998);
// the normal approximation would give 0.0575 to 0.3425.
func TestLift_NewcombeInterval(t *testing.T) {
	r := LiftRow{Treated: 70, TreatedConverted: 56, Holdout: 80, HoldoutConverted: 48}
	r.compute(0)
	if math.Abs(r.Lift-0.2) > 1e-9 || math.Abs(r.LiftLow-0.0524) > 0.00005 || math.Abs(r.LiftHigh-0.3339) > 0.00005 {
		t.Errorf("56/70 − 48/80: %.4f [%.4f, %.4f], want 0.2000 [0.0524, 0.3339]", r.Lift, r.LiftLow, r.LiftHigh)
	}
	// None of 40 held out converted: not a sure thing.
	r = LiftRow{Treated: 40, TreatedConverted: 4, Holdout: 40}
	r.compute(0)
	if r.LiftLow >= 0 {
		t.Errorf("4/40 − 0/40: the interval [%.4f, %.4f] excludes zero", r.LiftLow, r.LiftHigh)
	}
}
