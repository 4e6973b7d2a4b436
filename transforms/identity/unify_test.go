package identity_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/identity"
	"cdp/warehouse"
)

var quiet = slog.New(slog.DiscardHandler)

func newBank(t *testing.T, parties, days int) *testbank.Bank {
	return testbank.Generate(t, testbank.Options{Parties: parties, Days: days, Seed: 11})
}

func unify(t *testing.T, w *warehouse.Warehouse, full bool) *identity.Summary {
	t.Helper()
	s, err := identity.Unify(context.Background(), w, identity.Options{Config: testbank.IdentityConfig(), Full: full, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// xrefParties maps system:source_key to party id.
func xrefParties(t *testing.T, w *warehouse.Warehouse) map[string]string {
	t.Helper()
	out := map[string]string{}
	for scan := range sqltest.Rows(t, w.DB(), `SELECT system || ':' || source_key, party_id FROM core.party_xref`) {
		var k, p string
		scan(&k, &p)
		out[k] = p
	}
	return out
}

// tableDigest is a fingerprint of a whole table's contents but the id of
// the run that last wrote it.
func tableDigest(t *testing.T, w *warehouse.Warehouse, table string) string {
	t.Helper()
	var d string
	if err := w.DB().QueryRow(`SELECT coalesce(md5(string_agg(CAST(r AS VARCHAR), '|' ORDER BY CAST(r AS VARCHAR))), '')
		FROM (SELECT COLUMNS(c -> c <> 'run_id') FROM ` + table + `) r`).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestUnify_GeneratedBankMeetsTheBars unifies a generated bank and scores
// it against the generator's ground truth: pairwise precision ≥ 0.99 and
// recall ≥ 0.97 for source keys → parties; every planted relationship is
// a relationship between two different parties, not a merge.
func TestUnify_GeneratedBankMeetsTheBars(t *testing.T) {
	b := newBank(t, 4000, 1)
	w := b.W
	b.Ingest(t)
	s := unify(t, w, false)
	if s.Mode != "full" || s.Records == 0 || s.Parties == 0 {
		t.Fatalf("summary %+v", s)
	}
	ev, err := identity.EvaluateTruth(context.Background(), w.DB(), filepath.Join(b.Dir, "truth", "xref.csv"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pairwise %+v bcubed %+v over %d records (%d truth records not loaded)", ev.Pairwise, ev.BCubed, ev.Records, ev.Unmatched)
	if ev.Pairwise.Precision < 0.99 || ev.Pairwise.Recall < 0.97 {
		t.Errorf("pairwise precision %.4f recall %.4f, want ≥ 0.99 and ≥ 0.97", ev.Pairwise.Precision, ev.Pairwise.Recall)
	}
	if ev.Records < s.Records*99/100 {
		t.Errorf("only %d of %d records found in the truth", ev.Records, s.Records)
	}

	// Planted links: the two parties stay apart and are related.
	ours := xrefParties(t, w)
	truthParty := map[string]string{} // truth party → our party (by its first record)
	for _, r := range b.Truth(t, "xref.csv") {
		if p, ok := ours[r[0]+":"+r[1]]; ok {
			if _, seen := truthParty[r[2]]; !seen {
				truthParty[r[2]] = p
			}
		}
	}
	rel := map[string]bool{}
	for scan := range sqltest.Rows(t, w.DB(), `SELECT party_id, related_party_id, rel_type FROM core.party_relationship`) {
		var a, c, k string
		scan(&a, &c, &k)
		rel[a+" "+c+" "+k], rel[c+" "+a+" "+k] = true, true
	}
	kinds := map[string]string{"legal_rep": "legal_representative", "supplementary_card": "supplementary_card", "shared_mobile": "shared_mobile"}
	found, merged, total := map[string]int{}, 0, map[string]int{}
	for _, l := range b.Truth(t, "links.csv") {
		a, c := truthParty[l[0]], truthParty[l[1]]
		if a == "" || c == "" {
			continue
		}
		if a == c {
			merged++
			t.Errorf("planted %s link %s–%s merged into one party %s", l[2], l[0], l[1], a)
			continue
		}
		if kinds[l[2]] == "" {
			continue // supplier: a settlement relationship, not one unification derives
		}
		total[l[2]]++
		if rel[a+" "+c+" "+kinds[l[2]]] {
			found[l[2]]++
		}
	}
	for k, n := range total {
		t.Logf("%s: %d of %d planted links found", k, found[k], n)
		if found[k] < n*95/100 {
			t.Errorf("%s: only %d of %d planted links are relationships", k, found[k], n)
		}
	}
	if len(total) < 3 {
		t.Errorf("planted link kinds %v: want legal_rep, supplementary_card and shared_mobile", total)
	}
}

// TestUnify_RerunWithoutNewDataChangesNothing: a second run finds nothing
// new and leaves every core table byte for byte as it was.
func TestUnify_RerunWithoutNewDataChangesNothing(t *testing.T) {
	b := newBank(t, 800, 1)
	w := b.W
	b.Ingest(t)
	unify(t, w, false)
	tables := []string{"core.party", "core.party_xref", "core.party_link", "core.party_relationship", "ops.identity_events"}
	before := map[string]string{}
	for _, tb := range tables {
		before[tb] = tableDigest(t, w, tb)
	}
	s := unify(t, w, false)
	if s.Mode != "unchanged" || s.Active != 0 {
		t.Errorf("rerun: mode %s with %d active records, want unchanged and 0", s.Mode, s.Active)
	}
	for _, tb := range tables {
		if after := tableDigest(t, w, tb); after != before[tb] {
			t.Errorf("%s changed on a rerun with no new data", tb)
		}
	}
	// Even a full rerun (model re-estimated, every pair compared again)
	// issues no new ids and changes no party.
	s = unify(t, w, true)
	if s.NewParties != 0 || s.Merges != 0 || s.Splits != 0 || s.ChangedParties != 0 {
		t.Errorf("full rerun: %d new, %d merges, %d splits, %d changed parties; want none", s.NewParties, s.Merges, s.Splits, s.ChangedParties)
	}
	for _, tb := range tables {
		if after := tableDigest(t, w, tb); after != before[tb] {
			t.Errorf("%s changed on a full rerun with no new data", tb)
		}
	}
	// A full run reading the source records in parts (as a bank too big
	// for DuckDB's memory at once is read) reads the same records.
	defer identity.SetRowsPerPart(100)()
	s = unify(t, w, true)
	if s.ReadParts < 2 || s.NewParties != 0 || s.Merges != 0 || s.Splits != 0 || s.ChangedParties != 0 {
		t.Errorf("full rerun in parts: %d parts, %d new, %d merges, %d splits, %d changed parties; want parts and none", s.ReadParts, s.NewParties, s.Merges, s.Splits, s.ChangedParties)
	}
	for _, tb := range tables {
		if after := tableDigest(t, w, tb); after != before[tb] {
			t.Errorf("%s changed on a full rerun reading the records in %d parts", tb, s.ReadParts)
		}
	}
}

// TestUnify_IncrementalDayKeepsUnchangedPartiesIDs withholds the last day's
// snapshot files, unifies, then delivers them: the incremental run compares
// only the changed records, and every party whose records did not change
// keeps its id (and its members).
func TestUnify_IncrementalDayKeepsUnchangedPartiesIDs(t *testing.T) {
	b := newBank(t, 1500, 3)
	held := b.HoldBack(t, "2026-11-20")
	w := b.W
	b.Ingest(t)
	first := unify(t, w, false)
	before := xrefParties(t, w)
	hashes := recordHashes(t, w)

	held.Deliver(t, "2026-11-20")
	b.Ingest(t)
	s := unify(t, w, false)
	if s.Mode != "incremental" {
		t.Fatalf("second run mode %s, want incremental", s.Mode)
	}
	if s.Active == 0 || s.Active >= s.Records/2 {
		t.Errorf("incremental run compared %d of %d records; want the changed few", s.Active, s.Records)
	}
	after := xrefParties(t, w)
	newHashes := recordHashes(t, w)

	// Group the first run's records by party; a party is unchanged when every
	// record kept its hash and no record joined it.
	members := map[string][]string{}
	for k, p := range before {
		members[p] = append(members[p], k)
	}
	joined := map[string]bool{} // old party ids that gained a record
	for k, p := range after {
		if old, ok := before[k]; !ok || old != p {
			joined[p] = true
		}
	}
	unchanged, changedIDs := 0, 0
	for p, keys := range members {
		same := !joined[p]
		for _, k := range keys {
			if newHashes[k] != hashes[k] {
				same = false
			}
		}
		if !same {
			continue
		}
		unchanged++
		for _, k := range keys {
			if after[k] != p {
				changedIDs++
				t.Errorf("record %s of unchanged party %s now in %s", k, p, after[k])
			}
		}
	}
	t.Logf("first run %d parties; incremental: %d active of %d records, %d unchanged parties, %d merges, %d splits",
		first.Parties, s.Active, s.Records, unchanged, s.Merges, s.Splits)
	if unchanged < first.Parties*9/10 {
		t.Errorf("only %d of %d parties unchanged: the test withheld too much", unchanged, first.Parties)
	}
	if changedIDs != 0 {
		t.Errorf("%d records of unchanged parties changed party", changedIDs)
	}

	// The incremental run leaves what a full run over the same input would:
	// the same parties, golden records and relationships. (A record's
	// deciding link may differ: the full run weighs all of them afresh.)
	digests := map[string]string{}
	for _, tb := range []string{"core.party", "core.party_relationship"} {
		digests[tb] = tableDigest(t, w, tb)
	}
	if s := unify(t, w, true); s.NewParties != 0 || s.Merges != 0 || s.Splits != 0 {
		t.Errorf("full run after the incremental one: %d new, %d merges, %d splits", s.NewParties, s.Merges, s.Splits)
	}
	for tb, d := range digests {
		if tableDigest(t, w, tb) != d {
			t.Errorf("%s after the incremental run differs from a full run's", tb)
		}
	}
	for k, p := range xrefParties(t, w) {
		if after[k] != p {
			t.Errorf("%s: party %s after the incremental run, %s after a full run", k, after[k], p)
		}
	}
}

func recordHashes(t *testing.T, w *warehouse.Warehouse) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for scan := range sqltest.Rows(t, w.DB(), `SELECT system || ':' || source_key, record_hash FROM core.party_xref`) {
		var k string
		var h uint64
		scan(&k, &h)
		out[k] = h
	}
	return out
}
