package signals

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"cdp/outbox"
	"cdp/warehouse"
)

// Event is the JSON body of a signal event (schemas/signal.json).
type Event struct {
	SignalID   string          `json:"signal_id"`
	State      string          `json:"state"` // opened | updated | closed | expired
	RuleID     string          `json:"rule_id"`
	RuleName   string          `json:"rule_name"`
	RuleNameZH string          `json:"rule_name_zh"`
	Kind       string          `json:"kind"`
	PartyID    string          `json:"party_id"`
	PartyType  string          `json:"party_type,omitempty"`
	PartyName  string          `json:"party_name,omitempty"`
	Tier       string          `json:"tier,omitempty"`
	RMID       string          `json:"rm_id,omitempty"`
	Branch     string          `json:"branch_code,omitempty"`
	Score      float64         `json:"score"`
	Priority   string          `json:"priority"`
	Reason     string          `json:"reason"`
	Action     string          `json:"action"`
	ReasonZH   string          `json:"reason_zh,omitempty"`
	ActionZH   string          `json:"action_zh,omitempty"`
	Product    string          `json:"product,omitempty"`
	Channel    string          `json:"channel,omitempty"` // the channel the rule asks the RM to use, if it names one
	Evidence   json.RawMessage `json:"evidence"`
	OpenedOn   string          `json:"opened_on"`
	ValidUntil string          `json:"valid_until"`
	ClosedOn   string          `json:"closed_on,omitempty"`
	AsOf       string          `json:"as_of"`
	// OptedOut are the channels the customer opted out of marketing on
	// (the contact feed's consents), for the CRM to respect.
	OptedOut []string `json:"opted_out_channels,omitempty"`
	// OwnerID is who takes the signal: the member of the party's service
	// team in TeamRole, else its RM (owner_type team_member); for a party
	// without a team, its branch's queue (branch_queue, the branch code),
	// else the unassigned queue (unassigned_queue).
	OwnerID   string `json:"owner_id"`
	OwnerType string `json:"owner_type"`
	TeamRole  string `json:"team_role"`
	// Assignees are the team members it goes to: the owner and, when the
	// owner is a specialist, the RM as well (a risk alert reaches the risk
	// specialist and the RM).
	Assignees []Assignee `json:"assignees,omitempty"`
}

// Assignee is one team member a signal goes to.
type Assignee struct {
	MemberID string `json:"member_id"`
	Role     string `json:"role"`
}

// Owner types of a signal event.
const (
	OwnerMember     = "team_member"
	OwnerBranch     = "branch_queue"
	OwnerUnassigned = "unassigned_queue"
)

type partyInfo struct {
	typ, name, tier, rm, branch string
	team                        map[string][]string // role → member ids, in order
}

// owner is who takes a signal for role (Event.OwnerID).
func (p partyInfo) owner(role, unassigned string) (id, typ string, to []Assignee) {
	if m := p.team[role]; len(m) > 0 {
		to = append(to, Assignee{m[0], role})
	}
	if rm := p.team["RM"]; len(rm) > 0 && role != "RM" {
		to = append(to, Assignee{rm[0], "RM"})
	}
	switch {
	case len(to) > 0:
		return to[0].MemberID, OwnerMember, to
	case p.branch != "":
		return p.branch, OwnerBranch, nil
	}
	return unassigned, OwnerUnassigned, nil
}

// signalEvents builds one outbox event per transition.
func signalEvents(ctx context.Context, conn *sql.Conn, byID map[string]*Rule, changed []*signal, transitions map[*signal]string, asOf string, optedOut map[string][]string, unassigned string, o RunOptions) ([]outbox.Event, error) {
	var moved []*signal
	for _, s := range changed {
		if transitions[s] != "" {
			moved = append(moved, s)
		}
	}
	if len(moved) == 0 {
		return nil, nil
	}
	info, err := partyInfos(ctx, conn, moved, asOf)
	if err != nil {
		return nil, err
	}
	events := make([]outbox.Event, 0, len(moved))
	for _, s := range moved {
		state := transitions[s]
		p := info[s.Party]
		e := Event{
			SignalID: s.ID, State: state, RuleID: s.Rule, Kind: s.Kind, PartyID: s.Party,
			PartyType: p.typ, PartyName: p.name, Tier: p.tier, RMID: p.rm, Branch: p.branch,
			Score: s.Score, Priority: s.Priority, Reason: s.Reason, Action: s.Action, Product: s.Product,
			ReasonZH: s.ReasonZH, ActionZH: s.ActionZH,
			Evidence: json.RawMessage(s.Evidence), OpenedOn: s.Opened, ValidUntil: s.Expires, ClosedOn: s.Closed, AsOf: asOf,
			OptedOut: optedOut[s.Party],
		}
		e.TeamRole = "RM"
		if r := byID[s.Rule]; r != nil {
			e.RuleName, e.RuleNameZH, e.TeamRole, e.Channel = r.NameEN, r.NameZH, r.Role(), r.Channel
		} else {
			e.RuleName, e.RuleNameZH = s.Rule, s.Rule
		}
		e.OwnerID, e.OwnerType, e.Assignees = p.owner(e.TeamRole, unassigned)
		body, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		events = append(events, outbox.Event{
			ID:    outbox.EventID(s.ID, state, asOf, strconv.FormatFloat(s.Score, 'f', -1, 64)),
			Topic: Topic(s.Kind), Key: s.Party, Type: "cdp.signal." + state,
			Source: "/cdp/signals/" + s.Rule, Subject: s.Party, Time: o.Now, Data: body, Producer: o.RunID,
		})
	}
	return events, nil
}

// partyInfos reads what an event says about each party: type, name, tier,
// relationship manager, branch (never ID numbers or mobiles) and its
// service team on asOf (core.team_as_of).
func partyInfos(ctx context.Context, conn *sql.Conn, ss []*signal, asOf string) (map[string]partyInfo, error) {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_signal_parties (party_id VARCHAR)`); err != nil {
		return nil, err
	}
	var ids [][]any
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s.Party] {
			seen[s.Party] = true
			ids = append(ids, []any{s.Party})
		}
	}
	if err := warehouse.InsertRows(ctx, conn, "cdp_signal_parties", ids); err != nil {
		return nil, err
	}
	tier := "CAST(NULL AS VARCHAR)"
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart' AND table_name = 'value_tier'`).Scan(&n); err != nil {
		return nil, err
	}
	join := ""
	if n > 0 {
		tier, join = "v.tier", "LEFT JOIN mart.value_tier v USING (party_id)"
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT party_id, p.party_type, coalesce(p.name, ''), coalesce(%s, ''),
		coalesce(p.rm_id, ''), coalesce(p.branch_code, '')
		FROM cdp_signal_parties JOIN core.party p USING (party_id) %s`, tier, join))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]partyInfo{}
	for rows.Next() {
		var id string
		var p partyInfo
		if err := rows.Scan(&id, &p.typ, &p.name, &p.tier, &p.rm, &p.branch); err != nil {
			return nil, err
		}
		out[id] = p
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	team, err := conn.QueryContext(ctx, `SELECT party_id, role, member_id FROM core.team_as_of(DATE `+warehouse.Literal(asOf)+`)
		WHERE party_id IN (SELECT party_id FROM cdp_signal_parties) ORDER BY party_id, role, source DESC, member_id`)
	if err != nil {
		return nil, fmt.Errorf("service teams (core.team_as_of): %w", err)
	}
	defer team.Close()
	for team.Next() {
		var id, role, member string
		if err := team.Scan(&id, &role, &member); err != nil {
			return nil, err
		}
		p, ok := out[id]
		if !ok {
			continue
		}
		if p.team == nil {
			p.team = map[string][]string{}
		}
		p.team[role] = append(p.team[role], member)
		out[id] = p
	}
	return out, team.Err()
}
