package files

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
)

// An Excel workbook as online banking exports it: a title row, a header in
// Chinese, amounts with a thousands format, dates with a date format,
// empty trailing cells, a totals row; read through a mapping like a CSV
// saved from Excel.
func TestXLSX_ThroughAMapping(t *testing.T) {
	wb := excelize.NewFile()
	defer wb.Close()
	sheet := wb.GetSheetName(0)
	money, err := wb.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		t.Fatal(err)
	}
	day, err := wb.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	if err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any, style int) {
		t.Helper()
		if err := wb.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
		if style != 0 {
			if err := wb.SetCellStyle(sheet, cell, cell, style); err != nil {
				t.Fatal(err)
			}
		}
	}
	set("A1", "账户明细查询（2024年01月）", 0)
	set("F1", "导出时间 2024-02-01", 0) // the banner is wider than the table
	for i, h := range []string{"账号", "交易日期", "金额", "备注"} {
		set(string(rune('A'+i))+"2", h, 0)
	}
	set("A3", "A1", 0)
	set("B3", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), day)
	set("C3", 1234567.5, money)
	set("D3", "工资", 0)
	set("A4", "A2", 0)
	set("B4", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), day)
	set("C4", -88, money) // no remark: the row ends before column D
	set("A5", "合计", 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "lines_20240131.xlsx")
	if err := wb.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	feed := stmtFeed(contract.XLSX)
	feed.Entities[0].Pattern = "lines_{D}.xlsx"
	m := &mapping.Entity{Banner: 1, Skip: mapping.List{"^合计"}, Columns: map[string]mapping.Column{
		"acct": {From: mapping.List{"账号"}}, "txn_date": {From: mapping.List{"交易日期"}},
		"amount": {From: mapping.List{"金额"}, Thousands: ","}, "memo": {From: mapping.List{"备注"}}}}
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Workers: 2}, "lines_20240131.xlsx", data, 2)
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, []map[string]string{
		{"acct": "A1", "txn_date": "2024-01-31", "amount": "1234567.5", "memo": "工资"},
		{"acct": "A2", "txn_date": "2024-02-01", "amount": "-88"},
	})
	if len(res.rejects) != 0 {
		t.Errorf("rejects %+v", res.rejects)
	}

	// What cdp contract suggest reads of it.
	rows, err := SheetRows(path, 10)
	if err != nil || len(rows) != 5 {
		t.Fatalf("sheet rows: %v %q", err, rows)
	}
	described := *feed.Entities[0]
	described.Columns = append([]contract.Column(nil), described.Columns...)
	for i, zh := range map[int]string{0: "账号", 2: "交易日期", 4: "金额", 7: "备注"} {
		described.Columns[i].ZH = zh
	}
	rep := mapping.Suggest(&described, rows[1], rows[2:])
	if y := rep.YAML("bank"); !strings.Contains(y, `amount: {from: 金额, thousands: ","}`) || !strings.Contains(y, "txn_date: 交易日期") {
		t.Errorf("suggest on the sheet:\n%s", y)
	}

	// Not a workbook: the file fails, saying what it is not.
	s, f := deliver(t, Options{Contract: feed, Workers: 1}, "lines_20240201.xlsx", []byte("a,b\n1,2\n"), -1)
	if _, err := s.Open(context.Background(), f); err == nil {
		t.Error("a CSV named .xlsx opened as a workbook")
	}
}

func ptr[T any](v T) *T { return &v }

// A sheet's odd rows: a line break inside a header and a data cell, an
// empty row in the middle, an unnamed column between named ones (a merged
// header cell), and a header-less sheet whose first row ends early. One
// sheet row is one line; reject positions are sheet rows.
func TestXLSX_OddSheets(t *testing.T) {
	write := func(t *testing.T, cells map[string]any) []byte {
		t.Helper()
		wb := excelize.NewFile()
		defer wb.Close()
		for cell, v := range cells {
			if err := wb.SetCellValue(wb.GetSheetName(0), cell, v); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(t.TempDir(), "x.xlsx")
		if err := wb.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	feed := stmtFeed(contract.XLSX)
	feed.Entities[0].Pattern = "lines_{D}.xlsx"
	m := &mapping.Entity{Columns: map[string]mapping.Column{
		"acct": {From: mapping.List{"账号"}}, "txn_date": {From: mapping.List{"日期"}},
		"amount": {From: mapping.List{"金额 (元)"}}, "memo": {From: mapping.List{"备注"}}}}
	data := write(t, map[string]any{
		"A1": "账号", "B1": "日期", "C1": "金额\n(元)", "E1": "备注",
		"A2": "A1", "B2": "2024-01-31", "C2": "1.5", "D2": "merged", "E2": "第一行\n第二行",
		// row 3 is empty
		"A4": "A2", "B4": "2024-02-01", "C4": "x",
	})
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Workers: 1}, "lines_20240131.xlsx", data, 2)
	if len(res.rows) != 1 || res.rows[0]["memo"] != "第一行 第二行" || res.rows[0]["_extra"] != `{"_4":"merged"}` {
		t.Errorf("rows %+v", res.rows)
	}
	if len(res.rejects) != 1 || res.rejects[0].Line != 4 || res.rejects[0].Reason != contract.ReasonType {
		t.Errorf("rejects %+v, want sheet row 4 bad_type", res.rejects)
	}

	pos := &mapping.Entity{Fields: []mapping.Field{{Name: "a"}, {Name: "d"}, {Name: "m"}, {Name: "note"}},
		Columns: map[string]mapping.Column{"acct": {From: mapping.List{"a"}}, "txn_date": {From: mapping.List{"d"}},
			"amount": {From: mapping.List{"m"}}, "memo": {From: mapping.List{"note"}}}}
	data = write(t, map[string]any{"A1": "A1", "B1": "2024-01-31", "C1": "1.5", "A2": "A2", "B2": "2024-02-01", "C2": "2", "D2": "n"})
	res = load(t, Options{Contract: feed, Mappings: compile(t, feed, pos), Workers: 1}, "lines_20240131.xlsx", data, 2)
	if len(res.rows) != 2 || len(res.rejects) != 0 {
		t.Errorf("header-less sheet: rows %+v rejects %+v", res.rows, res.rejects)
	}
}
