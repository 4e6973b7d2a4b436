package tiers_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tiers"
)

// Declared criteria: a company exactly at a floor is in the tier and one a
// cent below is not, for core and growth; a criterion limited to an
// industry group takes in a high-tech company and not a retailer of the
// same revenue; a 12-month flow known over fewer days is scaled to a year
// (× 365/days) and the reason says so, at the floor and a cent below;
// every reason names the criteria that held with their values. Without
// criteria, company_revenue and person_aum give the tiers they gave.
func TestCriteria_ThresholdsGroupsAndAnnualisation(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 11})
	db := b.W.DB()
	ctx := context.Background()
	exec := func(q string, args ...any) { t.Helper(); sqltest.Exec(t, db, q, args...) }
	// The default criteria are the floors: the same tiers as the floors give.
	if _, err := tiers.Build(ctx, b.W, tiers.Config{}, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	var wrong int
	sqltest.Row(t, db, `SELECT count(*) FROM mart.value_tier WHERE computed_tier <> CASE
		WHEN party_type = 'C' AND coalesce(annual_revenue, 0) >= 500000000 THEN 'core' WHEN party_type = 'C' AND coalesce(annual_revenue, 0) >= 100000000 THEN 'growth'
		WHEN party_type = 'P' AND aum >= 6000000 THEN 'core' WHEN party_type = 'P' AND aum >= 1000000 THEN 'growth' ELSE 'base' END`).Scan(&wrong)
	if wrong != 0 {
		t.Errorf("%d parties' default criteria disagree with the floors", wrong)
	}

	var ids []string
	for scan := range sqltest.Rows(t, db, `SELECT party_id FROM core.party WHERE party_type = 'C' ORDER BY party_id LIMIT 8`) {
		var id string
		scan(&id)
		ids = append(ids, id)
	}
	if len(ids) < 8 {
		t.Fatalf("only %d companies", len(ids))
	}
	list := `[` + "'" + strings.Join(ids, "', '") + "'" + `]`
	// No fees and no list entries of their own: the fixtures decide.
	for _, q := range []string{
		`UPDATE core.settlement SET fee = NULL WHERE list_contains(` + list + `, party_id)`,
		`UPDATE core.trade SET fee = NULL WHERE list_contains(` + list + `, party_id)`,
		`UPDATE core.card_txn SET fee = NULL, interchange = NULL WHERE list_contains(` + list + `, party_id)`,
		`UPDATE core.holding_daily SET fee_rate = NULL WHERE list_contains(` + list + `, party_id)`,
		`DELETE FROM core.monthly_history WHERE list_contains(` + list + `, party_id)`,
		`DELETE FROM raw.contact_key_accounts`,
	} {
		exec(q)
	}
	revenue := []string{"500000000.00", "499999999.99", "100000000.00", "99999999.99", "60000000.00", "60000000.00", "10000000.00", "10000000.00"}
	industry := []string{"C34", "C34", "C34", "C34", "C39", "F52", "C34", "C34"}
	for i, id := range ids {
		exec(`UPDATE core.party SET annual_revenue = CAST(? AS DECIMAL(18,2)) WHERE party_id = ?`, revenue[i], id)
		exec(`UPDATE core.company_profile SET industry_code = ? WHERE party_id = ?`, industry[i], id)
		exec(`UPDATE core.party SET industry_code = ? WHERE party_id = ?`, industry[i], id)
	}
	var asOf string
	var days int
	sqltest.Row(t, db, `SELECT CAST(max(as_of) AS VARCHAR), any_value(measure_days) FROM mart.value_tier`).Scan(&asOf, &days)
	if days < 1 || days > 364 {
		t.Fatalf("the generated bank's twelve months cover %d days; the test needs a short history", days)
	}
	// 10,000 a day for the days known is 3,650,000 a year: at the floor.
	fee := fmt.Sprintf("%d.00", 10000*days)
	exec(`INSERT INTO core.settlement (party_id, txn_id, cust_no, acct_no, txn_time, direction, amount, currency, amount_cny, channel, fee, load_id)
		VALUES (?, 'CRIT1', 'X', 'A', CAST(? AS TIMESTAMP), 'OUT', 1000, 'CNY', 1000, 'COUNTER', CAST(? AS DECIMAL(12,2)), 0),
		       (?, 'CRIT2', 'X', 'A', CAST(? AS TIMESTAMP), 'OUT', 1000, 'CNY', 1000, 'COUNTER', CAST(? AS DECIMAL(12,2)) - 0.01, 0)`,
		ids[6], asOf, fee, ids[7], asOf, fee)

	cfg := tiers.Config{Criteria: []tiers.Criterion{
		{Tier: "core", PartyType: "C", Measure: "annual_revenue", Min: 500_000_000},
		{Tier: "core", PartyType: "C", Measure: "fee_income_12m", Min: 3_650_000},
		{Tier: "growth", PartyType: "C", Measure: "annual_revenue", Min: 100_000_000},
		{Tier: "growth", PartyType: "C", Measure: "annual_revenue", Min: 50_000_000, IndustryGroups: []string{"high_tech"}},
		{Tier: "core", PartyType: "P", Measure: "aum", Min: 6_000_000},
		{Tier: "growth", PartyType: "P", Measure: "aum", Min: 1_000_000},
	}}.WithDefaults()
	if p := cfg.Check(); len(p) > 0 {
		t.Fatal(p)
	}
	if _, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	// a cent below, scaled to a year, with its cents
	cents := int64(math.Round(float64(1000000*days-1) * 365 / float64(days)))
	below := commas(int(cents/100)) + fmt.Sprintf(".%02d", cents%100)
	want := []struct{ tier, reason string }{
		{"core", "annual revenue CNY 500,000,000 ≥ the core floor CNY 500,000,000"},
		{"growth", "annual revenue CNY 499,999,999.99 ≥ the growth floor CNY 100,000,000; annual revenue CNY 499,999,999.99 < the core floor CNY 500,000,000"},
		{"growth", "annual revenue CNY 100,000,000 ≥ the growth floor CNY 100,000,000"},
		{"base", "annual revenue CNY 99,999,999.99 < the growth floor CNY 100,000,000"},
		{"growth", "[high_tech] annual revenue CNY 60,000,000 ≥ the growth floor CNY 50,000,000"},
		{"base", "annual revenue CNY 60,000,000 < the growth floor CNY 100,000,000"},
		{"core", fmt.Sprintf("12-month fee and commission income CNY 3,650,000 (CNY %s over %d days, × 365/%d) ≥ the core floor CNY 3,650,000", commas(10000*days), days, days)},
		{"base", fmt.Sprintf("annual revenue CNY 10,000,000 < the growth floor CNY 100,000,000; annual revenue CNY 10,000,000 < the core floor CNY 500,000,000; 12-month fee and commission income CNY %s (CNY %s.99 over %d days, × 365/%d) < the core floor CNY 3,650,000",
			below, commas(10000*days-1), days, days)},
	}
	for i, id := range ids {
		var tier, reason string
		sqltest.Row(t, db, `SELECT tier, criteria_reason FROM mart.value_tier WHERE party_id = ?`, id).Scan(&tier, &reason)
		if tier != want[i].tier || !strings.Contains(reason, want[i].reason) {
			t.Errorf("fixture %d (%s, revenue %s, industry %s): %s because %q; want %s because …%q…", i+1, id, revenue[i], industry[i], tier, reason, want[i].tier, want[i].reason)
		}
	}
	// The retailer is not told about a group criterion that does not apply to it.
	var retailer string
	sqltest.Row(t, db, `SELECT criteria_reason FROM mart.value_tier WHERE party_id = ?`, ids[5]).Scan(&retailer)
	if strings.Contains(retailer, "high_tech") {
		t.Errorf("the retailer's reason names the high-tech criterion: %q", retailer)
	}
	// The tier history keeps the criteria's reason.
	var hist string
	sqltest.Row(t, db, `SELECT reason FROM mart.tier_history WHERE party_id = ? AND valid_to IS NULL`, ids[6]).Scan(&hist)
	if !strings.Contains(hist, "× 365/") {
		t.Errorf("the tier history's reason %q lacks the annualisation", hist)
	}

	// A wrong criterion is an error naming it.
	bad := tiers.Config{Criteria: []tiers.Criterion{{Tier: "top", PartyType: "C", Measure: "deposits", Min: 1, IndustryGroups: []string{"fintech"}}}}.WithDefaults()
	problems := strings.Join(bad.Check(), "\n")
	for _, w := range []string{`criteria[0]: tier "top"`, `criteria[0]: measure "deposits": want one of`, `industry_groups: "fintech"`} {
		if !strings.Contains(problems, w) {
			t.Errorf("problems %q lack %q", problems, w)
		}
	}
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// The twelve months the criteria read are cdp's own months
// (mart.contribution) and, before them, the bank's monthly summary
// (core.monthly_history, written by the generator for the 11 months before
// its window): a party's 12-month deposit average is their balance-days
// over the days they cover, its fee income their sum.
func TestCriteria_TwelveMonthsJoinHistoryAndOwnMonths(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 12})
	db := b.W.DB()
	if _, err := tiers.Build(context.Background(), b.W, tiers.Config{}, testbank.Quiet); err != nil {
		t.Fatal(err)
	}
	var party string
	var gotADB, gotFees float64
	var gotDays int
	sqltest.Row(t, db, `SELECT party_id, CAST(deposit_adb_12m AS DOUBLE), CAST(fee_income_12m AS DOUBLE), measure_days FROM mart.value_tier
		WHERE party_id IN (SELECT party_id FROM core.monthly_history) AND party_id IN (SELECT party_id FROM mart.contribution WHERE deposit_adb > 0)
		ORDER BY party_id LIMIT 1`).Scan(&party, &gotADB, &gotFees, &gotDays)
	var balanceDays, fees float64
	days, months := 0, 0
	for scan := range sqltest.Rows(t, db, `SELECT CAST(month AS VARCHAR), CAST(deposit_adb AS DOUBLE), CAST(coalesce(fee_income, 0) AS DOUBLE)
		FROM core.monthly_history WHERE party_id = ? AND month NOT IN (SELECT month FROM mart.contribution)`, party) {
		var month string
		var adb, fee float64
		scan(&month, &adb, &fee)
		var y, m int
		fmt.Sscanf(month, "%d-%d", &y, &m)
		n := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
		if m == 2 && y%4 == 0 {
			n = 29
		}
		balanceDays, fees, days, months = balanceDays+adb*float64(n), fees+fee, days+n, months+1
	}
	for scan := range sqltest.Rows(t, db, `SELECT days, CAST(deposit_adb AS DOUBLE), CAST(fee_income AS DOUBLE) FROM mart.contribution WHERE party_id = ?`, party) {
		var n int
		var adb, fee float64
		scan(&n, &adb, &fee)
		balanceDays, fees, days = balanceDays+adb*float64(n), fees+fee, days+n
	}
	if months != 11 || days != gotDays {
		t.Fatalf("%s: %d history months and %d days, value_tier says %d days; want the 11 months before the window", party, months, days, gotDays)
	}
	if want := balanceDays / float64(days); math.Abs(gotADB-want) > 0.006 {
		t.Errorf("%s: 12-month deposit average %.2f, want %.2f", party, gotADB, want)
	}
	if math.Abs(gotFees-fees) > 0.001 {
		t.Errorf("%s: 12-month fee income %.2f, want %.2f", party, gotFees, fees)
	}
}
