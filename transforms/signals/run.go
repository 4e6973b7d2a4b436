package signals

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"cdp/outbox"
	"cdp/pii"
	"cdp/transforms/core"
	"cdp/warehouse"
)

// RunOptions are one signal run's settings.
type RunOptions struct {
	// AsOf is the business date the run evaluates; zero means the newest
	// snapshot day in core.aum_daily.
	AsOf   time.Time
	RunID  string
	Logger *slog.Logger
	// AllowPII lets ID numbers and mobiles through into reasons and
	// evidence; by default they are masked.
	AllowPII bool
	// Now stamps the events (CloudEvents time); zero means time.Now().
	Now time.Time
}

// Decisions a run takes about a rule hit or an open signal.
const (
	Opened     = "opened"
	Updated    = "updated"
	Unchanged  = "unchanged"
	Suppressed = "suppressed"
	Capped     = "capped" // held back by the contact policy's limit (policy.go)
	Closed     = "closed"
	Expired    = "expired"
)

// RunSummary is what a signal run did.
type RunSummary struct {
	RunID   string                    `json:"run_id"`
	AsOf    string                    `json:"as_of"`
	Rules   int                       `json:"rules"`
	Hits    int                       `json:"hits"`
	Counts  map[string]int            `json:"decisions"`
	ByRule  map[string]map[string]int `json:"by_rule"`
	Events  int                       `json:"events"`
	Seconds float64                   `json:"seconds"`
}

type hit struct {
	rule     *Rule
	party    string
	score    float64
	evidence string // the evidence columns as a JSON object (evidenceJSON)
	reason   string
	reasonZH string // the Chinese reason, when the rule has one
}

// signal is a mart.signals row.
type signal struct {
	ID, Rule, Kind, Party, Status     string
	Score                             float64
	Priority, Reason, Action, Product string
	ReasonZH, ActionZH                string
	Evidence                          string
	Opened, Updated, Expires, Closed  string // YYYY-MM-DD; Closed "" while active
	SentScore                         float64
	SentOn                            string
	// SentReason(ZH) is the reason of the last event sent for it: what the
	// CRM was told (the reason above is the latest evaluation's).
	SentReason, SentReasonZH string
}

type decision struct {
	rule  *Rule
	party string
	score float64
	what  string
	why   string
}

// Run evaluates every rule for business date AsOf and moves each signal
// through its lifecycle — opened, updated (its score rose), closed (its
// condition no longer holds) or expired (older than the rule's valid_days)
// — applying suppression and the cross-sell cap. A score "rises" when it
// gains at least cfg.UpdateMinRise points over the score last sent. Signal
// rows, the decision log, the run row and the outbox events all commit in
// one transaction.
func Run(ctx context.Context, w *warehouse.Warehouse, rules *Rules, cfg Config, o RunOptions) (*RunSummary, error) {
	start := time.Now()
	cfg = cfg.WithDefaults()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.RunID == "" {
		o.RunID = "signals-" + start.UTC().Format("20060102T150405.000")
	}
	if o.Now.IsZero() {
		o.Now = start
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	asOf, err := core.BusinessDate(ctx, conn, o.AsOf, "ops.signal_runs")
	if err != nil {
		return nil, fmt.Errorf("signals: %w", err)
	}
	sum := &RunSummary{RunID: o.RunID, AsOf: asOf, Rules: len(rules.Rules), Counts: map[string]int{}, ByRule: map[string]map[string]int{}}
	// The service coverage of the day, which the service rules read.
	t0 := time.Now()
	if err := warehouse.InTx(ctx, conn, func() error { return buildCoverage(ctx, conn, cfg.Service, asOf, w.Budget().DuckDB) }); err != nil {
		return nil, fmt.Errorf("signals: %w", err)
	}
	log.Debug("signals step", "step", "coverage", "seconds", time.Since(t0).Seconds())
	var hits []hit
	t0 = time.Now()
	for _, r := range rules.Rules {
		t0 := time.Now()
		hs, err := evaluate(ctx, conn, r, asOf, o.AllowPII)
		if err != nil {
			return nil, err
		}
		log.Debug("rule evaluated", "rule", r.ID, "hits", len(hs), "seconds", time.Since(t0).Seconds())
		hits = append(hits, hs...)
	}
	sum.Hits = len(hits)
	log.Debug("signals step", "step", "rules", "seconds", time.Since(t0).Seconds())
	err = warehouse.InTx(ctx, conn, func() error {
		return decide(ctx, conn, rules, cfg, o, asOf, hits, sum)
	})
	if err != nil {
		return nil, fmt.Errorf("signals: %w", err)
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("signals evaluated", "as_of", asOf, "hits", sum.Hits, "opened", sum.Counts[Opened], "updated", sum.Counts[Updated],
		"closed", sum.Counts[Closed], "expired", sum.Counts[Expired], "suppressed", sum.Counts[Suppressed],
		"capped", sum.Counts[Capped], "events", sum.Events, "seconds", sum.Seconds)
	return sum, nil
}

// evaluate runs one rule and renders each hit's reason.
func evaluate(ctx context.Context, conn *sql.Conn, r *Rule, asOf string, allowPII bool) ([]hit, error) {
	where := fmt.Sprintf("%s:%d: %s", r.File, r.SQLLine, r.ID)
	query, err := r.Query(asOf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	partyCol, scoreCol := -1, -1
	for i, c := range cols {
		switch c {
		case "party_id":
			partyCol = i
		case "score":
			scoreCol = i
		}
	}
	if partyCol < 0 || scoreCol < 0 {
		return nil, fmt.Errorf("%s: the query must return party_id and score columns (it returns %s)", where, strings.Join(cols, ", "))
	}
	var out []hit
	seen := map[string]bool{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		party, _ := vals[partyCol].(string)
		if party == "" {
			continue // records never unified have no party to signal
		}
		if seen[party] {
			return nil, fmt.Errorf("%s: party %s returned twice; a rule gives at most one row per party", where, party)
		}
		seen[party] = true
		score, ok := toFloat(plain(vals[scoreCol]))
		if !ok {
			return nil, fmt.Errorf("%s: party %s: score %v is not a number", where, party, vals[scoreCol])
		}
		h := hit{rule: r, party: party, score: min(100, max(0, score))}
		evidence := make(map[string]any, len(cols)-2)
		for i, c := range cols {
			if i == partyCol || i == scoreCol {
				continue
			}
			evidence[c] = maskEvidence(c, plain(vals[i]), allowPII)
		}
		// (held as JSON: a hit keeps its evidence until the run's end, and
		// a map of a few values costs several times its JSON)
		h.evidence = evidenceJSON(evidence)
		var b bytes.Buffer
		if err := r.reason.Execute(&b, evidence); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: reason: %w", r.File, r.ReasonLine, r.ID, err)
		}
		h.reason = b.String()
		if r.reasonZH != nil {
			b.Reset()
			if err := r.reasonZH.Execute(&b, evidence); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: reason_zh: %w", r.File, r.ReasonZHLine, r.ID, err)
			}
			h.reasonZH = b.String()
		}
		if !allowPII {
			h.reason, h.reasonZH = pii.Redact(h.reason), pii.Redact(h.reasonZH)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// maskEvidence masks one evidence value by the PII policy: a column whose
// name says it holds an ID number or a phone (pii.ClassOfName) is masked
// whatever its type, and any other text has the IDs and mobiles inside it
// masked; with allowPII all goes out as it is.
func maskEvidence(column string, v any, allowPII bool) any {
	if allowPII || v == nil {
		return v
	}
	if class := pii.ClassOfName(column); class != pii.None {
		return pii.Mask(class, fmt.Sprint(v))
	}
	if s, ok := v.(string); ok {
		return pii.Redact(s)
	}
	return v
}

func addDays(day string, n int) string {
	t, _ := time.Parse(time.DateOnly, day)
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

// decide applies the lifecycle to the hits and writes everything, inside
// the caller's transaction.
func decide(ctx context.Context, conn *sql.Conn, rules *Rules, cfg Config, o RunOptions, asOf string, hits []hit, sum *RunSummary) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	t0 := time.Now()
	step := func(name string) {
		log.Debug("signals step", "step", name, "seconds", time.Since(t0).Seconds())
		t0 = time.Now()
	}
	byID := map[string]*Rule{}
	for _, r := range rules.Rules {
		byID[r.ID] = r
	}
	type rp struct{ rule, party string }
	// Active signals, and what was last sent per rule and party.
	active := map[rp]*signal{}
	rows, err := conn.QueryContext(ctx, `SELECT signal_id, rule_id, kind, party_id, status, score, priority, reason, action,
		coalesce(product, ''), coalesce(CAST(evidence AS VARCHAR), '{}'), CAST(opened_on AS VARCHAR), CAST(updated_on AS VARCHAR),
		CAST(expires_on AS VARCHAR), sent_score, CAST(sent_on AS VARCHAR), coalesce(reason_zh, ''), coalesce(action_zh, ''),
		coalesce(sent_reason, reason), coalesce(sent_reason_zh, reason_zh, '')
		FROM mart.signals WHERE status IN ('open', 'updated')`)
	if err != nil {
		return err
	}
	for rows.Next() {
		s := &signal{}
		if err := rows.Scan(&s.ID, &s.Rule, &s.Kind, &s.Party, &s.Status, &s.Score, &s.Priority, &s.Reason, &s.Action,
			&s.Product, &s.Evidence, &s.Opened, &s.Updated, &s.Expires, &s.SentScore, &s.SentOn, &s.ReasonZH, &s.ActionZH,
			&s.SentReason, &s.SentReasonZH); err != nil {
			rows.Close()
			return err
		}
		active[rp{s.Rule, s.Party}] = s
	}
	rows.Close()
	type sent struct {
		on    string
		score float64
		n     int
	}
	lastSent := map[rp]sent{}
	rows, err = conn.QueryContext(ctx, `SELECT rule_id, party_id, CAST(max(sent_on) AS VARCHAR), arg_max(sent_score, sent_on), count(*)
		FROM mart.signals GROUP BY ALL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k rp
		var s sent
		if err := rows.Scan(&k.rule, &k.party, &s.on, &s.score, &s.n); err != nil {
			rows.Close()
			return err
		}
		lastSent[k] = s
	}
	rows.Close()
	step("active signals")
	// The policy decides on today's hits and sends the events of the
	// signals open before today: what it reads of those parties is all it
	// needs (at 5M parties, a fifth of the bank).
	if err := policyParties(ctx, conn, hits); err != nil {
		return err
	}
	policy, err := loadPolicy(ctx, conn, cfg, byID, asOf, policyPartiesTable)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE `+policyPartiesTable); err != nil {
		return err
	}
	step("contact policy")

	var decisions []decision
	var changed []*signal
	transitions := map[*signal]string{}
	hitFor := map[rp]*hit{}
	for i := range hits {
		hitFor[rp{hits[i].rule.ID, hits[i].party}] = &hits[i]
	}
	// Open signals first: expire, close, update or keep.
	keys := make([]rp, 0, len(active))
	for k := range active {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].rule != keys[j].rule {
			return keys[i].rule < keys[j].rule
		}
		return keys[i].party < keys[j].party
	})
	for _, k := range keys {
		s := active[k]
		r := byID[s.Rule]
		h := hitFor[k]
		d := decision{rule: r, party: s.Party, score: s.Score}
		if r == nil {
			r = &Rule{ID: s.Rule, Kind: s.Kind}
			d.rule = r
		}
		switch {
		case asOf >= s.Expires:
			s.Status, s.Closed = Expired, asOf
			d.what, d.why = Expired, "open since "+s.Opened+", valid until "+s.Expires
			// A hit of an expired signal may open a new one below,
			// subject to suppression.
		case h == nil:
			s.Status, s.Closed = Closed, asOf
			d.what, d.why = Closed, "the rule no longer fires"
			if byID[s.Rule] == nil {
				d.why = "the rule is no longer in the rule set"
			}
		default:
			delete(hitFor, k)
			d.score = h.score
			s.Score, s.Reason, s.Evidence, s.Updated = h.score, h.reason, h.evidence, asOf
			s.ReasonZH, s.ActionZH = h.reasonZH, h.rule.ActionZH
			if h.score >= s.SentScore+cfg.UpdateMinRise {
				d.what, d.why = Updated, fmt.Sprintf("score rose from %s to %s", fmtScore(s.SentScore), fmtScore(h.score))
				s.Status, s.SentScore, s.SentOn = Updated, h.score, asOf
				s.SentReason, s.SentReasonZH = h.reason, h.reasonZH
				transitions[s] = Updated
			} else {
				d.what = Unchanged
			}
			changed = append(changed, s)
			decisions = append(decisions, d)
			continue
		}
		s.Updated = asOf
		transitions[s] = d.what
		changed = append(changed, s)
		decisions = append(decisions, d)
		lastSent[k] = sent{on: s.SentOn, score: s.SentScore, n: lastSent[k].n}
	}
	// New hits: suppression, then the cross-sell cap.
	var fresh []*hit
	for _, h := range hits {
		k := rp{h.rule.ID, h.party}
		if hitFor[k] == nil {
			continue
		}
		if ls, ok := lastSent[k]; ok && ls.on > addDays(asOf, -cfg.SuppressDays) && h.score < ls.score+cfg.UpdateMinRise {
			decisions = append(decisions, decision{h.rule, h.party, h.score, Suppressed,
				fmt.Sprintf("sent on %s with score %s; not again within %d days unless the score rises by %s", ls.on, fmtScore(ls.score), cfg.SuppressDays, fmtScore(cfg.UpdateMinRise))})
			continue
		}
		fresh = append(fresh, hitFor[k])
	}
	sort.SliceStable(fresh, func(i, j int) bool {
		if fresh[i].party != fresh[j].party {
			return fresh[i].party < fresh[j].party
		}
		if fresh[i].score != fresh[j].score {
			return fresh[i].score > fresh[j].score
		}
		return fresh[i].rule.ID < fresh[j].rule.ID
	})
	for _, h := range fresh {
		what, why := policy.hold(h)
		if what != Opened {
			decisions = append(decisions, decision{h.rule, h.party, h.score, what, why})
			continue
		}
		// Among the hits the policy lets through, the rule's holdout group.
		if held, u := cfg.Holdout.HeldOut(h.rule, h.party, asOf); held {
			decisions = append(decisions, decision{h.rule, h.party, h.score, HoldoutDecision,
				fmt.Sprintf("holdout: %.0f%% of %s held out for %s to measure its lift (draw %.3f)", 100*cfg.Holdout.Share(h.rule), h.rule.ID, cfg.Holdout.Salt(asOf), u)})
			continue
		}
		policy.sent(h)
		k := rp{h.rule.ID, h.party}
		s := &signal{
			ID:   outbox.EventID(h.rule.ID, h.party, asOf, strconv.Itoa(lastSent[k].n)),
			Rule: h.rule.ID, Kind: h.rule.Kind, Party: h.party, Status: "open", Score: h.score,
			Priority: h.rule.Priority, Reason: h.reason, Action: h.rule.Action, Product: h.rule.Product,
			ReasonZH: h.reasonZH, ActionZH: h.rule.ActionZH,
			Evidence: h.evidence, Opened: asOf, Updated: asOf, Expires: addDays(asOf, h.rule.ValidDays),
			SentScore: h.score, SentOn: asOf, SentReason: h.reason, SentReasonZH: h.reasonZH,
		}
		changed = append(changed, s)
		transitions[s] = Opened
		decisions = append(decisions, decision{h.rule, h.party, h.score, Opened, why})
	}
	for _, d := range decisions {
		sum.Counts[d.what]++
		if sum.ByRule[d.rule.ID] == nil {
			sum.ByRule[d.rule.ID] = map[string]int{}
		}
		sum.ByRule[d.rule.ID][d.what]++
	}
	step("decisions")
	if err := writeSignals(ctx, conn, changed, o.RunID); err != nil {
		return err
	}
	step("signals written")
	if err := writeDecisions(ctx, conn, decisions, asOf, o.RunID); err != nil {
		return err
	}
	step("decisions written")
	if err := writeRules(ctx, conn, byID, cfg); err != nil {
		return err
	}
	step("rules written")
	events, err := signalEvents(ctx, conn, byID, changed, transitions, asOf, policy.optedOut, cfg.UnassignedQueue, o)
	if err != nil {
		return err
	}
	step("events built")
	if err := outbox.Enqueue(ctx, conn, events); err != nil {
		return err
	}
	step("events queued")
	sum.Events = len(events)
	_, err = conn.ExecContext(ctx, `INSERT INTO ops.signal_runs VALUES (?, CAST(? AS DATE), ?, now(), ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.RunID, asOf, o.Now, sum.Rules, sum.Hits, sum.Counts[Opened], sum.Counts[Updated], sum.Counts[Closed],
		sum.Counts[Expired], sum.Counts[Suppressed], sum.Counts[Capped])
	if err != nil {
		return fmt.Errorf("ops.signal_runs: %w", err)
	}
	return nil
}

func fmtScore(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// policyPartiesTable lists the parties the contact policy is read for.
const policyPartiesTable = "cdp_policy_parties"

// policyParties fills policyPartiesTable with the parties of the hits and
// of the signals open (or updated) before the run; the policy reads them
// through IN, so a party listed twice is no matter.
func policyParties(ctx context.Context, conn *sql.Conn, hits []hit) error {
	rows := make([][]any, len(hits))
	for i := range hits {
		rows[i] = []any{hits[i].party}
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+policyPartiesTable+` (party_id VARCHAR)`); err != nil {
		return fmt.Errorf("contact policy: the parties: %w", err)
	}
	if err := warehouse.InsertRows(ctx, conn, policyPartiesTable, rows); err != nil {
		return fmt.Errorf("contact policy: the hits' parties: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO `+policyPartiesTable+` SELECT party_id FROM mart.signals WHERE status IN ('open', 'updated')`); err != nil {
		return fmt.Errorf("contact policy: the open signals' parties: %w", err)
	}
	return nil
}

func evidenceJSON(ev map[string]any) string {
	b, err := json.Marshal(ev)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func writeSignals(ctx context.Context, conn *sql.Conn, changed []*signal, runID string) error {
	if len(changed) == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_signals_new AS SELECT * FROM mart.signals LIMIT 0`); err != nil {
		return err
	}
	rows := make([][]any, len(changed))
	for i, s := range changed {
		rows[i] = []any{s.ID, s.Rule, s.Kind, s.Party, s.Status, s.Score, s.Priority, s.Reason, s.Action,
			warehouse.NullString(s.Product), s.Evidence, s.Opened, s.Updated, s.Expires, warehouse.NullString(s.Closed), s.SentScore, s.SentOn, runID,
			warehouse.NullString(s.ReasonZH), warehouse.NullString(s.ActionZH),
			warehouse.NullString(s.SentReason), warehouse.NullString(s.SentReasonZH)}
	}
	if err := warehouse.InsertRows(ctx, conn, "cdp_signals_new", rows); err != nil {
		return fmt.Errorf("mart.signals: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM mart.signals s USING cdp_signals_new n WHERE s.signal_id = n.signal_id`,
		`INSERT INTO mart.signals BY NAME SELECT * FROM cdp_signals_new`,
		`DROP TABLE cdp_signals_new`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mart.signals: %w", err)
		}
	}
	return nil
}

// writeRules replaces mart.signal_rules with the run's rule set, its
// products and holdout shares (the lift views read them).
func writeRules(ctx context.Context, conn *sql.Conn, byID map[string]*Rule, cfg Config) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM mart.signal_rules`); err != nil {
		return fmt.Errorf("mart.signal_rules: %w", err)
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rows := make([][]any, 0, len(ids))
	for _, id := range ids {
		r := byID[id]
		rows = append(rows, []any{r.ID, r.Kind, r.NameZH, r.NameEN, warehouse.NullString(r.Product), cfg.Holdout.Share(r), cfg.Holdout.ConversionDays})
	}
	return warehouse.InsertRows(ctx, conn, "mart.signal_rules", rows)
}

func writeDecisions(ctx context.Context, conn *sql.Conn, ds []decision, asOf, runID string) error {
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{runID, asOf, d.rule.ID, d.rule.Kind, d.party, d.score, d.what, warehouse.NullString(d.why)}
	}
	if err := warehouse.InsertRows(ctx, conn, "mart.signal_decisions", rows); err != nil {
		return fmt.Errorf("mart.signal_decisions: %w", err)
	}
	return nil
}
