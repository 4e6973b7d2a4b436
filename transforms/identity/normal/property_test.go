package normal

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// pieces are the fragments source systems combine; random concatenations of
// them reach the corner cases of the normalisers far faster than random
// bytes do.
var pieces = []string{
	"张", "張", "伟", "偉", "曾", "单", "欧阳", "歐陽", "有限", "责任", "責任", "公司", "有限责任公司", "有限責任公司",
	"股份", "集团", "（", "）", "(", ")", "【", "】", "·", "•", "・", " ", "  ", "\u3000", "\t", "\n", "\r\n", "\u00a0",
	"\u200b", "\ufeff", "a", "Z", "Ａ", "ｚ", "１", "0", "9", "x", "X", "ｘ", "+", "+86", "86", "0086", "-", "－", "—",
	".", ",", "'", "’", "&", "/", "co", "Co.", "ltd", "Ltd.", "limited", "company", "inc", "corp", "Corporation",
	"llc", "plc", " co", " ltd", "ü", "Ü", "ǚ", "é", "\u212a", "İ", "ǅ", "\xff", "\xe5", "上海", "厦门", "廈門",
	"重庆", "110105", "19900307", "491231", "002", "13812345678", "021", "0755", "62345678", "MA1FL1XA1W", "91310115",
}

func randomPieces(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(8); n >= 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestNormalisersAreIdempotentOnRandomPieces runs every normaliser on random
// concatenations of real-world fragments and checks idempotence and shape.
func TestNormalisersAreIdempotentOnRandomPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 30000; i++ {
		s := randomPieces(r)
		if n := PersonName(s); PersonName(n) != n {
			t.Fatalf("PersonName not idempotent: %q → %q → %q", s, n, PersonName(n))
		} else {
			checkNameShape(t, s, n)
		}
		if n := CompanyName(s); CompanyName(n) != n {
			t.Fatalf("CompanyName not idempotent: %q → %q → %q", s, n, CompanyName(n))
		} else {
			checkNameShape(t, s, n)
		}
		if p := Pinyin(s); Pinyin(p) != p {
			t.Fatalf("Pinyin(%q) = %q is not its own key", s, p)
		}
		if p := ResidentID(s); ResidentID(p.ID).ID != p.ID || ResidentID(p.ID).Problem != p.Problem {
			t.Fatalf("ResidentID not idempotent: %q → %+v → %+v", s, p, ResidentID(p.ID))
		}
		if c := CreditCode(s); CreditCode(c.Code) != c {
			t.Fatalf("CreditCode not idempotent: %q → %+v → %+v", s, c, CreditCode(c.Code))
		}
		if m := Mobile(s); Mobile(m.Number) != m {
			t.Fatalf("Mobile not idempotent: %q → %+v → %+v", s, m, Mobile(m.Number))
		}
		if v := Simplify(s); Simplify(v) != v {
			t.Fatalf("Simplify not idempotent: %q → %q", s, v)
		}
	}
}
