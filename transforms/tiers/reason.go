package tiers

import (
	"fmt"
	"strings"
)

// ListReason explains a tier set by the approved key-account list (名单制):
// the entry's reason, who approved it and until when, and the tier the
// criteria give (computed). approvedOn and validTo are dates or "".
func ListReason(reason, approver, approvedOn, validTo, computed string) string {
	s := "approved key-account list (名单制): " + reason + " (approved by " + approver
	if approvedOn != "" {
		s += " on " + approvedOn
	}
	if validTo != "" {
		s += ", until " + validTo
	}
	return s + "); by the criteria: " + computed
}

// ScoreReason says how a party's value score is made up with the weights
// of c (defaulted); the score orders parties within a tier.
func (c Config) ScoreReason(historical, potential, strategic, score float64) string {
	w := c.Weights
	return strings.TrimSpace(fmt.Sprintf("value score %.1f = %.2g × historical %.1f + %.2g × potential %.1f + %.2g × strategic %.1f; it orders parties within the tier",
		score, w.Historical, historical, w.Potential, potential, w.Strategic, strategic))
}
