package sqltext

import (
	"strings"
	"testing"
)

func TestFill(t *testing.T) {
	vars := Vars{
		"as_of": Value(Date("2026-11-20")),
		"day": func(arg string) (string, error) {
			return "(SELECT max(as_of_date) FROM " + arg + ")", nil
		},
		"n": Value("30"),
	}
	for _, c := range []struct{ in, want string }{
		{"SELECT {as_of} - {n}", "SELECT DATE '2026-11-20' - 30"},
		{"WHERE d = {day:core.aum_daily}", "WHERE d = (SELECT max(as_of_date) FROM core.aum_daily)"},
		// struct literals, JSON, regular expressions and format strings are not placeholders
		{"SELECT {'a': 1}, '{\"k\": 1}', regexp_matches(x, '\\d{6}'), strftime(d, '%Y')", "SELECT {'a': 1}, '{\"k\": 1}', regexp_matches(x, '\\d{6}'), strftime(d, '%Y')"},
		{"{n}{n}", "3030"},
		// comments are left alone, whatever they mention; quotes do not start comments
		{"-- {as_of} and {unknown}\nSELECT {n} /* {x} */ + {n}", "-- {as_of} and {unknown}\nSELECT 30 /* {x} */ + 30"},
		{"SELECT '--{n}', 'it''s {n}', \"a--b\" /* {y}", "SELECT '--30', 'it''s 30', \"a--b\" /* {y}"},
		{"SELECT {n} -- {z}", "SELECT 30 -- {z}"},
	} {
		got, err := Fill(c.in, vars)
		if err != nil || got != c.want {
			t.Errorf("Fill(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	_, err := Fill("SELECT {as_of}, {asof}, {n:7}, {asof}", vars)
	if err == nil || !strings.Contains(err.Error(), "unknown placeholder {asof} (this SQL may use {as_of}, {day}, {n})") ||
		!strings.Contains(err.Error(), "{n:7}: takes no argument") || strings.Count(err.Error(), "{asof}") != 1 {
		t.Errorf("bad placeholders: %v", err)
	}
	if got := strings.Join(Uses("{a} {b:x} {a} {'c': 1} -- {d}\n/* {e} */ '{f}'"), ","); got != "a,b,f" {
		t.Errorf("Uses = %s", got)
	}
}

func TestLiteral(t *testing.T) {
	for v, want := range map[any]string{3: "3", int64(4): "4", 2.5: "2.5", "O'Brien": "'O''Brien'", true: "true"} {
		if got, err := Literal(v); err != nil || got != want {
			t.Errorf("Literal(%v) = %q, %v", v, got, err)
		}
	}
	if _, err := Literal([]int{1}); err == nil {
		t.Error("a list became a literal")
	}
}
