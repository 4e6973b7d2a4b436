package tiers

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"

	"cdp/transforms/sqltext"
)

// Contribution is tiers: contribution: in cdp.yaml, the prices the
// contribution of every party is computed with (mart.contribution).
type Contribution struct {
	// FTPCurve is the funds transfer price by original tenor, percent a
	// year: linear between points, flat before the first and after the
	// last.
	FTPCurve []CurvePoint `yaml:"ftp_curve"`
	// FXToCNY converts a foreign-currency loan's balance: CNY per unit.
	FXToCNY map[string]float64 `yaml:"fx_to_cny"`
}

// CurvePoint is one tenor of the FTP curve.
type CurvePoint struct {
	Months float64 `yaml:"months"`
	Rate   float64 `yaml:"rate"`
}

// DefaultContribution is an indicative curve and set of rates (late 2026):
// a bank sets its treasury's own.
func DefaultContribution() Contribution {
	return Contribution{
		FTPCurve: []CurvePoint{{0, 1.35}, {3, 1.60}, {6, 1.70}, {12, 1.85}, {36, 2.15}, {60, 2.40}, {120, 2.70}},
		FXToCNY:  map[string]float64{"USD": 7.10, "EUR": 7.75, "HKD": 0.91, "JPY": 0.047, "GBP": 9.05, "SGD": 5.35, "AUD": 4.70},
	}
}

func (c Contribution) withDefaults() Contribution {
	d := DefaultContribution()
	if len(c.FTPCurve) == 0 {
		c.FTPCurve = d.FTPCurve
	}
	if c.FXToCNY == nil {
		c.FXToCNY = d.FXToCNY
	}
	return c
}

func (c Contribution) check() []string {
	var out []string
	for i, p := range c.FTPCurve {
		if p.Months < 0 || (i > 0 && p.Months <= c.FTPCurve[i-1].Months) {
			out = append(out, fmt.Sprintf("contribution: ftp_curve: months must be 0 or more and rise point by point, not %v after %v", p.Months, c.FTPCurve[max(i-1, 0)].Months))
		}
		if p.Rate < -5 || p.Rate > 50 || math.IsNaN(p.Rate) || math.IsNaN(p.Months) || math.IsInf(p.Months, 0) {
			out = append(out, fmt.Sprintf("contribution: ftp_curve: rate is percent a year (like 1.85), not %v", p.Rate))
		}
	}
	for cur, r := range c.FXToCNY {
		if len(cur) != 3 || strings.ToUpper(cur) != cur || !(r > 0) || math.IsInf(r, 0) {
			out = append(out, fmt.Sprintf("contribution: fx_to_cny: %s: want a three-letter currency code and CNY per unit above 0, not %v", cur, r))
		}
	}
	return out
}

// segments is the curve as SQL VALUES rows (from months, to months, rate
// at from, rate at to), the flat ends included.
func (c Contribution) segments() string {
	pts := c.FTPCurve
	n := sqltext.Number
	rows := []string{fmt.Sprintf("(-1e9, %s, %s, %s)", n(pts[0].Months), n(pts[0].Rate), n(pts[0].Rate))}
	for i := 1; i < len(pts); i++ {
		rows = append(rows, fmt.Sprintf("(%s, %s, %s, %s)", n(pts[i-1].Months), n(pts[i].Months), n(pts[i-1].Rate), n(pts[i].Rate)))
	}
	last := pts[len(pts)-1]
	rows = append(rows, fmt.Sprintf("(%s, 1e9, %s, %s)", n(last.Months), n(last.Rate), n(last.Rate)))
	return strings.Join(rows, ", ")
}

// FTP is the curve's rate at a tenor, percent a year rounded to four
// decimals, as the SQL computes it.
func (c Contribution) FTP(months float64) float64 {
	pts := c.withDefaults().FTPCurve
	rate := pts[len(pts)-1].Rate
	if months <= pts[0].Months {
		rate = pts[0].Rate
	} else {
		for i := 1; i < len(pts); i++ {
			if months < pts[i].Months {
				a, b := pts[i-1], pts[i]
				rate = a.Rate + (b.Rate-a.Rate)*(months-a.Months)/(b.Months-a.Months)
				break
			}
		}
	}
	return math.Round(rate*10000) / 10000
}

func (c Contribution) rates() string {
	rows := []string{"('CNY', 1.0)"}
	curs := make([]string, 0, len(c.FXToCNY))
	for cur := range c.FXToCNY {
		if cur != "CNY" {
			curs = append(curs, cur)
		}
	}
	sort.Strings(curs)
	for _, cur := range curs {
		rows = append(rows, fmt.Sprintf("(%s, %s)", sqltext.String(cur), sqltext.Number(c.FXToCNY[cur])))
	}
	return strings.Join(rows, ", ")
}

// ftpAtSQL is the FTP at a row's tenor on its curve segment f, in
// millionths a year: the percent interpolated and rounded to four
// decimals (as FTP does).
const ftpAtSQL = `CAST(round((f.r_from + (f.r_to - f.r_from) * (tenor - f.m_from) / greatest(f.m_to - f.m_from, 1e-9)) * 10000) AS HUGEINT)`

//go:embed contribution.sql
var contributionSQL string

// contribution12mSQL is each party's contribution over the twelve months
// ending with the tiers' day, beside its tier: the figures the criteria
// read (mart.value_tier: cdp's own months, the bank's monthly summary
// before them), with its rank.
const contribution12mSQL = `CREATE OR REPLACE TABLE mart.contribution_12m AS
SELECT v.party_id, v.party_type, v.tier, v.tier_zh,
       CAST(v.contribution_12m AS DECIMAL(38,2)) AS contribution_12m, CAST(v.nii_12m AS DECIMAL(38,2)) AS nii_12m,
       CAST(v.fee_income_12m AS DECIMAL(38,2)) AS fee_income_12m, v.measure_days AS days,
       v.measure_from AS from_month, CAST(date_trunc('month', v.as_of) AS DATE) AS to_month,
       CAST(row_number() OVER (ORDER BY v.contribution_12m DESC, v.party_id) AS BIGINT) AS contribution_rank,
       -- the smallest whole percent of the parties, from the top, the party is in
       CAST(ceil(100.0 * row_number() OVER (ORDER BY v.contribution_12m DESC, v.party_id) / count(*) OVER ()) AS INTEGER) AS top_pct,
       v.as_of
FROM mart.value_tier v`

// buildContribution rebuilds mart.contribution (before the tiers, so
// criteria may read it).
func buildContribution(ctx context.Context, conn *sql.Conn, c Contribution) error {
	q := sqltext.MustFill(contributionSQL, sqltext.Vars{"ftp": sqltext.Value(c.segments()), "fx": sqltext.Value(c.rates()),
		"ftp_at": sqltext.Value(ftpAtSQL)})
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("build mart.contribution: %w", err)
	}
	return nil
}

// ContributionSummary is what the contribution came to over the last
// twelve months.
type ContributionSummary struct {
	From string `json:"from_month"`
	To   string `json:"to_month"`
	// Days the twelve months' figures cover (cdp's own months and the
	// bank's monthly summary before them).
	Days  int     `json:"days"`
	Total float64 `json:"contribution_12m"`
	NII   float64 `json:"nii_12m"`
	Fees  float64 `json:"fee_income_12m"`
	// Top15 is the share of the total the top 15% of parties bring.
	Top15 float64 `json:"top15_share"`
	// InterestDifference is the interest the credit feed delivered minus
	// the interest computed from balances and rates, over the months.
	InterestDifference float64 `json:"loan_interest_difference"`
	LoansUnpriced      int64   `json:"loans_unpriced"`
	DepositsUnpriced   int64   `json:"deposits_unpriced"`
}

// TierContribution is one tier's part of the contribution.
type TierContribution struct {
	PartyType    string  `json:"party_type"`
	Tier         string  `json:"tier"`
	Parties      int64   `json:"parties"`
	Contribution float64 `json:"contribution_12m"`
	Share        float64 `json:"share"`
	PerParty     float64 `json:"per_party"`
}

// CurveStep is one point of the concentration curve: the share of the
// contribution the top Percent of parties bring, of all parties (empty
// PartyType) or of one type's.
type CurveStep struct {
	PartyType    string  `json:"party_type"`
	Percent      int     `json:"top_percent"`
	Parties      int64   `json:"parties"`
	Contribution float64 `json:"contribution_12m"`
	Share        float64 `json:"share"`
}

// Report is `cdp tiers report`: the contribution by tier and how
// concentrated it is.
type Report struct {
	AsOf          string              `json:"as_of"`
	Summary       ContributionSummary `json:"summary"`
	ByTier        []TierContribution  `json:"by_tier"`
	Concentration []CurveStep         `json:"concentration"`
}

// CurvePercents are the steps of the concentration curve.
var CurvePercents = []int{1, 5, 10, 15, 20, 50, 100}

// Querier runs queries: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// ReadReport reads the report from mart.contribution_12m (as the last
// tiers build left it), of the parties where (a predicate over party_id;
// "true" for all: the console passes a scoped user's own).
func ReadReport(ctx context.Context, db Querier, where string) (*Report, error) {
	r := &Report{}
	var s = &r.Summary
	var asOf, from, to sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT CAST(max(as_of) AS VARCHAR), CAST(min(from_month) AS VARCHAR), CAST(max(to_month) AS VARCHAR),
		coalesce(max(days), 0), coalesce(sum(contribution_12m), 0), coalesce(sum(nii_12m), 0), coalesce(sum(fee_income_12m), 0)
		FROM mart.contribution_12m WHERE `+where).Scan(&asOf, &from, &to, &s.Days, &s.Total, &s.NII, &s.Fees); err != nil {
		return nil, fmt.Errorf("mart.contribution_12m: %w (run cdp tiers first)", err)
	}
	r.AsOf, s.From, s.To = asOf.String, from.String, to.String
	if err := db.QueryRowContext(ctx, `SELECT coalesce(sum(loan_interest_difference), 0), coalesce(sum(loans_unpriced), 0), coalesce(sum(deposits_unpriced), 0)
		FROM mart.contribution WHERE month BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND `+where, from, to).
		Scan(&s.InterestDifference, &s.LoansUnpriced, &s.DepositsUnpriced); err != nil {
		return nil, fmt.Errorf("mart.contribution: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT party_type, tier, count(*), sum(contribution_12m),
		coalesce(sum(contribution_12m) / nullif(sum(sum(contribution_12m)) OVER (), 0), 0), avg(contribution_12m)
		FROM mart.contribution_12m WHERE `+where+` GROUP BY party_type, tier
		ORDER BY party_type DESC, CASE tier WHEN 'core' THEN 1 WHEN 'growth' THEN 2 ELSE 3 END`)
	if err != nil {
		return nil, fmt.Errorf("contribution by tier: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TierContribution
		if err := rows.Scan(&t.PartyType, &t.Tier, &t.Parties, &t.Contribution, &t.Share, &t.PerParty); err != nil {
			return nil, err
		}
		r.ByTier = append(r.ByTier, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Concentration, err = concentration(ctx, db, where)
	if err != nil {
		return nil, err
	}
	for _, c := range r.Concentration {
		if c.Percent == 15 && c.PartyType == "" {
			s.Top15 = c.Share
		}
	}
	return r, nil
}

func concentration(ctx context.Context, db Querier, where string) ([]CurveStep, error) {
	var vals []string
	for _, p := range CurvePercents {
		vals = append(vals, fmt.Sprintf("(%d)", p))
	}
	rows, err := db.QueryContext(ctx, `WITH r AS (
		    SELECT party_type, contribution_12m AS c,
		           row_number() OVER (ORDER BY contribution_12m DESC, party_id) AS rn_all, count(*) OVER () AS n_all,
		           row_number() OVER (PARTITION BY party_type ORDER BY contribution_12m DESC, party_id) AS rn_type,
		           count(*) OVER (PARTITION BY party_type) AS n_type
		    FROM mart.contribution_12m WHERE `+where+`
		), t(p) AS (VALUES `+strings.Join(vals, ", ")+`)
		SELECT '', p, count(*) FILTER (rn_all <= ceil(n_all * p / 100.0)), coalesce(sum(c) FILTER (rn_all <= ceil(n_all * p / 100.0)), 0),
		       coalesce(sum(c) FILTER (rn_all <= ceil(n_all * p / 100.0)) / nullif(sum(c), 0), 0)
		FROM r, t GROUP BY p
		UNION ALL
		SELECT party_type, p, count(*) FILTER (rn_type <= ceil(n_type * p / 100.0)), coalesce(sum(c) FILTER (rn_type <= ceil(n_type * p / 100.0)), 0),
		       coalesce(sum(c) FILTER (rn_type <= ceil(n_type * p / 100.0)) / nullif(sum(c), 0), 0)
		FROM r, t GROUP BY party_type, p
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("concentration curve: %w", err)
	}
	defer rows.Close()
	var out []CurveStep
	for rows.Next() {
		var c CurveStep
		if err := rows.Scan(&c.PartyType, &c.Percent, &c.Parties, &c.Contribution, &c.Share); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
