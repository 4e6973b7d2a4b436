// Package tiers scores every party's value and assigns its key-account tier:
// 战略核心 (core) / 重点培育 (growth) / 潜力挖掘 (base), companies by annual
// revenue and persons by AUM (thresholds in config); an RFM score; the
// key-account value model, a weighted sum of historical, potential and
// strategic value; and the lifecycle stage. mart.value_tier keeps the
// inputs that decided each, so a tier can always be explained.
//
// A build is one transaction and replaces mart.value_tier whole, as of the
// newest snapshot day of the core model.
package tiers

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// Config is the tiers section of cdp.yaml.
type Config struct {
	// CompanyRevenue are the annual revenue floors (CNY) of core and growth.
	CompanyRevenue []float64 `yaml:"company_revenue"`
	// PersonAUM are the AUM floors (CNY) of core and growth.
	PersonAUM []float64 `yaml:"person_aum"`
	// Weights of historical, potential and strategic value in the value
	// score; they must add up to 1.
	Weights Weights `yaml:"weights"`
	// DormantDays without any activity make a party dormant.
	DormantDays int `yaml:"dormant_days"`
	// TrendPercent of AUM change over the last 30 days that counts as
	// growing (up) or declining (down).
	TrendPercent float64 `yaml:"trend_percent"`
	// Criteria decide the tiers when given (criteria.go); without them the
	// floors of CompanyRevenue and PersonAUM do.
	Criteria []Criterion `yaml:"criteria"`
	// Contribution prices every party's contribution (mart.contribution).
	Contribution Contribution `yaml:"contribution"`
}

// Weights of the value model.
type Weights struct {
	Historical float64 `yaml:"historical"`
	Potential  float64 `yaml:"potential"`
	Strategic  float64 `yaml:"strategic"`
}

// DefaultConfig is what an empty tiers section means: the bank's
// key-account bands (5亿 / 1亿 revenue, CNY 6M / 1M AUM).
func DefaultConfig() Config {
	return Config{
		CompanyRevenue: []float64{500_000_000, 100_000_000},
		PersonAUM:      []float64{6_000_000, 1_000_000},
		Weights:        Weights{Historical: 0.5, Potential: 0.3, Strategic: 0.2},
		DormantDays:    90,
		TrendPercent:   10,
		Contribution:   DefaultContribution(),
	}
}

// WithDefaults fills what c leaves out.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if len(c.CompanyRevenue) == 0 {
		c.CompanyRevenue = d.CompanyRevenue
	}
	if len(c.PersonAUM) == 0 {
		c.PersonAUM = d.PersonAUM
	}
	if c.Weights == (Weights{}) {
		c.Weights = d.Weights
	}
	if c.DormantDays == 0 {
		c.DormantDays = d.DormantDays
	}
	if c.TrendPercent == 0 {
		c.TrendPercent = d.TrendPercent
	}
	c.Contribution = c.Contribution.withDefaults()
	return c
}

// Check reports what is wrong with a (defaulted) config, one message per
// problem, each starting with the key.
func (c Config) Check() []string {
	var out []string
	for _, b := range []struct {
		key string
		v   []float64
	}{{"company_revenue", c.CompanyRevenue}, {"person_aum", c.PersonAUM}} {
		if len(b.v) != 2 || b.v[0] <= b.v[1] || b.v[1] <= 0 {
			out = append(out, fmt.Sprintf("%s: want two floors, core above growth, both above 0 (like [500000000, 100000000]), not %v", b.key, b.v))
		}
	}
	w := c.Weights
	if w.Historical < 0 || w.Potential < 0 || w.Strategic < 0 || abs(w.Historical+w.Potential+w.Strategic-1) > 1e-9 {
		out = append(out, fmt.Sprintf("weights: historical, potential and strategic must be ≥ 0 and add up to 1, not %v + %v + %v", w.Historical, w.Potential, w.Strategic))
	}
	if c.DormantDays < 0 {
		out = append(out, fmt.Sprintf("dormant_days: must be 1 or more, not %d", c.DormantDays))
	}
	if c.TrendPercent < 0 {
		out = append(out, fmt.Sprintf("trend_percent: must be above 0, not %v", c.TrendPercent))
	}
	out = append(out, c.checkCriteria()...)
	return append(out, c.Contribution.check()...)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

//go:embed value_tier.sql
var valueTierSQL string

// writeList rebuilds mart.key_account_list as of mart.value_tier's day:
// every entry of the list in force, its status, whether it set its
// party's tier, and the tier the floors give.
func writeList(ctx context.Context, conn *sql.Conn) error {
	for _, q := range []string{
		`DELETE FROM mart.key_account_list`,
		`INSERT INTO mart.key_account_list
		 SELECT e.list_id, e.party_id, e.tier, e.reason, e.approver, e.approved_on, e.valid_from, e.valid_to, e.status,
		        e.system, e.source_key, coalesce(v.list_id = e.list_id, false), v.computed_tier, e.list_date, (SELECT max(as_of) FROM mart.value_tier)
		 FROM core.key_accounts_as_of((SELECT max(as_of) FROM mart.value_tier)) e LEFT JOIN mart.value_tier v USING (party_id)
		 WHERE (SELECT max(as_of) FROM mart.value_tier) IS NOT NULL`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mart.key_account_list: %w", err)
		}
	}
	return nil
}

// Mix is one tier's share of a party type.
type Mix struct {
	PartyType string  `json:"party_type"`
	Tier      string  `json:"tier"`
	Parties   int64   `json:"parties"`
	Share     float64 `json:"share"`
}

// Summary is what a build did.
type Summary struct {
	RunID   string   `json:"run_id"`
	AsOf    string   `json:"as_of"`
	Parties int64    `json:"parties"`
	Mix     []Mix    `json:"mix"`
	History *History `json:"history"`
	// Contribution sums mart.contribution over the last twelve months.
	Contribution *ContributionSummary `json:"contribution"`
	// List counts the approved list's entries by status (active, pending,
	// expired) and how many set a party's tier (applied).
	List map[string]int64 `json:"key_account_list"`
	// ContributionMode is how mart.contribution was brought up to date:
	// full (every month) or incremental (the months whose inputs moved,
	// and the run's), ContributionMonths the months it rebuilt.
	ContributionMode   string  `json:"contribution_mode"`
	ContributionMonths int     `json:"contribution_months_rebuilt"`
	Seconds            float64 `json:"seconds"`
}

// Options are how a build goes.
type Options struct {
	// Full rebuilds every month of mart.contribution, even when only
	// some months' inputs changed since the last build.
	Full   bool
	Logger *slog.Logger
}

// Build replaces mart.value_tier and, in the same transaction, records
// what moved in the tier history (history.go).
func Build(ctx context.Context, w *warehouse.Warehouse, cfg Config, log *slog.Logger) (*Summary, error) {
	return BuildWith(ctx, w, cfg, Options{Logger: log})
}

// BuildWith is Build with options.
func BuildWith(ctx context.Context, w *warehouse.Warehouse, cfg Config, o Options) (*Summary, error) {
	log := o.Logger
	cfg = cfg.WithDefaults()
	if problems := cfg.Check(); len(problems) > 0 {
		return nil, fmt.Errorf("tiers: %s", strings.Join(problems, "; "))
	}
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	num := func(f float64) sqltext.Var { return sqltext.Value(sqltext.Number(f)) }
	crit := cfg.criteriaSQL()
	q := sqltext.MustFill(valueTierSQL, sqltext.Vars{
		"tier": sqltext.Value(crit.tier), "reason": sqltext.Value(crit.reason),
		"basis": sqltext.Value(crit.basis), "basis_value": sqltext.Value(crit.basisValue),
		"w_historical": num(cfg.Weights.Historical), "w_potential": num(cfg.Weights.Potential),
		"w_strategic": num(cfg.Weights.Strategic), "dormant_days": num(float64(cfg.DormantDays)),
		"trend": num(cfg.TrendPercent / 100),
	})
	sum := &Summary{RunID: "tiers-" + start.UTC().Format("20060102T150405.000")}
	if err := warehouse.InTx(ctx, conn, func() error {
		t0 := time.Now()
		step := func(what string, attrs ...any) {
			log.Debug("tiers step", append([]any{"step", what, "seconds", time.Since(t0).Seconds(), "peak_rss_mib", warehouse.PeakRSS() >> 20}, attrs...)...)
			t0 = time.Now()
		}
		b, err := buildContribution(ctx, conn, cfg.Contribution, o.Full)
		if err != nil {
			return withModelHint(err)
		}
		sum.ContributionMode, sum.ContributionMonths = b.mode, b.months
		step("mart.contribution", "mode", b.mode, "why", b.reason, "months", b.months)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return withModelHint(fmt.Errorf("build mart.value_tier: %w", err))
		}
		step("mart.value_tier")
		if _, err := conn.ExecContext(ctx, contribution12mSQL); err != nil {
			return fmt.Errorf("build mart.contribution_12m: %w", err)
		}
		step("mart.contribution_12m")
		if err := writeList(ctx, conn); err != nil {
			return err
		}
		step("mart.key_account_list")
		h, err := recordHistory(ctx, conn, cfg, sum.RunID, log)
		sum.History = h
		step("mart.tier_history")
		return err
	}); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT party_type, tier, count(*), count(*) / sum(count(*)) OVER (PARTITION BY party_type),
		CAST(max(as_of) AS VARCHAR) FROM mart.value_tier GROUP BY party_type, tier ORDER BY party_type DESC, min(tier_rank)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m Mix
		if err := rows.Scan(&m.PartyType, &m.Tier, &m.Parties, &m.Share, &sum.AsOf); err != nil {
			return nil, err
		}
		sum.Parties += m.Parties
		sum.Mix = append(sum.Mix, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sum.List = map[string]int64{}
	list, err := conn.QueryContext(ctx, `SELECT status, count(*) FROM mart.key_account_list GROUP BY ALL
		UNION ALL SELECT 'applied', count(*) FROM mart.key_account_list WHERE applied`)
	if err != nil {
		return nil, fmt.Errorf("mart.key_account_list: %w", err)
	}
	defer list.Close()
	for list.Next() {
		var status string
		var n int64
		if err := list.Scan(&status, &n); err != nil {
			return nil, err
		}
		sum.List[status] = n
	}
	if n := sum.List["unknown_customer"]; n > 0 {
		log.Warn("approved key-account list entries name no customer the warehouse knows (mart.key_account_list, status unknown_customer)", "entries", n)
	}
	rep, err := ReadReport(ctx, conn, "true")
	if err != nil {
		return nil, err
	}
	sum.Contribution = &rep.Summary
	if c := sum.Contribution; c.LoansUnpriced+c.DepositsUnpriced > 0 {
		log.Warn("accounts left out of the contribution's interest: no rate, or a currency tiers: contribution: fx_to_cny lacks (mart.contribution loans_unpriced, deposits_unpriced, per month)",
			"loan_months", c.LoansUnpriced, "deposit_months", c.DepositsUnpriced)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("value tiers built", "parties", sum.Parties, "tier_changes", sum.History.Changes, "up", sum.History.Up, "down", sum.History.Down,
		"events", sum.History.Events, "list_applied", sum.List["applied"], "contribution", sum.ContributionMode,
		"contribution_months", sum.ContributionMonths, "seconds", sum.Seconds)
	return sum, list.Err()
}

// withModelHint adds to an error about a missing table or column that the
// core model must be built first; other errors are returned as they are.
func withModelHint(err error) error {
	if warehouse.MissingInput(err) {
		return fmt.Errorf("%w (build the core model first: cdp model)", err)
	}
	return err
}
