package signals

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad_ShippedRulesAndProblemsWithFileAndLine(t *testing.T) {
	rs, err := Load(Builtin(), map[string]map[string]any{"churn_aum_outflow": {"window_days": 60}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rs.Rules {
		kinds[r.Kind]++
		if r.ID == "churn_aum_outflow" && !strings.Contains(r.Query("2026-11-20"), "DATE '2026-11-20' - 60 AND") {
			t.Errorf("the parameter override is not in the query:\n%s", r.Query("2026-11-20"))
		}
	}
	if kinds["churn"] != 5 || kinds["cross_sell"] != 5 || kinds["risk"] != 2 {
		t.Errorf("shipped rules by kind: %v", kinds)
	}
	bad := fstest.MapFS{"x.yaml": {Data: []byte(`kind: cross_sell
owner: o
rules:
  - id: Bad-Id
    name_zh: 一
    name_en: One
    description: d
    priority: urgent
    valid_days: 0
    action: a
    params: {}
    reason: "{{.x"
    sql: SELECT party_id, 1 AS score FROM t WHERE d = {nope}
`)}}
	_, err = Load(bad, map[string]map[string]any{"ghost": {"a": 1}})
	if err == nil {
		t.Fatal("a broken rule file loaded")
	}
	for _, want := range []string{`x.yaml:4: Bad-Id: id "Bad-Id"`, "x.yaml:4: Bad-Id: priority \"urgent\"", "x.yaml:4: Bad-Id: valid_days must be 1 or more",
		"x.yaml:4: Bad-Id: a cross_sell rule names the product", "x.yaml:13: Bad-Id: the sql uses {nope}", "x.yaml:12: Bad-Id: reason:",
		"cdp.yaml: ghost: signals.params names a rule that does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for got, want := range map[string]string{
		Money(6200000.0): "6,200,000", Money(-1234.5): "-1,235", Num(8123456.0): "8.1M", Num(950000.0): "950K", Num(12.0): "12",
		Pct(41.27): "41.3%", Date("2026-12-03"): "12-03",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
