package synthbank

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBehaviours_SuggestedRulesFindExactlyThePlantedParties applies the
// rules suggested in truth/README.md to the delivered feeds (archive plus
// stream, keys resolved to parties through truth/xref.csv) and checks that
// they find the planted parties and nobody else: the precision the signal
// rules can reach is bounded by this.
func TestBehaviours_SuggestedRulesFindExactlyThePlantedParties(t *testing.T) {
	dir, sum, feeds := sharedBank(t)
	o := testOptions(dir).withDefaults()
	w := &world{o: o}
	w.end = dayOfTime(o.End)
	w.first = w.end - day(o.Days-1)
	nDays := o.Days
	dayIndex := func(iso string) int {
		tm, err := time.Parse("2006-01-02", iso[:10])
		if err != nil {
			t.Fatalf("date %q: %v", iso, err)
		}
		return int(dayOf(tm.Year(), int(tm.Month()), tm.Day()) - w.first)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil && s != "" {
			t.Fatalf("number %q: %v", s, err)
		}
		return v
	}

	owner := map[string]string{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "xref.csv"))[1:] {
		owner[r[0]+"/"+r[1]] = r[2]
	}
	kind := map[string]string{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "parties.csv"))[1:] {
		kind[r[0]] = r[1]
	}
	truth := map[string]map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "behaviours.csv"))[1:] {
		if truth[r[1]] == nil {
			truth[r[1]] = map[string]bool{}
		}
		truth[r[1]][r[0]] = true
	}
	found := map[string]map[string]bool{}
	mark := func(b, party string) {
		if party == "" {
			t.Fatalf("%s: unresolved party", b)
		}
		if found[b] == nil {
			found[b] = map[string]bool{}
		}
		found[b][party] = true
	}

	// wealth investments and core banking deposits: the AUM
	aum := map[string][]float64{}
	hedged := map[string]bool{}
	for di, pf := range feeds["wealth.holdings"] {
		for _, r := range pf.rows {
			p := owner["wealth/"+r.vals["client_id"]]
			if aum[p] == nil {
				aum[p] = make([]float64, nDays)
			}
			aum[p][di] += num(r.vals["amount_cny"])
			code := r.vals["product_code"]
			if strings.HasPrefix(code, "FXFWD") || strings.HasPrefix(code, "FXOPT") {
				hedged[p] = true
			}
			if isDeposit(r.vals["product_type"]) {
				t.Errorf("%s:%d: a deposit in wealth; core banking is their system of record", pf.rel, r.line)
			}
		}
	}
	type account struct {
		party, ptype, maturity, renewedFrom string
		amount                              float64
		days                                []int
		open                                int
	}
	accts := map[string]*account{}
	renewed := map[string]bool{}
	for di, pf := range feeds["core_banking.deposits"] {
		for _, r := range pf.rows {
			p := owner["core_banking/"+r.vals["cust_no"]]
			if aum[p] == nil {
				aum[p] = make([]float64, nDays)
			}
			amt := num(r.vals["balance_cny"])
			aum[p][di] += amt
			a := accts[r.vals["acct_no"]]
			if a == nil {
				a = &account{party: p, ptype: r.vals["product_type"], renewedFrom: r.vals["renewed_from"], open: -1}
				if o := r.vals["open_date"]; len(o) == 8 {
					a.open = dayIndex(o[:4] + "-" + o[4:6] + "-" + o[6:])
				}
				accts[r.vals["acct_no"]] = a
			}
			a.amount, a.maturity = amt, r.vals["maturity_date"]
			a.days = append(a.days, di)
			if a.renewedFrom != "" {
				renewed[a.renewedFrom] = true
			}
		}
	}
	compact := func(d string) int { return dayIndex(d[:4] + "-" + d[4:6] + "-" + d[6:]) }
	for no, a := range accts {
		if a.ptype != "TIME_DEPOSIT" && a.ptype != "LARGE_CD" || a.amount < 1_000_000 {
			continue
		}
		last := a.days[len(a.days)-1]
		if m := compact(a.maturity); last == nDays-1 && m > nDays-1 && m <= nDays-1+30 {
			mark(BehaviourDepositMaturing, a.party)
		}
		if m := compact(a.maturity); last < nDays-1 && m <= nDays-1 && !renewed[no] {
			mark(BehaviourDepositNotRenewed, a.party)
		}
		if a.open > 0 && a.renewedFrom == "" {
			mark(BehaviourNewLargeDeposit, a.party)
		}
	}
	for p, a := range aum {
		if a[0] > 0 && a[nDays-1] <= 0.7*a[0] {
			mark(BehaviourAUMOutflow, p)
		}
	}
	// core banking settlements: a company whose daily volume halved from
	// the middle of the window
	half := settlementDropFrom(nDays)
	before, after := map[string]float64{}, map[string]float64{}
	for di, pf := range feeds["core_banking.settlements"] {
		for _, r := range pf.rows {
			if r.reason != "" {
				continue
			}
			p := owner["core_banking/"+r.vals["cust_no"]]
			if di < half {
				before[p] += num(r.vals["amount_cny"]) / float64(half)
			} else {
				after[p] += num(r.vals["amount_cny"]) / float64(nDays-half)
			}
		}
	}
	for p, b := range before {
		if b > 0 && after[p] <= 0.5*b {
			mark(BehaviourSettlementDrop, p)
		}
	}
	// ... and a company that paid out, on one of the last two days, at
	// least twice what it settled (in and out) a day before them
	gross, net := map[string][]float64{}, map[string][]float64{}
	for di, pf := range feeds["core_banking.settlements"] {
		for _, r := range pf.rows {
			if r.reason != "" {
				continue
			}
			p := owner["core_banking/"+r.vals["cust_no"]]
			if gross[p] == nil {
				gross[p], net[p] = make([]float64, nDays), make([]float64, nDays)
			}
			amt := num(r.vals["amount_cny"])
			gross[p][di] += amt
			if r.vals["direction"] == "OUT" {
				net[p][di] += amt
			} else {
				net[p][di] -= amt
			}
		}
	}
	for p, g := range gross {
		base := 0.0
		for _, v := range g[:nDays-2] {
			base += v / float64(nDays-2)
		}
		for di := nDays - 2; di < nDays; di++ {
			if base > 0 && net[p][di] >= 2*base && net[p][di] >= 300_000 {
				mark(BehaviourCashOutflow, p)
			}
		}
	}

	// credit
	custType := map[string]string{}
	for _, pf := range feeds["credit.customers"] {
		for _, r := range pf.rows {
			if r.reason == "" {
				custType[r.vals["cust_no"]] = r.vals["cust_type"]
			}
		}
	}
	type loanDay struct{ status, fiveClass, maturity string }
	loanOn := map[string]map[int]loanDay{}
	firstClass := map[string]string{}
	activeBalance := map[string]float64{}
	for di, pf := range feeds["credit.loans"] {
		for _, r := range pf.rows {
			no, cust := r.vals["loan_no"], r.vals["cust_no"]
			p := owner["credit/"+cust]
			if loanOn[no] == nil {
				loanOn[no] = map[int]loanDay{}
				firstClass[no] = r.vals["five_class"]
			}
			loanOn[no][di] = loanDay{r.vals["status"], r.vals["five_class"], r.vals["maturity_date"]}
			if r.vals["overdue_days"] != "0" || r.vals["five_class"] != firstClass[no] {
				mark(BehaviourLoanOverdue, p)
			}
			if di == nDays-1 && r.vals["status"] == "ACTIVE" && r.vals["currency"] == "CNY" {
				activeBalance[p] += num(r.vals["balance"])
			}
			if s := dayIndex(r.vals["start_date"]); s > 0 && s < nDays && custType[cust] == "C" {
				mark(BehaviourCompanyNewLoan, p)
			}
		}
	}
	for _, pf := range feeds["credit.repayments"] {
		for _, r := range pf.rows {
			if r.reason != "" || r.vals["paid_date"] == "" || num(r.vals["principal_paid"]) <= 0 {
				continue
			}
			no := r.vals["loan_no"]
			di := dayIndex(r.vals["paid_date"])
			ld := loanOn[no][di]
			if ld.status == "SETTLED" && dayIndex(ld.maturity)-di > 365 {
				mark(BehaviourEarlyRepayment, owner["credit/"+custOf(feeds, no)])
			}
		}
	}

	// card
	tierOf := map[string]string{}
	statusOf := map[string]string{}
	holderOf := map[string]string{}
	primaryAcct := map[string]bool{}
	for _, r := range feeds["card.accounts"][nDays-1].rows {
		id := r.vals["card_account_id"]
		tierOf[id], statusOf[id], holderOf[id] = r.vals["product_tier"], r.vals["status"], r.vals["holder_id"]
		primaryAcct[id] = r.vals["primary_holder_id"] == ""
	}
	early, late := map[string]int{}, map[string]int{}
	classicSpend := map[string]float64{}
	for di, pf := range feeds["card.txns"] {
		for _, r := range pf.rows {
			if r.reason != "" || r.vals["txn_type"] != "PURCHASE" {
				continue
			}
			id := r.vals["card_account_id"]
			if di < nDays-3 {
				early[id]++
			} else {
				late[id]++
			}
			if tierOf[id] == "CLASSIC" {
				classicSpend[owner["card/"+holderOf[id]]] += num(r.vals["amount"])
			}
		}
	}
	for id, n := range early {
		if n >= 3 && late[id] == 0 && statusOf[id] == "ACTIVE" {
			mark(BehaviourDormantCard, owner["card/"+holderOf[id]])
		}
	}
	for p, spend := range classicSpend {
		if kind[p] == "person" && spend >= 30_000 && aum[p] != nil && aum[p][nDays-1] >= 2_000_000 {
			mark(BehaviourPremiumCard, p)
		}
	}

	// ebank: archive plus stream, once per event_id
	userType := map[string]string{}
	for _, r := range feeds["ebank.users"][nDays-1].rows {
		userType[r.vals["user_id"]] = r.vals["user_type"]
	}
	seen := map[string]bool{}
	perDay := map[string][]int{}
	cross := map[string]int{}
	crossPerDay := map[string][]int{}
	settle := map[string][]float64{}
	use := func(v map[string]string) {
		if seen[v["event_id"]] {
			return
		}
		seen[v["event_id"]] = true
		u := v["user_id"]
		di := dayIndex(v["ts"])
		if perDay[u] == nil {
			perDay[u], settle[u] = make([]int, nDays), make([]float64, nDays)
		}
		perDay[u][di]++
		switch typ := v["event_type"]; {
		case typ == "FX_SETTLEMENT" || typ == "TRANSFER_OUT" && v["cross_border"] == "true":
			cross[u]++
			if crossPerDay[u] == nil {
				crossPerDay[u] = make([]int, nDays)
			}
			crossPerDay[u][di]++
		}
		switch v["event_type"] {
		case "TRANSFER_IN", "TRANSFER_OUT", "BILL_PAY":
			if v["currency"] == "CNY" {
				settle[u][di] += num(v["amount"])
			}
		}
	}
	for _, pf := range feeds["ebank.events"] {
		for _, r := range pf.rows {
			if r.reason == "" {
				use(r.vals)
			}
		}
	}
	for _, ev := range sum.StreamEvents {
		var obj map[string]any
		if err := json.Unmarshal(ev.Value, &obj); err != nil {
			t.Fatalf("stream event %s: %v", ev.Value, err)
		}
		v := map[string]string{}
		for k, x := range obj {
			switch x := x.(type) {
			case string:
				v[k] = x
			case float64:
				v[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				v[k] = strconv.FormatBool(x)
			}
		}
		if string(ev.Key) != v["user_id"] {
			t.Fatalf("stream key %s for user %s", ev.Key, v["user_id"])
		}
		use(v)
	}
	for u, counts := range perDay {
		p := owner["ebank/"+u]
		base, recent := 0.0, 0.0
		for d, n := range counts {
			if d < nDays-3 {
				base += float64(n) / float64(nDays-3)
			} else {
				recent += float64(n) / 3
			}
		}
		if base >= 3 && recent <= 0.5*base {
			mark(BehaviourActivityDrop, p)
		}
		if userType[u] != "CORPORATE" {
			continue
		}
		// cross-border settlement growing: the last 3 days' count at least
		// 3 a day and twice the earlier days'
		{
			cb, rc := 0.0, 0.0
			for d, n := range crossPerDay[u] {
				if d < nDays-3 {
					cb += float64(n) / float64(nDays-3)
				} else {
					rc += float64(n) / 3
				}
			}
			if cb > 0 && rc >= 3 && rc >= 2*cb {
				mark(BehaviourFXGrowth, p)
			}
		}
		if float64(cross[u])/float64(nDays) >= 1 && !hedged[p] {
			mark(BehaviourCrossBorderNoHedge, p)
		}
		avg := 0.0
		for _, v := range settle[u] {
			avg += v / float64(nDays)
		}
		if avg >= 5_000_000 && activeBalance[p] <= 5*avg {
			mark(BehaviourHeavySettlement, p)
		}
	}

	for _, b := range behaviourNames[1:] {
		var tp, fp []string
		for p := range found[b] {
			if truth[b][p] {
				tp = append(tp, p)
			} else {
				fp = append(fp, p)
			}
		}
		sort.Strings(fp)
		missed := len(truth[b]) - len(tp)
		t.Logf("%-28s planted %3d, found %3d, false %d, missed %d", b, len(truth[b]), len(found[b]), len(fp), missed)
		if len(fp) > 0 {
			t.Errorf("%s: rule flags non-planted parties %v", b, fp[:min(len(fp), 10)])
		}
		if missed > 0 {
			t.Errorf("%s: rule misses %d planted parties", b, missed)
		}
	}
}

func custOf(feeds map[string][]*parsedFile, loanNo string) string {
	for _, r := range feeds["credit.loans"][0].rows {
		if r.vals["loan_no"] == loanNo {
			return r.vals["cust_no"]
		}
	}
	return ""
}
