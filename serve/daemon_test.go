package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cdp/internal/testbank"
	"cdp/schedules"
	"cdp/warehouse"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The daemon publishes snapshots at start and after each successful fire,
// and answers health, readiness, status, metrics and run triggers.
func TestDaemon_HTTPSnapshotsAndTriggers(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 23, BadRowRate: 0.01})
	p := testbank.WithConfig(t, b.Dir, `
schedules:
  jobs:
    - {name: describe, stages: [tags, tiers, view]}
    - {name: nightly, stages: [signals], depends_on: [describe], cron: "0 30 2 * * *"}
    - {name: ingest, stages: [ingest]}
`)
	d := NewDaemon(p, b.W, DaemonOptions{Logger: testbank.Quiet, Roles: []string{"analyst", "engineer"}})
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + httpLn.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, httpLn, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz %d %q", code, body)
	}
	// The start snapshot: the core model, no mart tables built yet.
	if n := snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotFull), "core.party"); n == 0 {
		t.Errorf("full snapshot at start has no core.party rows")
	}

	resp, err := http.Post(base+"/run/nightly", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /run/nightly: %s", resp.Status)
	}
	if resp, _ := http.Post(base+"/run/nope", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /run/nope: %s, want 404", resp.Status)
	}
	var st schedules.Status
	waitFor(t, func() bool {
		_, body := get(t, base+"/status")
		st = schedules.Status{}
		json.Unmarshal([]byte(body), &st)
		return len(st.Runs) == 2 && st.Runs[0].Status == schedules.StatusSuccess
	})
	if !st.Daemon || st.Runs[0].Job != "nightly" || st.Runs[1].Job != "describe" || len(st.Next) != 1 || st.Next[0].Job != "nightly" {
		t.Errorf("/status %+v", st)
	}
	if h := st.Next[0].Next.In(p.Schedules.Location); h.Hour() != 2 || h.Minute() != 30 {
		t.Errorf("next fire of nightly at %v, want 02:30 China time", h)
	}
	// After the fire: the analyst snapshot holds the mart the fire built,
	// and only the mart.
	waitFor(t, func() bool {
		return snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotAnalyst), "mart.customer_360") > 0
	})
	if n := snapshotCount(t, SnapshotPath(p.Project, warehouse.SnapshotAnalyst), "core.party"); n != -1 {
		t.Errorf("the analyst snapshot has core.party (%d rows)", n)
	}
	// A fire that writes nothing (every file already loaded) keeps the
	// snapshots.
	published := d.Published(warehouse.SnapshotAnalyst)
	if res := d.Sched.Fire(ctx, schedules.Fire{Job: "ingest", Trigger: schedules.TriggerManual}); res.Status != schedules.StatusSuccess || res.Runs[0].Rows != 0 {
		t.Fatalf("ingest again: %+v", res)
	}
	if n := d.Published(warehouse.SnapshotAnalyst); n != published || n < 2 {
		t.Errorf("analyst snapshots published: %d before an empty fire, %d after (want equal, ≥ 2)", published, n)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`cdp_job_runs_total{job="nightly",status="success"} 1`,
		`cdp_job_runs_total{job="describe",status="success"} 1`,
		`cdp_stage_rows_total{stage="tags"}`,
		`cdp_outbox_backlog `,
		`cdp_rows_loaded_total `,
		`cdp_rows_rejected_total`,
		`cdp_snapshot_timestamp_seconds{kind="analyst"}`,
		`cdp_warehouse_up 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var backlog int
	b.W.DB().QueryRow(`SELECT count(*) FROM ops.outbox WHERE published_at IS NULL`).Scan(&backlog)
	if !strings.Contains(metrics, "cdp_outbox_backlog "+strconv.Itoa(backlog)+"\n") {
		t.Errorf("/metrics cdp_outbox_backlog is not the outbox's %d", backlog)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// snapshotCount counts a table's rows in a snapshot file, -1 when the
// table is not there.
func snapshotCount(t *testing.T, path, table string) int {
	t.Helper()
	db, err := warehouse.OpenSnapshot(context.Background(), path, warehouse.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return -1
		}
		if err == sql.ErrNoRows {
			return 0
		}
		t.Fatal(err)
	}
	return n
}
