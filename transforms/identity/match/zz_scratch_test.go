package match

import (
	"context"
	"testing"
	"time"
)

func TestZZScratchDatasets(t *testing.T) {
	for _, f := range []string{"febrl1", "febrl2", "febrl3", "febrl_dsgen_A_10000", "rldata10000"} {
		start := time.Now()
		m, err := LoadMapping("../../../examples/link/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		tb, err := m.ReadCSV([]string{"../../../../shared/data/identity/" + f + ".csv"}, "true_id")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Link(context.Background(), &tb.Data, m.Config())
		if err != nil {
			t.Fatal(err)
		}
		ev := Evaluate(res.Cluster, tb.Truth, nil)
		t.Logf("%s %+v %+v cand=%d ctp=%d tp=%d %v stats=%+v", f, ev.Pairwise, ev.BCubed, res.Stats.Candidates, res.Stats.CandidateTruePairs, ev.TruePairs, time.Since(start), res.Stats)
	}
}
