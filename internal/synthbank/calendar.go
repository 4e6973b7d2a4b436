package synthbank

import "time"

// chinaZone is Asia/Shanghai. China has kept UTC+8 without daylight saving since
// 1991, so a fixed zone is exact and needs no tzdata on the host.
var chinaZone = time.FixedZone("CST", 8*3600)

// day is a civil date counted in days since 1970-01-01 (the Arrow date32 unit).
type day int32

// noDay marks a missing date.
const noDay day = -1 << 30

func dayOf(y, m, d int) day {
	// Howard Hinnant's days_from_civil.
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// dayOfTime is the calendar date of t in t's own location (a date given as
// midnight in any zone means that date).
func dayOfTime(t time.Time) day {
	return dayOf(t.Year(), int(t.Month()), t.Day())
}

// weekday is d's day of the week (1970-01-01 was a Thursday).
func weekday(d day) time.Weekday { return time.Weekday((int(d)%7 + 11) % 7) }

func (d day) civil() (y, m, dd int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, dd
}

func (d day) dom() int { _, _, dd := d.civil(); return dd }

// addMonths moves a date by whole months, clamping the day to the month's end.
func (d day) addMonths(n int) day {
	y, m, dd := d.civil()
	m0 := y*12 + (m - 1) + n
	y, m = m0/12, m0%12+1
	if last := daysIn(y, m); dd > last {
		dd = last
	}
	return dayOf(y, m, dd)
}

func daysIn(y, m int) int {
	return int(dayOf(y+(m/12), m%12+1, 1) - dayOf(y, m, 1))
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendISO writes YYYY-MM-DD.
func (d day) appendISO(b []byte) []byte {
	y, m, dd := d.civil()
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, dd)
}

// appendCompact writes YYYYMMDD.
func (d day) appendCompact(b []byte) []byte {
	y, m, dd := d.civil()
	return append2(append2(append4(b, y), m), dd)
}

func (d day) iso() string     { return string(d.appendISO(nil)) }
func (d day) compact() string { return string(d.appendCompact(nil)) }

// appendClock writes HH:MM:SS for a second of the day.
func appendClock(b []byte, sec int) []byte {
	b = append2(b, sec/3600)
	b = append(b, ':')
	b = append2(b, sec/60%60)
	b = append(b, ':')
	return append2(b, sec%60)
}

// appendDateTime writes "YYYY-MM-DD HH:MM:SS" (China time, no offset).
func appendDateTime(b []byte, d day, sec int) []byte {
	return appendClock(append(d.appendISO(b), ' '), sec)
}

// appendRFC3339 writes "YYYY-MM-DDTHH:MM:SS+08:00".
func appendRFC3339(b []byte, d day, sec int) []byte {
	b = appendClock(append(d.appendISO(b), 'T'), sec)
	return append(b, "+08:00"...)
}

// utcMicros is the instant of a China-time wall clock as microseconds since the epoch.
func utcMicros(d day, sec int) int64 {
	return (int64(d)*86400 + int64(sec) - 8*3600) * 1_000_000
}
