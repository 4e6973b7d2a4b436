package pgserve

import "testing"

// Each general translation of rewriteCatalog, and what it leaves alone:
// string literals, other schemas, and statements with nothing to translate.
func TestRewriteCatalog(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c`, `SELECT pg_get_userbyid(c.relowner) FROM pg_class c`},
		{`WHERE n.nspname OPERATOR(pg_catalog.~) '^(mart)$' COLLATE pg_catalog.default`, `WHERE n.nspname  ~  '^(mart)$' `},
		{`WHERE a !~ 'x' COLLATE "C"`, `WHERE a !~ 'x' `},
		{`SELECT c.oid::pg_catalog.regclass, 'mart.t'::regclass, t.oid::regtype::text, f(x)::regproc`,
			`SELECT cdp_regclass(c.oid), cdp_regclass_oid('mart.t'), cdp_regtype(t.oid)::text, cdp_regproc(f(x))`},
		{`FROM pg_catalog.generate_series(0, 3) s, pg_attribute WHERE attnum = arr[s]`, `FROM generate_series(0, 3) s(s), pg_attribute WHERE attnum = arr[s]`},
		{`SELECT (information_schema._pg_expandarray(i.indkey)).n`, `SELECT (_pg_expandarray(i.indkey)).n`},
		{`SELECT 'pg_catalog.pg_class' AS text, mart.pg_catalog_x FROM information_schema.tables`, `SELECT 'pg_catalog.pg_class' AS text, mart.pg_catalog_x FROM information_schema.tables`},
		{`SELECT a FROM mart.customer_360 WHERE b::int = 1`, `SELECT a FROM mart.customer_360 WHERE b::int = 1`},
	} {
		if got := rewriteCatalog(c.in); got != c.want {
			t.Errorf("rewriteCatalog(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}
