package match

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Data is the input of one linkage run, stored by column.
type Data struct {
	Fields []Field
	// Values holds the raw values, Values[field][record].
	Values [][]string
	// Alt optionally gives a second spelling per value (the pinyin of a
	// Chinese name, say): Alt[field] is nil or one entry per record.
	Alt [][]string
	// Key is an optional validated identifier per record ("" for none).
	// Records with equal keys are linked without comparison; records with
	// different keys are never put in one cluster.
	Key []string
	// Partition optionally restricts comparison to records with equal values
	// (persons with persons, companies with companies).
	Partition []string
	// Source optionally names the input each record came from; with LinkOnly
	// only records from different sources are compared.
	Source   []uint8
	LinkOnly bool
	// Active, when set, restricts comparison to pairs with at least one
	// active record: an incremental run compares what changed.
	Active []bool
	// Prior edges, kept from earlier runs, join the new edges in clustering.
	Prior []Edge
	// Truth optionally labels each record with its true entity, for
	// evaluation only: Stats.CandidateTruePairs counts the true pairs that
	// blocking found.
	Truth []string
	// Release lets Link set Values and Alt to nil once it has prepared
	// them, so that a caller holding millions of records does not hold
	// their columns twice (N is 0 after).
	Release bool
}

// N is the number of records.
func (d *Data) N() int {
	if len(d.Values) == 0 {
		return 0
	}
	return len(d.Values[0])
}

// Edge links two records.
type Edge struct {
	A, B int32
	// Prob is the match probability; 1 for a key edge.
	Prob float64
	// ByKey is set when equal keys, not comparison, made the edge.
	ByKey bool
}

// Result is what a run decided.
type Result struct {
	// Cluster numbers each record's cluster, 0.. in order of first record.
	Cluster []int32
	// Edges are the edges from this run's comparisons (not Prior, not key
	// edges) with probability at or above the threshold.
	Edges []Edge
	// Via is, per record, the strongest edge holding it in its cluster
	// (Prob 0 for a record alone).
	Via   []Edge
	Model Model
	Stats Stats
}

// Stats describes the work a run did.
type Stats struct {
	Records    int   `json:"records"`
	Rules      int   `json:"blocking_rules"`
	Candidates int64 `json:"candidate_pairs"`
	// CandidateTruePairs is set when Data.Truth is.
	CandidateTruePairs int64   `json:"candidate_true_pairs,omitempty"`
	TotalPairs         float64 `json:"total_pairs"`
	SkippedBlocks      int     `json:"skipped_blocks"`
	KeyEdges           int     `json:"key_edges"`
	Matches            int     `json:"matched_pairs"`
	Refused            int     `json:"refused_unions"`
	Clusters           int     `json:"clusters"`
}

// Model holds the Fellegi–Sunter parameters a run used.
type Model struct {
	Fields []FieldModel `json:"fields"`
	// Prior is the probability that two random records match.
	Prior float64 `json:"prior"`
	// Threshold is the match probability an edge needs.
	Threshold float64 `json:"threshold"`
}

// FieldModel is one field's m and u per level (level 0 = different, last =
// exact) and whether exact agreement is adjusted for term frequency.
type FieldModel struct {
	Name string    `json:"name"`
	Kind Kind      `json:"kind"`
	M    []float64 `json:"m"`
	U    []float64 `json:"u"`
	TF   bool      `json:"tf"`
}

// Weight is the log2 Bayes factor of agreement level l.
func (f FieldModel) Weight(l int) float64 { return math.Log2(f.M[l] / f.U[l]) }

// run holds one linkage's working state.
type run struct {
	cfg    Config
	d      *Data
	n      int
	cols   []column
	rules  [][]int // field indexes per blocking rule
	blocks []block
	// blockOf[r][i] is record i's block in rule r, or -1 (no key or skipped).
	blockOf [][]int32
	tf      []map[string]float64
}

type block struct {
	rule    int
	members []int32
}

// Link runs the engine over d. It returns an error for a bad configuration
// or when ctx ends; bad values never fail it.
func Link(ctx context.Context, d *Data, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := validate(d.Fields, cfg); err != nil {
		return nil, err
	}
	n := d.N()
	if len(d.Values) != len(d.Fields) {
		return nil, fmt.Errorf("%d value columns for %d fields", len(d.Values), len(d.Fields))
	}
	for f, v := range d.Values {
		if len(v) != n {
			return nil, fmt.Errorf("field %q has %d values, want %d", d.Fields[f].Name, len(v), n)
		}
	}
	if err := d.check(n); err != nil {
		return nil, err
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	r := &run{cfg: cfg, d: d, n: n}
	r.cols = make([]column, len(d.Fields))
	var alt []string
	for f := range d.Fields {
		alt = nil
		if f < len(d.Alt) {
			alt = d.Alt[f]
		}
		r.cols[f] = prepare(d.Fields[f], d.Values[f], alt)
		if d.Release {
			d.Values[f] = nil
			if f < len(d.Alt) {
				d.Alt[f] = nil
			}
		}
	}
	r.termFrequencies()
	r.buildRules()
	res := &Result{Stats: Stats{Records: n, Rules: len(r.rules)}}
	r.buildBlocks(&res.Stats)
	res.Stats.TotalPairs = r.totalPairs()

	pairs, perRule, err := r.compareAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, ps := range pairs {
		res.Stats.Candidates += int64(len(ps))
		if d.Truth != nil {
			for _, p := range ps {
				if d.Truth[p.a] == d.Truth[p.b] {
					res.Stats.CandidateTruePairs++
				}
			}
		}
	}
	res.Model = r.estimate(perRule, res.Stats.TotalPairs)
	res.Edges = r.score(pairs, &res.Model)
	// Workers finish blocks in any order; edges come out in record order.
	sort.Slice(res.Edges, func(i, j int) bool {
		if res.Edges[i].A != res.Edges[j].A {
			return res.Edges[i].A < res.Edges[j].A
		}
		return res.Edges[i].B < res.Edges[j].B
	})
	res.Stats.Matches = len(res.Edges)
	r.cluster(res)
	return res, nil
}

// check verifies that the optional per-record slices fit the records.
func (d *Data) check(n int) error {
	for _, c := range []struct {
		name string
		len  int
	}{{"Key", len(d.Key)}, {"Partition", len(d.Partition)}, {"Source", len(d.Source)}, {"Active", len(d.Active)}, {"Truth", len(d.Truth)}} {
		if c.len != 0 && c.len != n {
			return fmt.Errorf("%s has %d entries for %d records", c.name, c.len, n)
		}
	}
	for f, a := range d.Alt {
		if a != nil && len(a) != n {
			return fmt.Errorf("Alt[%d] has %d entries for %d records", f, len(a), n)
		}
	}
	if d.LinkOnly && len(d.Source) != n {
		return fmt.Errorf("LinkOnly needs a Source for every record")
	}
	for _, e := range d.Prior {
		if e.A < 0 || e.B < 0 || int(e.A) >= n || int(e.B) >= n {
			return fmt.Errorf("prior edge %d–%d outside the %d records", e.A, e.B, n)
		}
	}
	return nil
}

// termFrequencies counts each prepared value's share of its field.
func (r *run) termFrequencies() {
	r.tf = make([]map[string]float64, len(r.cols))
	if r.cfg.NoTermFrequency {
		return
	}
	for f, c := range r.cols {
		if c.kind == KindID {
			continue
		}
		counts := map[string]int{}
		total := 0
		for _, v := range c.val {
			if v != "" {
				counts[v]++
				total++
			}
		}
		m := make(map[string]float64, len(counts))
		for v, k := range counts {
			m[v] = float64(k) / float64(total)
		}
		r.tf[f] = m
	}
}

func (r *run) buildRules() {
	idx := map[string]int{}
	for i, f := range r.d.Fields {
		idx[f.Name] = i
	}
	if len(r.cfg.Blocking) > 0 {
		for _, rule := range r.cfg.Blocking {
			var fs []int
			for _, name := range rule {
				fs = append(fs, idx[name])
			}
			r.rules = append(r.rules, fs)
		}
		return
	}
	for i, f := range r.d.Fields {
		if f.Block || !anyBlock(r.d.Fields) {
			r.rules = append(r.rules, []int{i})
		}
	}
}

func anyBlock(fs []Field) bool {
	for _, f := range fs {
		if f.Block {
			return true
		}
	}
	return false
}

// buildBlocks groups records by each rule's key and keeps blocks with at
// least one pair to compare and at most MaxBlock's worth of pairs.
func (r *run) buildBlocks(st *Stats) {
	maxPairs := int64(r.cfg.MaxBlock) * int64(r.cfg.MaxBlock-1) / 2
	r.blockOf = make([][]int32, len(r.rules))
	// Records are grouped by a 64-bit hash of their blocking key, sorted,
	// rather than in a map from the keys themselves: at 16M records a
	// rule's map of keys took about 130 bytes a record, the hashes take 8
	// (and the sorted record numbers 4, kept as the blocks' members). Blocks
	// come in the order of their keys' hashes, then record order: an order
	// that is the same on every run (and that nothing depends on but the
	// workers' schedule).
	hashes := make([]uint64, r.n)
	var key, other []byte
	for ri, rule := range r.rules {
		idx := make([]int32, 0, r.n)
		for i := 0; i < r.n; i++ {
			var ok bool
			if key, ok = r.blockKey(key[:0], i, rule); ok {
				hashes[i] = blockHash(key)
				idx = append(idx, int32(i))
			}
		}
		slices.SortFunc(idx, func(a, b int32) int {
			if c := cmp.Compare(hashes[a], hashes[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		of := make([]int32, r.n)
		for i := range of {
			of[i] = -1
		}
		add := func(g []int32) {
			if r.blockPairs(g) > maxPairs {
				st.SkippedBlocks++
				return
			}
			id := int32(len(r.blocks))
			r.blocks = append(r.blocks, block{rule: ri, members: g})
			for _, m := range g {
				of[m] = id
			}
		}
		for s := 0; s < len(idx); {
			e := s + 1
			for e < len(idx) && hashes[idx[e]] == hashes[idx[s]] {
				e++
			}
			if g := idx[s:e:e]; len(g) > 1 {
				// Two keys with one hash are told apart (rarely needed).
				key, _ = r.blockKey(key[:0], int(g[0]), rule)
				same := true
				for _, m := range g[1:] {
					other, _ = r.blockKey(other[:0], int(m), rule)
					if !bytes.Equal(key, other) {
						same = false
						break
					}
				}
				if same {
					add(g)
				} else {
					byKey := map[string][]int32{}
					var keys []string
					for _, m := range g {
						other, _ = r.blockKey(other[:0], int(m), rule)
						if _, seen := byKey[string(other)]; !seen {
							keys = append(keys, string(other))
						}
						byKey[string(other)] = append(byKey[string(other)], m)
					}
					sort.Strings(keys)
					for _, k := range keys {
						if len(byKey[k]) > 1 {
							add(byKey[k])
						}
					}
				}
			}
			s = e
		}
		r.blockOf[ri] = of
	}
}

// blockKey appends record i's blocking key under rule to b: its partition
// and the rule's fields' values, each ended by a zero byte; ok is false
// when one of the values is empty (the record is in no block of the rule).
func (r *run) blockKey(b []byte, i int, rule []int) (_ []byte, ok bool) {
	if r.d.Partition != nil {
		b = append(b, r.d.Partition[i]...)
		b = append(b, 0)
	}
	for _, f := range rule {
		v := r.cols[f].val[i]
		if v == "" {
			return b, false
		}
		b = append(b, v...)
		b = append(b, 0)
	}
	return b, true
}

// blockHash hashes a blocking key (a variable so that a test can make
// every key collide).
var blockHash = fnv64

// fnv64 is the 64-bit FNV-1a hash of b.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// blockPairs counts the pairs a block would compare: pairs with a keyless
// record (two keyed records are decided by their keys alone).
func (r *run) blockPairs(g []int32) int64 {
	if r.d.Key == nil {
		return int64(len(g)) * int64(len(g)-1) / 2
	}
	var u int64
	for _, m := range g {
		if r.d.Key[m] == "" {
			u++
		}
	}
	k := int64(len(g)) - u
	return u*(u-1)/2 + u*k
}

// totalPairs is the number of pairs the run could compare without blocking.
func (r *run) totalPairs() float64 {
	counts := map[string]map[uint8]float64{}
	for i := 0; i < r.n; i++ {
		p := ""
		if r.d.Partition != nil {
			p = r.d.Partition[i]
		}
		var s uint8
		if r.d.LinkOnly && r.d.Source != nil {
			s = r.d.Source[i]
		}
		if counts[p] == nil {
			counts[p] = map[uint8]float64{}
		}
		counts[p][s]++
	}
	var total float64
	for _, bySource := range counts {
		var all, same float64
		for _, c := range bySource {
			all += c
			same += c * (c - 1) / 2
		}
		if r.d.LinkOnly {
			total += all*(all-1)/2 - same
		} else {
			total += all * (all - 1) / 2
		}
	}
	return total
}

// pair is one compared pair and its comparison vector.
type pair struct {
	a, b    int32
	pattern uint32
}

// compareAll compares every candidate pair once, in parallel over blocks.
// It returns the unique pairs and, per rule, the pattern counts of all the
// rule's pairs (for training).
func (r *run) compareAll(ctx context.Context) ([][]pair, []map[uint32]float64, error) {
	workers := r.cfg.Workers
	// Each worker's pairs in chunks of at most pairChunk: a slice grown by
	// append copies all it holds when it doubles, twice the pairs for a
	// moment (136.8M pairs, 1.6 GB, at 5M parties).
	out := make([][][]pair, workers)
	counts := make([][]map[uint32]float64, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		counts[w] = make([]map[uint32]float64, len(r.rules))
		for ri := range r.rules {
			counts[w][ri] = map[uint32]float64{}
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var s scratch
			var cur []pair
			defer func() {
				if len(cur) > 0 {
					out[w] = append(out[w], cur)
				}
			}()
			for {
				bi := int(next.Add(1) - 1)
				if bi >= len(r.blocks) || ctx.Err() != nil {
					return
				}
				b := r.blocks[bi]
				c := counts[w][b.rule]
				r.forPairs(b.members, func(i, j int32) {
					p := r.pattern(i, j, &s)
					c[p]++
					if !r.coveredEarlier(b.rule, i, j) {
						if len(cur) == cap(cur) {
							if len(cur) > 0 {
								out[w] = append(out[w], cur)
							}
							cur = make([]pair, 0, min(max(2*cap(cur), 1024), pairChunk))
						}
						cur = append(cur, pair{a: i, b: j, pattern: p})
					}
				})
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	perRule := make([]map[uint32]float64, len(r.rules))
	for ri := range r.rules {
		perRule[ri] = map[uint32]float64{}
		for w := range counts {
			for p, c := range counts[w][ri] {
				perRule[ri][p] += c
			}
		}
	}
	return slices.Concat(out...), perRule, nil
}

// pairChunk is the most candidate pairs a chunk of compareAll's holds
// (12 MiB).
const pairChunk = 1 << 20

// forPairs calls fn for each pair of a block that is to be compared.
func (r *run) forPairs(g []int32, fn func(i, j int32)) {
	d := r.d
	for x := 0; x < len(g); x++ {
		i := g[x]
		for y := x + 1; y < len(g); y++ {
			j := g[y]
			if d.Key != nil && d.Key[i] != "" && d.Key[j] != "" {
				continue
			}
			if d.Active != nil && !d.Active[i] && !d.Active[j] {
				continue
			}
			if d.LinkOnly && d.Source[i] == d.Source[j] {
				continue
			}
			if i < j {
				fn(i, j)
			} else {
				fn(j, i)
			}
		}
	}
}

// coveredEarlier reports whether an earlier rule already compares i and j.
func (r *run) coveredEarlier(rule int, i, j int32) bool {
	for k := 0; k < rule; k++ {
		bi := r.blockOf[k][i]
		if bi >= 0 && bi == r.blockOf[k][j] {
			return true
		}
	}
	return false
}

// pattern encodes the comparison vector of i and j: base 5 per field, 0 for
// missing and 1+level otherwise.
func (r *run) pattern(i, j int32, s *scratch) uint32 {
	var p uint32
	for f := len(r.cols) - 1; f >= 0; f-- {
		p = p*5 + uint32(r.cols[f].compare(int(i), int(j), s)+1)
	}
	return p
}

// level extracts field f's level (or missing) from a pattern.
func level(p uint32, f int) int {
	for ; f > 0; f-- {
		p /= 5
	}
	return int(p%5) - 1
}
