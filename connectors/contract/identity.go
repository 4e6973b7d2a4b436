package contract

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Identity declares that an entity's records describe customers, so they
// take part in unification without code: which column is the system's
// customer key, how a record tells a person from a company, which columns
// carry the identity attributes, and how far the system is trusted for
// each attribute of the golden record.
type Identity struct {
	// System names the source in lineage (system:key) and in trust orders;
	// default: the feed.
	System string `yaml:"system"`
	// Key is the column holding the system's own customer key.
	Key string `yaml:"key"`
	// PartyType: a constant (P or C), or a column and the values of it
	// that mean a company (every other value, or none, is a person).
	PartyType PartyType `yaml:"party_type"`
	// Attributes maps identity attributes (IdentityAttributes) to columns.
	Attributes map[string]string `yaml:"attributes"`
	// Trust ranks the system per golden-record attribute (name, id_no,
	// birth_date, mobile, other) or "default": 1 is trusted first.
	Trust map[string]int `yaml:"trust"`
}

// PartyType says how a record tells a person from a company.
type PartyType struct {
	Const     string   `yaml:"const"`
	Column    string   `yaml:"column"`
	Companies []string `yaml:"companies"`
}

// IdentityAttributes are the attributes a customer entity may declare.
var IdentityAttributes = []string{"name", "id_type", "id_no", "mobile", "birth_date", "industry_code", "annual_revenue",
	"legal_rep_name", "legal_rep_id_no", "employer", "annual_income", "risk_level", "segment", "rm_id", "branch_code"}

// TrustKeys are the keys of Identity.Trust.
var TrustKeys = []string{"default", "name", "id_no", "birth_date", "mobile", "other"}

func checkIdentity(id *Identity, feed string, columns map[string]bool) []string {
	var out []string
	if id.System == "" {
		id.System = feed
	}
	if !identifier.MatchString(id.System) {
		out = append(out, fmt.Sprintf("system: %q is not a lower-case name", id.System))
	}
	if !columns[id.Key] {
		out = append(out, fmt.Sprintf("key: %q is not a column of the entity", id.Key))
	}
	pt := id.PartyType
	switch {
	case pt.Const != "" && pt.Column != "":
		out = append(out, "party_type: give const: or column:, not both")
	case pt.Const != "" && pt.Const != "P" && pt.Const != "C":
		out = append(out, fmt.Sprintf("party_type.const: %q is not P or C", pt.Const))
	case pt.Const == "" && !columns[pt.Column]:
		out = append(out, fmt.Sprintf("party_type.column: %q is not a column of the entity (or give const: P)", pt.Column))
	}
	for _, a := range slices.Sorted(maps.Keys(id.Attributes)) {
		switch {
		case !slices.Contains(IdentityAttributes, a):
			out = append(out, fmt.Sprintf("attributes.%s: not an identity attribute (%s)", a, strings.Join(IdentityAttributes, ", ")))
		case !columns[id.Attributes[a]]:
			out = append(out, fmt.Sprintf("attributes.%s: %q is not a column of the entity", a, id.Attributes[a]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(id.Trust)) {
		if !slices.Contains(TrustKeys, k) {
			out = append(out, fmt.Sprintf("trust.%s: trust ranks are for %s", k, strings.Join(TrustKeys, ", ")))
		} else if id.Trust[k] < 1 {
			out = append(out, fmt.Sprintf("trust.%s: a rank is 1 (trusted first) or more", k))
		}
	}
	return out
}
