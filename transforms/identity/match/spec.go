// Package match is the record-linkage engine behind identity unification and
// `cdp link`: it decides which records describe the same real-world entity.
//
// The pipeline is the classic one, kept small and deterministic:
//
//  1. Every value is prepared by the kind of its field (name, date, id, phone,
//     address, postcode, text). A value that does not parse as its kind (a
//     date with month 24, a phone with letters) is kept and compared as text;
//     nothing is dropped.
//  2. Blocking: records are only compared when they share a blocking key (by
//     default the exact prepared value of one field, one rule per field).
//     Blocks larger than MaxBlock are skipped and counted, never silently
//     truncated. A pair found by several rules is compared once.
//  3. Each candidate pair gets a comparison vector: one agreement level per
//     field (exact, close, loosely close, different, or missing).
//  4. Fellegi–Sunter weights: u (how often non-matches agree at a level) is
//     measured on random record pairs; m (how often matches do) is estimated
//     by expectation maximisation on the candidate pairs of each blocking
//     rule, leaving out the fields that rule blocks on (their agreement is
//     forced there). Exact agreement on a frequent value counts for less
//     (term-frequency adjustment). Weights may also be configured.
//  5. Pairs whose match probability reaches the threshold become edges;
//     deterministic keys (equal validated identifiers) add edges of their own.
//     Edges are clustered strongest first by union–find, refusing any union
//     that would put two different exclusive keys (say, two valid resident
//     IDs) in one cluster.
//
// Everything is deterministic for the same input and configuration: random
// pair sampling uses a fixed seed, and ties are broken by record order.
package match

import "fmt"

// Kind says how a field's values are prepared and compared.
type Kind string

// The comparison kinds a mapping may name.
const (
	KindName     Kind = "name"
	KindDate     Kind = "date"
	KindID       Kind = "id"
	KindPhone    Kind = "phone"
	KindAddress  Kind = "address"
	KindPostcode Kind = "postcode"
	KindText     Kind = "text"
)

// Kinds lists every kind, in the order the documentation gives them.
var Kinds = []Kind{KindName, KindDate, KindID, KindPhone, KindAddress, KindPostcode, KindText}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// levels is how many agreement levels a kind has, "different" (0) included.
// The top level is always exact agreement.
func (k Kind) levels() int {
	switch k {
	case KindName, KindAddress, KindDate:
		return 4
	default:
		return 3
	}
}

// Field is one compared attribute.
type Field struct {
	Name   string
	Kind   Kind
	Format string // Go time layout for dates that are not ISO or YYYYMMDD
	// Block makes this field a blocking rule of its own (the default for
	// every field when Config.Blocking is empty).
	Block bool
}

// Config tunes the engine. The zero value of each knob means its default.
type Config struct {
	// Blocking rules: each is a list of field names whose prepared values,
	// all equal, put two records in one block. Empty: one rule per field.
	Blocking [][]string
	// MaxBlock is the largest block compared (default 1000 records); a
	// larger block is skipped and reported in Stats.SkippedBlocks.
	MaxBlock int
	// Threshold is the match probability a pair needs (default 0.5: a pair
	// is linked when it is more likely a match than not).
	Threshold float64
	// SamplePairs is how many random pairs estimate u (default 1,000,000,
	// or all pairs when there are fewer).
	SamplePairs int
	// EMIterations caps expectation maximisation (default 50).
	EMIterations int
	// Workers compares pairs in parallel (default: number of CPUs).
	Workers int
	// Weights fixes m and u per field and level instead of estimating them:
	// field name → {"m": [...], "u": [...]} from level 0 (different) up.
	Weights map[string]Weights
	// Prior fixes the probability that two random records match instead of
	// estimating it (an incremental run reuses the full run's).
	Prior float64
	// NoTermFrequency turns the term-frequency adjustment off.
	NoTermFrequency bool
	// Seed for the random pairs that estimate u (default 1).
	Seed uint64
}

// Weights are configured m and u probabilities for one field, one entry per
// agreement level, level 0 (different) first and exact last.
type Weights struct {
	M []float64 `yaml:"m" json:"m"`
	U []float64 `yaml:"u" json:"u"`
}

func (c Config) withDefaults() Config {
	if c.MaxBlock <= 0 {
		c.MaxBlock = 1000
	}
	if c.Threshold == 0 {
		c.Threshold = 0.5
	}
	if c.SamplePairs <= 0 {
		c.SamplePairs = 1_000_000
	}
	if c.EMIterations <= 0 {
		c.EMIterations = 50
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// validate checks fields and config against each other.
func validate(fields []Field, c Config) error {
	if len(fields) == 0 {
		return fmt.Errorf("no fields to compare")
	}
	if len(fields) > 13 {
		return fmt.Errorf("%d fields: at most 13 can be compared", len(fields))
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if !f.Kind.Valid() {
			return fmt.Errorf("field %q: unknown kind %q (kinds: name, date, id, phone, address, postcode, text)", f.Name, f.Kind)
		}
		if seen[f.Name] {
			return fmt.Errorf("field %q named twice", f.Name)
		}
		seen[f.Name] = true
	}
	if c.Threshold < 0 || c.Threshold >= 1 {
		return fmt.Errorf("threshold %v: a match probability between 0 and 1 (exclusive)", c.Threshold)
	}
	if c.Prior < 0 || c.Prior >= 1 {
		return fmt.Errorf("prior %v: a probability between 0 and 1 (exclusive)", c.Prior)
	}
	for i, rule := range c.Blocking {
		if len(rule) == 0 {
			return fmt.Errorf("blocking rule %d is empty", i+1)
		}
		for _, n := range rule {
			if !seen[n] {
				return fmt.Errorf("blocking rule %d: no field %q", i+1, n)
			}
		}
	}
	for n, w := range c.Weights {
		idx := -1
		for i, f := range fields {
			if f.Name == n {
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("weights: no field %q", n)
		}
		l := fields[idx].Kind.levels()
		if len(w.M) != l || len(w.U) != l {
			return fmt.Errorf("weights for %q: a %s field has %d levels, got %d m and %d u values", n, fields[idx].Kind, l, len(w.M), len(w.U))
		}
		for i := range w.M {
			if w.M[i] <= 0 || w.M[i] > 1 || w.U[i] <= 0 || w.U[i] > 1 {
				return fmt.Errorf("weights for %q level %d: m and u must be in (0, 1]", n, i)
			}
		}
	}
	return nil
}
