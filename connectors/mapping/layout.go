package mapping

import (
	"fmt"
	"strconv"
)

// Date and timestamp layouts, strftime style as DuckDB's strptime writes
// them: %Y four-digit year, %y two-digit year (2000–2099), %m month, %d day,
// %H hour, %M minute, %S second (each one or two digits), %f a fraction of a
// second (1–9 digits), %z an offset (+08:00, +0800, Z), %% a percent sign;
// any other character stands for itself. A value is converted to the
// contract's canonical text (2024-01-31 or 2024-01-31 09:30:00.000000),
// which the contract's type then checks (2024-02-30 is still a bad date).

type directive byte

type layoutPart struct {
	d   directive // 0: a literal byte
	lit byte
}

type layout struct {
	text    string
	parts   []layoutPart
	hasYear bool
	hasTime bool
}

func parseLayout(s string) (*layout, error) {
	l := &layout{text: s}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			l.parts = append(l.parts, layoutPart{lit: c})
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("%q ends with a lone %%", s)
		}
		i++
		switch d := s[i]; d {
		case '%':
			l.parts = append(l.parts, layoutPart{lit: '%'})
		case 'Y', 'y':
			l.hasYear = true
			l.parts = append(l.parts, layoutPart{d: directive(d)})
		case 'm', 'd':
			l.parts = append(l.parts, layoutPart{d: directive(d)})
		case 'H', 'M', 'S', 'f', 'z':
			l.hasTime = true
			l.parts = append(l.parts, layoutPart{d: directive(d)})
		default:
			return nil, fmt.Errorf("%q: %%%c is not a layout directive (want %%Y %%y %%m %%d %%H %%M %%S %%f %%z or %%%%)", s, d)
		}
	}
	var has [256]bool
	for _, p := range l.parts {
		has[p.d] = true
	}
	if !has['m'] || !has['d'] {
		return nil, fmt.Errorf("%q needs at least a month (%%m) and a day (%%d)", s)
	}
	return l, nil
}

// parsed fields of one value.
type when struct {
	y, mo, d, h, mi, s int
	frac               int // microseconds
	zone               []byte
}

// number reads 1..max digits of v from i.
func number(v []byte, i, min, max int) (n, next int, ok bool) {
	j := i
	for j < len(v) && j-i < max && v[j] >= '0' && v[j] <= '9' {
		n = n*10 + int(v[j]-'0')
		j++
	}
	return n, j, j-i >= min
}

// apply reads v by the layout and appends its canonical text to dst. year
// and month come from the banner for a layout without a year (month 0:
// unknown). withTime: the column is a timestamp (a date column keeps the
// date of a layout that has a time too).
func (l *layout) apply(dst, v []byte, year, month int, withTime bool) ([]byte, bool) {
	w := when{y: year}
	i := 0
	for _, p := range l.parts {
		if p.d == 0 {
			if i >= len(v) || v[i] != p.lit {
				return dst, false
			}
			i++
			continue
		}
		var ok bool
		switch p.d {
		case 'Y':
			w.y, i, ok = number(v, i, 4, 4)
		case 'y':
			w.y, i, ok = number(v, i, 2, 2)
			w.y += 2000
		case 'm':
			w.mo, i, ok = number(v, i, 1, 2)
		case 'd':
			w.d, i, ok = number(v, i, 1, 2)
		case 'H':
			w.h, i, ok = number(v, i, 1, 2)
		case 'M':
			w.mi, i, ok = number(v, i, 1, 2)
		case 'S':
			w.s, i, ok = number(v, i, 1, 2)
		case 'f':
			start := i
			var n int
			n, i, ok = number(v, i, 1, 9)
			for k := i - start; k < 6; k++ {
				n *= 10
			}
			for k := i - start; k > 6; k-- {
				n /= 10
			}
			w.frac = n
		case 'z':
			start := i
			switch {
			case i < len(v) && (v[i] == 'Z' || v[i] == 'z'):
				i++
			case i < len(v) && (v[i] == '+' || v[i] == '-'):
				i++
				for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == ':') && i-start < 6 {
					i++
				}
			}
			w.zone, ok = v[start:i], i > start
		}
		if !ok {
			return dst, false
		}
	}
	if i != len(v) || w.mo < 1 || w.mo > 12 || w.d < 1 || w.d > 31 || w.h > 23 || w.mi > 59 || w.s > 60 {
		return dst, false
	}
	if !l.hasYear {
		if year == 0 {
			return dst, false
		}
		if month > 0 && w.mo > month {
			w.y-- // December's lines on a January statement
		}
	}
	dst = pad(dst, w.y, 4)
	dst = append(dst, '-')
	dst = pad(dst, w.mo, 2)
	dst = append(dst, '-')
	dst = pad(dst, w.d, 2)
	if l.hasTime && withTime {
		dst = append(dst, ' ')
		dst = pad(dst, w.h, 2)
		dst = append(dst, ':')
		dst = pad(dst, w.mi, 2)
		dst = append(dst, ':')
		dst = pad(dst, w.s, 2)
		dst = append(dst, '.')
		dst = pad(dst, w.frac, 6)
		dst = append(dst, w.zone...)
	}
	return dst, true
}

func pad(dst []byte, n, width int) []byte {
	switch {
	case width == 2 && n >= 0 && n < 100:
		return append(dst, byte('0'+n/10), byte('0'+n%10))
	case width == 4 && n >= 0 && n < 10000:
		return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for k := len(s); k < width; k++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
