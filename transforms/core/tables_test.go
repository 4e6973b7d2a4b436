package core

import (
	"regexp"
	"strings"
	"testing"
)

// Every shipped definition parses, in build order, and each incremental
// build statement is generated from it.
func TestDefinitions_ParseAndGenerateBothBuilds(t *testing.T) {
	want := "core.holding_daily core.holding core.aum_daily core.trade core.loan_daily core.loan core.repayment " +
		"core.card_account core.card_txn core.digital_event core.activity_day core.settlement core.company_profile core.monthly_history core.company_financials core.opinion_event"
	if got := strings.Join(Tables, " "); got != want {
		t.Fatalf("tables %s\nwant %s", got, want)
	}
	full, err := full(nil)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := incremental(42, nil)
	if err != nil {
		t.Fatal(err)
	}
	leftOver := regexp.MustCompile(`\{[a-z][a-z0-9_]*(:[^{}\s]+)?\}`)
	for _, stmts := range [][]statement{full, inc} {
		for _, st := range stmts {
			if m := leftOver.FindString(st.sql); m != "" {
				t.Errorf("%s: an unfilled placeholder in\n%s", st.table, st.sql)
			}
		}
	}
	joined := func(stmts []statement) string {
		var b strings.Builder
		for _, s := range stmts {
			b.WriteString(s.sql + ";\n")
		}
		return b.String()
	}
	fs, is := joined(full), joined(inc)
	for _, want := range []string{"_load_id > 42", "UPDATE core.card_account t SET primary_party_id = m.party_id",
		"DELETE FROM cdp_new n USING core.loan t", "UPDATE core.repayment t SET party_id = p.party_id FROM core.loan p",
		"CREATE OR REPLACE TABLE core.holding AS"} {
		if !strings.Contains(is, want) {
			t.Errorf("the incremental build lacks %q", want)
		}
	}
	if strings.Contains(fs, "_load_id >") || !strings.Contains(fs, "QUALIFY row_number() OVER (PARTITION BY loan_no ORDER BY last_seen DESC, load_id DESC) = 1") {
		t.Errorf("the full build does not read every load, newest version first:\n%s", fs)
	}
}

func TestParseDefinition_RefusesWhatItCannotBuild(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"-- core.x: y\n-- kind: latest\nSELECT 1", "needs key:"},
		{"-- core.x: y\n-- kind: latest\n-- key: a\nSELECT 1", "needs newest:"},
		{"-- core.x: y\n-- kind: sometimes\nSELECT 1", `kind "sometimes"`},
		{"-- core.x: y\n-- kind: aggregate\nSELECT 1", "incremental statements"},
		{"-- core.x: y\n-- kind: latest\n-- key: a\n-- newest: b\n-- repoint: party_id from wealth\nSELECT 1", "want column = system.source_column"},
		{"-- x: y\n-- kind: derived\nSELECT 1", "names no core table"},
	} {
		if _, err := parseDefinition("t.sql", c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}
