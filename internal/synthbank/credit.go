package synthbank

import (
	"context"
	"math/rand/v2"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// credit — 信贷管理系统: GBK CSV snapshots of customers and loans, and the
// day's repayments.

type creditCustomer struct {
	rec        *record
	name       []byte // GBK
	industry   string // GB/T 4754 code
	founded    day    // companies: the day it was founded
	priorRev   int64  // companies: last year's revenue, cents
	revenue    int64  // cents; 0 = not applicable
	repName    []byte
	repID      string
	rm, branch string
	open       day
	updDay     day
	updSec     int
	changeOn   int // window day the record is edited on (new RM), -1 none
	newRM      string
	loans      []*loan
}

type loanProduct struct {
	code, name string
	amortizing bool
	minMonths  int
	maxMonths  int
	rateLo     int // 1e-4
	rateHi     int
}

var (
	prodMortgage = &loanProduct{"MORT01", "个人住房按揭贷款", true, 240, 360, 310, 420}
	prodPersBiz  = &loanProduct{"PBL01", "个人经营性贷款", true, 12, 36, 350, 600}
	prodConsumer = &loanProduct{"PCL01", "个人消费贷款", true, 12, 36, 380, 800}
	prodWorking  = &loanProduct{"WCL01", "流动资金贷款", false, 12, 12, 300, 450}
	prodProject  = &loanProduct{"PRJ01", "项目贷款", true, 36, 120, 330, 480}
	prodBill     = &loanProduct{"BDS01", "票据贴现", false, 6, 6, 120, 200}
	prodSupply   = &loanProduct{"SCF01", "供应链融资", false, 6, 12, 350, 550}
	prodTaxLoan  = &loanProduct{"SME02", `"税易贷"小微企业信用贷款`, false, 12, 12, 380, 520}
)

type loan struct {
	no        string
	cust      *creditCustomer
	prod      *loanProduct
	currency  string
	contract  int64 // cents
	balance   int64 // cents, current during the simulation
	inst      int64 // principal per monthly installment (amortizing)
	rate      int   // 1e-4
	start     day
	maturity  day
	dueDom    int
	fiveClass byte
	settled   bool
	overdue   int

	newOn, earlyOn, overdueOn int // window day of a planted event, -1 none
	overdueClass              byte
	guarantee                 bool // the big loan behind a high-volume company
}

type repayment struct {
	loan                 *loan
	due, paid            day
	pDue, pPaid, intPaid int64 // cents; pPaid/intPaid -1 = empty
}

type creditBook struct {
	customers []*creditCustomer
	loans     []*loan
	prodName  map[*loanProduct][]byte // GBK product names
}

func (w *world) buildCredit() *creditBook {
	r := newRand(w.o.Seed, "credit", 0)
	enc := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder())
	gbk := func(s string) []byte {
		b, _ := enc.Bytes([]byte(s))
		return b
	}
	book := &creditBook{prodName: map[*loanProduct][]byte{}}
	for _, lp := range []*loanProduct{prodMortgage, prodPersBiz, prodConsumer, prodWorking, prodProject, prodBill, prodSupply, prodTaxLoan} {
		book.prodName[lp] = gbk(lp.name)
	}
	loanNos := newKeySeq(r, "LN", 10)
	stage := newRand(w.o.Seed, "credit-stage", 0) // its own stream: the other draws stay as they were
	for _, rec := range w.recs[sysCredit] {
		p := rec.p
		c := &creditCustomer{rec: rec, name: gbk(rec.name), changeOn: -1}
		c.rm = "RM" + pad(10000+r.IntN(400), 5)
		c.branch = "BR" + pad(1+r.IntN(60), 4)
		c.open = w.first - day(30+r.IntN(3650))
		c.updDay = c.open + day(r.IntN(int(w.first-c.open)))
		c.updSec = 8*3600 + r.IntN(12*3600)
		if r.Float64() < 0.03 {
			c.changeOn = r.IntN(len(w.days))
			c.newRM = "RM" + pad(10000+r.IntN(400), 5)
		}
		if p.company {
			c.founded, c.priorRev = companyAge(stage, w.first, p.revenue)
			p.founded = c.founded
			c.open = max(c.open, c.founded+day(stage.IntN(30)))
			c.updDay = max(c.updDay, c.open)
			c.industry = p.ind.code
			c.revenue = p.revenue
			rep := p.legalRep
			repName, repID := rep.name, rep.idNo
			if r.Float64() < 0.03 {
				repName = insertSpace(repName, false)
			}
			if r.Float64() < 0.03 {
				if repID[6:8] == "19" {
					repID = legacy15(repID)
				} else if repID[17] == 'X' {
					repID = repID[:17] + "x"
				}
			}
			c.repName, c.repID = gbk(repName), repID
		}
		book.customers = append(book.customers, c)
		if !rec.dup {
			w.makeLoans(r, c, loanNos)
		} else if r.IntN(2) == 0 {
			w.addLoan(r, c, loanNos, prods(p)[0], -1) // a loan booked under the duplicate record
		}
		book.loans = append(book.loans, c.loans...)
	}
	return book
}

// makeLoans gives a customer its loans, honouring the party's plan.
func (w *world) makeLoans(r *rand.Rand, c *creditCustomer, nos *keySeq) {
	p := c.rec.p
	if p.company {
		n := [...]int{2 + r.IntN(3), 1 + r.IntN(3), r.IntN(3)}[p.tier]
		if p.beh == behHeavySettlement {
			// No loan, or one small one against a large settlement volume.
			if r.IntN(5) < 2 {
				l := w.addLoan(r, c, nos, prodWorking, -1)
				l.contract = p.settleDaily * int64(1+r.IntN(2)) / 100 * 100
				l.balance = l.contract
				w.farMaturity(r, l)
			}
			return
		}
		for i := 0; i < n; i++ {
			prod := [...]*loanProduct{prodWorking, prodWorking, prodProject, prodBill, prodSupply, prodTaxLoan}[r.IntN(6)]
			if prod == prodTaxLoan && p.tier != tierBase {
				prod = prodWorking
			}
			w.addLoan(r, c, nos, prod, -1)
		}
		if p.bigLoan {
			l := w.addLoan(r, c, nos, prodWorking, -1)
			l.contract = p.settleDaily * int64(bigLoanVolumeMultiple) * int64(100+r.IntN(60)) / 100 / 100 * 100
			l.balance, l.currency, l.guarantee = l.contract, "CNY", true
			w.farMaturity(r, l)
		}
	} else {
		prods := []*loanProduct{prodMortgage, prodPersBiz, prodConsumer}
		for i, n := 0, 1+r.IntN(2); i < n; i++ {
			w.addLoan(r, c, nos, prods[r.IntN(len(prods))], -1)
		}
		if len(w.days) >= 2 && r.Float64() < 0.005 && p.beh == behNone {
			// A person's new loan: not a behaviour (company_new_loan is about companies).
			w.addLoan(r, c, nos, prodConsumer, 1+r.IntN(len(w.days)-1))
		}
	}
	if r.Float64() < 0.10 {
		l := w.addLoan(r, c, nos, prods(p)[0], -1)
		l.maturity = w.first - day(30+r.IntN(700))
		l.start = l.maturity.addMonths(-l.prod.minMonths)
		l.balance, l.settled = 0, true
	}
	switch p.beh {
	case behEarlyRepayment:
		l := w.addLoan(r, c, nos, prods(p)[1], -1)
		w.farMaturity(r, l)
		l.earlyOn = 1 + r.IntN(len(w.days)-1)
	case behLoanOverdue:
		var ks []int
		for k := 1; k <= len(w.days)-3; k++ {
			if w.days[k].dom() <= 28 {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			break
		}
		k := ks[r.IntN(len(ks))]
		l := w.addLoan(r, c, nos, prods(p)[1], -1)
		l.start = w.days[k].addMonths(-(3 + r.IntN(9)))
		l.maturity = l.start.addMonths(l.prod.maxMonths)
		l.dueDom = w.days[k].dom()
		l.balance = l.contract - l.inst*int64(monthsBetween(l.start, w.first))
		l.overdueOn, l.overdueClass = k, byte('2'+b2i(r.IntN(4) == 0))
	case behCompanyNewLoan:
		prod := [...]*loanProduct{prodWorking, prodProject, prodSupply}[r.IntN(3)]
		w.addLoan(r, c, nos, prod, 1+r.IntN(len(w.days)-1))
	}
}

// companyAge plants a company's founding day (before first, the window's
// first day) and last year's revenue: one in ten founded within the last
// three years (a startup), about one in four of the rest growing 20–60% a
// year, the others within -10% and +15%.
func companyAge(r *rand.Rand, first day, revenue int64) (day, int64) {
	switch x := r.IntN(100); {
	case x < 10:
		return first - day(60+r.IntN(2*365)), revenue * 100 / int64(120+r.IntN(200))
	case x < 32:
		return first - day(4*365+r.IntN(10*365)), revenue * 100 / int64(120+r.IntN(41))
	default:
		return first - day(4*365+r.IntN(25*365)), revenue * 100 / int64(90+r.IntN(26))
	}
}

// prods lists an amortizing-friendly pair of products for a party's kind.
func prods(p *party) [2]*loanProduct {
	if p.company {
		return [2]*loanProduct{prodWorking, prodProject}
	}
	return [2]*loanProduct{prodConsumer, prodPersBiz}
}

// addLoan creates a loan running across the window (or starting on window day
// newOn when newOn >= 0).
func (w *world) addLoan(r *rand.Rand, c *creditCustomer, nos *keySeq, prod *loanProduct, newOn int) *loan {
	p := c.rec.p
	l := &loan{no: nos.next(), cust: c, prod: prod, currency: "CNY", fiveClass: '1',
		newOn: -1, earlyOn: -1, overdueOn: -1}
	months := prod.minMonths + r.IntN(prod.maxMonths-prod.minMonths+1)
	l.rate = prod.rateLo + r.IntN(prod.rateHi-prod.rateLo+1)
	var amount float64
	switch prod {
	case prodMortgage:
		amount = uniform(r, 500_000, 3_000_000) * [...]float64{2, 1.3, 1}[p.tier]
	case prodPersBiz:
		amount = uniform(r, 100_000, 2_000_000)
	case prodConsumer:
		amount = uniform(r, 20_000, 300_000)
	case prodWorking:
		amount = float64(p.revenue) / 100 * uniform(r, 0.03, 0.15)
	case prodProject:
		amount = float64(p.revenue) / 100 * uniform(r, 0.10, 0.40)
	default:
		amount = float64(p.revenue) / 100 * uniform(r, 0.01, 0.05)
	}
	l.contract = max(int64(amount/1000)*1000, 10_000) * 100
	if p.company && prod == prodSupply && r.IntN(10) == 0 && !p.guard {
		l.currency = "USD"
		l.contract = l.contract / 7 / 100_000 * 100_000
	}
	if newOn >= 0 {
		l.newOn = newOn
		l.start = w.days[newOn]
	} else {
		termDays := int(l.start.addMonths(months) - l.start)
		if termDays < 60 {
			termDays = 60
		}
		l.start = w.first - day(20+r.IntN(termDays-19))
	}
	l.maturity = l.start.addMonths(months)
	if l.maturity <= w.first {
		l.maturity = w.first + day(1+r.IntN(60))
	}
	l.dueDom = min(l.start.dom(), 28)
	if prod.amortizing {
		l.inst = l.contract / int64(months) / 100 * 100
	}
	l.balance = l.contract - l.inst*int64(monthsBetween(l.start, w.first))
	if r.Float64() < 0.015 && !p.guard {
		l.fiveClass = '2' // on the watch list since before the window; never moves
	}
	c.loans = append(c.loans, l)
	return l
}

// farMaturity moves a loan's dates so it matures more than a year after End.
func (w *world) farMaturity(r *rand.Rand, l *loan) {
	months := max(l.prod.maxMonths, 24)
	l.start = w.first - day(20+r.IntN(200))
	l.maturity = l.start.addMonths(months)
	for l.maturity < w.end+400 {
		months += 12
		l.maturity = l.start.addMonths(months)
	}
	l.dueDom = min(l.start.dom(), 28)
	if l.prod.amortizing {
		l.inst = l.contract / int64(months) / 100 * 100
	}
	l.balance = l.contract - l.inst*int64(monthsBetween(l.start, w.first))
}

// monthsBetween counts installment dates after start and before d.
func monthsBetween(start, d day) int {
	n := 0
	for m := 1; start.addMonths(m) < d; m++ {
		n++
	}
	return n
}

// step advances a loan through window day di and returns the day's
// repayment row, if any.
func (l *loan) step(di int, t day) *repayment {
	if l.settled || l.newOn > di || l.newOn == di {
		return nil
	}
	if l.overdueOn >= 0 && di > l.overdueOn {
		l.overdue = di - l.overdueOn
		if di >= l.overdueOn+2 {
			l.fiveClass = l.overdueClass
		}
	}
	interest := func(days int) int64 { return l.balance * int64(l.rate) * int64(days) / 365 / 10000 }
	if l.earlyOn == di {
		rp := &repayment{loan: l, due: t, paid: t, pDue: l.balance, pPaid: l.balance, intPaid: interest(t.dom())}
		l.balance, l.settled = 0, true
		return rp
	}
	due := t == l.maturity || (t.dom() == l.dueDom && t < l.maturity && t > l.start)
	if !due {
		return nil
	}
	if l.overdueOn == di {
		return &repayment{loan: l, due: t, paid: noDay, pDue: max(l.inst, 0), pPaid: -1, intPaid: -1}
	}
	rp := &repayment{loan: l, due: t, paid: t, intPaid: interest(30)}
	switch {
	case t == l.maturity:
		rp.pDue, rp.pPaid = l.balance, l.balance
		l.balance, l.settled = 0, true
	case l.prod.amortizing:
		p := min(l.inst, l.balance)
		rp.pDue, rp.pPaid = p, p
		l.balance -= p
	}
	return rp
}

func (w *world) writeCredit(ctx context.Context, g *generation) error {
	book := w.buildCredit()
	res := g.result(sysCredit)
	eCust, _ := contract.Lookup("credit", "customers")
	eLoan, _ := contract.Lookup("credit", "loans")
	eRep, _ := contract.Lookup("credit", "repayments")
	var f rowFields
	var line []byte
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := newRand(w.o.Seed, "credit-day", di)
		var reps []*repayment
		for _, l := range book.loans {
			if rp := l.step(di, t); rp != nil {
				reps = append(reps, rp)
			}
		}
		D := t.compact()

		// customers
		df, err := g.create(res, "credit/"+eCust.FileName(D), false)
		if err != nil {
			return err
		}
		df.writeHeader(headerLine(eCust, ','))
		dm := newDamager(w, r, df.rel, creditCustomerDamage, di == 0, &res.bad)
		for _, c := range book.customers {
			rec := c.rec
			f.reset()
			f.str(rec.key)
			if rec.p.company {
				f.str("C")
			} else {
				f.str("P")
			}
			f.raw(c.name)
			f.str(rec.idType)
			f.str(rec.idNo)
			f.str(rec.mobile)
			f.isoDate(rec.birth)
			f.str(c.industry)
			if c.revenue > 0 {
				f.money(c.revenue)
			} else {
				f.next()
			}
			f.raw(c.repName)
			f.str(c.repID)
			rm, upd, sec := c.rm, c.updDay, c.updSec
			if c.changeOn >= 0 && di >= c.changeOn {
				rm, upd = c.newRM, w.days[c.changeOn]
			}
			f.str(rm)
			f.str(c.branch)
			f.isoDate(c.open)
			f.dateTime(upd, sec)
			if rec.p.company {
				f.isoDate(c.founded)
				f.money(c.priorRev)
			} else {
				f.next()
				f.next()
			}
			vals := f.values()
			switch dm.decide(!rec.p.guard, df.line) {
			case contract.ReasonMalformed:
				vals = dropField(vals, 7) // a missing field: 14 instead of 15
			case contract.ReasonDate:
				vals = replaceField(vals, 13, []byte("2026-02-30"))
			case contract.ReasonType:
				vals = replaceField(vals, 8, []byte("12,3a"))
			case contract.ReasonEncoding:
				vals = replaceField(vals, 2, brokenGBK(vals[2]))
			case contract.ReasonMissing:
				vals = replaceField(vals, 0, nil)
			case contract.ReasonEnum:
				vals = replaceField(vals, 1, []byte("X"))
			}
			line = appendCSVLine(line[:0], vals)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eCust); err != nil {
			return err
		}

		// loans
		if df, err = g.create(res, "credit/"+eLoan.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eLoan, ','))
		for _, l := range book.loans {
			if l.newOn > di {
				continue
			}
			f.reset()
			f.str(l.no)
			f.str(l.cust.rec.key)
			f.str(l.prod.code)
			f.raw(book.prodName[l.prod])
			f.str(l.currency)
			f.money(l.contract)
			f.money(l.balance)
			f.buf = appendRate(f.buf, l.rate)
			f.next()
			f.isoDate(l.start)
			f.isoDate(l.maturity)
			f.raw([]byte{l.fiveClass})
			f.int(int64(l.overdue))
			if l.settled {
				f.str("SETTLED")
			} else {
				f.str("ACTIVE")
			}
			line = appendCSVLine(line[:0], f.values())
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eLoan); err != nil {
			return err
		}

		// repayments
		if df, err = g.create(res, "credit/"+eRep.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eRep, ','))
		dm = newDamager(w, r, df.rel, creditRepaymentDamage, false, &res.bad)
		for _, rp := range reps {
			l := rp.loan
			f.reset()
			f.str(l.no)
			f.isoDate(rp.due)
			f.isoDate(rp.paid)
			f.money(rp.pDue)
			if rp.pPaid >= 0 {
				f.money(rp.pPaid)
			} else {
				f.next()
			}
			if rp.intPaid >= 0 {
				f.money(rp.intPaid)
			} else {
				f.next()
			}
			vals := f.values()
			switch dm.decide(!l.cust.rec.p.guard, df.line) {
			case contract.ReasonMalformed:
				vals = dropField(vals, 5)
			case contract.ReasonDate:
				vals = replaceField(vals, 1, []byte("2026-02-30"))
			case contract.ReasonType:
				vals = replaceField(vals, 3, []byte("12,3a"))
			}
			line = appendCSVLine(line[:0], vals)
			if err := df.writeRow(line); err != nil {
				return err
			}
			p := l.cust.rec.p
			if l.earlyOn == di {
				res.behaviour(p, behEarlyRepayment, sysCredit, l.cust.rec.key,
					"loan_no="+l.no+";paid_date="+t.iso()+";principal_paid="+money(rp.pPaid)+";maturity_date="+l.maturity.iso()+";status=SETTLED")
			}
			if l.overdueOn == di {
				res.behaviour(p, behLoanOverdue, sysCredit, l.cust.rec.key,
					"loan_no="+l.no+";due_date="+t.iso()+";unpaid;overdue_days from "+(t+1).iso()+";five_class 1->"+string(l.overdueClass)+" on "+(t+2).iso())
			}
		}
		if err := g.finish(res, df, eRep); err != nil {
			return err
		}
		for _, l := range book.loans {
			if l.newOn == di && l.cust.rec.p.beh == behCompanyNewLoan {
				res.behaviour(l.cust.rec.p, behCompanyNewLoan, sysCredit, l.cust.rec.key,
					"loan_no="+l.no+";product="+l.prod.code+";start_date="+t.iso()+";contract_amount="+money(l.contract))
			}
		}
		g.progress("credit", di+1, len(w.days))
	}
	// The companies' credit exposure on the last day: what the external
	// feed's industry truth reads (after every writer is done).
	for _, l := range book.loans {
		if p := l.cust.rec.p; p.company && !l.settled && l.balance > 0 {
			w.exposed[p] = true
		}
	}
	// Heavy settlement is planted across ebank and credit; credit states the loan side.
	for _, c := range book.customers {
		p := c.rec.p
		if p.beh != behHeavySettlement {
			continue
		}
		var bal int64
		for _, l := range c.loans {
			bal += l.balance
		}
		res.behaviour(p, behHeavySettlement, sysCredit, c.rec.key, "active_loan_balance_on_end="+money(bal))
	}
	return nil
}

// brokenGBK inserts the invalid sequence 0x81 0x20 (a lead byte followed by a
// byte that cannot trail it) after the name's first character.
func brokenGBK(name []byte) []byte {
	cut := 1
	if len(name) >= 2 && name[0] >= 0x81 {
		cut = 2
	}
	if cut > len(name) {
		cut = len(name)
	}
	out := append([]byte(nil), name[:cut]...)
	out = append(out, 0x81, 0x20)
	return append(out, name[cut:]...)
}

func money(cents int64) string { return string(appendMoney(nil, cents)) }
