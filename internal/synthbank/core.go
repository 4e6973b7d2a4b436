package synthbank

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// core banking — 核心银行系统: fixed-width GBK snapshots of customers and
// deposit accounts, and the day's settlements. It knows every party that
// holds a deposit and every company (its settlement account).
//
// Deposits come from the asset model the wealth writer also replays
// (buildWealth, simulateClient): the same accounts and balances to the cent,
// delivered here and no longer by wealth. Settlements are companies':
// a daily volume per company (the e-banking volume where it has one, else a
// share of revenue) split over counter, e-banking, batch payroll, bills and
// SWIFT, plus recurring payments between client companies (a buyer paying
// its suppliers), both sides booked.
//
// Planted here: settlement_drop (a company's daily volume falls to at most
// settlementDropMaxShare of what it was, from settlementDropFrom on),
// deposit_not_renewed and new_large_deposit (in the asset model, wealth.go),
// and deposit_maturing's truth row (the deposit is core banking's).

// coreParty is what core banking holds about a party beyond its records.
type coreParty struct {
	branch   string
	open     day
	dormant  bool
	settle   int64    // cents a day of settlement volume; 0 for persons
	acct     string   // a company's settlement account when it has no wealth client
	balance  int64    // its balance, cents
	external []string // counterparties outside the bank
	supplies []supply // client companies this one pays regularly
}

type supply struct {
	to     *party
	amount int64 // cents per payment
	major  bool  // planted: paid every day, most of the supplier's inflows (its own stream)
}

// makeCoreRecords builds core banking's records (after every other
// system's, from its own streams): the behaviours planted in it, the
// records with its identity noise, and the companies' settlement profiles
// and supplier relationships.
func (w *world) makeCoreRecords() {
	r := newRand(w.o.Seed, "core-records", 0)
	w.core = make(map[*party]*coreParty)
	accts := 0
	// The companies' names without their legal form: an outside
	// counterparty's name is never one of them under another form.
	clientStems := map[string]bool{}
	for _, p := range w.parties {
		if p.company {
			for _, form := range []string{"集团有限公司", "股份有限公司", "有限责任公司", "有限公司"} {
				if stem, ok := strings.CutSuffix(p.name, form); ok {
					clientStems[stem] = true
					break
				}
			}
		}
	}
	for _, p := range w.parties {
		if p.in[sysCore] == 0 {
			continue
		}
		cp := &coreParty{branch: "BR" + pad(1+r.IntN(60), 4), open: w.first - day(200+r.IntN(5000)),
			dormant: !p.company && r.Float64() < 0.03}
		w.core[p] = cp
		if !p.company {
			continue
		}
		cp.settle = p.settleDaily
		if cp.settle == 0 {
			cp.settle = min(int64(float64(p.revenue)/365*uniform(r, 0.2, 0.5)),
				int64(normalSettlementMaxDailyCNY*100*uniform(r, 0.5, 0.9)))
		}
		cp.settle = max(cp.settle/10_000*10_000, 2_000_000)
		if p.in[sysWealth] == 0 {
			accts++
			cp.acct = "622200" + pad(accts*11+3_000_000, 13)
			cp.balance = int64(float64(cp.settle)*uniform(r, 2, 6)) / 100 * 100
		}
		for i := 0; i < 3; i++ {
			c := cities[r.IntN(len(cities))]
			stem := c.name + brandChars[r.IntN(len(brandChars))].han + brandChars[r.IntN(len(brandChars))].han + industries[r.IntN(len(industries))].word
			if clientStems[stem] {
				stem += "实业" // never a client's name under another legal form
			}
			cp.external = append(cp.external, stem+"有限公司")
		}
	}
	w.plantFrom(r, firstCoreBehaviour, behCashOutflow)
	// (its own stream: the draws below stay as they were before it came)
	w.plantFrom(newRand(w.o.Seed, "core-outflow", 0), behCashOutflow, numBehaviours)
	seq := newKeySeq(r, "K", 10)
	var companies []*party
	for _, p := range w.parties {
		for k := 0; k < p.in[sysCore]; k++ {
			w.addRecord(r, p, sysCore, k > 0, seq.next())
		}
		if p.beh != behNone {
			// A planted party's core banking record carries its real ID
			// (the behaviour is attributed through it), and so does every
			// record of a party planted here.
			canonicalID(p.recs[sysCore]...)
			if p.beh >= firstCoreBehaviour {
				for s := system(0); s < numSystems; s++ {
					for _, rec := range p.recs[s] {
						keepID(rec)
					}
				}
			}
		}
		if p.company && p.in[sysCore] == 1 && p.beh != behSettlementDrop {
			companies = append(companies, p)
		}
	}
	// A quarter of the companies pay one or two client companies every few
	// days: the supply chain the bank can see from its own books.
	for _, p := range companies {
		if len(companies) < 3 || r.Float64() >= 0.25 {
			continue
		}
		for n := 1 + r.IntN(2); n > 0; n-- {
			q := companies[r.IntN(len(companies))]
			if q == p || w.core[p].suppliesTo(q) {
				continue
			}
			amt := min(w.core[p].settle, w.core[q].settle) * int64(5+r.IntN(6)) / 100 / 10_000 * 10_000
			w.core[p].supplies = append(w.core[p].supplies, supply{to: q, amount: max(amt, 1_000_000)})
			w.links = append(w.links, link{p, q, "supplier"})
		}
	}
	// Planted downstream risk (its own stream): a company whose loan goes
	// overdue is the major buyer of another client company — it pays it
	// about that company's daily volume every day, most of its inflows —
	// so the supplier's RM should hear of the buyer's trouble.
	rm := newRand(w.o.Seed, "core-major-buyer", 0)
	var suppliers []*party
	for _, q := range companies {
		if q.beh == behNone && w.core[q].settle > 0 {
			suppliers = append(suppliers, q)
		}
	}
	for _, p := range companies {
		if p.beh != behLoanOverdue || len(suppliers) == 0 {
			continue
		}
		q := suppliers[rm.IntN(len(suppliers))]
		if q == p || w.core[p].suppliesTo(q) || w.majorOf[q] != nil {
			continue
		}
		amt := int64(float64(w.core[q].settle)*uniform(rm, 0.8, 1.2)) / 10_000 * 10_000
		w.core[p].supplies = append(w.core[p].supplies, supply{to: q, amount: amt, major: true})
		w.links = append(w.links, link{p, q, "supplier"})
		if w.majorOf == nil {
			w.majorOf = map[*party]*party{}
		}
		w.majorOf[q] = p
	}
}

// canonicalID writes the party's real ID into its records.
func canonicalID(recs ...*record) {
	for _, rec := range recs {
		rec.idType, rec.idNo = "ID_CARD", rec.p.idNo
		if rec.p.company {
			rec.idType = "USCC"
		}
	}
}

func (cp *coreParty) suppliesTo(q *party) bool {
	for _, s := range cp.supplies {
		if s.to == q {
			return true
		}
	}
	return false
}

// coreRecord is the core banking record a wealth client's deposits sit
// under: the party's record at the same position, or its first.
func coreRecord(c *wealthClient) *record {
	recs := c.rec.p.recs[sysCore]
	for i, rec := range c.rec.p.recs[sysWealth] {
		if rec == c.rec && i < len(recs) {
			return recs[i]
		}
	}
	return recs[0]
}

// Damage kinds of the core banking files: a fixed-width row keeps its
// width, so the damage is inside a field.
var (
	coreCustomerDamage   = []string{contract.ReasonDate, contract.ReasonEnum, contract.ReasonEncoding}
	coreSettlementDamage = []string{contract.ReasonType, contract.ReasonDate}
)

func (w *world) writeCore(ctx context.Context, g *generation) error {
	book := w.buildWealth() // the same asset model the wealth writer replays
	res := g.result(sysCore)
	eCust, _ := contract.Lookup("core_banking", "customers")
	eDep, _ := contract.Lookup("core_banking", "deposits")
	eSet, _ := contract.Lookup("core_banking", "settlements")
	enc := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder())
	gbk := func(s string) []byte {
		b, _ := enc.Bytes([]byte(s))
		return b
	}
	names := map[*record][]byte{}
	for _, rec := range w.recs[sysCore] {
		names[rec] = gbk(rec.name)
	}
	// The settlement account of each company: its wealth client's demand
	// deposit, or the account core banking alone holds.
	settleAcct := map[*party]string{}
	for _, c := range book.clients {
		if _, ok := settleAcct[c.rec.p]; !ok {
			settleAcct[c.rec.p] = c.holdings[0].acct
		}
	}
	for p, cp := range w.core {
		if cp.acct != "" {
			settleAcct[p] = cp.acct
		}
	}
	var companies []*party
	for _, p := range w.parties {
		if p.in[sysCore] > 0 && p.company {
			companies = append(companies, p)
		}
	}
	if err := w.writeCoreHistory(g, res, book, companies); err != nil {
		return err
	}
	dropFrom := settlementDropFrom(len(w.days))
	drop := map[*party]float64{}
	first, second := map[*party]int64{}, map[*party]int64{}
	outflow := map[*party][2]int64{}        // planted cash outflows: amount, daily volume
	volume := map[*party]int64{}            // each party's settlements delivered undamaged, cents
	inflow := map[*party]map[string]int64{} // ... and its inflows by counterparty name
	var f rowFields
	var line []byte
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		rw := newRand(w.o.Seed, "wealth-day", di) // the wealth writer's draws, replayed
		for _, c := range book.clients {
			w.simulateClient(rw, book, c, di, t, nil)
			c.aumLast = c.aum(di)
		}
		r := newRand(w.o.Seed, "core-day", di)
		D := t.compact()

		// customers
		df, err := g.create(res, "core_banking/"+eCust.FileName(D), false)
		if err != nil {
			return err
		}
		dm := newDamager(w, r, df.rel, coreCustomerDamage, di == 0, &res.bad)
		for _, rec := range w.recs[sysCore] {
			cp := w.core[rec.p]
			f.reset()
			f.str(rec.key)
			if rec.p.company {
				f.str("C")
			} else {
				f.str("P")
			}
			f.raw(names[rec])
			f.str(rec.idType)
			f.str(rec.idNo)
			f.str(rec.mobile)
			f.compactDate(rec.birth)
			f.str(cp.branch)
			f.compactDate(cp.open)
			if cp.dormant {
				f.str("DORMANT")
			} else {
				f.str("NORMAL")
			}
			vals := f.values()
			switch dm.decide(!rec.p.guard, df.line) {
			case contract.ReasonDate:
				vals = replaceField(vals, 8, []byte("20260230"))
			case contract.ReasonEnum:
				vals = replaceField(vals, 1, []byte("X"))
			case contract.ReasonEncoding:
				vals = replaceField(vals, 2, brokenGBK(vals[2]))
			}
			line = appendFixedLine(line[:0], vals, eCust)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eCust); err != nil {
			return err
		}

		// deposits
		if df, err = g.create(res, "core_banking/"+eDep.FileName(D), false); err != nil {
			return err
		}
		for _, c := range book.clients {
			cust := coreRecord(c).key
			for _, h := range c.holdings {
				if !isDeposit(h.ptype) || h.gone || h.from > di {
					continue
				}
				line = appendFixedLine(line[:0], depositRow(&f, h, cust, t), eDep)
				if err := df.writeRow(line); err != nil {
					return err
				}
			}
		}
		for _, p := range companies {
			cp := w.core[p]
			if cp.acct == "" {
				continue
			}
			h := &holding{code: "DEM0002", ptype: "DEMAND", currency: "CNY", amount: cp.balance, open: cp.open, maturity: noDay, acct: cp.acct}
			line = appendFixedLine(line[:0], depositRow(&f, h, p.recs[sysCore][0].key, t), eDep)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eDep); err != nil {
			return err
		}

		// settlements
		if df, err = g.create(res, "core_banking/"+eSet.FileName(D), false); err != nil {
			return err
		}
		dm = newDamager(w, r, df.rel, coreSettlementDamage, di == 0, &res.bad)
		seq := 0
		post := func(p *party, dir string, cents int64, channel, cpName, cpAcct, cpBank, purpose string, fee int64, currency string) error {
			seq++
			cust := p.recs[sysCore][0]
			f.reset()
			f.str("ST" + D + pad(seq, 8))
			f.str(settleAcct[p])
			f.str(cust.key)
			f.dateTime(t, 8*3600+r.IntN(10*3600))
			f.str(dir)
			f.money(cents)
			f.str(currency)
			f.money(cents)
			f.str(channel)
			f.raw(gbk(cpName))
			f.str(cpAcct)
			f.raw(gbk(cpBank))
			f.money(fee)
			f.raw(gbk(purpose))
			vals := f.values()
			damage := dm.decide(!p.guard && w.earlyDay(di), df.line)
			switch damage {
			case contract.ReasonType:
				vals = replaceField(vals, 5, []byte("12,3a"))
			case contract.ReasonDate:
				vals = replaceField(vals, 3, []byte("2026-02-30 10:00:00"))
			}
			if damage == "" && channel != "BATCH" && cpName != "" {
				// what the industry chain will see of p's counterparties
				if w.cpPayments[p] == nil {
					w.cpPayments[p] = map[string]int{}
				}
				w.cpPayments[p][cpName]++
			}
			if damage == "" {
				volume[p] += cents
				if dir == "IN" {
					if inflow[p] == nil {
						inflow[p] = map[string]int64{}
					}
					inflow[p][cpName] += cents
				}
			}
			line = appendFixedLine(line[:0], vals, eSet)
			return df.writeRow(line)
		}
		for _, p := range companies {
			cp := w.core[p]
			if p.in[sysCore] == 0 || cp.settle == 0 || w.quiet(p, di) {
				continue
			}
			vol := cp.settle
			if p.beh == behSettlementDrop {
				if drop[p] == 0 {
					drop[p] = uniform(newRand(w.o.Seed, "core-drop", p.idx), 0.2, settlementDropMaxShare-0.05)
				}
				if di >= dropFrom {
					vol = int64(float64(vol) * drop[p])
				}
			}
			n := 2 + r.IntN(5)
			left := vol
			for i := 0; i < n; i++ {
				amt := left
				if i < n-1 {
					amt = int64(float64(vol)/float64(n)*uniform(r, 0.6, 1.4)) / 100 * 100
					amt = min(amt, left)
				}
				left -= amt
				if amt <= 0 {
					continue
				}
				dir, channel, purpose := "OUT", "EBANK", "货款"
				if r.IntN(100) < 45 {
					dir, purpose = "IN", "货款"
				}
				switch x := r.IntN(100); {
				case x < 10:
					channel = "COUNTER"
					purpose = "往来款"
				case x < 20 && dir == "OUT":
					channel, purpose = "BATCH", "工资"
				case x < 30:
					channel, purpose = "BILL", "票据结算"
				case x < 33:
					channel, purpose = "SWIFT", "跨境人民币货款"
				}
				name := cp.external[r.IntN(len(cp.external))]
				bank := domesticBanks[r.IntN(len(domesticBanks))]
				acct := "6228" + pad(r.IntN(1_000_000_000), 15)
				var fee int64
				if dir == "OUT" {
					fee = map[string]int64{"EBANK": 500 + amt/100_000, "COUNTER": 2000, "BATCH": 200 * 10, "BILL": amt / 2000}[channel]
				}
				if channel == "SWIFT" {
					// cross-border RMB: CNY 150 cable charge plus 0.1%, at most CNY 1,000, both ways
					bank, fee = foreignBanks[int(amt)%len(foreignBanks)], min(15_000+amt/1000, 100_000)
				}
				if channel == "BATCH" {
					name, acct, bank = "代发工资批次", "", ""
				}
				if err := post(p, dir, amt, channel, name, acct, bank, purpose, fee, "CNY"); err != nil {
					return err
				}
				if di < dropFrom {
					first[p] += amt
				} else {
					second[p] += amt
				}
			}
			// A planted cash-flow anomaly: one large payment out, 4–6 ×
			// the company's daily volume, on the window's last day but one.
			if p.beh == behCashOutflow && di == len(w.days)-2 {
				ro := newRand(w.o.Seed, "core-outflow", p.idx)
				amt := int64(float64(cp.settle)*uniform(ro, cashOutflowMinMultiple, 6)) / 10_000 * 10_000
				name := cp.external[ro.IntN(len(cp.external))]
				if err := post(p, "OUT", amt, "EBANK", name, "6228"+pad(ro.IntN(1_000_000_000), 15), domesticBanks[ro.IntN(len(domesticBanks))], "往来款", 500+amt/100_000, "CNY"); err != nil {
					return err
				}
				outflow[p] = [2]int64{amt, cp.settle}
			}
			// Recurring payments to suppliers who bank with us: both sides.
			for _, s := range cp.supplies {
				if s.major {
					continue // below, from its own stream
				}
				if r.IntN(10) >= 6 {
					continue
				}
				amt := s.amount * int64(90+r.IntN(21)) / 100 / 100 * 100
				if err := post(p, "OUT", amt, "EBANK", s.to.name, settleAcct[s.to], "本行", "货款", 0, "CNY"); err != nil {
					return err
				}
				if err := post(s.to, "IN", amt, "EBANK", p.name, settleAcct[p], "本行", "货款", 0, "CNY"); err != nil {
					return err
				}
			}
			for _, s := range cp.supplies {
				if !s.major {
					continue
				}
				rmaj := newRand(w.o.Seed, "core-major", di*1_000_003+p.idx)
				amt := s.amount * int64(90+rmaj.IntN(21)) / 100 / 100 * 100
				if err := post(p, "OUT", amt, "EBANK", s.to.name, settleAcct[s.to], "本行", "货款", 0, "CNY"); err != nil {
					return err
				}
				if err := post(s.to, "IN", amt, "EBANK", p.name, settleAcct[p], "本行", "货款", 0, "CNY"); err != nil {
					return err
				}
			}
		}
		if err := g.finish(res, df, eSet); err != nil {
			return err
		}
		g.progress("core_banking", di+1, len(w.days))
	}

	for _, c := range book.clients {
		p := c.rec.p
		key := coreRecord(c).key
		switch p.beh {
		case behDepositMaturing:
			h := c.deposit
			res.behaviour(p, behDepositMaturing, sysCore, key,
				"acct_no="+h.acct+";product_code="+h.code+";product_type="+h.ptype+";amount_cny="+money(h.amount)+
					";maturity_date="+h.maturity.iso()+";aum_end="+money(c.aumLast)+";risk_level=C"+string(c.risk)+
					";target_subset="+strconv.FormatBool(c.aumLast >= 5_000_000*100 && c.risk >= '2'))
		case behDepositNotRenewed:
			h := c.deposit
			res.behaviour(p, behDepositNotRenewed, sysCore, key,
				"acct_no="+h.acct+";product_type="+h.ptype+";amount_cny="+money(h.amount)+";maturity_date="+h.maturity.iso())
		case behNewLargeDeposit:
			h := c.newDep
			res.behaviour(p, behNewLargeDeposit, sysCore, key,
				"acct_no="+h.acct+";product_type="+h.ptype+";amount_cny="+money(h.amount)+";open_date="+h.open.iso())
		}
	}
	for _, p := range companies {
		var total, top int64
		var topName string
		for name, v := range inflow[p] {
			total += v
			if v > top || v == top && name < topName {
				top, topName = v, name
			}
		}
		if total/int64(len(w.days)) >= concentrationMinDailyCNY*100 && top*2 > total {
			w.concentrated = append(w.concentrated, concentration{p, topName, float64(top) / float64(total)})
		}
		if daily := volume[p] / int64(len(w.days)); p.in[sysEbank] > 0 && p.in[sysCredit] == 0 && daily >= ladderMinDailyCNY*100 {
			w.ladder = append(w.ladder, ladderParty{p, daily})
		}
		if o, ok := outflow[p]; ok {
			res.behaviour(p, behCashOutflow, sysCore, p.recs[sysCore][0].key,
				"amount="+money(o[0])+";daily_volume="+money(o[1])+";day="+w.days[len(w.days)-2].iso())
		}
		if p.beh == behSettlementDrop {
			days1, days2 := int64(dropFrom), int64(len(w.days)-dropFrom)
			res.behaviour(p, behSettlementDrop, sysCore, p.recs[sysCore][0].key,
				"daily_before="+money(first[p]/days1)+";daily_after="+money(second[p]/days2)+
					";from="+w.days[dropFrom].iso())
		}
	}
	return nil
}

// settlementDropFrom is the window day planted settlement drops start: the
// middle, or a week before the end of a longer window.
func settlementDropFrom(days int) int { return max(days/2, days-7) }

// depositRow fills f with one deposit account's row on day t.
func depositRow(f *rowFields, h *holding, cust string, t day) [][]byte {
	f.reset()
	f.str(h.acct)
	f.str(cust)
	f.str(h.ptype)
	f.str(h.code)
	f.str(h.currency)
	f.money(h.amount)
	f.money(h.amount)
	rate := h.rate
	if h.ptype == "DEMAND" {
		rate = 20 // 0.20% a year
	}
	f.str(percent(rate))
	f.compactDate(h.open)
	f.compactDate(h.maturity)
	if h.term > 0 {
		f.int(int64(h.term))
		if h.autoRenew {
			f.str("Y")
		} else {
			f.str("N")
		}
	} else {
		f.next()
		f.next()
	}
	f.str(h.renewedFrom)
	f.compactDate(t)
	return f.values()
}

// percent writes a rate held in 1e-4 a year as a percentage, "1.75".
func percent(r int) string {
	return strconv.Itoa(r/100) + "." + pad(r%100, 2)
}

// appendFixedLine writes one fixed-width line: each value (GBK bytes)
// padded with spaces to its column's width in bytes, a longer one cut at a
// character boundary.
func appendFixedLine(dst []byte, vals [][]byte, e *contract.Entity) []byte {
	for i, c := range e.Columns {
		v := vals[i]
		if len(v) > c.Width {
			n := 0
			for n < len(v) {
				step := 1
				if v[n] >= 0x81 {
					step = 2
				}
				if n+step > c.Width {
					break
				}
				n += step
			}
			v = v[:n]
		}
		dst = append(dst, v...)
		for j := len(v); j < c.Width; j++ {
			dst = append(dst, ' ')
		}
	}
	return append(dst, '\n')
}

// writeCoreHistory writes the monthly summary (core_banking monthly, 月日均)
// of the HistoryMonths months before the window's first month, delivered
// with the first day's files, as a bank hands over its history when cdp
// starts: each customer's deposits' daily average walks back from the
// window's first balance by up to ±6% a month; loans' from what the
// company's revenue supports; fee income and net interest in proportion
// (0.02% of deposits and 0.03% of loans a month in fees, a 1.0% and 1.5%
// margin a year).
func (w *world) writeCoreHistory(g *generation, res *feedResult, book *wealthBook, companies []*party) error {
	months := w.o.HistoryMonths
	if months <= 0 {
		return nil
	}
	e, _ := contract.Lookup("core_banking", "monthly")
	deposits := map[*record]int64{}
	for _, c := range book.clients {
		rec := coreRecord(c)
		for _, h := range c.holdings {
			if isDeposit(h.ptype) && !h.gone && h.from == 0 {
				deposits[rec] += h.amount
			}
		}
	}
	for _, p := range companies {
		if cp := w.core[p]; cp.acct != "" {
			deposits[p.recs[sysCore][0]] += cp.balance
		}
	}
	y, m, _ := w.days[0].civil()
	first := dayOf(y, m, 1)
	df, err := g.create(res, "core_banking/"+e.FileName(w.days[0].compact()), false)
	if err != nil {
		return err
	}
	r := newRand(w.o.Seed, "core-history", 0)
	var f rowFields
	var line []byte
	for _, rec := range w.recs[sysCore] {
		p := rec.p
		var loans float64
		if p.company && p.in[sysCredit] > 0 {
			loans = float64(p.revenue) * uniform(r, 0.05, 0.25)
		}
		dep, level := float64(deposits[rec]), 1.0
		for k := 1; k <= months; k++ {
			level *= 1 + uniform(r, -0.06, 0.06)
			d, l := dep*level, loans*level
			f.reset()
			f.str(rec.key)
			f.compactDate(first.addMonths(-k))
			f.money(int64(d))
			f.money(int64(l))
			f.money(int64((d*0.0002 + l*0.0003) * uniform(r, 0.5, 1.5)))
			f.money(int64(d*0.010/12 + l*0.015/12))
			line = appendFixedLine(line[:0], f.values(), e)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
	}
	return g.finish(res, df, e)
}
