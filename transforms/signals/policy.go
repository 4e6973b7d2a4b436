package signals

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// One contact policy across every business line and channel (a decision
// system's contact policy, from the warehouse itself). A cross-sell hit is
// held back, and the decision logged with the policy that stopped it, when
// the customer
//
//   - asked not to be contacted, or opted out of marketing on every channel
//     (the contact feed's consents): do_not_contact;
//   - complained in the last ContactPolicy.ComplaintQuietDays (an outcome
//     COMPLAINT): complaint_quiet;
//   - declined the same product in the last DeclineQuietDays (an outcome
//     DECLINED of it): decline_quiet;
//   - opted out of marketing on the channel the rule asks the RM to use
//     (the rule's channel:, an SMS offer to an SMS opt-out): opted_out;
//   - already had the marketing contacts the limit allows in the last
//     CrossSellCapDays — cdp's own cross-sell signals and every line's
//     marketing contacts from the contact feed alike, the limit per tier
//     when TierCaps names one (else CrossSellCap): capped, the old
//     cross-sell cap being this case of the policy;
//   - or, for a rule with a channel, already had the contacts ChannelCaps
//     allows on that channel in the window (every line's on it, and cdp's
//     signals of rules with that channel): capped.
//
// Churn and risk alerts are exempt: they open whatever the policy says, and
// the decision's detail names what the policy would have held them for.
// A signal whose rule names no channel is not held back by a per-channel
// consent; the signal event lists the channels the customer opted out of,
// for the CRM to respect.

// ContactPolicy is signals.contact_policy in cdp.yaml.
type ContactPolicy struct {
	// TierCaps are the marketing contacts allowed per customer in
	// crosssell_cap_days, by tier (core, growth, base); a tier not named
	// has crosssell_cap.
	TierCaps map[string]int `yaml:"tier_caps"`
	// DeclineQuietDays: after a customer declines a product, it is not
	// offered again for this many days. Default 30.
	DeclineQuietDays int `yaml:"decline_quiet_days"`
	// ComplaintQuietDays: after a complaint, no marketing for this many
	// days. Default 90.
	ComplaintQuietDays int `yaml:"complaint_quiet_days"`
	// LineContacts: count the contact feed's marketing contacts (every
	// business line's) against the limit; default true.
	LineContacts *bool `yaml:"line_contacts"`
	// ChannelCaps are the marketing contacts allowed per customer in
	// crosssell_cap_days on one channel (VISIT, PHONE, WECHAT, SMS,
	// EMAIL), for the rules that name their channel; a channel not named
	// has only the overall limit.
	ChannelCaps map[string]int `yaml:"channel_caps"`
}

// Channels a rule may ask the RM to use, as the contact feed names them.
var Channels = []string{"VISIT", "PHONE", "WECHAT", "SMS", "EMAIL"}

// Held is the decision about a hit the contact policy held back for a
// reason other than the limit (which is Capped).
const Held = "held"

// The policies, first words of a held or capped decision's detail.
const (
	PolicyDoNotContact   = "do_not_contact"
	PolicyComplaintQuiet = "complaint_quiet"
	PolicyDeclineQuiet   = "decline_quiet"
	PolicyContactLimit   = "contact_limit"
	PolicyOptedOut       = "opted_out"
)

func (p ContactPolicy) withDefaults() ContactPolicy {
	if p.DeclineQuietDays == 0 {
		p.DeclineQuietDays = 30
	}
	if p.ComplaintQuietDays == 0 {
		p.ComplaintQuietDays = 90
	}
	if p.LineContacts == nil {
		yes := true
		p.LineContacts = &yes
	}
	return p
}

func (p ContactPolicy) check() []string {
	var out []string
	for tier, n := range p.TierCaps {
		switch {
		case tier != "core" && tier != "growth" && tier != "base":
			out = append(out, fmt.Sprintf("contact_policy.tier_caps: %q is not a tier (core, growth or base)", tier))
		case n < 0:
			out = append(out, fmt.Sprintf("contact_policy.tier_caps.%s: must be 0 or more, not %d", tier, n))
		}
	}
	for channel, n := range p.ChannelCaps {
		switch {
		case !slices.Contains(Channels, channel):
			out = append(out, fmt.Sprintf("contact_policy.channel_caps: %q is not a channel (%s)", channel, strings.Join(Channels, ", ")))
		case n < 0:
			out = append(out, fmt.Sprintf("contact_policy.channel_caps.%s: must be 0 or more, not %d", channel, n))
		}
	}
	for key, v := range map[string]int{"decline_quiet_days": p.DeclineQuietDays, "complaint_quiet_days": p.ComplaintQuietDays} {
		if v < 0 {
			out = append(out, fmt.Sprintf("contact_policy.%s: must be 0 or more, not %d", key, v))
		}
	}
	sort.Strings(out)
	return out
}

// policyState is what the policy knows of the customers as of a day.
type policyState struct {
	cfg         Config
	capUsed     map[string]int            // cdp's cross-sell signals opened in the window
	chanUsed    map[string]map[string]int // party → channel → cdp's cross-sell signals of rules with that channel opened in the window
	lineUsed    map[string][]lineContact  // every line's marketing contacts in the window
	tier        map[string]string
	complaint   map[string]string            // party → day of the last complaint in the quiet period
	declined    map[string]map[string]string // party → product → day of the last decline in the quiet period
	noMarketing map[string]string            // party → DO_NOT_CONTACT or OPT_OUT (every channel)
	optedOut    map[string][]string          // party → channels opted out of
	optedOutOn  map[string]map[string]string // party → channel → the day of the opt-out
}

// lineContact is a marketing contact a business line made (the contact
// feed), as the policy counts it.
type lineContact struct{ line, channel, day string }

// loadPolicy reads what the contact policy needs as of asOf, of the
// parties listed in the table named by parties (a party_id column): those
// it decides on or sends events for.
func loadPolicy(ctx context.Context, conn *sql.Conn, cfg Config, byID map[string]*Rule, asOf, parties string) (*policyState, error) {
	p := cfg.ContactPolicy
	listed := func(col string) string { return col + ` IN (SELECT party_id FROM ` + parties + `)` }
	st := &policyState{cfg: cfg, capUsed: map[string]int{}, chanUsed: map[string]map[string]int{}, lineUsed: map[string][]lineContact{}, tier: map[string]string{},
		complaint: map[string]string{}, declined: map[string]map[string]string{}, noMarketing: map[string]string{}, optedOut: map[string][]string{},
		optedOutOn: map[string]map[string]string{}}
	windowStart := addDays(asOf, -cfg.CrossSellCapDays)
	queries := []struct {
		what, sql string
		args      []any
		scan      func(*sql.Rows) error
	}{
		{"the cross-sell signals of the window", `SELECT party_id, rule_id, count(*) FROM mart.signals
			WHERE kind = 'cross_sell' AND opened_on > CAST(? AS DATE) AND opened_on <= CAST(? AS DATE) AND ` + listed("party_id") + ` GROUP BY party_id, rule_id`,
			[]any{windowStart, asOf}, func(r *sql.Rows) error {
				var party, rule string
				var n int
				err := r.Scan(&party, &rule, &n)
				st.capUsed[party] += n
				if ch := byID[rule].channel(); ch != "" {
					st.count(party, ch, n)
				}
				return err
			}},
		{"the complaints", `SELECT party_id, CAST(max(CAST(outcome_time AS DATE)) AS VARCHAR) FROM core.outcome
			WHERE status = 'COMPLAINT' AND ` + listed("party_id") + `
			  AND CAST(outcome_time AS DATE) > CAST(? AS DATE) AND CAST(outcome_time AS DATE) <= CAST(? AS DATE) GROUP BY 1`,
			[]any{addDays(asOf, -p.ComplaintQuietDays), asOf}, func(r *sql.Rows) error {
				var party, day string
				err := r.Scan(&party, &day)
				st.complaint[party] = day
				return err
			}},
		{"the declines", `SELECT o.party_id, coalesce(o.product, s.product), CAST(max(CAST(o.outcome_time AS DATE)) AS VARCHAR)
			FROM core.outcome o LEFT JOIN mart.signals s USING (signal_id)
			WHERE o.status = 'DECLINED' AND ` + listed("o.party_id") + ` AND coalesce(o.product, s.product) IS NOT NULL
			  AND CAST(o.outcome_time AS DATE) > CAST(? AS DATE) AND CAST(o.outcome_time AS DATE) <= CAST(? AS DATE) GROUP BY 1, 2`,
			[]any{addDays(asOf, -p.DeclineQuietDays), asOf}, func(r *sql.Rows) error {
				var party, product, day string
				err := r.Scan(&party, &product, &day)
				if st.declined[party] == nil {
					st.declined[party] = map[string]string{}
				}
				st.declined[party][product] = day
				return err
			}},
		{"the consents", `SELECT party_id, channel, arg_max(consent, effective_at), CAST(CAST(max(effective_at) AS DATE) AS VARCHAR) FROM core.consent
			WHERE ` + listed("party_id") + ` AND CAST(effective_at AS DATE) <= CAST(? AS DATE) GROUP BY 1, 2`,
			[]any{asOf}, func(r *sql.Rows) error {
				var party, channel, consent, since string
				if err := r.Scan(&party, &channel, &consent, &since); err != nil {
					return err
				}
				switch {
				case consent == "DO_NOT_CONTACT", consent == "OPT_OUT" && channel == "ALL":
					st.noMarketing[party] = consent
				case consent == "OPT_OUT":
					st.optedOut[party] = append(st.optedOut[party], channel)
					if st.optedOutOn[party] == nil {
						st.optedOutOn[party] = map[string]string{}
					}
					st.optedOutOn[party][channel] = since
				}
				return nil
			}},
	}
	if *p.LineContacts {
		queries = append(queries, struct {
			what, sql string
			args      []any
			scan      func(*sql.Rows) error
		}{"the lines' marketing contacts", `SELECT party_id, business_line, channel, CAST(CAST(contact_time AS DATE) AS VARCHAR)
			FROM core.contact WHERE purpose = 'MARKETING' AND ce_id IS NULL AND ` + listed("party_id") + `
			  AND CAST(contact_time AS DATE) > CAST(? AS DATE) AND CAST(contact_time AS DATE) <= CAST(? AS DATE)
			ORDER BY party_id, contact_time`, []any{windowStart, asOf}, func(r *sql.Rows) error {
			var party string
			var c lineContact
			err := r.Scan(&party, &c.line, &c.channel, &c.day)
			st.lineUsed[party] = append(st.lineUsed[party], c)
			return err
		}})
	}
	if len(p.TierCaps) > 0 {
		queries = append(queries, struct {
			what, sql string
			args      []any
			scan      func(*sql.Rows) error
		}{"the tiers (mart.value_tier; run cdp tiers)", `SELECT party_id, tier FROM mart.value_tier WHERE ` + listed("party_id"), nil, func(r *sql.Rows) error {
			var party, tier string
			err := r.Scan(&party, &tier)
			st.tier[party] = tier
			return err
		}})
	}
	for _, q := range queries {
		rows, err := conn.QueryContext(ctx, q.sql, q.args...)
		if err != nil {
			return nil, fmt.Errorf("contact policy: %s: %w", q.what, err)
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("contact policy: %s: %w", q.what, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("contact policy: %s: %w", q.what, err)
		}
	}
	for party := range st.optedOut {
		sort.Strings(st.optedOut[party])
	}
	return st, nil
}

// hold says whether the policy holds a hit back (Held or Capped, with the
// policy and why), or lets it through with a note (an alert it exempts).
// A cross-sell hit that then opens counts against the limit (sent).
func (st *policyState) hold(h *hit) (what, why string) {
	p := st.cfg.ContactPolicy
	var reasons []string
	held := func(policy, format string, args ...any) {
		reasons = append(reasons, policy+": "+fmt.Sprintf(format, args...))
	}
	if c, ok := st.noMarketing[h.party]; ok {
		if c == "DO_NOT_CONTACT" {
			held(PolicyDoNotContact, "the customer asked not to be contacted")
		} else {
			held(PolicyDoNotContact, "the customer opted out of marketing on every channel")
		}
	}
	if day, ok := st.complaint[h.party]; ok {
		held(PolicyComplaintQuiet, "complaint on %s; no marketing for %d days after one", day, p.ComplaintQuietDays)
	}
	if day, ok := st.declined[h.party][h.rule.Product]; ok && h.rule.Product != "" {
		held(PolicyDeclineQuiet, "declined %s on %s; not offered again for %d days", h.rule.Product, day, p.DeclineQuietDays)
	}
	if day, ok := st.optedOutOn[h.party][h.rule.Channel]; ok && h.rule.Channel != "" {
		held(PolicyOptedOut, "the customer opted out of %s marketing on %s", h.rule.Channel, day)
	}
	if h.rule.Kind != "cross_sell" {
		if len(reasons) > 0 {
			return Opened, "exempt from the contact policy (an alert): " + strings.Join(reasons, "; ")
		}
		return Opened, ""
	}
	if len(reasons) > 0 {
		return Held, reasons[0]
	}
	limit := st.cfg.CrossSellCap
	if n, ok := p.TierCaps[st.tier[h.party]]; ok {
		limit = n
	}
	ours, lines := st.capUsed[h.party], st.lineUsed[h.party]
	if ours+len(lines) >= limit {
		why := fmt.Sprintf("%d marketing contacts in %d days, the limit %d: %d cross-sell signals", ours+len(lines), st.cfg.CrossSellCapDays, limit, ours)
		if len(lines) > 0 {
			said := make([]string, len(lines))
			for i, c := range lines {
				said[i] = c.line + " " + c.channel + " " + c.day
			}
			why += fmt.Sprintf(" and %d by the lines (%s)", len(lines), strings.Join(said, ", "))
		}
		return Capped, PolicyContactLimit + ": " + why + "; higher scores went first"
	}
	if ch := h.rule.Channel; ch != "" {
		if limit, ok := p.ChannelCaps[ch]; ok {
			lines := 0
			for _, c := range st.lineUsed[h.party] {
				if c.channel == ch {
					lines++
				}
			}
			if ours := st.chanUsed[h.party][ch]; ours+lines >= limit {
				return Capped, fmt.Sprintf("%s: %d %s marketing contacts in %d days, the %s limit %d: %d cross-sell signals and %d by the lines; higher scores went first",
					PolicyContactLimit, ours+lines, ch, st.cfg.CrossSellCapDays, ch, limit, ours, lines)
			}
		}
	}
	return Opened, ""
}

// sent counts a cross-sell signal opened against the limits.
func (st *policyState) sent(h *hit) {
	if h.rule.Kind == "cross_sell" {
		st.capUsed[h.party]++
		if ch := h.rule.Channel; ch != "" {
			st.count(h.party, ch, 1)
		}
	}
}

// count adds n of cdp's signals on channel to party's.
func (st *policyState) count(party, channel string, n int) {
	if st.chanUsed[party] == nil {
		st.chanUsed[party] = map[string]int{}
	}
	st.chanUsed[party][channel] += n
}
