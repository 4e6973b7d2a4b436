package synthbank

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"cdp/connectors/contract"
)

// wealth — 财富管理系统: Parquet snapshots of clients and holdings, and the
// day's trades. A client's AUM is the sum of its holdings on a date.
//
// The asset model below holds every product a client has, deposits
// included; the wealth writer delivers the investments and the core banking
// writer (core.go) the deposits, each replaying the same deterministic model
// (buildWealth, then simulateClient day by day), so the two systems agree
// to the cent without sharing state across their goroutines.
//
// Non-planted clients keep their AUM within a few percent over the window:
// BUY moves money from the demand deposit into a product and REDEEM moves it
// back, maturing deposits are credited to the demand deposit, and only funds
// drift with the market. Only planted aum_outflow clients redeem money out of
// the bank.

type holding struct {
	code, ptype, currency string
	amount                int64 // cents
	open, maturity        day   // maturity noDay = open-ended
	risk                  byte  // '1'..'5'
	drift                 int   // max daily value change in 1e-4; 0 = fixed value
	rate                  int   // deposit interest in 1e-4 a year
	from                  int   // first window day the holding exists
	gone                  bool
	// Deposits only: the core banking account, the term in months (0 for
	// demand), whether it rolls over at maturity, and the account it was
	// rolled over from.
	acct        string
	term        int
	autoRenew   bool
	renewedFrom string
}

func isDeposit(ptype string) bool {
	return ptype == "DEMAND" || ptype == "TIME_DEPOSIT" || ptype == "LARGE_CD"
}

// wealthBook is the asset model of all wealth clients.
type wealthBook struct {
	clients []*wealthClient
	accts   int // deposit accounts handed out
}

// newAcct hands out the next deposit account number (19 digits, as a
// mainland debit account).
func (b *wealthBook) newAcct() string {
	b.accts++
	return "621700" + pad(1_000_000_0+b.accts*7, 13)
}

type wealthClient struct {
	rec       *record
	risk      byte
	assessed  day
	segment   string
	rm        string
	holdings  []*holding
	outflowOn []int    // window days of planted outflow redemptions
	outflow   int64    // cents redeemed out of the bank on each of those days
	deposit   *holding // planted deposit_maturing and deposit_not_renewed: the deposit
	newDep    *holding // planted new_large_deposit: the deposit it opens
	newDepOn  int      // and the window day it opens it
	reserve   int64    // cents kept in the demand account for it
	aumFirst  int64
	aumLast   int64
	redeemed  int64
}

// aum is the client's assets on window day di, deposits included.
func (c *wealthClient) aum(di int) int64 {
	var sum int64
	for _, h := range c.holdings {
		if !h.gone && h.from <= di {
			sum += h.amount
		}
	}
	return sum
}

func (c *wealthClient) holds(code string) *holding {
	for _, h := range c.holdings {
		if h.code == code && !h.gone {
			return h
		}
	}
	return nil
}

var (
	wmpCodes  = []string{"WMP1001", "WMP1002", "WMP1003", "WMP1005", "WMP1008", "WMP2001", "WMP2003", "WMP2010", "WMP3001", "WMP3006"}
	fundCodes = []string{"110011", "000001", "161725", "519674", "005827", "001938", "163402", "260108", "000083", "110022"}
	insCodes  = []string{"INS2019A", "INS2021B", "INS2022C", "INS2023A"}
	trustCode = []string{"TRU0301", "TRU0412", "TRU0520"}
	pfCodes   = []string{"PF0007", "PF0019", "PF0023"}
	fxHedges  = []struct {
		code   string
		months int
	}{{fxHedgeForwardPrefix + "3M", 3}, {fxHedgeForwardPrefix + "6M", 6}, {fxHedgeForwardPrefix + "1Y", 12},
		{fxHedgeOptionPrefix + "3M", 3}, {fxHedgeOptionPrefix + "6M", 6}}
	depositTerms = []int{3, 6, 12, 24, 36, 60}
)

// FXHedgeProductCodes lists the wealth product codes that hedge FX exposure
// (forwards FXFWD*, options FXOPT*). They are held as product_type WMP in USD.
func FXHedgeProductCodes() []string {
	var out []string
	for _, h := range fxHedges {
		out = append(out, h.code)
	}
	return out
}

func (w *world) buildWealth() *wealthBook {
	r := newRand(w.o.Seed, "wealth", 0)
	book := &wealthBook{}
	var clients []*wealthClient
	for _, p := range w.parties {
		recs := p.recs[sysWealth]
		for i, rec := range recs {
			c := &wealthClient{rec: rec, rm: "RM" + pad(20000+r.IntN(300), 5)}
			c.assessed = w.first - day(1+r.IntN(900))
			switch {
			case p.company:
				c.risk = byte('2' + r.IntN(3))
			case p.tier == tierCore:
				c.risk = pick(r, []byte("345"), []int{3, 4, 3})
			case p.tier == tierGrowth:
				c.risk = pick(r, []byte("1234"), []int{15, 30, 35, 20})
			default:
				c.risk = pick(r, []byte("123"), []int{35, 45, 20})
			}
			aum := p.aum
			if len(recs) == 2 { // a duplicate record splits the money 70/30
				aum = p.aum * 7 / 10
				if i == 1 {
					aum = p.aum - aum
				}
			}
			if !p.company {
				c.segment = segmentOf(aum)
				if r.Float64() < 0.05 && c.segment != "MASS" { // not re-graded since the last review
					c.segment = map[string]string{"PRIVATE": "AFFLUENT", "AFFLUENT": "MASS"}[c.segment]
				}
			}
			w.allocate(r, c, p, aum)
			for _, h := range c.holdings {
				if isDeposit(h.ptype) {
					h.acct = book.newAcct()
				}
			}
			clients = append(clients, c)
		}
	}
	book.clients = clients
	return book
}

func segmentOf(aum int64) string {
	switch {
	case aum >= CoreAUMMinCNY*100:
		return "PRIVATE"
	case aum >= 300_000*100:
		return "AFFLUENT"
	}
	return "MASS"
}

func pick[T any](r *rand.Rand, vals []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return vals[i]
		}
		x -= w
	}
	return vals[len(vals)-1]
}

// allocate splits a client's AUM over holdings whose amounts sum exactly to it.
func (w *world) allocate(r *rand.Rand, c *wealthClient, p *party, aum int64) {
	rest := aum
	if p.beh == behDepositMaturing {
		amt := int64(uniform(r, largeDepositCNY, 4*largeDepositCNY)) / 10_000 * 10_000 * 100
		amt = min(amt, aum*6/10/1_000_000*1_000_000)
		amt = max(amt, largeDepositCNY*100)
		term := []int{12, 24, 36}[r.IntN(3)]
		mat := w.end + day(1+r.IntN(depositMaturingWindowDays))
		ptype := "TIME_DEPOSIT"
		if r.IntN(2) == 0 {
			ptype = "LARGE_CD"
		}
		h := &holding{ptype: ptype, currency: "CNY", amount: amt, maturity: mat, open: mat.addMonths(-term),
			risk: '1', rate: 150 + r.IntN(120), term: term}
		h.code = depositCode(ptype, term, h.open)
		c.holdings = append(c.holdings, h)
		c.deposit = h
		rest -= amt
		if c.risk == '1' {
			c.risk = '2'
		}
	}
	// The core banking behaviours draw nothing from r, so every other
	// client's allocation is what it was before they existed.
	switch p.beh {
	case behDepositNotRenewed:
		// A large time deposit that matures in the middle of the window and
		// is not rolled over: the money waits in the demand account.
		amt := max(aum*4/10/1_000_000*1_000_000, newLargeDepositMinCNY*100)
		mat := w.days[len(w.days)/2]
		h := &holding{ptype: "TIME_DEPOSIT", currency: "CNY", amount: amt, maturity: mat, open: mat.addMonths(-12),
			risk: '1', rate: 175, term: 12}
		h.code = depositCode(h.ptype, 12, h.open)
		c.holdings = append(c.holdings, h)
		c.deposit = h
		rest -= amt
	case behNewLargeDeposit:
		// Money kept in the demand account until the day a new large CD
		// takes it.
		c.reserve = max(aum*3/10/1_000_000*1_000_000, newLargeDepositMinCNY*100)
		c.newDepOn = len(w.days) / 2
		rest -= c.reserve
	}
	if p.hedger {
		n := 1 + r.IntN(2)
		for i := 0; i < n; i++ {
			fx := fxHedges[r.IntN(len(fxHedges))]
			if c.holds(fx.code) != nil {
				continue
			}
			amt := max(int64(float64(aum)*uniform(r, 0.02, 0.06))/100_000*100_000, 20_000_000)
			amt = min(amt, rest/3)
			open := w.first - day(1+r.IntN(40))
			h := &holding{code: fx.code, ptype: "WMP", currency: "USD", amount: amt, open: open,
				maturity: open.addMonths(fx.months), risk: '3'}
			for h.maturity <= w.end+5 {
				h.maturity = h.maturity.addMonths(fx.months)
			}
			c.holdings = append(c.holdings, h)
			rest -= amt
		}
	}
	type slot struct {
		ptype  string
		weight float64
		chance float64
	}
	var mix []slot
	switch {
	case p.beh == behAUMOutflow:
		mix = []slot{{"DEMAND", 0.5, 1}, {"WMP", 5, 1}, {"FUND", 4, 1}}
	case p.company:
		mix = []slot{{"DEMAND", 4, 1}, {"TIME_DEPOSIT", 2, 0.6}, {"LARGE_CD", 3, 0.3}, {"WMP", 2, 0.5}}
	case p.tier == tierCore:
		mix = []slot{{"DEMAND", 1, 1}, {"TIME_DEPOSIT", 2, 1}, {"LARGE_CD", 2, 0.6}, {"WMP", 3, 1}, {"FUND", 2, 1},
			{"INSURANCE", 1, 0.6}, {"TRUST", 3, 0.6}, {"PRIVATE_FUND", 3, 0.5}}
	case p.tier == tierGrowth:
		mix = []slot{{"DEMAND", 1.5, 1}, {"TIME_DEPOSIT", 2, 0.7}, {"LARGE_CD", 2, 0.4}, {"WMP", 3, 0.8},
			{"FUND", 2, 0.6}, {"INSURANCE", 1.5, 0.4}}
	default:
		mix = []slot{{"DEMAND", 3, 1}, {"TIME_DEPOSIT", 2, 0.4}, {"WMP", 2, 0.4}, {"FUND", 1, 0.25}}
	}
	var chosen []slot
	sum := 0.0
	for _, s := range mix {
		if r.Float64() < s.chance {
			s.weight *= uniform(r, 0.5, 1.5)
			chosen = append(chosen, s)
			sum += s.weight
		}
	}
	demand := &holding{code: "DEM0001", ptype: "DEMAND", currency: "CNY", risk: '1',
		open: w.first - day(100+r.IntN(3000)), maturity: noDay}
	left := rest
	for _, s := range chosen[1:] { // chosen[0] is always DEMAND
		amt := int64(float64(rest) * s.weight / sum)
		ptype := s.ptype
		switch {
		case ptype == "LARGE_CD" && amt < 200_000*100:
			ptype = "TIME_DEPOSIT"
		case (ptype == "TRUST" || ptype == "PRIVATE_FUND") && amt < 1_000_000*100:
			ptype = "WMP"
		}
		h := w.newHolding(r, c, ptype, amt)
		if h == nil {
			continue
		}
		c.holdings = append(c.holdings, h)
		left -= amt
	}
	demand.amount = left + c.reserve
	c.holdings = append([]*holding{demand}, c.holdings...)
	if p.beh == behAUMOutflow {
		days := make([]int, 0, 3)
		for _, k := range r.Perm(len(w.days) - 1)[:min(2+r.IntN(2), len(w.days)-1)] {
			days = append(days, k+1)
		}
		slices.Sort(days)
		c.outflowOn = days
		c.outflow = int64(float64(aum)*uniform(r, 0.40, 0.65)) / int64(len(days)) / 100 * 100
	}
}

func depositCode(ptype string, months int, open day) string {
	term := strconv.Itoa(months) + "M"
	if months%12 == 0 {
		term = strconv.Itoa(months/12) + "Y"
	}
	y, m, _ := open.civil()
	prefix := "TD"
	if ptype == "LARGE_CD" {
		prefix = "LCD"
	}
	return prefix + term + pad(y%100, 2) + pad(m, 2)
}

// newHolding creates a holding of a type, unique by product code within the
// client; nil when no free code is left.
func (w *world) newHolding(r *rand.Rand, c *wealthClient, ptype string, amt int64) *holding {
	h := &holding{ptype: ptype, currency: "CNY", amount: amt, maturity: noDay}
	codeFrom := func(codes []string) bool {
		for _, i := range r.Perm(len(codes)) {
			if c.holds(codes[i]) == nil {
				h.code = codes[i]
				return true
			}
		}
		return false
	}
	h.open = w.first - day(1+r.IntN(700))
	switch ptype {
	case "TIME_DEPOSIT", "LARGE_CD":
		h.risk, h.rate = '1', 130+r.IntN(150)
		for try := 0; ; try++ {
			months := depositTerms[r.IntN(len(depositTerms))]
			if amt >= nonPlantedMaturingMaxCNY*100 && months < 6 {
				months = 6
			}
			termDays := int(dayOf(2001, 1, 1).addMonths(months) - dayOf(2001, 1, 1))
			// Opened over a month before the window: a deposit opened inside
			// the last 30 days is new money, planted (new_large_deposit).
			h.open = w.first - day(31+r.IntN(termDays-31))
			h.maturity = h.open.addMonths(months)
			h.code = depositCode(ptype, months, h.open)
			h.term = months
			// Large deposits roll over (so none leaves a gap a rule would
			// mistake for the planted unrenewed ones); a third of the rest
			// are paid out to the demand account.
			h.autoRenew = amt >= nonPlantedMaturingMaxCNY*100 || h.open%3 != 0
			clash := h.maturity <= w.first || c.holds(h.code) != nil ||
				(amt >= nonPlantedMaturingMaxCNY*100 && h.maturity > w.end && h.maturity <= w.end+depositMaturingWindowDays)
			if !clash {
				break
			}
			if try == 50 {
				return nil
			}
		}
	case "WMP":
		if !codeFrom(wmpCodes) {
			return nil
		}
		h.risk, h.drift = byte('2'+r.IntN(2)), 2
		if r.IntN(10) < 3 {
			h.maturity = w.end + day(31+r.IntN(300))
		}
	case "FUND":
		if !codeFrom(fundCodes) {
			return nil
		}
		h.risk, h.drift = byte('3'+r.IntN(2)), 40
	case "INSURANCE":
		if !codeFrom(insCodes) {
			return nil
		}
		h.risk = byte('1' + r.IntN(2))
	case "TRUST":
		if !codeFrom(trustCode) {
			return nil
		}
		h.risk = byte('3' + r.IntN(2))
		h.maturity = w.end + day(31+r.IntN(600))
		h.open = h.maturity.addMonths(-24)
	case "PRIVATE_FUND":
		if !codeFrom(pfCodes) {
			return nil
		}
		h.risk, h.drift = byte('4'+r.IntN(2)), 50
	}
	return h
}

type trade struct {
	client *wealthClient
	ptype  string
	code   string
	side   string
	amount int64
	sec    int
}

// feeRate is the bank's yearly fee on a holding in 1e-4 (management,
// custody or trailing commission): wealth products 0.30%, funds 0.25–0.74%
// by product, trusts 0.60%, private funds 0.80%, insurance none (its
// commission is paid on the sale).
func feeRate(h *holding) int {
	switch h.ptype {
	case "WMP":
		return 30
	case "FUND":
		return 25 + int(fnvOf(h.code)%50)
	case "TRUST":
		return 60
	case "PRIVATE_FUND":
		return 80
	}
	return 0
}

// tradeFee is what the bank earns on a trade, in cents: a fund's
// subscription fee (0.60%, discounted as the banks' apps do) or redemption
// fee (0.50%), the insurer's commission on a policy sold (3%), 1% on trusts
// and private funds; none on wealth products or maturities.
func tradeFee(tr trade) int64 {
	bp := map[string]int64{"FUND": 60, "INSURANCE": 300, "TRUST": 100, "PRIVATE_FUND": 100}[tr.ptype]
	switch {
	case tr.side == "REDEEM" && tr.ptype == "FUND":
		bp = 50
	case tr.side != "BUY":
		bp = 0
	}
	return tr.amount * bp / 10000
}

func (w *world) writeWealth(ctx context.Context, g *generation) error {
	book := w.buildWealth()
	clients := book.clients
	res := g.result(sysWealth)
	eCli, _ := contract.Lookup("wealth", "clients")
	eHold, _ := contract.Lookup("wealth", "holdings")
	eTrade, _ := contract.Lookup("wealth", "trades")
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := newRand(w.o.Seed, "wealth-day", di)
		var trades []trade
		for _, c := range clients {
			trades = w.simulateClient(r, book, c, di, t, trades)
		}
		DATE := t.iso()

		df, err := g.create(res, parquetName(eCli, DATE), false)
		if err != nil {
			return err
		}
		pf, err := newParquetFile(df, eCli)
		if err != nil {
			return err
		}
		for _, c := range clients {
			rec := c.rec
			pf.str(0, rec.key)
			pf.str(1, rec.name)
			pf.str(2, rec.idType)
			pf.str(3, rec.idNo)
			pf.str(4, rec.mobile)
			pf.str(5, "C"+string(c.risk))
			pf.date(6, c.assessed)
			pf.str(7, c.segment)
			pf.str(8, c.rm)
			if err := pf.endRow(); err != nil {
				return err
			}
		}
		if err := g.finishParquet(res, pf, eCli); err != nil {
			return err
		}

		if df, err = g.create(res, parquetName(eHold, DATE), false); err != nil {
			return err
		}
		if pf, err = newParquetFile(df, eHold); err != nil {
			return err
		}
		for _, c := range clients {
			aum := c.aum(di)
			for _, h := range c.holdings {
				if h.gone || h.from > di || isDeposit(h.ptype) {
					continue // core banking delivers deposits
				}
				pf.str(0, c.rec.key)
				pf.str(1, h.code)
				pf.str(2, h.ptype)
				pf.str(3, h.currency)
				pf.money(4, h.amount)
				pf.date(5, h.open)
				pf.date(6, h.maturity)
				pf.str(7, "R"+string(h.risk))
				pf.date(8, t)
				pf.money(9, int64(feeRate(h))*100) // 1e-4 a year as percent with four decimals
				if err := pf.endRow(); err != nil {
					return err
				}
			}
			if di == 0 {
				c.aumFirst = aum
			}
			c.aumLast = aum
		}
		if err := g.finishParquet(res, pf, eHold); err != nil {
			return err
		}

		if df, err = g.create(res, parquetName(eTrade, DATE), false); err != nil {
			return err
		}
		if pf, err = newParquetFile(df, eTrade); err != nil {
			return err
		}
		id := make([]byte, 0, 20)
		i := 0
		for _, tr := range trades {
			if isDeposit(tr.ptype) {
				continue // a deposit's maturity is core banking's
			}
			i++
			id = append(append(id[:0], "TR"...), t.compact()...)
			id = append(id, pad(i, 7)...)
			pf.str(0, string(id))
			pf.str(1, tr.client.rec.key)
			pf.str(2, tr.code)
			pf.str(3, tr.side)
			pf.money(4, tr.amount)
			pf.timestamp(5, utcMicros(t, tr.sec))
			pf.str(6, []string{"APP", "APP", "WEB", "COUNTER", "RM"}[tr.sec%5])
			pf.money(7, tradeFee(tr))
			if err := pf.endRow(); err != nil {
				return err
			}
		}
		if err := g.finishParquet(res, pf, eTrade); err != nil {
			return err
		}
		g.progress("wealth", di+1, len(w.days))
	}
	for _, c := range clients {
		p := c.rec.p
		switch p.beh {
		case behAUMOutflow:
			res.behaviour(p, behAUMOutflow, sysWealth, c.rec.key,
				"aum_first="+money(c.aumFirst)+";aum_end="+money(c.aumLast)+";redeemed_out="+money(c.redeemed)+
					";drop_pct="+strconv.FormatInt(100-c.aumLast*100/max(c.aumFirst, 1), 10))
		case behPremiumCard:
			res.behaviour(p, behPremiumCard, sysWealth, c.rec.key, "aum_end="+money(c.aumLast))
		case behCrossBorderNoHedge:
			res.behaviour(p, behCrossBorderNoHedge, sysWealth, c.rec.key, "fx_hedge_holdings=0")
		}
	}
	return nil
}

// valueMove is a drifting product's change of value on day t, in 1e-4 of
// it, and whether the product publishes its net value that day: a fund on
// every weekday, a wealth product or a private fund once a week, on its own
// weekday (closed-end wealth products must publish at least weekly, and
// most publish no more often); nothing moves on a weekend. Every holder of
// a product moves with it by the same share, at most the product's drift.
func (w *world) valueMove(h *holding, t day) (int64, bool) {
	wd := weekday(t)
	code := fnvOf(h.code)
	if wd == time.Saturday || wd == time.Sunday || h.ptype != "FUND" && wd != time.Monday+time.Weekday(code%5) {
		return 0, false
	}
	// splitmix64's finaliser: a uniform draw from (seed, product, day)
	x := uint64(w.o.Seed)*0x9E3779B97F4A7C15 ^ code ^ uint64(t)<<32
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	x ^= x >> 31
	return int64(x%uint64(2*h.drift+1)) - int64(h.drift), true
}

// simulateClient moves one client through a window day and appends its
// trades (deposits' maturities included: the wealth writer leaves those to
// core banking).
func (w *world) simulateClient(r *rand.Rand, book *wealthBook, c *wealthClient, di int, t day, trades []trade) []trade {
	demand := c.holdings[0]
	sec := func() int { return 9*3600 + r.IntN(12*3600) }
	if c.reserve > 0 && di == c.newDepOn {
		// Planted new_large_deposit: the reserve becomes a 3-year large CD.
		h := &holding{ptype: "LARGE_CD", currency: "CNY", amount: c.reserve, open: t, maturity: t.addMonths(36),
			risk: '1', rate: 235, term: 36, from: di, acct: book.newAcct()}
		h.code = depositCode(h.ptype, 36, t)
		demand.amount -= c.reserve
		c.holdings = append(c.holdings, h)
		c.newDep = h
	}
	n := len(c.holdings) // a renewal appended below is in today's snapshot, not matured again
	for _, h := range c.holdings[:n] {
		if h.gone || h.from > di {
			continue
		}
		if h.maturity != noDay && h.maturity <= t {
			amt := h.amount
			if h.ptype == "TIME_DEPOSIT" || h.ptype == "LARGE_CD" {
				// At most a year's interest, so a maturing deposit never lifts
				// a client across a tier band.
				amt += h.amount * int64(h.rate) * int64(min(h.maturity-h.open, 365)) / 365 / 10000
			}
			trades = append(trades, trade{c, h.ptype, h.code, "MATURE", amt, sec()})
			h.gone = true
			if h.autoRenew {
				// Rolled over for the same term into a new account.
				nh := &holding{ptype: h.ptype, currency: h.currency, amount: amt, open: h.maturity,
					maturity: h.maturity.addMonths(h.term), risk: h.risk, rate: h.rate, term: h.term, from: di,
					acct: book.newAcct(), autoRenew: true, renewedFrom: h.acct}
				nh.code = depositCode(nh.ptype, nh.term, nh.open)
				c.holdings = append(c.holdings, nh)
				continue
			}
			demand.amount += amt
			continue
		}
		if h.drift > 0 && di > 0 {
			// Until 2026-12-08 each holding drew its own move here every
			// day; the draw stays so that the day's trades, drawn after it
			// from the same stream, are what they were.
			_ = r.IntN(2*h.drift + 1)
			if move, published := w.valueMove(h, t); published {
				h.amount += h.amount * move / 10000
			}
		}
	}
	if i := slices.Index(c.outflowOn, di); i >= 0 {
		need := c.outflow
		for need > 0 {
			var best *holding
			for _, h := range c.holdings[1:] {
				if !h.gone && h.from <= di && (h.ptype == "WMP" || h.ptype == "FUND") && (best == nil || h.amount > best.amount) {
					best = h
				}
			}
			if best == nil {
				best = demand // the last of it comes out of the current account
			}
			amt := min(need, best.amount)
			if amt <= 0 {
				break
			}
			best.amount -= amt
			if best.amount == 0 && best != demand {
				best.gone = true
			}
			need -= amt
			c.redeemed += amt
			if best != demand {
				trades = append(trades, trade{c, best.ptype, best.code, "REDEEM", amt, sec()})
			}
		}
		return trades
	}
	if c.rec.p.beh == behAUMOutflow || r.Float64() >= 0.03 || w.quiet(c.rec.p, di) {
		return trades
	}
	if r.IntN(2) == 0 && demand.amount >= 10_000*100 {
		amt := int64(float64(demand.amount)*uniform(r, 0.1, 0.5)) / 100_000 * 100_000
		h := w.newHolding(r, c, []string{"WMP", "FUND"}[r.IntN(2)], 0)
		if h == nil {
			return trades
		}
		if old := c.holds(h.code); old != nil {
			h = old
		} else {
			h.open, h.from = t, di
			c.holdings = append(c.holdings, h)
		}
		demand.amount -= amt
		h.amount += amt
		return append(trades, trade{c, h.ptype, h.code, "BUY", amt, sec()})
	}
	for _, h := range c.holdings[1:] {
		if !h.gone && h.from < di && (h.ptype == "WMP" || h.ptype == "FUND") && h.amount >= 10_000*100 {
			amt := int64(float64(h.amount) * uniform(r, 0.2, 1.0))
			if h.amount-amt < 100*100 {
				amt = h.amount
				h.gone = true
			}
			h.amount -= amt
			demand.amount += amt
			return append(trades, trade{c, h.ptype, h.code, "REDEEM", amt, sec()})
		}
	}
	return trades
}
