package signals

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"cdp/warehouse"
)

// Back-testing: a rule — or a variant of its parameters, side by side — as
// of each day of a range, as a rule change would have behaved before it
// ships. A dated rule reads only facts up to each day (point-in-time
// correct); a current rule reads today's state, and the report says so.
// Identity is today's (the parties as unification sees them now). Nothing
// is written to mart.signals, the decision log or the outbox: the hits go
// to scratch.signal_backtest.
//
// Per day it reports the hits, how they compare with what the run of that
// day decided (a dated rule with its current parameters: the same parties
// with the same scores), what the contact policy and the lifecycle decided
// about them that day (replayed from the decision log: opened, updated,
// unchanged, suppressed, held, capped, holdout), the overlap with other
// rules' hits that day, and the precision against what happened afterwards:
// for a cross-sell rule, the share of hit customers who took the product
// within Days (a CONVERTED outcome); for a churn rule, the share whose AUM
// fell by ChurnDropPct or more within Days (core.aum_daily).

// BacktestTable is where Backtest leaves its hits.
const BacktestTable = warehouse.ScratchSchema + "." + backtestName

const backtestName = "signal_backtest"

// BacktestOptions choose a back-test.
type BacktestOptions struct {
	Rule     string
	From, To time.Time
	// Variant, if set, overrides parameters of the rule: the variant is
	// evaluated beside the rule as it is.
	Variant map[string]any
	// Days after each day in which an outcome counts (default 30);
	// ChurnDropPct the AUM fall that counts as churn (default 20).
	Days         int
	ChurnDropPct float64
	AllowPII     bool
	Logger       *slog.Logger
}

// BacktestDay is one day of a back-test, for the rule (and its variant).
type BacktestDay struct {
	Day       string           `json:"day"`
	Hits      int64            `json:"hits"`
	Recorded  int64            `json:"recorded"` // parties the run of the day decided on (-1: no run that day)
	Differ    int64            `json:"differ"`   // parties found by one and not the other, or with another score
	Decisions map[string]int64 `json:"decisions"`
	Overlap   int64            `json:"overlap"`   // hit parties another rule also fired for that day
	Precision float64          `json:"precision"` // share of hits that converted / churned afterwards (-1: not measurable)
	Variant   *int64           `json:"variant_hits,omitempty"`
	// VariantPrecision is the variant's precision, when there is one.
	VariantPrecision float64 `json:"variant_precision,omitempty"`
}

// BacktestReport is a back-test.
type BacktestReport struct {
	Rule    string         `json:"rule_id"`
	Kind    string         `json:"kind"`
	Reads   string         `json:"reads"`
	Variant map[string]any `json:"variant,omitempty"`
	Days    []BacktestDay  `json:"days"`
	Table   string         `json:"table"`
	Seconds float64        `json:"seconds"`
}

// Backtest runs a back-test.
func Backtest(ctx context.Context, w *warehouse.Warehouse, rules *Rules, o BacktestOptions) (*BacktestReport, error) {
	start := time.Now()
	if o.From.IsZero() || o.To.IsZero() || o.To.Before(o.From) {
		return nil, fmt.Errorf("signals backtest: give --from and --to, from on or before to")
	}
	if o.Days == 0 {
		o.Days = 30
	}
	if o.ChurnDropPct == 0 {
		o.ChurnDropPct = 20
	}
	var rule *Rule
	for _, r := range rules.Rules {
		if r.ID == o.Rule {
			rule = r
		}
	}
	if rule == nil {
		return nil, fmt.Errorf("signals backtest: no rule %q", o.Rule)
	}
	var variant *Rule
	if len(o.Variant) > 0 {
		v, err := rule.withParams(o.Variant)
		if err != nil {
			return nil, fmt.Errorf("signals backtest: %w", err)
		}
		variant = v
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rep := &BacktestReport{Rule: rule.ID, Kind: rule.Kind, Reads: rule.Reads, Variant: o.Variant, Table: BacktestTable}
	var rows [][]any
	for d := o.From; !d.After(o.To); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		for _, r := range []*Rule{rule, variant} {
			if r == nil {
				continue
			}
			hs, err := evaluate(ctx, conn, r, day, o.AllowPII)
			if err != nil {
				return nil, fmt.Errorf("signals backtest %s: %w", day, err)
			}
			which := "current"
			if r == variant {
				which = "variant"
			}
			for _, h := range hs {
				rows = append(rows, []any{which, rule.ID, h.party, h.score, h.reason, day})
			}
		}
	}
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := warehouse.ReplaceScratch(ctx, conn, backtestName,
			`variant VARCHAR, rule_id VARCHAR, party_id VARCHAR, score DOUBLE, reason VARCHAR, as_of DATE`); err != nil {
			return err
		}
		return warehouse.InsertRows(ctx, conn, BacktestTable, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("signals backtest: %s: %w", BacktestTable, err)
	}
	// Everything per day, set-wise over the range.
	precision := `NULL`
	switch rule.Kind {
	case "cross_sell":
		precision = fmt.Sprintf(`EXISTS (SELECT 1 FROM core.outcome o WHERE o.party_id = b.party_id AND o.status = 'CONVERTED'
			AND coalesce(o.product, '') = %s AND CAST(o.outcome_time AS DATE) BETWEEN b.as_of AND b.as_of + %d)`,
			warehouse.Literal(rule.Product), o.Days)
	case "churn":
		precision = fmt.Sprintf(`(SELECT min(a.aum) FROM core.aum_daily a WHERE a.party_id = b.party_id
			AND a.as_of_date > b.as_of AND a.as_of_date <= b.as_of + %d) <= (1 - %f / 100) *
			(SELECT any_value(a.aum) FROM core.aum_daily a WHERE a.party_id = b.party_id AND a.as_of_date = b.as_of)`, o.Days, o.ChurnDropPct)
	}
	q := fmt.Sprintf(`WITH b AS (SELECT b.*, %[2]s AS ok FROM %[1]s b),
		rec AS (SELECT as_of, party_id, arg_max(score, run_id) AS score FROM mart.signal_decisions -- the day's last run
		        WHERE rule_id = ? AND decision NOT IN ('closed', 'expired') AND as_of BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
		        GROUP BY as_of, party_id),
		runs AS (SELECT DISTINCT as_of FROM ops.signal_runs),
		cur AS (SELECT * FROM b WHERE variant = 'current'),
		days AS (SELECT CAST(range AS DATE) AS as_of FROM range(CAST(? AS DATE), CAST(? AS DATE) + 1, INTERVAL 1 DAY)),
		c AS (SELECT as_of, count(*) AS n, coalesce(avg(CASE WHEN ok THEN 1.0 ELSE 0.0 END) FILTER (ok IS NOT NULL), -1) AS prec FROM cur GROUP BY as_of),
		v AS (SELECT as_of, count(*) AS n, coalesce(avg(CASE WHEN ok THEN 1.0 ELSE 0.0 END) FILTER (ok IS NOT NULL), -1) AS prec
		      FROM b WHERE variant = 'variant' GROUP BY as_of),
		r AS (SELECT as_of, count(*) AS n FROM rec GROUP BY as_of),
		diff AS (SELECT coalesce(x.as_of, y.as_of) AS as_of, count(*) AS n FROM cur x FULL JOIN rec y ON x.as_of = y.as_of AND x.party_id = y.party_id
		         WHERE x.score IS DISTINCT FROM y.score GROUP BY 1),
		ov AS (SELECT x.as_of, count(DISTINCT x.party_id) AS n FROM cur x JOIN mart.signal_decisions o ON o.party_id = x.party_id AND o.as_of = x.as_of
		       AND o.rule_id <> x.rule_id AND o.decision NOT IN ('closed', 'expired') GROUP BY 1)
		SELECT CAST(d.as_of AS VARCHAR), coalesce(c.n, 0),
		  CASE WHEN d.as_of IN (SELECT as_of FROM runs) THEN coalesce(r.n, 0) ELSE -1 END,
		  coalesce(diff.n, 0), coalesce(ov.n, 0), coalesce(c.prec, -1), coalesce(v.n, 0), coalesce(v.prec, -1)
		FROM days d LEFT JOIN c USING (as_of) LEFT JOIN v USING (as_of) LEFT JOIN r USING (as_of) LEFT JOIN diff USING (as_of) LEFT JOIN ov USING (as_of)
		ORDER BY 1`, BacktestTable, precision)
	from, to := o.From.Format(time.DateOnly), o.To.Format(time.DateOnly)
	rs, err := conn.QueryContext(ctx, q, rule.ID, from, to, from, to)
	if err != nil {
		return nil, fmt.Errorf("signals backtest: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var d BacktestDay
		var vHits int64
		var vPrec float64
		if err := rs.Scan(&d.Day, &d.Hits, &d.Recorded, &d.Differ, &d.Overlap, &d.Precision, &vHits, &vPrec); err != nil {
			return nil, fmt.Errorf("signals backtest: %w", err)
		}
		if variant != nil {
			d.Variant, d.VariantPrecision = &vHits, vPrec
		}
		rep.Days = append(rep.Days, d)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	// The decisions of each day about the hit parties, from the log.
	// (of the day's last run: a day may have been run again).
	dec, err := conn.QueryContext(ctx, `WITH last AS (SELECT as_of, max(run_id) AS run_id FROM mart.signal_decisions WHERE rule_id = $1 GROUP BY as_of)
		SELECT CAST(d.as_of AS VARCHAR), d.decision, count(*) FROM mart.signal_decisions d JOIN last USING (as_of, run_id)
		JOIN `+BacktestTable+` b ON b.variant = 'current' AND b.party_id = d.party_id AND b.as_of = d.as_of
		WHERE d.rule_id = $1 GROUP BY ALL`, rule.ID)
	if err != nil {
		return nil, fmt.Errorf("signals backtest: %w", err)
	}
	defer dec.Close()
	byDay := map[string]map[string]int64{}
	for dec.Next() {
		var day, what string
		var n int64
		if err := dec.Scan(&day, &what, &n); err != nil {
			return nil, err
		}
		if byDay[day] == nil {
			byDay[day] = map[string]int64{}
		}
		byDay[day][what] = n
	}
	if err := dec.Err(); err != nil {
		return nil, err
	}
	for i := range rep.Days {
		rep.Days[i].Decisions = byDay[rep.Days[i].Day]
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// withParams is a copy of the rule with some parameters overridden, its
// SQL checked for them.
func (r *Rule) withParams(over map[string]any) (*Rule, error) {
	v := *r
	v.Params = map[string]any{}
	for k, x := range r.Params {
		v.Params[k] = x
	}
	var unknown []string
	for k, x := range over {
		if _, ok := r.Params[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		v.Params[k] = x
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("rule %s has no parameter %v (it has %v)", r.ID, unknown, r.paramNames())
	}
	return &v, nil
}
