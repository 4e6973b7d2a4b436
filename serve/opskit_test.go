package serve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"cdp/internal/testbank"
	"cdp/schedules"
	"cdp/serve/pgserve"
)

// The operations kit in docs/operations/ (the Grafana dashboard and the
// Prometheus alert rules) names only metrics the daemon exports: those a
// running daemon gathers once a job has run, and those its collectors
// describe (the SQL endpoint's, the late-feed gauges).
func TestOpsKit_ReferencesOnlyExportedMetrics(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 200, Days: 2, Seed: 29, BadRowRate: 0.01})
	p := testbank.WithConfig(t, b.Dir, "schedules:\n  jobs:\n    - {name: describe, stages: [tags]}\n")
	fired := make(chan *schedules.FireResult, 1)
	d := NewDaemon(p, b.W, DaemonOptions{Logger: testbank.Quiet, Roles: []string{"analyst"}, OnFire: func(r *schedules.FireResult) { fired <- r }})
	sql, err := pgserve.New(pgserve.Options{Users: []pgserve.User{{Name: "a", Password: "p", Role: pgserve.RoleAnalyst}}})
	if err != nil {
		t.Fatal(err)
	}
	d.Registry().MustRegister(sqlCollector{sql})
	_, stop := start(t, d)
	defer stop()
	if !d.Sched.FireAsync(schedules.Fire{Job: "describe", Trigger: schedules.TriggerManual}) {
		t.Fatal("the fire was not taken")
	}
	if r := awaitValue(t, "the fire of describe", fired); r.Status != schedules.StatusSuccess {
		t.Fatalf("describe: %s %v", r.Status, r.Err)
	}

	exported := map[string]bool{}
	families, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		exported[f.GetName()] = true
	}
	descs := make(chan *prometheus.Desc, 64)
	sqlCollector{sql}.Describe(descs)
	NewArrivalCollector(p, b.W.DB(), time.Now).Describe(descs)
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([a-z_:]+)"`)
	for desc := range descs {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			exported[m[1]] = true
		}
	}

	var exprs []string
	alerts, err := os.ReadFile(filepath.Join("..", "docs", "operations", "prometheus-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(alerts, &rules); err != nil {
		t.Fatalf("prometheus-alerts.yml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("prometheus-alerts.yml: a rule without alert or expr: %+v", r)
			}
			exprs = append(exprs, r.Expr)
		}
	}
	dash, err := os.ReadFile(filepath.Join("..", "docs", "operations", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &board); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	for _, pn := range board.Panels {
		if len(pn.Targets) == 0 {
			t.Errorf("grafana-dashboard.json: panel %q has no query", pn.Title)
		}
		for _, tg := range pn.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(rules.Groups) == 0 || len(board.Panels) == 0 {
		t.Fatal("the operations kit is empty")
	}
	metric := regexp.MustCompile(`\bcdp_[a-z0-9_]+`)
	used := 0
	for _, e := range exprs {
		for _, name := range metric.FindAllString(e, -1) {
			used++
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && exported[b] {
					base = b
				}
			}
			if !exported[base] {
				t.Errorf("%s in %q is not a metric the daemon exports", name, e)
			}
		}
	}
	t.Logf("%d metric references checked against %d exported metrics", used, len(exported))
}
