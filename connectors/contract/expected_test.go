package contract

import (
	"testing"
	"time"
)

// lag: 0 is the same day (not the default 1); weekends are not business
// days by default; a pattern without a date cannot declare arrivals.
func TestExpected_DueDays(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	zero := 0
	same := &Expected{By: "22:00", Lag: &zero}
	if msg := same.check(); msg != "" {
		t.Fatal(msg)
	}
	fri := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	if due := same.Due(fri, loc); !due.Equal(time.Date(2026, 11, 20, 22, 0, 0, 0, loc)) {
		t.Errorf("lag 0: due %v", due)
	}
	next := &Expected{By: "06:00"}
	if msg := next.check(); msg != "" {
		t.Fatal(msg)
	}
	days := next.DueDays(time.Date(2026, 11, 23, 7, 0, 0, 0, loc), loc, 3) // Monday 07:00
	var got []string
	for _, d := range days {
		got = append(got, d.Format("01-02 Mon"))
	}
	if len(got) != 3 || got[0] != "11-20 Fri" || got[1] != "11-19 Thu" || got[2] != "11-18 Wed" {
		t.Errorf("due days %v", got)
	}
}
