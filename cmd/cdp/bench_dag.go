package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"cdp/connectors/contract"
	"cdp/connectors/files"
	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/pipeline/config"
	"cdp/transforms/core"
	"cdp/warehouse"
)

// cdp bench dag: the whole daily DAG, each stage in a child process of its
// own as the daemon's stages would be on a bigger box, against DuckDB
// reading the same files with its own readers, and the incremental day
// against a full recompute of the same state.

type benchDAGOptions struct {
	parties, days, runs int
	seed                int64
	activity            float64
	data, format        string
	memoryLimit         string
	stageLog            string // the stage children's --log-level
	noFull              bool   // no full recompute (and no copy of the warehouse for it)
}

// dagStage is one stage's run: the process's wall time, the rows the stage
// reports (pipeline.Result.Rows: rows loaded, source records unified, core
// rows, tag values changed, parties tiered or viewed, events queued by
// signals, events published), the child's own peak RSS and the
// warehouse's size on disk after it.
type dagStage struct {
	Stage          string  `json:"stage"`
	Seconds        float64 `json:"seconds"`
	Rows           int64   `json:"rows"`
	RowsPerSecond  float64 `json:"rows_per_second"`
	PeakRSS        int64   `json:"peak_rss_bytes"`
	WarehouseBytes int64   `json:"warehouse_bytes"`
}

// dagFloor is DuckDB reading a phase's input files once, each into a table
// of a fresh database, with its own readers.
type dagFloor struct {
	Files   int     `json:"files"`
	Bytes   int64   `json:"bytes"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	// AsLines counts the files DuckDB has no typed reader for (fixed
	// width) or whose layout its reader refused: read as one text column a
	// line, the least any reader does.
	AsLines int `json:"files_read_as_lines"`
}

// dagPhase is one pass over the DAG: the first days, the incremental last
// day, or the full recompute of the same state.
type dagPhase struct {
	Phase   string     `json:"phase"`
	Stages  []dagStage `json:"stages"`
	Seconds float64    `json:"seconds"`
	PeakRSS int64      `json:"peak_rss_bytes"` // the largest stage's
	Floor   *dagFloor  `json:"floor,omitempty"`
	// OverFloor is the phase's seconds ÷ the floor's.
	OverFloor float64 `json:"dag_over_floor,omitempty"`
}

// dagActivity is the incremental day's reach, as of the first run: the
// parties with a row of the day's loads in the core model, over all and
// per core table (a daily snapshot counts: its rows are new rows whether
// their values moved or not); and the parties whose rows in the core model
// changed (dayChanges: a snapshot's newest day against the day before,
// lineage left out), which is what the describe stages have to follow.
type dagActivity struct {
	Parties int64            `json:"parties"`
	Touched int64            `json:"parties_with_a_new_row"`
	Share   float64          `json:"share"`
	ByTable map[string]int64 `json:"parties_by_table"`

	Changed        int64            `json:"parties_changed"`
	ChangedShare   float64          `json:"changed_share"`
	ChangedByTable map[string]int64 `json:"parties_changed_by_table"`
}

// dagReport is what cdp bench dag prints: medians over the runs.
type dagReport struct {
	Parties int   `json:"parties,omitempty"`
	Days    int   `json:"days,omitempty"`
	Seed    int64 `json:"seed,omitempty"`
	// Acting is the generator's share of parties acting on a day
	// (synthbank.Options.Activity; 0 = every party every day).
	Acting float64 `json:"generator_activity,omitempty"`
	Runs   int     `json:"runs"`
	Bank   struct {
		Files            int     `json:"files"`
		Bytes            int64   `json:"bytes"`
		GeneratedSeconds float64 `json:"generated_seconds,omitempty"`
		// Reused: the bank was in --data already (generated with whatever
		// parties, days and seed it was).
		Reused bool `json:"reused,omitempty"`
	} `json:"bank"`
	MemoryBudget string     `json:"memory_budget"`
	Phases       []dagPhase `json:"phases"`
	// Activity is how much of the bank the incremental day touched.
	Activity *dagActivity `json:"activity,omitempty"`
	// IncrementalOverFull is the incremental day's unify … signals ÷ the
	// same stages recomputed in full; DescribeIncrementalOverFull the
	// describe stages' (model, tags, tiers, view). Both are left out with
	// --no-full.
	IncrementalOverFull         float64 `json:"incremental_over_full,omitempty"`
	DescribeIncrementalOverFull float64 `json:"describe_incremental_over_full,omitempty"`
}

// The phases, and the stages a full recompute runs: ingest has nothing
// left to load and publish nothing left to send on the same state.
const (
	phaseFirst = "first days"
	phaseIncr  = "last day, incremental"
	phaseFull  = "same state, full recompute"
)

var describeStages = []string{"model", "tags", "tiers", "view"}

// dagMarker marks a folder cdp bench dag generated, which it may reuse.
const dagMarker = ".cdp-bench-dag"

func newBenchDAGCmd(g *globals) *cobra.Command {
	var o benchDAGOptions
	cmd := &cobra.Command{
		Use:   "dag",
		Short: "The whole daily DAG, a child process per stage: time, rows/s, peak RSS, warehouse size, against DuckDB's floor; incremental vs full",
		Long: `Generates a bank of --parties over --days business days (or reuses --data),
writes the starter cdp.yaml beside it (default settings: the memory budget
is 60% of the machine's, or --memory-limit), holds the last day back, and runs every stage of the DAG
(ingest, unify, model, tags, tiers, view, signals, publish to an embedded
broker on 127.0.0.1 that acknowledges the events and keeps none) in a child process of its own, as cdp run would run
them. Then it delivers the last day and runs the DAG again (the incremental
day), and recomputes the same state in full (unify … signals with --full)
from a copy of the warehouse as the last day's ingest left it, so that both
have the day's values, changes and events to write (the copy needs the
warehouse's size again in the temp folder).

For each stage: the process's wall time, the rows it wrote, rows/s, the
child's own peak RSS (VmHWM) and the warehouse's size after it. For each
day: the floor, DuckDB reading every input file of that day once with its
own readers into a fresh database (GBK files as their UTF-8 copies; fixed
width as one text column a line), and the DAG's time over it. Then the
incremental day's time as a share of the full recompute.

--runs repeats everything on a fresh warehouse and reports medians (the
issue's bars are medians of three). --format json for tracking.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchDAG(cmd.Context(), g, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().IntVar(&o.parties, "parties", 100000, "parties in the generated bank")
	cmd.Flags().IntVar(&o.days, "days", 2, "business days: all but the last are the first run, the last is the incremental day")
	cmd.Flags().Int64Var(&o.seed, "seed", 1, "random seed of the generated bank")
	cmd.Flags().Float64Var(&o.activity, "activity", synthbank.DefaultActivity, "share of the generated bank's parties acting on a business day (card purchases, e-banking, trades, payments; planted parties always act): the quiet day incremental runs are measured on; 0 = every party every day")
	cmd.Flags().StringVar(&o.memoryLimit, "memory-limit", "", "warehouse.memory_limit of the benchmark's project, each stage's memory budget (e.g. 6GiB; default: the starter's, 60% of the machine's memory)")
	cmd.Flags().StringVar(&o.stageLog, "stage-log-level", "warn", "--log-level of the stages' child processes, whose logs go to stderr (debug: each step's seconds)")
	cmd.Flags().BoolVar(&o.noFull, "no-full", false, "skip the full recompute of the last day's state, and the copy of the warehouse it starts from, for a bank whose warehouse does not fit twice on the disk (no incremental ratio is reported)")
	cmd.Flags().IntVar(&o.runs, "runs", 3, "runs on a fresh warehouse (the median is reported)")
	cmd.Flags().StringVar(&o.data, "data", "", "folder to generate the bank into, or one it generated before to reuse (each run deletes the warehouse there; default: a temp folder, removed after)")
	formatFlag(cmd, &o.format)

	var full bool
	var brokers string
	child := benchChild(g, "stage-project CONFIG STAGE", 2, func(ctx context.Context, env *pipeline.Env, args []string) (any, error) {
		env.Full, env.Brokers = full, splitList(brokers)
		res, err := pipeline.Run(ctx, env, args[0])
		if err != nil {
			return nil, err
		}
		res.Summary = nil
		return stageChild{Result: res, PeakRSS: warehouse.PeakRSS()}, nil
	})
	child.Flags().BoolVar(&full, "full", false, "recompute instead of catching up")
	child.Flags().StringVar(&brokers, "brokers", "", "Kafka brokers for publish")
	cmd.AddCommand(child)
	return cmd
}

// stageChild is what the hidden stage-project command prints.
type stageChild struct {
	Result  pipeline.Result `json:"result"`
	PeakRSS int64           `json:"peak_rss_bytes"`
}

func benchDAG(ctx context.Context, g *globals, out, progress io.Writer, o benchDAGOptions) error {
	if err := checkFormat(o.format); err != nil {
		return err
	}
	if o.days < 2 {
		return fmt.Errorf("--days %d: need at least 2 (the first days, then the incremental day)", o.days)
	}
	if o.runs < 1 {
		return fmt.Errorf("--runs %d: need at least 1", o.runs)
	}
	dir := o.data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cdp-bench-dag-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if o.activity < 0 || o.activity > 1 {
		return fmt.Errorf("--activity %g: a share, from 0 to 1", o.activity)
	}
	if o.stageLog != "" && !slices.Contains([]string{"debug", "info", "warn", "error"}, o.stageLog) {
		return fmt.Errorf("--stage-log-level %q: debug, info, warn or error", o.stageLog)
	}
	if o.memoryLimit != "" {
		if _, err := warehouse.ParseSize(o.memoryLimit); err != nil {
			return fmt.Errorf("--memory-limit: %w", err)
		}
	}
	rep := &dagReport{Parties: o.parties, Days: o.days, Seed: o.seed, Acting: o.activity, Runs: o.runs}
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// Each run deletes the warehouse and moves feed files: only a folder
	// the benchmark generated is reused, never a bank's project.
	marker := filepath.Join(dir, dagMarker)
	if _, err := os.Stat(filepath.Join(dir, "feeds")); err == nil {
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("--data %s holds feeds that cdp bench dag did not generate (no %s): each run deletes the warehouse there and moves the last day's files, so it only reuses its own banks; give it an empty or new folder", dir, dagMarker)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cdp.yaml")); err == nil {
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("--data %s holds a cdp.yaml that cdp bench dag did not write (no %s): the benchmark writes its own project there each run; give it an empty or new folder", dir, dagMarker)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "feeds")); os.IsNotExist(err) {
		prog := pipeline.TerminalProgress(os.Stderr)
		t0 := time.Now()
		sum, err := generateBank(ctx, synthbank.Options{Out: dir, Parties: o.parties, Days: o.days, Seed: o.seed, End: end,
			BadRowRate: synthbank.DefaultBadRowRate, HistoryMonths: synthbank.DefaultHistoryMonths, Activity: o.activity,
			Progress: genProgress(prog)})
		prog.Done()
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		rep.Bank.GeneratedSeconds = time.Since(t0).Seconds()
		if err := os.WriteFile(marker, []byte(fmt.Sprintf("generated by cdp bench dag: %d parties × %d days, seed %d, activity %g\n", o.parties, o.days, o.seed, o.activity)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(progress, "generated %d parties × %d days in %.1fs into %s\n", sum.Parties, o.days, rep.Bank.GeneratedSeconds, dir)
	} else {
		rep.Bank.Reused = true
		rep.Parties, rep.Days, rep.Seed, rep.Acting = 0, 0, 0, 0 // whatever the marker says, not the flags
	}
	// The starter's defaults, what a bank gets from cdp init (but for
	// --memory-limit), written afresh each time: the figures are the
	// defaults' unless the command line says otherwise.
	cfgPath := filepath.Join(dir, "cdp.yaml")
	if err := writeProject(dir, config.StarterOptions{MemoryLimit: o.memoryLimit}); err != nil {
		return err
	}
	p, err := pipeline.LoadProject(cfgPath)
	if err != nil {
		return err
	}
	budget, err := warehouse.MemoryBudget(p.Warehouse.MemoryLimit)
	if err != nil {
		return err
	}
	rep.MemoryBudget = budget.String()

	first, last, err := dagInputs(p, end)
	if err != nil {
		return err
	}
	for _, f := range append(slices.Clone(first), last...) {
		rep.Bank.Files++
		rep.Bank.Bytes += f.bytes
	}
	if len(last) == 0 {
		return fmt.Errorf("%s holds no files of %s, the day the benchmark holds back (a bank from cdp gen needs --end %s)", dir, end.Format(time.DateOnly), end.Format(time.DateOnly))
	}

	// publish's broker: in this process, for every run's publish child. It
	// acknowledges the events and keeps none: kept in this process's
	// memory, the 5M bank's 16.9M events of two days took 17 GB beside the
	// stages (and on disk they would not fit beside the warehouse).
	bc := *p.Project
	bc.Kafka.Embedded.Listen, bc.Kafka.Embedded.DataDir = "127.0.0.1:0", ""
	broker, err := pipeline.StartEmbeddedBroker(&bc, quietLogger(), kfake.BlackholeProduce())
	if err != nil {
		return err
	}
	defer broker.Close()

	work, err := os.MkdirTemp("", "cdp-bench-dag-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var runs [][]dagPhase
	for run := 1; run <= o.runs; run++ {
		phases, act, err := dagRun(ctx, p, cfgPath, dir, work, o.stageLog, !o.noFull, end, first, last, broker.Addrs, func(format string, a ...any) {
			fmt.Fprintf(progress, "run %d/%d: %s\n", run, o.runs, fmt.Sprintf(format, a...))
		})
		if err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		runs = append(runs, phases)
		if rep.Activity == nil {
			rep.Activity = act
		}
	}
	rep.Phases, rep.IncrementalOverFull, rep.DescribeIncrementalOverFull = dagMedians(runs)
	return emit(out, o.format, rep, printDAG)
}

// dagRun is one run on a fresh warehouse: the first days, the last day,
// the full recompute (when full); and the floor of each day.
func dagRun(ctx context.Context, p *pipeline.Project, cfgPath, dir, work, stageLog string, full bool, end time.Time, first, last []dagFile, brokers []string, say func(string, ...any)) ([]dagPhase, *dagActivity, error) {
	wh := p.WarehousePath()
	if err := removeWarehouse(wh); err != nil {
		return nil, nil, err
	}
	deliver, err := holdBack(dir, end)
	delivered := false
	defer func() {
		if !delivered {
			deliver() // a failed run (or hold-back) leaves the bank whole
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	phase := func(name string, stages []string, full bool) (dagPhase, error) {
		ph := dagPhase{Phase: name}
		for _, st := range stages {
			s, err := dagStageChild(ctx, cfgPath, wh, st, stageLog, full, brokers)
			if err != nil {
				return ph, err
			}
			say("%s: %-7s %8.1fs %10d rows  peak RSS %s", name, st, s.Seconds, s.Rows, warehouse.FormatSize(s.PeakRSS))
			ph.Stages = append(ph.Stages, s)
		}
		return ph, nil
	}
	floor := func(ph *dagPhase, files []dagFile, tag string) error {
		fl, err := dagFloorRead(ctx, work, tag, files)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		say("%s: floor, DuckDB reads the %d files once: %.1fs", ph.Phase, fl.Files, fl.Seconds)
		ph.Floor = fl
		return nil
	}
	all := pipeline.Names()
	p1, err := phase(phaseFirst, all, false)
	if err != nil {
		return nil, nil, err
	}
	if err := floor(&p1, first, "first"); err != nil {
		return nil, nil, err
	}
	if err := deliver(); err != nil {
		return nil, nil, err
	}
	delivered = true
	var before int64 // the last load of the first days
	prints := filepath.Join(work, "prints.duckdb")
	if err := dagQuery(ctx, p, func(db *sql.DB) error {
		if err := partyPrints(ctx, db, prints, "before"); err != nil {
			return fmt.Errorf("the parties' prints: %w", err)
		}
		return db.QueryRowContext(ctx, `SELECT coalesce(max(load_id), 0) FROM ops.loads`).Scan(&before)
	}); err != nil {
		return nil, nil, err
	}
	// The last day's ingest, then a copy of the warehouse as it left it:
	// the state both the incremental day and the full recompute start
	// from, so that each has the day's values, changes and events to
	// write (a recompute after the incremental day would find none).
	recompute := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "ingest" || s == "publish" })
	p2, err := phase(phaseIncr, []string{"ingest"}, false)
	if err != nil {
		return nil, nil, err
	}
	state := filepath.Join(work, "state.duckdb")
	if full {
		if err := copyWarehouse(wh, state); err != nil {
			return nil, nil, fmt.Errorf("a copy of the ingested state: %w", err)
		}
		defer removeWarehouse(state)
	}
	rest, err := phase(phaseIncr, slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "ingest" }), false)
	if err != nil {
		return nil, nil, err
	}
	p2.Stages = append(p2.Stages, rest.Stages...)
	var act *dagActivity
	if err := dagQuery(ctx, p, func(db *sql.DB) (err error) {
		if act, err = dayActivity(ctx, db, before); err != nil {
			return err
		}
		if err := partyPrints(ctx, db, prints, "after"); err != nil {
			return fmt.Errorf("the parties' prints: %w", err)
		}
		return dayChanges(ctx, db, prints, act)
	}); err != nil {
		return nil, nil, err
	}
	if err := floor(&p2, last, "last"); err != nil {
		return nil, nil, err
	}
	if !full {
		return []dagPhase{p1, p2}, act, nil
	}
	if err := removeWarehouse(wh); err != nil {
		return nil, nil, err
	}
	if err := copyWarehouse(state, wh); err != nil {
		return nil, nil, fmt.Errorf("the ingested state back: %w", err)
	}
	p3, err := phase(phaseFull, recompute, true)
	if err != nil {
		return nil, nil, err
	}
	return []dagPhase{p1, p2, p3}, act, nil
}

// copyWarehouse copies a closed warehouse file, and its write-ahead log
// when there is one, to another path.
func copyWarehouse(from, to string) error {
	if err := removeWarehouse(to); err != nil {
		return err
	}
	for _, ext := range []string{"", ".wal"} {
		src, err := os.Open(from + ext)
		if errors.Is(err, fs.ErrNotExist) && ext != "" {
			continue
		}
		if err != nil {
			return err
		}
		dst, err := os.Create(to + ext)
		if err == nil {
			_, err = io.Copy(dst, src)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("copy %s: %w", from+ext, err)
		}
	}
	return nil
}

// removeWarehouse removes a warehouse file and its write-ahead log.
func removeWarehouse(path string) error {
	for _, f := range []string{path, path + ".wal", path + ".tmp"} {
		if err := os.RemoveAll(f); err != nil {
			return err
		}
	}
	return nil
}

// dagQuery opens the project's warehouse between two stages (no child
// holds it then) for fn.
func dagQuery(ctx context.Context, p *pipeline.Project, fn func(db *sql.DB) error) error {
	w, err := openWarehouse(ctx, p)
	if err != nil {
		return err
	}
	defer w.Close()
	return fn(w.DB())
}

// dayActivity counts the parties with a row of a load after load id before
// in any core table keyed by party.
func dayActivity(ctx context.Context, db *sql.DB, before int64) (*dagActivity, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM duckdb_columns() WHERE schema_name = 'core' AND column_name IN ('party_id', 'load_id')
		GROUP BY table_name HAVING count(*) = 2 ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	a := &dagActivity{ByTable: map[string]int64{}}
	var union []string
	for _, t := range tables {
		q := fmt.Sprintf(`SELECT DISTINCT party_id FROM core.%s WHERE load_id > %d AND party_id IS NOT NULL`, warehouse.Ident(t), before)
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+`)`).Scan(&n); err != nil {
			return nil, fmt.Errorf("core.%s: %w", t, err)
		}
		if n > 0 {
			a.ByTable[t] = n
		}
		union = append(union, q)
	}
	q := `SELECT (SELECT count(*) FROM core.party), `
	if len(union) == 0 {
		q += `0`
	} else {
		q += `(SELECT count(*) FROM (` + strings.Join(union, " UNION ") + `))`
	}
	if err := db.QueryRowContext(ctx, q).Scan(&a.Parties, &a.Touched); err != nil {
		return nil, err
	}
	if a.Parties > 0 {
		a.Share = float64(a.Touched) / float64(a.Parties)
	}
	return a, nil
}

// printsLeftOut are the columns a party's print leaves out: lineage, and
// the date of the snapshot that delivered a row (core.holding's newest
// as_of_date, the contact center's roster_date), which every delivery
// renews whether the values moved or not.
var printsLeftOut = []string{"source_ref", "load_id", "last_seen", "as_of_date", "roster_date"}

// partyPrints writes into the database file path, as tables NAME_TABLE, a
// print of each party's rows in every core table keyed by party: the sum
// of the rows' hashes and their count, printsLeftOut left out; of a table
// that keeps every delivery's version (snapshotDay) only the newest day's
// rows.
func partyPrints(ctx context.Context, db *sql.DB, path, name string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH `+warehouse.Literal(path)+` AS cdp_prints`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH cdp_prints`)
	cols, err := warehouse.PartyTables(ctx, conn, "core")
	if err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(cols)) {
		values := slices.DeleteFunc(slices.Clone(cols[key]), func(c string) bool { return slices.Contains(printsLeftOut, c) })
		cond := ""
		if day := snapshotDay(key, cols[key]); day != "" {
			cond = day + " = (SELECT max(" + day + ") FROM " + key + ")"
		}
		q := `CREATE OR REPLACE TABLE cdp_prints.` + warehouse.Ident(name+"_"+strings.TrimPrefix(key, "core.")) + ` AS ` +
			warehouse.PartyPrintSQL(key, values, cond)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// snapshotDay is the column of a table that keeps a version of its rows
// per delivery day (the daily snapshots' as_of_date, the team roster's
// roster_date), "" for the others.
func snapshotDay(table string, columns []string) string {
	if slices.Contains(core.SnapshotTables, table) {
		return "as_of_date"
	}
	if slices.Contains(columns, "roster_date") {
		return "roster_date"
	}
	return ""
}

// dayChanges counts, into a, the parties whose print of any table differs
// between partyPrints' "before" and "after" (rows appearing or gone too).
func dayChanges(ctx context.Context, db *sql.DB, path string, a *dagActivity) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH `+warehouse.Literal(path)+` AS cdp_prints (READ_ONLY)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH cdp_prints`)
	cols, err := warehouse.PartyTables(ctx, conn, "core")
	if err != nil {
		return err
	}
	a.ChangedByTable = map[string]int64{}
	var union []string
	for _, key := range slices.Sorted(maps.Keys(cols)) {
		t := strings.TrimPrefix(key, "core.")
		q := warehouse.PartyChangesSQL(`FROM cdp_prints.`+warehouse.Ident("before_"+t), `FROM cdp_prints.`+warehouse.Ident("after_"+t))
		var n int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+`)`).Scan(&n); err != nil {
			return fmt.Errorf("core.%s: %w", t, err)
		}
		if n > 0 {
			a.ChangedByTable[t] = n
		}
		union = append(union, q)
	}
	if len(union) > 0 {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+strings.Join(union, " UNION ")+`)`).Scan(&a.Changed); err != nil {
			return err
		}
	}
	if a.Parties > 0 {
		a.ChangedShare = float64(a.Changed) / float64(a.Parties)
	}
	return nil
}

// shares lists each table's parties as a share of the bank, largest first.
func shares(byTable map[string]int64, parties int64) string {
	tables := slices.SortedFunc(maps.Keys(byTable), func(x, y string) int {
		if c := cmp.Compare(byTable[y], byTable[x]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("%s %.1f%%", t, 100*float64(byTable[t])/float64(max(parties, 1)))
	}
	return strings.Join(parts, ", ")
}

// dagStageChild runs one stage in a child process and measures it.
func dagStageChild(ctx context.Context, cfgPath, warehousePath, stage, logLevel string, full bool, brokers []string) (dagStage, error) {
	var c stageChild
	t0 := time.Now()
	args := []string{"bench", "dag", "stage-project", cfgPath, stage, "--log-level", cmp.Or(logLevel, "warn"), fmt.Sprintf("--full=%t", full)}
	if stage == "publish" {
		args = append(args, "--brokers", strings.Join(brokers, ","))
	}
	if err := runChild(ctx, &c, args...); err != nil {
		return dagStage{}, err
	}
	s := dagStage{Stage: stage, Seconds: time.Since(t0).Seconds(), Rows: c.Result.Rows, PeakRSS: c.PeakRSS}
	if s.Seconds > 0 {
		s.RowsPerSecond = float64(s.Rows) / s.Seconds
	}
	for _, f := range []string{warehousePath, warehousePath + ".wal"} {
		if st, err := os.Stat(f); err == nil {
			s.WarehouseBytes += st.Size()
		}
	}
	return s, nil
}

// dagFile is one input file of the bank, and how DuckDB's own readers read it.
type dagFile struct {
	path     string
	bytes    int64
	format   contract.Format
	encoding string // "" or utf-8: as is; else transcoded to UTF-8 first
	delim    string
}

// dagInputs lists the data files of the project's file feeds (each
// entity's that the project loads), split into those of the first days
// and those of the last (held-back) day by the business date the file's
// name carries under the entity's pattern, as ingest reads it.
func dagInputs(p *pipeline.Project, last time.Time) (first, lastDay []dagFile, err error) {
	lastYMD := last.Format("20060102")
	for _, f := range p.Feeds {
		if f.Kind != config.KindFiles || (f.Enabled != nil && !*f.Enabled) || f.Spec() == nil {
			continue
		}
		enc := f.Encoding
		if enc == "" {
			enc = f.Spec().Encoding
		}
		for _, e := range f.Spec().Entities {
			if len(f.Entities) > 0 && !slices.Contains(f.Entities, e.Name) {
				continue
			}
			pattern := e.Pattern
			if o, ok := f.Patterns[e.Name]; ok {
				pattern = o
			}
			format := e.Format
			if tf := f.TextFormat(); tf != "" && format != contract.Parquet {
				format = tf
			}
			delim := f.Delimiter
			if delim == "" {
				delim = map[contract.Format]string{contract.CSV: ",", contract.Delimited: "|"}[format]
			}
			glob := strings.NewReplacer("{D}", "*", "{DATE}", "*").Replace(pattern)
			matches, err := filepath.Glob(filepath.Join(p.Resolve(f.Path), glob))
			if err != nil {
				return nil, nil, fmt.Errorf("feed %s, entity %s: pattern %q: %w", f.Name, e.Name, pattern, err)
			}
			for _, m := range matches {
				st, err := os.Stat(m)
				if err != nil {
					return nil, nil, err
				}
				if !st.Mode().IsRegular() {
					continue
				}
				rel, err := filepath.Rel(p.Resolve(f.Path), m)
				if err != nil {
					return nil, nil, err
				}
				day := files.BusinessDate(pattern, filepath.ToSlash(rel))
				if day == "" && (strings.Contains(pattern, "{D}") || strings.Contains(pattern, "{DATE}")) {
					continue // the glob's match is not a file of the pattern
				}
				df := dagFile{path: m, bytes: st.Size(), format: format, encoding: enc, delim: delim}
				if day == lastYMD {
					lastDay = append(lastDay, df)
				} else {
					first = append(first, df)
				}
			}
		}
	}
	return first, lastDay, nil
}

// dagFloorRead times DuckDB reading every file once into a table of a
// fresh database, and checkpointing it. GBK text is transcoded to UTF-8
// beforehand, untimed (DuckDB reads no GBK); fixed-width files, which it
// has no reader for, and files whose layout its typed reader refuses are
// read as one text column a line.
func dagFloorRead(ctx context.Context, work, tag string, files []dagFile) (*dagFloor, error) {
	dir := filepath.Join(work, tag)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fl := &dagFloor{}
	type read struct{ path, typed, lines string }
	var reads []read
	for i, f := range files {
		fl.Files++
		fl.Bytes += f.bytes
		path := f.path
		text := f.format != contract.Parquet && f.format != contract.XLSX
		if text && f.encoding != "" && !strings.EqualFold(f.encoding, "utf-8") {
			path = filepath.Join(dir, fmt.Sprintf("utf8-%d%s", i, filepath.Ext(f.path)))
			if err := transcodeGBK(f.path, path); err != nil {
				return nil, fmt.Errorf("%s: transcode to UTF-8: %w", f.path, err)
			}
		}
		lit := warehouse.Literal(path)
		lines := `SELECT * FROM read_csv(` + lit + `, header = false, columns = {'line': 'VARCHAR'}, delim = '` + "\x01" + `', quote = '', escape = '')`
		r := read{path: f.path, lines: lines}
		switch f.format {
		case contract.CSV:
			r.typed = `SELECT * FROM read_csv(` + lit + `, header = true, delim = ` + warehouse.Literal(f.delim) + `, quote = '"', ignore_errors = true)`
		case contract.Delimited:
			r.typed = `SELECT * FROM read_csv(` + lit + `, header = true, delim = ` + warehouse.Literal(f.delim) + `, quote = '', escape = '', ignore_errors = true)`
		case contract.JSONL:
			r.typed = `SELECT * FROM read_json(` + lit + `, format = 'newline_delimited', ignore_errors = true)`
		case contract.Parquet:
			r.typed = `SELECT * FROM read_parquet(` + lit + `)`
		case contract.XLSX:
			return nil, fmt.Errorf("%s: DuckDB has no built-in reader for xlsx", f.path)
		}
		reads = append(reads, r)
	}
	w, err := warehouse.Open(ctx, filepath.Join(dir, "floor.duckdb"), warehouse.Options{})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	db := w.DB()
	var took time.Duration // a typed read DuckDB refused is not counted
	for i, r := range reads {
		table := fmt.Sprintf("f%d", i)
		q := r.typed
		if q == "" {
			fl.AsLines++
			q = r.lines
		}
		t0 := time.Now()
		if _, err := db.ExecContext(ctx, `CREATE TABLE `+table+` AS `+q); err != nil {
			if r.typed == "" {
				return nil, fmt.Errorf("%s: %w", r.path, err)
			}
			fl.AsLines++
			t0 = time.Now()
			if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE `+table+` AS `+r.lines); err != nil {
				return nil, fmt.Errorf("%s: %w", r.path, err)
			}
		}
		took += time.Since(t0)
	}
	t0 := time.Now()
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return nil, err
	}
	fl.Seconds = (took + time.Since(t0)).Seconds()
	for i := range reads {
		var n int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM f%d`, i)).Scan(&n); err != nil {
			return nil, err
		}
		fl.Rows += n
	}
	return fl, nil
}

// dagMedians folds the runs into one report: each figure the median of
// the runs', the ratios the median of each run's own.
func dagMedians(runs [][]dagPhase) (phases []dagPhase, incr, describe float64) {
	med := func(f func(r []dagPhase) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	sum := func(ph dagPhase, only []string) float64 {
		t := 0.0
		for _, s := range ph.Stages {
			if only == nil || slices.Contains(only, s.Stage) {
				t += s.Seconds
			}
		}
		return t
	}
	for pi, ph := range runs[0] {
		out := dagPhase{Phase: ph.Phase}
		for si, s := range ph.Stages {
			at := func(f func(s dagStage) float64) float64 {
				return med(func(r []dagPhase) float64 { return f(r[pi].Stages[si]) })
			}
			out.Stages = append(out.Stages, dagStage{Stage: s.Stage,
				Seconds:        at(func(s dagStage) float64 { return s.Seconds }),
				Rows:           int64(at(func(s dagStage) float64 { return float64(s.Rows) })),
				RowsPerSecond:  at(func(s dagStage) float64 { return s.RowsPerSecond }),
				PeakRSS:        int64(at(func(s dagStage) float64 { return float64(s.PeakRSS) })),
				WarehouseBytes: int64(at(func(s dagStage) float64 { return float64(s.WarehouseBytes) })),
			})
		}
		out.Seconds = med(func(r []dagPhase) float64 { return sum(r[pi], nil) })
		out.PeakRSS = int64(med(func(r []dagPhase) float64 {
			m := int64(0)
			for _, s := range r[pi].Stages {
				m = max(m, s.PeakRSS)
			}
			return float64(m)
		}))
		if ph.Floor != nil {
			f := func(g func(f *dagFloor) float64) float64 {
				return med(func(r []dagPhase) float64 { return g(r[pi].Floor) })
			}
			out.Floor = &dagFloor{Files: ph.Floor.Files, Bytes: ph.Floor.Bytes,
				Rows:    int64(f(func(f *dagFloor) float64 { return float64(f.Rows) })),
				Seconds: f(func(f *dagFloor) float64 { return f.Seconds }),
				AsLines: ph.Floor.AsLines}
			out.OverFloor = med(func(r []dagPhase) float64 { return sum(r[pi], nil) / r[pi].Floor.Seconds })
		}
		phases = append(phases, out)
	}
	if len(runs[0]) < 3 { // --no-full
		return phases, 0, 0
	}
	incrStages := make([]string, 0, len(runs[0][2].Stages))
	for _, s := range runs[0][2].Stages {
		incrStages = append(incrStages, s.Stage)
	}
	incr = med(func(r []dagPhase) float64 { return sum(r[1], incrStages) / sum(r[2], nil) })
	describe = med(func(r []dagPhase) float64 { return sum(r[1], describeStages) / sum(r[2], describeStages) })
	return phases, incr, describe
}

func printDAG(w io.Writer, r *dagReport) {
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	if r.Bank.Reused {
		fmt.Fprintf(w, "cdp bench dag: the bank already in --data, %d files, %.1f MB; memory budget %s; ", r.Bank.Files, float64(r.Bank.Bytes)/1e6, r.MemoryBudget)
	} else {
		acting := "every party acting every day"
		if r.Acting > 0 && r.Acting < 1 {
			acting = fmt.Sprintf("%.0f%% of the parties acting on a day", 100*r.Acting)
		}
		fmt.Fprintf(w, "cdp bench dag: %d parties × %d days (seed %d, %s), %d files, %.1f MB; memory budget %s; ",
			r.Parties, r.Days, r.Seed, acting, r.Bank.Files, float64(r.Bank.Bytes)/1e6, r.MemoryBudget)
	}
	if r.Runs > 1 {
		fmt.Fprintf(w, "medians of %d runs\n", r.Runs)
	} else {
		fmt.Fprintln(w, "one run")
	}
	for _, ph := range r.Phases {
		fmt.Fprintf(w, "\n%s\n  %-8s %9s %11s %11s %12s %14s\n", ph.Phase, "stage", "seconds", "rows", "rows/s", "peak RSS MB", "warehouse MB")
		for _, s := range ph.Stages {
			fmt.Fprintf(w, "  %-8s %9.1f %11d %11.0f %12.0f %14.0f\n", s.Stage, s.Seconds, s.Rows, s.RowsPerSecond, mb(s.PeakRSS), mb(s.WarehouseBytes))
		}
		fmt.Fprintf(w, "  %-8s %9.1f %11s %11s %12.0f\n", "total", ph.Seconds, "", "", mb(ph.PeakRSS))
		if f := ph.Floor; f != nil {
			which := "the day's"
			if ph.Phase == phaseFirst {
				which = "the first days'"
			}
			fmt.Fprintf(w, "  floor: DuckDB reads %s %d files (%.1f MB, %d rows) once in %.1fs", which, f.Files, float64(f.Bytes)/1e6, f.Rows, f.Seconds)
			if f.AsLines > 0 {
				fmt.Fprintf(w, " (%d of them as lines)", f.AsLines)
			}
			fmt.Fprintf(w, "; DAG ÷ floor %.1fx", ph.OverFloor)
			if r.Runs > 1 {
				fmt.Fprint(w, " (the median of the runs' own ratios)")
			}
			fmt.Fprintln(w)
		}
	}
	if a := r.Activity; a != nil {
		fmt.Fprintf(w, "\nthe last day reached %d of %d parties (%.1f%%) with a new row in the core model (a daily snapshot's rows count, changed or not): %s\n",
			a.Touched, a.Parties, 100*a.Share, shares(a.ByTable, a.Parties))
		fmt.Fprintf(w, "it changed the rows of %d parties (%.1f%%; a snapshot's newest day against the day before, lineage left out): %s\n",
			a.Changed, 100*a.ChangedShare, shares(a.ChangedByTable, a.Parties))
	}
	if len(r.Phases) < 3 {
		fmt.Fprintln(w, "\nno full recompute (--no-full): no incremental ratio")
		return
	}
	fmt.Fprintf(w, "\nincremental day ÷ full recompute of the same state: %.0f%% (unify … signals), describe stages (%s) %.0f%%\n",
		100*r.IncrementalOverFull, strings.Join(describeStages, ", "), 100*r.DescribeIncrementalOverFull)
}
