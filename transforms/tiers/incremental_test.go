package tiers_test

import (
	"context"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/tiers"
)

// An incremental build of mart.contribution equals a full rebuild of the
// same state, row for row, after a series of planted changes, each
// incremental build on the last incremental one: a late fee in an old
// month, a snapshot's balance restated, a loan's tenor corrected (its FTP
// in every month), a party's type changed, a party gone, a month's
// settlements and then its snapshots withdrawn, a snapshot day in a new
// month and then withdrawn (the run's day moves on and back). Each rebuilds only the months it touched and
// the run's; a new FTP curve, and rows deleted from mart.contribution by
// hand (its count is not the one the last build left), rebuild every
// month.
func TestContribution_IncrementalEqualsAFullRebuild(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 11})
	db := b.W.DB()
	ctx := context.Background()
	exec := func(q string, args ...any) { t.Helper(); sqltest.Exec(t, db, q, args...) }
	var company, person string
	sqltest.Row(t, db, `SELECT min(party_id) FROM core.party WHERE party_type = 'C'`).Scan(&company)
	sqltest.Row(t, db, `SELECT min(party_id) FROM core.party WHERE party_type = 'P'`).Scan(&person)
	// Two older months of the company's: a loan and a deposit on three
	// snapshot days, fees in both.
	exec(`INSERT INTO core.loan (party_id, loan_no, cust_no, currency, contract_amount, balance, interest_rate, start_date, maturity_date, five_class, status, last_seen, load_id)
		VALUES (?, 'IXL1', 'X', 'CNY', 9000000, 8000000, 0.041, DATE '2026-06-10', DATE '2027-06-10', '1', 'ACTIVE', '20260930', 0)`, company)
	for _, d := range []string{"2026-08-03", "2026-08-17", "2026-09-01"} {
		exec(`INSERT INTO core.loan_daily (party_id, loan_no, cust_no, balance, five_class, status, interest_rate, currency, as_of_date, load_id)
			VALUES (?, 'IXL1', 'X', 8000000.00, '1', 'ACTIVE', 0.041, 'CNY', CAST(? AS DATE), 0)`, company, d)
		exec(`INSERT INTO core.holding_daily (party_id, product_code, product_type, currency, amount_cny, as_of_date, load_id, system, cust_no, acct_no, rate, term_months, fee_rate)
			VALUES (?, 'TD6', 'TIME_DEPOSIT', 'CNY', 3000000.00, CAST(? AS DATE), 0, 'core_banking', 'X', 'IXD1', 1.4500, 6, NULL)`, company, d)
	}
	exec(`INSERT INTO core.settlement (party_id, txn_id, cust_no, acct_no, txn_time, direction, amount, currency, amount_cny, channel, fee, load_id)
		VALUES (?, 'IXS1', 'X', 'A', TIMESTAMP '2026-08-11 10:00:00', 'OUT', 250000, 'CNY', 250000, 'SWIFT', 250.00, 0),
		       (?, 'IXS2', 'X', 'A', TIMESTAMP '2026-09-12 10:00:00', 'OUT', 90000, 'CNY', 90000, 'BATCH', 20.00, 0)`, company, company)

	cfg := tiers.Config{}.WithDefaults()
	build := func(full bool) *tiers.Summary {
		t.Helper()
		s, err := tiers.BuildWith(ctx, b.W, cfg, tiers.Options{Full: full, Logger: testbank.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := build(false); s.ContributionMode != "full" {
		t.Fatalf("the first build: %s, want full", s.ContributionMode)
	}
	var months int
	sqltest.Row(t, db, `SELECT count(DISTINCT month) FROM mart.contribution`).Scan(&months)
	if months < 3 {
		t.Fatalf("mart.contribution holds %d months, want the planted two and the bank's", months)
	}
	// an incremental build, on the last one (incremental or not)
	check := func(what string, wantMonths int) {
		t.Helper()
		s := build(false)
		if s.ContributionMode != "incremental" || s.ContributionMonths != wantMonths {
			t.Errorf("%s: %s build of %d months, want incremental of %d", what, s.ContributionMode, s.ContributionMonths, wantMonths)
		}
	}
	// the incremental builds so far, against a full rebuild of the same state
	same := func(what string) {
		t.Helper()
		exec(`CREATE OR REPLACE TABLE cmp_incremental AS SELECT * FROM mart.contribution`)
		if s := build(true); s.ContributionMode != "full" {
			t.Fatalf("%s: --full gave a %s build", what, s.ContributionMode)
		}
		var n, onlyInc, onlyFull int
		sqltest.Row(t, db, `SELECT (SELECT count(*) FROM mart.contribution),
			(SELECT count(*) FROM (SELECT * FROM cmp_incremental EXCEPT ALL SELECT * FROM mart.contribution)),
			(SELECT count(*) FROM (SELECT * FROM mart.contribution EXCEPT ALL SELECT * FROM cmp_incremental))`).Scan(&n, &onlyInc, &onlyFull)
		if n == 0 || onlyInc != 0 || onlyFull != 0 {
			t.Errorf("%s: %d rows in full; %d only in the incremental build, %d only in the full one", what, n, onlyInc, onlyFull)
		}
	}

	check("nothing changed", 1) // the run's month
	exec(`INSERT INTO core.card_txn (party_id, txn_id, card_account_id, txn_time, amount, currency, txn_type, fee, interchange, load_id)
		VALUES (?, 'IXC1', 'X', TIMESTAMP '2026-08-07 10:00:00', 3000.00, 'CNY', 'CASH', 30.00, NULL, 0)`, person)
	check("a late fee in August", 2)
	exec(`UPDATE core.holding_daily SET amount_cny = 3500000.00 WHERE acct_no = 'IXD1' AND as_of_date = DATE '2026-08-17'`)
	check("a balance of August restated", 2)
	exec(`UPDATE core.loan SET maturity_date = DATE '2029-06-10' WHERE loan_no = 'IXL1'`)
	check("a loan's tenor corrected", 3) // August, September, the run's
	same("four incremental builds in a row")

	exec(`UPDATE core.party SET party_type = 'P' WHERE party_id = ?`, company)
	check("a party's type", 1)
	exec(`DELETE FROM core.party WHERE party_id = ?`, person)
	check("a party gone", 1)
	var unknown int
	sqltest.Row(t, db, `SELECT count(*) FILTER (party_type = '?') FROM mart.contribution WHERE party_id = ? AND month = DATE '2026-08-01'`, person).Scan(&unknown)
	if unknown != 1 {
		t.Errorf("the party gone: %d of its August rows of type '?', want 1", unknown)
	}
	exec(`DELETE FROM core.settlement WHERE txn_id = 'IXS2'`)
	check("September's settlements withdrawn", 2)
	exec(`DELETE FROM core.loan_daily WHERE loan_no = 'IXL1' AND as_of_date = DATE '2026-09-01'`)
	exec(`DELETE FROM core.holding_daily WHERE acct_no = 'IXD1' AND as_of_date = DATE '2026-09-01'`)
	check("September's snapshots withdrawn", 2)
	var september int
	sqltest.Row(t, db, `SELECT count(*) FROM mart.contribution WHERE party_id = ? AND month = DATE '2026-09-01'`, company).Scan(&september)
	if september != 0 {
		t.Errorf("the company has %d rows of September left, with none of its inputs", september)
	}
	same("after parties' types and withdrawn rows")

	exec(`INSERT INTO core.holding_daily (party_id, product_code, product_type, currency, amount_cny, as_of_date, load_id, system, cust_no, acct_no, rate, term_months, fee_rate)
		VALUES (?, 'TD6', 'TIME_DEPOSIT', 'CNY', 3000000.00, DATE '2026-12-01', 0, 'core_banking', 'X', 'IXD1', 1.4500, 6, NULL)`, company)
	check("a snapshot day in December", 2) // November and December
	exec(`DELETE FROM core.holding_daily WHERE as_of_date = DATE '2026-12-01'`)
	check("December withdrawn: the run's day goes back", 2)
	same("after the run's day moved on and back")

	// every month: new prices, or a table changed by hand
	cfg.Contribution.FTPCurve[0].Rate += 0.1
	sqltest.Row(t, db, `SELECT count(DISTINCT month) FROM mart.contribution`).Scan(&months)
	if s := build(false); s.ContributionMode != "full" || s.ContributionMonths != months {
		t.Errorf("a new FTP curve: %s build of %d months, want full of %d", s.ContributionMode, s.ContributionMonths, months)
	}
	exec(`DELETE FROM mart.contribution WHERE month = DATE '2026-08-01'`)
	if s := build(false); s.ContributionMode != "full" {
		t.Errorf("rows deleted by hand (the count the last build left moved): %s build, want full", s.ContributionMode)
	}
	check("after the full builds", 1)
	exec(`DROP TABLE mart.contribution`)
	if s := build(false); s.ContributionMode != "full" {
		t.Errorf("mart.contribution dropped: %s build, want full", s.ContributionMode)
	}
	check("after the table was dropped and rebuilt", 1)
	same("at the end")
}
