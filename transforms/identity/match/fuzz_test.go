package match

import (
	"strings"
	"testing"
	"unicode"
)

// fuzzFields are the fields FuzzCompare exercises: every kind, and dates
// with and without a layout.
var fuzzFields = []Field{
	{Name: "name", Kind: KindName},
	{Name: "date", Kind: KindDate},
	{Name: "date_layout", Kind: KindDate, Format: "2006-1-2"},
	{Name: "id", Kind: KindID},
	{Name: "phone", Kind: KindPhone},
	{Name: "address", Kind: KindAddress},
	{Name: "postcode", Kind: KindPostcode},
	{Name: "text", Kind: KindText},
}

// FuzzCompare checks, for any two strings and every kind, that preparing
// and comparing them never panics, gives a level in [missing, top], gives
// the same level both ways round, and that a value compared with itself is
// exact unless preparation left nothing of it.
func FuzzCompare(f *testing.F) {
	for _, s := range [][2]string{
		{"john smith", "smith john"},
		{"ＪＯＨＮ", "john"},
		{"MARTHA", "MARHTA"},
		{"张伟", "张玮"},
		{"19800105", "19800106"},
		{"19800512", "19801205"},
		{"19802401", "19802402"},
		{"1980-05-12", "1980-12-05"},
		{"1980/01/05", "1980-01-05"},
		{"1967-9-27", "1967-27-9"},
		{"+61 4 2271 8532", "04 2271 8532"},
		{"call me", "call ne"},
		{"+", ""},
		{"ab-12.34/5 6", "AB123456"},
		{"SW1A 1AA", "sw1a1aa"},
		{"flat 3 9 kambalda crescent", "kambalda crescent"},
		{"\xff\xfe", "\xff"},
		{"é", "é"}, // composed and decomposed
		{"ﬁ", "fi"},
		{"\u00a0x\u3000", "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, fd := range fuzzFields {
			c := prepare(fd, []string{a, b, a}, nil)
			var s scratch
			top := fd.Kind.levels() - 1
			ab, ba := c.compare(0, 1, &s), c.compare(1, 0, &s)
			if ab < missing || ab > top {
				t.Fatalf("%s %q vs %q: level %d outside [%d, %d]", fd.Name, a, b, ab, missing, top)
			}
			if ab != ba {
				t.Fatalf("%s: %q vs %q is level %d, %q vs %q is %d", fd.Name, a, b, ab, b, a, ba)
			}
			self := c.compare(0, 2, &s)
			if c.val[0] != "" && self != top {
				t.Fatalf("%s: %q (prepared %q) against itself is level %d, want %d", fd.Name, a, c.val[0], self, top)
			}
			if c.val[0] == "" && self != missing {
				t.Fatalf("%s: %q prepared to nothing but compares at level %d, want missing", fd.Name, a, self)
			}
			if c.val[0] != "" && c.val[1] != "" && ab == missing {
				t.Fatalf("%s: %q vs %q both present (%q, %q) but level is missing", fd.Name, a, b, c.val[0], c.val[1])
			}
		}
	})
}

// FuzzFold checks that the shortcuts that keep a value already in its
// prepared form (not copying it: a unification holds millions) agree with
// preparing it: fold with refold, the identifier and phone forms with
// building them, on any string.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"", " ", "a", "a b", "a  b", " a", "a ", "A", "a\tb", "zhang wei", "张伟", "ＪＯＨＮ",
		"é", "é", "ﬁ", "\u00a0x", "x\u3000y", "\xff", "\uFFFD", "İ", "ǅ", "ß", "11010519491231002X", "11010519491231002x",
		"91350100M000100Y43", "ab-12.34/5 6", "13800138000", "+86 138 0013 8000", "1980-01-05", "19800105"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fold(s), refold(s); got != want {
			t.Fatalf("fold(%q) = %q, refold = %q (folded: %v)", s, got, want, folded(s))
		}
		if folded(s) && refold(s) != s {
			t.Fatalf("folded(%q) but it folds to %q", s, refold(s))
		}
		for _, k := range []Kind{KindID, KindPhone} {
			// the form built rune by rune, as before the shortcuts
			fs := refold(s)
			var b strings.Builder
			phone := true
			for _, r := range fs {
				switch {
				case k == KindID && (r == ' ' || r == '-' || r == '.' || r == '/'):
				case k == KindID:
					b.WriteRune(unicode.ToUpper(r))
				case r >= '0' && r <= '9':
					b.WriteRune(r)
				case r == ' ' || r == '-' || r == '+' || r == '(' || r == ')' || r == '.':
				default:
					phone = false
				}
			}
			want := b.String()
			if k == KindPhone && !phone {
				want = fs
			}
			if got := prepareValue(k, s); got != want {
				t.Fatalf("prepareValue(%v, %q) = %q, want %q", k, s, got, want)
			}
		}
	})
}
