package synthbank

import (
	"context"
	"math"
	"path/filepath"
	"runtime/debug"
	"testing"

	"cdp/connectors/contract"
)

// TestActivity_QuietPartiesMakeNoRowsOfTheirOwn generates a bank at the
// default activity and reads its day files: every card purchase, e-banking
// event, trade and payment made on a day belongs to a party acting that day;
// the unguarded parties acting are about the share asked; planted parties
// keep acting every day, so every behaviour is still planted.
func TestActivity_QuietPartiesMakeNoRowsOfTheirOwn(t *testing.T) {
	dir := t.TempDir()
	o := Options{Out: dir, Parties: 3000, Days: 4, Seed: 11, Activity: DefaultActivity}
	if _, err := Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	w := buildWorld(o.withDefaults())
	byID := map[string]*party{}
	for _, p := range w.parties {
		byID[p.id] = p
	}
	owner := map[string]*party{} // system/source_key → party
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "xref.csv"))[1:] {
		owner[r[0]+"/"+r[1]] = byID[r[2]]
	}
	lookup := func(feed, name string) *contract.Entity {
		e, err := contract.Lookup(feed, name)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	feeds := filepath.Join(dir, "feeds")
	di := 2 // the last day's e-banking archive is not cut yet
	d := w.days[di]
	holderOf := map[string]string{}
	for _, r := range parseFeedFile(t, feeds, lookup("card", "accounts"), d).rows {
		holderOf[r.vals["card_account_id"]] = r.vals["holder_id"]
	}
	acting := map[*party]bool{}
	rowsOf := func(feed, name, system, column string, key func(string) string) {
		n := 0
		for _, r := range parseFeedFile(t, feeds, lookup(feed, name), d).rows {
			if r.reason != "" {
				continue // a damaged row may have lost its key
			}
			if r.vals["direction"] == "IN" {
				continue // a payment received is the payer's doing
			}
			p := owner[system+"/"+key(r.vals[column])]
			if p == nil {
				t.Fatalf("%s:%d: %s %q has no party in truth/xref.csv", r.file, r.line, column, r.vals[column])
			}
			if w.quiet(p, di) {
				t.Fatalf("%s:%d: a row of %s, quiet on %s", r.file, r.line, p.id, d.iso())
			}
			acting[p] = true
			n++
		}
		if n == 0 {
			t.Errorf("%s.%s: no rows on %s", feed, name, d.iso())
		}
	}
	same := func(s string) string { return s }
	rowsOf("card", "txns", "card", "card_account_id", func(a string) string { return holderOf[a] })
	rowsOf("ebank", "events", "ebank", "user_id", same)
	rowsOf("wealth", "trades", "wealth", "client_id", same)
	rowsOf("core_banking", "settlements", "core_banking", "cust_no", same)

	var unguarded, quiet, actingUnguarded int
	for _, p := range w.parties {
		if p.guard {
			if w.quiet(p, di) {
				t.Fatalf("guarded party %s is quiet", p.id)
			}
			continue
		}
		unguarded++
		if w.quiet(p, di) {
			quiet++
		} else if acting[p] {
			actingUnguarded++
		}
	}
	t.Logf("%d of %d parties guarded; %d unguarded quiet, %d acting with rows of their own", len(w.parties)-unguarded, len(w.parties), quiet, actingUnguarded)
	if share := 1 - float64(quiet)/float64(unguarded); share < DefaultActivity-0.03 || share > DefaultActivity+0.03 {
		t.Errorf("%.3f of %d unguarded parties act on %s, want about %.2f", share, unguarded, d.iso(), DefaultActivity)
	}
	if share := float64(actingUnguarded) / float64(unguarded); share == 0 || share > DefaultActivity+0.03 {
		t.Errorf("%.3f of the unguarded parties have a row of their own on %s, want some and at most about %.2f", share, d.iso(), DefaultActivity)
	}

	// Legacy banks: nobody is quiet.
	for _, a := range []float64{0, 1} {
		lw := buildWorld(Options{Out: dir, Parties: 500, Days: 2, Activity: a}.withDefaults())
		for _, p := range lw.parties {
			for di := range lw.days {
				if lw.quiet(p, di) {
					t.Fatalf("activity %g: %s quiet on day %d", a, p.id, di)
				}
			}
		}
	}

	// The planted behaviours are the same as in a bank where all act.
	full := t.TempDir()
	o.Out, o.Activity = full, 0
	if _, err := Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	planted := func(dir string) map[string]bool {
		out := map[string]bool{}
		for _, r := range readCSV(t, filepath.Join(dir, "truth", "behaviours.csv"))[1:] {
			out[r[0]+"/"+r[1]] = true
		}
		return out
	}
	a, b := planted(dir), planted(full)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d planted behaviours at activity %.2f, %d with every party active", len(a), DefaultActivity, len(b))
	}
	for k := range b {
		if !a[k] {
			t.Errorf("behaviour %s planted with every party active, not at activity %.2f", k, DefaultActivity)
		}
	}
}

// TestWritersAtOnce_OneWhenTwoWouldNotFitTheHeapLimit: two systems are
// written at once unless their books beside the world would not fit in
// the Go heap's soft limit.
func TestWritersAtOnce_OneWhenTwoWouldNotFitTheHeapLimit(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	if n := writersAtOnce(5_000_000); n != 2 {
		t.Errorf("no limit: %d writers at once for 5M parties, want 2", n)
	}
	debug.SetMemoryLimit(14 << 30) // the default budget on a 24 GB machine
	for parties, want := range map[int]int{20_000: 2, 1_000_000: 2, 5_000_000: 1} {
		if n := writersAtOnce(parties); n != want {
			t.Errorf("14 GiB limit: %d writers at once for %d parties, want %d", n, parties, want)
		}
	}
}
