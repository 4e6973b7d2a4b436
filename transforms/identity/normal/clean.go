package normal

import "unicode/utf8"

// Character classes shared by the normalisers. All are plain range checks:
// they run once per rune on a million records.

// foldWidth maps full-width ASCII forms (U+FF01..U+FF5E) to ASCII and the
// ideographic space U+3000 to a space; every other rune is returned as is.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// isSpace reports the blanks that separate words: ASCII white space, the
// Unicode space separators, line and paragraph separators and U+3000.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// isInvisible reports characters that carry nothing a person typed: control
// characters, zero-width spaces and joiners, the byte order mark.
func isInvisible(r rune) bool {
	switch {
	case r < 0x20, r == 0x7F, r >= 0x80 && r <= 0x9F:
		return true
	case r >= 0x200B && r <= 0x200F, r == 0x2060, r == 0xFEFF:
		return true
	}
	return false
}

// isHan reports CJK unified ideographs (the basic block, extension A, the
// compatibility block and the supplementary-plane extensions).
func isHan(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF:
		return true
	case r >= 0x3400 && r <= 0x4DBF:
		return true
	case r >= 0xF900 && r <= 0xFAFF:
		return true
	case r >= 0x20000 && r <= 0x323AF:
		return true
	}
	return r == 0x3007 // 〇, the ideographic zero used in names and dates
}

// cleanCode removes blanks (and, with dashes, hyphens and dashes of every
// width), folds full-width letters and digits and upper-cases ASCII letters.
// It returns s itself when nothing changes, so an already clean value costs
// no allocation.
func cleanCode(s string, dashes bool) string {
	i := cleanPrefix(s, dashes)
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	return string(appendCleanRunes(b, s, i, dashes))
}

// appendClean appends the cleaned s (as cleanCode) to b and reports whether
// cleaning changed anything.
func appendClean(b []byte, s string, dashes bool) ([]byte, bool) {
	i := cleanPrefix(s, dashes)
	b = append(b, s[:i]...)
	if i == len(s) {
		return b, false
	}
	return appendCleanRunes(b, s, i, dashes), true
}

// cleanPrefix returns the length of the prefix of s that cleaning keeps as
// it is.
func cleanPrefix(s string, dashes bool) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c <= ' ' || c == 0x7F || c >= 'a' && c <= 'z' || dashes && c == '-' {
			return i
		}
	}
	return len(s)
}

// appendCleanRunes cleans s[i:] rune by rune onto b.
func appendCleanRunes(b []byte, s string, i int, dashes bool) []byte {
	for _, r := range s[i:] {
		r = foldWidth(r)
		switch {
		case isSpace(r) || isInvisible(r):
			continue
		case dashes && isDash(r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// isDash reports hyphens, dashes and minus signs (after width folding).
func isDash(r rune) bool {
	switch r {
	case '-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58, 0xFE63:
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
