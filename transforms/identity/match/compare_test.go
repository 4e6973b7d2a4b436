package match

import (
	"math"
	"testing"
)

// Agreement levels, named as the package documents them. Kinds with four
// levels (name, address, date) are different, loosely close, close, exact;
// kinds with three (id, phone, postcode, text) are different, close, exact.
const (
	lvMissing = -1
	lvDiff    = 0
)

// levelOf prepares two raw values of one kind and compares them, the way the
// engine does for a candidate pair. alt, when non-nil, is the second
// spelling of each value (Data.Alt).
func levelOf(t *testing.T, f Field, a, b string, alt []string) int {
	t.Helper()
	c := prepare(f, []string{a, b}, alt)
	var s scratch
	l := c.compare(0, 1, &s)
	if r := c.compare(1, 0, &s); r != l {
		t.Errorf("%s %q vs %q: level %d one way, %d the other", f.Kind, a, b, l, r)
	}
	return l
}

type levelCase struct {
	name string
	a, b string
	alt  []string
	want int
}

func runLevels(t *testing.T, f Field, cases []levelCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := levelOf(t, f, tc.a, tc.b, tc.alt); got != tc.want {
				t.Errorf("%s %q vs %q: level %d, want %d", f.Kind, tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestCompare_NameLevels(t *testing.T) {
	exact, close, loose := 3, 2, 1
	runLevels(t, Field{Name: "n", Kind: KindName}, []levelCase{
		{"equal is exact", "john", "john", nil, exact},
		{"case and surrounding space do not matter", "  JOHN ", "john", nil, exact},
		{"whitespace runs fold to one space", "john \t smith", "john smith", nil, exact},
		{"full-width folds to half-width", "ＪＯＨＮ　ＳＭＩＴＨ", "john smith", nil, exact},
		{"one letter dropped is close", "jon", "john", nil, close},
		{"transposed letters are close", "martha", "marhta", nil, close},
		// Jaro–Winkler of dwayne/duane is 0.84: below close, above different.
		{"a different spelling of the same sound is loosely close", "dwayne", "duane", nil, loose},
		{"unrelated names are different", "john", "mary", nil, lvDiff},
		{"swapped tokens agree through the sorted spelling", "john smith", "smith john", nil, close},
		{"three swapped tokens agree too", "mary anne smith", "smith mary anne", nil, close},
		{"a configured second spelling matches the other value", "张伟", "zhang wei", []string{"zhang wei", ""}, close},
		{"two equal second spellings agree", "张伟", "張偉", []string{"zhang wei", "zhang wei"}, close},
		{"empty is missing", "", "john", nil, lvMissing},
		{"blank is missing", "   ", "john", nil, lvMissing},
		{"both empty is missing", "", "", nil, lvMissing},
	})
}

func TestCompare_DateLevels(t *testing.T) {
	exact, close, loose := 3, 2, 1
	runLevels(t, Field{Name: "dob", Kind: KindDate}, []levelCase{
		{"same day is exact", "19800105", "19800105", nil, exact},
		{"ISO dates that are equal are exact", "1980-01-05", "1980-01-05", nil, exact},
		{"one-digit typo in the day is close", "19800105", "19800106", nil, close},
		{"one-digit typo in the year is close", "19800105", "19900105", nil, close},
		{"transposed digits are close", "19800312", "19800321", nil, close},
		{"day and month swapped is close", "19800512", "19801205", nil, close},
		{"day and month swapped in ISO form is close", "1980-05-12", "1980-12-05", nil, close},
		{"within a year is loosely close", "19800105", "19800620", nil, loose},
		{"across a year end, within a year, is loosely close", "19801220", "19810310", nil, loose},
		{"far apart is different", "19800105", "19551231", nil, lvDiff},
		{"month 24 equal as text is exact", "19802401", "19802401", nil, exact},
		{"month 24 one edit away as text is close", "19802401", "19802402", nil, close},
		{"month 24 against a real date far off as text is different", "19802401", "19550105", nil, lvDiff},
		{"words are compared as text", "unknown", "unknow", nil, close},
		{"empty is missing", "", "19800105", nil, lvMissing},
	})
	// With a layout, dates that are not zero padded are read by it.
	runLevels(t, Field{Name: "dob", Kind: KindDate, Format: "2006-1-2"}, []levelCase{
		{"layout: equal is exact", "1967-9-27", "1967-9-27", nil, exact},
		{"layout: one-digit typo is close", "1967-9-27", "1967-9-28", nil, close},
		{"layout: within a year is loosely close", "1967-9-27", "1967-3-10", nil, loose},
		{"layout: far apart is different", "1967-9-27", "1990-3-10", nil, lvDiff},
		{"layout: an impossible month is compared as text", "1967-19-27", "1967-19-27", nil, exact},
	})
}

func TestCompare_UnparseableDateIsKeptAsText(t *testing.T) {
	c := prepare(Field{Name: "dob", Kind: KindDate}, []string{"19802401", "1980-13-45", "19800105"}, nil)
	for i, v := range []string{"19802401", "1980-13-45"} {
		if c.date[i] != noDate {
			t.Errorf("%q parsed as day %d; it is not a date", v, c.date[i])
		}
		if c.val[i] == "" {
			t.Errorf("%q was dropped; it must be kept and compared as text", v)
		}
	}
	if c.date[2] == noDate {
		t.Errorf("19800105 did not parse")
	}
}

func TestCompare_IDLevels(t *testing.T) {
	exact, close := 2, 1
	runLevels(t, Field{Name: "id", Kind: KindID}, []levelCase{
		{"equal is exact", "7364009", "7364009", nil, exact},
		{"case, spaces, dashes, dots and slashes do not matter", "ab-12.34/5 6", "AB123456", nil, exact},
		{"one substitution is close", "7364009", "7364008", nil, close},
		{"one insertion is close", "7364009", "73640089", nil, close},
		{"one deletion is close", "7364009", "736409", nil, close},
		{"adjacent transposition is close", "7364009", "7346009", nil, close},
		{"two edits are different", "7364009", "7364118", nil, lvDiff},
		{"unrelated is different", "7364009", "1804974", nil, lvDiff},
		{"only separators is missing", " - ", "7364009", nil, lvMissing},
	})
}

func TestCompare_PhoneLevels(t *testing.T) {
	exact, close := 2, 1
	runLevels(t, Field{Name: "mobile", Kind: KindPhone}, []levelCase{
		{"separators do not matter", "(04) 2271-8532", "04 2271 8532", nil, exact},
		{"dots and plus do not matter", "+61.4.2271.8532", "61422718532", nil, exact},
		{"country prefix sharing the last 8 digits is close", "+61 4 2271 8532", "04 2271 8532", nil, close},
		{"mobile with and without +86 is close", "+86 138 0013 8000", "138 0013 8000", nil, close},
		{"one digit typo is close", "0422718532", "0422718533", nil, close},
		{"different numbers are different", "0422718532", "0399994321", nil, lvDiff},
		{"letters: equal text is exact", "Call Me", "call me", nil, exact},
		{"letters: one edit as text is close", "call me", "call ne", nil, close},
		{"letters against a number are different", "call me", "0422718532", nil, lvDiff},
		{"no digits at all is missing", "+ ( ) -", "0422718532", nil, lvMissing},
	})
}

func TestCompare_PostcodeLevels(t *testing.T) {
	exact, close := 2, 1
	runLevels(t, Field{Name: "pc", Kind: KindPostcode}, []levelCase{
		{"equal is exact", "2602", "2602", nil, exact},
		{"case and spaces do not matter", "SW1A 1AA", "sw1a1aa", nil, exact},
		{"one digit off is close", "2602", "2603", nil, close},
		{"unrelated is different", "2602", "4810", nil, lvDiff},
		{"empty is missing", "2602", "", nil, lvMissing},
	})
}

func TestCompare_AddressLevels(t *testing.T) {
	exact, close, loose := 3, 2, 1
	runLevels(t, Field{Name: "addr", Kind: KindAddress}, []levelCase{
		{"equal is exact", "12 Wallaby Place", "12 wallaby place", nil, exact},
		{"reordered words are close", "wallaby place 12", "12 wallaby place", nil, close},
		{"a typo is close", "tullaroop street", "tullaroop stret", nil, close},
		{"sharing half the words of the shorter is loosely close", "flat 3 9 kambalda crescent", "kambalda crescent", nil, loose},
		{"no shared words and little likeness is different", "tullaroop street", "bay road", nil, lvDiff},
		{"empty is missing", "", "bay road", nil, lvMissing},
	})
}

func TestCompare_TextLevels(t *testing.T) {
	exact, close := 2, 1
	runLevels(t, Field{Name: "t", Kind: KindText}, []levelCase{
		{"equal is exact", "VIC", "vic", nil, exact},
		{"very alike is close", "wallaby", "walaby", nil, close},
		{"different is different", "vic", "nsw", nil, lvDiff},
		{"empty is missing", "vic", "", nil, lvMissing},
	})
}

func TestCompare_EveryKindHasExactAsItsTopLevel(t *testing.T) {
	values := map[Kind]string{
		KindName: "john", KindDate: "19800105", KindID: "A1", KindPhone: "0422718532",
		KindAddress: "1 main st", KindPostcode: "2602", KindText: "x",
	}
	for _, k := range Kinds {
		got := levelOf(t, Field{Name: "f", Kind: k}, values[k], values[k], nil)
		if got != k.levels()-1 {
			t.Errorf("%s: equal values at level %d, want the top level %d", k, got, k.levels()-1)
		}
	}
}

func TestJaroWinkler_TextbookValues(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.961},
		{"DWAYNE", "DUANE", 0.840},
		{"DIXON", "DICKSONX", 0.813},
		{"JELLYFISH", "SMELLYFISH", 0.896},
		{"ABC", "ABC", 1},
		{"ABC", "XYZ", 0},
		{"", "ABC", 0},
		// Runes, not bytes: two Chinese characters with one in common at
		// the start: Jaro (1/2 + 1/2 + 1)/3 = 2/3, prefix 1 → 0.7.
		{"张伟", "张玮", 0.700},
		// 3 of 3 and 3 of 4 match in order: Jaro 11/12, prefix 3 → 0.9417.
		{"欧阳娜", "欧阳娜娜", 0.942},
		{"王芳", "王芳", 1},
		{"王芳", "李娜", 0},
	} {
		var s scratch
		for _, p := range [][2]string{{tc.a, tc.b}, {tc.b, tc.a}} {
			if got := s.jaroWinkler(p[0], p[1]); math.Abs(got-tc.want) > 0.001 {
				t.Errorf("jaroWinkler(%q, %q) = %.4f, want %.3f", p[0], p[1], got, tc.want)
			}
		}
	}
}

func TestJaroWinkler_ScratchReuseDoesNotLeak(t *testing.T) {
	var s scratch
	long := s.jaroWinkler("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxzy")
	if got, want := s.jaroWinkler("MARTHA", "MARHTA"), (&scratch{}).jaroWinkler("MARTHA", "MARHTA"); got != want {
		t.Errorf("after a long pair (%.4f) a reused scratch gives %.4f, a fresh one %.4f", long, got, want)
	}
}

func TestOneEdit(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", false}, // zero edits is not one edit
		{"abc", "abd", true},
		{"abc", "xbc", true},
		{"abc", "ab", true},
		{"ab", "abc", true},
		{"abc", "bc", true},
		{"abc", "axbc", true},
		{"abc", "acb", true},
		{"ab", "ba", true},
		{"abcd", "badc", false},
		{"abc", "bca", false},
		{"abcd", "ab", false},
		{"abc", "xyz", false},
		{"", "a", true},
		{"", "", false},
		{"", "ab", false},
		// Multibyte: one rune is one edit, however many bytes it has.
		{"cafe", "café", true},
		{"café", "cafè", true},
		{"张伟", "张玮", true},
		{"张伟", "伟张", true},
		{"张伟", "张", true},
		{"张", "张伟", true},
		{"张伟明", "张明伟", true},
		{"张伟明", "王伟明", true},
		{"张伟", "王芳", false},
		{"张伟明", "明伟张", false},
		{"张伟", "张伟", false},
		{"zhang伟", "zhang", true},
	} {
		if got := oneEdit(tc.a, tc.b); got != tc.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := oneEdit(tc.b, tc.a); got != tc.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}
