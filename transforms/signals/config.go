package signals

import "fmt"

// Config is the signals: section of cdp.yaml.
type Config struct {
	// Rules are folders of rule files whose rules add to the built-in set
	// (relative to cdp.yaml).
	Rules []string `yaml:"rules"`
	// Builtin false leaves the built-in rules out: only the folders' rules.
	Builtin *bool `yaml:"builtin"`
	// Disable switches built-in rules off by id.
	Disable []string `yaml:"disable"`
	// SuppressDays: a rule that fired for a party is not sent again within
	// this many days of its last event unless its score rises. Default 7.
	SuppressDays int `yaml:"suppress_days"`
	// UpdateMinRise: an open signal is re-sent as updated (and a suppressed
	// one let through) only when its score rose by at least this much since
	// it was last sent. Default 5 points.
	UpdateMinRise float64 `yaml:"update_min_rise"`
	// CrossSellCap: at most this many cross-sell signals open per party in
	// any CrossSellCapDays days, across all cross-sell rules, highest score
	// first. Default 2 per 7 days.
	CrossSellCap     int `yaml:"crosssell_cap"`
	CrossSellCapDays int `yaml:"crosssell_cap_days"`
	// ContactPolicy holds marketing back across all business lines
	// (policy.go); the cross-sell cap is its limit.
	ContactPolicy ContactPolicy `yaml:"contact_policy"`
	// Holdout keeps a share of each rule's signals back to measure its
	// lift (holdout.go).
	Holdout Holdout `yaml:"holdout"`
	// Service: the service standards by tier (service.go).
	Service Service `yaml:"service"`
	// UnassignedQueue is the owner of a signal whose party has neither a
	// service team nor a branch (default UNASSIGNED); a party without a
	// team but with a branch goes to its branch's queue.
	UnassignedQueue string `yaml:"unassigned_queue"`
	// Params overrides rule parameters: rule id → parameter → value.
	Params map[string]map[string]any `yaml:"params"`
}

// WithDefaults fills what the file left out.
func (c Config) WithDefaults() Config {
	if c.Builtin == nil {
		yes := true
		c.Builtin = &yes
	}
	if c.SuppressDays == 0 {
		c.SuppressDays = 7
	}
	if c.UpdateMinRise == 0 {
		c.UpdateMinRise = 5
	}
	if c.CrossSellCap == 0 {
		c.CrossSellCap = 2
	}
	if c.CrossSellCapDays == 0 {
		c.CrossSellCapDays = 7
	}
	if c.UnassignedQueue == "" {
		c.UnassignedQueue = "UNASSIGNED"
	}
	c.ContactPolicy = c.ContactPolicy.withDefaults()
	c.Holdout = c.Holdout.withDefaults()
	c.Service = c.Service.withDefaults()
	return c
}

// Check lists what is wrong, each as "field: problem".
func (c Config) Check() []string {
	var out []string
	for _, f := range []struct {
		key string
		v   int
	}{{"suppress_days", c.SuppressDays}, {"crosssell_cap", c.CrossSellCap}, {"crosssell_cap_days", c.CrossSellCapDays}} {
		if f.v < 0 {
			out = append(out, fmt.Sprintf("%s: must be 0 or more, not %d", f.key, f.v))
		}
	}
	if c.UpdateMinRise < 0 {
		out = append(out, fmt.Sprintf("update_min_rise: must be 0 or more points, not %v", c.UpdateMinRise))
	}
	out = append(out, c.ContactPolicy.check()...)
	out = append(out, c.Holdout.check()...)
	return append(out, c.Service.check()...)
}

// UsesBuiltin reports whether the built-in rules are part of the project's.
func (c Config) UsesBuiltin() bool { return c.Builtin == nil || *c.Builtin }

// RulesHint is what to say to a project that still writes signals.rules as
// one folder: it used to replace the built-in rules and now adds to them.
const RulesHint = "signals.rules is now a list of folders whose rules add to the built-in ones " +
	"(a single folder used to replace them): write rules: [your-folder], and to keep only your own rules as before add builtin: false under signals:"
