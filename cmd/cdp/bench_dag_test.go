package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/pipeline"
)

// cdp bench dag runs every stage in a child process of its own (the test
// binary runs as cdp: CDP_TEST_RUN_MAIN), measures each, reads the same
// files with DuckDB's own readers, and compares the incremental day with a
// full recompute; what it reports is what the warehouse holds.
func TestBenchDAG_EveryStageInAChildMeasuredAgainstTheFloor(t *testing.T) {
	t.Setenv("CDP_TEST_RUN_MAIN", "1")
	dir := filepath.Join(t.TempDir(), "bank")
	out, err := run(t, "bench", "dag", "--parties", "300", "--runs", "1", "--data", dir, "--format", "json")
	if err != nil {
		t.Fatalf("bench dag: %v\n%s", err, out)
	}
	// Progress lines go to stderr, which run() folds in: the report is the
	// JSON object that ends the output.
	var rep dagReport
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if len(rep.Phases) != 3 {
		t.Fatalf("want three phases, got %d", len(rep.Phases))
	}
	stages := func(ph dagPhase) []string {
		var names []string
		for _, s := range ph.Stages {
			names = append(names, s.Stage)
		}
		return names
	}
	all := pipeline.Names()
	recompute := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "ingest" || s == "publish" })
	for i, want := range [][]string{all, all, recompute} {
		ph := rep.Phases[i]
		if got := stages(ph); !slices.Equal(got, want) {
			t.Errorf("%s ran %v, want %v", ph.Phase, got, want)
		}
		for _, s := range ph.Stages {
			if s.Seconds <= 0 || s.PeakRSS < 1<<20 || s.WarehouseBytes <= 0 {
				t.Errorf("%s, %s: seconds %.2f, peak RSS %d, warehouse %d bytes: each must be measured", ph.Phase, s.Stage, s.Seconds, s.PeakRSS, s.WarehouseBytes)
			}
		}
	}
	for _, ph := range rep.Phases[:2] {
		if f := ph.Floor; f == nil || f.Files == 0 || f.Rows == 0 || f.Seconds <= 0 || ph.OverFloor <= 0 {
			t.Errorf("%s: floor %+v, DAG ÷ floor %.2f", ph.Phase, f, ph.OverFloor)
		}
	}
	if rep.Phases[0].Floor.Files+rep.Phases[1].Floor.Files != rep.Bank.Files {
		t.Errorf("the floors read %d + %d files of the bank's %d", rep.Phases[0].Floor.Files, rep.Phases[1].Floor.Files, rep.Bank.Files)
	}
	if rep.IncrementalOverFull <= 0 || rep.DescribeIncrementalOverFull <= 0 {
		t.Errorf("ratios %.2f, %.2f", rep.IncrementalOverFull, rep.DescribeIncrementalOverFull)
	}

	// The rows ingest reported on both days are the rows the warehouse
	// loaded; the parties tiers reported on the last day are the bank's.
	p, err := pipeline.LoadProject(filepath.Join(dir, "cdp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := openWarehouse(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var loaded, parties, bank int64
	sqltest.Row(t, w.DB(), `SELECT (SELECT sum(rows_loaded) FROM ops.loads WHERE status = 'loaded'), (SELECT count(*) FROM mart.value_tier), (SELECT count(*) FROM core.party)`).Scan(&loaded, &parties, &bank)
	// The day's reach: at least the table that reached most, at most all
	// of them together and the bank.
	if a := rep.Activity; a == nil {
		t.Error("no activity reported")
	} else {
		var most, sum int64
		for _, n := range a.ByTable {
			most, sum = max(most, n), sum+n
		}
		if a.Parties != bank || a.Touched < most || a.Touched > min(sum, bank) || most == 0 || a.ByTable["card_txn"] == 0 {
			t.Errorf("activity %+v against a bank of %d parties", a, bank)
		}
		// Changed: at least the table that changed most's parties, at most
		// the bank; a new card transaction is a change, and so is a
		// snapshot row whose values moved — but not every party's rows
		// moved on a quiet day.
		most, sum = 0, 0
		for _, n := range a.ChangedByTable {
			most, sum = max(most, n), sum+n
		}
		if a.Changed < most || a.Changed > min(sum, bank) || a.ChangedByTable["card_txn"] == 0 || a.ChangedByTable["holding_daily"] == 0 {
			t.Errorf("changed %d parties of %d, by table %v", a.Changed, bank, a.ChangedByTable)
		}
		if a.Changed >= a.Touched {
			t.Errorf("the day changed %d parties' rows and gave %d a new row: a daily snapshot's unchanged rows are not changes", a.Changed, a.Touched)
		}
	}
	if got := rep.Phases[0].Stages[0].Rows + rep.Phases[1].Stages[0].Rows; got != loaded {
		t.Errorf("ingest reported %d rows over the two days; ops.loads holds %d", got, loaded)
	}
	// The full recompute starts from the state the last day's ingest left,
	// not from the incremental day's results: it has the day's tag changes
	// to write too (about as many: a full unification estimates the match
	// weights afresh, so match_confidence may move by a hair).
	rows := func(ph dagPhase, stage string) int64 { return ph.Stages[slices.Index(stages(ph), stage)].Rows }
	if incr, full := rows(rep.Phases[1], "tags"), rows(rep.Phases[2], "tags"); incr == 0 || full < incr*9/10 || full > incr*11/10 {
		t.Errorf("tag values changed: %d on the incremental day, %d by the full recompute of the same state", incr, full)
	}
	for _, ph := range rep.Phases[1:] {
		if s := ph.Stages[slices.Index(stages(ph), "tiers")]; s.Rows != parties {
			t.Errorf("%s: tiers reported %d parties; mart.value_tier holds %d", ph.Phase, s.Rows, parties)
		}
	}

	// It marks the folder as its own, the one kind it reuses; a project's
	// folder, whose warehouse a run would delete, it refuses.
	if _, err := os.Stat(filepath.Join(dir, dagMarker)); err != nil {
		t.Errorf("no marker in the bank it generated: %v", err)
	}
	project := t.TempDir()
	if err := os.MkdirAll(filepath.Join(project, "feeds", "credit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "bench", "dag", "--data", project); err == nil || !strings.Contains(err.Error(), "did not generate") {
		t.Errorf("bench dag on a project's folder: %v\n%s", err, out)
	}
	// nor a project whose feeds live elsewhere: its cdp.yaml stays
	elsewhere := t.TempDir()
	own := []byte("warehouse: {path: wh.duckdb}\n")
	if err := os.WriteFile(filepath.Join(elsewhere, "cdp.yaml"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "bench", "dag", "--data", elsewhere); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("bench dag on a folder with a project's cdp.yaml: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(elsewhere, "cdp.yaml")); err != nil || !bytes.Equal(b, own) {
		t.Errorf("the project's cdp.yaml after bench dag refused: %q, %v", b, err)
	}

	// The text form names every stage of every phase and the ratios.
	var text bytes.Buffer
	printDAG(&text, &rep)
	for _, re := range []string{`(?m)^first days$`, `(?m)^  signals\s+\d+\.\d\s+\d+`, `(?m)^  publish\s+`, `DAG ÷ floor \d+\.\dx`, `the last day reached \d+ of \d+ parties \(\d+\.\d%\) .*card_txn \d+\.\d%`,
		`incremental day ÷ full recompute of the same state: \d+% \(unify … signals\), describe stages \(model, tags, tiers, view\) \d+%`} {
		if !regexp.MustCompile(re).MatchString(text.String()) {
			t.Errorf("the report lacks %s:\n%s", re, text.String())
		}
	}

	// --no-full (a bank whose warehouse does not fit twice on the disk):
	// the two days alone, no ratio, nothing left in the temp folder.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out, err = run(t, "bench", "dag", "--runs", "1", "--data", dir, "--no-full", "--format", "json")
	if err != nil {
		t.Fatalf("bench dag --no-full: %v\n%s", err, out)
	}
	if strings.Contains(out, "same state, full") {
		t.Errorf("--no-full ran the full recompute:\n%s", out)
	}
	var short dagReport
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &short); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if len(short.Phases) != 2 || short.IncrementalOverFull != 0 || strings.Contains(out, "incremental_over_full") {
		t.Errorf("--no-full: %d phases, ratio %v; want the two days and no ratio\n%s", len(short.Phases), short.IncrementalOverFull, out)
	}
	text.Reset()
	printDAG(&text, &short)
	if !strings.Contains(text.String(), "no full recompute (--no-full)") {
		t.Errorf("the --no-full report does not say why it has no ratio:\n%s", text.String())
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("bench dag --no-full left %d entries in the temp folder (%v)", len(left), err)
	}
}

// holdBack holds a day's files back and delivers them; files a run cut
// short left held (it never delivered them) are moved back by the next
// holdBack first, so that no run measures a day without its files.
func TestHoldBack_AFileLeftHeldByARunCutShortComesBack(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	files := []string{"feeds/card/txns_20261120.del", "feeds/card/txns_20261119.del", "feeds/wealth/trades/dt=2026-11-20/part-00000.parquet"}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	present := func() (n int) {
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && string(b) == f {
				n++
			}
		}
		return n
	}
	if _, err := holdBack(dir, day); err != nil { // cut short: never delivered
		t.Fatal(err)
	}
	if n := present(); n != 1 {
		t.Fatalf("%d of the files left in the feeds; want the other day's alone", n)
	}
	deliver, err := holdBack(dir, day)
	if err != nil {
		t.Fatal(err)
	}
	if n := present(); n != 1 {
		t.Fatalf("after the second hold-back %d files in the feeds; want 1", n)
	}
	if err := deliver(); err != nil {
		t.Fatal(err)
	}
	if n := present(); n != len(files) {
		t.Errorf("delivered: %d of %d files back", n, len(files))
	}
	if _, err := os.Stat(filepath.Join(dir, "held", ".moves")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the manifest of held files outlives the delivery: %v", err)
	}
}
