package signals

import "fmt"

// Config is the signals: section of cdp.yaml.
type Config struct {
	// Rules is a folder of rule files replacing the built-in set ("" = built in).
	Rules string `yaml:"rules"`
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
	// Params overrides rule parameters: rule id → parameter → value.
	Params map[string]map[string]any `yaml:"params"`
}

// WithDefaults fills what the file left out.
func (c Config) WithDefaults() Config {
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
	return out
}
