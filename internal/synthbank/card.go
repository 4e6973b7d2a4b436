package synthbank

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"cdp/connectors/contract"
)

// card — 信用卡系统: pipe-delimited UTF-8 snapshots of holders and accounts,
// and the day's transactions.
//
// Non-planted active accounts that bought anything before the last three days
// also buy on at least two of the last three days (so only planted accounts go
// quiet), and non-planted CLASSIC accounts spend less than classicSpendCapCNY
// over the window.

type cardHolder struct {
	rec      *record
	employer string
	income   int64 // cents; 0 = not captured
	accounts []*cardAccount
}

type cardAccount struct {
	id      string
	holder  *cardHolder
	primary *cardHolder // the primary holder of a supplementary card
	tier    string
	limit   int64
	open    day
	status  string
	last4   string
	counts  []int // planned transactions per window day
	// A quiet account may change status inside the window (frozen, unfrozen,
	// closed) from window day statusFrom (0 = never).
	statusFrom int
	newStatus  string
	premium    int64 // planned luxury spend per day (cents), premium candidates
	dormant    bool  // planted dormant_card account: purchases only, then silence
	capped     bool  // CLASSIC spend cap applies
	spent      int64 // CNY cents spent so far

	purchasesEarly int
	lastPurchase   day
	purchaseTotal  int64
}

type cardBook struct {
	holders  []*cardHolder
	accounts []*cardAccount
}

var genericEmployers = []string{"自由职业", "个体工商户", "退休", "学生", "无"}

func (w *world) buildCard() *cardBook {
	r := newRand(w.o.Seed, "card", 0)
	book := &cardBook{}
	ids := newKeySeq(r, "CA", 10)
	repOf := make(map[*party]*party)
	var companies []*party
	for _, p := range w.parties {
		if p.company {
			companies = append(companies, p)
			if p.legalRep != nil && repOf[p.legalRep] == nil {
				repOf[p.legalRep] = p
			}
		}
	}
	first := make(map[*party]*cardHolder)
	for _, rec := range w.recs[sysCard] {
		p := rec.p
		h := &cardHolder{rec: rec}
		if !p.company {
			switch x := r.Float64(); {
			case repOf[p] != nil:
				h.employer = repOf[p].name
			case x < 0.45 && len(companies) > 0:
				h.employer = companies[r.IntN(len(companies))].name
			case x < 0.70:
				h.employer = genericEmployers[r.IntN(len(genericEmployers))]
			}
			if h.employer != "" && r.Float64() < 0.02 {
				if c := companies[r.IntN(len(companies))]; c.brandPY != "" {
					h.employer = c.name + "|" + strings.ToUpper(c.brandPY)
				}
			}
			lo, hi := [...]float64{800_000, 300_000, 50_000}[p.tier], [...]float64{5_000_000, 1_500_000, 400_000}[p.tier]
			if r.Float64() > 0.05 {
				h.income = int64(math.Exp(uniform(r, math.Log(lo), math.Log(hi)))) / 1000 * 1000 * 100
			}
		}
		book.holders = append(book.holders, h)
		if first[p] == nil {
			first[p] = h
		}
		if p.suppCard && !rec.dup {
			continue // the supplementary card is added below, under the head
		}
		n := 1
		if !rec.dup && r.Float64() < 0.2 && p.beh == behNone {
			n = 2
		}
		for i := 0; i < n; i++ {
			h.accounts = append(h.accounts, w.newCardAccount(r, ids.next(), h, cardTier(r, p)))
		}
	}
	// Supplementary cards: the family member holds a card on the head's account
	// family, linked by primary_holder_id.
	for _, h := range book.holders {
		p := h.rec.p
		if !p.suppCard || h.rec.dup {
			continue
		}
		head := first[p.head]
		tier := "GOLD"
		if len(head.accounts) > 0 {
			tier = head.accounts[0].tier
		}
		a := w.newCardAccount(r, ids.next(), h, tier)
		a.primary, a.status = head, "ACTIVE"
		a.open = max(a.open, head.accounts[0].open+day(r.IntN(400)))
		h.accounts = append(h.accounts, a)
	}
	for _, h := range book.holders {
		book.accounts = append(book.accounts, h.accounts...)
	}
	for _, a := range book.accounts {
		w.planCardActivity(r, a)
	}
	return book
}

func cardTier(r *rand.Rand, p *party) string {
	switch {
	case p.company:
		return []string{"GOLD", "PLATINUM"}[r.IntN(2)]
	case p.beh == behPremiumCard:
		return "CLASSIC"
	case p.tier == tierCore:
		return pick(r, []string{"PLATINUM", "DIAMOND", "INFINITE"}, []int{40, 40, 20})
	case p.tier == tierGrowth:
		return pick(r, []string{"GOLD", "PLATINUM"}, []int{50, 50})
	}
	return pick(r, []string{"CLASSIC", "GOLD"}, []int{60, 40})
}

var tierLimits = map[string][2]int64{
	"CLASSIC": {5_000, 30_000}, "GOLD": {20_000, 80_000}, "PLATINUM": {80_000, 200_000},
	"DIAMOND": {200_000, 500_000}, "INFINITE": {500_000, 1_000_000},
}

func (w *world) newCardAccount(r *rand.Rand, id string, h *cardHolder, tier string) *cardAccount {
	p := h.rec.p
	lim := tierLimits[tier]
	a := &cardAccount{id: id, holder: h, tier: tier, status: "ACTIVE", lastPurchase: noDay,
		limit: (lim[0] + r.Int64N(lim[1]-lim[0]+1)) / 1000 * 1000 * 100,
		open:  w.first - day(30+r.IntN(3000)), last4: pad(r.IntN(10000), 4)}
	if p.beh == behPremiumCard {
		a.limit = 50_000 * 100
	}
	if !p.guard {
		switch x := r.Float64(); {
		case x < 0.03:
			a.status = "FROZEN"
		case x < 0.05:
			a.status = "CLOSED"
		}
	}
	a.capped = tier == "CLASSIC" && p.beh != behPremiumCard
	return a
}

// planCardActivity fixes how many transactions an account makes each day.
func (w *world) planCardActivity(r *rand.Rand, a *cardAccount) {
	days := len(w.days)
	a.counts = make([]int, days)
	p := a.holder.rec.p
	planted := a.primary == nil && a == a.holder.accounts[0]
	switch {
	case planted && p.beh == behDormantCard:
		a.dormant = true
		for d := 0; d < days-3; d++ {
			a.counts[d] = 1 + r.IntN(3)
		}
		return
	case planted && p.beh == behPremiumCard:
		a.premium = int64(uniform(r, 55_000, 120_000)*100) / int64(days)
		for d := range a.counts {
			a.counts[d] = 1 + r.IntN(3)
		}
		return
	}
	if a.status != "ACTIVE" || r.Float64() < 0.15 {
		if days >= 2 && !p.guard && a.primary == nil && r.Float64() < 0.03 {
			a.statusFrom = 1 + r.IntN(days-1)
			a.newStatus = map[string]string{"ACTIVE": "FROZEN", "FROZEN": "ACTIVE", "CLOSED": "CLOSED"}[a.status]
			if a.status == "ACTIVE" && r.IntN(3) == 0 {
				a.newStatus = "CLOSED"
			}
		}
		return
	}
	rate := math.Min(math.Max(math.Exp(r.NormFloat64()*0.7), 0.2), 5)
	early := 0
	for d := range a.counts {
		a.counts[d] = int(rate*uniform(r, 0.5, 1.5) + r.Float64())
		if d < days-3 {
			early += a.counts[d]
		}
	}
	if days >= 5 && early > 0 {
		// The first transaction of each of the last three days is a purchase,
		// so this guarantees two purchases there.
		a.counts[days-1] = max(a.counts[days-1], 1)
		a.counts[days-2] = max(a.counts[days-2], 1)
	}
}

type cardTxn struct {
	acct     *cardAccount
	sec      int
	amount   int64 // in currency, cents
	currency string
	mcc      string
	merchant string
	country  string
	channel  string
	typ      string
	cny      int64 // the amount in CNY, cents
}

var foreignSpots = []struct {
	country, currency, merchant string
	perCNY                      float64 // currency units per CNY
}{
	{"HK", "HKD", "DFS Galleria Hong Kong", 1.09}, {"JP", "JPY", "Uniqlo Ginza", 20.5},
	{"US", "USD", "Apple Fifth Avenue", 0.14}, {"SG", "SGD", "Marina Bay Sands", 0.19},
	{"GB", "GBP", "Harrods", 0.11}, {"FR", "EUR", "Galeries Lafayette", 0.13},
	{"KR", "USD", "Lotte Duty Free", 0.14}, {"TH", "USD", "King Power Duty Free", 0.14},
}

func logUniform(r *rand.Rand, lo, hi int64) int64 {
	return int64(math.Exp(uniform(r, math.Log(float64(lo)), math.Log(float64(hi)))))
}

// dayTxns draws one account's transactions for window day di.
// cardIncome is what the issuer earns on a transaction, in CNY cents
// (-1: nothing, an empty field): a cash advance's fee (1%, at least CNY 10),
// a 1.5% foreign-transaction fee, and interchange on purchases (0.45% at
// home, 1.1% abroad).
func cardIncome(tx *cardTxn) (fee, interchange int64) {
	fee, interchange = -1, -1
	switch {
	case tx.typ == "CASH":
		fee = max(tx.cny/100, 1000)
	case tx.typ == "PURCHASE" && tx.currency != "CNY":
		fee, interchange = tx.cny*150/10000, tx.cny*110/10000
	case tx.typ == "PURCHASE":
		interchange = tx.cny * 45 / 10000
	}
	return fee, interchange
}

func (w *world) dayTxns(r *rand.Rand, a *cardAccount, di int, out []cardTxn) []cardTxn {
	days := len(w.days)
	if w.quiet(a.holder.rec.p, di) {
		return out
	}
	for i := 0; i < a.counts[di]; i++ {
		tx := cardTxn{acct: a, sec: 7*3600 + r.IntN(17*3600), currency: "CNY", country: "CN", typ: "PURCHASE"}
		if r.IntN(50) == 0 {
			tx.sec = r.IntN(7 * 3600)
		}
		if a.premium == 0 && !a.dormant && !(i == 0 && di >= days-3) {
			switch x := r.IntN(100); {
			case x < 6:
				tx.typ = "REPAYMENT"
			case x < 9:
				tx.typ = "CASH"
			case x < 12:
				tx.typ = "REFUND"
			}
		}
		var cny int64
		switch tx.typ {
		case "REPAYMENT":
			cny = logUniform(r, 500, 20_000) * 100
			tx.channel = "ONLINE"
		case "CASH":
			cny = int64(1+r.IntN(30)) * 100 * 100
			tx.mcc, tx.merchant, tx.channel = "6011", "ATM取现", "ATM"
		default:
			m := &merchants[r.IntN(len(merchants))]
			if a.premium > 0 && i == 0 {
				m = &luxuryMerchants[r.IntN(len(luxuryMerchants))]
				cny = int64(float64(a.premium) * uniform(r, 0.8, 1.2))
			} else {
				cny = logUniform(r, m.min, m.max)
				if tx.typ == "REFUND" {
					cny /= 2
				}
			}
			tx.mcc, tx.merchant = m.mcc, m.name
			tx.channel = "POS"
			if strings.Contains(m.name, "|") || strings.Contains(m.name, "商城") || r.IntN(4) == 0 {
				tx.channel = "ONLINE"
			}
		}
		if a.capped && tx.typ == "PURCHASE" {
			if a.spent+cny > classicSpendCapCNY*100 {
				cny = max(classicSpendCapCNY*100-a.spent, 0)
				cny = max(min(cny, 5_000), 1_000)
			}
			a.spent += cny
		}
		tx.amount, tx.cny = cny, cny
		// CLASSIC cards are domestic (UnionPay, CNY only): no foreign spend.
		if tx.typ == "PURCHASE" && a.premium == 0 && a.tier != "CLASSIC" && r.IntN(33) == 0 {
			f := foreignSpots[r.IntN(len(foreignSpots))]
			tx.country, tx.currency, tx.merchant = f.country, f.currency, f.merchant
			tx.amount = int64(float64(cny) * f.perCNY)
			tx.channel = "POS"
		}
		if tx.typ == "PURCHASE" {
			if di < days-3 {
				a.purchasesEarly++
			}
			a.lastPurchase = w.days[di]
			a.purchaseTotal += cny
		}
		out = append(out, tx)
	}
	return out
}

func (w *world) writeCard(ctx context.Context, g *generation) error {
	book := w.buildCard()
	res := g.result(sysCard)
	eHold, _ := contract.Lookup("card", "holders")
	eAcct, _ := contract.Lookup("card", "accounts")
	eTxn, _ := contract.Lookup("card", "txns")
	var f rowFields
	var line []byte
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := newRand(w.o.Seed, "card-day", di)
		D := t.compact()

		df, err := g.create(res, "card/"+eHold.FileName(D), false)
		if err != nil {
			return err
		}
		df.writeHeader(headerLine(eHold, '|'))
		dm := newDamager(w, r, df.rel, cardDamage, false, &res.bad)
		for _, h := range book.holders {
			rec := h.rec
			f.reset()
			f.str(rec.key)
			f.str(rec.name)
			f.str(rec.idType)
			f.str(rec.idNo)
			f.str(rec.mobile)
			f.compactDate(rec.birth)
			f.str(h.employer)
			if h.income > 0 {
				f.money(h.income)
			} else {
				f.next()
			}
			vals := f.values()
			switch dm.decide(!rec.p.guard, df.line) {
			case contract.ReasonMalformed:
				vals = append(vals, []byte("VIP"))
			case contract.ReasonType:
				vals = replaceField(vals, 7, []byte("abc"))
			case contract.ReasonDate:
				vals = replaceField(vals, 5, []byte("20260230"))
			}
			line = appendDelLine(line[:0], vals)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eHold); err != nil {
			return err
		}

		if df, err = g.create(res, "card/"+eAcct.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eAcct, '|'))
		for _, a := range book.accounts {
			f.reset()
			f.str(a.id)
			f.str(a.holder.rec.key)
			if a.primary != nil {
				f.str(a.primary.rec.key)
			} else {
				f.next()
			}
			f.str(a.tier)
			f.money(a.limit)
			f.compactDate(a.open)
			if a.statusFrom > 0 && di >= a.statusFrom {
				f.str(a.newStatus)
			} else {
				f.str(a.status)
			}
			f.str(a.last4)
			line = appendDelLine(line[:0], f.values())
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eAcct); err != nil {
			return err
		}

		var txns []cardTxn
		for _, a := range book.accounts {
			txns = w.dayTxns(r, a, di, txns)
		}
		// Time order, ties in generation order: sort packed (second, index) keys.
		order := make([]uint64, len(txns))
		for i := range txns {
			order[i] = uint64(txns[i].sec)<<32 | uint64(i)
		}
		slices.Sort(order)
		if df, err = g.create(res, "card/"+eTxn.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eTxn, '|'))
		dm = newDamager(w, r, df.rel, cardDamage, di == 0, &res.bad)
		for i, k := range order {
			tx := &txns[k&0xFFFFFFFF]
			f.reset()
			f.buf = append(append(f.buf, "TX"...), D...)
			f.buf = append(f.buf, pad(i+1, 8)...)
			f.next()
			f.str(tx.acct.id)
			f.dateTime(t, tx.sec)
			f.money(tx.amount)
			f.str(tx.currency)
			f.str(tx.mcc)
			f.str(tx.merchant)
			f.str(tx.country)
			f.str(tx.channel)
			f.str(tx.typ)
			fee, interchange := cardIncome(tx)
			f.optMoney(fee)
			f.optMoney(interchange)
			vals := f.values()
			switch dm.decide(!tx.acct.holder.rec.p.guard && w.earlyDay(di), df.line) {
			case contract.ReasonMalformed:
				vals = append(vals, []byte("X"))
			case contract.ReasonType:
				vals = replaceField(vals, 3, []byte("abc"))
			case contract.ReasonDate:
				vals = replaceField(vals, 2, []byte("2026-13-01 00:00:00"))
			}
			line = appendDelLine(line[:0], vals)
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eTxn); err != nil {
			return err
		}
		g.progress("card", di+1, len(w.days))
	}
	for _, a := range book.accounts {
		p := a.holder.rec.p
		if a.primary != nil || a != a.holder.accounts[0] {
			continue
		}
		switch p.beh {
		case behDormantCard:
			res.behaviour(p, behDormantCard, sysCard, a.holder.rec.key,
				"card_account_id="+a.id+";purchases_before_last_3_days="+strconv.Itoa(a.purchasesEarly)+
					";last_purchase_date="+a.lastPurchase.iso()+";no_txns_from="+w.days[len(w.days)-3].iso())
		case behPremiumCard:
			res.behaviour(p, behPremiumCard, sysCard, a.holder.rec.key,
				"card_account_id="+a.id+";product_tier="+a.tier+";purchase_total_cny="+money(a.purchaseTotal))
		}
	}
	return nil
}
