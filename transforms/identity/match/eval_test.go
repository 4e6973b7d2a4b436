package match

import (
	"math"
	"testing"
)

func TestEvaluate_HandComputed(t *testing.T) {
	// Six records of three people: a a a b b c.
	truth := []string{"a", "a", "a", "b", "b", "c"}
	for _, tc := range []struct {
		name                          string
		cluster                       []int32
		truePairs, predicted, correct int64
		pairwise, bcubed              PRF
	}{
		{
			// Cluster numbers are arbitrary labels: only the grouping counts.
			name:      "perfect clustering",
			cluster:   []int32{7, 7, 7, 3, 3, 9},
			truePairs: 4, predicted: 4, correct: 4,
			pairwise: PRF{1, 1, 1},
			bcubed:   PRF{1, 1, 1},
		},
		{
			// Pairs: 15 predicted, of which the 4 true ones are correct.
			// B-cubed precision: each record's cluster is all 6 records,
			// so a's score 3/6, b's 2/6, c's 1/6: (3·3 + 2·2 + 1)/6/6 = 7/18.
			name:      "everything in one cluster",
			cluster:   []int32{0, 0, 0, 0, 0, 0},
			truePairs: 4, predicted: 15, correct: 4,
			pairwise: PRF{4.0 / 15, 1, 2 * (4.0 / 15) / (4.0/15 + 1)},
			bcubed:   PRF{7.0 / 18, 1, 2 * (7.0 / 18) / (7.0/18 + 1)},
		},
		{
			// No pair predicted: nothing found, recall 0 (and no wrong pair,
			// precision 1). B-cubed recall:
			// a's 1/3 each, b's 1/2 each, c 1: (1 + 1 + 1)/6 = 1/2.
			name:      "all singletons",
			cluster:   []int32{0, 1, 2, 3, 4, 5},
			truePairs: 4, predicted: 0, correct: 0,
			pairwise: PRF{1, 0, 0},
			bcubed:   PRF{1, 0.5, 2 * 0.5 / 1.5},
		},
		{
			// Clusters {0,1} {2,3,4,5}.
			// Pairwise: predicted 1 + 6 = 7; correct (0,1) and (3,4) = 2;
			// true 3 + 1 = 4. P = 2/7, R = 2/4, F1 = 2·(2/7)(1/2)/(2/7+1/2) = 4/11.
			// B-cubed precision per record (share of its cluster with its
			// truth): 1, 1, 1/4, 2/4, 2/4, 1/4 → 3.5/6 = 7/12.
			// B-cubed recall (share of its truth in its cluster): 2/3, 2/3,
			// 1/3, 1, 1, 1 → (14/3)/6 = 7/9. F1 = 2·(7/12)(7/9)/(7/12+7/9) = 2/3.
			name:      "mixed: one person split, two merged with a stranger",
			cluster:   []int32{0, 0, 1, 1, 1, 1},
			truePairs: 4, predicted: 7, correct: 2,
			pairwise: PRF{2.0 / 7, 0.5, 4.0 / 11},
			bcubed:   PRF{7.0 / 12, 7.0 / 9, 2.0 / 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Evaluate(tc.cluster, truth, nil)
			if m.TruePairs != tc.truePairs || m.PredictedPairs != tc.predicted || m.CorrectPairs != tc.correct {
				t.Errorf("pairs true/predicted/correct = %d/%d/%d, want %d/%d/%d",
					m.TruePairs, m.PredictedPairs, m.CorrectPairs, tc.truePairs, tc.predicted, tc.correct)
			}
			checkPRF(t, "pairwise", m.Pairwise, tc.pairwise)
			checkPRF(t, "B-cubed", m.BCubed, tc.bcubed)
		})
	}
}

func TestEvaluate_LinkOnlyCountsOnlyPairsAcrossSources(t *testing.T) {
	// Source 0 holds records 0 (a) and 1 (b); source 1 holds 2 (a), 3 (a)
	// and 4 (b). True pairs across sources: (0,2) (0,3) (1,4) = 3; the
	// same-source pair (2,3) is not one a link can find.
	truth := []string{"a", "b", "a", "a", "b"}
	source := []uint8{0, 0, 1, 1, 1}
	for _, tc := range []struct {
		name                          string
		cluster                       []int32
		truePairs, predicted, correct int64
		pairwise, bcubed              PRF
	}{
		{
			// {0,2,3} {1} {4}: across-source predicted (0,2) (0,3), both true.
			// B-cubed over every record: precision all 1; recall 1, 1/2,
			// 1, 1, 1/2 → 4/5.
			name:      "finds a's links, misses b's",
			cluster:   []int32{0, 1, 0, 0, 2},
			truePairs: 3, predicted: 2, correct: 2,
			pairwise: PRF{1, 2.0 / 3, 0.8},
			bcubed:   PRF{1, 0.8, 2 * 0.8 / 1.8},
		},
		{
			// {0} {1,4} {2,3}: the same-source pair (2,3) is neither
			// predicted nor true in link-only counting. Across: (1,4) only.
			// B-cubed recall: 1/3, 1, 2/3, 2/3, 1 → (11/3)/5 = 11/15.
			name:      "a same-source pair does not count",
			cluster:   []int32{0, 1, 2, 2, 1},
			truePairs: 3, predicted: 1, correct: 1,
			pairwise: PRF{1, 1.0 / 3, 0.5},
			bcubed:   PRF{1, 11.0 / 15, 2 * (11.0 / 15) / (1 + 11.0/15)},
		},
		{
			// Everything in one cluster: across-source pairs 2·3 = 6
			// predicted, 3 correct.
			name:      "one cluster",
			cluster:   []int32{0, 0, 0, 0, 0},
			truePairs: 3, predicted: 6, correct: 3,
			pairwise: PRF{0.5, 1, 2 * 0.5 / 1.5},
			// B-cubed precision: a's 3/5, b's 2/5 → (3·3/5 + 2·2/5)/5 = 13/25.
			bcubed: PRF{13.0 / 25, 1, 2 * (13.0 / 25) / (1 + 13.0/25)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Evaluate(tc.cluster, truth, source)
			if m.TruePairs != tc.truePairs || m.PredictedPairs != tc.predicted || m.CorrectPairs != tc.correct {
				t.Errorf("pairs true/predicted/correct = %d/%d/%d, want %d/%d/%d",
					m.TruePairs, m.PredictedPairs, m.CorrectPairs, tc.truePairs, tc.predicted, tc.correct)
			}
			checkPRF(t, "pairwise", m.Pairwise, tc.pairwise)
			checkPRF(t, "B-cubed", m.BCubed, tc.bcubed)
		})
	}
}

func TestEvaluate_WithoutSourceEveryPairCounts(t *testing.T) {
	// The same records as the link-only case, deduplicated: now (2,3) is a
	// true pair too (3 + 1 = 4), and clustering it is correct.
	m := Evaluate([]int32{0, 1, 2, 2, 1}, []string{"a", "b", "a", "a", "b"}, nil)
	if m.TruePairs != 4 || m.PredictedPairs != 2 || m.CorrectPairs != 2 {
		t.Errorf("pairs true/predicted/correct = %d/%d/%d, want 4/2/2", m.TruePairs, m.PredictedPairs, m.CorrectPairs)
	}
	checkPRF(t, "pairwise", m.Pairwise, PRF{1, 0.5, 2 * 0.5 / 1.5})
}

func checkPRF(t *testing.T, what string, got, want PRF) {
	t.Helper()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) {
		t.Errorf("%s = P %.4f R %.4f F1 %.4f, want P %.4f R %.4f F1 %.4f",
			what, got.Precision, got.Recall, got.F1, want.Precision, want.Recall, want.F1)
	}
}
