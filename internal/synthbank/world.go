package synthbank

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The world is the bank's real-world truth: who the parties are, which systems
// know them under which keys, how they are related, and which behaviours are
// planted. It is built once, single-threaded, from one seeded stream; the feed
// writers then only read it (each feed owns the mutable state of its own
// products), so generating the feeds in parallel stays deterministic.

type system int

const (
	sysCredit system = iota
	sysWealth
	sysCard
	sysEbank
	sysCore // 核心银行系统: every customer with an account, deposits, settlements
	numSystems
)

var systemNames = [numSystems]string{"credit", "wealth", "card", "ebank", "core_banking"}

type tier uint8

const (
	tierCore tier = iota
	tierGrowth
	tierBase
)

func (t tier) String() string { return [...]string{"core", "growth", "base"}[t] }

// Tier bands. A company's tier follows its annual revenue, a person's its AUM
// (sum of wealth holdings on the first delivered day). Values are drawn
// long-tailed (lognormal) inside each band and kept at least 5% away from the
// band edges, so daily market drift never moves a party across a band.
const (
	CoreRevenueMinCNY   = 500_000_000 // 战略核心 company: revenue ≥ 5亿
	GrowthRevenueMinCNY = 100_000_000 // 重点培育 company: 1亿 ≤ revenue < 5亿; 潜力挖掘 below
	CoreAUMMinCNY       = 6_000_000   // 战略核心 person: AUM ≥ 600万
	GrowthAUMMinCNY     = 1_000_000   // 重点培育 person: 100万 ≤ AUM < 600万; 潜力挖掘 below
)

// Tier shares of all parties (exact within rounding) and the person share.
const (
	coreShare   = 0.15
	growthShare = 0.35
	personShare = 0.70
)

// behaviour is a pattern planted on a few parties for the signal rules to find.
type behaviour uint8

const (
	behNone behaviour = iota
	behAUMOutflow
	behDepositMaturing
	behCrossBorderNoHedge
	behDormantCard
	behHeavySettlement
	behActivityDrop
	behEarlyRepayment
	behLoanOverdue
	behPremiumCard
	behCompanyNewLoan
	// Planted in the core banking system (plantCoreBehaviours).
	behSettlementDrop
	behDepositNotRenewed
	behNewLargeDeposit
	// Planted from their own stream (plantCoreBehaviours), after the above.
	behCashOutflow
	behFXGrowth
	numBehaviours
)

// firstCoreBehaviour is the first behaviour planted from the core banking
// stream; the ones before it keep the world stream they always drew from.
const firstCoreBehaviour = behSettlementDrop

// Behaviour names as written to truth/behaviours.csv.
const (
	BehaviourAUMOutflow         = "aum_outflow"
	BehaviourDepositMaturing    = "deposit_maturing"
	BehaviourCrossBorderNoHedge = "cross_border_no_hedge"
	BehaviourDormantCard        = "dormant_card"
	BehaviourHeavySettlement    = "heavy_settlement_low_credit"
	BehaviourActivityDrop       = "activity_drop"
	BehaviourEarlyRepayment     = "early_repayment"
	BehaviourLoanOverdue        = "loan_overdue"
	BehaviourPremiumCard        = "premium_card_candidate"
	BehaviourCompanyNewLoan     = "company_new_loan"
	BehaviourSettlementDrop     = "settlement_drop"
	BehaviourDepositNotRenewed  = "deposit_not_renewed"
	BehaviourNewLargeDeposit    = "new_large_deposit"
	BehaviourCashOutflow        = "cash_outflow_anomaly"
	BehaviourFXGrowth           = "cross_border_growth"
)

// Planting parameters: the values planted parties reach and the bounds every
// other party is kept inside (see truth/README.md for the resulting rules).
const (
	fxHedgeForwardPrefix        = "FXFWD"
	fxHedgeOptionPrefix         = "FXOPT"
	heavySettlementMinDailyCNY  = 6_000_000 // planted: every day's settlement volume ≥ 0.9 × this
	normalSettlementMaxDailyCNY = 1_500_000 // others: daily volume ≤ 1.1 × this unless backed by a big loan
	bigLoanVolumeMultiple       = 25        // others above the cap hold a loan ≥ 25 × daily volume
	premiumMinAUMCNY            = 2_000_000 // premium candidates hold at least 1.05 × this
	classicSpendCapCNY          = 25_000    // non-planted CLASSIC accounts spend less over the window
	largeDepositCNY             = 1_000_000 // planted maturing deposits are at least this
	nonPlantedMaturingMaxCNY    = 500_000   // others' deposits maturing within 30 days after End are smaller
	depositMaturingWindowDays   = 30
	settlementDropMaxShare      = 0.45      // planted: the second half's daily settlement volume ≤ this × the first half's
	settlementDropMinDailyCNY   = 150_000   // planted settlement drops are of companies settling at least this a day
	newLargeDepositMinCNY       = 1_000_000 // planted new large time deposits and unrenewed maturities are at least this
	cashOutflowMinMultiple      = 4         // planted: one day's extra payment out is 4–6 × the company's daily settlement volume
	ladderMinDailyCNY           = 50_000    // truth/ladder.csv: companies settling at least this a day, with e-banking and no credit
	concentrationMinDailyCNY    = 50_000    // truth/buyer_concentration.csv: companies receiving at least this a day
	chainAnchorMinClients       = 3         // truth/chain_prospects.csv: a core enterprise settles with this many client companies
	chainLeadMinPayments        = 3         // and a lead is a counterparty of at least this many of its settlements
)

var behaviourNames = [numBehaviours]string{
	"", BehaviourAUMOutflow, BehaviourDepositMaturing, BehaviourCrossBorderNoHedge,
	BehaviourDormantCard, BehaviourHeavySettlement, BehaviourActivityDrop,
	BehaviourEarlyRepayment, BehaviourLoanOverdue, BehaviourPremiumCard, BehaviourCompanyNewLoan,
	BehaviourSettlementDrop, BehaviourDepositNotRenewed, BehaviourNewLargeDeposit, BehaviourCashOutflow,
	BehaviourFXGrowth,
}

// behaviourRates is the share of eligible parties each behaviour is planted on.
var behaviourRates = [numBehaviours]float64{
	behAUMOutflow:         0.03,
	behDepositMaturing:    0.04,
	behCrossBorderNoHedge: 0.04,
	behDormantCard:        0.03,
	behHeavySettlement:    0.03,
	behActivityDrop:       0.03,
	behEarlyRepayment:     0.03,
	behLoanOverdue:        0.03,
	behPremiumCard:        0.08,
	behCompanyNewLoan:     0.04,
	behSettlementDrop:     0.15,
	behDepositNotRenewed:  0.04,
	behNewLargeDeposit:    0.04,
	behCashOutflow:        0.05,
	behFXGrowth:           0.15,
}

type party struct {
	idx     int
	id      string
	company bool
	tier    tier

	// persons
	sur    hanzi
	given  []hanzi
	male   bool
	birth  day
	region string

	// companies
	city    *city
	ind     *industry
	brandPY string
	enName  string
	licence string
	revenue int64 // cents

	name   string
	idNo   string // canonical: 18-digit resident ID or USCC
	mobile string
	aum    int64 // cents; persons: target AUM on the first day (0 = no wealth relationship)

	in   [numSystems]int // records per system: 0 absent, 1, or 2 (duplicate customer record)
	recs [numSystems][]*record

	beh   behaviour
	guard bool // rows never damaged: planted parties and the clean negatives rules rely on

	legalRep     *party
	head         *party // family head, for a family member
	sharesMobile bool
	suppCard     bool  // holds a supplementary card under the head's account
	trader       bool  // company that settles cross-border every day and hedges it
	hedger       bool  // holds FX hedge products
	bigLoan      bool  // settlement volume above the cap, backed by a big loan
	settleDaily  int64 // cents; company's daily CNY settlement volume in ebank
	founded      day   // a company in credit: its founding day (set by the credit writer)
}

// record is one customer record in one system: the key and the identity
// fields as that system holds them.
type record struct {
	p      *party
	sys    system
	key    string
	dup    bool
	name   string
	idType string
	idNo   string
	mobile string
	birth  day
}

type link struct {
	a, b *party
	kind string
}

type world struct {
	o       Options
	days    []day // delivered business dates, oldest first
	first   day
	end     day
	parties []*party
	links   []link
	recs    [numSystems][]*record
	core    map[*party]*coreParty // what core banking holds beyond the records
	// ladder: companies settling with the bank and using its e-banking
	// but without credit (the core banking writer finds them; truth/ladder.csv)
	ladder []ladderParty
	// majorOf: the planted major buyer of a supplier (downstream risk);
	// concentrated: companies one counterparty brings most inflows to
	majorOf      map[*party]*party
	concentrated []concentration
	// exposed: companies with an active loan on the last day (written by
	// the credit writer); ext: what the external feed planted (written by
	// its writer, after the others)
	exposed map[*party]bool
	ext     externalTruth
	// cpPayments: each company's core banking settlements (undamaged, no
	// payroll) per counterparty name, written by the core banking writer
	cpPayments map[*party]map[string]int
}

// concentration is a company most of whose inflows come from one payer.
type concentration struct {
	p     *party
	payer string
	share float64
}

// ladderParty is a company on the ladder and its settlement volume a day
// (cents, the rows delivered undamaged).
type ladderParty struct {
	p     *party
	daily int64
}

// newRand returns a PCG stream for one named purpose, so each feed (and each
// day inside it) draws from its own independent, reproducible sequence.
func newRand(seed int64, stream string, n int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return rand.New(rand.NewPCG(uint64(seed)*0x9E3779B97F4A7C15+uint64(n), h.Sum64()))
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// quiet says whether party p does nothing of its own on window day di:
// with Options.Activity in (0, 1), each unguarded party acts on a day with
// that probability, drawn from a stream of its own for the party and day
// (so the choice does not move any other draw). A quiet party makes no
// card purchases, e-banking events, discretionary trades or settlements.
func (w *world) quiet(p *party, di int) bool {
	a := w.o.Activity
	if a <= 0 || a >= 1 || p.guard {
		return false
	}
	x := uint64(w.o.Seed)*0x9E3779B97F4A7C15 ^ uint64(p.idx)<<20 ^ uint64(di)
	// splitmix64's finaliser: a uniform draw from (seed, party, day)
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11)/(1<<53) >= a
}

// lognormalIn draws exp(N(mu, sigma)) until it falls inside [lo, hi].
func lognormalIn(r *rand.Rand, median, sigma, lo, hi float64) float64 {
	for i := 0; i < 64; i++ {
		v := median * math.Exp(sigma*r.NormFloat64())
		if v >= lo && v <= hi {
			return v
		}
	}
	return lo + (hi-lo)*r.Float64()
}

func buildWorld(o Options) *world {
	w := &world{o: o, exposed: map[*party]bool{}, cpPayments: map[*party]map[string]int{}}
	w.end = dayOfTime(o.End)
	w.first = w.end - day(o.Days-1)
	for d := w.first; d <= w.end; d++ {
		w.days = append(w.days, d)
	}
	r := newRand(o.Seed, "world", 0)
	w.makeParties(r)
	w.makeFamilies(r)
	w.makeIdentities(r)
	w.makeMemberships(r)
	w.plantBehaviours(r)
	w.makeRecords(r)
	w.makeCoreRecords()
	return w
}

// makeParties fixes kind and tier of every party: 70% persons, tiers 15/35/50
// exactly (within rounding) overall and within each kind.
func (w *world) makeParties(r *rand.Rand) {
	n := w.o.Parties
	nP := int(math.Round(float64(n) * personShare))
	nC := n - nP
	core := int(math.Round(float64(n) * coreShare))
	growth := int(math.Round(float64(n) * growthShare))
	coreP := min(int(math.Round(float64(nP)*coreShare)), core)
	growthP := min(int(math.Round(float64(nP)*growthShare)), growth)
	coreC := min(core-coreP, nC)
	growthC := min(growth-growthP, nC-coreC)
	type slot struct {
		company bool
		t       tier
	}
	slots := make([]slot, 0, n)
	add := func(company bool, t tier, k int) {
		for i := 0; i < k; i++ {
			slots = append(slots, slot{company, t})
		}
	}
	add(false, tierCore, coreP)
	add(false, tierGrowth, growthP)
	add(false, tierBase, nP-coreP-growthP)
	add(true, tierCore, coreC)
	add(true, tierGrowth, growthC)
	add(true, tierBase, nC-coreC-growthC)
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	w.parties = make([]*party, n)
	for i, s := range slots {
		p := &party{idx: i, id: "P" + pad(i+1, 7), company: s.company, tier: s.t}
		w.parties[i] = p
		if p.company {
			w.makeCompany(r, p)
		} else {
			w.makePerson(r, p)
		}
	}
}

func (w *world) makePerson(r *rand.Rand, p *party) {
	p.male = r.IntN(2) == 0
	p.sur, p.given = personName(r, p.male)
	lo, hi := 1950, 2003
	switch p.tier {
	case tierCore:
		hi = 1985
	case tierGrowth:
		lo, hi = 1955, 1995
	}
	p.birth = dayOf(lo, 1, 1) + day(r.IntN(int(dayOf(hi, 12, 31)-dayOf(lo, 1, 1))+1))
	p.region = residentRegions[r.IntN(len(residentRegions))]
	p.name = joinHan(p.sur, p.given)
	switch p.tier { // AUM in CNY, then cents
	case tierCore:
		p.aum = int64(CoreAUMMinCNY*1.05*math.Exp(math.Abs(r.NormFloat64())*0.9)) * 100
	case tierGrowth:
		p.aum = int64(lognormalIn(r, 2_200_000, 0.45, GrowthAUMMinCNY*1.05, CoreAUMMinCNY*0.95)) * 100
	default:
		if r.Float64() < 0.6 {
			p.aum = int64(lognormalIn(r, 120_000, 1.1, 1_000, GrowthAUMMinCNY*0.95)) * 100
		}
	}
	if p.aum > 0 {
		p.aum += int64(r.IntN(100))
	}
}

func (w *world) makeCompany(r *rand.Rand, p *party) {
	var rev float64
	switch p.tier {
	case tierCore:
		rev = CoreRevenueMinCNY * 1.05 * math.Exp(math.Abs(r.NormFloat64())*1.1)
	case tierGrowth:
		rev = lognormalIn(r, 200_000_000, 0.5, GrowthRevenueMinCNY*1.05, CoreRevenueMinCNY*0.95)
	default:
		rev = lognormalIn(r, 20_000_000, 1.2, 500_000, GrowthRevenueMinCNY*0.95)
	}
	p.revenue = int64(rev/10_000) * 10_000 * 100 // revenue is reported in 万元 steps
	p.ind = &industries[r.IntN(len(industries))]
	p.city = &cities[r.IntN(len(cities))]
	p.aum = int64(rev*uniform(r, 0.01, 0.06)) * 100
}

// makeFamilies pairs some persons with a spouse or a grown child: the child
// takes the head's surname and is born 22–35 years later.
func (w *world) makeFamilies(r *rand.Rand) {
	var persons []*party
	for _, p := range w.parties {
		if !p.company {
			persons = append(persons, p)
		}
	}
	if len(persons) < 10 {
		return
	}
	inFamily := make([]bool, len(w.parties))
	for _, h := range persons {
		if inFamily[h.idx] || r.Float64() >= 0.10 {
			continue
		}
		m := persons[r.IntN(len(persons))]
		if m == h || inFamily[m.idx] {
			continue
		}
		inFamily[h.idx], inFamily[m.idx] = true, true
		m.head = h
		childBirth := h.birth + day(365*22+r.IntN(365*13))
		if r.IntN(5) < 2 && childBirth <= dayOf(2003, 12, 31) {
			m.male = r.IntN(2) == 0
			_, m.given = personName(r, m.male)
			m.sur = h.sur
			m.birth = childBirth
		} else {
			m.male = !h.male
			_, m.given = personName(r, m.male)
			m.birth = h.birth + day(r.IntN(365*10)-365*5)
			if m.birth > dayOf(2003, 12, 31) {
				m.birth = dayOf(2003, 12, 31) - day(r.IntN(300))
			}
			if m.birth < dayOf(1950, 1, 1) {
				m.birth = dayOf(1950, 1, 1) + day(r.IntN(300))
			}
		}
		m.name = joinHan(m.sur, m.given)
		m.sharesMobile = r.Float64() < 0.4
		m.suppCard = r.Float64() < 0.5
	}
}

// makeIdentities gives every party its canonical ID, mobile and (companies)
// name, all unique across the bank.
func (w *world) makeIdentities(r *rand.Rand) {
	ids := make(map[string]bool, len(w.parties))
	mobiles := make(map[string]bool, len(w.parties))
	names := make(map[string]bool)
	for _, p := range w.parties {
		if p.company {
			for {
				b1, b2 := brandChars[r.IntN(len(brandChars))], brandChars[r.IntN(len(brandChars))]
				if b1 == b2 {
					continue
				}
				form := legalForms[r.IntN(len(legalForms))]
				brand := b1.han + b2.han
				var name string
				if r.IntN(4) == 0 {
					name = brand + p.ind.word + "（" + p.city.name + "）" + form.cn
				} else {
					name = p.city.name + brand + p.ind.word + form.cn
				}
				if names[name] {
					continue
				}
				names[name] = true
				p.name = name
				p.brandPY = b1.py + b2.py
				p.enName = p.city.en + " " + capitalise(p.brandPY) + " " + p.ind.en + " " + form.en
				break
			}
			for {
				id := uscc(p.city.region, r.IntN(90_000_000))
				if !ids[id] {
					ids[id] = true
					p.idNo = id
					break
				}
			}
			p.licence = licenceNo(p.city.region, r.IntN(90_000_000))
			if r.IntN(10) < 3 {
				p.mobile = landline(r)
				continue
			}
		} else {
			for {
				id := residentID(p.region, p.birth, r.IntN(1000), p.male)
				if !ids[id] {
					ids[id] = true
					p.idNo = id
					break
				}
			}
		}
		for {
			m := mobileNo(r)
			if !mobiles[m] {
				mobiles[m] = true
				p.mobile = m
				break
			}
		}
	}
	for _, p := range w.parties {
		if p.head != nil && p.sharesMobile {
			p.mobile = p.head.mobile
			w.links = append(w.links, link{p.head, p, "shared_mobile"})
		}
	}
	// Legal representatives: core and growth companies are run by core or
	// growth persons where possible.
	var richer, anyone []*party
	for _, p := range w.parties {
		if !p.company {
			anyone = append(anyone, p)
			if p.tier != tierBase {
				richer = append(richer, p)
			}
		}
	}
	for _, p := range w.parties {
		if !p.company || len(anyone) == 0 {
			continue
		}
		if p.tier != tierBase && len(richer) > 0 && r.IntN(4) > 0 {
			p.legalRep = richer[r.IntN(len(richer))]
		} else {
			p.legalRep = anyone[r.IntN(len(anyone))]
		}
	}
}

// makeMemberships decides which systems know each party (1 to 4 of them).
func (w *world) makeMemberships(r *rand.Rand) {
	for _, p := range w.parties {
		if p.company {
			p.in[sysCredit] = b2i(p.tier != tierBase || r.Float64() < 0.85)
			p.in[sysWealth] = b2i(r.Float64() < 0.55)
			p.in[sysEbank] = b2i(r.Float64() < 0.80)
			p.in[sysCard] = b2i(r.Float64() < 0.03)
			if p.in[sysEbank] > 0 && isTradeIndustry(p.ind) && r.Float64() < 0.35 {
				p.trader, p.hedger = true, true
				p.in[sysWealth] = 1
			} else if p.in[sysWealth] > 0 && r.Float64() < 0.05 {
				p.hedger = true
			}
		} else {
			p.in[sysWealth] = b2i(p.aum > 0)
			cardP := [...]float64{0.70, 0.60, 0.45}[p.tier]
			creditP := [...]float64{0.35, 0.25, 0.15}[p.tier]
			p.in[sysCard] = b2i(r.Float64() < cardP)
			p.in[sysEbank] = b2i(r.Float64() < 0.65)
			p.in[sysCredit] = b2i(r.Float64() < creditP)
		}
		if p.in == [numSystems]int{} {
			if p.company {
				p.in[sysCredit] = 1
			} else if r.IntN(2) == 0 {
				p.in[sysEbank] = 1
			} else {
				p.in[sysCard] = 1
			}
		}
	}
	// A supplementary card needs both family members in the card system.
	for _, p := range w.parties {
		if p.head != nil && p.suppCard {
			p.in[sysCard], p.head.in[sysCard] = 1, 1
			w.links = append(w.links, link{p.head, p, "supplementary_card"})
		}
	}
	// About 1% of parties were keyed twice in one system.
	for _, p := range w.parties {
		if r.Float64() < 0.01 {
			var member []system
			for s := system(0); s < numSystems; s++ {
				if p.in[s] > 0 {
					member = append(member, s)
				}
			}
			p.in[member[r.IntN(len(member))]] = 2
		}
	}
	// Core banking knows every party that holds a deposit (every wealth
	// client: its money rests in a demand account) and every company (its
	// settlement account); about 0.5% of them twice. Its own stream, so the
	// other systems' draws are what they were before it existed.
	rc := newRand(w.o.Seed, "core-membership", 0)
	for _, p := range w.parties {
		if p.company || p.in[sysWealth] > 0 {
			p.in[sysCore] = 1
			if rc.Float64() < 0.005 {
				p.in[sysCore] = 2
			}
		}
	}
	// Company settlement volumes in ebank: a share of revenue, capped for
	// companies that do not borrow enough to justify more.
	for _, p := range w.parties {
		if !p.company || p.in[sysEbank] == 0 {
			continue
		}
		v := float64(p.revenue) / 365 * uniform(r, 0.3, 0.8)
		if v > normalSettlementMaxDailyCNY*100 {
			if p.in[sysCredit] > 0 {
				p.bigLoan, p.guard = true, true
			} else {
				v = normalSettlementMaxDailyCNY * 100 * uniform(r, 0.6, 1)
			}
		}
		p.settleDaily = int64(v)
	}
	for _, p := range w.parties {
		if p.trader || p.hedger {
			p.guard = true
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// eligible says whether a behaviour can be planted on a party.
func (w *world) eligible(p *party, b behaviour) bool {
	days := len(w.days)
	single := func(s system) bool { return p.in[s] == 1 }
	for s := system(0); s < numSystems; s++ {
		if p.in[s] > 1 {
			return false // keep planted parties unambiguous: one record per system
		}
	}
	if p.head != nil {
		return false
	}
	switch b {
	case behAUMOutflow:
		return days >= 2 && single(sysWealth) && p.aum >= 10_000_000 && !p.hedger
	case behDepositMaturing:
		return single(sysWealth) && single(sysCore) && p.aum >= 170_000_000 && !p.hedger
	case behSettlementDrop:
		return days >= 6 && p.company && single(sysCore) && !p.trader && !p.bigLoan &&
			w.core[p] != nil && w.core[p].settle >= settlementDropMinDailyCNY*100
	case behFXGrowth:
		return days >= 5 && p.company && p.trader && single(sysEbank)
	case behCashOutflow:
		return days >= 6 && p.company && single(sysCore) && !p.trader && !p.bigLoan &&
			w.core[p] != nil && w.core[p].settle >= settlementDropMinDailyCNY*100
	case behDepositNotRenewed:
		return days >= 3 && single(sysWealth) && single(sysCore) && p.aum >= 2*newLargeDepositMinCNY*100 && !p.hedger
	case behNewLargeDeposit:
		return days >= 3 && single(sysWealth) && single(sysCore) && p.aum >= 3*newLargeDepositMinCNY*100 && !p.hedger
	case behCrossBorderNoHedge:
		return p.company && single(sysEbank) && !p.trader && !p.hedger
	case behHeavySettlement:
		return p.company && single(sysEbank) && !p.trader && !p.bigLoan
	case behDormantCard:
		return days >= 5 && !p.company && single(sysCard) && !p.suppCard
	case behActivityDrop:
		return days >= 5 && single(sysEbank) && !p.trader
	case behEarlyRepayment:
		return days >= 2 && single(sysCredit)
	case behLoanOverdue:
		return days >= 3 && single(sysCredit)
	case behPremiumCard:
		return !p.company && single(sysWealth) && single(sysCard) && p.aum >= premiumMinAUMCNY*105 && !p.suppCard
	case behCompanyNewLoan:
		return days >= 2 && p.company && single(sysCredit)
	}
	return false
}

// plantBehaviours assigns at most one behaviour per party, each to its rate of
// the eligible parties (and at least one party when any is eligible).
func (w *world) plantBehaviours(r *rand.Rand) {
	w.plantFrom(r, 1, firstCoreBehaviour)
	for _, p := range w.parties {
		if p.beh == behHeavySettlement {
			p.settleDaily = int64((heavySettlementMinDailyCNY + uniform(r, 0, 8_000_000)) * 100)
		}
	}
}

// plantFrom plants behaviours [from, to).
func (w *world) plantFrom(r *rand.Rand, from, to behaviour) {
	for b := from; b < to; b++ {
		var cands []*party
		for _, p := range w.parties {
			if p.beh == behNone && w.eligible(p, b) {
				cands = append(cands, p)
			}
		}
		planted := 0
		for _, p := range cands {
			if r.Float64() < behaviourRates[b] {
				p.beh, p.guard = b, true
				planted++
			}
		}
		if planted == 0 && len(cands) > 0 {
			p := cands[r.IntN(len(cands))]
			p.beh, p.guard = b, true
		}
	}
}

// keySeq hands out unique pseudo-random numeric keys: n ↦ (n·mul + off) mod
// space is a bijection because mul is prime to space.
type keySeq struct {
	prefix string
	width  int
	space  uint64
	mul    uint64
	off    uint64
	n      uint64
}

func newKeySeq(r *rand.Rand, prefix string, width int) *keySeq {
	space := uint64(9)
	for i := 1; i < width; i++ {
		space *= 10
	}
	return &keySeq{prefix: prefix, width: width, space: space, mul: 7919, off: r.Uint64N(space)}
}

func (k *keySeq) next() string {
	v := (k.n*k.mul+k.off)%k.space + k.space/9
	k.n++
	return k.prefix + strconv.FormatUint(v, 10)
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// makeRecords creates each party's source records with their keys and the
// system's identity noise, in every system but core banking
// (makeCoreRecords).
func (w *world) makeRecords(r *rand.Rand) {
	seqs := [numSystems]*keySeq{
		sysCredit: newKeySeq(r, "C", 8),
		sysWealth: newKeySeq(r, "W", 8),
		sysCard:   newKeySeq(r, "H", 8),
	}
	logins := make(map[string]bool)
	for _, p := range w.parties {
		for s := system(0); s < sysCore; s++ {
			for k := 0; k < p.in[s]; k++ {
				var key string
				if s == sysEbank {
					key = loginName(r, p, logins)
				} else {
					key = seqs[s].next()
				}
				w.addRecord(r, p, s, k > 0, key)
			}
		}
	}
}

// addRecord creates one source record of a party with the system's
// identity noise.
func (w *world) addRecord(r *rand.Rand, p *party, s system, dup bool, key string) {
	rec := &record{p: p, sys: s, dup: dup, birth: p.birth, key: key}
	n := &systemNoise[s]
	if p.company {
		rec.name = n.noisyCompanyName(r, p)
		rec.idType, rec.idNo = n.noisyCompanyID(r, p)
		rec.birth = noDay
	} else {
		rec.name = n.noisyPersonName(r, p)
		rec.idType, rec.idNo = n.noisyPersonID(r, p)
		if r.Float64() < n.noBirth {
			rec.birth = noDay
		}
	}
	rec.mobile = n.noisyMobile(r, p.mobile)
	if p.guard && p.beh != behNone {
		keepID(rec)
	}
	p.recs[s] = append(p.recs[s], rec)
	w.recs[s] = append(w.recs[s], rec)
}

// keepID gives a planted party's record at least a usable ID, so the
// behaviour can be attributed; noise on names stays.
func keepID(rec *record) {
	if rec.idNo == "" {
		rec.idType, rec.idNo = "ID_CARD", rec.p.idNo
		if rec.p.company {
			rec.idType = "USCC"
		}
	}
}

// loginName derives an ebank login from the real name: "zhangwei88" for a
// person, "corp_hrjm021" style for a company.
func loginName(r *rand.Rand, p *party, taken map[string]bool) string {
	var base string
	if p.company {
		base = "corp_" + p.brandPY
		if r.IntN(2) == 0 {
			base = "corp_" + initials(p.brandPY, p.ind.en)
		}
	} else {
		base = p.sur.py
		for _, g := range p.given {
			base += g.py
		}
		if r.IntN(4) == 0 {
			base = p.sur.py + "_" + strconv.Itoa(p.birthYear()%100)
		}
	}
	name := base
	if r.IntN(3) > 0 || taken[name] {
		name = base + strconv.Itoa(r.IntN(100))
	}
	for taken[name] {
		name = base + strconv.Itoa(100+r.IntN(9900))
	}
	taken[name] = true
	return name
}

func initials(py, en string) string {
	s := ""
	if py != "" {
		s += py[:1]
	}
	for _, f := range strings.Fields(en) {
		c := f[0]
		if c >= 'A' && c <= 'Z' {
			s += string(c + 'a' - 'A')
		}
	}
	return s
}

func (p *party) birthYear() int {
	y, _, _ := p.birth.civil()
	return y
}
