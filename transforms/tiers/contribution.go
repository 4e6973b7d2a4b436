package tiers

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"cdp/transforms/sqltext"
	"cdp/warehouse"
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

// changedMonths lists the months to rebuild: those whose inputs' prints
// (cdp_contribution_prints) differ from the last build's
// (ops.contribution_prints), and every month from that of day on. It
// returns a predicate on a month column naming them as literals, so that
// each input's scan filters its rows before any join; rows without a day
// count under a month of NULL.
func changedMonths(ctx context.Context, conn *sql.Conn, day time.Time, n *int) (func(col string) string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT DISTINCT CAST(coalesce(n.month, o.month) AS VARCHAR) AS month
		FROM cdp_contribution_prints n FULL JOIN ops.contribution_prints o ON o.input = n.input AND o.month IS NOT DISTINCT FROM n.month
		WHERE n.n IS DISTINCT FROM o.n OR n.print IS DISTINCT FROM o.print
		   OR coalesce(n.month, o.month) >= CAST(date_trunc('month', CAST(? AS DATE)) AS DATE)
		ORDER BY month`, day.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var months []string
	undated := false
	for rows.Next() {
		var m sql.NullString
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		if m.Valid {
			months = append(months, "DATE "+warehouse.Literal(m.String))
		} else {
			undated = true
		}
	}
	*n = len(months)
	return func(col string) string {
		in := "false"
		if len(months) > 0 {
			in = col + " IN (" + strings.Join(months, ", ") + ")"
		}
		if undated {
			in = "(" + in + " OR " + col + " IS NULL)"
		}
		return in
	}, rows.Err()
}

// contributionPrintsSQL prints every input of mart.contribution per
// calendar month: the count of its rows and the sum of their hashes over
// the columns contribution.sql reads (a loan's daily rows with the loan's
// own tenor and currency; every row, a party's or not, since the days a
// month covers are every snapshot's). A month whose prints are the last
// build's has the same rows, and so the same figures, unless it is the
// month of the run's day (below).
const contributionPrintsSQL = `CREATE OR REPLACE TEMP TABLE cdp_contribution_prints AS
SELECT 'loan_daily' AS input, CAST(date_trunc('month', ld.as_of_date) AS DATE) AS month, count(*) AS n,
       coalesce(sum(hash(ld.party_id, ld.loan_no, ld.as_of_date, ld.balance, ld.currency, ld.interest_rate, ld.status,
                         l.start_date, l.maturity_date, l.currency)), 0) AS print
FROM core.loan_daily ld LEFT JOIN core.loan l USING (loan_no) GROUP BY ALL
UNION ALL
SELECT 'holding_daily', CAST(date_trunc('month', as_of_date) AS DATE), count(*),
       coalesce(sum(hash(party_id, system, as_of_date, acct_no, product_code, amount_cny, product_type, rate, fee_rate,
                         term_months, open_date, maturity_date)), 0)
FROM core.holding_daily GROUP BY ALL
UNION ALL
SELECT 'trade', CAST(date_trunc('month', trade_time) AS DATE), count(*), coalesce(sum(hash(party_id, trade_time, fee)), 0)
FROM core.trade GROUP BY ALL
UNION ALL
SELECT 'card_txn', CAST(date_trunc('month', txn_time) AS DATE), count(*), coalesce(sum(hash(party_id, txn_time, fee, interchange)), 0)
FROM core.card_txn GROUP BY ALL
UNION ALL
SELECT 'settlement', CAST(date_trunc('month', txn_time) AS DATE), count(*), coalesce(sum(hash(party_id, txn_time, fee, channel)), 0)
FROM core.settlement GROUP BY ALL
UNION ALL
SELECT 'repayment', CAST(date_trunc('month', paid_date) AS DATE), count(*), coalesce(sum(hash(party_id, paid_date, interest_paid)), 0)
FROM core.repayment GROUP BY ALL`

// contributionRunDaySQL is the run's day of contribution.sql: the newest
// snapshot day of loans and holdings.
const contributionRunDaySQL = `SELECT greatest((SELECT max(as_of_date) FROM core.loan_daily), (SELECT max(as_of_date) FROM core.holding_daily))`

// contributionBuild is what buildContribution did.
type contributionBuild struct {
	mode   string // full or incremental
	reason string // why full
	months int    // months rebuilt
}

// buildContribution brings mart.contribution up to date on conn, inside
// the caller's transaction (before the tiers, so criteria may read it).
//
// A month's rows read that month's inputs only, and the days before and
// after the month's snapshots only through the run's day, which lies in
// or after the month. So a build rebuilds the months whose inputs' prints
// moved since the last build, and every month from that of the last
// build's or this build's run day (the earlier) on; the others keep their
// rows, and their party type is brought up to date. It rebuilds every
// month on the first build, with full, when the SQL or its prices
// (ftp_curve, fx_to_cny) changed, and when mart.contribution is missing or
// does not hold as many rows as the last build left (a table emptied or
// cut by hand; a hand edit that keeps the count goes unseen: --full).
func buildContribution(ctx context.Context, conn *sql.Conn, c Contribution, full bool) (contributionBuild, error) {
	fill := func(inMonth, into string) string {
		return sqltext.MustFill(contributionSQL, sqltext.Vars{"ftp": sqltext.Value(c.segments()), "fx": sqltext.Value(c.rates()),
			"ftp_at": sqltext.Value(ftpAtSQL), "in_month": sqltext.Value(inMonth), "into": sqltext.Value(into)})
	}
	whole := fill("true", "CREATE OR REPLACE TABLE mart.contribution AS")
	sum := sha256.Sum256([]byte(whole))
	sqlPrint := hex.EncodeToString(sum[:])
	b := contributionBuild{mode: "full"}
	fail := func(what string, err error) (contributionBuild, error) {
		return b, fmt.Errorf("build mart.contribution: %s: %w", what, err)
	}
	if _, err := conn.ExecContext(ctx, contributionPrintsSQL); err != nil {
		return fail("print its inputs", err)
	}
	var lastPrint sql.NullString
	var lastDay, runDay sql.NullTime
	var lastRows, rows int64
	if err := conn.QueryRowContext(ctx, `SELECT sql_print, run_day, row_count FROM ops.contribution_builds ORDER BY built_at DESC LIMIT 1`).
		Scan(&lastPrint, &lastDay, &lastRows); err != nil && err != sql.ErrNoRows {
		return fail("ops.contribution_builds", err)
	}
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'mart' AND table_name = 'contribution'`).
		Scan(&exists); err != nil {
		return fail("find it", err)
	}
	if exists {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM mart.contribution`).Scan(&rows); err != nil {
			return fail("count its rows", err)
		}
	}
	if err := conn.QueryRowContext(ctx, contributionRunDaySQL).Scan(&runDay); err != nil {
		return fail("the run's day", err)
	}
	switch {
	case full:
		b.reason = "asked"
	case !lastPrint.Valid:
		b.reason = "first build"
	case !exists:
		b.reason = "mart.contribution is missing"
	case lastPrint.String != sqlPrint:
		b.reason = "its SQL or prices changed"
	case lastRows != rows:
		b.reason = fmt.Sprintf("mart.contribution holds %d rows, the last build left %d", rows, lastRows)
	case !lastDay.Valid || !runDay.Valid:
		b.reason = "no snapshot day"
	}
	if b.reason != "" {
		if _, err := conn.ExecContext(ctx, whole); err != nil {
			return fail("rebuild", err)
		}
		if err := conn.QueryRowContext(ctx, `SELECT count(DISTINCT month) FROM mart.contribution`).Scan(&b.months); err != nil {
			return fail("count its months", err)
		}
	} else {
		b.mode = "incremental"
		from := lastDay.Time
		if runDay.Time.Before(from) {
			from = runDay.Time
		}
		in, err := changedMonths(ctx, conn, from, &b.months)
		if err != nil {
			return fail("the months to rebuild", err)
		}
		stmts := []string{
			`DELETE FROM mart.contribution WHERE ` + in("month"),
			fill(in("m"), "INSERT INTO mart.contribution BY NAME"),
			// the months kept: a party's type as core.party has it now
			`UPDATE mart.contribution c SET party_type = coalesce(p.party_type, '?') FROM core.party p
			 WHERE p.party_id = c.party_id AND c.party_type IS DISTINCT FROM coalesce(p.party_type, '?')`,
			`UPDATE mart.contribution SET party_type = '?'
			 WHERE party_type <> '?' AND party_id NOT IN (SELECT party_id FROM core.party)`,
		}
		for _, q := range stmts {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fail("rebuild "+strconv.Itoa(b.months)+" months", err)
			}
		}
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM mart.contribution`).Scan(&rows); err != nil {
		return fail("count its rows", err)
	}
	for _, q := range []string{
		`DELETE FROM ops.contribution_prints`,
		`INSERT INTO ops.contribution_prints SELECT input, month, n, print FROM cdp_contribution_prints`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fail("ops.contribution_prints", err)
		}
	}
	var day any
	if runDay.Valid {
		day = runDay.Time.Format(time.DateOnly)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO ops.contribution_builds VALUES (?, CAST(? AS DATE), ?, ?, ?, now())`,
		sqlPrint, day, rows, b.mode, b.months); err != nil {
		return fail("ops.contribution_builds", err)
	}
	return b, nil
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
