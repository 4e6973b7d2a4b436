package rows

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"cdp/connectors/contract"
)

// Invisible finds the first character of v that cannot be seen or that
// only looks like a space: control characters (TAB and line breaks
// included), format characters (zero-width spaces and joiners, the BOM,
// direction marks, the soft hyphen) and the spaces other than the ASCII
// one (no-break, full-width, thin …). at is its character position, from 1.
func Invisible(v []byte) (r rune, at int, found bool) {
	n := 0
	for i := 0; i < len(v); {
		n++
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return rune(c), n, true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if invisibleRune(r) {
			return r, n, true
		}
		i += size
	}
	return 0, 0, false
}

func invisibleRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) ||
		r != ' ' && unicode.IsSpace(r) || unicode.Is(unicode.Zs, r)
}

// InvisibleProblem is the reject of an identifier holding an invisible
// character.
func InvisibleProblem(column string, r rune, at int) *Problem {
	return &Problem{Reason: contract.ReasonInvisible, Detail: fmt.Sprintf("column %s: %U %s at character %d; an identifier must not hold control or invisible characters", column, r, runeName(r), at)}
}

// runeName names the invisible characters met in practice.
func runeName(r rune) string {
	switch r {
	case '\t':
		return "TAB"
	case '\r', '\n':
		return "LINE BREAK"
	case 0x00A0:
		return "NO-BREAK SPACE"
	case 0x200B:
		return "ZERO WIDTH SPACE"
	case 0x200C:
		return "ZERO WIDTH NON-JOINER"
	case 0x200D:
		return "ZERO WIDTH JOINER"
	case 0x2060:
		return "WORD JOINER"
	case 0xFEFF:
		return "BYTE ORDER MARK"
	case 0x3000:
		return "IDEOGRAPHIC SPACE"
	case 0x00AD:
		return "SOFT HYPHEN"
	case 0x200E, 0x200F:
		return "DIRECTION MARK"
	}
	switch {
	case unicode.Is(unicode.Cc, r):
		return "CONTROL CHARACTER"
	case unicode.Is(unicode.Cf, r):
		return "FORMAT CHARACTER"
	}
	return "SPACE"
}

// InvisibleString is Invisible for a string, without copying it when it is
// ASCII (most identifiers are).
func InvisibleString(s string) (r rune, at int, found bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return Invisible([]byte(s))
		}
		if c < 0x20 || c == 0x7f {
			return rune(c), i + 1, true
		}
	}
	return 0, 0, false
}
