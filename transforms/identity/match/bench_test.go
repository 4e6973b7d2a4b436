package match

import "testing"

// BenchmarkBuildBlocks groups 100k synthetic people's records (about
// 250k) into the default blocking rules' blocks.
func BenchmarkBuildBlocks(b *testing.B) {
	s := newSynth(100000, 1)
	r := &run{cfg: Config{}.withDefaults(), d: &s.Data, n: s.N()}
	r.cols = make([]column, len(s.Fields))
	for f := range s.Fields {
		r.cols[f] = prepare(s.Fields[f], s.Values[f], nil)
	}
	r.buildRules()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r.blocks = nil
		var st Stats
		r.buildBlocks(&st)
	}
	b.ReportMetric(float64(len(r.blocks)), "blocks")
}
