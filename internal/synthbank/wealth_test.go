package synthbank

import (
	"math"
	"testing"
	"time"
)

// TestHoldings_MoveWithTheirProductsPublishedValue runs the wealth model
// over three weeks of business days and checks every holding no trade
// touched that day: all holders of a product move by the same share of
// their value (to the cent), within the product's drift; a fund moves on
// weekdays, a wealth product or a private fund on one weekday a week only,
// the same weekday every week; nothing moves on a weekend.
func TestHoldings_MoveWithTheirProductsPublishedValue(t *testing.T) {
	if got := weekday(dayOf(2026, 12, 8)); got != time.Tuesday {
		t.Fatalf("2026-12-08 is a %v, want Tuesday", got)
	}
	o := Options{Parties: 4000, Days: 15, Seed: 5, Activity: DefaultActivity}.withDefaults()
	w := buildWorld(o)
	book := w.buildWealth()
	moveDays := map[string]map[time.Weekday]int{} // product → weekdays it moved on
	fundDays, fundMoves := 0, 0                   // weekdays, and those some fund moved on
	for di, d := range w.days {
		before := map[*holding]int64{}
		for _, c := range book.clients {
			for _, h := range c.holdings {
				before[h] = h.amount
			}
		}
		traded := map[*wealthClient]bool{}
		r := newRand(o.Seed, "wealth-day", di)
		for _, c := range book.clients {
			for _, tr := range w.simulateClient(r, book, c, di, d, nil) {
				traded[tr.client] = true
			}
		}
		if di == 0 {
			continue
		}
		share := map[string]float64{} // product → the day's move, from its first holder
		tol := map[string]float64{}
		fundMoved := false
		for _, c := range book.clients {
			if traded[c] || c.rec.p.beh == behAUMOutflow {
				continue
			}
			for _, h := range c.holdings {
				old, ok := before[h]
				if !ok || h.gone || h.from >= di || old < 100_000 {
					continue
				}
				got := float64(h.amount-old) / float64(old)
				if h.drift == 0 {
					if h.amount != old && !isDeposit(h.ptype) {
						t.Fatalf("day %d: %s held by %s has a fixed value but went %d → %d", di, h.code, c.rec.key, old, h.amount)
					}
					continue
				}
				if math.Abs(got) > float64(h.drift)/10000+1e-9 {
					t.Fatalf("day %d: %s moved %.5f, more than its drift %d/10000", di, h.code, got, h.drift)
				}
				if s, seen := share[h.code]; seen {
					if math.Abs(s-got) > tol[h.code]+1/float64(old) {
						t.Fatalf("day %d: holders of %s moved %.6f and %.6f", di, h.code, s, got)
					}
				} else {
					share[h.code], tol[h.code] = got, 1/float64(old)
				}
				if h.amount != old {
					if h.ptype == "FUND" {
						fundMoved = true
						continue
					}
					if moveDays[h.code] == nil {
						moveDays[h.code] = map[time.Weekday]int{}
					}
					moveDays[h.code][weekday(d)]++
					if wd := weekday(d); wd == time.Saturday || wd == time.Sunday {
						t.Errorf("day %d: %s moved on a %v", di, h.code, wd)
					}
				}
			}
		}
		weekend := weekday(d) == time.Saturday || weekday(d) == time.Sunday
		switch {
		case weekend && fundMoved:
			t.Errorf("day %d: funds moved on a %v", di, weekday(d))
		case !weekend:
			fundDays++
			if fundMoved {
				fundMoves++
			}
		}
	}
	if fundMoves < fundDays-1 {
		t.Errorf("funds moved on %d of %d business days", fundMoves, fundDays)
	}
	if len(moveDays) == 0 {
		t.Fatal("no wealth product or private fund moved")
	}
	for code, days := range moveDays {
		if len(days) != 1 {
			t.Errorf("%s moved on weekdays %v, want one", code, days)
		}
	}
}
