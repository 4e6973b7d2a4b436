package tiers_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tiers"
)

// Contribution to the cent: a fixture company's March 2025 — a CNY loan
// repaid in part after a weekend, a USD loan, a loan in a currency without
// a rate, a demand and a time deposit, a fund with a yearly fee, and fees
// from every source — equals a hand computation with exact fractions under
// the documented conventions (day-weighted balances carried to the next
// snapshot day and capped at the month's end, actual/365, the FTP at the
// original tenor, each component rounded to the cent, totals the sums of
// the rounded parts), and the delivered interest is reported beside it.
func TestContribution_EqualsAHandComputationToTheCent(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 400, Days: 2, Seed: 7})
	db := b.W.DB()
	ctx := context.Background()
	var party string
	sqltest.Row(t, db, `SELECT min(party_id) FROM core.party WHERE party_type = 'C'`).Scan(&party)
	exec := func(q string, args ...any) { t.Helper(); sqltest.Exec(t, db, q, args...) }
	// Snapshots on Sat 1 March, Mon 3 March and Mon 31 March 2025: the
	// first holds two days, the second 28, the last one (to the month's
	// end; the bank's own days are in a later month).
	days := []string{"2025-03-01", "2025-03-03", "2025-03-31"}
	weights := []int64{2, 28, 1}
	exec(`INSERT INTO core.loan (party_id, loan_no, cust_no, currency, contract_amount, balance, interest_rate, start_date, maturity_date, five_class, status, last_seen, load_id)
		VALUES (?, 'FXL1', 'X', 'CNY', 50000000000, 49999800000, 0.0435, DATE '2024-03-10', DATE '2027-03-10', '1', 'ACTIVE', '20250331', 0),
		       (?, 'FXL2', 'X', 'USD', 1000000, 1000000, 0.05, DATE '2025-01-15', DATE '2025-07-15', '1', 'ACTIVE', '20250331', 0),
		       (?, 'FXL3', 'X', 'ZAR', 500000, 500000, 0.09, DATE '2025-01-15', DATE '2026-01-15', '1', 'ACTIVE', '20250331', 0)`, party, party, party)
	// (a core enterprise's 500亿: balance × rate overflows 18 digits unless
	// widened first)
	cnyBalance := []string{"50000000000.00", "49999800000.00", "49999700000.00"}
	for i, d := range days {
		exec(`INSERT INTO core.loan_daily (party_id, loan_no, cust_no, balance, five_class, status, interest_rate, currency, as_of_date, load_id)
			VALUES (?, 'FXL1', 'X', CAST(? AS DECIMAL(18,2)), '1', 'ACTIVE', 0.0435, 'CNY', CAST(? AS DATE), 0),
			       (?, 'FXL2', 'X', 1000000.00, '1', 'ACTIVE', 0.05, 'USD', CAST(? AS DATE), 0),
			       (?, 'FXL3', 'X', 500000.00, '1', 'ACTIVE', 0.09, 'ZAR', CAST(? AS DATE), 0)`,
			party, cnyBalance[i], d, party, d, party, d)
		exec(`INSERT INTO core.holding_daily (party_id, product_code, product_type, currency, amount_cny, as_of_date, load_id, system, cust_no, acct_no, rate, term_months, fee_rate)
			VALUES (?, 'DD', 'DEMAND', 'CNY', 5000000.00, CAST(? AS DATE), 0, 'core_banking', 'X', 'FXD1', 0.2000, NULL, NULL),
			       (?, 'TD12', 'TIME_DEPOSIT', 'CNY', 20000000.00, CAST(? AS DATE), 0, 'core_banking', 'X', 'FXD2', 1.6500, 12, NULL),
			       (?, 'FUND7', 'FUND', 'CNY', 3000000.00, CAST(? AS DATE), 0, 'wealth', NULL, NULL, NULL, NULL, 0.6000)`,
			party, d, party, d, party, d)
	}
	exec(`INSERT INTO core.trade (party_id, trade_id, client_id, product_code, side, amount_cny, trade_time, fee, load_id)
		VALUES (?, 'FXT1', 'X', 'FUND7', 'BUY', 205760.00, TIMESTAMP '2025-03-05 10:00:00', 1234.56, 0)`, party)
	exec(`INSERT INTO core.card_txn (party_id, txn_id, card_account_id, txn_time, amount, currency, txn_type, fee, interchange, load_id)
		VALUES (?, 'FXC1', 'X', TIMESTAMP '2025-03-07 10:00:00', 3000.00, 'CNY', 'CASH', 30.00, NULL, 0),
		       (?, 'FXC2', 'X', TIMESTAMP '2025-03-08 10:00:00', 10148.00, 'CNY', 'PURCHASE', NULL, 45.67, 0)`, party, party)
	exec(`INSERT INTO core.settlement (party_id, txn_id, cust_no, acct_no, txn_time, direction, amount, currency, amount_cny, channel, fee, load_id)
		VALUES (?, 'FXS1', 'X', 'A', TIMESTAMP '2025-03-11 10:00:00', 'OUT', 250000, 'CNY', 250000, 'SWIFT', 250.00, 0),
		       (?, 'FXS2', 'X', 'A', TIMESTAMP '2025-03-12 10:00:00', 'OUT', 200000, 'CNY', 200000, 'BILL', 100.00, 0),
		       (?, 'FXS3', 'X', 'A', TIMESTAMP '2025-03-13 10:00:00', 'OUT', 90000, 'CNY', 90000, 'BATCH', 20.00, 0),
		       (?, 'FXS4', 'X', 'A', TIMESTAMP '2025-03-14 10:00:00', 'OUT', 10000, 'CNY', 10000, 'EBANK', 5.10, 0),
		       (?, 'FXS5', 'X', 'A', TIMESTAMP '2025-03-15 10:00:00', 'OUT', 10000, 'CNY', 10000, 'COUNTER', 20.00, 0)`,
		party, party, party, party, party)
	exec(`INSERT INTO core.repayment (party_id, loan_no, due_date, paid_date, principal_due, principal_paid, interest_paid, last_seen, load_id)
		VALUES (?, 'FXL1', DATE '2025-03-10', DATE '2025-03-10', 200000, 200000, 36250.00, '20250331', 0)`, party)

	cfg := tiers.Config{}.WithDefaults()
	if _, err := tiers.Build(ctx, b.W, cfg, testbank.Quiet); err != nil {
		t.Fatal(err)
	}

	// The hand computation, in exact fractions.
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("bad number %q", s)
		}
		return r
	}
	ftp := func(months float64) *big.Rat { return new(big.Rat).SetFloat64(cfg.Contribution.FTP(months)) }
	mul := func(xs ...*big.Rat) *big.Rat {
		out := big.NewRat(1, 1)
		for _, x := range xs {
			out.Mul(out, x)
		}
		return out
	}
	add := func(xs ...*big.Rat) *big.Rat {
		out := new(big.Rat)
		for _, x := range xs {
			out.Add(out, x)
		}
		return out
	}
	// cents rounds half away from zero, as the SQL's round(x, 2).
	cents := func(x *big.Rat) *big.Rat {
		c := new(big.Rat).Mul(x, big.NewRat(100, 1))
		n, d := c.Num(), c.Denom()
		q, m := new(big.Int).QuoRem(n, d, new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(d) >= 0 {
			q.Add(q, big.NewInt(int64(n.Sign())))
		}
		return new(big.Rat).SetFrac(q, big.NewInt(100))
	}
	per365, perCent := big.NewRat(1, 365), big.NewRat(1, 100)
	balanceDays := func(balances ...string) *big.Rat {
		sum := new(big.Rat)
		for i, s := range balances {
			sum.Add(sum, mul(rat(s), big.NewRat(weights[i], 1)))
		}
		return sum
	}
	cnyDays := balanceDays(cnyBalance...)
	usdDays := mul(balanceDays("1000000", "1000000", "1000000"), rat("7.10"))
	loanInterest := cents(add(mul(cnyDays, rat("0.0435"), per365), mul(usdDays, rat("0.05"), per365)))
	loanFTP := cents(add(mul(cnyDays, ftp(36), perCent, per365), mul(usdDays, ftp(6), perCent, per365)))
	demandDays, timeDays := balanceDays("5000000", "5000000", "5000000"), balanceDays("20000000", "20000000", "20000000")
	depositInterest := cents(add(mul(demandDays, rat("0.20"), perCent, per365), mul(timeDays, rat("1.65"), perCent, per365)))
	depositFTP := cents(add(mul(demandDays, ftp(0), perCent, per365), mul(timeDays, ftp(12), perCent, per365)))
	mgmt := cents(mul(balanceDays("3000000", "3000000", "3000000"), rat("0.60"), perCent, per365))
	sales, card, interchange := rat("1234.56"), rat("30.00"), rat("45.67")
	settlement, fx, bill, cash := rat("25.10"), rat("250.00"), rat("100.00"), rat("20.00")
	fees := add(sales, mgmt, card, interchange, settlement, fx, bill, cash)
	nii := add(new(big.Rat).Sub(loanInterest, loanFTP), new(big.Rat).Sub(depositFTP, depositInterest))
	want := map[string]*big.Rat{
		"days":                     big.NewRat(31, 1),
		"loan_adb":                 cents(mul(add(cnyDays, usdDays), big.NewRat(1, 31))),
		"loan_interest":            loanInterest,
		"loan_ftp":                 loanFTP,
		"loan_nii":                 new(big.Rat).Sub(loanInterest, loanFTP),
		"deposit_adb":              cents(mul(add(demandDays, timeDays), big.NewRat(1, 31))),
		"deposit_interest":         depositInterest,
		"deposit_ftp":              depositFTP,
		"deposit_nii":              new(big.Rat).Sub(depositFTP, depositInterest),
		"investment_adb":           rat("3000000"),
		"fee_wealth_sales":         sales,
		"fee_wealth_management":    mgmt,
		"fee_card":                 card,
		"fee_card_interchange":     interchange,
		"fee_settlement":           settlement,
		"fee_fx":                   fx,
		"fee_bill":                 bill,
		"fee_cash_management":      cash,
		"fee_income":               fees,
		"nii":                      nii,
		"contribution":             add(nii, fees),
		"loan_interest_delivered":  rat("36250.00"),
		"loan_interest_difference": new(big.Rat).Sub(rat("36250.00"), loanInterest),
		"loans_unpriced":           big.NewRat(1, 1),
		"deposits_unpriced":        new(big.Rat),
	}
	for col, w := range want {
		var got string
		sqltest.Row(t, db, fmt.Sprintf(`SELECT CAST(%s AS VARCHAR) FROM mart.contribution WHERE party_id = ? AND month = DATE '2025-03-01'`, col), party).Scan(&got)
		if g := rat(got); g.Cmp(w) != 0 {
			t.Errorf("%s = %s, want %s", col, got, w.FloatString(2))
		}
	}
	t.Logf("fixture March 2025: contribution %s = net interest %s + fees %s", want["contribution"].FloatString(2), nii.FloatString(2), fees.FloatString(2))
}

// The report on a generated bank: the tiers' parts add up to the total,
// the concentration curve rises to 100% of it, and the bank's
// contribution is concentrated as the seeds say (the top 15% of persons
// and of companies bring 60% or more of their type's).
func TestReport_AddsUpAndIsConcentrated(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 4000, Days: 2, Seed: 3})
	ctx := context.Background()
	sum, err := tiers.Build(ctx, b.W, tiers.Config{}, testbank.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tiers.ReadReport(ctx, b.W.DB(), "true")
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Total <= 0 || r.Summary.Fees <= 0 || r.Summary.NII <= 0 {
		t.Fatalf("summary %+v: want a positive contribution, net interest and fees", r.Summary)
	}
	if sum.Contribution == nil || *sum.Contribution != r.Summary {
		t.Errorf("the build's summary %+v differs from the report's %+v", sum.Contribution, r.Summary)
	}
	var byTier float64
	var parties int64
	for _, tc := range r.ByTier {
		byTier += tc.Contribution
		parties += tc.Parties
	}
	if d := byTier - r.Summary.Total; d > 0.01 || d < -0.01 {
		t.Errorf("tiers add up to %.2f, the total is %.2f", byTier, r.Summary.Total)
	}
	if parties != sum.Parties {
		t.Errorf("tiers cover %d parties, the build %d", parties, sum.Parties)
	}
	last := map[string]float64{}
	for _, c := range r.Concentration {
		if c.Share < last[c.PartyType] {
			t.Errorf("%q top %d%%: share %.3f below the step before (%.3f)", c.PartyType, c.Percent, c.Share, last[c.PartyType])
		}
		last[c.PartyType] = c.Share
		if c.Percent == 100 && (c.Share < 0.9999 || c.Share > 1.0001) {
			t.Errorf("%q: all parties bring %.4f of the total, want 1", c.PartyType, c.Share)
		}
		if c.Percent == 15 && c.Share < 0.60 {
			t.Errorf("%q: the top 15%% bring %.1f%%, want the seeds' 60%% or more", c.PartyType, 100*c.Share)
		}
		if c.Percent == 15 {
			t.Logf("%q: the top 15%% bring %.1f%%", c.PartyType, 100*c.Share)
		}
	}
	if r.Summary.LoansUnpriced != 0 || r.Summary.DepositsUnpriced != 0 {
		t.Errorf("the generated bank has unpriced accounts: %+v", r.Summary)
	}
}
