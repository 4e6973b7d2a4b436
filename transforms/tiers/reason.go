package tiers

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ListReason explains a tier set by the approved key-account list (名单制):
// the entry's reason, who approved it and until when, and the tier the
// floors give (computed). approvedOn and validTo are dates or "".
func ListReason(reason, approver, approvedOn, validTo, computed string) string {
	s := "approved key-account list (名单制): " + reason + " (approved by " + approver
	if approvedOn != "" {
		s += " on " + approvedOn
	}
	if validTo != "" {
		s += ", until " + validTo
	}
	return s + "); by the floors: " + computed
}

// Reasons explain a party's tier (a mart.value_tier row) with the floors
// of c (defaulted): the basis it was judged on against the floors it met
// or missed, then how its value score is made up.
func (c Config) Reasons(partyType, tier string, basis float64, historical, potential, strategic, score float64) []string {
	floors, what := c.PersonAUM, "AUM"
	if partyType == "C" {
		floors, what = c.CompanyRevenue, "annual revenue"
	}
	if len(floors) != 2 {
		return nil
	}
	p := message.NewPrinter(language.English)
	money := func(v float64) string { return p.Sprintf("CNY %.0f", v) }
	var first string
	switch tier {
	case "core":
		first = fmt.Sprintf("%s %s ≥ the core floor %s", what, money(basis), money(floors[0]))
	case "growth":
		first = fmt.Sprintf("%s %s ≥ the growth floor %s, < the core floor %s", what, money(basis), money(floors[1]), money(floors[0]))
	default:
		first = fmt.Sprintf("%s %s < the growth floor %s", what, money(basis), money(floors[1]))
	}
	w := c.Weights
	second := fmt.Sprintf("value score %.1f = %.2g × historical %.1f + %.2g × potential %.1f + %.2g × strategic %.1f; it orders parties within the tier",
		score, w.Historical, historical, w.Potential, potential, w.Strategic, strategic)
	return []string{first, strings.TrimSpace(second)}
}
