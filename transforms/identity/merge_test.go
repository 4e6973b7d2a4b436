package identity_test

import (
	"fmt"
	"strings"
	"testing"

	"cdp/internal/sqltest"
	"cdp/transforms/identity/normal"
	"cdp/warehouse"
)

// residentID builds a valid 18-digit resident ID.
func residentID(region, birth, seq string) string {
	s := region + birth + seq
	return s + string(normal.ResidentCheck(s))
}

// usccFor builds a valid unified social credit code from an 8-digit body.
func usccFor(body string) string {
	org := body + string(normal.OrgCodeCheck(body))
	s := "91" + "110105" + org
	return s + string(normal.USCCCheck(s))
}

var loadSeq = 9000

// put inserts one raw row as if a snapshot of the given date delivered it.
func put(t *testing.T, w *warehouse.Warehouse, table, date string, cols []string, vals ...any) {
	t.Helper()
	putSource(t, w, table, table+"_"+date+".x", cols, vals...)
}

// putSource inserts one raw row with the given _source.
func putSource(t *testing.T, w *warehouse.Warehouse, table, source string, cols []string, vals ...any) {
	t.Helper()
	loadSeq++
	ph := ""
	for range vals {
		ph += "?, "
	}
	list := ""
	for _, c := range cols {
		list += c + ", "
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s_load_id, _source, _ingested_at) VALUES (%s%d, '%s', now())`,
		table, list, ph, loadSeq, source)
	if _, err := w.DB().Exec(q, vals...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	// The load's ledger row, as ingest writes it.
	entity := strings.Replace(strings.TrimPrefix(table, "raw."), "_", ".", 1)
	if _, err := w.DB().Exec(`INSERT INTO ops.loads (load_id, feed, entity, kind, source, status, started_at)
		VALUES (?, ?, ?, 'file', ?, 'loaded', now())`, loadSeq, strings.Split(entity, ".")[0], entity,
		strings.SplitN(source, ":", 2)[0]); err != nil {
		t.Fatal(err)
	}
}

var (
	creditCols = []string{"cust_no", "cust_type", "name", "id_type", "id_no", "mobile", "birth_date", "legal_rep_name", "legal_rep_id_no"}
	cardCols   = []string{"holder_id", "name", "id_type", "id_no", "mobile", "birth_date"}
	ebankCols  = []string{"user_id", "user_type", "name", "id_no", "mobile"}
	wealthCols = []string{"client_id", "name", "id_type", "id_no", "mobile"}
)

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestUnify_MergesAndSplitsKeepTheDocumentedIDs plays a customer's records
// over three deliveries on top of a generated bank:
//
//	day 1: credit X1 (valid ID A, mobile M1); card X2 (same name, no ID,
//	       mobile M2): too little evidence, two parties.
//	day 2: e-banking X3 arrives with ID A (lower-case, spaced) and mobile M2:
//	       it joins X1 by the ID and X2 by name + mobile, so the two parties
//	       merge; the older id survives and the merge is logged.
//	day 3: X3's mobile changes: X2 loses its only link and splits off with
//	       a new id, logged; X1 and X3 keep the surviving id.
func TestUnify_MergesAndSplitsKeepTheDocumentedIDs(t *testing.T) {
	b := newBank(t, 600, 1)
	w := b.W
	b.Ingest(t)
	idA := residentID("110105", "19800102", "123")
	const m1, m2, m4 = "13812340001", "13912340002", "13712340004"
	put(t, w, "raw.credit_customers", "20261120", creditCols, "XC1", "P", "欧阳锋", "ID_CARD", idA, m1, "1980-01-02", nil, nil)
	put(t, w, "raw.card_holders", "20261120", cardCols, "XH2", "欧阳锋", "ID_CARD", nil, m2, nil)
	unify(t, w, false)
	day1 := xrefParties(t, w)
	p1, p2 := day1["credit:XC1"], day1["card:XH2"]
	if p1 == "" || p2 == "" || p1 == p2 {
		t.Fatalf("day 1: X1 in %q, X2 in %q: want two parties", p1, p2)
	}

	noisyA := idA[:6] + " " + idA[6:]
	put(t, w, "raw.ebank_users", "20261121", ebankCols, "ouyangfeng", "PERSONAL", "欧阳锋", noisyA, "+86 "+m2)
	s := unify(t, w, false)
	day2 := xrefParties(t, w)
	survivor := min(p1, p2)
	for _, k := range []string{"credit:XC1", "card:XH2", "ebank:ouyangfeng"} {
		if day2[k] != survivor {
			t.Errorf("day 2: %s in %s, want the surviving (older) id %s", k, day2[k], survivor)
		}
	}
	if s.Merges != 1 {
		t.Errorf("day 2: %d merges, want 1", s.Merges)
	}
	loser := max(p1, p2)
	var kind, old, neu string
	if err := w.DB().QueryRow(`SELECT kind, old_party_id, new_party_id FROM ops.identity_events ORDER BY happened_at DESC LIMIT 1`).Scan(&kind, &old, &neu); err != nil {
		t.Fatal(err)
	}
	if kind != "merge" || old != loser || neu != survivor {
		t.Errorf("day 2 event %s %s → %s, want merge %s → %s", kind, old, neu, loser, survivor)
	}
	var gone int
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM core.party WHERE party_id = ?`, loser).Scan(&gone)
	if gone != 0 {
		t.Errorf("merged-away party %s still in core.party", loser)
	}

	put(t, w, "raw.ebank_users", "20261122", ebankCols, "ouyangfeng", "PERSONAL", "欧阳锋", noisyA, m4)
	s = unify(t, w, false)
	day3 := xrefParties(t, w)
	if day3["credit:XC1"] != survivor || day3["ebank:ouyangfeng"] != survivor {
		t.Errorf("day 3: X1 in %s, X3 in %s: the part with most records keeps %s", day3["credit:XC1"], day3["ebank:ouyangfeng"], survivor)
	}
	split := day3["card:XH2"]
	if split == survivor || split == loser || split == "" {
		t.Errorf("day 3: X2 in %q: want a new id (not %s, not the retired %s)", split, survivor, loser)
	}
	if s.Splits != 1 {
		t.Errorf("day 3: %d splits, want 1", s.Splits)
	}
	if err := w.DB().QueryRow(`SELECT kind, old_party_id, new_party_id FROM ops.identity_events ORDER BY happened_at DESC LIMIT 1`).Scan(&kind, &old, &neu); err != nil {
		t.Fatal(err)
	}
	if kind != "split" || old != survivor || neu != split {
		t.Errorf("day 3 event %s %s → %s, want split %s → %s", kind, old, neu, survivor, split)
	}
	// Every other party kept its id through all three days.
	for k, p := range day1 {
		if k == "credit:XC1" || k == "card:XH2" {
			continue
		}
		if day3[k] != p {
			t.Errorf("%s moved from %s to %s, though nothing about it changed", k, p, day3[k])
		}
	}
}

// TestUnify_RelatedPartiesAreNotMerged: two people with different valid
// IDs stay apart even when a record without an ID matches both on name,
// mobile and birth date; a company's legal representative is a
// relationship between two parties.
func TestUnify_RelatedPartiesAreNotMerged(t *testing.T) {
	b := newBank(t, 600, 1)
	w := b.W
	b.Ingest(t)
	idB := residentID("310115", "19750505", "211")
	idC := residentID("310115", "19750505", "358") // a different person, same birthday
	const mob = "13655550001"
	put(t, w, "raw.credit_customers", "20261120", creditCols, "YC1", "P", "慕容复", "ID_CARD", idB, mob, "1975-05-05", nil, nil)
	put(t, w, "raw.card_holders", "20261120", cardCols, "YH2", "慕容复", "ID_CARD", idC, mob, "1975-05-05")
	put(t, w, "raw.wealth_clients", "20261120", wealthCols, "YW3", "慕容复", "ID_CARD", nil, mob)
	code := usccFor("73318256")
	put(t, w, "raw.credit_customers", "20261120", creditCols, "ZC1", "C", "燕子坞贸易有限公司", "USCC", code, nil, nil, "慕容复", idB)
	s := unify(t, w, false)
	x := xrefParties(t, w)
	if x["credit:YC1"] == x["card:YH2"] {
		t.Errorf("two different valid IDs merged into %s", x["credit:YC1"])
	}
	if s.Refused == 0 {
		t.Error("no union refused: the record without an ID should have linked to both")
	}
	var n int
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM core.party_relationship WHERE party_id = ? AND related_party_id = ? AND rel_type = 'legal_representative'`,
		x["credit:ZC1"], x["credit:YC1"]).Scan(&n)
	if n != 1 {
		t.Errorf("legal representative link company %s → person %s: %d rows, want 1", x["credit:ZC1"], x["credit:YC1"], n)
	}
	if x["credit:ZC1"] == x["credit:YC1"] {
		t.Error("the company and its legal representative are one party")
	}
}

// partition is the set of same-party record pairs, as "a|b" strings, for
// the given refs.
func samePartyPairs(x map[string]string, refs []string) map[string]bool {
	out := map[string]bool{}
	for i, a := range refs {
		for _, b := range refs[i+1:] {
			if x[a] != "" && x[a] == x[b] {
				out[a+"|"+b] = true
			}
		}
	}
	return out
}

// TestUnify_IncrementalAgreesWithFull replays deliveries that once made
// incremental runs diverge from a full run, and checks after each that a
// full run from scratch would group the records the same way:
//   - a record with no ID linked to two people with different IDs: it joins
//     the first; when that person changes, it must move to the second, as a
//     full run would (the refused link is kept, not dropped);
//   - a late, older snapshot must not undo a newer one;
//   - a source whose file name carries no date still counts as a change.
func TestUnify_IncrementalAgreesWithFull(t *testing.T) {
	b := newBank(t, 600, 1)
	w := b.W
	b.Ingest(t)
	idA := residentID("440305", "19880808", "111")
	idB := residentID("440305", "19880808", "222")
	const mob = "13566667777"
	put(t, w, "raw.credit_customers", "20261120", creditCols, "QA", "P", "司马光", "ID_CARD", idA, mob, "1988-08-08", nil, nil)
	put(t, w, "raw.wealth_clients", "20261120", wealthCols, "QB", "司马光", "ID_CARD", idB, mob)
	put(t, w, "raw.card_holders", "20261120", cardCols, "QX", "司马光", "ID_CARD", nil, mob, "1988-08-08")
	put(t, w, "raw.card_holders", "20261201", cardCols, "QL", "诸葛亮", "ID_CARD", nil, "13411112222", nil)
	putSource(t, w, "raw.card_holders", "card/HOLDERS.del:2", cardCols, "QN", "王安石", "ID_CARD", nil, "13300001111", nil)
	s := unify(t, w, false)
	if s.Refused == 0 {
		t.Fatal("the record without an ID did not link to both people")
	}
	refs := []string{"credit:QA", "wealth:QB", "card:QX"}
	check := func(step string) map[string]string {
		t.Helper()
		inc := xrefParties(t, w)
		rels := tableDigest(t, w, "core.party_relationship")
		// A full run over the same input: same grouping, same relationships?
		unify(t, w, true)
		full := xrefParties(t, w)
		if tableDigest(t, w, "core.party_relationship") != rels {
			t.Errorf("%s: relationships after the incremental run differ from a full run's", step)
		}
		pi, pf := samePartyPairs(inc, refs), samePartyPairs(full, refs)
		if fmt.Sprint(pi) != fmt.Sprint(pf) {
			t.Errorf("%s: incremental groups %v, a full run %v", step, pi, pf)
		}
		return full
	}
	x := check("first run")
	if x["card:QX"] != x["credit:QA"] {
		t.Fatalf("QX joined %s, want QA's party %s (first in order)", x["card:QX"], x["credit:QA"])
	}

	// QA changes name and mobile: QX now only matches QB.
	put(t, w, "raw.credit_customers", "20261121", creditCols, "QA", "P", "司马迁", "ID_CARD", idA, "13500000000", "1988-08-08", nil, nil)
	s = unify(t, w, false)
	if s.Mode != "incremental" {
		t.Fatalf("mode %s", s.Mode)
	}
	inc := xrefParties(t, w)
	if inc["card:QX"] != inc["wealth:QB"] {
		t.Errorf("after QA changed, QX is in %s, QB in %s: want together", inc["card:QX"], inc["wealth:QB"])
	}
	check("after QA changed")

	// A newer snapshot delivers QL unchanged; then an older one arrives late
	// with a different mobile: the newer version stands.
	put(t, w, "raw.card_holders", "20261225", cardCols, "QL", "诸葛亮", "ID_CARD", nil, "13411112222", nil)
	unify(t, w, false)
	put(t, w, "raw.card_holders", "20261210", cardCols, "QL", "诸葛亮", "ID_CARD", nil, "13999999999", nil)
	unify(t, w, false)
	var mobile string
	sqltest.Row(t, w.DB(), `SELECT mobile FROM core.party_xref WHERE system = 'card' AND source_key = 'QL'`).Scan(&mobile)
	if mobile != "13411112222" {
		t.Errorf("a late older snapshot replaced QL's mobile with %s", mobile)
	}

	// A source without a date in its name: a change is still a change.
	putSource(t, w, "raw.card_holders", "card/HOLDERS.del:3", cardCols, "QN", "王安石", "ID_CARD", nil, "13300002222", nil)
	if s = unify(t, w, false); s.Active != 1 {
		t.Errorf("changed record from a dateless source: %d active, want 1", s.Active)
	}
	sqltest.Row(t, w.DB(), `SELECT mobile FROM core.party_xref WHERE system = 'card' AND source_key = 'QN'`).Scan(&mobile)
	if mobile != "13300002222" {
		t.Errorf("QN's mobile is %s after its change", mobile)
	}
}

// TestUnify_SupplementaryCardRelationshipFollowsTheLatestSnapshot: a card
// that stops being supplementary stops relating its holders, even when no
// customer record changed.
func TestUnify_SupplementaryCardRelationshipFollowsTheLatestSnapshot(t *testing.T) {
	b := newBank(t, 300, 1)
	w := b.W
	b.Ingest(t)
	holder, primary := "ZH1", "ZH2"
	put(t, w, "raw.card_holders", "20261120", cardCols, holder, "欧阳娜", "ID_CARD", residentID("320505", "19900101", "122"), "13600000001", nil)
	put(t, w, "raw.card_holders", "20261120", cardCols, primary, "欧阳修", "ID_CARD", residentID("320505", "19620101", "131"), "13600000002", nil)
	accCols := []string{"card_account_id", "holder_id", "primary_holder_id", "product_tier", "status"}
	put(t, w, "raw.card_accounts", "20261120", accCols, "ZZACC", holder, primary, "GOLD", "ACTIVE")
	unify(t, w, false)
	count := func() int {
		var n int
		sqltest.Row(t, w.DB(), `SELECT count(*) FROM core.party_relationship WHERE evidence = 'card:ZZACC'`).Scan(&n)
		return n
	}
	if count() != 1 {
		t.Fatalf("supplementary card ZZACC: %d relationships, want 1", count())
	}
	put(t, w, "raw.card_accounts", "20261125", accCols, "ZZACC", holder, nil, "GOLD", "ACTIVE")
	if s := unify(t, w, false); s.Mode != "unchanged" {
		t.Fatalf("mode %s, want unchanged (no customer record changed)", s.Mode)
	}
	if count() != 0 {
		t.Errorf("ZZACC is no longer supplementary but still relates its holders")
	}
}
