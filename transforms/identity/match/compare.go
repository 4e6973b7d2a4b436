package match

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// column is one field's prepared values, one per record.
type column struct {
	kind Kind
	val  []string // prepared value; "" is missing
	alt  []string // second spelling (sorted tokens, pinyin); "" none
	date []int32  // KindDate: days since 1900-01-01, or noDate when the value is not a date
}

// prepare turns raw values into the comparable form of their kind. A value
// already in that form is kept, not copied (a unification holds millions),
// and each date's canonical form is one copy.
func prepare(f Field, raw, alt []string) column {
	c := column{kind: f.Kind, val: make([]string, len(raw))}
	var days map[int32]string
	if f.Kind == KindDate {
		c.date = make([]int32, len(raw))
		days = map[int32]string{}
	}
	if f.Kind == KindName || f.Kind == KindAddress || f.Kind == KindDate {
		c.alt = make([]string, len(raw))
	}
	for i, s := range raw {
		v := prepareValue(f.Kind, s)
		c.val[i] = v
		switch f.Kind {
		case KindDate:
			c.date[i] = noDate
			c.alt[i] = v // as written, for comparing with a value that is not a date
			if v != "" {
				if d, ok := parseDate(v, f.Format); ok {
					// Equal days written differently (1980-1-5, 19800105)
					// agree exactly and share blocks: compare the canonical form.
					c.date[i] = d
					canon, ok := days[d]
					if !ok {
						canon = epoch.AddDate(0, 0, int(d)).Format("20060102")
						days[d] = canon
					}
					c.val[i] = canon
				}
			}
		case KindName, KindAddress:
			if alt != nil && alt[i] != "" {
				c.alt[i] = fold(alt[i])
			} else if v != "" {
				c.alt[i] = sortedTokens(v)
			}
		}
	}
	return c
}

// fold is the common text preparation: Unicode compatibility form (full
// width to half width), lower case, whitespace runs to one space, trimmed.
// A value already folded is returned as it is.
func fold(s string) string {
	if folded(s) {
		return s
	}
	return refold(s)
}

// refold is fold for a value not already folded.
func refold(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFKC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// folded reports whether fold(s) is s: valid UTF-8 in compatibility form,
// nothing in upper case, no white space but single blanks between words.
func folded(s string) bool {
	if s == "" {
		return true
	}
	ascii, blank := true, true // blank: at the start, or after a blank
	for _, r := range s {
		switch {
		case r >= utf8.RuneSelf:
			ascii = false
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.ToLower(r) != r {
				return false
			}
		case r == ' ':
			if blank {
				return false
			}
		case unicode.IsSpace(r) || 'A' <= r && r <= 'Z':
			return false
		}
		blank = r == ' '
	}
	return !blank && (ascii || norm.NFKC.IsNormalString(s))
}

// plainID reports whether an identifier, folded, has no separators and
// nothing in lower case: what prepareValue would make of it.
func plainID(f string) bool {
	for _, r := range f {
		if r == ' ' || r == '-' || r == '.' || r == '/' || unicode.ToUpper(r) != r {
			return false
		}
	}
	return true
}

func allDigits(f string) bool {
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return false
		}
	}
	return true
}

func prepareValue(k Kind, s string) string {
	switch k {
	case KindID, KindPostcode:
		// Identifiers: case, spaces and separators carry no meaning.
		f := fold(s)
		if plainID(f) {
			return f
		}
		var b strings.Builder
		for _, r := range f {
			if r == ' ' || r == '-' || r == '.' || r == '/' {
				continue
			}
			b.WriteRune(unicode.ToUpper(r))
		}
		return b.String()
	case KindPhone:
		f := fold(s)
		if allDigits(f) {
			return f
		}
		digits := make([]byte, 0, len(f))
		for i := 0; i < len(f); i++ {
			c := f[i]
			switch {
			case c >= '0' && c <= '9':
				digits = append(digits, c)
			case c == ' ' || c == '-' || c == '+' || c == '(' || c == ')' || c == '.':
			default:
				return f // letters: not a phone number, compare the text
			}
		}
		return string(digits)
	default:
		return fold(s)
	}
}

// parseDate reads a date as days since 1900-01-01. Without a layout it
// accepts YYYYMMDD, YYYY-MM-DD and YYYY/MM/DD.
func parseDate(s, layout string) (int32, bool) {
	var t time.Time
	var err error
	switch {
	case layout != "":
		t, err = time.Parse(layout, s)
	case len(s) == 8:
		t, err = time.Parse("20060102", s)
	case len(s) == 10 && s[4] == '/':
		t, err = time.Parse("2006/01/02", s)
	default:
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		return noDate, false
	}
	days := t.Sub(epoch).Hours() / 24
	if days < -1e6 || days > 1e6 {
		return noDate, false
	}
	return int32(math.Round(days)), true
}

var epoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// noDate marks a value that is not a date.
const noDate = math.MinInt32

// sortedTokens is the value with its words in order: "smith john" and
// "john smith" agree.
func sortedTokens(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return ""
	}
	t := strings.Fields(s)
	sortStrings(t)
	return strings.Join(t, " ")
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// missing is the level of a comparison where either value is absent.
const missing = -1

// compare returns the agreement level of records i and j on column c:
// missing, 0 (different) up to levels()-1 (exact).
func (c *column) compare(i, j int, s *scratch) int {
	a, b := c.val[i], c.val[j]
	if a == "" || b == "" {
		return missing
	}
	top := c.kind.levels() - 1
	if a == b {
		return top
	}
	switch c.kind {
	case KindName:
		if c.alt[i] != "" && c.alt[i] == c.alt[j] || c.alt[i] == b || c.alt[j] == a {
			return 2
		}
		jw := s.jaroWinkler(a, b)
		switch {
		case jw >= 0.92:
			return 2
		case jw >= 0.80:
			return 1
		}
		return 0
	case KindAddress:
		if c.alt[i] != "" && c.alt[i] == c.alt[j] {
			return 2
		}
		jw := s.jaroWinkler(a, b)
		switch {
		case jw >= 0.92:
			return 2
		case jw >= 0.80 || tokenOverlap(a, b) >= 0.5:
			return 1
		}
		return 0
	case KindDate:
		da, db := c.date[i], c.date[j]
		if da != noDate && db != noDate {
			if oneEdit(a, b) || swappedDayMonth(a, b) {
				return 2
			}
			d := da - db
			if d < 0 {
				d = -d
			}
			if d <= 366 {
				return 1
			}
			return 0
		}
		// One or both are not dates (day 31 of a 30-day month, month 24):
		// compare them as written.
		if a, b = c.alt[i], c.alt[j]; a == b {
			return top
		}
		if oneEdit(a, b) {
			return 2
		}
		return 0
	case KindPhone:
		if oneEdit(a, b) || len(a) >= 8 && len(b) >= 8 && a[len(a)-8:] == b[len(b)-8:] {
			return 1
		}
		return 0
	case KindText:
		if s.jaroWinkler(a, b) >= 0.92 {
			return 1
		}
		return 0
	default: // KindID, KindPostcode
		if oneEdit(a, b) {
			return 1
		}
		return 0
	}
}

// swappedDayMonth reports whether two YYYYMMDD-shaped prepared dates differ by
// swapping month and day.
func swappedDayMonth(a, b string) bool {
	da, db := digitsOnly(a), digitsOnly(b)
	if len(da) != 8 || len(db) != 8 {
		return false
	}
	return da[:4] == db[:4] && da[4:6] == db[6:8] && da[6:8] == db[4:6]
}

func digitsOnly(s string) string {
	if len(s) == 8 {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// oneEdit reports whether a and b differ by exactly one substitution,
// insertion, deletion or transposition of adjacent characters (bytes for
// ASCII, runes otherwise).
func oneEdit(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return oneEditSeq([]byte(a), []byte(b))
	}
	return oneEditSeq([]rune(a), []rune(b))
}

func oneEditSeq[T comparable](a, b []T) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	la, lb := len(a), len(b)
	if la-lb > 1 {
		return false
	}
	i := 0
	for i < lb && a[i] == b[i] {
		i++
	}
	if la == lb {
		if i == la {
			return false
		}
		if slices.Equal(a[i+1:], b[i+1:]) {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:])
	}
	return slices.Equal(a[i+1:], b[i:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// tokenOverlap is the share of the shorter value's words found in the other.
func tokenOverlap(a, b string) float64 {
	ta, tb := strings.Fields(a), strings.Fields(b)
	if len(ta) > len(tb) {
		ta, tb = tb, ta
	}
	if len(ta) == 0 {
		return 0
	}
	n := 0
	for _, x := range ta {
		for _, y := range tb {
			if x == y {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(ta))
}

// scratch holds one worker's buffers for string similarity.
type scratch struct {
	ra, rb []rune
	ma, mb []bool
}

// jaroWinkler is the Jaro–Winkler similarity (prefix scale 0.1, prefix up to
// four characters) over runes.
func (s *scratch) jaroWinkler(a, b string) float64 {
	s.ra = appendRunes(s.ra[:0], a)
	s.rb = appendRunes(s.rb[:0], b)
	ra, rb := s.ra, s.rb
	la, lb := len(ra), len(rb)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > lb {
		ra, rb, la, lb = rb, ra, lb, la
	}
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}
	s.ma = resetBools(s.ma, la)
	s.mb = resetBools(s.mb, lb)
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := i-window, i+window+1
		if lo < 0 {
			lo = 0
		}
		if hi > lb {
			hi = lb
		}
		for j := lo; j < hi; j++ {
			if !s.mb[j] && ra[i] == rb[j] {
				s.ma[i], s.mb[j] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < la; i++ {
		if !s.ma[i] {
			continue
		}
		for !s.mb[k] {
			k++
		}
		if ra[i] != rb[k] {
			t++
		}
		k++
	}
	fm := float64(m)
	jaro := (fm/float64(la) + fm/float64(lb) + (fm-float64(t)/2)/fm) / 3
	prefix := 0
	for prefix < la && prefix < 4 && ra[prefix] == rb[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

func resetBools(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	b = b[:n]
	for i := range b {
		b[i] = false
	}
	return b
}
