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
	"runtime"
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
		Threshold: 0.9,
		MaxBlock:  1000,
		Blocking:  [][]string{{"id_no"}, {"mobile"}, {"name"}, {"birth_date"}},
		Trust: map[string][]string{
			"default": {"credit", "wealth", "card", "ebank"},
			// Mobile banking verifies its number by SMS at every login.
			"mobile": {"ebank", "card", "wealth", "credit"},
		},
		SharedMobileMax: 6,
	}
}

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
	if c.Trust == nil {
		c.Trust = map[string][]string{}
	}
	for k, v := range d.Trust {
		if _, ok := c.Trust[k]; !ok {
			c.Trust[k] = v
		}
	}
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
	Relationships  map[string]int `json:"relationships"`
	Seconds        float64        `json:"seconds"`
	ChangedParties int            `json:"changed_parties"`
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
	cfg := o.Config.withDefaults()
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

	recs, err := readRecords(ctx, conn)
	if err != nil {
		return nil, err
	}
	normaliseAll(recs)
	log.Info("unify: source records read", "records", len(recs), "seconds", round(time.Since(start)))

	prev, err := loadState(ctx, conn)
	if err != nil {
		return nil, err
	}
	sum := &Summary{RunID: o.RunID, Records: len(recs), ByRule: map[string]int{}, Relationships: map[string]int{}}
	active := make([]bool, len(recs))
	index := make(map[string]int32, len(recs))
	for i, r := range recs {
		index[r.ref()] = int32(i)
		p, ok := prev.xref[r.ref()]
		if !ok || p.hash != r.hash {
			active[i] = true
			sum.Active++
		}
		if !r.idValid && r.idNo != "" {
			sum.InvalidIDs++
		}
	}
	full := o.Full || prev.model == nil
	switch {
	case full:
		sum.Mode = "full"
	case sum.Active == 0 && len(prev.xref) == len(recs):
		sum.Mode = "unchanged"
		if err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (party_type = 'P'),
			count(*) FILTER (party_type = 'C'), count(*) FILTER (len(systems) > 1) FROM core.party`).Scan(
			&sum.Parties, &sum.Persons, &sum.Companies, &sum.MultiSystem); err != nil {
			return nil, fmt.Errorf("count parties: %w", err)
		}
		sum.Seconds = time.Since(start).Seconds()
		if err := recordRun(ctx, conn, sum, prev.lastSeq, prev.modelJSON, start); err != nil {
			return nil, err
		}
		log.Info("unify: nothing changed", "records", len(recs))
		return sum, nil
	default:
		sum.Mode = "incremental"
	}

	d := &match.Data{Fields: fields, Values: make([][]string, len(fields)), Alt: make([][]string, len(fields))}
	for f := range fields {
		d.Values[f] = make([]string, len(recs))
	}
	d.Alt[0] = make([]string, len(recs))
	d.Key = make([]string, len(recs))
	d.Partition = make([]string, len(recs))
	for i, r := range recs {
		d.Values[0][i], d.Values[1][i], d.Values[2][i], d.Values[3][i] = r.nName, r.nID, r.nBirth, r.nMobile
		d.Alt[0][i] = r.nAlt
		d.Key[i] = r.matchKey
		d.Partition[i] = r.ptype
	}
	mcfg := match.Config{Blocking: cfg.Blocking, MaxBlock: cfg.MaxBlock, Threshold: cfg.Threshold}
	if !full {
		d.Active = active
		for _, l := range prev.links {
			a, okA := index[l.a]
			b, okB := index[l.b]
			if okA && okB && !active[a] && !active[b] {
				d.Prior = append(d.Prior, match.Edge{A: a, B: b, Prob: l.prob})
			}
		}
		mcfg.Weights = map[string]match.Weights{}
		for _, f := range prev.model.Fields {
			mcfg.Weights[f.Name] = match.Weights{M: f.M, U: f.U}
		}
		mcfg.Prior = prev.model.Prior
	}
	res, err := match.Link(ctx, d, mcfg)
	if err != nil {
		return nil, fmt.Errorf("unify: %w", err)
	}
	sum.Candidates, sum.Matched, sum.Refused = res.Stats.Candidates, res.Stats.Matches, res.Stats.Refused
	log.Info("unify: matched", "mode", sum.Mode, "active", sum.Active, "candidate_pairs", res.Stats.Candidates,
		"links", res.Stats.Matches, "clusters", res.Stats.Clusters, "seconds", round(time.Since(start)))

	links := append(d.Prior[:len(d.Prior):len(d.Prior)], res.Edges...)
	model := res.Model
	modelJSON, err := json.Marshal(model)
	if err != nil {
		return nil, err
	}
	if !full {
		modelJSON = prev.modelJSON
	}

	ids := assignIDs(recs, res.Cluster, prev, o.RunID)
	sum.NewParties, sum.Merges, sum.Splits = ids.created, countKind(ids.events, "merge"), countKind(ids.events, "split")
	parties := goldenRecords(recs, res.Cluster, ids.partyOf, cfg)
	rels := relationships(ctx, conn, recs, res.Cluster, ids.partyOf, cfg)
	if rels.err != nil {
		return nil, rels.err
	}
	for _, p := range parties {
		sum.Parties++
		if p.ptype == "P" {
			sum.Persons++
		} else {
			sum.Companies++
		}
		if len(p.systems) > 1 {
			sum.MultiSystem++
		}
	}
	for _, rel := range rels.rows {
		sum.Relationships[rel.kind]++
	}

	if err := write(ctx, conn, writeSet{
		runID: o.RunID, recs: recs, res: res, ids: ids, parties: parties, links: links,
		rels: rels.rows, prev: prev, sum: sum, modelJSON: string(modelJSON), start: start,
	}); err != nil {
		return nil, err
	}
	sum.Seconds = time.Since(start).Seconds()
	log.Info("unify: done", "mode", sum.Mode, "parties", sum.Parties, "new", sum.NewParties,
		"merges", sum.Merges, "splits", sum.Splits, "seconds", round(time.Since(start)))
	return sum, nil
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

// state is what earlier runs left.
type state struct {
	xref      map[string]prevRecord
	links     []storedLink
	model     *match.Model
	modelJSON []byte
	lastSeq   int64
	parties   int
	// partyRows holds each party's golden-record fingerprint and runs, so
	// an unchanged party keeps its updated_run.
	partyRows map[string]prevParty
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

func loadState(ctx context.Context, conn *sql.Conn) (*state, error) {
	st := &state{xref: map[string]prevRecord{}, partyRows: map[string]prevParty{}}
	rows, err := conn.QueryContext(ctx, `SELECT system || ':' || source_key, party_id, record_hash, coalesce(updated_run, '') FROM core.party_xref`)
	if err != nil {
		return nil, fmt.Errorf("read core.party_xref: %w", err)
	}
	for rows.Next() {
		var ref string
		var p prevRecord
		if err := rows.Scan(&ref, &p.party, &p.hash, &p.updated); err != nil {
			rows.Close()
			return nil, err
		}
		st.xref[ref] = p
	}
	rows.Close()
	rows, err = conn.QueryContext(ctx, `SELECT a_system || ':' || a_key, b_system || ':' || b_key, probability FROM core.party_link`)
	if err != nil {
		return nil, fmt.Errorf("read core.party_link: %w", err)
	}
	for rows.Next() {
		var l storedLink
		if err := rows.Scan(&l.a, &l.b, &l.prob); err != nil {
			rows.Close()
			return nil, err
		}
		st.links = append(st.links, l)
	}
	rows.Close()
	rows, err = conn.QueryContext(ctx, `SELECT party_id, fingerprint, created_run, updated_run FROM core.party`)
	if err != nil {
		return nil, fmt.Errorf("read core.party: %w", err)
	}
	for rows.Next() {
		var id string
		var p prevParty
		var created, updated sql.NullString
		if err := rows.Scan(&id, &p.fingerprint, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		p.createdRun, p.update = created.String, updated.String
		st.partyRows[id] = p
	}
	rows.Close()
	st.parties = len(st.partyRows)
	var model sql.NullString
	err = conn.QueryRowContext(ctx, `SELECT CAST(model AS VARCHAR), last_party_seq FROM ops.identity_runs
		WHERE mode = 'full' ORDER BY finished_at DESC LIMIT 1`).Scan(&model, &st.lastSeq)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("read ops.identity_runs: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(last_party_seq), 0) FROM ops.identity_runs`).Scan(&st.lastSeq); err != nil {
		return nil, err
	}
	if model.Valid && len(st.xref) > 0 {
		var m match.Model
		if err := json.Unmarshal([]byte(model.String), &m); err != nil {
			return nil, fmt.Errorf("ops.identity_runs model: %w", err)
		}
		st.model, st.modelJSON = &m, []byte(model.String)
	}
	return st, nil
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
		p, ok := prev.xref[r.ref()]
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

// refsJoin is a stable, readable list of record refs.
func refsJoin(refs []string) string { sort.Strings(refs); return strings.Join(refs, ",") }
