package core_test

import (
	"context"
	"maps"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/core"
)

// The industry chain: the supply links the generator planted between
// client companies (truth/links.csv, kind supplier: a pays b) come back as
// core.chain_link rows (a's supplier b, b's buyer a), resolved by account,
// precision and recall ≥ 0.95; every link's share of its company's flows
// adds up to 1 per company, direction and source.
func TestChainLink_RecoversThePlantedSupplyChain(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 3000, Days: 7, Seed: 2})
	// Judged on the generator's parties: each of our parties stands for
	// the real party its core banking record belongs to (the chain is read
	// from core banking; how well unification merged the other systems'
	// records is the identity stage's test).
	owner := map[string]string{}
	for _, r := range b.Truth(t, "xref.csv") {
		if r[0] == "core_banking" {
			owner[r[1]] = r[2]
		}
	}
	real := map[string]string{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT party_id, source_key FROM core.party_xref WHERE system = 'core_banking'`) {
		var p, k string
		scan(&p, &k)
		real[p] = owner[k]
	}
	want := map[[2]string]bool{}
	for _, r := range b.Truth(t, "links.csv") {
		if r[2] == "supplier" {
			want[[2]string{r[0], r[1]}] = true
		}
	}
	got := map[[2]string]bool{}
	for scan := range sqltest.Rows(t, b.W.DB(), `SELECT party_id, counterparty_id FROM core.chain_link
		WHERE link_type = 'supplier' AND counterparty_id IS NOT NULL AND source = 'core_banking'`) {
		var a, c string
		scan(&a, &c)
		got[[2]string{real[a], real[c]}] = true
	}
	hit := 0
	for k := range got {
		if want[k] {
			hit++
		}
	}
	precision, recall := float64(hit)/float64(max(len(got), 1)), float64(hit)/float64(max(len(want), 1))
	t.Logf("supply links: %d planted, %d found: precision %.3f recall %.3f", len(want), len(got), precision, recall)
	if len(want) == 0 || precision < 0.95 || recall < 0.95 {
		t.Errorf("supply links: %d planted, %d found, precision %.3f recall %.3f; want ≥ 0.95 each", len(want), len(got), precision, recall)
	}
	// Each buyer link mirrors a supplier link of the other side.
	var unmirrored int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FROM core.chain_link s WHERE s.link_type = 'supplier' AND s.counterparty_id IS NOT NULL AND s.source = 'core_banking'
		AND NOT EXISTS (SELECT 1 FROM core.chain_link b WHERE b.link_type = 'buyer' AND b.party_id = s.counterparty_id AND b.counterparty_id = s.party_id)`).Scan(&unmirrored)
	if unmirrored > len(got)/20 {
		t.Errorf("%d of %d supplier links have no buyer link the other way", unmirrored, len(got))
	}
	// Shares are of all the company's flows its system shows: at most 1
	// together, exactly 1 where core banking shows only company counterparties.
	var over, exact, total int
	sqltest.Row(t, b.W.DB(), `SELECT count(*) FILTER (s > 1.001), count(*) FILTER (abs(s - 1) <= 0.001), count(*)
		FROM (SELECT sum(share) AS s FROM core.chain_link WHERE source = 'core_banking' GROUP BY party_id, link_type)`).Scan(&over, &exact, &total)
	if over != 0 || exact < total*9/10 {
		t.Errorf("core banking shares: %d companies above 1, %d of %d at 1", over, exact, total)
	}
}

// A link's counterparty name and bank are its latest payment's: of two
// payments on its last day at different banks, the later one's (whichever
// bank sorts first); of two at the same moment, the greater. A link core
// banking shows is its, e-banking's only where core banking shows none.
// A rebuild gives the same links.
func TestChainLink_TheLatestPaymentNamesTheBank(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 600, Days: 2, Seed: 5})
	db := b.W.DB()
	var company, day string
	sqltest.Row(t, db, `SELECT min(party_id) FROM core.party WHERE party_type = 'C'`).Scan(&company)
	sqltest.Row(t, db, `SELECT CAST(max(CAST(txn_time AS DATE)) AS VARCHAR) FROM core.settlement`).Scan(&day)
	if _, err := db.Exec(`INSERT INTO core.settlement (party_id, txn_id, cust_no, acct_no, txn_time, direction, amount, currency, amount_cny,
			channel, counterparty_name, counterparty_acct, counterparty_bank, load_id)
		SELECT ?, id, 'X', 'A', CAST(? AS DATE) + CAST(tm AS INTERVAL), 'OUT', 1000, 'CNY', 1000, 'EBANK', name, NULL, bank, 0
		FROM (VALUES ('TIE1', '09:00:00', '甲乙丙测试有限公司', '工商银行'), ('TIE2', '15:00:00', '甲乙丙测试有限公司', '兴业银行'),
		             ('TIE3', '12:00:00', '丁戊己测试有限公司', '工商银行'), ('TIE4', '12:00:00', '丁戊己测试有限公司', '兴业银行')) t(id, tm, name, bank)`,
		company, day); err != nil {
		t.Fatal(err)
	}
	// e-banking's word only where core banking has none
	if _, err := db.Exec(`INSERT INTO core.digital_event (party_id, event_id, user_id, ts, channel, event_type, amount, currency,
			counterparty_name, counterparty_bank, cross_border, load_id)
		SELECT ?, id, 'X', CAST(? AS DATE) + INTERVAL 10 HOUR, 'CORP_WEB', 'TRANSFER_OUT', 500, 'CNY', name, '建设银行', false, 0
		FROM (VALUES ('TIE5', '甲乙丙测试有限公司'), ('TIE6', '庚辛测试有限公司')) t(id, name)`, company, day); err != nil {
		t.Fatal(err)
	}
	links := func() map[string]string {
		t.Helper()
		if _, err := core.Build(context.Background(), b.W, testbank.Quiet); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for scan := range sqltest.Rows(t, db, `SELECT counterparty_name, counterparty_bank FROM core.chain_link
			WHERE party_id = ? AND counterparty_name LIKE '%测试有限公司'`, company) {
			var name, bank string
			scan(&name, &bank)
			got[name] = bank
		}
		return got
	}
	first := links()
	var sources string
	sqltest.Row(t, db, `SELECT string_agg(counterparty_name || ':' || source, ' ' ORDER BY counterparty_name, source) FROM core.chain_link
		WHERE party_id = ? AND counterparty_name LIKE '%测试有限公司'`, company).Scan(&sources)
	if want := "丁戊己测试有限公司:core_banking 庚辛测试有限公司:ebank 甲乙丙测试有限公司:core_banking"; sources != want {
		t.Errorf("links by source: %s, want %s", sources, want)
	}
	// (兴 U+5174 sorts before 工 U+5DE5)
	want := map[string]string{"甲乙丙测试有限公司": "兴业银行", "丁戊己测试有限公司": "工商银行", "庚辛测试有限公司": "建设银行"}
	if !maps.Equal(first, want) {
		t.Errorf("links' banks %v, want %v (the later payment's; at the same moment, the greater)", first, want)
	}
	var n1, n2, same int
	sqltest.Row(t, db, `SELECT count(*) FROM core.chain_link`).Scan(&n1)
	if _, err := db.Exec(`CREATE TABLE chain_before AS SELECT * FROM core.chain_link`); err != nil {
		t.Fatal(err)
	}
	if again := links(); !maps.Equal(again, first) {
		t.Errorf("a rebuild gave %v, the first %v", again, first)
	}
	sqltest.Row(t, db, `SELECT (SELECT count(*) FROM core.chain_link), (SELECT count(*) FROM (SELECT * FROM core.chain_link INTERSECT ALL SELECT * FROM chain_before))`).Scan(&n2, &same)
	if n1 == 0 || n2 != n1 || same != n1 {
		t.Errorf("a rebuild: %d links, %d of them as before; the first build had %d", n2, same, n1)
	}
	// Built in parts (as a big bank's is, to fit the memory budget), the
	// same rows: a company's links come from its own payments.
	build := func(parts int) {
		t.Helper()
		if _, err := core.BuildWith(context.Background(), b.W, core.Options{Full: true, ChainParts: parts, Logger: testbank.Quiet}); err != nil {
			t.Fatal(err)
		}
	}
	build(1)
	sqltest.Exec(t, db, `CREATE OR REPLACE TABLE chain_before AS SELECT * FROM core.chain_link`)
	build(4)
	sqltest.Row(t, db, `SELECT (SELECT count(*) FROM chain_before), (SELECT count(*) FROM core.chain_link),
		(SELECT count(*) FROM (SELECT * FROM core.chain_link INTERSECT ALL SELECT * FROM chain_before))`).Scan(&n1, &n2, &same)
	if n1 == 0 || n2 != n1 || same != n1 {
		t.Errorf("in four parts: %d links, %d of them as in one; one part had %d", n2, same, n1)
	}
}
