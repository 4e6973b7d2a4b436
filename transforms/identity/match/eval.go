package match

// Metrics compare a clustering with the truth.
type Metrics struct {
	Pairwise PRF `json:"pairwise"`
	BCubed   PRF `json:"bcubed"`
	// TruePairs and PredictedPairs count same-entity pairs in the truth and
	// in the clustering; CorrectPairs those in both.
	TruePairs      int64 `json:"true_pairs"`
	PredictedPairs int64 `json:"predicted_pairs"`
	CorrectPairs   int64 `json:"correct_pairs"`
}

// PRF is a precision, recall and F1 triple.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func prf(p, r float64) PRF {
	f := 0.0
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return PRF{Precision: p, Recall: r, F1: f}
}

// Evaluate scores cluster ids against truth labels, one per record. With
// source set (linking two inputs), pairwise counts only pairs across
// sources; B-cubed always covers every record.
func Evaluate(cluster []int32, truth []string, source []uint8) Metrics {
	type cell struct {
		c int32
		t string
	}
	cells := map[cell][]int64{}
	clusters := map[int32][]int64{}
	truths := map[string][]int64{}
	sources := 1
	for _, s := range source {
		if int(s)+1 > sources {
			sources = int(s) + 1
		}
	}
	bump := func(v []int64, s int) []int64 {
		if v == nil {
			v = make([]int64, sources)
		}
		v[s]++
		return v
	}
	for i, c := range cluster {
		s := 0
		if source != nil {
			s = int(source[i])
		}
		k := cell{c, truth[i]}
		cells[k] = bump(cells[k], s)
		clusters[c] = bump(clusters[c], s)
		truths[truth[i]] = bump(truths[truth[i]], s)
	}
	pairs := func(v []int64) int64 {
		var n, same int64
		for _, x := range v {
			n += x
			same += x * (x - 1) / 2
		}
		if source != nil {
			return n*(n-1)/2 - same
		}
		return n * (n - 1) / 2
	}
	size := func(v []int64) float64 {
		var n int64
		for _, x := range v {
			n += x
		}
		return float64(n)
	}
	var m Metrics
	var bp, br float64
	for k, v := range cells {
		m.CorrectPairs += pairs(v)
		n := size(v)
		bp += n * n / size(clusters[k.c])
		br += n * n / size(truths[k.t])
	}
	for _, v := range clusters {
		m.PredictedPairs += pairs(v)
	}
	for _, v := range truths {
		m.TruePairs += pairs(v)
	}
	p, r := 1.0, 1.0
	if m.PredictedPairs > 0 {
		p = float64(m.CorrectPairs) / float64(m.PredictedPairs)
	}
	if m.TruePairs > 0 {
		r = float64(m.CorrectPairs) / float64(m.TruePairs)
	}
	m.Pairwise = prf(p, r)
	if n := float64(len(cluster)); n > 0 {
		m.BCubed = prf(bp/n, br/n)
	}
	return m
}
