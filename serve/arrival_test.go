package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cdp/internal/testbank"
	"cdp/pipeline"
	"cdp/schedules"
	"cdp/warehouse"
)

// A feed whose contract declares expected arrivals: a file due and not
// loaded raises one feed_late alert (webhook, no customer data), not one
// per check, and shows in the late-files metric.
func TestDaemon_LateFeedAlertsOnceAndShowsInMetrics(t *testing.T) {
	dir := t.TempDir()
	alerts := make(chan schedules.Alert, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var a schedules.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("alert body %q: %v", body, err)
		}
		alerts <- a
	}))
	defer hook.Close()
	contract := `feed: branch
entities:
  - name: visits
    format: delimited
    pattern: visits_{D}.del
    expected: {by: "06:00", lag: 1, days: daily}
    columns:
      - {name: visit_id, type: string, required: true}
`
	if err := os.MkdirAll(filepath.Join(dir, "contracts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "feeds", "branch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contracts", "branch.yaml"), []byte(contract), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := "warehouse: {path: wh.duckdb}\ncontracts: [contracts]\nfeeds:\n  - {name: branch, path: feeds/branch}\nschedules:\n  alert: {webhook: " + hook.URL + ", log: false}\n"
	cfg := filepath.Join(dir, "cdp.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.LoadProject(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warehouse.Open(context.Background(), p.WarehousePath(), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d := NewDaemon(p, w, DaemonOptions{Logger: testbank.Quiet})
	now := time.Date(2026, 11, 21, 7, 0, 0, 0, p.Schedules.Location) // the 20th's file was due at 06:00
	for range 2 {
		late, err := d.CheckArrivals(context.Background(), now)
		if err != nil || len(late) != 1 {
			t.Fatalf("late %+v, %v", late, err)
		}
	}
	// A restarted daemon does not alert again for the same file.
	d2 := NewDaemon(p, w, DaemonOptions{Logger: testbank.Quiet, Registry: prometheus.NewRegistry()})
	if late, err := d2.CheckArrivals(context.Background(), now); err != nil || len(late) != 1 {
		t.Fatalf("after a restart: late %+v, %v", late, err)
	}
	a := <-alerts
	if a.Kind != "feed_late" || a.Feed != "branch" || a.Entity != "branch.visits" || a.BusinessDay != "2026-11-20" || !a.Due.Equal(now.Add(-time.Hour)) {
		t.Errorf("alert %+v", a)
	}
	select {
	case again := <-alerts:
		t.Errorf("a second alert for the same file: %+v", again)
	default:
	}
	families, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() == "cdp_feed_late_files" {
			for _, m := range f.GetMetric() {
				found = found || m.GetGauge().GetValue() >= 1
			}
		}
	}
	if !found {
		t.Error("cdp_feed_late_files does not show the late file")
	}
}
