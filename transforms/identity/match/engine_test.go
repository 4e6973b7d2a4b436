package match

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// synthFields are the fields of the synthetic people.
var synthFields = []Field{
	{Name: "given", Kind: KindName},
	{Name: "surname", Kind: KindName},
	{Name: "dob", Kind: KindDate},
	{Name: "postcode", Kind: KindPostcode},
	{Name: "ssn", Kind: KindID},
	{Name: "phone", Kind: KindPhone},
	{Name: "state", Kind: KindText},
}

const (
	fGiven = iota
	fSurname
	fDOB
	fPostcode
	fSSN
	fPhone
	fState
)

var (
	givenNames = strings.Fields(`james oliver jack william noah thomas lucas henry ethan liam
		charlotte olivia amelia isla mia ava grace chloe sophie emily ruby zoe harper lily
		matthew daniel samuel joshua benjamin alexander hannah jessica sarah emma lucy laura`)
	surnames = strings.Fields(`smith jones williams brown wilson taylor johnson white martin
		anderson thompson nguyen thomas walker harris lee ryan robinson kelly king davis wright
		evans roberts green hall wood jackson clarke patel khan lewis james phillips mitchell
		turner campbell parker edwards morris cook rogers morgan cooper bell murphy bailey`)
	states = []string{"nsw", "vic", "qld"}
)

// synth is a deterministic population of people, each with an original
// record and 1–3 noisy copies (typos, swapped day and month, missing
// values), in shuffled order.
type synth struct {
	Data
	people int
}

func newSynth(people int, seed uint64) *synth {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	type rec struct {
		vals  []string
		truth string
	}
	var recs []rec
	for p := 0; p < people; p++ {
		orig := []string{
			givenNames[rng.IntN(len(givenNames))],
			surnames[rng.IntN(len(surnames))],
			time.Date(1930+rng.IntN(70), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format("20060102"),
			fmt.Sprintf("%04d", 2000+rng.IntN(6000)),
			fmt.Sprintf("%07d", 1000000+rng.IntN(9000000)),
			fmt.Sprintf("04%08d", rng.IntN(100000000)),
			states[rng.IntN(len(states))],
		}
		truth := fmt.Sprintf("p%d", p)
		recs = append(recs, rec{orig, truth})
		for c := 1 + rng.IntN(3); c > 0; c-- {
			dup := slices.Clone(orig)
			for f := range dup {
				switch x := rng.Float64(); {
				case x < 0.15:
					dup[f] = ""
				case x < 0.45:
					dup[f] = typo(rng, f, dup[f])
				}
			}
			recs = append(recs, rec{dup, truth})
		}
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	s := &synth{people: people}
	s.Fields = synthFields
	s.Values = make([][]string, len(synthFields))
	for _, r := range recs {
		for f := range synthFields {
			s.Values[f] = append(s.Values[f], r.vals[f])
		}
		s.Truth = append(s.Truth, r.truth)
	}
	return s
}

// typo makes one data-entry error in v: a substituted, dropped or
// transposed character; for dates a wrong digit or day and month swapped.
func typo(rng *rand.Rand, field int, v string) string {
	b := []byte(v)
	if len(b) < 2 {
		return v
	}
	const letters, digits = "abcdefghijklmnopqrstuvwxyz", "0123456789"
	alphabet := letters
	if field != fGiven && field != fSurname && field != fState {
		alphabet = digits
	}
	if field == fDOB {
		if rng.IntN(3) == 0 && v[6:8] <= "12" {
			return v[:4] + v[6:8] + v[4:6]
		}
		i := rng.IntN(len(b))
		b[i] = digits[rng.IntN(10)]
		return string(b)
	}
	i := rng.IntN(len(b) - 1)
	switch rng.IntN(3) {
	case 0:
		b[i] = alphabet[rng.IntN(len(alphabet))]
	case 1:
		b = append(b[:i], b[i+1:]...)
	default:
		b[i], b[i+1] = b[i+1], b[i]
	}
	return string(b)
}

// add appends one record and returns its index.
func (s *synth) add(vals []string, truth string) int {
	for f := range s.Fields {
		s.Values[f] = append(s.Values[f], vals[f])
	}
	s.Truth = append(s.Truth, truth)
	return s.N() - 1
}

// clone copies the data so that a test can change it freely.
func (s *synth) clone() *Data {
	d := s.Data
	d.Values = make([][]string, len(s.Values))
	for f := range s.Values {
		d.Values[f] = slices.Clone(s.Values[f])
	}
	d.Truth = slices.Clone(s.Truth)
	return &d
}

func mustLink(t *testing.T, d *Data, cfg Config) *Result {
	t.Helper()
	res, err := Link(context.Background(), d, cfg)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	if len(res.Cluster) != d.N() {
		t.Fatalf("%d cluster ids for %d records", len(res.Cluster), d.N())
	}
	return res
}

func TestLink_FindsNoisyDuplicates(t *testing.T) {
	s := newSynth(300, 1)
	res := mustLink(t, &s.Data, Config{})
	m := Evaluate(res.Cluster, s.Truth, nil)
	t.Logf("%d records of %d people: pairwise %+v, B-cubed %+v, %d candidates of %.0f pairs",
		s.N(), s.people, m.Pairwise, m.BCubed, res.Stats.Candidates, res.Stats.TotalPairs)
	if m.Pairwise.F1 < 0.9 {
		t.Errorf("pairwise F1 %.3f (P %.3f, R %.3f), want ≥ 0.9", m.Pairwise.F1, m.Pairwise.Precision, m.Pairwise.Recall)
	}
	if res.Stats.Records != s.N() || res.Stats.Clusters < s.people/2 || res.Stats.Clusters > s.N() {
		t.Errorf("stats %+v for %d records of %d people", res.Stats, s.N(), s.people)
	}
	if res.Stats.CandidateTruePairs == 0 || res.Stats.CandidateTruePairs > m.TruePairs {
		t.Errorf("CandidateTruePairs %d, true pairs %d", res.Stats.CandidateTruePairs, m.TruePairs)
	}
	if float64(res.Stats.Candidates) >= res.Stats.TotalPairs {
		t.Errorf("blocking compared %d of %.0f pairs: no reduction", res.Stats.Candidates, res.Stats.TotalPairs)
	}
	for _, e := range res.Edges {
		if e.Prob < res.Model.Threshold || e.A >= e.B || res.Cluster[e.A] != res.Cluster[e.B] {
			t.Fatalf("edge %+v: below threshold %.2f, unordered or across clusters", e, res.Model.Threshold)
		}
	}
}

func TestLink_IsDeterministic(t *testing.T) {
	s := newSynth(300, 2)
	first := mustLink(t, &s.Data, Config{})
	again := mustLink(t, &s.Data, Config{})
	if !reflect.DeepEqual(first.Cluster, again.Cluster) {
		t.Errorf("two runs on the same input cluster differently")
	}
	if !reflect.DeepEqual(first.Model, again.Model) {
		t.Errorf("two runs on the same input estimate different models")
	}
	one := mustLink(t, &s.Data, Config{Workers: 1})
	four := mustLink(t, &s.Data, Config{Workers: 4})
	if !reflect.DeepEqual(one.Cluster, four.Cluster) {
		t.Errorf("Workers 1 and 4 cluster differently")
	}
	if !reflect.DeepEqual(one.Model, four.Model) {
		t.Errorf("Workers 1 and 4 estimate different models:\n%+v\n%+v", one.Model, four.Model)
	}
	if one.Stats != four.Stats {
		t.Errorf("Workers 1 and 4 report different stats: %+v vs %+v", one.Stats, four.Stats)
	}
	if !reflect.DeepEqual(sortedEdges(one.Edges), sortedEdges(four.Edges)) {
		t.Errorf("Workers 1 and 4 find different edges")
	}
}

// Blocks group records by a hash of their keys; keys whose hashes collide
// are still told apart: with every key hashing alike the engine finds the
// same candidates, model, edges and clusters.
func TestLink_KeysWhoseHashesCollideStayInTheirOwnBlocks(t *testing.T) {
	s := newSynth(300, 3)
	want := mustLink(t, s.clone(), Config{})
	defer func(h func([]byte) uint64) { blockHash = h }(blockHash)
	blockHash = func([]byte) uint64 { return 42 }
	got := mustLink(t, s.clone(), Config{})
	if got.Stats != want.Stats || !reflect.DeepEqual(got.Cluster, want.Cluster) || !reflect.DeepEqual(got.Model, want.Model) ||
		!reflect.DeepEqual(sortedEdges(got.Edges), sortedEdges(want.Edges)) {
		t.Errorf("with colliding hashes: stats %+v, %d edges; want %+v, %d edges", got.Stats, len(got.Edges), want.Stats, len(want.Edges))
	}
	if want.Stats.Candidates == 0 || want.Stats.Matches == 0 {
		t.Errorf("the fixture compared %d pairs and matched %d", want.Stats.Candidates, want.Stats.Matches)
	}
}

func sortedEdges(es []Edge) []Edge {
	out := slices.Clone(es)
	slices.SortFunc(out, func(x, y Edge) int {
		if x.A != y.A {
			return int(x.A - y.A)
		}
		return int(x.B - y.B)
	})
	return out
}

// person returns a record unlike anyone in the synthetic population (nor
// like another person with a different n).
func person(given, surname string, n int) []string {
	return []string{given, surname, fmt.Sprintf("194511%02d", 10+n), fmt.Sprintf("99%02d", n),
		fmt.Sprintf("555%04d", n), fmt.Sprintf("04999999%02d", n), "tas"}
}

func TestLink_EqualKeysClusterWithoutAnyOtherAgreement(t *testing.T) {
	s := newSynth(300, 3)
	a := s.add([]string{"zebedee", "quixworth", "19451111", "9991", "5550001", "0411111111", "tas"}, "x")
	b := s.add([]string{"ottoline", "brackenbury", "19880707", "8882", "6660002", "0422222222", "wa"}, "x")
	without := mustLink(t, s.clone(), Config{})
	if without.Cluster[a] == without.Cluster[b] {
		t.Fatalf("the two records agree on nothing, yet cluster without keys")
	}
	d := s.clone()
	d.Key = make([]string, d.N())
	d.Key[a], d.Key[b] = "K-1", "K-1"
	res := mustLink(t, d, Config{})
	if res.Cluster[a] != res.Cluster[b] {
		t.Errorf("records with equal keys are in clusters %d and %d", res.Cluster[a], res.Cluster[b])
	}
	if res.Stats.KeyEdges != 1 {
		t.Errorf("KeyEdges %d, want 1", res.Stats.KeyEdges)
	}
	if !res.Via[b].ByKey {
		t.Errorf("the second keyed record is held by %+v, want the key edge", res.Via[b])
	}
}

func TestLink_DifferentKeysNeverShareACluster(t *testing.T) {
	s := newSynth(300, 4)
	// Three identical records of one person: two carry different keys, the
	// third none, and it matches both strongly.
	a := s.add(person("zebedee", "quixworth", 1), "z")
	b := s.add(person("zebedee", "quixworth", 1), "z")
	c := s.add(person("zebedee", "quixworth", 1), "z")
	without := mustLink(t, s.clone(), Config{})
	if without.Cluster[a] != without.Cluster[b] || without.Cluster[b] != without.Cluster[c] {
		t.Fatalf("without keys three identical records are not one cluster: %d %d %d",
			without.Cluster[a], without.Cluster[b], without.Cluster[c])
	}
	d := s.clone()
	d.Key = make([]string, d.N())
	d.Key[a], d.Key[b] = "K-1", "K-2"
	res := mustLink(t, d, Config{})
	if res.Cluster[a] == res.Cluster[b] {
		t.Errorf("records with keys K-1 and K-2 share cluster %d", res.Cluster[a])
	}
	if res.Cluster[c] != res.Cluster[a] && res.Cluster[c] != res.Cluster[b] {
		t.Errorf("the keyless record joined neither keyed record")
	}
	if res.Stats.Refused == 0 {
		t.Errorf("Stats.Refused is 0; a union joining K-1 and K-2 had to be refused")
	}
	// Nowhere in the result do two different keys share a cluster.
	keyOf := map[int32]string{}
	for i, k := range d.Key {
		if k == "" {
			continue
		}
		if other, ok := keyOf[res.Cluster[i]]; ok && other != k {
			t.Errorf("cluster %d holds keys %s and %s", res.Cluster[i], other, k)
		}
		keyOf[res.Cluster[i]] = k
	}
}

func TestLink_PartitionKeepsPartitionsApart(t *testing.T) {
	s := newSynth(300, 5)
	x := s.add(person("zebedee", "quixworth", 1), "x")
	y := s.add(person("zebedee", "quixworth", 1), "x")
	k1 := s.add(person("ottoline", "brackenbury", 2), "k")
	k2 := s.add([]string{"ottoline", "brackenbury", "19880707", "8882", "6660002", "0422222222", "wa"}, "k")
	without := mustLink(t, s.clone(), Config{})
	if without.Cluster[x] != without.Cluster[y] {
		t.Fatalf("identical records do not cluster without partitions")
	}
	d := s.clone()
	d.Partition = make([]string, d.N())
	for i := range d.Partition {
		d.Partition[i] = "person"
	}
	d.Partition[y], d.Partition[k2] = "company", "company"
	d.Key = make([]string, d.N())
	d.Key[k1], d.Key[k2] = "K-9", "K-9"
	res := mustLink(t, d, Config{})
	if res.Cluster[x] == res.Cluster[y] {
		t.Errorf("identical records in different partitions share a cluster")
	}
	if res.Cluster[k1] == res.Cluster[k2] {
		t.Errorf("equal keys in different partitions share a cluster")
	}
	for _, e := range res.Edges {
		if d.Partition[e.A] != d.Partition[e.B] {
			t.Errorf("edge %+v crosses partitions", e)
		}
	}
	// The rest of the people are still found within their partition.
	if m := Evaluate(res.Cluster, d.Truth, nil); m.Pairwise.F1 < 0.9 {
		t.Errorf("pairwise F1 %.3f within the person partition, want ≥ 0.9", m.Pairwise.F1)
	}
}

func TestLink_LinkOnlyComparesOnlyAcrossSources(t *testing.T) {
	twin := func(sources ...uint8) *Data {
		d := &Data{Fields: synthFields, Values: make([][]string, len(synthFields)), Source: sources, LinkOnly: true}
		for f := range synthFields {
			v := person("zebedee", "quixworth", 1)[f]
			d.Values[f] = []string{v, v}
		}
		return d
	}
	same := mustLink(t, twin(0, 0), Config{})
	if same.Stats.Candidates != 0 || same.Cluster[0] == same.Cluster[1] || len(same.Edges) != 0 {
		t.Errorf("two identical records of one source: %d candidates, clusters %v, edges %v; want no comparison",
			same.Stats.Candidates, same.Cluster, same.Edges)
	}
	if across := mustLink(t, twin(0, 1), Config{}); across.Stats.Candidates != 1 {
		t.Errorf("two records of two sources: %d candidates, want 1", across.Stats.Candidates)
	}

	s := newSynth(300, 6)
	d := s.clone()
	d.Source = make([]uint8, d.N())
	for i := range d.Source {
		d.Source[i] = uint8(i % 2)
	}
	d.LinkOnly = true
	dedup := mustLink(t, s.clone(), Config{})
	res := mustLink(t, d, Config{})
	for _, e := range res.Edges {
		if d.Source[e.A] == d.Source[e.B] {
			t.Fatalf("edge %+v joins two records of source %d", e, d.Source[e.A])
		}
	}
	if res.Stats.Candidates >= dedup.Stats.Candidates {
		t.Errorf("link-only compared %d pairs, deduplication %d: same-source pairs were compared",
			res.Stats.Candidates, dedup.Stats.Candidates)
	}
	if m := Evaluate(res.Cluster, d.Truth, d.Source); m.Pairwise.F1 < 0.9 {
		t.Errorf("link-only pairwise F1 %.3f across sources, want ≥ 0.9", m.Pairwise.F1)
	}
}

func TestLink_ActiveRestrictsComparisons(t *testing.T) {
	s := newSynth(300, 7)
	full := mustLink(t, &s.Data, Config{})
	d := s.clone()
	d.Active = make([]bool, d.N())
	for i := d.N() - 100; i < d.N(); i++ {
		d.Active[i] = true
	}
	inc := mustLink(t, d, Config{})
	if inc.Stats.Candidates == 0 || inc.Stats.Candidates >= full.Stats.Candidates {
		t.Errorf("with 100 of %d records active: %d candidates, full run %d", d.N(), inc.Stats.Candidates, full.Stats.Candidates)
	}
	for _, e := range inc.Edges {
		if !d.Active[e.A] && !d.Active[e.B] {
			t.Fatalf("edge %+v between two inactive records", e)
		}
	}
	// Edges of the full run between inactive records, kept as Prior,
	// still hold those records together.
	var prior []Edge
	for _, e := range full.Edges {
		if !d.Active[e.A] && !d.Active[e.B] {
			prior = append(prior, e)
		}
	}
	if len(prior) == 0 {
		t.Fatal("the full run has no edges between inactive records to carry over")
	}
	together := func(r *Result) (n int) {
		for _, e := range prior {
			if r.Cluster[e.A] == r.Cluster[e.B] {
				n++
			}
		}
		return n
	}
	if n := together(inc); n == len(prior) {
		t.Fatalf("without Prior all %d inactive pairs cluster anyway; the test cannot tell Prior apart", n)
	}
	d.Prior = prior
	withPrior := mustLink(t, d, Config{})
	if n := together(withPrior); n != len(prior) {
		t.Errorf("with Prior, %d of %d prior edges hold their records together", n, len(prior))
	}
	if withPrior.Stats.Candidates != inc.Stats.Candidates {
		t.Errorf("Prior changed the comparisons: %d vs %d candidates", withPrior.Stats.Candidates, inc.Stats.Candidates)
	}
}

func TestLink_MaxBlockSkipsAndCountsLargeBlocks(t *testing.T) {
	// Blocking on the state alone: three large blocks (the typos in the
	// state column are cleared so that no small block remains).
	d := newSynth(300, 8).clone()
	byState := map[string]int{}
	for i, v := range d.Values[fState] {
		if !slices.Contains(states, v) {
			d.Values[fState][i] = ""
			continue
		}
		byState[v]++
	}
	largest := 0
	for _, n := range byState {
		largest = max(largest, n)
	}
	// within is what a limit should compare and skip: every block of at
	// most limit records is compared in full, every larger one skipped.
	within := func(limit int) (pairs int64, skipped int) {
		for _, n := range byState {
			if n > limit {
				skipped++
			} else {
				pairs += int64(n) * int64(n-1) / 2
			}
		}
		return pairs, skipped
	}
	for _, tc := range []struct {
		name     string
		maxBlock int
	}{
		{"blocks within the limit are all compared", largest},
		{"the largest block just over the limit is skipped", largest - 1},
		{"every block over the limit is skipped", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustLink(t, d, Config{Blocking: [][]string{{"state"}}, MaxBlock: tc.maxBlock})
			pairs, skipped := within(tc.maxBlock)
			if res.Stats.SkippedBlocks != skipped || res.Stats.Candidates != pairs {
				t.Errorf("MaxBlock %d over blocks %v: %d skipped, %d candidates; want %d skipped, %d candidates",
					tc.maxBlock, byState, res.Stats.SkippedBlocks, res.Stats.Candidates, skipped, pairs)
			}
		})
	}
	t.Run("a skipped block does not stop other rules", func(t *testing.T) {
		only := mustLink(t, d, Config{Blocking: [][]string{{"ssn"}}, MaxBlock: 10})
		both := mustLink(t, d, Config{Blocking: [][]string{{"state"}, {"ssn"}}, MaxBlock: 10})
		if both.Stats.SkippedBlocks != len(byState) || only.Stats.SkippedBlocks != 0 {
			t.Errorf("skipped %d and %d blocks, want %d and 0", both.Stats.SkippedBlocks, only.Stats.SkippedBlocks, len(byState))
		}
		if both.Stats.Candidates != only.Stats.Candidates || both.Stats.Candidates == 0 {
			t.Errorf("ssn blocking compared %d pairs alone, %d beside a skipped state rule", only.Stats.Candidates, both.Stats.Candidates)
		}
	})
}

func TestLink_MultiFieldBlockingNeedsEveryFieldToAgree(t *testing.T) {
	s := newSynth(300, 9)
	res := mustLink(t, &s.Data, Config{Blocking: [][]string{{"surname", "state"}}})
	groups := map[[2]string]int64{}
	for i := 0; i < s.N(); i++ {
		if sn, st := s.Values[fSurname][i], s.Values[fState][i]; sn != "" && st != "" {
			groups[[2]string{sn, st}]++
		}
	}
	var want int64
	for _, n := range groups {
		want += n * (n - 1) / 2
	}
	if res.Stats.Candidates != want || res.Stats.Rules != 1 {
		t.Errorf("%d candidates from %d rules, want %d from 1 (pairs agreeing on surname and state)", res.Stats.Candidates, res.Stats.Rules, want)
	}
}

func TestLink_ConfiguredWeightsAreUsedAsGiven(t *testing.T) {
	s := newSynth(300, 10)
	w := map[string]Weights{
		"surname": {M: []float64{0.02, 0.03, 0.05, 0.9}, U: []float64{0.9, 0.06, 0.03, 0.01}},
		"ssn":     {M: []float64{0.05, 0.1, 0.85}, U: []float64{0.98, 0.019, 0.001}},
	}
	res := mustLink(t, &s.Data, Config{Weights: w})
	for _, fm := range res.Model.Fields {
		want, ok := w[fm.Name]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(fm.M, want.M) || !reflect.DeepEqual(fm.U, want.U) {
			t.Errorf("%s: model m %v u %v, configured m %v u %v", fm.Name, fm.M, fm.U, want.M, want.U)
		}
	}
	// The configuration itself is left alone.
	if w["surname"].M[3] != 0.9 || w["ssn"].U[2] != 0.001 {
		t.Errorf("Link changed the configured weights: %v", w)
	}
	// Estimated fields are still estimated: their u comes from the data.
	estimated := mustLink(t, &s.Data, Config{})
	for f, fm := range res.Model.Fields {
		if _, ok := w[fm.Name]; ok && reflect.DeepEqual(fm.U, estimated.Model.Fields[f].U) {
			t.Errorf("%s: configured u equals the estimated one; the test cannot tell them apart", fm.Name)
		}
	}
}

func TestLink_RejectsBadConfiguration(t *testing.T) {
	two := func(fs ...Field) *Data {
		d := &Data{Fields: fs}
		for range fs {
			d.Values = append(d.Values, []string{"a", "b"})
		}
		return d
	}
	name := Field{Name: "name", Kind: KindName}
	var many []Field
	for i := 0; i < 14; i++ {
		many = append(many, Field{Name: fmt.Sprintf("f%d", i), Kind: KindText})
	}
	for _, tc := range []struct {
		name string
		d    *Data
		cfg  Config
		want []string
	}{
		{"unknown kind", two(Field{Name: "colour", Kind: "color"}), Config{}, []string{`"colour"`, `unknown kind "color"`}},
		{"no fields", two(), Config{}, []string{"no fields"}},
		{"more than 13 fields", two(many...), Config{}, []string{"14 fields", "at most 13"}},
		{"a field named twice", two(name, name), Config{}, []string{`"name"`, "twice"}},
		{"unknown blocking field", two(name), Config{Blocking: [][]string{{"name"}, {"nope"}}}, []string{"blocking rule 2", `"nope"`}},
		{"empty blocking rule", two(name), Config{Blocking: [][]string{{}}}, []string{"blocking rule 1", "empty"}},
		{"weights for an unknown field", two(name), Config{Weights: map[string]Weights{"nope": {}}}, []string{"weights", `"nope"`}},
		{"wrong number of weight levels", two(name), Config{Weights: map[string]Weights{
			"name": {M: []float64{0.1, 0.2, 0.7}, U: []float64{0.9, 0.05, 0.05}}}}, []string{`"name"`, "4 levels", "3 m"}},
		{"weights outside (0, 1]", two(name), Config{Weights: map[string]Weights{
			"name": {M: []float64{0, 0.1, 0.2, 0.7}, U: []float64{0.9, 0.05, 0.03, 0.02}}}}, []string{`"name"`, "level 0", "(0, 1]"}},
		{"values for fewer fields", &Data{Fields: []Field{name, {Name: "dob", Kind: KindDate}}, Values: [][]string{{"a"}}},
			Config{}, []string{"1 value columns for 2 fields"}},
		{"a short column", &Data{Fields: []Field{name, {Name: "dob", Kind: KindDate}}, Values: [][]string{{"a", "b"}, {"x"}}},
			Config{}, []string{`"dob"`, "1 values", "want 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Link(context.Background(), tc.d, tc.cfg)
			if err == nil {
				t.Fatalf("no error (result %+v)", res.Stats)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLink_StopsWhenTheContextEnds(t *testing.T) {
	s := newSynth(300, 11)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := Link(ctx, &s.Data, Config{}); !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("cancelled: result %v, error %v; want no result and context.Canceled", res, err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := Link(ctx, &s.Data, Config{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past deadline: error %v, want context.DeadlineExceeded", err)
	}
}

func TestLink_BadValuesNeverFailIt(t *testing.T) {
	d := &Data{Fields: synthFields, Values: [][]string{
		{"", "ＪＯＨＮ", "\xff\xfe", "john"},
		{"", "smith", "smith", "smith"},
		{"19802401", "not a date", "", "19800105"},
		{"", "--", "2602", "2602"},
		{"", "", "ab-12", "AB12"},
		{"call me", "+", "", "0422718532"},
		{"", "", "", ""},
	}}
	res := mustLink(t, d, Config{})
	if res.Stats.Records != 4 {
		t.Errorf("Records %d, want 4", res.Stats.Records)
	}
}
