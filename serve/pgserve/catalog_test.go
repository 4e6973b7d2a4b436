package pgserve_test

import (
	"strings"
	"testing"

	"cdp/serve/pgserve"
)

// psql's meta-commands work as they do against Postgres, each role seeing
// the schemas and tables of its own snapshot, in the catalog too; so do
// the queries psql's tab completion sends.
func TestServe_PsqlMetaCommands(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	type check struct {
		user, password, command string
		want, not               []string
	}
	for _, c := range []check{
		{"analyst", analystPassword, `\l`, []string{"cdp|cdp|UTF8|"}, nil},
		{"analyst", analystPassword, `\dn`, []string{"mart|cdp"}, []string{"raw|", "core|", "cdp_base|"}},
		// A scoped user's catalog: the mart tables their scope grants.
		{"branch", scopedPassword, `\dn`, []string{"mart|cdp"}, []string{"cdp_base|"}},
		{"branch", scopedPassword, `\dt mart.*`, []string{"mart|customer_360|table|cdp", "mart|branch_totals|table|cdp"}, []string{"bank_totals"}},
		{"analyst", analystPassword, `\dt mart.*`, []string{"mart|bank_totals|table|cdp"}, nil},
		{"branch", scopedPassword, `\d mart.customer_360`, []string{"party_id|text|", "aum|numeric(18,2)|"}, nil},
		{"analyst", analystPassword, `\dt`, []string{"mart|customer_360|table|cdp"}, []string{"raw|", "core|"}},
		{"analyst", analystPassword, `\dt mart.*`, []string{"mart|customer_360|table|cdp"}, nil},
		{"engineer", engineerPassword, `\dt raw.*`, []string{"raw|demo_events|table|cdp"}, nil},
		{"engineer", engineerPassword, `\dn`, []string{"mart|cdp", "raw|cdp", "core|cdp"}, nil},
		{"analyst", analystPassword, `\d mart.customer_360`, []string{"party_id|text|", "aum|numeric(18,2)|", "updated_at|timestamp with time zone|"}, nil},
		{"analyst", analystPassword, `\d+ mart.customer_360`, []string{"party_id|text||||extended||", "aum|numeric(18,2)||||plain||"}, []string{"???"}},
		{"analyst", analystPassword, `\dv`, nil, nil},
		{"analyst", analystPassword, `\df`, nil, nil},
		// Tab completion: tables whose quoted name starts with what was typed.
		{"analyst", analystPassword, `SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c
			WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND substring(pg_catalog.quote_ident(c.relname),1,4)='cust'
			AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')`,
			[]string{"customer_360"}, nil},
	} {
		out, stderr, err := e.psqlWith([]string{"PGSSLMODE=disable"}, c.user, c.password, c.command)
		if err != nil || strings.Contains(stderr, "ERROR") {
			t.Errorf("%s as %s: %v\n%s", c.command, c.user, err, stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s as %s: no %q in\n%s", c.command, c.user, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s as %s: %q in\n%s", c.command, c.user, n, out)
			}
		}
	}
}
