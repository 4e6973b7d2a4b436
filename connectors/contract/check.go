package contract

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Check is a condition a row must meet against the warehouse as it loads:
// what cannot be known from the row alone, such as whether the signal or
// the party it answers exists. A row that fails it is moved to ops.rejects
// with Reason and Detail, in the load's transaction.
type Check struct {
	// Reason is the reject reason: one of CheckReasons.
	Reason string `yaml:"reason"`
	// Valid is a DuckDB boolean expression over the row, named r (r.ce_id),
	// that may query the warehouse: r.ce_id IS NULL OR r.ce_id IN (SELECT
	// event_id FROM ops.outbox). NULL counts as false.
	Valid string `yaml:"valid"`
	// Detail is the reject's detail, with {column} standing for the row's
	// value: "ce_id {ce_id} is no event cdp published".
	Detail string `yaml:"detail"`
}

// CheckReasons are the reasons a check may give.
var CheckReasons = []string{ReasonUnknownSignal, ReasonUnknownParty, ReasonMissing, ReasonDate, ReasonValue}

var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// check reports what is wrong with a check of an entity with these columns.
func (c Check) check(columns map[string]bool) []string {
	var out []string
	if !slices.Contains(CheckReasons, c.Reason) {
		out = append(out, fmt.Sprintf("reason: %q is not one of %s", c.Reason, strings.Join(CheckReasons, ", ")))
	}
	if strings.TrimSpace(c.Valid) == "" {
		out = append(out, "valid: the condition a row must meet is missing")
	}
	if c.Detail == "" {
		out = append(out, "detail: the reject's detail is missing")
	}
	for _, m := range placeholder.FindAllStringSubmatch(c.Detail, -1) {
		if !columns[m[1]] {
			out = append(out, fmt.Sprintf("detail: {%s} is not a column of the entity", m[1]))
		}
	}
	return out
}

// DetailSQL is the check's detail as a DuckDB expression over the row r.
func (c Check) DetailSQL() string {
	var parts []string
	rest := c.Detail
	last := 0
	for _, loc := range placeholder.FindAllStringSubmatchIndex(rest, -1) {
		parts = append(parts, quote(rest[last:loc[0]]), "coalesce(CAST(r."+rest[loc[2]:loc[3]]+" AS VARCHAR), '')")
		last = loc[1]
	}
	parts = append(parts, quote(rest[last:]))
	return strings.Join(parts, " || ")
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
