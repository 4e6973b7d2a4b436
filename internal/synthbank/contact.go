package synthbank

import (
	"context"
	"fmt"
	"math/rand/v2"

	"cdp/connectors/contract"
)

// The contact center feed (contract contact): contacts every business line
// made with its customers, and their consents and opt-outs. Customers are
// named by a source system's key, as a CRM that knows nothing of cdp's
// party ids would; outcomes of cdp's signals come from a CRM that reads the
// signal events (not written here).

// Contacts a party gets on a business day, by tier (core, growth, base):
// key accounts are called on far more often.
var contactRate = [...]float64{0.10, 0.03, 0.006}

var (
	contactLinesPerson  = []string{"WEALTH", "CARD", "RETAIL", "PRIVATE_BANKING", "CONTACT_CENTER", "EBANK"}
	contactLinesCompany = []string{"CORPORATE", "CREDIT", "EBANK", "CONTACT_CENTER"}
	contactPurposes     = []string{"MARKETING", "MARKETING", "MARKETING", "SERVICE", "SERVICE", "CARE", "RISK"}
	contactProducts     = map[string][]string{
		"WEALTH": {"WMP", "FUND", "INSURANCE", "LARGE_CD"}, "PRIVATE_BANKING": {"TRUST", "PRIVATE_FUND", "WMP"},
		"CARD": {"PLATINUM", "DIAMOND", "INSTALMENT"}, "RETAIL": {"MORTGAGE", "CONSUMER_LOAN", "TIME_DEPOSIT"},
		"CORPORATE": {"CASH_MGMT", "FX_HEDGE", "SUPPLY_CHAIN"}, "CREDIT": {"WORKING_CAPITAL", "BILL_DISCOUNT", "PROJECT_LOAN"},
	}
)

// member is one assignment of a party's service team (the contact feed's
// roster): a staff id in a role, from and to a day (0: open).
type member struct {
	id, role string
	from, to day
}

// team is the service team of a key account (the seeds' "1+N"; tiers
// core and growth): its RM (the one the CRM records its contacts under)
// and, for companies, a product and a risk specialist (an
// investment-banking one for core companies), for persons an investment
// advisor (every core person, one growth person in two). One company in
// ten changes risk specialist halfway through the generated days: the old
// assignment ends the day before the new one starts.
func (w *world) team(p *party) []member {
	if p.tier != tierCore && p.tier != tierGrowth {
		return nil
	}
	out := []member{{id: contactRM(p), role: "RM"}}
	if !p.company {
		if p.tier == tierCore || p.idx%2 == 0 {
			out = append(out, member{id: "IA" + pad(50000+(p.idx*13)%150, 5), role: "ADVISOR"})
		}
		return out
	}
	out = append(out, member{id: "PM" + pad(20000+(p.idx*31)%120, 5), role: "PRODUCT"})
	risk := member{id: "RK" + pad(30000+(p.idx*17)%80, 5), role: "RISK"}
	if mid := w.days[len(w.days)/2]; p.idx%10 == 0 && len(w.days) > 1 {
		risk.to = mid - 1
		out = append(out, risk, member{id: "RK" + pad(30000+(p.idx*17+1)%80, 5), role: "RISK", from: mid})
	} else {
		out = append(out, risk)
	}
	if p.tier == tierCore {
		out = append(out, member{id: "IB" + pad(40000+p.idx%40, 5), role: "INVESTMENT_BANKING"})
	}
	return out
}

// listEntry is one entry of the approved key-account list.
type listEntry struct {
	p                *party
	reason, approver string
	from, to         day // to 0: until revoked
}

var listReasons = []string{"省级重点项目牵头企业", "产业链核心企业，带动上下游客户", "总行战略合作协议客户", "地方政府重点扶持的专精特新企业"}

// keyAccountList is the approved list (名单制): one company in forty of
// the growth and base tiers, approved as 战略核心 for a strategic reason a
// month before the first day; one entry in four lapses halfway through
// the generated days (its last day the day before the middle one).
func (w *world) keyAccountList() []listEntry {
	var out []listEntry
	for _, p := range w.parties {
		if !p.company || p.tier == tierCore {
			continue
		}
		r := newRand(w.o.Seed, "key-account-list", p.idx)
		if r.Float64() >= 0.025 {
			continue
		}
		e := listEntry{p: p, reason: listReasons[r.IntN(len(listReasons))], approver: "KAM" + pad(100+r.IntN(20), 3), from: w.days[0] - 30}
		if r.IntN(4) == 0 && len(w.days) > 1 {
			e.to = w.days[len(w.days)/2] - 1
		}
		out = append(out, e)
	}
	return out
}

// contactRM is the RM the CRM records a party's contacts under.
func contactRM(p *party) string { return "RM" + pad(10000+(p.idx*7919)%400, 5) }

// contactBy is the staff member who made a contact of business line bl
// on day t: the team's specialist for it where the party has one (the
// risk specialist for the credit line, the product specialist for
// corporate marketing, the advisor for wealth and private banking), else
// the RM.
func (w *world) contactBy(p *party, team []member, bl, purpose string, t day) string {
	want := ""
	switch {
	case bl == "CREDIT":
		want = "RISK"
	case bl == "CORPORATE" && purpose == "MARKETING":
		want = "PRODUCT"
	case bl == "WEALTH" || bl == "PRIVATE_BANKING":
		want = "ADVISOR"
	}
	for _, m := range team {
		if m.role == want && (m.from == 0 || m.from <= t) && (m.to == 0 || t <= m.to) {
			return m.id
		}
	}
	return contactRM(p)
}

// neglectedShare of the parties with a service standard are left
// without their planned service contacts (truth/service_neglected.csv):
// the customers the service reminders should name.
const neglectedShare = 0.15

// planned is one service contact an RM planned to meet a standard.
type planned struct {
	p     *party
	visit bool
	at    int // seconds into the day
}

// serviceStandard is the generator's copy of the default standards:
// contacts and visits per period (a month, or for the base tier a
// quarter) that the RMs plan for.
func serviceStandard(t tier) (contacts, visits int, quarter bool) {
	switch t {
	case tierCore:
		return 4, 2, false
	case tierGrowth:
		return 2, 1, false
	}
	return 3, 1, true
}

// neglected reports whether p's RM leaves it without planned contacts.
func (w *world) neglected(p *party) bool {
	return newRand(w.o.Seed, "service-neglect", p.idx).Float64() < neglectedShare
}

// planService lays out, for every period overlapping [from, to], the
// service contacts each party's RM makes to meet its tier's standard (the
// approved list's tier for a party on it):
// the standard's contacts (one or two more at random), as many visits as
// it asks (sometimes one more), on days in the first 60% of the period,
// so that a served customer has met the standard with 10 days left. A
// neglected party gets none. By day.
func (w *world) planService(from, to day, listed map[*party]bool) map[day][]planned {
	out := map[day][]planned{}
	for _, p := range w.parties {
		if w.neglected(p) {
			continue
		}
		t := p.tier
		if listed[p] {
			t = tierCore
		}
		contacts, visits, quarter := serviceStandard(t)
		y, m, _ := from.civil()
		if quarter {
			m = (m-1)/3*3 + 1
		}
		for start := dayOf(y, m, 1); start <= to; {
			months := 1
			if quarter {
				months = 3
			}
			end := start.addMonths(months)
			r := newRand(w.o.Seed, "service-plan", p.idx*10000+int(start))
			n, v := contacts+r.IntN(2), visits+r.IntN(2)
			span := int(float64(end-start) * 0.6)
			for i := range n {
				d := start + day(r.IntN(span))
				if d >= from && d <= to {
					out[d] = append(out[d], planned{p: p, visit: i < v, at: 9*3600 + r.IntN(9*3600)})
				}
			}
			start = end
		}
	}
	return out
}

// contactKey is the source key a CRM holds for p: its core banking or
// credit record if it has one (those systems deliver every customer every
// day), else its first record anywhere.
func contactKey(p *party) (string, string, bool) {
	for _, s := range []system{sysCore, sysCredit, sysWealth, sysCard, sysEbank} {
		if len(p.recs[s]) > 0 {
			return systemNames[s], p.recs[s][0].key, true
		}
	}
	return "", "", false
}

func (w *world) writeContact(ctx context.Context, g *generation, res *feedResult) error {
	eContacts, _ := contract.Lookup("contact", "contacts")
	eConsents, _ := contract.Lookup("contact", "consents")
	eTeam, _ := contract.Lookup("contact", "team")
	eList, _ := contract.Lookup("contact", "key_accounts")
	list := w.keyAccountList()
	listed := map[*party]bool{}
	for _, e := range list {
		listed[e.p] = true
	}
	var f rowFields
	var line []byte
	teams := make([][]member, len(w.parties))
	for i, p := range w.parties {
		teams[i] = w.team(p)
	}
	// The history the first file carries begins with its quarter.
	y, m, _ := w.days[0].civil()
	historyFrom := dayOf(y, (m-1)/3*3+1, 1)
	plan := w.planService(historyFrom, w.days[len(w.days)-1], listed)
	for di, t := range w.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := newRand(w.o.Seed, "contact-day", di)
		D := t.compact()
		df, err := g.create(res, "contact/"+eContacts.FileName(D), false)
		if err != nil {
			return err
		}
		df.writeHeader(headerLine(eContacts, '|'))
		// The contacts of one day; the first file also carries the contacts
		// since the start of its quarter (the CRM's initial load), so that
		// the service standards are judged on a whole period from the start.
		contactsOf := func(r *rand.Rand, t day) error {
			D := t.compact()
			n := 0
			for _, p := range w.parties {
				if r.Float64() >= contactRate[p.tier] {
					continue
				}
				sys, key, ok := contactKey(p)
				if !ok {
					continue
				}
				lines := contactLinesPerson
				if p.company {
					lines = contactLinesCompany
				}
				bl := lines[r.IntN(len(lines))]
				channel := "PHONE"
				switch x := r.Float64(); {
				case x < [...]float64{0.35, 0.15, 0.05}[p.tier]:
					channel = "VISIT"
				case x < 0.55:
					channel = "PHONE"
				case x < 0.80:
					channel = "WECHAT"
				case x < 0.95:
					channel = "SMS"
				default:
					channel = "EMAIL"
				}
				purpose := contactPurposes[r.IntN(len(contactPurposes))]
				product := ""
				if ps := contactProducts[bl]; purpose == "MARKETING" && len(ps) > 0 {
					product = ps[r.IntN(len(ps))]
				}
				n++
				f.reset()
				f.str(fmt.Sprintf("CT%s%06d", D, n))
				f.next() // party_id: the CRM knows the source key
				f.str(sys)
				f.str(key)
				f.str(bl)
				f.str(channel)
				f.str(w.contactBy(p, teams[p.idx], bl, purpose, t))
				f.dateTime(t, 9*3600+r.IntN(9*3600))
				f.str(purpose)
				f.str(product)
				f.next() // ce_id: contacts the lines made on their own
				line = appendDelLine(line[:0], f.values())
				if err := df.writeRow(line); err != nil {
					return err
				}
			}
			return nil
		}
		// The planned service contacts of one day, by the RM.
		plannedOf := func(d day) error {
			for i, c := range plan[d] {
				sys, key, ok := contactKey(c.p)
				if !ok {
					continue
				}
				bl, channel, purpose := "WEALTH", "PHONE", "SERVICE"
				if c.p.company {
					bl = "CORPORATE"
				}
				if c.visit {
					channel = "VISIT"
				}
				f.reset()
				f.str(fmt.Sprintf("SV%s%06d", d.compact(), i+1))
				f.next()
				f.str(sys)
				f.str(key)
				f.str(bl)
				f.str(channel)
				f.str(contactRM(c.p))
				f.dateTime(d, c.at)
				f.str(purpose)
				f.next() // product
				f.next() // ce_id
				line = appendDelLine(line[:0], f.values())
				if err := df.writeRow(line); err != nil {
					return err
				}
			}
			return nil
		}
		from := t
		if di == 0 {
			from = historyFrom
			for h := historyFrom; h < t; h++ {
				if err := contactsOf(newRand(w.o.Seed, "contact-history", int(h)), h); err != nil {
					return err
				}
			}
		} else {
			from = w.days[di-1] + 1 // and the days since the last business day
		}
		for d := from; d <= t; d++ {
			if err := plannedOf(d); err != nil {
				return err
			}
		}
		if err := contactsOf(r, t); err != nil {
			return err
		}
		if err := g.finish(res, df, eContacts); err != nil {
			return err
		}

		if df, err = g.create(res, "contact/"+eConsents.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eConsents, '|'))
		n := 0
		for _, p := range w.parties {
			x := r.Float64()
			if x >= 0.004 {
				continue
			}
			sys, key, ok := contactKey(p)
			if !ok {
				continue
			}
			channel, consent := []string{"SMS", "PHONE", "WECHAT", "EMAIL"}[r.IntN(4)], "OPT_OUT"
			switch {
			case x < 0.0004:
				channel, consent = "ALL", "DO_NOT_CONTACT"
			case x < 0.001:
				consent = "OPT_IN"
			}
			n++
			f.reset()
			f.str(fmt.Sprintf("CS%s%06d", D, n))
			f.next()
			f.str(sys)
			f.str(key)
			f.str(channel)
			f.str(consent)
			f.dateTime(t, 8*3600+r.IntN(12*3600))
			line = appendDelLine(line[:0], f.values())
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eConsents); err != nil {
			return err
		}

		// The approved key-account list (名单制), whole every day.
		if df, err = g.create(res, "contact/"+eList.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eList, '|'))
		for i, e := range list {
			sys, key, ok := contactKey(e.p)
			if !ok {
				continue
			}
			f.reset()
			f.str(fmt.Sprintf("KA%06d", i+1))
			f.next() // party_id: the CRM knows the source key
			f.str(sys)
			f.str(key)
			f.str("core")
			f.str(e.reason)
			f.str(e.approver)
			f.compactDate(e.from)
			f.compactDate(e.from)
			if e.to == 0 {
				f.next()
			} else {
				f.compactDate(e.to)
			}
			line = appendDelLine(line[:0], f.values())
			if err := df.writeRow(line); err != nil {
				return err
			}
		}
		if err := g.finish(res, df, eList); err != nil {
			return err
		}

		// The roster: the whole of it every day (a snapshot).
		if df, err = g.create(res, "contact/"+eTeam.FileName(D), false); err != nil {
			return err
		}
		df.writeHeader(headerLine(eTeam, '|'))
		for _, p := range w.parties {
			sys, key, ok := contactKey(p)
			if !ok {
				continue
			}
			for i, m := range teams[p.idx] {
				f.reset()
				f.str(fmt.Sprintf("TA%07d%02d", p.idx, i))
				f.next() // party_id: the CRM knows the source key
				f.str(sys)
				f.str(key)
				f.str(m.id)
				f.str(m.role)
				for _, d := range []day{m.from, m.to} {
					if d == 0 {
						f.next()
					} else {
						f.compactDate(d) // as the delimited feeds write dates
					}
				}
				line = appendDelLine(line[:0], f.values())
				if err := df.writeRow(line); err != nil {
					return err
				}
			}
		}
		if err := g.finish(res, df, eTeam); err != nil {
			return err
		}
	}
	return nil
}
