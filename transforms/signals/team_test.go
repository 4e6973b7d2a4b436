package signals_test

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"cdp/internal/sqltest"
	"cdp/internal/testbank"
	"cdp/transforms/signals"
)

// Service teams (1+N): every signal event names its owner and the team
// role it is for. A risk alert goes to the party's risk specialist and its
// RM; a product specialist's cross-sell to the specialist and the RM; a
// party whose roster names no RM falls back to its golden record's RM, one
// with neither to its branch's queue, one without a branch to the
// unassigned queue. Only the latest roster file counts, and only the
// assignments valid on the day. The funnel reports by owner and role.
func TestRun_ServiceTeamsOwnTheSignals(t *testing.T) {
	product := strings.Replace(testRule("xs_p", 7), "    action: act\n", "    action: act\n    team_role: PRODUCT\n", 1)
	w, rules := ruleBank(t, map[string][]string{"risk": {testRule("rk_a", 7)}, "cross_sell": {product}})
	db := w.DB()
	for _, q := range []string{
		`INSERT INTO core.party (party_id, party_type, name, rm_id, branch_code, source_records, fingerprint) VALUES
		 ('P1', 'C', 'n1', 'RM1', 'BR1', 1, 1), ('P2', 'C', 'n2', 'RM9', 'BR2', 1, 2),
		 ('P3', 'C', 'n3', NULL, 'BR7', 1, 3), ('P4', 'C', 'n4', NULL, NULL, 1, 4)`,
		// An older roster, superseded by the 11-20 one; in the latest, P1's
		// team has an ended risk assignment (S0) and a product one that
		// starts after the day (S5); P3's has an advisor only.
		`INSERT INTO raw.contact_team (assignment_id, party_id, member_id, role, valid_from, valid_to, _source) VALUES
		 ('A0', 'P1', 'SX', 'RISK', NULL, NULL, 'team_20261101.csv:2'),
		 ('A1', 'P1', 'S1', 'RM', NULL, NULL, 'team_20261120.csv:2'),
		 ('A2', 'P1', 'S0', 'RISK', DATE '2026-01-01', DATE '2026-11-10', 'team_20261120.csv:3'),
		 ('A3', 'P1', 'S2', 'RISK', DATE '2026-11-11', NULL, 'team_20261120.csv:4'),
		 ('A4', 'P1', 'S4', 'PRODUCT', NULL, DATE '2026-11-21', 'team_20261120.csv:5'),
		 ('A5', 'P1', 'S5', 'PRODUCT', DATE '2026-11-22', NULL, 'team_20261120.csv:6'),
		 ('A6', 'P3', 'S6', 'ADVISOR', NULL, NULL, 'team_20261120.csv:7')`,
		`INSERT INTO main.hits VALUES ('rk_a', 'P1', 80, 'a'), ('rk_a', 'P2', 80, 'b'), ('rk_a', 'P3', 80, 'c'), ('rk_a', 'P4', 80, 'd'),
		 ('xs_p', 'P1', 70, 'e'), ('xs_p', 'P2', 70, 'f')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// No holdout: every hit is published and owned.
	cfg := signals.Config{Holdout: signals.Holdout{Kinds: map[string]float64{"cross_sell": 0}}}
	if _, err := signals.Run(context.Background(), w, rules, cfg, signals.RunOptions{AsOf: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), RunID: "r1", Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for scan := range sqltest.Rows(t, db, `SELECT data FROM ops.outbox ORDER BY key, data::JSON->>'rule_id'`) {
		var body string
		scan(&body)
		var e signals.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatal(err)
		}
		to := ""
		for _, a := range e.Assignees {
			to += " " + a.MemberID + ":" + a.Role
		}
		got = append(got, e.RuleID+"/"+e.PartyID+" "+e.TeamRole+" → "+e.OwnerType+" "+e.OwnerID+to)
	}
	sort.Strings(got)
	same(t, "owners", got,
		"rk_a/P1 RISK → team_member S2 S2:RISK S1:RM",
		"xs_p/P1 PRODUCT → team_member S4 S4:PRODUCT S1:RM",
		"rk_a/P2 RISK → team_member RM9 RM9:RM",
		"xs_p/P2 PRODUCT → team_member RM9 RM9:RM",
		"rk_a/P3 RISK → branch_queue BR7",
		"rk_a/P4 RISK → unassigned_queue UNASSIGNED")

	funnel := func(by string) []string {
		t.Helper()
		f, err := signals.Report(context.Background(), db, signals.ReportOptions{By: by})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range f.Rows {
			out = append(out, r.Group+":"+strconv.FormatInt(r.Signals, 10))
		}
		return out
	}
	same(t, "funnel by member", funnel("member"), "BR7:1", "RM9:2", "S2:1", "S4:1", "UNASSIGNED:1")
	same(t, "funnel by role", funnel("role"), "PRODUCT:2", "RISK:4")
	var rows int
	sqltest.Row(t, db, `SELECT count(*) FROM mart.signal_funnel WHERE owner_id = 'S2' AND team_role = 'RISK'`).Scan(&rows)
	if rows != 1 {
		t.Errorf("mart.signal_funnel has %d rows for S2 as risk specialist, want 1", rows)
	}
}
