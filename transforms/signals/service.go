package signals

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"cdp/warehouse"
)

// Service standards by tier (分层服务): how often a tier's customers must
// be contacted, and visited, each month or quarter. Every signal run
// rebuilds mart.service_coverage as of its day — per customer with a
// standard: the period, the contacts and visits every business line made
// in it so far (the contact feed, any purpose), what the standard asks,
// the days left, and met, on_track or at_risk (not met with
// Service.WarnDays or fewer days left) — or incomplete, when the contact
// feed began after the period did (nobody is reminded on half a history). The built-in rule
// svc_standard_at_risk turns at_risk into a service signal to the RM; like
// alerts it is exempt from the marketing limits.

// Standard is one tier's service standard.
type Standard struct {
	Contacts int    `yaml:"contacts"` // contacts per period, every line and channel
	Visits   int    `yaml:"visits"`   // of which visits
	Period   string `yaml:"period"`   // month or quarter
}

// Service is signals.service in cdp.yaml.
type Service struct {
	// Standards by tier (core, growth, base); default 战略核心 4 contacts a
	// month of which 2 visits, 重点培育 2 a month with 1 visit, 潜力挖掘 3 a
	// quarter with 1 visit. A tier left out has no standard.
	Standards map[string]Standard `yaml:"standards"`
	// WarnDays: a customer who has not met the standard with this many
	// days of the period left is at risk. Default 10.
	WarnDays int `yaml:"warn_days"`
}

func (s Service) withDefaults() Service {
	if s.Standards == nil {
		s.Standards = map[string]Standard{
			"core":   {Contacts: 4, Visits: 2, Period: "month"},
			"growth": {Contacts: 2, Visits: 1, Period: "month"},
			"base":   {Contacts: 3, Visits: 1, Period: "quarter"},
		}
	}
	for tier, st := range s.Standards {
		if st.Period == "" {
			st.Period = "month"
			s.Standards[tier] = st
		}
	}
	if s.WarnDays == 0 {
		s.WarnDays = 10
	}
	return s
}

func (s Service) check() []string {
	var out []string
	for tier, st := range s.Standards {
		at := "service.standards." + tier
		switch {
		case tier != "core" && tier != "growth" && tier != "base":
			out = append(out, fmt.Sprintf("service.standards: %q is not a tier (core, growth or base)", tier))
		case st.Contacts < 0 || st.Visits < 0 || st.Visits > st.Contacts:
			out = append(out, fmt.Sprintf("%s: contacts and visits must be 0 or more, visits at most contacts (%d, %d)", at, st.Contacts, st.Visits))
		case st.Period != "" && st.Period != "month" && st.Period != "quarter":
			out = append(out, fmt.Sprintf("%s.period: %q is not month or quarter", at, st.Period))
		}
	}
	if s.WarnDays < 0 {
		out = append(out, fmt.Sprintf("service.warn_days: must be 1 or more, not %d", s.WarnDays))
	}
	sort.Strings(out)
	return out
}

// coveragePerGiB is how many parties' coverage is built at once per GiB of
// DuckDB's memory limit: 1M parties fitted its 4.7 GiB in one statement,
// 5M did not.
const coveragePerGiB = 300_000

// coverageParts, when positive, is the number of parts (tests set it).
var coverageParts int64

// buildCoverage rebuilds mart.service_coverage as of asOf, in as many
// parts (by a hash of the party) as DuckDB's memory limit (bytes) needs.
func buildCoverage(ctx context.Context, conn *sql.Conn, s Service, asOf string, duckdb int64) error {
	var has int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mart' AND table_name = 'value_tier'`).Scan(&has); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM mart.service_coverage`); err != nil {
		return fmt.Errorf("mart.service_coverage: %w", err)
	}
	if has == 0 || len(s.Standards) == 0 {
		return nil // no tiers yet (cdp tiers), or no standards: nobody has one
	}
	var rows []string
	tiers := make([]string, 0, len(s.Standards))
	for t := range s.Standards {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	for _, t := range tiers {
		st := s.Standards[t]
		rows = append(rows, fmt.Sprintf("(%s, %d, %d, %s)", lit(t), st.Contacts, st.Visits, lit(st.Period)))
	}
	// Once for the run, not in every part: the RM of each party's team
	// (core.team_as_of reads the whole roster), the contacts of the longest
	// period (a quarter holds the month; core.contact resolves every contact
	// to its party) and the day the contact feed begins.
	prep := []string{
		`CREATE OR REPLACE TEMP TABLE cdp_coverage_rm AS
		 SELECT party_id, min(member_id) AS rm_id FROM core.team_as_of(DATE ` + lit(asOf) + `)
		 WHERE role = 'RM' GROUP BY party_id`,
		`CREATE OR REPLACE TEMP TABLE cdp_coverage_contacts AS
		 SELECT party_id, contact_id, channel, CAST(contact_time AS DATE) AS day FROM core.contact
		 WHERE party_id IS NOT NULL
		   AND CAST(contact_time AS DATE) BETWEEN CAST(date_trunc('quarter', DATE ` + lit(asOf) + `) AS DATE) AND DATE ` + lit(asOf),
	}
	for _, q := range prep {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mart.service_coverage: %w", err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS cdp_coverage_rm; DROP TABLE IF EXISTS cdp_coverage_contacts`)
	// core.contact has a row for each raw row (its joins are on unique keys).
	var feedBegins sql.NullTime
	var contacts bool
	if err := conn.QueryRowContext(ctx, `SELECT min(CAST(contact_time AS DATE)), count(*) > 0 FROM raw.contact_contacts`).Scan(&feedBegins, &contacts); err != nil {
		return fmt.Errorf("mart.service_coverage: the contact feed's first day: %w", err)
	}
	q := `INSERT INTO mart.service_coverage
		WITH std(tier, contacts_required, visits_required, period) AS (VALUES ` + strings.Join(rows, ", ") + `),
		day AS (SELECT CAST($1 AS DATE) AS d),
		p AS (
			SELECT v.party_id, v.tier, v.tier_zh, s.contacts_required, s.visits_required, s.period,
			       CAST(date_trunc(s.period, day.d) AS DATE) AS period_start,
			       CAST(date_trunc(s.period, day.d) + CASE s.period WHEN 'quarter' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 MONTH END - INTERVAL 1 DAY AS DATE) AS period_end,
			       day.d AS as_of
			FROM mart.value_tier v JOIN std s USING (tier) CROSS JOIN day
			WHERE {part}
		), c AS (
			SELECT p.party_id, count(k.contact_id) AS contacts, count(k.contact_id) FILTER (k.channel = 'VISIT') AS visits
			FROM p LEFT JOIN cdp_coverage_contacts k ON k.party_id = p.party_id AND k.day BETWEEN p.period_start AND p.as_of
			GROUP BY p.party_id
		)
		SELECT p.party_id, p.tier, p.tier_zh, p.period, p.period_start, p.period_end, c.contacts, c.visits,
		       p.contacts_required, p.visits_required, CAST(p.period_end - p.as_of AS INTEGER) AS days_left,
		       CASE WHEN c.contacts >= p.contacts_required AND c.visits >= p.visits_required THEN 'met'
		            -- The contact feed began after the period did: its contacts
		            -- before the feed are unknown, so the standard is not judged.
		            WHEN CAST($3 AS DATE) > p.period_start OR NOT $4 THEN 'incomplete'
		            WHEN p.period_end - p.as_of <= $2 THEN 'at_risk' ELSE 'on_track' END AS status,
		       tm.rm_id, nullif(cp.branch_code, '') AS branch_code, p.as_of
		FROM p JOIN c USING (party_id) LEFT JOIN core.party cp USING (party_id)
		-- The RM of the party's service team (the roster's, else the golden record's).
		LEFT JOIN cdp_coverage_rm tm USING (party_id)`
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM mart.value_tier`).Scan(&n); err != nil {
		return fmt.Errorf("mart.service_coverage: %w", err)
	}
	parts := warehouse.Parts(n, coveragePerGiB, duckdb)
	if coverageParts > 0 {
		parts = coverageParts
	}
	for part := range parts {
		cond := "true"
		if parts > 1 {
			cond = fmt.Sprintf("hash(v.party_id) %% %d = %d", parts, part)
		}
		if _, err := conn.ExecContext(ctx, strings.Replace(q, "{part}", cond, 1), asOf, s.WarnDays, feedBegins, contacts); err != nil {
			if parts > 1 {
				err = fmt.Errorf("part %d of %d: %w", part+1, parts, err)
			}
			return fmt.Errorf("mart.service_coverage: %w", err)
		}
	}
	return nil
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
