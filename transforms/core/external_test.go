package core_test

import (
	"context"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/core"
)

// The external feed: statements and opinion events name companies by
// their unified social credit code, and each is resolved to a party
// holding the company's records (every one rightly, ≥ 95% of the rows of
// the generator's companies resolved), companies that are not
// the bank's stay unresolved, a restated year replaces the first
// delivery, and the industry outlook turns down for exactly the divisions
// the generator planted.
func TestExternal_ResolvedByCreditCodeRestatedAndOutlook(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 2})
	db := b.W.DB()
	companyOf := map[string]string{} // credit code → the generator's party
	for _, r := range b.Truth(t, "parties.csv") {
		if r[1] == "company" {
			companyOf[r[4]] = r[0]
		}
	}
	// Which of the generator's parties each of ours holds records of.
	owner := map[string]string{}
	for _, r := range b.Truth(t, "xref.csv") {
		owner[r[0]+":"+r[1]] = r[2]
	}
	holds := map[[2]string]bool{}
	for scan := range sqltest.Rows(t, db, `SELECT party_id, system, source_key FROM core.party_xref`) {
		var p, sys, key string
		scan(&p, &sys, &key)
		holds[[2]string{p, owner[sys+":"+key]}] = true
	}
	for _, table := range []string{"core.company_financials", "core.opinion_event"} {
		var resolved, right, unresolved, ofOurs int
		for scan := range sqltest.Rows(t, db, `SELECT credit_code, party_id FROM `+table) {
			var code string
			var party *string
			scan(&code, &party)
			real, isOurs := companyOf[code]
			if isOurs {
				ofOurs++
			}
			switch {
			case party == nil && isOurs:
				unresolved++
			case party == nil:
			case !isOurs:
				t.Errorf("%s: credit code of no client company resolved to %s", table, *party)
			default:
				resolved++
				if holds[[2]string{*party, real}] {
					right++
				}
			}
		}
		t.Logf("%s: %d rows of our companies, %d resolved (%d to the right party), %d not", table, ofOurs, resolved, right, unresolved)
		if resolved == 0 || right != resolved || float64(resolved) < 0.95*float64(ofOurs) {
			t.Errorf("%s: %d of %d rows of our companies resolved, %d rightly; want all rightly and ≥ 95%%", table, resolved, ofOurs, right)
		}
		if ofOurs == 0 || count(t, b.W, `SELECT count(*) FROM `+table+` WHERE party_id IS NULL`) < 1 {
			t.Errorf("%s: want rows of our companies and of companies that are not the bank's", table)
		}
	}
	// One row a company and year; a restated year is the later delivery.
	if n := count(t, b.W, `SELECT count(*) - count(DISTINCT (credit_code, fiscal_year)) FROM core.company_financials`); n != 0 {
		t.Errorf("core.company_financials: %d duplicate years", n)
	}
	restated := count(t, b.W, `SELECT count(*) FROM (SELECT credit_code, fiscal_year FROM raw.external_financials GROUP BY ALL HAVING count(*) > 1)`)
	stale := count(t, b.W, `SELECT count(*) FROM core.company_financials c JOIN raw.external_financials r
		ON r.credit_code = c.credit_code AND r.fiscal_year = c.fiscal_year AND r._load_id > c.load_id`)
	if restated == 0 || stale != 0 {
		t.Errorf("%d restated years delivered, %d kept at an older delivery; want some, none", restated, stale)
	}
	// A vendor's absurd row (liabilities 200 million times the assets, a
	// units mix-up) and an empty one load and build: no ratio, no failure.
	for _, q := range []string{
		`INSERT INTO raw.external_financials (credit_code, fiscal_year, total_assets, total_liabilities, _load_id, _source)
		 VALUES ('91110105123456789X', 2025, 1.00, 200000000.00, 1000000, 'external/financials_20261120.csv:90'),
		        ('91110105123456789Y', 2025, NULL, NULL, 1000000, 'external/financials_20261120.csv:91')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := core.BuildWith(context.Background(), b.W, core.Options{Full: true, Logger: testbank.Quiet}); err != nil {
		t.Fatalf("a full build over an absurd statement: %v", err)
	}
	if n := count(t, b.W, `SELECT count(*) FROM core.company_financials WHERE credit_code LIKE '91110105123456789_' AND debt_ratio IS NULL`); n != 2 {
		t.Errorf("%d of the absurd and empty statements kept without a ratio, want 2", n)
	}
	// The outlook: the planted divisions turn down, no other does.
	planted := map[string]bool{}
	for _, r := range b.Truth(t, "industry_downturn.csv") {
		planted[r[1]] = true
	}
	got := map[string]bool{}
	for scan := range sqltest.Rows(t, db, `SELECT division FROM core.industry_outlook WHERE outlook = 'turning_down'`) {
		var d string
		scan(&d)
		got[d] = true
	}
	if len(planted) == 0 || len(got) != len(planted) {
		t.Errorf("divisions turning down %v, planted %v", got, planted)
	}
	for d := range got {
		if !planted[d] {
			t.Errorf("division %s turns down; the generator planted %v", d, planted)
		}
	}
}
