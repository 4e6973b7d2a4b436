package pipeline

import (
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cdp/connectors/contract"
	"cdp/internal/sqltest"
	"cdp/internal/synthbank"
	"cdp/warehouse"
)

// The foreign bank: the synthetic bank's credit and card files as another
// bank's systems would write them, loaded through mappings in cdp.yaml,
// must give raw tables equal row for row to the canonical load. Credit
// customers get Chinese headers in another column order, their own codes
// (个人/对公, 正常…损失 and numbered codes), dates as 2024年01月31日,
// compact timestamps and thousands separators; credit loans and
// repayments come without a header, read by position; every card entity
// is a fixed-width file.
func TestIngest_AForeignBankLoadsThroughMappingsAsTheCanonicalFiles(t *testing.T) {
	ctx := context.Background()
	canon := t.TempDir()
	if _, err := synthbank.Generate(ctx, synthbank.Options{Out: canon, Parties: 250, Days: 2}); err != nil {
		t.Fatal(err)
	}
	feeds := filepath.Join(canon, "feeds")
	canonYAML := fmt.Sprintf(`warehouse: {path: canon.duckdb}
ingest: {workers: 2}
feeds:
  - {name: credit, kind: files, path: %q, format: csv, encoding: gb18030}
  - {name: card, kind: files, path: %q, format: delimited}
`, filepath.Join(feeds, "credit"), filepath.Join(feeds, "card"))
	cp := &project{t: t, dir: canon}
	if err := os.WriteFile(filepath.Join(canon, "cdp.yaml"), []byte(canonYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := cp.ingest(); err != nil || len(rep.Failed()) > 0 {
		t.Fatalf("canonical load: %v %+v", err, rep)
	}

	foreign := t.TempDir()
	fp := &project{t: t, dir: foreign}
	var yaml strings.Builder
	yaml.WriteString("warehouse: {path: foreign.duckdb}\ningest: {workers: 2}\nfeeds:\n")
	yaml.WriteString("  - name: credit\n    kind: files\n    path: feeds/credit\n    format: csv\n    encoding: gb18030\n    mapping:\n")
	credit := contract.BuiltinSet.Feed("credit")
	card := contract.BuiltinSet.Feed("card")
	cp.query(func(w *warehouse.Warehouse) {
		for _, e := range credit.Entities {
			positional := e.Name != "customers"
			yaml.WriteString(rewriteCSV(t, w.DB(), e, filepath.Join(foreign, "feeds", "credit"), positional))
		}
	})
	yaml.WriteString("  - name: card\n    kind: files\n    path: feeds/card\n    format: fixed\n    mapping:\n")
	cp.query(func(w *warehouse.Warehouse) {
		for _, e := range card.Entities {
			yaml.WriteString(rewriteFixed(t, w.DB(), e, filepath.Join(foreign, "feeds", "card")))
		}
	})
	if err := os.WriteFile(filepath.Join(foreign, "cdp.yaml"), []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := fp.ingest()
	if err != nil {
		t.Fatal(err)
	}
	if failed := rep.Failed(); len(failed) > 0 {
		t.Fatalf("foreign load failed: %v", failed[0].Err)
	}
	for _, e := range append(slices.Clone(credit.Entities), card.Entities...) {
		// A fixed-width value cannot carry spaces at its edges (they are its
		// padding), and the generator plants such identity noise: the card
		// tables are compared with string values trimmed, on both sides.
		fixed := e.Feed == "card"
		want, n := tableSum(t, cp, e, fixed)
		got, m := tableSum(t, fp, e, fixed)
		if n == 0 {
			t.Fatalf("%s: the canonical load has no rows", e.Table())
		}
		if got != want || m != n {
			t.Errorf("%s: %d rows, checksum %s; the canonical load has %d, %s", e.Table(), m, got, n, want)
		}
	}
	// cdp contract suggest finds the mapping of the file with headers.
	customers := credit.Entities[0]
	rep2, err := SuggestMapping(fp.config(), "credit", customers.Name, filepath.Join(foreign, "feeds", "credit", customers.FileName("20261120")), 1)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for _, p := range rep2.Proposals {
		if c, _ := customers.Column(p.Column); p.Field == c.ZH {
			right++
		}
	}
	if float64(right) < 0.9*float64(len(customers.Columns)) {
		t.Errorf("suggest: %d of %d columns right\n%s", right, len(customers.Columns), rep2.YAML("credit"))
	}
	if n := fp.count(`SELECT count(*) FROM ops.rejects`); n != cp.count(`SELECT count(*) FROM ops.rejects`) {
		t.Errorf("%d rejects, the canonical load had %d", n, cp.count(`SELECT count(*) FROM ops.rejects`))
	}
}

// tableSum is an md5 over a raw table's rows in a stable order, without
// the load's own columns.
func tableSum(t *testing.T, p *project, e *contract.Entity, trim bool) (string, int64) {
	t.Helper()
	h := md5.New()
	var n int64
	cols := []string{"_extra"}
	for _, c := range e.Columns {
		col := `"` + c.Name + `"`
		if trim && c.Type == contract.String {
			col = "trim(" + col + ") AS " + col
		}
		cols = append(cols, col)
	}
	p.query(func(w *warehouse.Warehouse) {
		q := fmt.Sprintf(`SELECT CAST(t AS VARCHAR) AS r FROM (SELECT %s FROM %s) t ORDER BY r`, strings.Join(cols, ", "), e.Table())
		for scan := range sqltest.Rows(t, w.DB(), q) {
			var r string
			scan(&r)
			h.Write([]byte(r + "\n"))
			n++
		}
	})
	return hex.EncodeToString(h.Sum(nil)), n
}

// foreignCodes are the other bank's codes for an enum column.
func foreignCodes(c contract.Column) map[string]string {
	out := map[string]string{}
	switch c.Name {
	case "cust_type":
		out["P"], out["C"] = "个人", "对公"
	case "five_class":
		for i, zh := range []string{"正常", "关注", "次级", "可疑", "损失"} {
			out[fmt.Sprint(i+1)] = zh
		}
	default:
		for i, v := range c.Enum {
			out[v] = fmt.Sprintf("%02d", i+1)
		}
	}
	return out
}

// sourceRows reads the canonical raw rows as the foreign bank writes them,
// in load order: codes replaced, dates and timestamps in their layouts,
// decimals with thousands separators when thousands is set.
func sourceRows(t *testing.T, db *sql.DB, e *contract.Entity, dateLayout, tsLayout string, thousands bool) [][]string {
	t.Helper()
	var exprs []string
	for _, c := range e.Columns {
		q := `"` + c.Name + `"`
		switch {
		case c.Type == contract.Date:
			q = fmt.Sprintf("strftime(%s, '%s')", q, dateLayout)
		case c.Type == contract.Timestamp:
			q = fmt.Sprintf("strftime(timezone('Asia/Shanghai', %s), '%s')", q, tsLayout)
		case c.Type == contract.Decimal && thousands:
			q = fmt.Sprintf("format('{:,.%df}', %s)", c.Scale, q)
		}
		exprs = append(exprs, fmt.Sprintf("coalesce(CAST(%s AS VARCHAR), '')", q))
	}
	// The last value is the business day of the file the row came from.
	exprs = append(exprs, `regexp_extract(_source, '_(\d{8})\.', 1)`)
	query := fmt.Sprintf("SELECT %s FROM %s ORDER BY _source", strings.Join(exprs, ", "), e.Table())
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]string, len(e.Columns)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range e.Columns {
			if len(c.Enum) > 0 && vals[i] != "" {
				vals[i] = foreignCodes(c)[vals[i]]
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeDelivered writes a data file and its control file.
func writeDelivered(t *testing.T, path string, data []byte, rows int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if err := os.WriteFile(path+".ok", []byte(fmt.Sprintf("%d|%x\n", rows, sum)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// columnMapping writes one column's mapping line.
func columnMapping(c contract.Column, dateLayout, tsLayout string, thousands bool) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("from: %q", c.ZH))
	if len(c.Enum) > 0 {
		var codes []string
		for v, code := range foreignCodes(c) {
			codes = append(codes, fmt.Sprintf("%q: %q", code, v))
		}
		slices.Sort(codes)
		parts = append(parts, "codes: {"+strings.Join(codes, ", ")+"}")
	}
	switch {
	case c.Type == contract.Date:
		parts = append(parts, fmt.Sprintf("layout: %q", dateLayout))
	case c.Type == contract.Timestamp:
		parts = append(parts, fmt.Sprintf("layout: %q", tsLayout))
	case c.Type == contract.Decimal && thousands:
		parts = append(parts, `thousands: ","`)
	}
	return fmt.Sprintf("          %s: {%s}\n", c.Name, strings.Join(parts, ", "))
}

// rewriteCSV writes a credit entity as the foreign bank does (GBK CSV,
// Chinese header names in reverse order, or no header at all) and returns
// its mapping.
func rewriteCSV(t *testing.T, db *sql.DB, e *contract.Entity, dir string, positional bool) string {
	t.Helper()
	dateLayout, tsLayout, thousands := "%Y年%m月%d日", "%Y%m%d%H%M%S.%f", true
	if positional {
		dateLayout, tsLayout, thousands = "%d/%m/%Y", "%d/%m/%Y %H:%M:%S.%f", false
	}
	rows := sourceRows(t, db, e, dateLayout, tsLayout, thousands)
	order := make([]int, len(e.Columns))
	for i := range order {
		order[i] = len(order) - 1 - i // reversed: nothing lines up by accident
	}
	names := make([]string, len(order))
	for k, i := range order {
		names[k] = e.Columns[i].ZH
	}
	days, byDay := splitDays(rows)
	for _, day := range days {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if !positional {
			w.Write(names)
		}
		for _, r := range byDay[day] {
			rec := make([]string, len(order))
			for k, i := range order {
				rec[k] = r[i]
			}
			w.Write(rec)
		}
		w.Flush()
		writeDelivered(t, filepath.Join(dir, e.FileName(day)), gbkBytes(t, buf.String()), len(byDay[day]))
	}
	var m strings.Builder
	fmt.Fprintf(&m, "      %s:\n", e.Name)
	if positional {
		fmt.Fprintf(&m, "        fields: [%s]\n", quoteAll(names))
	}
	m.WriteString("        columns:\n")
	for _, c := range e.Columns {
		m.WriteString(columnMapping(c, dateLayout, tsLayout, thousands))
	}
	return m.String()
}

// splitDays groups source rows (their last value the business day of the
// file they came from, dropped) by that day: one foreign file a day, as
// the canonical bank delivered them.
func splitDays(rows [][]string) ([]string, map[string][][]string) {
	byDay := map[string][][]string{}
	var days []string
	for _, r := range rows {
		day := r[len(r)-1]
		if byDay[day] == nil {
			days = append(days, day)
		}
		byDay[day] = append(byDay[day], r[:len(r)-1])
	}
	slices.Sort(days)
	return days, byDay
}

// rewriteFixed writes a card entity as a fixed-width file, each field as
// wide as its longest value, and returns its mapping.
func rewriteFixed(t *testing.T, db *sql.DB, e *contract.Entity, dir string) string {
	t.Helper()
	dateLayout, tsLayout := "%Y%m%d", "%Y-%m-%dT%H:%M:%S.%f"
	rows := sourceRows(t, db, e, dateLayout, tsLayout, false)
	widths := make([]int, len(e.Columns))
	for i := range widths {
		widths[i] = 1
	}
	days, byDay := splitDays(rows)
	for _, r := range rows {
		for i, v := range r[:len(widths)] {
			widths[i] = max(widths[i], len(v))
		}
	}
	for _, day := range days {
		var buf bytes.Buffer
		for _, r := range byDay[day] {
			for i, v := range r {
				buf.WriteString(v + strings.Repeat(" ", widths[i]-len(v)))
			}
			buf.WriteString("\r\n")
		}
		writeDelivered(t, filepath.Join(dir, e.FileName(day)), buf.Bytes(), len(byDay[day]))
	}
	var m strings.Builder
	fmt.Fprintf(&m, "      %s:\n        fields:\n", e.Name)
	for i, c := range e.Columns {
		fmt.Fprintf(&m, "          - {name: %q, width: %d}\n", c.ZH, widths[i])
	}
	m.WriteString("        columns:\n")
	for _, c := range e.Columns {
		m.WriteString(columnMapping(c, dateLayout, tsLayout, false))
	}
	return m.String()
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func gbkBytes(t *testing.T, s string) []byte { return gbk(t, s) }
