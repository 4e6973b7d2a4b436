package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `cdp link` on the engine's own generated fixture, committed in the
// repository: these run on a fresh clone, where the shared benchmark sets
// (link_test.go) are absent. The fixture, its generator and its mapping are
// in transforms/identity/match (fixtures_test.go, testdata/).
const (
	fixtureCSV     = "../../transforms/identity/match/testdata/people.csv"
	fixtureMapping = "../../transforms/identity/match/testdata/people.yaml"
)

// The bars of transforms/identity/match/link_fixture_test.go, where they
// are justified: the command must reach what the engine reaches when it
// reads the file itself.
const (
	fixtureMinCompleteness = 0.99
	fixtureMinPrecision    = 0.95
	fixtureMinRecall       = 0.93
	fixtureMinF1           = 0.95
)

// checkFixtureReport checks a `link --report json` report against the bars
// and against its own pair counts: precision × predicted pairs and recall ×
// true pairs are both the number of correctly linked pairs.
func checkFixtureReport(t *testing.T, rep map[string]any, what string) {
	t.Helper()
	p, r, f1 := num(t, rep, "pairwise.precision"), num(t, rep, "pairwise.recall"), num(t, rep, "pairwise.f1")
	truePairs, predicted := num(t, rep, "true_pairs"), num(t, rep, "predicted_pairs")
	pc := num(t, rep, "pairs_completeness")
	t.Logf("%s: pairwise P %.4f R %.4f F1 %.4f, B-cubed F1 %.4f, pairs completeness %.4f, reduction ratio %.4f, %.0f true and %.0f predicted pairs, %.2f s",
		what, p, r, f1, num(t, rep, "bcubed.f1"), pc, num(t, rep, "reduction_ratio"), truePairs, predicted, num(t, rep, "seconds"))
	if p < fixtureMinPrecision {
		t.Errorf("pairwise precision %.4f, want ≥ %v", p, fixtureMinPrecision)
	}
	if r < fixtureMinRecall {
		t.Errorf("pairwise recall %.4f, want ≥ %v", r, fixtureMinRecall)
	}
	if f1 < fixtureMinF1 {
		t.Errorf("pairwise F1 %.4f, want ≥ %v", f1, fixtureMinF1)
	}
	if pc < fixtureMinCompleteness {
		t.Errorf("pairs completeness %.4f, want ≥ %v", pc, fixtureMinCompleteness)
	}
	if math.Abs(p*predicted-r*truePairs) > 0.5 {
		t.Errorf("precision %.4f × %.0f predicted pairs and recall %.4f × %.0f true pairs should both be the correct pairs",
			p, predicted, r, truePairs)
	}
	if want := 2 * p * r / (p + r); math.Abs(f1-want) > 1e-9 {
		t.Errorf("F1 %.6f, but precision and recall give %.6f", f1, want)
	}
	if rr := num(t, rep, "reduction_ratio"); rr <= 0 || rr >= 1 {
		t.Errorf("reduction ratio %v, want blocking to compare some but not all pairs", rr)
	}
}

func TestLink_FixtureDeduplicationMeetsTheBars(t *testing.T) {
	in := readCSV(t, fixtureCSV)
	out, err := run(t, "link", "--mapping", fixtureMapping, "--input", fixtureCSV,
		"--truth-column", "true_id", "--report", "json")
	if err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	rep := linkJSON(t, out)
	checkFixtureReport(t, rep, "deduplicating the fixture")
	if n := num(t, rep, "records"); int(n) != len(in)-1 {
		t.Errorf("records = %v, the file has %d rows", n, len(in)-1)
	}
	// The true pairs, counted here from the file: n(n-1)/2 per person.
	truth := -1
	for i, h := range in[0] {
		if h == "true_id" {
			truth = i
		}
	}
	if truth < 0 {
		t.Fatalf("%s has no true_id column: %v", fixtureCSV, in[0])
	}
	per := map[string]int{}
	for _, row := range in[1:] {
		per[row[truth]]++
	}
	want := 0
	for _, n := range per {
		want += n * (n - 1) / 2
	}
	if want == 0 {
		t.Fatalf("%s has no same-person pairs: nothing to find, every bar would pass", fixtureCSV)
	}
	if n := num(t, rep, "true_pairs"); int(n) != want {
		t.Errorf("true_pairs = %v, the file has %d same-person pairs", n, want)
	}
	if n := num(t, rep, "clusters"); int(n) < len(per)*9/10 || int(n) > len(in)-1 {
		t.Errorf("clusters = %v for %d records of %d people", n, len(in)-1, len(per))
	}
	if c, all := num(t, rep, "stats.candidate_pairs"), num(t, rep, "stats.total_pairs"); c <= 0 || c >= all {
		t.Errorf("candidate pairs %v of %v: want blocking to compare some but not all", c, all)
	}
}

func TestLink_FixtureTwoInputsAreLinked(t *testing.T) {
	// The fixture split in two: the originals in one file, the duplicates
	// in the other; each duplicate's one true pair across them is its
	// original.
	in := readCSV(t, fixtureCSV)
	var orig, dups [][]string
	source := map[string]string{}
	for _, row := range in[1:] {
		if strings.HasSuffix(row[0], "-org") {
			orig = append(orig, row)
			source[row[0]] = "1"
		} else {
			dups = append(dups, row)
			source[row[0]] = "2"
		}
	}
	if len(orig) == 0 || len(dups) == 0 {
		t.Fatalf("%s: %d originals and %d duplicates, want both", fixtureCSV, len(orig), len(dups))
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "originals.csv"), filepath.Join(dir, "duplicates.csv")
	for path, recs := range map[string][][]string{a: orig, b: dups} {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := csv.NewWriter(f).WriteAll(append([][]string{in[0]}, recs...)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(dir, "clusters.csv")
	out, err := run(t, "link", "--mapping", fixtureMapping, "--input", a, "--input", b,
		"--truth-column", "true_id", "--report", "json", "--out", dest)
	if err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	rep := linkJSON(t, out)
	checkFixtureReport(t, rep, "linking originals to duplicates")
	if n := num(t, rep, "records"); int(n) != len(in)-1 {
		t.Errorf("records = %v, want %d from both inputs", n, len(in)-1)
	}
	if inputs, _ := rep["inputs"].([]any); len(inputs) != 2 {
		t.Errorf("inputs = %v, want both files", rep["inputs"])
	}
	if n := num(t, rep, "true_pairs"); int(n) != len(dups) {
		t.Errorf("true_pairs = %v, want one per duplicate: %d", n, len(dups))
	}
	got := readCSV(t, dest)
	if head := got[0]; len(head) < 4 || head[3] != "input" {
		t.Fatalf("header %v, want an input column for two inputs", head)
	}
	if len(got)-1 != len(in)-1 {
		t.Errorf("%d rows written, want %d", len(got)-1, len(in)-1)
	}
	for _, row := range got[1:] {
		if source[row[0]] != row[3] {
			t.Errorf("rec_id %s: input %s, it came from input %s", row[0], row[3], source[row[0]])
		}
	}
}

func TestLink_MissingSharedSetsAreNamed(t *testing.T) {
	dir := t.TempDir()
	absent := filepath.Join(dir, "shared", "data", "identity")
	why, err := missingShared(absent)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{absent, "shared linkage benchmark sets are not beside this clone", "CI has them"} {
		if !strings.Contains(why, want) {
			t.Errorf("skip message %q does not say %q", why, want)
		}
	}
	if why, err := missingShared(dir); why != "" || err != nil {
		t.Errorf("an existing directory: %q, %v; want nothing missing", why, err)
	}
	file := filepath.Join(dir, "identity")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if why, err := missingShared(file); err == nil || why != "" {
		t.Errorf("a file in the directory's place: %q, %v; want an error, not a skip", why, err)
	}
}
