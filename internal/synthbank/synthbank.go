// Package synthbank is a deterministic synthetic bank. It writes the seven
// built-in source feeds (the four of ../../../shared/FEEDS.md: credit GBK
// CSV, wealth Parquet, card pipe-delimited text, ebank JSONL and a Kafka
// stream; core banking, fixed-width GBK; the contact center and the CRM;
// the vendors' external data) for a number of
// business days, together with the ground truth the platform is judged
// against: who the real parties are, which source keys belong to whom, how
// parties are linked, which behaviours were planted, and which rows were
// damaged on purpose.
//
// Guarantees:
//
//   - Determinism: the same Options produce the same bytes in every file and
//     the same stream events. Every feed draws from its own seeded PCG streams
//     (one per feed and per day), so the feeds are generated in parallel
//     without affecting each other; nothing is ever emitted in map order.
//   - Layout: feeds go to Out/feeds/<feed>/… with the contract's file names
//     (connectors/contract), headers equal to the contract's columns in order,
//     and every data file is followed by its "<file>.ok" control file
//     ("<data rows>|<md5 of the file>\n"), written after the data file is
//     closed. Existing files of the same name are overwritten.
//   - Ground truth goes to Out/truth/ (see truth/README.md written alongside);
//     the pipeline never reads it.
//   - Damage is deliberate and listed: every damaged row is in
//     truth/bad_rows.csv with its physical line and contract reason code, and
//     rows of planted or otherwise guarded parties are never damaged.
package synthbank

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// Options controls the size and shape of the synthetic bank.
type Options struct {
	Out        string    // root folder; feeds go to Out/feeds/<feed>/..., ground truth to Out/truth/
	Parties    int       // number of real-world parties (default 20000)
	Days       int       // number of business days delivered (default 7)
	Seed       int64     // default 1 (0 means the default)
	End        time.Time // last business date: its calendar date in its own location (default 2026-11-20, China time)
	BadRowRate float64   // share of data rows deliberately damaged; 0 = none (DefaultBadRowRate is the CLI default)
	StreamDays int       // how many of the last days' ebank events are ALSO returned for Kafka; 0 = none
	// HistoryMonths of core banking's monthly summary (月日均) before the
	// window's first month, delivered with the first day; 0 = none.
	HistoryMonths int
	// Activity is the share of parties that use the bank on a given
	// business day — card purchases, e-banking, discretionary wealth
	// trades, a company's settlements (see quiet). 0 (and 1) keep every
	// party active every day, as test banks are made: the planted
	// behaviours are read over the window's last days, and stand out only
	// against neighbours whose activity is steady. Planted and guarded
	// parties act every day whatever the share; contractual flows
	// (maturities, repayments), the daily snapshots and the market's moves
	// of fund values happen on every day. DefaultActivity is cdp bench
	// dag's, where the day's cost is measured.
	Activity float64
	// Progress, when set, is told about each stage ("world", "credit",
	// "wealth", "card", "ebank", "core_banking", "external", "truth") as days complete. Calls are
	// serialised; the callback need not be safe for concurrent use.
	Progress func(stage string, done, total int)
}

// Defaults.
const (
	DefaultParties    = 20000
	DefaultDays       = 7
	DefaultSeed       = 1
	DefaultBadRowRate = 0.0005
	// DefaultHistoryMonths with the window's own month make the twelve
	// months the key-account criteria read.
	DefaultHistoryMonths = 11
	// DefaultActivity is the share of parties acting on a business day at
	// which incremental runs are measured: most persons do nothing on most
	// days.
	DefaultActivity = 0.15
)

// DefaultEnd is the default last business date, 2026-11-20 in China time.
var DefaultEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, chinaZone)

// DefaultOptions returns the documented defaults (including DefaultBadRowRate)
// writing to out.
func DefaultOptions(out string) Options {
	return Options{Out: out, Parties: DefaultParties, Days: DefaultDays, Seed: DefaultSeed,
		End: DefaultEnd, BadRowRate: DefaultBadRowRate, HistoryMonths: DefaultHistoryMonths}
}

// Summary says what Generate wrote.
type Summary struct {
	Files        int              // data files written (control files not counted)
	Rows         map[string]int64 // "credit.customers" -> data rows over all days, bad rows included
	Bytes        int64            // bytes of the data files
	Parties      int
	SourceKeys   int // customer records over all systems (rows of truth/xref.csv)
	BadRows      int
	StreamEvents []StreamEvent // only when StreamDays > 0
}

// StreamEvent is one Kafka message for the ebank.events topic.
type StreamEvent struct {
	Key   []byte // user_id
	Value []byte // one JSON object
}

func (o Options) withDefaults() Options {
	if o.Parties == 0 {
		o.Parties = DefaultParties
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	return o
}

// liveBytesTwoWriters is the live Go heap a party takes while the bank is
// written with two systems' writers at once (gctrace at 1M parties: 3.3
// GB; 2.6 GB with one).
const liveBytesTwoWriters = 3300

// writersAtOnce is how many systems' writers run at once: each builds its
// book of accounts in memory beside the world (at 5M parties, all five at
// once outgrew a 24 GB machine). Two keep two cores busy; one when two
// would not fit in the Go heap's soft limit (debug.SetMemoryLimit, which
// cdp gen sets to the process budget) with room to collect.
func writersAtOnce(parties int) int {
	limit := debug.SetMemoryLimit(-1) // reads it
	if limit == math.MaxInt64 || int64(parties)*liveBytesTwoWriters < limit*4/5 {
		return 2
	}
	return 1
}

func (o Options) validate() error {
	switch {
	case o.Out == "":
		return errors.New("synthbank: Options.Out is required")
	case o.Parties < 1:
		return fmt.Errorf("synthbank: Parties must be positive, got %d", o.Parties)
	case o.Days < 1 || o.Days > 366:
		return fmt.Errorf("synthbank: Days must be 1..366, got %d", o.Days)
	case o.BadRowRate < 0 || o.BadRowRate > 0.1:
		return fmt.Errorf("synthbank: BadRowRate must be within [0, 0.1], got %g", o.BadRowRate)
	case o.Activity < 0 || o.Activity > 1:
		return fmt.Errorf("synthbank: Activity must be within [0, 1], got %g", o.Activity)
	case o.StreamDays < 0:
		return fmt.Errorf("synthbank: StreamDays must not be negative, got %d", o.StreamDays)
	}
	return nil
}

// Generate builds the bank and writes all feeds and the ground truth.
func Generate(ctx context.Context, o Options) (*Summary, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	g := &generation{root: filepath.Join(o.Out, "feeds"), progressFn: o.Progress}
	g.progress("world", 0, 1)
	w := buildWorld(o)
	g.progress("world", 1, 1)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writers := [numSystems]func(context.Context, *generation) error{
		sysCredit: w.writeCredit, sysWealth: w.writeWealth, sysCard: w.writeCard, sysEbank: w.writeEbank,
		sysCore: w.writeCore,
	}
	var wg sync.WaitGroup
	var errs [numSystems]error
	sem := make(chan struct{}, writersAtOnce(o.Parties))
	for s := system(0); s < numSystems; s++ {
		g.results[s] = &feedResult{rows: map[string]int64{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := writers[s](ctx, g); err != nil {
				errs[s] = fmt.Errorf("synthbank: %s feed: %w", systemNames[s], err)
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	// The contact center's feed reads the systems' records, written above.
	contact := &feedResult{rows: map[string]int64{}}
	if err := w.writeContact(ctx, g, contact); err != nil {
		return nil, fmt.Errorf("synthbank: contact feed: %w", err)
	}
	// The external feed reads the credit exposure, written above.
	external := &feedResult{rows: map[string]int64{}}
	if err := w.writeExternal(ctx, g, external); err != nil {
		return nil, fmt.Errorf("synthbank: external feed: %w", err)
	}
	if err := w.writeTruth(filepath.Join(o.Out, "truth"), g); err != nil {
		return nil, fmt.Errorf("synthbank: truth: %w", err)
	}
	g.progress("truth", 1, 1)

	sum := &Summary{Rows: map[string]int64{}, Parties: len(w.parties)}
	for s := system(0); s < numSystems; s++ {
		res := g.results[s]
		sum.Files += res.files
		sum.Bytes += res.bytes
		sum.BadRows += len(res.bad)
		for k, v := range res.rows {
			sum.Rows[k] += v
		}
		sum.SourceKeys += len(w.recs[s])
	}
	for _, res := range []*feedResult{contact, external} {
		sum.Files += res.files
		sum.Bytes += res.bytes
		for k, v := range res.rows {
			sum.Rows[k] += v
		}
	}
	sum.StreamEvents = g.results[sysEbank].stream
	return sum, nil
}

// generation is one Generate run: where files go and what each feed produced.
type generation struct {
	root       string
	results    [numSystems]*feedResult
	progressMu sync.Mutex
	progressFn func(stage string, done, total int)
}

// feedResult is what one feed writer produced; only that writer touches it
// until Generate collects it.
type feedResult struct {
	files      int
	bytes      int64
	rows       map[string]int64
	bad        []badRow
	behaviours []behaviourRow
	stream     []StreamEvent
}

type behaviourRow struct {
	p      *party
	beh    behaviour
	sys    system
	key    string
	detail string
}

func (res *feedResult) behaviour(p *party, b behaviour, s system, key, detail string) {
	res.behaviours = append(res.behaviours, behaviourRow{p, b, s, key, detail})
}

func (g *generation) result(s system) *feedResult { return g.results[s] }

func (g *generation) create(_ *feedResult, rel string, gzipped bool) (*dataFile, error) {
	df, err := createDataFile(g.root, rel, gzipped)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return df, nil
}

// finish closes a data file, writes its control file and counts it.
func (g *generation) finish(res *feedResult, df *dataFile, e interface{ ID() string }) error {
	n, err := df.close()
	if err != nil {
		return fmt.Errorf("%s: %w", df.rel, err)
	}
	res.files++
	res.bytes += n
	res.rows[e.ID()] += df.rows
	return nil
}

func (g *generation) finishParquet(res *feedResult, pf *parquetFile, e interface{ ID() string }) error {
	if err := pf.close(); err != nil {
		return fmt.Errorf("%s: %w", pf.df.rel, err)
	}
	return g.finish(res, pf.df, e)
}

func (g *generation) progress(stage string, done, total int) {
	if g.progressFn == nil {
		return
	}
	g.progressMu.Lock()
	defer g.progressMu.Unlock()
	g.progressFn(stage, done, total)
}
