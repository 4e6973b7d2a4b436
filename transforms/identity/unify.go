// Package identity unifies the customer records of the four source systems
// into parties: core.party (one golden record per real customer, with a
// stable party_id), core.party_xref (every source record → its party, with
// the rule or score that decided it), core.party_relationship (related, not
// the same) and ops.identity_events (merges and splits).
//
// How records become parties:
//   - Identity values are normalised (cdp/transforms/identity/normal): a
//     resident ID or credit code whose check character is wrong is flagged,
//     not trusted.
//   - Records with the same valid resident ID, or the same organisation code
//     (inside every credit code), are one party without further evidence.
//     Two different valid identifiers are never merged, whatever else agrees.
//   - Records without a valid identifier are matched probabilistically by
//     the engine in cdp/transforms/identity/match on name (with its pinyin),
//     identifier text, birth date and mobile.
//
// Guarantees:
//   - A run is one transaction: the core tables and the ledgers change
//     together or not at all.
//   - A run with no new or changed source record changes nothing.
//   - Party ids are stable. A party keeps its id when it gains records. When
//     parties merge, the oldest id (the lowest number, issued first) survives
//     and the others are logged as merged into it. When a party splits, the
//     part holding most of its records keeps the id (ties: the part with the
//     first record in system, source_key order); the other parts get new ids,
//     logged as split from it. New ids are issued in source-key order, so the
//     same input always gets the same ids.
//   - An incremental run (the default once a full run has happened) reuses the
//     full run's model and keeps every stored link between unchanged records,
//     so a party none of whose records changed keeps its id and its members.
package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"cdp/transforms/identity/match"
	"cdp/warehouse"
)

// Config is the identity section of cdp.yaml.
type Config struct {
	// Threshold is the match probability a probabilistic link needs.
	Threshold float64 `yaml:"threshold"`
	// MaxBlock is the largest blocking group compared.
	MaxBlock int `yaml:"max_block"`
	// Blocking rules over the fields name, id_no, birth_date, mobile.
	Blocking [][]string `yaml:"blocking"`
	// Trust orders the systems per golden-record attribute (name, id_no,
	// birth_date, mobile, other); a missing attribute uses "default".
	Trust map[string][]string `yaml:"trust"`
	// SharedMobileMax is the largest group of parties sharing one mobile
	// that still yields shared_mobile relationships (a bigger group is a
	// switchboard, not a family).
	SharedMobileMax int `yaml:"shared_mobile_max"`
	// Sources are the customer entities of the feed contracts (their
	// identity: blocks), set by the pipeline, not written in cdp.yaml.
	// Their trust ranks give every trust order the section leaves out.
	Sources []Source `yaml:"-"`
}

// TrustAttributes are the keys of Config.Trust.
var TrustAttributes = []string{"default", "name", "id_no", "birth_date", "mobile", "other"}

// FieldNames are the compared fields blocking rules may name.
func FieldNames() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

// DefaultConfig is what an empty identity section means.
func DefaultConfig() Config {
	return Config{
		Threshold:       0.9,
		MaxBlock:        1000,
		Blocking:        [][]string{{"id_no"}, {"mobile"}, {"name"}, {"birth_date"}},
		SharedMobileMax: 6,
	}
}

// WithDefaults fills what the identity section left out.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Threshold == 0 {
		c.Threshold = d.Threshold
	}
	if c.MaxBlock == 0 {
		c.MaxBlock = d.MaxBlock
	}
	if c.SharedMobileMax == 0 {
		c.SharedMobileMax = d.SharedMobileMax
	}
	if len(c.Blocking) == 0 {
		c.Blocking = d.Blocking
	}
	return c
}

// Check lists what is wrong with the section, each as "field: problem".
func (c Config) Check() []string {
	var out []string
	if c.Threshold <= 0 || c.Threshold >= 1 {
		out = append(out, fmt.Sprintf("threshold: a match probability between 0 and 1 (exclusive), not %v", c.Threshold))
	}
	if c.MaxBlock < 0 {
		out = append(out, fmt.Sprintf("max_block: must be 2 or more, not %d", c.MaxBlock))
	}
	if c.SharedMobileMax < 0 {
		out = append(out, fmt.Sprintf("shared_mobile_max: must be 2 or more, not %d", c.SharedMobileMax))
	}
	names := FieldNames()
	for i, rule := range c.Blocking {
		if len(rule) == 0 {
			out = append(out, fmt.Sprintf("blocking[%d]: an empty rule; list one or more of %s", i, strings.Join(names, ", ")))
		}
		for j, f := range rule {
			if !slices.Contains(names, f) {
				out = append(out, fmt.Sprintf("blocking[%d][%d]: unknown field %q; the fields are %s", i, j, f, strings.Join(names, ", ")))
			}
		}
	}
	attrs := make([]string, 0, len(c.Trust))
	for a := range c.Trust {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for _, attr := range attrs {
		if !slices.Contains(TrustAttributes, attr) {
			out = append(out, fmt.Sprintf("trust.%s: unknown attribute; trust orders are for %s", attr, strings.Join(TrustAttributes, ", ")))
		}
	}
	return out
}

// CheckSources checks the trust orders against the sources' systems (known
// once the contracts are).
func (c Config) CheckSources() []string {
	if len(c.Sources) == 0 {
		return []string{"sources: no feed contract declares a customer entity (identity:), so there is nothing to unify"}
	}
	systems := trustOrders(c.Sources)["default"]
	var out []string
	seen := map[string]string{}
	for _, s := range c.Sources {
		if other, dup := seen[s.System]; dup {
			out = append(out, fmt.Sprintf("sources: %s and %s both name their records system %q; their keys would collide (give one identity.system: of its own)", other, s.Entity, s.System))
		}
		seen[s.System] = s.Entity
	}
	for _, attr := range slices.Sorted(maps.Keys(c.Trust)) {
		for _, s := range c.Trust[attr] {
			if !slices.Contains(systems, s) {
				out = append(out, fmt.Sprintf("trust.%s: unknown system %q; the systems (contracts with identity:) are %s", attr, s, strings.Join(systems, ", ")))
			}
		}
	}
	return out
}

// withDefaults is WithDefaults for a run, where a non-positive number
// (never from a checked project file) also takes the default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Threshold <= 0 {
		c.Threshold = d.Threshold
	}
	if c.MaxBlock <= 0 {
		c.MaxBlock = d.MaxBlock
	}
	if len(c.Blocking) == 0 {
		c.Blocking = d.Blocking
	}
	trust := map[string][]string{}
	maps.Copy(trust, c.Trust)
	for k, v := range trustOrders(c.Sources) {
		if _, ok := trust[k]; !ok {
			trust[k] = v
		}
	}
	c.Trust = trust
	if c.SharedMobileMax <= 0 {
		c.SharedMobileMax = d.SharedMobileMax
	}
	return c
}

// Options are one run's settings.
type Options struct {
	Config Config
	// Full re-estimates the model and re-compares every pair.
	Full   bool
	RunID  string
	Logger *slog.Logger
}

// Summary is what a run did.
type Summary struct {
	RunID          string         `json:"run_id"`
	Mode           string         `json:"mode"` // full | incremental | unchanged
	Records        int            `json:"records"`
	Active         int            `json:"active_records"`
	Candidates     int64          `json:"candidate_pairs"`
	Matched        int            `json:"matched_pairs"`
	Parties        int            `json:"parties"`
	Persons        int            `json:"persons"`
	Companies      int            `json:"companies"`
	MultiSystem    int            `json:"parties_in_several_systems"`
	NewParties     int            `json:"new_parties"`
	Merges         int            `json:"merges"`
	Splits         int            `json:"splits"`
	ByRule         map[string]int `json:"records_by_rule"`
	InvalidIDs     int            `json:"invalid_ids"`
	Refused        int            `json:"refused_merges"`
	SkippedBlocks  int            `json:"skipped_blocks"`
	Relationships  map[string]int `json:"relationships"`
	Seconds        float64        `json:"seconds"`
	ChangedParties int            `json:"changed_parties"`
	// ReadParts is how many parts a full run read the source records in
	// (by a hash of the key, for DuckDB's memory limit).
	ReadParts int `json:"read_parts,omitempty"`
}

// fields are the engine fields of a bank record, in this order.
var fields = []match.Field{
	{Name: "name", Kind: match.KindName},
	{Name: "id_no", Kind: match.KindID},
	{Name: "birth_date", Kind: match.KindDate},
	{Name: "mobile", Kind: match.KindPhone},
}

// Unify runs identity unification over the raw customer tables.
func Unify(ctx context.Context, w *warehouse.Warehouse, o Options) (*Summary, error) {
	start := time.Now()
	defer collectOften()()
	cfg := o.Config.withDefaults()
	if probs := cfg.CheckSources(); len(probs) > 0 {
		return nil, fmt.Errorf("unify: %s", strings.Join(probs, "; "))
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.RunID == "" {
		o.RunID = "unify-" + start.UTC().Format("20060102T150405.000")
	}
	conn, err := w.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	last, err := loadLastRun(ctx, conn)
	if err != nil {
		return nil, err
	}
	// Loads up to maxLoad are this run's; a load committed while it runs
	// is the next run's. (Ingest and unify of one warehouse run one after
	// the other: a load that began before a later one but committed after
	// this read would be missed by incremental runs; --full reads all.)
	var maxLoad, accountsLoad int64
	if err := conn.QueryRowContext(ctx, maxLoadSQL(cfg.Sources)).Scan(&maxLoad, &accountsLoad); err != nil {
		return nil, fmt.Errorf("unify: %w", err)
	}
	full := o.Full || last.model == nil
	// step logs where the run's memory is (debug): the Go heap live at
	// its last collection and held from the system, and DuckDB's use.
	stepAt := time.Now()
	step := func(name string) {
		if !log.Enabled(ctx, slog.LevelDebug) {
			return
		}
		used, _ := w.DuckDBUsed(ctx)
		log.Debug("unify step", "step", name, "seconds", round(time.Since(stepAt)), "go_live", warehouse.FormatSize(warehouse.GoLive()),
			"go_held", warehouse.FormatSize(warehouse.GoHeld()), "duckdb_used", warehouse.FormatSize(used))
		stepAt = time.Now()
	}
	sum := &Summary{RunID: o.RunID, ByRule: map[string]int{}, Relationships: map[string]int{}}
	prev := &state{xref: map[string]prevRecord{}, partyRows: map[string]prevParty{}, lastSeq: last.lastSeq}
	var recs []*record
	var links []storedLink
	if full {
		sum.Mode = "full"
		parts, err := readParts(ctx, conn, cfg.Sources, maxLoad, w.Budget().DuckDB)
		if err != nil {
			return nil, err
		}
		sum.ReadParts = parts
		if recs, err = readRecords(ctx, conn, cfg.Sources, 0, maxLoad, false, parts); err != nil {
			return nil, err
		}
		step("records read")
		normaliseAll(recs)
		step("records normalised")
		for _, r := range recs {
			r.active = true
		}
	} else {
		sum.Mode = "incremental"
		changed, err := readRecords(ctx, conn, cfg.Sources, last.lastLoad, maxLoad, true, 1)
		if err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			sum.Mode = "unchanged"
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM core.party_xref`).Scan(&sum.Records); err != nil {
				return nil, err
			}
			if err := unchangedRun(ctx, conn, sum, last, maxLoad, accountsLoad > last.lastLoad, cfg, start); err != nil {
				return nil, err
			}
			log.Info("unify: nothing changed", "parties", sum.Parties)
			return sum, nil
		}
		normaliseAll(changed)
		for _, r := range changed {
			r.active = true
		}
		read := time.Now()
		if recs, links, err = prev.loadContext(ctx, conn, changed, cfg); err != nil {
			return nil, err
		}
		log.Debug("unify: parties the changes touch read", "records", len(recs), "links", len(links), "seconds", round(time.Since(read)))
	}
	// The records are in the Go heap from here to the end of the run:
	// while a full run's are matched DuckDB has nothing to do and keeps a
	// tenth of the budget (its blocks cached by the read go); then it has
	// what Go leaves of the budget.
	restoreLimit := func() {}
	if full { // (an incremental run holds a slice of the bank)
		restoreLimit = idleDuckDB(ctx, w, log)
	}
	defer func() { restoreLimit() }()
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].system != recs[j].system {
			return recs[i].system < recs[j].system
		}
		return recs[i].key < recs[j].key
	})
	for _, r := range recs {
		sum.Records++
		if r.active {
			sum.Active++
		}
		if !r.idValid && r.nID() != "" {
			sum.InvalidIDs++
		}
	}
	log.Info("unify: records read", "mode", sum.Mode, "records", sum.Records, "active", sum.Active, "parts", max(sum.ReadParts, 1), "seconds", round(time.Since(start)))

	d := &match.Data{Fields: fields, Values: make([][]string, len(fields)), Alt: make([][]string, len(fields))}
	for f := range fields {
		d.Values[f] = make([]string, len(recs))
	}
	d.Alt[0] = make([]string, len(recs))
	d.Key = make([]string, len(recs))
	d.Partition = make([]string, len(recs))
	d.Release = true // (the records hold the values)
	for i, r := range recs {
		d.Values[0][i], d.Values[1][i], d.Values[2][i], d.Values[3][i] = r.nName(), r.nID(), r.nBirth(), r.nMobile()
		d.Alt[0][i] = r.nAlt()
		d.Key[i] = r.matchKey()
		d.Partition[i] = r.ptype
	}
	// Term frequencies would differ between a full run and the slice of
	// records an incremental run sees; without them, a pair scores the same
	// whichever run compares it.
	mcfg := match.Config{Blocking: cfg.Blocking, MaxBlock: cfg.MaxBlock, Threshold: cfg.Threshold, NoTermFrequency: true}
	modelJSON := last.modelJSON
	if !full {
		d.Active = make([]bool, len(recs))
		index := make(map[string]int32, len(recs))
		for i, r := range recs {
			d.Active[i] = r.active
			index[r.ref()] = int32(i)
		}
		for _, l := range links {
			a, okA := index[l.a]
			b, okB := index[l.b]
			if okA && okB && !recs[a].active && !recs[b].active {
				d.Prior = append(d.Prior, match.Edge{A: min(a, b), B: max(a, b), Prob: l.prob})
			}
		}
		mcfg.Weights = map[string]match.Weights{}
		for _, f := range last.model.Fields {
			mcfg.Weights[f.Name] = match.Weights{M: f.M, U: f.U}
		}
		mcfg.Prior = last.model.Prior
	}
	res, err := match.Link(ctx, d, mcfg)
	if err != nil {
		return nil, fmt.Errorf("unify: %w", err)
	}
	if full {
		// What matching held beside the records (their columns, blocks and
		// candidate pairs: 1.6 GB of pairs alone at 5M parties) is garbage
		// now: collect it and give it back before the earlier state is
		// read, rather than let the heap grow into it (at 5M the process
		// went past its budget there).
		d.Key, d.Partition = nil, nil
		debug.FreeOSMemory()
		b, err := json.Marshal(res.Model)
		if err != nil {
			return nil, err
		}
		modelJSON = b
	}
	sum.Candidates, sum.Matched, sum.Refused = res.Stats.Candidates, res.Stats.Matches, res.Stats.Refused
	sum.SkippedBlocks = res.Stats.SkippedBlocks
	if sum.SkippedBlocks > 0 {
		log.Warn("unify: blocks larger than identity.max_block were not compared", "blocks", sum.SkippedBlocks, "max_block", cfg.MaxBlock)
	}
	log.Info("unify: matched", "candidate_pairs", res.Stats.Candidates, "links", res.Stats.Matches,
		"refused", res.Stats.Refused, "seconds", round(time.Since(start)))
	step("matched")
	if full {
		// Every record's and party's earlier state, for the party ids:
		// read once matching has let go of its candidate pairs (a full
		// run over a 5M-party warehouse holds 2.5 GiB of it).
		if err := prev.loadAll(ctx, conn, recs); err != nil {
			return nil, err
		}
		step("earlier state read")
	}

	ids := assignIDs(recs, res.Cluster, prev, o.RunID)
	sum.NewParties, sum.Merges, sum.Splits = ids.created, countKind(ids.events, "merge"), countKind(ids.events, "split")
	restoreLimit()
	restoreLimit = yieldToGo(ctx, w, log, "parties assigned")
	step("parties assigned")
	if err := write(ctx, conn, writeSet{
		runID: o.RunID, full: full, recs: recs, res: res, ids: ids,
		links: append(d.Prior[:len(d.Prior):len(d.Prior)], res.Edges...), prev: prev, sum: sum,
		modelJSON: modelJSON, start: start, maxLoad: maxLoad, cfg: cfg,
	}); err != nil {
		return nil, err
	}
	step("written")
	sum.Seconds = time.Since(start).Seconds()
	log.Info("unify: done", "mode", sum.Mode, "parties", sum.Parties, "new", sum.NewParties,
		"merges", sum.Merges, "splits", sum.Splits, "seconds", round(time.Since(start)))
	return sum, nil
}

// yieldToGo gives DuckDB what the Go heap leaves of the memory budget
// (warehouse.YieldToGo) until the returned func is called. A limit that
// cannot be set is logged: the run goes on under the one it has.
func yieldToGo(ctx context.Context, w *warehouse.Warehouse, log *slog.Logger, at string) (restore func()) {
	restore, limit, err := w.YieldToGo(ctx)
	if err != nil {
		log.Warn("unify: DuckDB's memory limit not lowered beside the records", "at", at, "error", err)
		return restore
	}
	if limit < w.Budget().DuckDB {
		log.Info("unify: DuckDB's memory limit lowered beside the records in Go", "at", at,
			"go_held", warehouse.FormatSize(warehouse.GoHeld()), "duckdb_limit", warehouse.FormatSize(limit), "budget", w.Budget().String())
	}
	return restore
}

// idleDuckDB lowers DuckDB's memory limit while the records are matched
// in Go (warehouse.IdleDuckDB) until the returned func is called.
func idleDuckDB(ctx context.Context, w *warehouse.Warehouse, log *slog.Logger) (restore func()) {
	restore, limit, err := w.IdleDuckDB(ctx)
	if err != nil {
		log.Warn("unify: DuckDB's memory limit not lowered while matching", "error", err)
		return restore
	}
	log.Debug("unify: DuckDB's memory limit lowered while matching", "duckdb_limit", warehouse.FormatSize(limit))
	return restore
}

// unifyGCPercent is the Go collector's GOGC while a unification runs.
// It holds every record it compares in the Go heap (about 2.3 GB live
// at 1M parties), and at Go's default of 100 the heap grows to twice
// what is live between collections. At 50 the first day of a 1M-party
// bank peaked at 4.7 instead of 5.9 GiB for 5% more time
// (docs/performance.md, "Memory, again").
const unifyGCPercent = 50

// gcLowered counts the unifications running in the process, which share
// one collector setting: the first lowers it, the last puts it back.
var gcLowered struct {
	sync.Mutex
	n   int
	was int
}

// collectOften sets the collector to unifyGCPercent until the returned
// func is called, unless GOGC is set in the environment (then that wins)
// or the collector already runs at least as often, or not at all.
func collectOften() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	gcLowered.Lock()
	defer gcLowered.Unlock()
	if gcLowered.n == 0 {
		gcLowered.was = debug.SetGCPercent(unifyGCPercent)
		if gcLowered.was <= unifyGCPercent { // (negative: off)
			debug.SetGCPercent(gcLowered.was)
			return func() {}
		}
	}
	gcLowered.n++
	return func() {
		gcLowered.Lock()
		defer gcLowered.Unlock()
		if gcLowered.n--; gcLowered.n == 0 {
			debug.SetGCPercent(gcLowered.was)
		}
	}
}

// unchangedRun records a run that found no changed record; new card
// accounts alone still refresh the relationships.
func unchangedRun(ctx context.Context, conn *sql.Conn, sum *Summary, last *lastRun, maxLoad int64, accounts bool, cfg Config, start time.Time) error {
	return warehouse.InTx(ctx, conn, func() (err error) {
		if accounts {
			if sum.Relationships, err = rebuildRelationships(ctx, conn, sum.RunID, cfg); err != nil {
				return err
			}
		}
		if err = countParties(ctx, conn, sum); err != nil {
			return err
		}
		sum.Seconds = time.Since(start).Seconds()
		return recordRun(ctx, conn, sum, last.lastSeq, maxLoad, last.modelJSON, start)
	})
}

// countParties fills the party counts of a summary from core.party.
func countParties(ctx context.Context, conn *sql.Conn, sum *Summary) error {
	if err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (party_type = 'P'),
		count(*) FILTER (party_type = 'C'), count(*) FILTER (len(systems) > 1) FROM core.party`).Scan(
		&sum.Parties, &sum.Persons, &sum.Companies, &sum.MultiSystem); err != nil {
		return fmt.Errorf("count parties: %w", err)
	}
	return nil
}

func round(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func countKind(evs []event, kind string) int {
	n := 0
	for _, e := range evs {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// normaliseAll normalises records on every core.
func normaliseAll(recs []*record) {
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	chunk := (len(recs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(recs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range recs[lo:hi] {
				r.normalise()
			}
		}()
	}
	wg.Wait()
}

// state is what earlier runs left, for the records this run looks at.
type state struct {
	xref map[string]prevRecord // by record ref (an incremental run's records)
	// of is each record's earlier state, in the order of the run's records
	// (a full run: a map of 15.85M refs held 2.5 GiB at 5M parties, and
	// every lookup built its ref anew); party "" when it had none.
	of        []prevRecord
	partyRows map[string]prevParty
	lastSeq   int64
}

// lookup is the earlier state of record r, the run's i-th.
func (st *state) lookup(i int, r *record) (prevRecord, bool) {
	if st.of != nil {
		return st.of[i], st.of[i].party != ""
	}
	p, ok := st.xref[r.ref()]
	return p, ok
}

type prevRecord struct {
	party, updated string
	hash           uint64
}

type prevParty struct {
	fingerprint        uint64
	createdRun, update string
}

type storedLink struct {
	a, b string
	prob float64
}

// lastRun is what ops.identity_runs says: the model of the last full run,
// the last party number issued and the last raw load seen.
type lastRun struct {
	model     *match.Model
	modelJSON []byte
	lastSeq   int64
	lastLoad  int64
}

func loadLastRun(ctx context.Context, conn *sql.Conn) (*lastRun, error) {
	l := &lastRun{}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(last_party_seq), 0), coalesce(max(last_load_id), 0)
		FROM ops.identity_runs`).Scan(&l.lastSeq, &l.lastLoad); err != nil {
		return nil, fmt.Errorf("read ops.identity_runs: %w", err)
	}
	var model sql.NullString
	err := conn.QueryRowContext(ctx, `SELECT CAST(model AS VARCHAR) FROM ops.identity_runs
		WHERE mode = 'full' ORDER BY finished_at DESC LIMIT 1`).Scan(&model)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("read ops.identity_runs: %w", err)
	}
	var parties int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM core.party_xref`).Scan(&parties); err != nil {
		return nil, err
	}
	if model.Valid && parties > 0 {
		var m match.Model
		if err := json.Unmarshal([]byte(model.String), &m); err != nil {
			return nil, fmt.Errorf("ops.identity_runs model: %w", err)
		}
		l.model, l.modelJSON = &m, []byte(model.String)
	}
	return l, nil
}

// loadAll reads the earlier state of every record of a full run (recs,
// sorted by system and key) and of every party.
func (st *state) loadAll(ctx context.Context, conn *sql.Conn, recs []*record) error {
	rows, err := conn.QueryContext(ctx, `SELECT system, source_key, party_id, record_hash, coalesce(updated_run, '') FROM core.party_xref`)
	if err != nil {
		return fmt.Errorf("read core.party_xref: %w", err)
	}
	st.of = make([]prevRecord, len(recs))
	runs := map[string]string{} // one copy of each run id, which most records share
	for rows.Next() {
		var system, key string
		var p prevRecord
		if err := rows.Scan(&system, &key, &p.party, &p.hash, &p.updated); err != nil {
			rows.Close()
			return fmt.Errorf("read core.party_xref: %w", err)
		}
		i := sort.Search(len(recs), func(j int) bool {
			return recs[j].system > system || recs[j].system == system && recs[j].key >= key
		})
		p.updated = once(runs, p.updated)
		for ; i < len(recs) && recs[i].system == system && recs[i].key == key; i++ {
			st.of[i] = p
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read core.party_xref: %w", err)
	}
	return st.loadParties(ctx, conn, `SELECT party_id, fingerprint, created_run, updated_run FROM core.party`)
}

func (st *state) loadParties(ctx context.Context, conn *sql.Conn, query string) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("read core.party: %w", err)
	}
	defer rows.Close()
	runs := map[string]string{}
	for rows.Next() {
		var id string
		var p prevParty
		var created, updated sql.NullString
		if err := rows.Scan(&id, &p.fingerprint, &created, &updated); err != nil {
			return err
		}
		p.createdRun, p.update = once(runs, created.String), once(runs, updated.String)
		st.partyRows[id] = p
	}
	return rows.Err()
}

// once is s as m first saw it, so that equal strings share one copy.
func once(m map[string]string, s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	m[s] = s
	return s
}

// loadContext finds what an incremental run must look at besides the
// changed records: every record of every party that a changed record could
// join (sharing its identifier, or a blocking value where one side has no
// identifier) or that it belonged to, with their stored links. It returns
// the records (changed ones in their new version) and the links, and fills
// st with their earlier state.
func (st *state) loadContext(ctx context.Context, conn *sql.Conn, changed []*record, cfg Config) ([]*record, []storedLink, error) {
	keys := newSink("cdp_unify_keys", i64("rule"), str("ptype"), str("key"), boolean("keyless"))
	refs := newSink("cdp_unify_changed", str("system"), str("source_key"))
	fieldIdx := map[string]int{}
	for i, f := range fields {
		fieldIdx[f.Name] = i
	}
	for _, r := range changed {
		refs.row(r.system, r.key)
		if r.matchKey() != "" {
			keys.row(int64(-1), r.ptype, r.matchKey(), false)
		}
		vals := [...]string{r.nName(), r.nID(), r.nBirth(), r.nMobile()}
		for ri, rule := range cfg.Blocking {
			parts := make([]string, 0, len(rule))
			for _, f := range rule {
				if v := vals[fieldIdx[f]]; v != "" {
					parts = append(parts, v)
				}
			}
			if len(parts) == len(rule) {
				keys.row(int64(ri), r.ptype, strings.Join(parts, "\x00"), r.matchKey() == "")
			}
		}
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_unify_keys (rule BIGINT, ptype VARCHAR, key VARCHAR, keyless BOOLEAN);
		CREATE OR REPLACE TEMP TABLE cdp_unify_changed (system VARCHAR, source_key VARCHAR)`); err != nil {
		return nil, nil, err
	}
	for _, s := range []*sink{keys, refs} {
		if err := s.flush(ctx, conn); err != nil {
			return nil, nil, err
		}
	}
	expr := map[string]string{"name": "x.name", "id_no": "x.id_no", "birth_date": "CAST(x.birth_date AS VARCHAR)", "mobile": "x.mobile"}
	hits := []string{
		`SELECT x.party_id FROM core.party_xref x JOIN cdp_unify_changed c USING (system, source_key)`,
		`SELECT x.party_id FROM core.party_xref x JOIN cdp_unify_keys k ON k.rule = -1 AND k.key = x.match_key`,
	}
	for ri, rule := range cfg.Blocking {
		parts := make([]string, len(rule))
		for i, f := range rule {
			parts[i] = expr[f]
		}
		hits = append(hits, fmt.Sprintf(`SELECT x.party_id FROM core.party_xref x JOIN cdp_unify_keys k
			ON k.rule = %d AND k.ptype = x.party_type AND k.key = %s WHERE k.keyless OR x.match_key IS NULL`,
			ri, strings.Join(parts, " || chr(0) || ")))
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_unify_parties AS `+strings.Join(hits, " UNION ")); err != nil {
		return nil, nil, fmt.Errorf("find the parties changed records touch: %w", err)
	}
	// A stored link between two parties (a union refused because of two
	// different identifiers) ties their fate: when one is looked at again,
	// so is the other, and the link is kept.
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdp_unify_cross AS
		SELECT DISTINCT a_party_id AS pa, b_party_id AS pb FROM core.party_link WHERE a_party_id <> b_party_id`); err != nil {
		return nil, nil, fmt.Errorf("read links across parties: %w", err)
	}
	for {
		r, err := conn.ExecContext(ctx, `INSERT INTO cdp_unify_parties
			SELECT DISTINCT other FROM (
				SELECT pb AS other FROM cdp_unify_cross WHERE pa IN (SELECT party_id FROM cdp_unify_parties)
				UNION SELECT pa FROM cdp_unify_cross WHERE pb IN (SELECT party_id FROM cdp_unify_parties))
			WHERE other NOT IN (SELECT party_id FROM cdp_unify_parties)`)
		if err != nil {
			return nil, nil, fmt.Errorf("follow links across parties: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			break
		}
	}
	old, err := readStored(ctx, conn, `SELECT `+xrefColumns+` FROM core.party_xref x
		WHERE x.party_id IN (SELECT party_id FROM cdp_unify_parties) ORDER BY x.system, x.source_key`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the parties changed records touch: %w", err)
	}
	isChanged := map[string]bool{}
	for _, r := range changed {
		isChanged[r.ref()] = true
	}
	recs := append([]*record(nil), changed...)
	for _, s := range old {
		st.xref[s.rec.ref()] = prevRecord{party: s.party, updated: s.updated, hash: s.rec.hash}
		if !isChanged[s.rec.ref()] {
			recs = append(recs, s.rec)
		}
	}
	if err := st.loadParties(ctx, conn, `SELECT party_id, fingerprint, created_run, updated_run FROM core.party
		WHERE party_id IN (SELECT party_id FROM cdp_unify_parties)`); err != nil {
		return nil, nil, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT l.a_system || ':' || l.a_key, l.b_system || ':' || l.b_key, l.probability
		FROM core.party_link l WHERE l.a_party_id IN (SELECT party_id FROM cdp_unify_parties)`)
	if err != nil {
		return nil, nil, fmt.Errorf("read core.party_link: %w", err)
	}
	defer rows.Close()
	var links []storedLink
	for rows.Next() {
		var l storedLink
		if err := rows.Scan(&l.a, &l.b, &l.prob); err != nil {
			return nil, nil, err
		}
		links = append(links, l)
	}
	return recs, links, rows.Err()
}

// event is a merge or split.
type event struct {
	kind, old, new string
	records        int
}

// idPlan is the party id of every cluster and the events that led there.
type idPlan struct {
	partyOf []string // per cluster
	events  []event
	created int
	lastSeq int64
}

// assignIDs gives every cluster a party id, keeping earlier ids by the rules
// in the package documentation.
func assignIDs(recs []*record, cluster []int32, prev *state, runID string) idPlan {
	nc := 0
	for _, c := range cluster {
		nc = max(nc, int(c)+1)
	}
	// count[c][p]: records of cluster c that belonged to previous party p.
	count := make([]map[string]int, nc)
	firstIn := map[string]map[int32]int{} // p → cluster → first record index
	for i, r := range recs {
		p, ok := prev.lookup(i, r)
		if !ok {
			continue
		}
		c := cluster[i]
		if count[c] == nil {
			count[c] = map[string]int{}
		}
		count[c][p.party]++
		if firstIn[p.party] == nil {
			firstIn[p.party] = map[int32]int{}
		}
		if _, seen := firstIn[p.party][c]; !seen {
			firstIn[p.party][c] = i
		}
	}
	// home[p]: the cluster holding most of p's records.
	home := map[string]int32{}
	for p, cs := range firstIn {
		best, bestN, bestFirst := int32(-1), -1, 0
		for c, first := range cs {
			n := count[c][p]
			if n > bestN || n == bestN && first < bestFirst {
				best, bestN, bestFirst = c, n, first
			}
		}
		home[p] = best
	}
	plan := idPlan{partyOf: make([]string, nc), lastSeq: prev.lastSeq}
	for c := 0; c < nc; c++ {
		var claim []string
		for p := range count[c] {
			if home[p] == int32(c) {
				claim = append(claim, p)
			}
		}
		sort.Strings(claim) // same width: string order is issue order
		if len(claim) > 0 {
			plan.partyOf[c] = claim[0]
			for _, p := range claim[1:] {
				plan.events = append(plan.events, event{kind: "merge", old: p, new: claim[0], records: count[c][p]})
			}
		} else {
			plan.lastSeq++
			plan.partyOf[c] = partyID(plan.lastSeq)
			plan.created++
		}
		// Records that came from parties whose home is elsewhere split off.
		var from []string
		for p := range count[c] {
			if home[p] != int32(c) {
				from = append(from, p)
			}
		}
		sort.Strings(from)
		for _, p := range from {
			plan.events = append(plan.events, event{kind: "split", old: p, new: plan.partyOf[c], records: count[c][p]})
		}
	}
	return plan
}

// partyID renders the n-th issued party id.
func partyID(n int64) string { return fmt.Sprintf("P%010d", n) }
