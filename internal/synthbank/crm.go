package synthbank

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"
)

// A synthetic CRM: it answers cdp's signal events the way a bank's CRM
// would, knowing of cdp only what the events carry (the ce_id header and
// the JSON body). Every signal it first sees opened becomes a task for its
// RM, and what became of it is drawn from the seed and the signal id, at
// rates planted per rule (written to the ground truth): the RM accepts it,
// reaches the customer or not, and a reached customer is interested,
// declines, or (rarely) complains; an interested one may convert. Churn
// and risk alerts are calls, never sales.

// SignalMessage is one signal event as read from the broker.
type SignalMessage struct {
	CEID string // the ce_id header
	Body []byte // the JSON body (schemas/signal.json)
}

// CRMOptions shape the answers.
type CRMOptions struct {
	Seed int64
	// Day is the business day the answers happen on (China time).
	Day time.Time
	// Held are the customers cdp held out of its cross-sell rules: the
	// world knows them (the CRM does not); some buy the product unprompted,
	// which the bank's sales records report like any sale.
	Held []HeldOut
	// ZeroUplift are rules whose signals sell nothing more than customers
	// buy unprompted (default xs_bill_pool): their lift is zero.
	ZeroUplift []string
}

// HeldOut is a customer held out of a rule.
type HeldOut struct{ Party, Rule, Product string }

// BaseConversion is the chance a customer a cross-sell rule picks takes its
// product unprompted within the conversion window, planted per rule
// (between 2% and 5%).
func BaseConversion(rule string) float64 {
	h := fnv.New64a()
	h.Write([]byte("base|" + rule))
	return 0.02 + 0.03*float64(h.Sum64()%1000)/1000
}

// CRMRates are the planted rates of one rule.
type CRMRates struct {
	Contact  float64 // a task reaches the customer
	Interest float64 // a reached customer is interested
	Decline  float64 // a reached customer declines (else: no answer yet)
	Convert  float64 // an interested customer converts
	Base     float64 // any customer of the rule buys unprompted (BaseConversion)
}

// Uplift is what the rule's signal adds to a customer's chance of
// converting: P(treated converts) − P(held out converts).
func (r CRMRates) Uplift() float64 {
	prompted := r.Contact * r.Interest * r.Convert
	return (1 - r.Base) * prompted
}

// CRMAnswer is what the CRM answered: outcome messages for crm.outcomes
// and the ground truth.
type CRMAnswer struct {
	Outcomes []StreamEvent
	Signals  int                 // signals answered
	Rates    map[string]CRMRates // by rule
	Truth    [][]string          // outcome_id, ce_id, signal_id, rule_id, status, amount
}

// crmRates plants a rule's rates from its id: cross-sell rules convert
// between about 8% and 30% of the interested, each rule its own.
func crmRates(rule, kind string, zero []string) CRMRates {
	h := fnv.New64a()
	h.Write([]byte(rule))
	u := float64(h.Sum64()%1000) / 1000
	if kind != "cross_sell" {
		return CRMRates{Contact: 0.8}
	}
	r := CRMRates{Contact: 0.6 + 0.2*u, Interest: 0.25 + 0.2*u, Decline: 0.35, Convert: 0.3 + 0.4*u, Base: BaseConversion(rule)}
	if slices.Contains(zero, rule) {
		r.Convert = 0
	}
	return r
}

// RatesOf are the rates the CRM plants for a cross-sell rule.
func RatesOf(rule string, zeroUplift []string) CRMRates {
	if zeroUplift == nil {
		zeroUplift = []string{"xs_bill_pool"}
	}
	return crmRates(rule, "cross_sell", zeroUplift)
}

// AnswerSignals answers every signal first seen opened in msgs, once.
func AnswerSignals(msgs []SignalMessage, o CRMOptions) (*CRMAnswer, error) {
	type event struct {
		SignalID string `json:"signal_id"`
		State    string `json:"state"`
		RuleID   string `json:"rule_id"`
		Kind     string `json:"kind"`
		PartyID  string `json:"party_id"`
		RMID     string `json:"rm_id"`
		Product  string `json:"product"`
	}
	if o.ZeroUplift == nil {
		o.ZeroUplift = []string{"xs_bill_pool"}
	}
	ans := &CRMAnswer{Rates: map[string]CRMRates{}}
	seen := map[string]bool{}
	day := o.Day.Format("2006-01-02")
	for _, m := range msgs {
		if m.Body == nil {
			continue
		}
		var e event
		if err := json.Unmarshal(m.Body, &e); err != nil {
			return nil, fmt.Errorf("synthbank crm: event %s: %w", m.CEID, err)
		}
		if e.State != "opened" || seen[e.SignalID] {
			continue
		}
		seen[e.SignalID] = true
		rates := crmRates(e.RuleID, e.Kind, o.ZeroUplift)
		ans.Rates[e.RuleID] = rates
		ans.Signals++
		r := rand.New(rand.NewPCG(uint64(o.Seed), fnvOf(e.SignalID)))
		minute := 9*60 + r.IntN(6*60)
		step := 0
		emit := func(status, product string, amount float64) {
			step++
			id := fmt.Sprintf("CRM-%s-%d", e.SignalID[:16], step)
			at := fmt.Sprintf("%sT%02d:%02d:00+08:00", day, minute/60, minute%60)
			minute += 5 + r.IntN(40)
			out := map[string]any{"outcome_id": id, "ce_id": m.CEID, "status": status, "outcome_time": at, "rm_id": e.RMID}
			if product != "" {
				out["product"] = product
			}
			amt := ""
			if amount > 0 {
				out["amount"] = amount
				amt = fmt.Sprintf("%.2f", amount)
			}
			body, _ := json.Marshal(out)
			ans.Outcomes = append(ans.Outcomes, StreamEvent{Key: []byte(e.PartyID), Value: body})
			ans.Truth = append(ans.Truth, []string{id, m.CEID, e.SignalID, e.RuleID, status, amt})
		}
		// Whether the customer buys unprompted is drawn first, from the
		// customer and the rule alone, as for one held out.
		unprompted := buysUnprompted(o.Seed, e.PartyID, e.RuleID, rates.Base)
		converted := false
		emit("ACCEPTED", "", 0)
		if r.Float64() >= rates.Contact {
			emit("UNREACHABLE", "", 0)
		} else {
			emit("CONTACTED", "", 0)
			if e.Kind == "cross_sell" {
				switch x := r.Float64(); {
				case x < 0.01:
					emit("COMPLAINT", e.Product, 0)
				case x < 0.01+rates.Interest:
					emit("INTERESTED", e.Product, 0)
					if r.Float64() < rates.Convert || unprompted {
						emit("CONVERTED", e.Product, amountOf(r))
						converted = true
					}
				case x < 0.01+rates.Interest+rates.Decline && !unprompted:
					emit("DECLINED", e.Product, 0)
				}
			}
		}
		if unprompted && !converted && e.Kind == "cross_sell" {
			ans.sale(e.PartyID, e.RuleID, e.Product, day, amountOf(r))
		}
	}
	// The held-out customers the world has buy at the base rate; the
	// bank's sales records report it (a task, no ce_id).
	for _, h := range o.Held {
		rates := crmRates(h.Rule, "cross_sell", o.ZeroUplift)
		ans.Rates[h.Rule] = rates
		if buysUnprompted(o.Seed, h.Party, h.Rule, rates.Base) {
			r := rand.New(rand.NewPCG(uint64(o.Seed), fnvOf("amount|"+h.Party+"|"+h.Rule)))
			ans.sale(h.Party, h.Rule, h.Product, day, amountOf(r))
		}
	}
	sort.SliceStable(ans.Truth, func(i, j int) bool { return ans.Truth[i][0] < ans.Truth[j][0] })
	return ans, nil
}

// buysUnprompted: whether a customer a rule picked takes its product in
// the window without being asked, the same whether treated or held out.
func buysUnprompted(seed int64, party, rule string, base float64) bool {
	r := rand.New(rand.NewPCG(uint64(seed), fnvOf("unprompted|"+party+"|"+rule)))
	return r.Float64() < base
}

func amountOf(r *rand.Rand) float64 { return float64(int64(50_000+r.Float64()*1_950_000) / 100 * 100) }

// sale reports a purchase the bank's sales records show, not tied to a
// signal: an outcome of a task, naming the customer and the product.
func (ans *CRMAnswer) sale(party, rule, product, day string, amount float64) {
	id := fmt.Sprintf("SALE-%016x", fnvOf(party+"|"+rule+"|"+day))
	body, _ := json.Marshal(map[string]any{"outcome_id": id, "task_id": id, "party_id": party, "status": "CONVERTED",
		"product": product, "amount": amount, "outcome_time": day + "T16:00:00+08:00"})
	ans.Outcomes = append(ans.Outcomes, StreamEvent{Key: []byte(party), Value: body})
	ans.Truth = append(ans.Truth, []string{id, "", "", rule, "CONVERTED", fmt.Sprintf("%.2f", amount)})
}

func fnvOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// WriteCRMTruth writes what the CRM answered (crm_outcomes.csv) and the
// rates it planted per rule (crm_rates.csv) to the ground truth folder.
func WriteCRMTruth(dir string, ans *CRMAnswer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rules := make([]string, 0, len(ans.Rates))
	for r := range ans.Rates {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	var rates [][]string
	for _, r := range rules {
		x := ans.Rates[r]
		rates = append(rates, []string{r, ftoa(x.Contact), ftoa(x.Interest), ftoa(x.Decline), ftoa(x.Convert), ftoa(x.Base), ftoa(x.Uplift())})
	}
	for _, f := range []struct {
		name   string
		header []string
		rows   [][]string
	}{
		{"crm_outcomes.csv", []string{"outcome_id", "ce_id", "signal_id", "rule_id", "status", "amount"}, ans.Truth},
		{"crm_rates.csv", []string{"rule_id", "p_contact", "p_interest", "p_decline", "p_convert", "p_base", "uplift"}, rates},
	} {
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		cw.Write(f.header)
		cw.WriteAll(f.rows)
		if err := cw.Error(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("synthbank crm: %w", err)
		}
	}
	return nil
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
