package normal

// Resident identity numbers (居民身份证号码, GB 11643-1999): six digits of
// region, eight of birth date, three of sequence (odd for men), and a check
// character 0-9 or X. IDs issued before 1999 have 15 digits: a two-digit year
// and no check character.

// PersonID is a resident identity number after normalisation.
type PersonID struct {
	// ID is the canonical 18-character form (upper-case X) when Valid;
	// otherwise the cleaned input (blanks removed, full-width folded,
	// upper-cased), "" for empty.
	ID string
	// Valid: GB 11643 check character right AND birth date a real calendar
	// date 1900-01-01..2100-12-31 AND region code not 000000.
	Valid bool
	// Upgraded reports that a legacy 15-digit ID was upgraded to 18 digits
	// ("19" inserted before the two-digit year, check character computed).
	// Only a valid 15-digit ID is upgraded.
	Upgraded bool
	// Birth is "YYYY-MM-DD" from the date digits whenever they form a real
	// date in range, even if the check character is wrong; else "".
	Birth string
	// Male is 1 for a man, 2 for a woman (sequence digit odd or even), 0 when
	// that digit is not a digit or the length is wrong.
	Male int8
	// Problem is "" when Valid; else empty, bad_length, bad_char, bad_check,
	// bad_birth_date or bad_region (checked in that order).
	Problem string
}

var residentWeights = [17]uint8{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ResidentCheck returns the GB 11643 check character ('0'-'9' or 'X') of the
// first 17 digits of a resident ID, or 0 if first17 is not 17 ASCII digits.
func ResidentCheck(first17 string) byte { return residentCheck(first17) }

func residentCheck[T string | []byte](first17 T) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if !isDigit(c) {
			return 0
		}
		sum += int(c-'0') * int(residentWeights[i])
	}
	return "10X98765432"[sum%11]
}

// ResidentID normalises a resident identity number as a source system keyed
// it: blanks anywhere, lower-case x, full-width digits, the 15-digit form.
// A canonical input costs one allocation (the birth date); a cleaned or
// upgraded one also one (ID and birth date share it).
func ResidentID(s string) PersonID {
	var arr [32]byte
	b, changed := appendClean(arr[:0], s, false)
	var p PersonID
	switch len(b) {
	case 0:
		p.Problem = ProblemEmpty
		return p
	case 15:
		return resident15(s, b, changed)
	case 18:
	default:
		p.ID = idString(s, b, changed)
		p.Problem = ProblemBadLength
		return p
	}
	if isDigit(b[16]) {
		p.Male = sex(b[16])
	}
	okDate := validDate8(b[6:14])
	switch {
	case !allDigitsB(b[:17]) || !isDigit(b[17]) && b[17] != 'X':
		p.Problem = ProblemBadChar
	case residentCheck(b[:17]) != b[17]:
		p.Problem = ProblemBadCheck
	case !okDate:
		p.Problem = ProblemBadBirthDate
	case string(b[:6]) == "000000":
		p.Problem = ProblemBadRegion
	default:
		p.Valid = true
	}
	switch {
	case okDate && changed:
		both := string(appendDate(b, b[6:14]))
		p.ID, p.Birth = both[:18], both[18:]
	case okDate:
		p.ID, p.Birth = s, formatDate8(b[6:14])
	default:
		p.ID = idString(s, b, changed)
	}
	return p
}

// idString is the cleaned ID as a string: s itself when cleaning changed
// nothing.
func idString(s string, b []byte, changed bool) string {
	if changed {
		return string(b)
	}
	return s
}

func allDigitsB(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func resident15(s string, id []byte, changed bool) PersonID {
	var p PersonID
	if isDigit(id[14]) {
		p.Male = sex(id[14])
	}
	if !allDigitsB(id) {
		p.ID = idString(s, id, changed)
		p.Problem = ProblemBadChar
		return p
	}
	// One allocation for both strings: the 18-digit ID and its birth date.
	var b [28]byte
	copy(b[:6], id[:6])
	b[6], b[7] = '1', '9'
	copy(b[8:17], id[6:15])
	if !validDate8(b[6:14]) {
		p.ID = idString(s, id, changed)
		p.Problem = ProblemBadBirthDate
		return p
	}
	b[17] = residentCheck(b[:17])
	appendDate(b[18:18], b[6:14])
	if string(id[:6]) == "000000" {
		p.Birth = string(b[18:])
		p.ID = idString(s, id, changed)
		p.Problem = ProblemBadRegion
		return p
	}
	both := string(b[:])
	p.ID, p.Birth = both[:18], both[18:]
	p.Valid, p.Upgraded = true, true
	return p
}

func sex(c byte) int8 {
	if (c-'0')%2 == 1 {
		return 1
	}
	return 2
}

// validDate8 reports whether d is YYYYMMDD, a real calendar date between
// 1900-01-01 and 2100-12-31.
func validDate8[T string | []byte](d T) bool {
	if len(d) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		if !isDigit(d[i]) {
			return false
		}
	}
	y := int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	m := int(d[4]-'0')*10 + int(d[5]-'0')
	day := int(d[6]-'0')*10 + int(d[7]-'0')
	return validYMD(y, m, day)
}

func validYMD(y, m, d int) bool {
	return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendDate appends YYYYMMDD as YYYY-MM-DD.
func appendDate[T string | []byte](b []byte, d T) []byte {
	b = append(b, d[0], d[1], d[2], d[3], '-', d[4], d[5], '-', d[6], d[7])
	return b
}

func formatDate8[T string | []byte](d T) string {
	var b [10]byte
	return string(appendDate(b[:0], d))
}

// CheckBirth cross-checks a separately keyed birth date ("YYYY-MM-DD",
// "YYYYMMDD", also with / or . separators, single-digit month or day, or a
// trailing time) against the one in the ID. It returns "" when they agree or
// either is missing, else "birth_date_mismatch" (an unreadable keyed date
// counts as a mismatch).
func CheckBirth(id PersonID, birth string) string {
	if id.Birth == "" {
		return ""
	}
	y, m, d, ok, empty := parseDate(birth)
	if empty {
		return ""
	}
	if !ok {
		return ProblemBirthMismatch
	}
	b := id.Birth
	iy := int(b[0]-'0')*1000 + int(b[1]-'0')*100 + int(b[2]-'0')*10 + int(b[3]-'0')
	im := int(b[5]-'0')*10 + int(b[6]-'0')
	iday := int(b[8]-'0')*10 + int(b[9]-'0')
	if y != iy || m != im || d != iday {
		return ProblemBirthMismatch
	}
	return ""
}

// parseDate reads a keyed date. empty reports a value with nothing but
// blanks; ok a real date (any year from 1000 to 9999 parses, the range check
// is the ID's).
func parseDate(s string) (y, m, d int, ok, empty bool) {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\r' || s[j-1] == '\n') {
		j--
	}
	if i == j {
		return 0, 0, 0, false, true
	}
	s = s[i:j]
	// Compact YYYYMMDD, possibly followed by a time.
	if len(s) >= 8 && allDigits(s[:8]) && (len(s) == 8 || s[8] == ' ' || s[8] == 'T') {
		y = atoi(s[0:4])
		m = atoi(s[4:6])
		d = atoi(s[6:8])
		return y, m, d, y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m), false
	}
	// Separated: YYYY sep M[M] sep D[D], then the end, a blank or T.
	var parts [3]int
	k := 0
	for n := 0; n < 3; n++ {
		start := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		width := k - start
		if n == 0 && width != 4 || n > 0 && (width < 1 || width > 2) {
			return 0, 0, 0, false, false
		}
		parts[n] = atoi(s[start:k])
		if n < 2 {
			if k >= len(s) || s[k] != '-' && s[k] != '/' && s[k] != '.' {
				return 0, 0, 0, false, false
			}
			k++
		}
	}
	if k < len(s) && s[k] != ' ' && s[k] != 'T' {
		return 0, 0, 0, false, false
	}
	y, m, d = parts[0], parts[1], parts[2]
	return y, m, d, y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m), false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
