package identity

import (
	"strings"
	"testing"
	"unsafe"
)

// A record's normalised fields come back as packed, empty or not, and
// however long; the record stays small (15.85M of them at 5M parties).
func TestNorm_FieldsComeBackAsPacked(t *testing.T) {
	long := strings.Repeat("张", 30000) // 90,000 bytes: past what 16 bits count
	for _, c := range []struct{ name, id, problem, key, birth, mobile string }{
		{"张伟", "110101199003071234", "", "R110101199003071234", "1990-03-07", "13800138000"},
		{"", "", "", "", "", ""},
		{"acme ltd", "", "bad_check", "", "", ""},
		{long, "X", "", "", "", long},
	} {
		var r record
		r.setNorm(c.name, c.id, c.problem, c.key, c.birth, c.mobile)
		got := []string{r.nName(), r.nID(), r.idProblem(), r.matchKey(), r.nBirth(), r.nMobile()}
		want := []string{c.name, c.id, c.problem, c.key, c.birth, c.mobile}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("field %d of %q: got %.20q, want %.20q", i, c.name, got[i], want[i])
			}
		}
		if c.name == "张伟" && (r.nAlt() == "" || !r.hanName) {
			t.Errorf("张伟: pinyin %q, written in Chinese %v", r.nAlt(), r.hanName)
		}
	}
	if size := unsafe.Sizeof(record{}); size > 112 {
		t.Errorf("a record takes %d bytes, more than 112", size)
	}
}
