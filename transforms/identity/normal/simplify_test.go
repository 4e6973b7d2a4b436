package normal

import (
	"testing"
	"unicode/utf8"
)

func TestSimplify(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"simplified text is unchanged", "上海华锐精密机械有限公司", "上海华锐精密机械有限公司"},
		{"surname and given name", "張曉明", "张晓明"},
		{"company words", "華銳國際貿易集團有限責任公司", "华锐国际贸易集团有限责任公司"},
		{"place names", "廈門 無錫 長沙 濟南 東莞 瀋陽 烏魯木齊", "厦门 无锡 长沙 济南 东莞 沈阳 乌鲁木齐"},
		{"characters identical in both scripts stay", "限佛莞圳宏泰盛瑞鑫隆丁邵", "限佛莞圳宏泰盛瑞鑫隆丁邵"},
		{"ambiguous traditional characters are left alone", "乾於藉瞭徵蘋葯", "乾於藉瞭徵蘋葯"},
		{"Latin, digits and invalid UTF-8 are kept byte for byte", "ABC 123 \xff張", "ABC 123 \xff张"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Simplify(tt.in); got != tt.want {
				t.Errorf("Simplify(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSimplifyTable checks the embedded table itself.
func TestSimplifyTable(t *testing.T) {
	if utf8.RuneCountInString(t2sPairs)%2 != 0 {
		t.Fatal("t2sPairs has an odd number of runes")
	}
	keys := map[rune]rune{}
	s := []rune(t2sPairs)
	for i := 0; i < len(s); i += 2 {
		trad, simp := s[i], s[i+1]
		if trad == simp {
			t.Errorf("pair %c%c maps a character to itself", trad, simp)
		}
		if prev, dup := keys[trad]; dup {
			t.Errorf("%c listed twice (→%c and →%c)", trad, prev, simp)
		}
		keys[trad] = simp
		if !isHan(trad) || !isHan(simp) {
			t.Errorf("pair %c%c is not two Han characters", trad, simp)
		}
	}
	for trad, simp := range keys {
		// Idempotence: a simplified character is never itself rewritten.
		if _, ok := keys[simp]; ok {
			t.Errorf("%c→%c, but %c is itself a key", trad, simp, simp)
		}
		if got := simplifyRune(trad); got != simp {
			t.Errorf("simplifyRune(%c) = %c, want %c", trad, got, simp)
		}
	}
	if t2sSize != len(keys) {
		t.Errorf("t2sSize = %d, want %d", t2sSize, len(keys))
	}
	if len(keys) < 400 {
		t.Errorf("table has %d pairs, want at least 400", len(keys))
	}
	t.Logf("%d traditional→simplified pairs", len(keys))
}

// TestSimplifyUndoesGeneratorTraditional: every traditional form the
// generator writes (names.go's traditional map) comes back simplified, and no
// character it maps to itself is touched.
func TestSimplifyUndoesGeneratorTraditional(t *testing.T) {
	for simp, trad := range generatorTraditional(t) {
		if got := simplifyRune(trad); got != simp {
			t.Errorf("Simplify(%c) = %c, want %c", trad, got, simp)
		}
		if got := simplifyRune(simp); got != simp {
			t.Errorf("Simplify(%c) = %c, want it unchanged", simp, got)
		}
	}
}
