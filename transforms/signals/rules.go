// Package signals turns the warehouse into churn warnings, cross-sell
// signals and risk alerts for the CRMs. Signals are declared rules: YAML
// files, one per kind, each rule an SQL query over the core and mart tables
// that returns the parties it fires for with a score and the evidence its
// reason template quotes.
//
// A rule file:
//
//	kind: churn                        # churn | cross_sell | risk
//	owner: wealth-retention            # default owner of the file's rules
//	rules:
//	  - id: churn_aum_outflow          # lower-case letters, digits, _; unique
//	    name_zh: 资产流出预警
//	    name_en: AUM outflow
//	    description: …
//	    priority: high                 # high | medium | low
//	    valid_days: 14                 # how long the RM has to act
//	    product: ""                    # cross_sell: the product offered
//	    action: Call the client …      # the suggested next step
//	    params: {window_days: 30}      # {window_days} in the sql; cdp.yaml may override
//	    reason: AUM fell {{pct .outflow_pct}} …   # text/template over the evidence
//	    sql: |                         # party_id, score (0..100), evidence columns
//	      SELECT party_id, … AS score, … FROM core.aum_daily WHERE as_of_date <= {as_of} …
//
// In the SQL, {as_of} is the run's business date (a DATE literal) and
// {name} a parameter. Run keeps each signal's lifecycle in mart.signals and
// writes every change to ops.outbox in the same transaction.
package signals

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"

	"cdp/decl"
	"cdp/transforms/core"
	"cdp/transforms/sqltext"
)

//go:embed rules/*.yaml
var builtin embed.FS

// Builtin is the rule set that ships with cdp.
func Builtin() fs.FS {
	sub, _ := fs.Sub(builtin, "rules")
	return sub
}

// Kinds of signal, with the topic each is published to.
var Kinds = []struct{ ID, ZH, EN, Topic string }{
	{"churn", "流失预警", "Churn warnings", "cdp.signals.churn"},
	{"cross_sell", "交叉销售", "Cross-sell signals", "cdp.signals.crosssell"},
	{"risk", "风险预警", "Risk alerts", "cdp.signals.risk"},
	{"service", "服务提醒", "Service reminders (a tier's service standard about to be missed)", "cdp.signals.service"},
}

// Topic is the topic signals of kind are published to.
func Topic(kind string) string {
	for _, k := range Kinds {
		if k.ID == kind {
			return k.Topic
		}
	}
	return ""
}

// TeamRoles are the roles of a service team (the seeds' "1+N": one senior
// RM and the specialists), as the contact feed's roster names them.
var TeamRoles = []struct{ ID, ZH, EN string }{
	{"RM", "主办客户经理", "senior relationship manager"},
	{"PRODUCT", "产品经理", "product specialist"},
	{"RISK", "风险经理", "risk specialist"},
	{"INVESTMENT_BANKING", "投行经理", "investment-banking specialist"},
	{"ADVISOR", "投资顾问", "investment advisor"},
}

// channel is the rule's channel, or "" (also for no rule).
func (r *Rule) channel() string {
	if r == nil {
		return ""
	}
	return r.Channel
}

// Role is the team role the rule's signals are for.
func (r *Rule) Role() string {
	switch {
	case r.TeamRole != "":
		return r.TeamRole
	case r.Kind == "risk":
		return "RISK"
	}
	return "RM"
}

// Priorities a rule may declare, highest first.
var Priorities = []string{"high", "medium", "low"}

// Rule is one declared signal rule.
type Rule struct {
	ID          string         `yaml:"id"`
	NameZH      string         `yaml:"name_zh"`
	NameEN      string         `yaml:"name_en"`
	Description string         `yaml:"description"`
	Priority    string         `yaml:"priority"`
	ValidDays   int            `yaml:"valid_days"`
	Product     string         `yaml:"product"`
	Action      string         `yaml:"action"`
	Params      map[string]any `yaml:"params"`
	Reason      string         `yaml:"reason"`
	// ReasonZH and ActionZH say the same in Chinese, as an RM would (amounts
	// in 万 and 亿: {{wan .amount}}); the built-in rules all have them.
	ReasonZH  string `yaml:"reason_zh"`
	ActionZH  string `yaml:"action_zh"`
	SQL       string `yaml:"sql"`
	Owner     string `yaml:"owner"`
	Behaviour string `yaml:"behaviour"` // the synthetic bank's planted behaviour it should find, if any
	// TeamRole is the member of the party's service team the rule's
	// signals are for (TeamRoles); default RISK for risk rules, else RM.
	TeamRole string `yaml:"team_role"`
	// Channel, when set, is the channel the RM is to use (Channels): the
	// contact policy then respects the customer's opt-out of it and its
	// per-channel limit (contact_policy.channel_caps).
	Channel      string `yaml:"channel"`
	Replaces     bool   `yaml:"replaces"` // a project's rule replacing the built-in rule of its id
	Reads        string `yaml:"reads"`    // dated | current; left out: dated when the sql uses {as_of} or {day:…}
	Kind         string `yaml:"-"`
	File         string `yaml:"-"`
	Line         int    `yaml:"-"`
	SQLLine      int    `yaml:"-"`
	ReasonLine   int    `yaml:"-"`
	ReasonZHLine int    `yaml:"-"`
	reason       *template.Template
	reasonZH     *template.Template
}

// Rules is a loaded rule set, in file then declaration order.
type Rules struct {
	Rules []*Rule
}

// Problem is one thing wrong in a rule file (Item is the rule id).
type Problem = decl.Problem

// Problems is every problem found, in file and line order.
type Problems = decl.Problems

type file struct {
	Kind  string  `yaml:"kind"`
	Owner string  `yaml:"owner"`
	Rules []*Rule `yaml:"rules"`
}

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	templateFunc = template.FuncMap{"money": Money, "pct": Pct, "date": Date, "num": Num, "wan": Wan, "dzh": DateZH}
)

// Declared is the rule's id and place, for layering a project's rules on
// the built-in ones.
func (r *Rule) Declared() (string, string, int, bool) { return r.ID, r.File, r.Line, r.Replaces }

// Load reads every *.yaml file of fsys (a directory's files, or Builtin())
// as one rule set. params overrides rule parameters: rule id → name →
// value. Checks that need the warehouse are Validate's.
func Load(fsys fs.FS, params map[string]map[string]any) (*Rules, error) {
	files, err := decl.ReadAll(fsys, "rule")
	if err != nil {
		return nil, err
	}
	rules, probs := parseFiles(files)
	return finish(rules, probs, params)
}

// Open loads the rules a project uses: the built-in rules (all of them,
// less those cfg.Disable names, or none with builtin: false), then the
// rules of every folder, in order, with cfg.Params applied. A folder's rule
// with a built-in rule's id replaces it only when it says replaces: true;
// otherwise that is a problem naming both files.
func Open(cfg Config, folders ...string) (*Rules, error) {
	files, err := decl.ReadAll(Builtin(), "rule")
	if err != nil {
		return nil, err
	}
	builtin, probs := parseFiles(files)
	var project []*Rule
	for _, dir := range folders {
		files, err := decl.ReadDir(dir, "rule")
		if err != nil {
			return nil, fmt.Errorf("signals.rules: %w", err)
		}
		rules, ps := parseFiles(files)
		probs = append(probs, ps...)
		project = append(project, rules...)
	}
	rules, ps := decl.Layer(builtin, decl.LayerOptions{What: "rule", Key: "signals", Builtin: cfg.UsesBuiltin(), Disable: cfg.Disable}, project)
	rs, err := finish(rules, append(probs, ps...), cfg.Params)
	if err == nil && len(rs.Rules) == 0 {
		return rs, errors.New("no signal rules: signals.builtin is false and signals.rules names no rules")
	}
	return rs, err
}

// parseFiles parses rule files into rules, refusing an id declared twice.
func parseFiles(files []decl.File) ([]*Rule, Problems) {
	var out []*Rule
	var probs Problems
	seen := map[string]*Rule{}
	for _, df := range files {
		name, data := df.Name, df.Data
		var f file
		lines, ps := decl.Decode(name, data, &f, "rules")
		if ps != nil {
			probs = append(probs, ps...)
			continue
		}
		for i, l := range lines {
			if i < len(f.Rules) {
				f.Rules[i].Line, f.Rules[i].SQLLine, f.Rules[i].ReasonLine = l.Line, l.Key("sql"), l.Key("reason")
				f.Rules[i].ReasonZHLine = l.Key("reason_zh")
			}
		}
		probs = append(probs, check(name, &f)...)
		for _, r := range f.Rules {
			if prev, dup := seen[r.ID]; dup && r.ID != "" {
				probs = append(probs, Problem{File: name, Line: r.Line, Item: r.ID, Msg: fmt.Sprintf("id declared twice (first in %s:%d)", prev.File, prev.Line)})
				continue
			}
			seen[r.ID] = r
			out = append(out, r)
		}
	}
	return out, probs
}

// finish applies the parameter overrides of cdp.yaml.
func finish(rules []*Rule, probs Problems, params map[string]map[string]any) (*Rules, error) {
	rs := &Rules{Rules: rules}
	byID := map[string]*Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	ids := make([]string, 0, len(params))
	for id := range params {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			probs = append(probs, Problem{File: "cdp.yaml", Item: id, Msg: "signals.params names a rule that does not exist"})
			continue
		}
		for k, v := range params[id] {
			if _, ok := r.Params[k]; !ok {
				probs = append(probs, Problem{File: "cdp.yaml", Item: id, Msg: fmt.Sprintf("signals.params: the rule has no parameter %q (it has %s)", k, strings.Join(r.paramNames(), ", "))})
				continue
			}
			r.Params[k] = v
		}
	}
	if len(probs) > 0 {
		return rs, probs
	}
	return rs, nil
}

func check(name string, f *file) Problems {
	var probs Problems
	if Topic(f.Kind) == "" {
		probs = append(probs, Problem{File: name, Line: 1, Msg: fmt.Sprintf("kind %q: want churn, cross_sell or risk", f.Kind)})
	}
	if len(f.Rules) == 0 {
		probs = append(probs, Problem{File: name, Line: 1, Msg: "no rules"})
	}
	for _, r := range f.Rules {
		r.File, r.Kind = name, f.Kind
		if r.Owner == "" {
			r.Owner = f.Owner
		}
		bad := func(line int, format string, args ...any) {
			probs = append(probs, Problem{File: name, Line: line, Item: r.ID, Msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case r.ID == "":
			bad(r.Line, "every rule needs an id")
		case !idPattern.MatchString(r.ID):
			bad(r.Line, "id %q: lower-case letters, digits and _, starting with a letter", r.ID)
		}
		if r.NameZH == "" || r.NameEN == "" {
			bad(r.Line, "name_zh and name_en are both required")
		}
		if r.Description == "" {
			bad(r.Line, "description is required: it goes into the rule docs")
		}
		if r.Owner == "" {
			bad(r.Line, "owner is required (on the rule or the file)")
		}
		if !slices.Contains(Priorities, r.Priority) {
			bad(r.Line, "priority %q: want high, medium or low", r.Priority)
		}
		if r.ValidDays < 1 {
			bad(r.Line, "valid_days must be 1 or more: how many days the relationship manager has to act")
		}
		if r.Action == "" {
			bad(r.Line, "action is required: the next step the relationship manager should take")
		}
		if r.TeamRole != "" && !slices.ContainsFunc(TeamRoles, func(t struct{ ID, ZH, EN string }) bool { return t.ID == r.TeamRole }) {
			bad(r.Line, "team_role %q: want RM, PRODUCT, RISK, INVESTMENT_BANKING or ADVISOR", r.TeamRole)
		}
		if r.Channel != "" && !slices.Contains(Channels, r.Channel) {
			bad(r.Line, "channel %q: want %s", r.Channel, strings.Join(Channels, ", "))
		}
		if r.Kind == "cross_sell" && r.Product == "" {
			bad(r.Line, "a cross_sell rule names the product it offers (product:)")
		}
		if strings.TrimSpace(r.SQL) == "" {
			bad(r.SQLLine, "sql is required")
		}
		uses := sqltext.Uses(r.SQL)
		unknown := false
		for _, name := range uses {
			if _, ok := r.Params[name]; !ok && name != "as_of" && name != "day" {
				bad(r.SQLLine, "the sql uses {%s}, which is neither {as_of}, {day:TABLE} nor one of params:", name)
				unknown = true
			}
		}
		if !unknown {
			if _, err := r.Query("2000-01-01"); err != nil { // a placeholder's argument ({day:core.loan}, {as_of:x})
				bad(r.SQLLine, "%v", err)
			}
		}
		for k, v := range r.Params {
			if _, err := sqltext.Literal(v); err != nil {
				bad(r.Line, "params.%s: %v", k, err)
			}
			if k == "as_of" || k == "day" {
				bad(r.Line, "params.%s: the name is the run's, pick another", k)
			}
		}
		usesDay := slices.Contains(uses, "as_of") || slices.Contains(uses, "day")
		switch r.Reads {
		case "":
			r.Reads = Current
			if usesDay {
				r.Reads = Dated
			}
		case Dated:
			if !usesDay {
				bad(r.SQLLine, "a dated rule reads the facts of its day: its sql uses {as_of} or {day:TABLE}")
			}
		case Current:
		default:
			bad(r.Line, "reads %q: want dated (facts up to the as-of day) or current (the current state)", r.Reads)
		}
		t, err := template.New(r.ID).Funcs(templateFunc).Option("missingkey=error").Parse(r.Reason)
		switch {
		case strings.TrimSpace(r.Reason) == "":
			bad(r.ReasonLine, "reason is required: the words the relationship manager reads")
		case err != nil:
			bad(r.ReasonLine, "reason: %v", err)
		default:
			r.reason = t
		}
		if r.ReasonZH != "" {
			t, err := template.New(r.ID).Funcs(templateFunc).Option("missingkey=error").Parse(r.ReasonZH)
			if err != nil {
				bad(r.ReasonZHLine, "reason_zh: %v", err)
			} else {
				r.reasonZH = t
			}
		}
	}
	return probs
}

func (r *Rule) paramNames() []string {
	var names []string
	for k := range r.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// What a rule reads.
const (
	Dated   = "dated"   // facts dated up to the as-of day: reproducible for a past day
	Current = "current" // the current state: a past day shows today's
)

// Query is the rule's SQL for business date asOf (YYYY-MM-DD), with {as_of},
// {day:TABLE} and its parameters filled in. Loading fills it once (for a
// sample day), so a rule set that loaded fails here only on a bad asOf.
func (r *Rule) Query(asOf string) (string, error) {
	vars := core.AsOf(asOf)
	for name, v := range r.Params {
		lit, err := sqltext.Literal(v)
		if err != nil {
			return "", fmt.Errorf("params.%s: %w", name, err)
		}
		vars[name] = sqltext.Value(lit)
	}
	return sqltext.Fill(strings.TrimRight(strings.TrimSpace(r.SQL), ";"), vars)
}
