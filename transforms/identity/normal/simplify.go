package normal

import (
	"unicode/utf8"
)

// t2sBase..t2sBase+len(t2s)-1 is the CJK unified ideographs block, where
// every traditional character of the table lives.
const t2sBase = 0x4E00

// t2s maps a traditional character (index r-t2sBase) to its simplified form,
// 0 when the character is not traditional. A dense table: one bounds check
// and one load per rune, 42 KB.
var t2s [0xA000 - t2sBase]uint16

// t2sSize is the number of pairs in the table.
var t2sSize int

func init() {
	s := t2sPairs
	for len(s) > 0 {
		t, n := utf8.DecodeRuneInString(s)
		v, m := utf8.DecodeRuneInString(s[n:])
		s = s[n+m:]
		if t < t2sBase || int(t-t2sBase) >= len(t2s) || v > 0xFFFF || m == 0 {
			panic("normal: t2s pair out of range: " + string(t) + string(v))
		}
		t2s[t-t2sBase] = uint16(v)
		t2sSize++
	}
}

// simplifyRune returns the simplified form of a traditional character, or r.
func simplifyRune(r rune) rune {
	if i := r - t2sBase; i >= 0 && int(i) < len(t2s) {
		if v := t2s[i]; v != 0 {
			return rune(v)
		}
	}
	return r
}

// Simplify maps traditional characters to simplified ones with the embedded
// table (character by character, no phrases). Everything else, invalid UTF-8
// included, is left as is; a string without traditional characters is returned without
// allocating.
func Simplify(s string) string {
	for i, r := range s {
		if simplifyRune(r) != r {
			var arr [128]byte
			b := append(arr[:0], s[:i]...)
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if v := simplifyRune(r); v != r {
					b = utf8.AppendRune(b, v)
				} else {
					b = append(b, s[i:i+n]...) // invalid bytes kept as they are
				}
				i += n
			}
			return string(b)
		}
	}
	return s
}
