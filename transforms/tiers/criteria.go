package tiers

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"cdp/transforms/core"
	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// Criterion is one way into a tier (tiers: criteria: in cdp.yaml): a party
// of the type whose measure reaches min is in the tier, if it is in one of
// the industry groups and stages the criterion names (when it names any).
// A party's tier is the highest whose criteria it meets, any of them.
type Criterion struct {
	Tier           string   `yaml:"tier"`       // core or growth
	PartyType      string   `yaml:"party_type"` // C or P
	Measure        string   `yaml:"measure"`    // one of Measures
	Min            float64  `yaml:"min"`
	IndustryGroups []string `yaml:"industry_groups"` // companies: only in these groups (core.IndustryGroups)
	Stages         []string `yaml:"stages"`          // companies: only at these stages (startup, growth, mature)
}

// Measure is what a criterion compares: a mart.value_tier column.
type Measure struct {
	Label string // how a reason names it
	// Kind: "money" (CNY now), "average" (a daily average over the last
	// twelve months), "flow" (a sum over the last twelve months, scaled to
	// a year when fewer days are known), "score" (0–100).
	Kind string
	Doc  string
}

// Measures are the measures a criterion may use, by name (the column of
// mart.value_tier that holds each).
var Measures = map[string]Measure{
	"annual_revenue":   {"annual revenue", "money", "a company's annual revenue (golden record)"},
	"annual_income":    {"annual income", "money", "a person's declared annual income (golden record)"},
	"aum":              {"AUM", "money", "assets under management on the tiers' day: wealth holdings and deposits"},
	"credit_balance":   {"credit balance", "money", "active loans' balance"},
	"deposit_adb_12m":  {"12-month daily-average deposits", "average", "deposits' average daily balance over the last twelve months (日均存款)"},
	"loan_adb_12m":     {"12-month daily-average loans", "average", "loans' average daily balance over the last twelve months (年贷款规模)"},
	"fee_income_12m":   {"12-month fee and commission income", "flow", "fees and commissions over the last twelve months (中间业务收入)"},
	"nii_12m":          {"12-month net interest income", "flow", "net interest income against the FTP over the last twelve months"},
	"contribution_12m": {"12-month contribution", "flow", "net interest plus fees over the last twelve months (综合贡献度)"},
	"value_score":      {"value score", "score", "the key-account value score, 0–100 (historical, potential, strategic value)"},
}

// Stages are the enterprise stages a criterion may name.
var Stages = []string{"startup", "growth", "mature"}

// criteria is c's criteria, or, when it declares none, the floors of
// company_revenue and person_aum as criteria (the tiers before criteria).
func (c Config) criteria() []Criterion {
	if len(c.Criteria) > 0 {
		return c.Criteria
	}
	var out []Criterion
	if len(c.CompanyRevenue) == 2 {
		out = append(out, Criterion{Tier: "core", PartyType: "C", Measure: "annual_revenue", Min: c.CompanyRevenue[0]},
			Criterion{Tier: "growth", PartyType: "C", Measure: "annual_revenue", Min: c.CompanyRevenue[1]})
	}
	if len(c.PersonAUM) == 2 {
		out = append(out, Criterion{Tier: "core", PartyType: "P", Measure: "aum", Min: c.PersonAUM[0]},
			Criterion{Tier: "growth", PartyType: "P", Measure: "aum", Min: c.PersonAUM[1]})
	}
	return out
}

func (c Config) checkCriteria() []string {
	var out []string
	for i, k := range c.Criteria {
		bad := func(f string, a ...any) {
			out = append(out, fmt.Sprintf("criteria[%d]: %s", i, fmt.Sprintf(f, a...)))
		}
		if k.Tier != "core" && k.Tier != "growth" {
			bad("tier %q: want core or growth (base is what meets no criterion)", k.Tier)
		}
		if k.PartyType != "C" && k.PartyType != "P" {
			bad("party_type %q: want C (companies) or P (persons)", k.PartyType)
		}
		if _, ok := Measures[k.Measure]; !ok {
			names := make([]string, 0, len(Measures))
			for n := range Measures {
				names = append(names, n)
			}
			slices.Sort(names)
			bad("measure %q: want one of %s", k.Measure, strings.Join(names, ", "))
		}
		if k.Min < 0 || math.IsNaN(k.Min) || math.IsInf(k.Min, 0) {
			bad("min %v: want a number, 0 or more", k.Min)
		}
		for _, g := range k.IndustryGroups {
			if !slices.Contains(core.IndustryGroups, g) {
				bad("industry_groups: %q: want one of %s", g, strings.Join(core.IndustryGroups, ", "))
			}
		}
		for _, s := range k.Stages {
			if !slices.Contains(Stages, s) {
				bad("stages: %q: want one of %s", s, strings.Join(Stages, ", "))
			}
		}
		if k.PartyType == "P" && len(k.IndustryGroups)+len(k.Stages) > 0 {
			bad("industry_groups and stages are for companies (party_type C)")
		}
	}
	return out
}

// criteriaSQL is what value_tier.sql needs of the criteria, as SQL over
// the columns of its scored rows: the computed tier, the reason (each
// criterion of the tier that held with its value, then those of the tiers
// above it that did not: a growth party hears which core criteria it
// missed, a base party the growth and then the core ones), the first
// measure that decided it (basis) and its value.
type criteriaSQL struct{ tier, reason, basis, basisValue string }

func (c Config) criteriaSQL() criteriaSQL {
	ks := c.criteria()
	num := sqltext.Number
	type part struct {
		k                                Criterion
		applies, value, met, held, short string
	}
	var parts []part
	for _, k := range ks {
		m := Measures[k.Measure]
		col := k.Measure
		value := col
		if m.Kind == "flow" {
			value = "CASE WHEN measure_days BETWEEN 1 AND 364 THEN " + col + " * 365.0 / measure_days ELSE " + col + " END"
		}
		applies := "party_type = " + sqltext.String(k.PartyType)
		var cond []string
		if len(k.IndustryGroups) > 0 {
			applies += " AND list_has_any(industry_groups, " + warehouse.ListLiteral(k.IndustryGroups) + ")"
			cond = append(cond, strings.Join(k.IndustryGroups, "/"))
		}
		if len(k.Stages) > 0 {
			applies += " AND list_contains(" + warehouse.ListLiteral(k.Stages) + ", enterprise_stage)"
			cond = append(cond, strings.Join(k.Stages, "/"))
		}
		show := func(v string) string {
			if m.Kind == "score" {
				return "format('{:.1f}', CAST(" + v + " AS DOUBLE))"
			}
			// whole yuan, or with the cents when it has them (an
			// annualised figure a cent below a floor must not read as the floor)
			d := "CAST(" + v + " AS DOUBLE)"
			return "'CNY ' || CASE WHEN " + d + " = round(" + d + ") THEN format('{:,.0f}', " + d + ") ELSE format('{:,.2f}', " + d + ") END"
		}
		text := sqltext.String(m.Label+" ") + " || " + show("coalesce("+value+", 0)")
		switch m.Kind {
		case "flow":
			text += " || CASE WHEN measure_days BETWEEN 1 AND 364 THEN ' (' || " + show("coalesce("+col+", 0)") +
				" || ' over ' || measure_days || ' days, × 365/' || measure_days || ')' ELSE '' END"
		case "average":
			text += " || CASE WHEN measure_days BETWEEN 1 AND 364 THEN ' (over ' || measure_days || ' days)' ELSE '' END"
		}
		prefix := ""
		if len(cond) > 0 {
			prefix = "[" + strings.Join(cond, ", ") + "] "
		}
		floor := func(op string) string {
			return "(" + sqltext.String(prefix) + " || " + text + " || " + sqltext.String(" "+op+" the "+k.Tier+" floor ") + " || " + show(num(k.Min)) + ")"
		}
		parts = append(parts, part{k: k, applies: applies, value: value,
			met:  "(" + applies + " AND coalesce(" + value + ", 0) >= " + num(k.Min) + ")",
			held: floor("≥"), short: floor("<")})
	}
	of := func(tier string) []part {
		var out []part
		for _, p := range parts {
			if p.k.Tier == tier {
				out = append(out, p)
			}
		}
		return out
	}
	anyMet := func(ps []part) string {
		if len(ps) == 0 {
			return "false"
		}
		var or []string
		for _, p := range ps {
			or = append(or, p.met)
		}
		return "(" + strings.Join(or, " OR ") + ")"
	}
	core, growth := of("core"), of("growth")
	tier := "CASE WHEN " + anyMet(core) + " THEN 'core' WHEN " + anyMet(growth) + " THEN 'growth' ELSE 'base' END"
	// concat_ws skips NULLs: each CASE without ELSE adds a text only when
	// its condition holds.
	texts := func(ps []part, met bool) string {
		out := []string{"'; '"}
		for _, p := range ps {
			if met {
				out = append(out, "CASE WHEN "+p.met+" THEN "+p.held+" END")
			} else {
				out = append(out, "CASE WHEN "+p.applies+" AND NOT "+p.met+" THEN "+p.short+" END")
			}
		}
		if len(out) == 1 {
			return "NULL"
		}
		return "nullif(concat_ws(" + strings.Join(out, ", ") + "), '')"
	}
	reason := "CASE " + tier +
		" WHEN 'core' THEN " + texts(core, true) +
		" WHEN 'growth' THEN concat_ws('; ', " + texts(growth, true) + ", " + texts(core, false) + ")" +
		" ELSE coalesce(nullif(concat_ws('; ', " + texts(growth, false) + ", " + texts(core, false) + "), ''), 'no tier criterion applies to this party') END"
	first := func(ps []part, met bool, what func(part) string) string {
		var whens []string
		for _, p := range ps {
			cond := p.applies
			if met {
				cond = p.met
			}
			whens = append(whens, "WHEN "+cond+" THEN "+what(p))
		}
		return strings.Join(whens, " ")
	}
	caseOf := func(whens string) string {
		if strings.TrimSpace(whens) == "" {
			return "NULL"
		}
		return "CASE " + whens + " END"
	}
	basisOf := func(what func(part) string) string {
		return "CASE " + tier +
			" WHEN 'core' THEN " + caseOf(first(core, true, what)) +
			" WHEN 'growth' THEN " + caseOf(first(growth, true, what)) +
			" ELSE " + caseOf(first(growth, false, what)+" "+first(core, false, what)) + " END"
	}
	name := func(p part) string { return sqltext.String(p.k.Measure) }
	val := func(p part) string { return "CAST(coalesce(" + p.value + ", 0) AS DOUBLE)" }
	return criteriaSQL{tier: tier, reason: reason, basis: basisOf(name), basisValue: basisOf(val)}
}
