package rows

import (
	"time"
)

// Value parsers for the contract's types. They take the bytes as delivered and
// never allocate; they are on the hot path of every text feed.

// ParseInt parses an optionally signed decimal integer.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63)/10 {
			return 0, false // out of BIGINT range
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<63 {
			return 0, false // out of BIGINT range
		}
	}
	if neg {
		return -int64(n), true
	}
	if n == 1<<63 {
		return 0, false
	}
	return int64(n), true
}

// pow10 holds 10^i for scales up to 18.
var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// ParseDecimal parses a plain decimal ("-1234.5") into its unscaled value at
// the given scale and precision. More fraction digits than the scale, digit
// group separators and exponents are refused: money is never rounded
// silently.
func ParseDecimal(b []byte, precision, scale int) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	var intPart, frac int64
	intDigits, fracDigits := 0, 0
	seenDot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if seenDot {
				if fracDigits == scale {
					// Extra trailing zeros are harmless; anything else would round.
					if c != '0' {
						return 0, false
					}
					continue
				}
				frac = frac*10 + int64(c-'0')
				fracDigits++
			} else {
				if intDigits > 0 || c != '0' {
					intDigits++
				}
				if intDigits > precision-scale {
					return 0, false
				}
				intPart = intPart*10 + int64(c-'0')
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return 0, false
		}
	}
	if len(b) == 0 || (seenDot && len(b) == 1) {
		return 0, false
	}
	v := intPart*pow10[scale] + frac*pow10[scale-fracDigits]
	if neg {
		v = -v
	}
	return v, true
}

// ParseBool accepts true/false, 1/0, Y/N and T/F in either case.
func ParseBool(b []byte) (bool, bool) {
	switch string(b) {
	case "true", "TRUE", "True", "1", "Y", "y", "T", "t":
		return true, true
	case "false", "FALSE", "False", "0", "N", "n", "F", "f":
		return false, true
	}
	return false, false
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validDate(y, m, d int) bool {
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
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

// daysFromCivil is days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// splitDate reads YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD at the start of b and
// returns the rest.
func splitDate(b []byte) (y, m, d int, rest []byte, ok bool) {
	if len(b) >= 10 && (b[4] == '-' || b[4] == '/') && b[7] == b[4] {
		y, ok1 := digits(b[0:4])
		m, ok2 := digits(b[5:7])
		d, ok3 := digits(b[8:10])
		return y, m, d, b[10:], ok1 && ok2 && ok3
	}
	if len(b) >= 8 {
		y, ok1 := digits(b[0:4])
		m, ok2 := digits(b[4:6])
		d, ok3 := digits(b[6:8])
		return y, m, d, b[8:], ok1 && ok2 && ok3
	}
	return 0, 0, 0, nil, false
}

// ParseDate parses YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD into days since the
// epoch. Dates that do not exist (2026-02-30) are refused.
func ParseDate(b []byte) (int32, bool) {
	y, m, d, rest, ok := splitDate(b)
	if !ok || len(rest) != 0 || !validDate(y, m, d) {
		return 0, false
	}
	return int32(daysFromCivil(y, m, d)), true
}

// ParseTimestamp parses "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH:MM|±HHMM]",
// the same with YYYY/MM/DD, or YYYYMMDDHHMMSS, into microseconds since the
// epoch. A value without an offset is wall time in loc.
func ParseTimestamp(b []byte, loc *time.Location) (int64, bool) {
	y, mo, d, rest, ok := splitDate(b)
	if !ok || !validDate(y, mo, d) {
		return 0, false
	}
	compact := len(b) >= 8 && b[4] != '-' && b[4] != '/'
	var h, mi, s, micros int
	if len(rest) == 0 {
		// A date alone is midnight.
	} else if compact {
		if len(rest) != 6 {
			return 0, false
		}
		var ok1, ok2, ok3 bool
		h, ok1 = digits(rest[0:2])
		mi, ok2 = digits(rest[2:4])
		s, ok3 = digits(rest[4:6])
		if !ok1 || !ok2 || !ok3 {
			return 0, false
		}
		rest = rest[6:]
	} else {
		if rest[0] != ' ' && rest[0] != 'T' || len(rest) < 6 || rest[3] != ':' {
			return 0, false
		}
		var ok1, ok2 bool
		h, ok1 = digits(rest[1:3])
		mi, ok2 = digits(rest[4:6])
		if !ok1 || !ok2 {
			return 0, false
		}
		rest = rest[6:]
		if len(rest) >= 3 && rest[0] == ':' {
			var ok3 bool
			if s, ok3 = digits(rest[1:3]); !ok3 {
				return 0, false
			}
			rest = rest[3:]
			if len(rest) > 0 && rest[0] == '.' {
				i := 1
				scale := 100000
				for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
					micros += int(rest[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == 1 {
					return 0, false
				}
				rest = rest[i:]
			}
		}
	}
	if h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	if s == 60 {
		s = 59 // leap second: keep the instant inside its minute
	}
	secOfDay := int64(h*3600 + mi*60 + s)
	days := daysFromCivil(y, mo, d)
	var offset int64
	switch {
	case len(rest) == 0:
		if loc == time.UTC {
			break
		}
		if fixed, ok := fixedOffset(loc, y); ok {
			offset = fixed
			break
		}
		t := time.Date(y, time.Month(mo), d, h, mi, s, micros*1000, loc)
		return t.UnixMicro(), true
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case rest[0] == '+' || rest[0] == '-':
		var oh, om int
		var ok1, ok2 bool
		switch len(rest) {
		case 6:
			if rest[3] != ':' {
				return 0, false
			}
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[4:6])
		case 5:
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[3:5])
		case 3:
			oh, ok1 = digits(rest[1:3])
			ok2 = true
		default:
			return 0, false
		}
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return 0, false
		}
		offset = int64(oh*3600 + om*60)
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	return (days*86400+secOfDay-offset)*1_000_000 + int64(micros), true
}

// shanghai is China Standard Time. China has kept UTC+8 without daylight
// saving since 1992, so wall times after that convert with a fixed offset and
// no zone lookup.
var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func fixedOffset(loc *time.Location, year int) (int64, bool) {
	if loc == shanghai && shanghai != nil && year >= 1992 {
		return 8 * 3600, true
	}
	return 0, false
}
