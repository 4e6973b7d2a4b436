package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"cdp/connectors/contract"
	"cdp/warehouse"
)

// CrashChild is the crashing child process TestMain (main_test.go) runs
// when CDP_CRASH_PROJECT is set: one ingest of the project at path that
// SIGKILLs itself at the named point. It lives here, in the package's own
// tests, because the warehouse's crash hook and the ingest are wired here;
// TestMain sits in pipeline_test because it runs testbank.Main.
var CrashChild = crashChild

func crashChild(path, at string) {
	point, nth, _ := strings.Cut(at, ":")
	n, _ := strconv.Atoi(nth)
	seen := 0
	warehouse.SetCrashHook(func(p string) {
		if p == point {
			if seen++; seen == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	})
	c, err := LoadProject(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w, err := warehouse.Open(context.Background(), c.WarehousePath(), warehouse.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_, err = Ingest(context.Background(), c.Project, w, IngestOptions{Logger: quiet})
	w.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0) // the crash point was never reached
}

// killedIngest runs an ingest of the project in a child process that
// SIGKILLs itself at the crash point at ("batch:2", "before-commit:1").
func killedIngest(t *testing.T, p *project, at string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CDP_CRASH_PROJECT="+filepath.Join(p.dir, "cdp.yaml"), "CDP_CRASH_AT="+at)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed at %s: %v\n%s", at, err, out)
	}
}

// fillCrashProject delivers several files big enough to span many batches,
// with some bad rows, plus stream events.
func fillCrashProject(t *testing.T, p *project) {
	var b strings.Builder
	b.WriteString(creditCustomerHeader + "\n")
	for i := 0; i < 60000; i++ {
		birth := "1980-01-01"
		if i%997 == 0 {
			birth = "1980-02-30"
		}
		fmt.Fprintf(&b, "%s\n", customerRow(fmt.Sprintf("C%06d", i), "P", "客户"+strconv.Itoa(i), birth, ""))
	}
	p.deliver("credit/customers_20261120.csv", gbk(t, b.String()), 60000)
	var e strings.Builder
	for i := 0; i < 40000; i++ {
		fmt.Fprintf(&e, "%s\n", event(fmt.Sprintf("A%06d", i), fmt.Sprintf("u%d", i%101)))
	}
	p.deliver("ebank/events_20261119.jsonl.gz", gz(t, e.String()), 40000)
}

// checksums fingerprints every raw table, the rejects and the checkpoints,
// leaving out what legitimately differs between runs (load ids, times).
func checksums(t *testing.T, p *project) map[string]string {
	out := map[string]string{}
	p.query(func(w *warehouse.Warehouse) {
		for _, e := range contract.Entities {
			var cols []string
			for _, c := range e.Columns {
				cols = append(cols, c.Name)
			}
			q := fmt.Sprintf(`SELECT count(*) || '/' || coalesce(sum(hash(%s, _extra, _source)::HUGEINT), 0) FROM %s`, strings.Join(cols, ", "), e.Table())
			var s string
			if err := w.DB().QueryRow(q).Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[e.Table()] = s
		}
		for name, q := range map[string]string{
			"rejects":     `SELECT count(*) || '/' || coalesce(sum(hash(position, reason, detail, raw)::HUGEINT), 0) FROM ops.rejects r JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded'`,
			"files":       `SELECT count(*) || '/' || coalesce(sum(hash(feed, path, md5, rows_in)::HUGEINT), 0) FROM ops.file_checkpoints`,
			"streams":     `SELECT count(*) || '/' || coalesce(sum(hash(feed, topic, "partition", next_offset)::HUGEINT), 0) FROM ops.stream_checkpoints`,
			"loaded rows": `SELECT coalesce(sum(rows_loaded), 0) || '/' || coalesce(sum(rows_rejected), 0) FROM ops.loads WHERE status = 'loaded'`,
		} {
			var s string
			if err := w.DB().QueryRow(q).Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[name] = s
		}
	})
	return out
}

func TestIngest_KilledMidLoadThenRerunEqualsCleanRun(t *testing.T) {
	c := startBroker(t, 3)
	var msgs []string
	for i := 0; i < 1000; i++ {
		msgs = append(msgs, event(fmt.Sprintf("S%05d", i), fmt.Sprintf("u%d", i%53)))
	}
	produce(t, c, msgs...)

	clean := newStreamProject(t, c)
	fillCrashProject(t, clean)
	if _, err := clean.ingest(); err != nil {
		t.Fatal(err)
	}
	want := checksums(t, clean)
	if want["raw.credit_customers"] == "0/0" || want["raw.ebank_events"] == "0/0" {
		t.Fatalf("clean run loaded nothing: %v", want)
	}

	for _, at := range []string{"batch:2", "batch:9", "before-commit:1", "before-commit:3", "before-commit:5"} {
		t.Run(at, func(t *testing.T) {
			p := newStreamProject(t, c)
			fillCrashProject(t, p)
			killedIngest(t, p, at)
			if _, err := p.ingest(); err != nil {
				t.Fatalf("rerun after crash: %v", err)
			}
			got := checksums(t, p)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s after crash at %s and rerun: %s, clean run: %s", k, at, got[k], v)
				}
			}
		})
	}
}

// A feed declared only in a project's contracts (and read through a
// mapping) survives a SIGKILL mid-load like the built-ins: killed inside
// its transaction, then rerun, it equals a clean run.
func TestIngest_AProjectFeedKilledMidLoadThenRerunEqualsCleanRun(t *testing.T) {
	setup := func() *project {
		p := newProject(t, "contracts: [contracts]\n")
		p.withContract("  - name: branch\n    path: feeds/branch\n    mapping:\n      visits:\n        columns:\n          visit_id: 编号\n          purpose: {from: 事由, codes: {存款: DEPOSIT, 理财: WEALTH, 贷款: LOAN}}\n",
			"branch.yaml", branchContract)
		var b strings.Builder
		b.WriteString("编号|cust_no|visited_at|事由|fee\n")
		for i := range 60000 {
			purpose := []string{"存款", "理财", "贷款", "柜面"}[i%4] // 柜面 is outside the code map: a reject
			fmt.Fprintf(&b, "V%06d|C%d|2026-11-20 09:30:00|%s|1.5\n", i, i%977, purpose)
		}
		p.deliver("branch/visits_20261120.del", []byte(b.String()), 60000)
		return p
	}
	sum := func(p *project) string {
		var s string
		p.query(func(w *warehouse.Warehouse) {
			q := `SELECT (SELECT count(*) || '/' || sum(hash(visit_id, cust_no, visited_at, purpose, fee, _extra, _source)::HUGEINT) FROM raw.branch_visits)
				|| ' ' || (SELECT count(*) || '/' || sum(hash(position, reason, detail)::HUGEINT) FROM ops.rejects r JOIN ops.loads l USING (load_id) WHERE l.status = 'loaded')`
			if err := w.DB().QueryRow(q).Scan(&s); err != nil {
				t.Fatal(err)
			}
		})
		return s
	}
	clean := setup()
	if _, err := clean.ingest(); err != nil {
		t.Fatal(err)
	}
	want := sum(clean)
	if !strings.HasPrefix(want, "45000/") {
		t.Fatalf("clean run: %s, want 45000 rows loaded", want)
	}
	for _, at := range []string{"batch:2", "before-commit:1"} {
		t.Run(at, func(t *testing.T) {
			p := setup()
			killedIngest(t, p, at)
			if _, err := p.ingest(); err != nil {
				t.Fatalf("rerun after crash: %v", err)
			}
			if got := sum(p); got != want {
				t.Errorf("after a crash at %s and a rerun: %s, clean run: %s", at, got, want)
			}
		})
	}
}
