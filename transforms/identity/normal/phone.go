package normal

import "unicode/utf8"

// MobileKind is what Mobile recognised a phone value as.
type MobileKind uint8

const (
	MobileNone     MobileKind = iota // empty input
	MobileCN                         // mainland mobile 1[3-9]XXXXXXXXX
	MobileLandline                   // mainland landline 0AA(A) + 7 or 8 digits
	MobileOther                      // anything else: see Phone.Problem
)

func (k MobileKind) String() string {
	switch k {
	case MobileNone:
		return "none"
	case MobileCN:
		return "mobile"
	case MobileLandline:
		return "landline"
	}
	return "other"
}

// Phone is a phone value after normalisation.
type Phone struct {
	// Number is the 11 digits of a mainland mobile; the digits of a landline
	// including its area code (0 trunk prefix, no dash); otherwise the
	// cleaned input (separators removed, full-width folded, "+" kept).
	Number string
	Kind   MobileKind
	// Problem is "" for a mobile or a landline; else empty, bad_char,
	// bad_prefix (11 digits starting 10, 11 or 12), bad_length or foreign.
	Problem string
}

// Mobile normalises a phone number as source systems keep it: +86, 86 or
// 0086 in front, a trunk 0 before a mobile, spaces, dashes, dots and
// brackets anywhere, full-width digits. A landline keeps its area code.
func Mobile(s string) Phone {
	c, onlyDigits := cleanPhone(s)
	if c == "" {
		return Phone{Kind: MobileNone, Problem: ProblemEmpty}
	}
	other := Phone{Number: c, Kind: MobileOther}
	d := c
	intl := false
	if !onlyDigits {
		// Only a leading + is allowed besides digits.
		if c[0] != '+' || !allDigits(c[1:]) || len(c) == 1 {
			other.Problem = ProblemBadChar
			return other
		}
		d, intl = c[1:], true
	}
	switch {
	case intl:
		if len(d) < 2 || d[0] != '8' || d[1] != '6' {
			other.Problem = ProblemForeign
			return other
		}
		d = d[2:]
	case len(d) > 4 && d[:4] == "0086":
		d, intl = d[4:], true
	case len(d) > 2 && d[0] == '0' && d[1] == '0':
		other.Problem = ProblemForeign
		return other
	case len(d) == 13 && d[0] == '8' && d[1] == '6' && d[2] == '1':
		d = d[2:] // 86 without a plus, before a mobile
	case len(d) == 12 && d[0] == '0' && d[1] == '1' && d[2] >= '3':
		d = d[1:] // trunk 0 dialled before a mobile
	}
	if len(d) == 11 && d[0] == '1' {
		if d[1] < '3' {
			other.Problem = ProblemBadPrefix
			return other
		}
		return Phone{Number: d, Kind: MobileCN}
	}
	if intl && len(d) > 0 && d[0] != '0' {
		// +86 21 6234 5678: the trunk 0 is dropped after a country code.
		if isLandline(d, 0) {
			b := make([]byte, 0, len(d)+1)
			b = append(append(b, '0'), d...)
			return Phone{Number: string(b), Kind: MobileLandline}
		}
	} else if isLandline(d, 1) {
		return Phone{Number: d, Kind: MobileLandline}
	}
	other.Problem = ProblemBadLength
	return other
}

// isLandline reports whether d is a mainland landline: area code 10 or 2X
// (2 digits) or 3X-9X plus one more (3 digits), then a 7- or 8-digit
// subscriber number not starting with 0. (Ordinary subscriber numbers start
// with 2-8, but source systems key test and service numbers too; a number
// that is not a mobile is only kept apart, never matched on.) off is 1 when d starts with
// the trunk 0 and 0 when it does not.
func isLandline(d string, off int) bool {
	if len(d) < off+2 || off == 1 && d[0] != '0' {
		return false
	}
	a := d[off:]
	area := 3
	switch a[0] {
	case '0':
		return false
	case '1':
		if a[1] != '0' {
			return false
		}
		area = 2
	case '2':
		area = 2
	}
	if len(a) < area+7 || len(a) > area+8 {
		return false
	}
	return a[area] != '0'
}

// cleanPhone drops separators (blanks, dashes, dots, brackets of both
// widths, invisible characters), folds full-width characters and reports
// whether what remains is all ASCII digits. Anything else, a slash between
// two numbers or a letter, is kept for the caller to reject. It returns s itself when
// nothing is dropped or folded.
func cleanPhone(s string) (string, bool) {
	digits := true
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || isPhoneSep(rune(c)) {
			break
		}
		if !isDigit(c) {
			digits = false
		}
	}
	if i == len(s) {
		return s, digits
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for _, r := range s[i:] {
		r = foldWidth(r)
		if isPhoneSep(r) || isInvisible(r) || isDash(r) {
			continue
		}
		if r < '0' || r > '9' {
			digits = false
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b), digits
}

func isPhoneSep(r rune) bool {
	switch r {
	case '-', '.', '(', ')', '[', ']', 0x3010, 0x3011:
		return true
	}
	return isSpace(r) || r < 0x20 || r == 0x7F
}
