package contract

import (
	"fmt"
	"time"
)

// Expected is when an entity's file for business day D is due: Lag
// calendar days after D, by the time of day By, in the warehouse's time
// zone; business days are Monday to Friday (Days: weekdays) or every day. {by: "06:00", lag: 1} is the usual T+1
// morning batch.
type Expected struct {
	By   string `yaml:"by"`   // HH:MM
	Lag  *int   `yaml:"lag"`  // days after the business day; default 1 (0: the same day)
	Days string `yaml:"days"` // weekdays (default: Monday to Friday) or daily
}

// LagDays is Lag with its default.
func (x *Expected) LagDays() int {
	if x.Lag == nil {
		return 1
	}
	return *x.Lag
}

// Calendars of Expected.Days.
const (
	Weekdays = "weekdays"
	Daily    = "daily"
)

func (x *Expected) check() string {
	if x.Days == "" {
		x.Days = Weekdays
	}
	if _, err := time.Parse("15:04", x.By); err != nil {
		return fmt.Sprintf("by: %q is not a time of day HH:MM", x.By)
	}
	if x.LagDays() < 0 {
		return fmt.Sprintf("lag: %d; the file is due that many days after its business day (0 or more)", x.LagDays())
	}
	if x.Days != Weekdays && x.Days != Daily {
		return fmt.Sprintf("days: %q is not weekdays or daily", x.Days)
	}
	return ""
}

// BusinessDay reports whether day is a business day of the calendar.
func (x *Expected) BusinessDay(day time.Time) bool {
	if x.Days == Daily {
		return true
	}
	wd := day.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Due is when the file for business day day (a date in loc) is due.
func (x *Expected) Due(day time.Time, loc *time.Location) time.Time {
	at, _ := time.Parse("15:04", x.By)
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, x.LagDays())
	return time.Date(d.Year(), d.Month(), d.Day(), at.Hour(), at.Minute(), 0, 0, loc)
}

// DueDays are the business days, newest first, whose files were due by now
// within the last window days.
func (x *Expected) DueDays(now time.Time, loc *time.Location, window int) []time.Time {
	var out []time.Time
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	for back := 0; back < window+x.LagDays()+7 && len(out) < window; back++ {
		day := today.AddDate(0, 0, -back)
		if x.BusinessDay(day) && !x.Due(day, loc).After(now) {
			out = append(out, day)
		}
	}
	return out
}
