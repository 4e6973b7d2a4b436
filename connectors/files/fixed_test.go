package files

import (
	"context"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// depositsFeed is a core-banking-like fixed-width feed: account (10), name
// (12), balance (12), open date (8), kind (4).
func depositsFeed(unit string) *contract.Feed {
	e := &contract.Entity{Feed: "core", Name: "deposits", Format: contract.Fixed, Pattern: "dep_{D}.dat", WidthUnit: unit,
		Columns: []contract.Column{
			{Name: "acct_no", Type: contract.String, Required: true, Width: 10},
			{Name: "name", Type: contract.String, Width: 12},
			{Name: "balance", Type: contract.Decimal, Precision: 18, Scale: 2, Width: 12},
			{Name: "opened", Type: contract.Date, Width: 8},
			{Name: "kind", Type: contract.String, Enum: []string{"DEM", "TIME"}, Width: 4},
		}}
	return &contract.Feed{Name: "core", Entities: []*contract.Entity{e}}
}

// pad right-pads s with spaces to n bytes of GBK (widths count bytes as
// delivered).
func pad(t *testing.T, s string, n int) string {
	t.Helper()
	g := encodeGB(t, s)
	if len(g) > n {
		t.Fatalf("%q is %d bytes, wider than %d", s, len(g), n)
	}
	return g + strings.Repeat(" ", n-len(g))
}

// A GBK fixed-width file, widths in bytes: Chinese names (two bytes a
// character) load decoded and trimmed; a line of another width, a column
// boundary inside a character, a bad decimal and a value outside the enum
// are rejects with their reasons; every line is loaded or rejected.
func TestFixed_GBKWidthsInBytes(t *testing.T) {
	line := func(acct, name, bal, opened, kind string) string {
		return pad(t, acct, 10) + pad(t, name, 12) + strings.Repeat(" ", 12-len(bal)) + bal + opened + pad(t, kind, 4)
	}
	lines := []string{
		line("A000000001", "张三", "1234567.89", "20240131", "DEM"),
		line("A000000002", "北京星河科技", "-5.00", "20231201", "TIME"),
		line("A000000003", "李四", "12.3.4", "20240131", "DEM"),
		line("A000000004", "王五", "1.00", "20240131", "CASH"),
		line("A000000006", "赵六", "1.00", "20240131", "DEM")[:40],
		// eleven bytes of name, then 王 across the name's end (byte 22).
		pad(t, "A000000007", 10) + "abcdefghijk" + encodeGB(t, "王") + "       1.00" + "20240131" + "DEM ",
	}
	body := strings.Join(lines, "\r\n") + "\r\n"
	res := load(t, Options{Contract: depositsFeed("bytes"), Encoding: "gbk", Workers: 2}, "dep_20261120.dat", []byte(body), int64(len(lines)))
	if len(res.rows) != 2 {
		t.Fatalf("%d rows loaded, want 2: %v", len(res.rows), res.rows)
	}
	want := map[string]string{"acct_no": "A000000001", "name": "张三", "balance": "1234567.89", "opened": "2024-01-31", "kind": "DEM"}
	for k, v := range want {
		if res.rows[0][k] != v {
			t.Errorf("%s = %q, want %q", k, res.rows[0][k], v)
		}
	}
	if res.rows[1]["name"] != "北京星河科技" || res.rows[1]["acct_no"] != "A000000002" {
		t.Errorf("row 2: %v", res.rows[1])
	}
	reasons := map[int64]string{}
	for _, r := range res.rejects {
		reasons[r.Line] = r.Reason + ": " + r.Detail
	}
	for line, want := range map[int64]string{
		3: contract.ReasonType,
		4: contract.ReasonEnum,
		5: contract.ReasonMalformed + ": 40 bytes wide, the layout is 46",
		6: contract.ReasonSplitChar + ": column balance starts at byte 23, inside a gbk character",
	} {
		if !strings.HasPrefix(reasons[line], want) {
			t.Errorf("line %d: %q, want %q", line, reasons[line], want)
		}
	}
}

// Widths in characters: a UTF-8 file whose Chinese names take one
// character each, whatever their bytes.
func TestFixed_UTF8WidthsInCharacters(t *testing.T) {
	padc := func(s string, n int) string { return s + strings.Repeat(" ", n-len([]rune(s))) }
	body := "A000000001" + padc("张三", 12) + "  1234567.89" + "20240131" + "DEM " + "\n" +
		"A000000002" + padc("北京星河科技有限公司", 12) + "        1.00" + "20240131" + "TIME" + "x\n"
	res := load(t, Options{Contract: depositsFeed("chars"), Workers: 1}, "dep_20261120.dat", []byte(body), 2)
	if len(res.rows) != 1 || res.rows[0]["name"] != "张三" || res.rows[0]["balance"] != "1234567.89" {
		t.Fatalf("rows %v, rejects %v", res.rows, res.rejects)
	}
	if len(res.rejects) != 1 || res.rejects[0].Reason != contract.ReasonMalformed || !strings.Contains(res.rejects[0].Detail, "characters wide, the layout is 46") {
		t.Fatalf("rejects %+v", res.rejects)
	}
}

// A file whose first line has another width is not this layout: it fails
// whole, naming both widths.
func TestFixed_AnotherLayoutFailsTheFile(t *testing.T) {
	s, f := deliver(t, Options{Contract: depositsFeed("bytes"), Encoding: "gbk"}, "dep_20261120.dat", []byte("A000000001 too short\n"), 1)
	_, err := s.Open(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), "line 1: 20 bytes wide, the layout of core.deposits is 46") {
		t.Fatalf("a file of another layout: %v", err)
	}
}
