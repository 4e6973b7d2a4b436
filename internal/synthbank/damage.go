package synthbank

import (
	"math/rand/v2"

	"cdp/connectors/contract"
)

// Deliberately bad rows. A share of data rows (Options.BadRowRate) is damaged
// the way broken exports damage them; each damaged row is listed in
// truth/bad_rows.csv with its physical line and the contract reason code the
// connector should reject it with. Rows of guarded parties (planted behaviours
// and the clean negatives the rules rely on) are never damaged.

type badRow struct {
	file   string // relative to Out/feeds
	line   int
	reason string
}

// Damage kinds per file family.
var (
	creditCustomerDamage = []string{contract.ReasonMalformed, contract.ReasonDate, contract.ReasonType,
		contract.ReasonEncoding, contract.ReasonMissing, contract.ReasonEnum}
	creditRepaymentDamage = []string{contract.ReasonMalformed, contract.ReasonDate, contract.ReasonType}
	cardDamage            = []string{contract.ReasonMalformed, contract.ReasonType, contract.ReasonDate}
	eventDamage           = []string{contract.ReasonMalformed, contract.ReasonMissing, contract.ReasonEnum}
)

// damager decides, row by row, whether and how to damage a file's rows.
type damager struct {
	r          *rand.Rand
	rate       float64
	kinds      []string
	forced     []string // kinds still owed to "at least one of each"
	nextForced int
	rotate     int
	rows       int
	file       string
	out        *[]badRow
}

// newDamager returns a damager for one file; force asks for at least one row
// of every kind in this file (used on the first day's file of each family).
func newDamager(w *world, r *rand.Rand, file string, kinds []string, force bool, out *[]badRow) *damager {
	dm := &damager{r: r, rate: w.o.BadRowRate, kinds: kinds, file: file, out: out, nextForced: 20}
	if force && w.o.BadRowRate > 0 && w.o.Parties >= 1000 {
		dm.forced = append([]string(nil), kinds...)
	}
	return dm
}

// decide returns the reason code to damage the next row with, or "" to keep it.
// line is the physical line the row starts on.
func (dm *damager) decide(eligible bool, line int) string {
	i := dm.rows
	dm.rows++
	if dm.rate <= 0 {
		return ""
	}
	u := dm.r.Float64()
	if !eligible {
		return ""
	}
	var kind string
	switch {
	case len(dm.forced) > 0 && i >= dm.nextForced:
		kind, dm.forced = dm.forced[0], dm.forced[1:]
		dm.nextForced = i + 23
	case u < dm.rate:
		kind = dm.kinds[dm.rotate%len(dm.kinds)]
		dm.rotate++
	default:
		return ""
	}
	*dm.out = append(*dm.out, badRow{file: dm.file, line: line, reason: kind})
	return kind
}

// earlyDay says whether damage is allowed on window day di: only the days
// before the last three, so that a lost row can only weaken (never create) a
// "recent days" signal for a non-planted party.
func (w *world) earlyDay(di int) bool {
	return len(w.days) < 4 || di < len(w.days)-3
}

func replaceField(vals [][]byte, i int, v []byte) [][]byte {
	vals[i] = v
	return vals
}

func dropField(vals [][]byte, i int) [][]byte {
	return append(vals[:i], vals[i+1:]...)
}
