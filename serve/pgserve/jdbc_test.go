package pgserve_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"cdp/serve/pgserve"
)

const jdbcJar = "/usr/share/java/postgresql.jar"

// jdbc runs testdata/MetaData.java with Debian's pgJDBC against the
// endpoint; out is what it printed.
func (e *endpoint) jdbc(params, user, password string) (string, error) {
	e.t.Helper()
	for _, need := range []string{jdbcJar, "/usr/bin/java"} {
		if _, err := os.Stat(need); err != nil {
			e.t.Fatalf("the JDBC tests run the real pgJDBC driver: %s not found (apt-get install openjdk-17-jdk-headless libpostgresql-jdbc-java; .ci/run does)", need)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/java", "-cp", jdbcJar, "testdata/MetaData.java",
		"jdbc:postgresql://127.0.0.1:"+e.port+"/cdp"+params, user, password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Debian's pgJDBC, as DBeaver and DataGrip drive it, browses the
// warehouse: every DatabaseMetaData call answers; getColumns returns every
// column of every table getTables lists, with Postgres types that carry
// precision and scale; a query with a parameter runs. With the driver's
// default settings, with sslmode=disable, and over TLS with require.
func TestServe_JDBCDatabaseMetaData(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "bank-ca")
	e := serve(t, pgserve.Options{TLS: &tls.Config{Certificates: []tls.Certificate{ca.server}}}, true)
	type run struct{ params, user, password, n string }
	for _, r := range []run{
		{"", "analyst", analystPassword, "15"}, {"?sslmode=disable", "analyst", analystPassword, "15"},
		{"?sslmode=require", "analyst", analystPassword, "15"},
		// A user limited to a branch browses the tables their scope grants.
		{"", "branch", scopedPassword, "8"},
	} {
		params := r.params + " as " + r.user
		out, err := e.jdbc(r.params, r.user, r.password)
		if err != nil || strings.Contains(out, "ERROR") {
			t.Errorf("pgJDBC with %q: %v\n%s", params, err, out)
			continue
		}
		rows := map[string][]map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			call, rest, _ := strings.Cut(line, "|")
			row := map[string]string{}
			for _, kv := range strings.Split(rest, "|") {
				k, v, _ := strings.Cut(kv, "=")
				row[k] = v
			}
			rows[call] = append(rows[call], row)
		}
		for _, call := range []string{"getCatalogs", "getSchemas", "getTables", "getColumns", "getPrimaryKeys", "getImportedKeys", "getIndexInfo", "getTypeInfo", "getFunctions", "query"} {
			if len(rows["done"]) == 0 || !slices.ContainsFunc(rows["done"], func(r map[string]string) bool { _, ok := r[call]; return ok }) {
				t.Errorf("pgJDBC with %q: %s did not finish\n%s", params, call, out)
			}
		}
		if len(rows["getCatalogs"]) != 1 || rows["getCatalogs"][0]["table_cat"] != "cdp" {
			t.Errorf("getCatalogs: %v", rows["getCatalogs"])
		}
		schemas := map[string]bool{}
		for _, r := range rows["getSchemas"] {
			schemas[r["table_schem"]] = true
		}
		if !schemas["mart"] || schemas["raw"] || schemas["core"] {
			t.Errorf("the analyst's schemas: %v", schemas)
		}
		columns := map[string]map[string]map[string]string{} // table → column → row
		for _, r := range rows["getColumns"] {
			table := r["table_schem"] + "." + r["table_name"]
			if columns[table] == nil {
				columns[table] = map[string]map[string]string{}
			}
			columns[table][r["column_name"]] = r
		}
		for _, r := range rows["getTables"] {
			if table := r["table_schem"] + "." + r["table_name"]; len(columns[table]) == 0 {
				t.Errorf("getTables lists %s, getColumns has no column of it", table)
			}
		}
		c := columns["mart.customer_360"]
		if len(c) != 6 {
			t.Errorf("getColumns: %d columns of mart.customer_360, want 6: %v", len(c), c)
		}
		for col, want := range map[string]string{
			"party_id":   "type_name=text data_type=12",
			"aum":        "type_name=numeric data_type=2 column_size=18 decimal_digits=2",
			"updated_at": "type_name=timestamptz data_type=93",
		} {
			for _, kv := range strings.Fields(want) {
				k, v, _ := strings.Cut(kv, "=")
				if c[col][k] != v {
					t.Errorf("getColumns mart.customer_360.%s: %s=%q, want %q", col, k, c[col][k], v)
				}
			}
		}
		if _, listed := columns["mart.bank_totals"]; listed != (r.user == "analyst") {
			t.Errorf("pgJDBC with %q: mart.bank_totals, a whole-bank table, listed %t", params, listed)
		}
		if len(rows["query"]) != 1 || rows["query"][0]["n"] != r.n {
			t.Errorf("the query with a parameter: %v", rows["query"])
		}
	}
}
