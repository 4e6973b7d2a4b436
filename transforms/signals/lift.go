package signals

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// Lift: what a rule adds, measured against its holdout group
// (mart.signal_lift_observations: each signal a rule opened, each customer
// it held out, and whether they took the rule's product within the
// holdout's conversion_days).
//
// With n_t treated customers of whom c_t converted, and n_h held out of
// whom c_h converted, the rates are p_t = c_t/n_t and p_h = c_h/n_h and the
// lift is p_t − p_h. Its 95% interval is Newcombe's hybrid score interval
// for a difference of two independent proportions (Newcombe 1998, method
// 10): with each rate's Wilson score interval [l, u],
//
//	lower = (p_t − p_h) − √((p_t − l_t)² + (u_h − p_h)²)
//	upper = (p_t − p_h) + √((u_t − p_t)² + (p_h − l_h)²)
//
// It agrees with the textbook normal interval on large groups and, unlike
// it, stays honest when a group is small or converts rarely (a holdout of
// 40 customers with none converted is not evidence of a sure thing).
//
// The incremental conversions are the lift times n_t (what the treated
// would not have bought without the signal), and the incremental value
// those times the treated conversions' mean amount.

// LiftOptions choose a lift report.
type LiftOptions struct {
	Rule     string    // one rule; empty: every rule with a holdout group
	From, To time.Time // observations from these days (zero: no bound)
}

// LiftRow is one rule's lift.
type LiftRow struct {
	Rule                   string  `json:"rule_id"`
	Treated                int64   `json:"treated"`
	TreatedConverted       int64   `json:"treated_converted"`
	TreatedRate            float64 `json:"treated_rate"`
	Holdout                int64   `json:"holdout"`
	HoldoutConverted       int64   `json:"holdout_converted"`
	HoldoutRate            float64 `json:"holdout_rate"`
	Lift                   float64 `json:"lift"`
	LiftLow                float64 `json:"lift_low"`
	LiftHigh               float64 `json:"lift_high"`
	IncrementalConversions float64 `json:"incremental_conversions"`
	IncrementalValue       float64 `json:"incremental_value"`
	// Measurable is false without a treated and a held-out customer.
	Measurable bool `json:"measurable"`
}

// LiftReport is a lift report.
type LiftReport struct {
	From string    `json:"from,omitempty"`
	To   string    `json:"to,omitempty"`
	Rows []LiftRow `json:"rules"`
}

// Lift computes each rule's lift in the window.
func Lift(ctx context.Context, db *sql.DB, o LiftOptions) (*LiftReport, error) {
	rep := &LiftReport{}
	where, args := dayWindow("since", o.From, o.To, &rep.From, &rep.To)
	if o.Rule != "" {
		where += " AND rule_id = ?"
		args = append(args, o.Rule)
	}
	rows, err := db.QueryContext(ctx, `SELECT rule_id,
			count(*) FILTER (grp = 'treated'), count(*) FILTER (grp = 'treated' AND converted),
			count(*) FILTER (grp = 'holdout'), count(*) FILTER (grp = 'holdout' AND converted),
			CAST(coalesce(sum(converted_amount) FILTER (grp = 'treated' AND converted), 0) AS DOUBLE)
		FROM mart.signal_lift_observations WHERE `+where+` GROUP BY rule_id ORDER BY rule_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("signals lift: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r LiftRow
		var amount float64
		if err := rows.Scan(&r.Rule, &r.Treated, &r.TreatedConverted, &r.Holdout, &r.HoldoutConverted, &amount); err != nil {
			return nil, err
		}
		r.compute(amount)
		rep.Rows = append(rep.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if o.Rule != "" && len(rep.Rows) == 0 {
		return nil, fmt.Errorf("signals lift: rule %s has no signal and no holdout in the window (is its holdout share 0?)", o.Rule)
	}
	return rep, nil
}

// compute fills the rates, the lift, its interval and the increments.
func (r *LiftRow) compute(treatedAmount float64) {
	if r.Treated == 0 || r.Holdout == 0 {
		return
	}
	r.Measurable = true
	pt, ph := float64(r.TreatedConverted)/float64(r.Treated), float64(r.HoldoutConverted)/float64(r.Holdout)
	r.TreatedRate, r.HoldoutRate, r.Lift = pt, ph, pt-ph
	lt, ut := wilson(pt, float64(r.Treated))
	lh, uh := wilson(ph, float64(r.Holdout))
	r.LiftLow = r.Lift - math.Sqrt((pt-lt)*(pt-lt)+(uh-ph)*(uh-ph))
	r.LiftHigh = r.Lift + math.Sqrt((ut-pt)*(ut-pt)+(ph-lh)*(ph-lh))
	r.IncrementalConversions = r.Lift * float64(r.Treated)
	if r.TreatedConverted > 0 {
		r.IncrementalValue = r.IncrementalConversions * treatedAmount / float64(r.TreatedConverted)
	}
}

// z is the normal quantile of a two-sided 95% interval.
const z = 1.959964

// wilson is the Wilson score interval of a proportion p of n.
func wilson(p, n float64) (float64, float64) {
	d := 1 + z*z/n
	c := (p + z*z/(2*n)) / d
	h := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / d
	return c - h, c + h
}
