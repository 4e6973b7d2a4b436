package render

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// customers has one column of each type `cdp sql` commonly shows, a Chinese
// name, and a row of NULLs.
const customers = `
SELECT name::VARCHAR AS name, n::BIGINT AS n, aum::DECIMAL(18,2) AS aum,
       opened::DATE AS opened, seen::TIMESTAMPTZ AS last_seen,
       vip::BOOLEAN AS vip, tags::VARCHAR[] AS tags
FROM (VALUES
  ('张三丰', 42, 1234.5, '2026-11-20', '2026-11-20 09:30:00+08', true, ['私行', 'fx']),
  ('Acme Trading Co', -7, 0.05, '2026-01-01', '2026-01-01 00:00:00.25+00', false, []),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) t(name, n, aum, opened, seen, vip, tags)
ORDER BY n NULLS LAST`

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// render runs query and renders it in format f.
func render(t *testing.T, query string, f Format) (string, int) {
	t.Helper()
	rows, err := openDB(t).Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b bytes.Buffer
	n, err := Rows(&b, rows, f)
	if err != nil {
		t.Fatalf("Rows(%s): %v", f, err)
	}
	return b.String(), n
}

func assertOutput(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestRows_TableAlignsChineseAndRightAlignsNumbers(t *testing.T) {
	got, n := render(t, customers, Table)
	want := "" +
		"name                n      aum  opened      last_seen                vip    tags\n" +
		"---------------  ----  -------  ----------  -----------------------  -----  -------------\n" +
		"Acme Trading Co    -7     0.05  2026-01-01  2026-01-01T00:00:00.25Z  false  []\n" +
		"张三丰             42  1234.50  2026-11-20  2026-11-20T01:30:00Z     true   [\"私行\",\"fx\"]\n" +
		"NULL             NULL     NULL  NULL        NULL                     NULL   NULL\n" +
		"(3 rows)\n"
	assertOutput(t, got, want)
	if n != 3 {
		t.Errorf("n = %d, want 3", n)
	}
}

func TestRows_TableCutsLongValuesAt60Cells(t *testing.T) {
	got, _ := render(t, `SELECT repeat('客', 40) AS wide, repeat('x', 70) AS narrow, 'two'||chr(10)||'lines'||chr(9)||'tab' AS multi`, Table)
	wide := strings.Repeat("客", 29) + "…"   // 58 cells + 1: a 30th character would need 61
	narrow := strings.Repeat("x", 59) + "…" // exactly 60
	want := "" +
		"wide" + strings.Repeat(" ", 55) + "  narrow" + strings.Repeat(" ", 54) + "  multi\n" +
		strings.Repeat("-", 59) + "  " + strings.Repeat("-", 60) + "  " + strings.Repeat("-", 15) + "\n" +
		wide + "  " + narrow + "  two\\nlines\\ttab\n" +
		"(1 row)\n"
	assertOutput(t, got, want)
	if w := cells.StringWidth(wide); w != 59 {
		t.Errorf("cut Chinese value is %d cells, want 59", w)
	}
}

func TestRows_TableOfNoRowsStillHasAHeader(t *testing.T) {
	got, n := render(t, `SELECT 1::INTEGER AS id, 'x' AS label WHERE false`, Table)
	assertOutput(t, got, "id  label\n--  -----\n(0 rows)\n")
	if n != 0 {
		t.Errorf("n = %d, want 0", n)
	}
}

func TestRows_CSVQuotesAsRFC4180AndLeavesNULLEmpty(t *testing.T) {
	got, n := render(t, customers, CSV)
	want := "" +
		"name,n,aum,opened,last_seen,vip,tags\n" +
		"Acme Trading Co,-7,0.05,2026-01-01,2026-01-01T00:00:00.25Z,false,[]\n" +
		"张三丰,42,1234.50,2026-11-20,2026-11-20T01:30:00Z,true,\"[\"\"私行\"\",\"\"fx\"\"]\"\n" +
		",,,,,,\n"
	assertOutput(t, got, want)
	if n != 3 {
		t.Errorf("n = %d, want 3", n)
	}
}

func TestRows_CSVKeepsLongValuesWhole(t *testing.T) {
	got, _ := render(t, `SELECT repeat('x', 70) AS long, 'a,b' AS comma`, CSV)
	assertOutput(t, got, "long,comma\n"+strings.Repeat("x", 70)+",\"a,b\"\n")
}

func TestRows_JSONIsAnArrayOfObjectsWithNumbersAsNumbers(t *testing.T) {
	got, n := render(t, customers, JSON)
	want := `[
  {"name":"Acme Trading Co","n":-7,"aum":0.05,"opened":"2026-01-01","last_seen":"2026-01-01T00:00:00.25Z","vip":false,"tags":[]},
  {"name":"张三丰","n":42,"aum":1234.50,"opened":"2026-11-20","last_seen":"2026-11-20T01:30:00Z","vip":true,"tags":["私行","fx"]},
  {"name":null,"n":null,"aum":null,"opened":null,"last_seen":null,"vip":null,"tags":null}
]
`
	assertOutput(t, got, want)
	if n != 3 {
		t.Errorf("n = %d, want 3", n)
	}
	var decoded []map[string]any
	if err := json.Unmarshal([]byte(got), &decoded); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if _, ok := decoded[1]["aum"].(float64); !ok {
		t.Errorf("aum decoded as %T, want a JSON number", decoded[1]["aum"])
	}
}

func TestRows_JSONOfNoRowsIsAnEmptyArray(t *testing.T) {
	got, _ := render(t, `SELECT 1 AS id WHERE false`, JSON)
	assertOutput(t, got, "[]\n")
}

func TestRows_NestedAndUnusualTypesRenderByTheirColumnType(t *testing.T) {
	query := `SELECT
	  {'amount': 1.5::DECIMAL(18,2), 'due': DATE '2026-12-31', 'note': '<&>'} AS s,
	  MAP(['cny', 'usd'], [100::DECIMAL(18,2), NULL]) AS m,
	  [0.1::DECIMAL(12,6), 2] AS rates,
	  INTERVAL 1 DAY + INTERVAL 90 MINUTE AS wait,
	  '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS id,
	  TIMESTAMP '2026-11-20 09:30:00.5' AS local_ts,
	  'raw\xFF'::BLOB AS bytes,
	  1e-9::DOUBLE AS tiny,
	  12345678901234567890::HUGEINT AS big`
	got, _ := render(t, query, JSON)
	want := `[
  {"s":{"amount":1.50,"due":"2026-12-31","note":"<&>"},"m":{"cny":100.00,"usd":null},"rates":[0.100000,2.000000],"wait":"1 day 01:30:00","id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","local_ts":"2026-11-20 09:30:00.5","bytes":"raw\\xFF","tiny":1e-09,"big":12345678901234567890}
]
`
	assertOutput(t, got, want)
	if !json.Valid([]byte(got)) {
		t.Error("output is not valid JSON")
	}
}

func TestRows_UnknownFormatIsAnError(t *testing.T) {
	rows, err := openDB(t).Query(`SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if _, err := Rows(&bytes.Buffer{}, rows, "xml"); err == nil || err.Error() != `unknown output format "xml" (want table, csv or json)` {
		t.Errorf("Rows(xml) error = %v", err)
	}
}

func TestParseFormat_AcceptsAnyCase(t *testing.T) {
	for in, want := range map[string]Format{"table": Table, "CSV": CSV, " Json ": JSON} {
		if got, err := ParseFormat(in); got != want || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) succeeded")
	}
}
