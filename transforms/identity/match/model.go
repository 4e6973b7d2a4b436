package match

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

// estimate measures u on random pairs, estimates m by EM per blocking rule
// (leaving out that rule's own fields) and derives the prior.
func (r *run) estimate(perRule []map[uint32]float64, totalPairs float64) Model {
	nf := len(r.cols)
	m := Model{Threshold: r.cfg.Threshold, Fields: make([]FieldModel, nf)}
	u := r.sampleU(totalPairs)
	for f := range r.cols {
		fm := FieldModel{Name: r.d.Fields[f].Name, Kind: r.cols[f].kind, TF: r.tf[f] != nil}
		if w, ok := r.cfg.Weights[fm.Name]; ok {
			fm.M, fm.U = append([]float64(nil), w.M...), append([]float64(nil), w.U...)
		} else {
			fm.U = u[f]
			fm.M = initialM(r.cols[f].kind.levels())
		}
		m.Fields[f] = fm
	}
	// m per rule, then averaged over the rules that could estimate it.
	sums := make([][]float64, nf)
	runs := make([]int, nf)
	var matches float64
	for ri, counts := range perRule {
		excluded := make([]bool, nf)
		for _, f := range r.rules[ri] {
			excluded[f] = true
		}
		fixed := make([]bool, nf)
		for f := range m.Fields {
			_, fixed[f] = r.cfg.Weights[m.Fields[f].Name] // configured: in the likelihood, not estimated
		}
		est, lambda, n := r.em(counts, m.Fields, excluded, fixed)
		if e := lambda * n; e > matches {
			matches = e
		}
		for f := range m.Fields {
			if excluded[f] || fixed[f] || est[f] == nil {
				continue
			}
			if sums[f] == nil {
				sums[f] = make([]float64, len(est[f]))
			}
			for l, v := range est[f] {
				sums[f][l] += v
			}
			runs[f]++
		}
	}
	for f := range m.Fields {
		if runs[f] == 0 {
			continue
		}
		for l := range sums[f] {
			m.Fields[f].M[l] = clampProb(sums[f][l] / float64(runs[f]))
		}
	}
	if totalPairs > 0 {
		m.Prior = matches / totalPairs
	}
	if r.cfg.Prior > 0 {
		m.Prior = r.cfg.Prior
	}
	m.Prior = math.Min(math.Max(m.Prior, 1e-12), 0.5)
	return m
}

// initialM is where EM starts: matches mostly agree exactly.
func initialM(levels int) []float64 {
	m := make([]float64, levels)
	m[levels-1] = 0.85
	rest := 0.15
	for l := levels - 2; l >= 1; l-- {
		m[l] = rest * 0.6
		rest -= m[l]
	}
	m[0] = rest
	return m
}

func clampProb(p float64) float64 { return math.Min(math.Max(p, 1e-6), 1) }

// sampleU measures how often random pairs agree at each level of each
// field: all pairs when there are few, a fixed-seed sample otherwise.
func (r *run) sampleU(totalPairs float64) [][]float64 {
	nf := len(r.cols)
	counts := make([][]float64, nf)
	for f := range counts {
		counts[f] = make([]float64, r.cols[f].kind.levels())
	}
	groups := r.samplingGroups()
	add := func(dst [][]float64, i, j int32, s *scratch) {
		for f := range r.cols {
			if l := r.cols[f].compare(int(i), int(j), s); l != missing {
				dst[f][l]++
			}
		}
	}
	if totalPairs <= float64(r.cfg.SamplePairs) {
		var s scratch
		for _, g := range groups {
			for x := 0; x < len(g.members); x++ {
				for y := x + 1; y < len(g.members); y++ {
					i, j := g.members[x], g.members[y]
					if r.d.LinkOnly && r.d.Source[i] == r.d.Source[j] {
						continue
					}
					add(counts, i, j, &s)
				}
			}
		}
	} else {
		// Sample groups in proportion to their pairs.
		var cum []float64
		var total float64
		for _, g := range groups {
			total += g.pairs
			cum = append(cum, total)
		}
		// A fixed number of shards, each with its own seed, so the sample
		// (and so the model) does not depend on the number of workers.
		const shards = 16
		partial := make([][][]float64, shards)
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < r.cfg.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					sh := int(next.Add(1) - 1)
					if sh >= shards {
						return
					}
					partial[sh] = r.sampleShard(groups, cum, total, sh, shards, add)
				}
			}()
		}
		wg.Wait()
		for w := range partial {
			for f := range counts {
				for l, c := range partial[w][f] {
					counts[f][l] += c
				}
			}
		}
	}
	return uProbabilities(counts)
}

// sampleShard draws shard sh's share of the random pairs.
func (r *run) sampleShard(groups []sampleGroup, cum []float64, total float64, sh, shards int, add func([][]float64, int32, int32, *scratch)) [][]float64 {
	out := make([][]float64, len(r.cols))
	for f := range out {
		out[f] = make([]float64, r.cols[f].kind.levels())
	}
	per := r.cfg.SamplePairs / shards
	if sh == shards-1 {
		per += r.cfg.SamplePairs % shards
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(sh)+1))
	var s scratch
	for k, tries := 0, 0; k < per && tries < 100*per; tries++ {
		gi := sort.SearchFloat64s(cum, rng.Float64()*total)
		if gi >= len(groups) {
			gi = len(groups) - 1
		}
		g := groups[gi].members
		i, j := g[rng.IntN(len(g))], g[rng.IntN(len(g))]
		if i == j || r.d.LinkOnly && r.d.Source[i] == r.d.Source[j] {
			continue
		}
		add(out, i, j, &s)
		k++
	}
	return out
}

// uProbabilities turns level counts among random pairs into u.
func uProbabilities(counts [][]float64) [][]float64 {
	nf := len(counts)
	u := make([][]float64, nf)
	for f, c := range counts {
		var total float64
		for _, v := range c {
			total += v
		}
		u[f] = make([]float64, len(c))
		for l, v := range c {
			if total == 0 {
				u[f][l] = 1 / float64(len(c))
				continue
			}
			// A level never seen among random pairs is rare, not impossible.
			u[f][l] = math.Max(v, 0.5) / total
		}
	}
	return u
}

type sampleGroup struct {
	members []int32
	pairs   float64
}

// samplingGroups are the sets random pairs are drawn from: partitions.
func (r *run) samplingGroups() []sampleGroup {
	if r.d.Partition == nil {
		all := make([]int32, r.n)
		for i := range all {
			all[i] = int32(i)
		}
		n := float64(r.n)
		return []sampleGroup{{members: all, pairs: n * (n - 1) / 2}}
	}
	idx := map[string]int{}
	var gs []sampleGroup
	for i := 0; i < r.n; i++ {
		p := r.d.Partition[i]
		k, ok := idx[p]
		if !ok {
			k = len(gs)
			idx[p] = k
			gs = append(gs, sampleGroup{})
		}
		gs[k].members = append(gs[k].members, int32(i))
	}
	for k := range gs {
		n := float64(len(gs[k].members))
		gs[k].pairs = n * (n - 1) / 2
	}
	return gs
}

// em estimates m for the non-excluded fields and the match share lambda on
// one rule's pattern counts, u held fixed. It returns nil rows for excluded
// fields, lambda and the number of pairs.
func (r *run) em(counts map[uint32]float64, fields []FieldModel, excluded, fixed []bool) ([][]float64, float64, float64) {
	nf := len(fields)
	m := make([][]float64, nf)
	for f := range fields {
		m[f] = append([]float64(nil), fields[f].M...)
	}
	type pc struct {
		levels []int8
		c      float64
	}
	var pats []pc
	var n float64
	for p, c := range counts {
		lv := make([]int8, nf)
		for f := range lv {
			lv[f] = int8(level(p, f))
		}
		pats = append(pats, pc{levels: lv, c: c})
		n += c
	}
	if n == 0 {
		return make([][]float64, nf), 0, 0
	}
	sort.Slice(pats, func(a, b int) bool { return lessLevels(pats[a].levels, pats[b].levels) })
	lambda := 0.3
	num := make([][]float64, nf)
	for f := range num {
		num[f] = make([]float64, len(m[f]))
	}
	den := make([]float64, nf)
	for it := 0; it < r.cfg.EMIterations; it++ {
		for f := range num {
			for l := range num[f] {
				num[f][l] = 0
			}
			den[f] = 0
		}
		var matched float64
		for _, p := range pats {
			lm, lu := math.Log(lambda), math.Log(1-lambda)
			for f, l := range p.levels {
				if excluded[f] || l == missing {
					continue
				}
				lm += math.Log(m[f][l])
				lu += math.Log(fields[f].U[l])
			}
			post := 1 / (1 + math.Exp(lu-lm))
			w := p.c * post
			matched += w
			for f, l := range p.levels {
				if excluded[f] || l == missing {
					continue
				}
				num[f][l] += w
				den[f] += w
			}
		}
		change := math.Abs(matched/n - lambda)
		lambda = math.Min(math.Max(matched/n, 1e-9), 1-1e-9)
		for f := range m {
			if excluded[f] || fixed[f] || den[f] == 0 {
				continue
			}
			for l := range m[f] {
				v := clampProb(num[f][l] / den[f])
				change = math.Max(change, math.Abs(v-m[f][l]))
				m[f][l] = v
			}
		}
		if change < 1e-6 {
			break
		}
	}
	for f := range m {
		if excluded[f] || den[f] == 0 {
			m[f] = nil
		}
	}
	return m, lambda, n
}

func lessLevels(a, b []int8) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// score turns the compared pairs into edges at or above the threshold.
func (r *run) score(pairs [][]pair, m *Model) []Edge {
	prior := math.Log2(m.Prior / (1 - m.Prior))
	nf := len(m.Fields)
	w := make([][]float64, nf)
	for f := range m.Fields {
		w[f] = make([]float64, len(m.Fields[f].M))
		for l := range w[f] {
			w[f][l] = m.Fields[f].Weight(l)
		}
	}
	var edges []Edge
	for _, ps := range pairs {
		for _, p := range ps {
			total := prior
			pat := p.pattern
			for f := 0; f < nf; f++ {
				l := int(pat%5) - 1
				pat /= 5
				if l == missing {
					continue
				}
				top := len(w[f]) - 1
				if l == top && m.Fields[f].TF {
					if tf := r.tf[f][r.cols[f].val[p.a]]; tf > 0 {
						total += math.Log2(m.Fields[f].M[top] / tf)
						continue
					}
				}
				total += w[f][l]
			}
			prob := 1 / (1 + math.Exp2(-total))
			if prob >= m.Threshold {
				edges = append(edges, Edge{A: p.a, B: p.b, Prob: prob})
			}
		}
	}
	return edges
}

// cluster unions key edges, prior edges and new edges, strongest first,
// refusing unions that would join two different keys.
func (r *run) cluster(res *Result) {
	d := r.d
	all := make([]Edge, 0, len(res.Edges)+len(d.Prior))
	if d.Key != nil {
		first := map[string]int32{}
		for i := 0; i < r.n; i++ {
			k := d.Key[i]
			if k == "" {
				continue
			}
			if d.Partition != nil {
				k = d.Partition[i] + "\x00" + k
			}
			if f, ok := first[k]; ok {
				all = append(all, Edge{A: f, B: int32(i), Prob: 1, ByKey: true})
				res.Stats.KeyEdges++
			} else {
				first[k] = int32(i)
			}
		}
	}
	all = append(all, d.Prior...)
	all = append(all, res.Edges...)
	sort.SliceStable(all, func(a, b int) bool {
		x, y := all[a], all[b]
		if x.ByKey != y.ByKey {
			return x.ByKey
		}
		if x.Prob != y.Prob {
			return x.Prob > y.Prob
		}
		if x.A != y.A {
			return x.A < y.A
		}
		return x.B < y.B
	})
	parent := make([]int32, r.n)
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) int32
	find = func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	key := make([]string, r.n)
	if d.Key != nil {
		copy(key, d.Key)
	}
	res.Via = make([]Edge, r.n)
	for _, e := range all {
		a, b := find(e.A), find(e.B)
		if a != b {
			if key[a] != "" && key[b] != "" && key[a] != key[b] {
				res.Stats.Refused++
				continue
			}
			if b < a {
				a, b = b, a
			}
			parent[b] = a
			if key[a] == "" {
				key[a] = key[b]
			}
		}
		for _, x := range [2]int32{e.A, e.B} {
			if res.Via[x].Prob == 0 {
				res.Via[x] = e
			}
		}
	}
	res.Cluster = make([]int32, r.n)
	ids := map[int32]int32{}
	for i := 0; i < r.n; i++ {
		root := find(int32(i))
		id, ok := ids[root]
		if !ok {
			id = int32(len(ids))
			ids[root] = id
		}
		res.Cluster[i] = id
	}
	res.Stats.Clusters = len(ids)
}
