package identity_test

import (
	"fmt"
	"testing"

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
	loadSeq++
	ph := ""
	for range vals {
		ph += "?, "
	}
	list := ""
	for _, c := range cols {
		list += c + ", "
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s_load_id, _source, _ingested_at) VALUES (%s%d, '%s_%s.x', now())`,
		table, list, ph, loadSeq, table, date)
	if _, err := w.DB().Exec(q, vals...); err != nil {
		t.Fatalf("%s: %v", q, err)
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
	w := b.open()
	b.ingest(w)
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
	w.DB().QueryRow(`SELECT count(*) FROM core.party WHERE party_id = ?`, loser).Scan(&gone)
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
	w := b.open()
	b.ingest(w)
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
	w.DB().QueryRow(`SELECT count(*) FROM core.party_relationship WHERE party_id = ? AND related_party_id = ? AND rel_type = 'legal_representative'`,
		x["credit:ZC1"], x["credit:YC1"]).Scan(&n)
	if n != 1 {
		t.Errorf("legal representative link company %s → person %s: %d rows, want 1", x["credit:ZC1"], x["credit:YC1"], n)
	}
	if x["credit:ZC1"] == x["credit:YC1"] {
		t.Error("the company and its legal representative are one party")
	}
}
