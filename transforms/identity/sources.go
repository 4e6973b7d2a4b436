package identity

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Source is one system's customer records as its feed contract declares
// them (the contract's identity: block): the pipeline turns each such
// entity into a Source, so a system added by a contract takes part in
// unification without code.
type Source struct {
	System string // names the records in lineage (system:key) and trust orders
	Entity string // the contract entity, as ops.loads names it (credit.customers)
	Table  string // its raw table
	Key    string // the column of the system's customer key
	// PartyConst is P or C for every record; else PartyColumn's values in
	// Companies make a company, any other a person.
	PartyConst  string
	PartyColumn string
	Companies   []string
	// Attributes maps identity attributes (Attributes) to columns.
	Attributes map[string]string
	// Trust ranks the system per golden-record attribute or "default"
	// (1 first); a system without a rank comes after those with one.
	Trust map[string]int
}

// Attributes are the identity attributes a source may carry, in the
// order unification reads them.
var Attributes = []string{"name", "id_type", "id_no", "mobile", "birth_date", "industry_code", "annual_revenue",
	"legal_rep_name", "legal_rep_id_no", "employer", "annual_income", "risk_level", "segment", "rm_id", "branch_code"}

// SystemNames lists the sources' systems.
func SystemNames(sources []Source) []string {
	var out []string
	for _, s := range sources {
		if !slices.Contains(out, s.System) {
			out = append(out, s.System)
		}
	}
	return out
}

// trustOrders derives trust orders from the sources' ranks: "default", and
// each attribute some source ranks on its own (by that rank, else the
// default rank, else last). An attribute no source ranks is left out, so
// that it follows the default order, the section's own if it gives one.
func trustOrders(sources []Source) map[string][]string {
	out := map[string][]string{}
	systems := SystemNames(sources)
	for _, attr := range TrustAttributes {
		ranked := attr == "default"
		for _, s := range sources {
			_, own := s.Trust[attr]
			ranked = ranked || own
		}
		if !ranked {
			continue
		}
		rank := func(sys string) int {
			best := 1 << 30
			for _, s := range sources {
				if s.System != sys {
					continue
				}
				if r, ok := s.Trust[attr]; ok {
					best = min(best, r)
				} else if r, ok := s.Trust["default"]; ok {
					best = min(best, r)
				}
			}
			return best
		}
		order := slices.Clone(systems)
		sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
		out[attr] = order
	}
	return out
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// unionSQL selects every customer record row of loads in ({after},
// {upto}] of every source, in one shape.
func unionSQL(sources []Source) string {
	var parts []string
	for _, s := range sources {
		ptype := quote(s.PartyConst)
		if s.PartyConst == "" {
			companies := make([]string, len(s.Companies))
			for i, c := range s.Companies {
				companies[i] = quote(c)
			}
			if len(companies) == 0 {
				ptype = "'P'"
			} else {
				ptype = fmt.Sprintf("CASE WHEN %s IN (%s) THEN 'C' ELSE 'P' END", ident(s.PartyColumn), strings.Join(companies, ", "))
			}
		}
		cols := []string{quote(s.System) + " AS system", fmt.Sprintf("CAST(%s AS VARCHAR) AS source_key", ident(s.Key)), ptype + " AS party_type"}
		for _, a := range Attributes {
			if c, ok := s.Attributes[a]; ok {
				cols = append(cols, fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", ident(c), a))
			} else {
				cols = append(cols, "CAST(NULL AS VARCHAR) AS "+a)
			}
		}
		cols = append(cols, "_source", "_load_id")
		parts = append(parts, fmt.Sprintf("SELECT %s\n    FROM %s WHERE _load_id > {after} AND _load_id <= {upto}", strings.Join(cols, ", "), s.Table))
	}
	return strings.Join(parts, "\n    UNION ALL\n    ")
}

// entityList is the sources' entities as an SQL list.
func entityList(sources []Source) string {
	var q []string
	for _, s := range sources {
		q = append(q, quote(s.Entity))
	}
	return strings.Join(q, ", ")
}

// maxLoadSQL is the newest load of any source ('c') and of the card
// accounts that carry supplementary-card families ('a').
func maxLoadSQL(sources []Source) string {
	var parts []string
	for _, s := range sources {
		parts = append(parts, fmt.Sprintf("SELECT max(_load_id) AS l, 'c' AS t FROM %s", s.Table))
	}
	parts = append(parts, "SELECT max(_load_id), 'a' FROM raw.card_accounts")
	return "SELECT coalesce(max(l), 0), coalesce(max(l) FILTER (t = 'a'), 0) FROM (" + strings.Join(parts, " UNION ALL ") + ")"
}

// entitySystem maps ops.loads.entity to the source's system in SQL.
func entitySystem(sources []Source) string {
	var b strings.Builder
	b.WriteString("CASE entity")
	for _, s := range sources {
		fmt.Fprintf(&b, " WHEN %s THEN %s", quote(s.Entity), quote(s.System))
	}
	b.WriteString(" END")
	return b.String()
}
