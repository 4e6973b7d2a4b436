package signals

import (
	"regexp"
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
		if q, err := r.Query("2026-11-20"); r.ID == "churn_aum_outflow" && (err != nil || !strings.Contains(q, "DATE '2026-11-20' - 60 AND")) {
			t.Errorf("the parameter override is not in the query (%v):\n%s", err, q)
		}
	}
	if kinds["churn"] != 8 || kinds["cross_sell"] != 9 || kinds["risk"] != 8 || kinds["service"] != 2 {
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
	// A placeholder whose argument is wrong is refused at load, not left in
	// the SQL for the warehouse to stumble on.
	badDay := strings.Replace(string(bad["x.yaml"].Data), "{nope}", "{day:core.loan}", 1)
	_, err = Load(fstest.MapFS{"x.yaml": {Data: []byte(badDay)}}, nil)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:13: Bad-Id: {day:core.loan}") {
		t.Errorf("a {day:} of a table that is not a snapshot loaded: %v", err)
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

// Evidence is masked by the PII policy: by column name whatever the type,
// and IDs and mobiles inside any text; allow_pii lets it all through.
func TestMaskEvidence(t *testing.T) {
	for _, c := range []struct {
		column string
		v      any
		want   any
	}{
		{"mobile", int64(13812345678), "138****5678"},
		{"contact_tel", "010-66668888", "010*****8888"},
		{"legal_rep_id", "110101199003071234", "110101********1234"},
		{"note", "call 13812345678 today", "call 138****5678 today"},
		{"aum", 1.5e6, 1.5e6},
		{"mobile", nil, nil},
	} {
		if got := maskEvidence(c.column, c.v, false); got != c.want {
			t.Errorf("maskEvidence(%s, %v) = %v, want %v", c.column, c.v, got, c.want)
		}
		if got := maskEvidence(c.column, c.v, true); got != c.v {
			t.Errorf("with allow_pii, maskEvidence(%s, %v) = %v", c.column, c.v, got)
		}
	}
}

// Every built-in rule speaks Chinese to the RMs who act on it: a reason
// and an action, the reason filled from the same evidence.
func TestBuiltinRules_SpeakChinese(t *testing.T) {
	rules, err := Load(Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	han := regexp.MustCompile(`\p{Han}`)
	for _, r := range rules.Rules {
		if !han.MatchString(r.ReasonZH) || !han.MatchString(r.ActionZH) {
			t.Errorf("%s: reason_zh %q, action_zh %q", r.ID, r.ReasonZH, r.ActionZH)
		}
	}
	for v, want := range map[float64]string{3_730_000: "373万", 125_000_000: "1.25亿", 8_500: "8,500元", 1_234_567: "123.5万", 100_000_000: "1亿"} {
		if got := Wan(v); got != want {
			t.Errorf("Wan(%v) = %s, want %s", v, got, want)
		}
	}
	if got := DateZH("2026-11-19"); got != "11月19日" {
		t.Errorf("DateZH: %s", got)
	}
}
