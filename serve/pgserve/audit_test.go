package pgserve_test

import (
	"strings"
	"sync"
	"testing"

	"cdp/serve/pgserve"
)

// Every login and statement reaches the audit trail — refused and failed
// ones too — with user, role, address, rows and outcome, never a result
// value, and with IDs and mobiles in the statement text masked.
func TestServe_AuditRecordsLoginsAndStatements(t *testing.T) {
	var mu sync.Mutex
	var recs []pgserve.AuditRecord
	e := serve(t, pgserve.Options{Audit: func(r pgserve.AuditRecord) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}}, true)
	e.analyst(`SELECT name FROM mart.customer_360 WHERE party_id = 'P07' OR mobile_masked = '13800130007' OR id_no_masked = '110105194912310007'`)
	e.psql("analyst", analystPassword, `DELETE FROM mart.customer_360`)
	e.psql("analyst", analystPassword, `SELECT no_such_column FROM mart.customer_360`)
	e.psql("analyst", "wrong-password", `SELECT 1`)

	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for _, r := range recs {
		count[r.Kind+"/"+r.Outcome]++
		if r.Remote == "" || r.Time.IsZero() || r.User == "" {
			t.Errorf("a record without who, where or when: %+v", r)
		}
		for _, leak := range []string{"客户7", "13800130007", "110105194912310007", analystPassword, "wrong-password"} {
			if strings.Contains(r.Statement+r.Error, leak) {
				t.Errorf("the audit record holds %q: %+v", leak, r)
			}
		}
		if r.Kind == "statement" && strings.HasPrefix(r.Statement, "SELECT name") {
			if r.Rows != 1 || r.Outcome != pgserve.OutcomeOK || r.Role != pgserve.RoleAnalyst || !strings.Contains(r.Statement, "138****0007") {
				t.Errorf("the query's record: %+v", r)
			}
		}
	}
	want := map[string]int{"login/ok": 3, "login/refused": 1, "statement/ok": 1, "statement/refused": 1, "statement/failed": 1}
	for k, n := range want {
		if count[k] < n {
			t.Errorf("%d %s records, want at least %d (all: %v)", count[k], k, n, count)
		}
	}
}
