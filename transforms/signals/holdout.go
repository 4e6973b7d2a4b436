package signals

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Holdout groups. Of the hits the contact policy lets through, a share per
// rule is held out: decided "holdout", logged, never published. Whether a
// customer is held out of a rule is drawn from the party, the rule and the
// period (a month by default): the same on every rerun and every day of the
// period, drawn anew the next. Comparing the conversion of the customers a
// rule reached with that of the ones it held out measures what the rule
// adds (lift.go): both groups are the customers it would really reach.

// Holdout is signals.holdout in cdp.yaml.
type Holdout struct {
	// Kinds: the share held out per kind (cross_sell, churn, risk);
	// default cross_sell 0.10, churn and risk 0 (alerts are never held
	// out unless a project says so).
	Kinds map[string]float64 `yaml:"kinds"`
	// Rules: the share per rule, over its kind's.
	Rules map[string]float64 `yaml:"rules"`
	// Period the draw holds for: month (default), quarter or week.
	Period string `yaml:"period"`
	// ConversionDays: a customer converts when they take the rule's
	// product within this many days of the signal (or of being held out);
	// default 30.
	ConversionDays int `yaml:"conversion_days"`
}

// HoldoutDecision is the decision about a hit drawn into the holdout group.
const HoldoutDecision = "holdout"

func (h Holdout) withDefaults() Holdout {
	kinds := map[string]float64{"cross_sell": 0.10, "churn": 0, "risk": 0, "service": 0}
	for k, v := range h.Kinds {
		kinds[k] = v
	}
	h.Kinds = kinds
	if h.Period == "" {
		h.Period = "month"
	}
	if h.ConversionDays == 0 {
		h.ConversionDays = 30
	}
	return h
}

func (h Holdout) check() []string {
	var out []string
	for _, m := range []struct {
		key string
		v   map[string]float64
	}{{"kinds", h.Kinds}, {"rules", h.Rules}} {
		for k, v := range m.v {
			if v < 0 || v >= 1 {
				out = append(out, fmt.Sprintf("holdout.%s.%s: a share from 0 to below 1 (0.1 is 10%%), not %v", m.key, k, v))
			}
		}
	}
	for k := range h.Kinds {
		if k != "cross_sell" && k != "churn" && k != "risk" && k != "service" {
			out = append(out, fmt.Sprintf("holdout.kinds: %q is not a kind (cross_sell, churn, risk or service)", k))
		}
	}
	switch h.Period {
	case "", "month", "quarter", "week":
	default:
		out = append(out, fmt.Sprintf("holdout.period: %q is not month, quarter or week", h.Period))
	}
	if h.ConversionDays < 0 {
		out = append(out, fmt.Sprintf("holdout.conversion_days: must be 1 or more, not %d", h.ConversionDays))
	}
	sort.Strings(out)
	return out
}

// Share is the share of a rule's signals held out.
func (h Holdout) Share(rule *Rule) float64 {
	if v, ok := h.Rules[rule.ID]; ok {
		return v
	}
	return h.Kinds[rule.Kind]
}

// Salt is the period a business day falls in: 2026-11, 2026-Q4 or 2026-W47.
func (h Holdout) Salt(asOf string) string {
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return asOf
	}
	switch h.Period {
	case "quarter":
		return fmt.Sprintf("%d-Q%d", d.Year(), (int(d.Month())+2)/3)
	case "week":
		y, w := d.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	}
	return d.Format("2006-01")
}

// HeldOut reports whether party is held out of rule in the period of asOf,
// and the draw (uniform in [0, 1)).
func (h Holdout) HeldOut(rule *Rule, party, asOf string) (bool, float64) {
	share := h.Share(rule)
	if share <= 0 {
		return false, 1
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{rule.ID, party, h.Salt(asOf)}, "|")))
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	return u < share, u
}
