package files

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
)

// stmtFeed is a statement-like contract for the mapping tests.
func stmtFeed(format contract.Format) *contract.Feed {
	e := &contract.Entity{Feed: "bank", Name: "lines", Format: format, Pattern: "lines_{D}.txt",
		Columns: []contract.Column{
			{Name: "acct", Type: contract.String, Required: true},
			{Name: "kind", Type: contract.String, Enum: []string{"P", "C"}, Optional: true},
			{Name: "txn_date", Type: contract.Date, Required: true},
			{Name: "txn_at", Type: contract.Timestamp, Optional: true},
			{Name: "amount", Type: contract.Decimal, Precision: 18, Scale: 2, Required: true},
			{Name: "balance", Type: contract.Decimal, Precision: 18, Scale: 2, Optional: true},
			{Name: "branch", Type: contract.String, Optional: true},
			{Name: "memo", Type: contract.String, Optional: true},
		}}
	return &contract.Feed{Name: "bank", Entities: []*contract.Entity{e}}
}

func str(s string) *string { return &s }

func compile(t *testing.T, feed *contract.Feed, m *mapping.Entity) map[string]*mapping.Plan {
	t.Helper()
	e := feed.Entities[0]
	p, err := mapping.Compile(e, m, e.Format)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return map[string]*mapping.Plan{e.Name: p}
}

// A statement export as banks write them: a title holding the year, a
// banner, a header in Chinese padded with spaces, codes, MM/DD dates, split
// income and expense columns, thousands separators, a currency sign, "-"
// for empty, and a trailer stating the count. Every data line is loaded or
// rejected with its reason, and the banner, header and trailer are
// skipped, counted, never rows.
func TestMapped_StatementCSV(t *testing.T) {
	feed := stmtFeed(contract.CSV)
	m := &mapping.Entity{
		HeaderMatch: `^账号`,
		Skip:        []string{`^\s*$`},
		Counts:      []mapping.Count{{Match: `^合计,(?P<count>\d+)笔`}},
		Year:        &mapping.Year{Match: `(?P<year>\d{4})年(?P<month>\d{2})月`},
		Trim:        true,
		Nulls:       []string{"-"},
		Columns: map[string]mapping.Column{
			"acct":     {From: []string{"账号"}},
			"kind":     {From: []string{"客户类型"}, Codes: map[string]string{"个人": "P", "对公": "C"}},
			"txn_date": {From: []string{"交易日"}, Layout: "%m/%d"},
			"txn_at":   {From: []string{"交易日期", "交易时间"}, Layout: "%Y%m%d %H:%M:%S"},
			"amount":   {Sum: []string{"收入", "-支出"}, Thousands: ",", Remove: []string{"¥"}},
			"balance":  {From: []string{"余额"}, Thousands: ",", NullMatch: `^x`},
			"branch":   {Const: str("BJ01")},
			"memo":     {From: []string{"摘要"}, Default: str("无")},
		},
	}
	body := strings.Join([]string{
		"某银行对账单（2024年01月）",
		"",
		"账号 ,客户类型,交易日,交易日期,交易时间,收入,支出,余额,摘要",
		"A1 ,个人,12/30,20231230,09:15:00,\"1,234.50\t\",,\"10,000.00\",工资",
		`A2,对公,01/02,20240102,10:00:00,,¥88.00,"xx,yyyy.zz",`,
		"A3,个体,01/03,20240103,10:00:00,1.00,,5.00,x",
		"A4,个人,13/45,20240103,10:00:00,1.00,,5.00,x",
		"A5,-,01/04,20240104,8:5:0,-,2.5,-,-",
		"",
		"合计,5笔",
	}, "\n") + "\n"
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Workers: 2}, "lines_20240131.txt", []byte(body), -1)
	if res.rowsIn != 5 {
		t.Fatalf("rows in %d, want 5 (the data lines)", res.rowsIn)
	}
	want := []map[string]string{
		{"acct": "A1", "kind": "P", "txn_date": "2023-12-30", "txn_at": "2023-12-30T09:15:00Z", "amount": "1234.5", "balance": "10000", "branch": "BJ01", "memo": "工资"},
		{"acct": "A2", "kind": "C", "txn_date": "2024-01-02", "txn_at": "2024-01-02T10:00:00Z", "amount": "-88", "branch": "BJ01", "memo": "无"},
		{"acct": "A5", "txn_date": "2024-01-04", "txn_at": "2024-01-04T08:05:00Z", "amount": "-2.5", "branch": "BJ01", "memo": "无"},
	}
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, want)
	if len(res.rejects) != 2 {
		t.Fatalf("%d rejects, want 2: %+v", len(res.rejects), res.rejects)
	}
	for i, w := range []struct {
		line   int64
		reason string
		detail string
	}{
		{6, contract.ReasonEnum, `column kind (from 客户类型): "个体" is not in the code map (个人, 对公)`},
		{7, contract.ReasonDate, `column txn_date (from 交易日): "13/45" does not fit the layout "%m/%d"`},
	} {
		got := res.rejects[i]
		if got.Line != w.line || got.Reason != w.reason || got.Detail != w.detail {
			t.Errorf("reject %d: line %d %s %q, want line %d %s %q", i, got.Line, got.Reason, got.Detail, w.line, w.reason, w.detail)
		}
	}
}

// openErr delivers a file and returns the error opening or finishing it.
func openErr(t *testing.T, o Options, name, body string) (error, Reader) {
	t.Helper()
	s, f := deliver(t, o, name, []byte(body), -1)
	r, err := s.Open(context.Background(), f)
	if err != nil {
		return err, nil
	}
	t.Cleanup(r.Release)
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		return err, r
	}
	_, _, err = r.Finish()
	return err, r
}

// The problems that fail a whole file name the file, the line and what is
// wrong: a trailer count that disagrees (under check: error; check: warn
// loads and says so), a header without a mapped required field, a
// header-less file whose lines have another field count, a header that
// never comes.
func TestMapped_FileProblems(t *testing.T) {
	feed := stmtFeed(contract.Delimited)
	base := func() *mapping.Entity {
		return &mapping.Entity{Columns: map[string]mapping.Column{
			"acct": {From: []string{"账号"}}, "txn_date": {From: []string{"日期"}}, "amount": {From: []string{"金额"}}}}
	}
	o := func(m *mapping.Entity) Options {
		return Options{Contract: feed, Mappings: compile(t, feed, m), Delimiter: "|", Workers: 2}
	}
	good := "账号|日期|金额\nA1|20240101|1.00\nA2|20240102|2.00\nT|3\n"

	m := base()
	m.Counts = []mapping.Count{{Match: `^T\|(?P<count>\d+)$`}}
	err, _ := openErr(t, o(m), "lines_20240102.txt", good)
	want := `lines_20240102.txt line 4: "T|3" says 3 rows, the file has 2; nothing loaded`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("count mismatch: %v, want %q", err, want)
	}
	m.Counts[0].Check = mapping.CheckWarn
	err, r := openErr(t, o(m), "lines_20240102.txt", good)
	if err != nil {
		t.Fatalf("check: warn: %v", err)
	}
	if skipped, warnings := r.Notes(); skipped != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "says 3 rows, the file has 2") {
		t.Errorf("notes: %d skipped, %q", skipped, warnings)
	}

	err, _ = openErr(t, o(base()), "lines_20240102.txt", "账号|日|金额\nA1|20240101|1.00\n")
	want = `lines_20240102.txt: the header lacks "日期" (mapped to txn_date), required by bank.lines; nothing loaded`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing field: %v, want %q", err, want)
	}

	pos := base()
	pos.Fields = []mapping.Field{{Name: "账号"}, {Name: "日期"}, {Name: "金额"}}
	err, _ = openErr(t, o(pos), "lines_20240102.txt", "A1|20240101|1.00|x\n")
	want = `lines_20240102.txt line 1: 4 fields, the mapping lists 3`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("positional width: %v, want %q", err, want)
	}

	hm := base()
	hm.HeaderMatch = `^账号\|`
	err, _ = openErr(t, o(hm), "lines_20240102.txt", "title\nno header here\n")
	want = `lines_20240102.txt: no header found (the first line matching header_match "^账号\\|") in its 2 lines`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("no header: %v, want %q", err, want)
	}
}

// A header-less GBK file read by position through a mapping, and a
// fixed-width GBK file with a header record and a trailer record whose
// counts are checked, mapped by the mapping's own field widths.
func TestMapped_PositionalAndFixedGBK(t *testing.T) {
	feed := stmtFeed(contract.Delimited)
	m := &mapping.Entity{
		Fields: []mapping.Field{{Name: "账号"}, {Name: "类型"}, {Name: "日期"}, {Name: "金额"}, {Name: "备注"}},
		Columns: map[string]mapping.Column{
			"acct": {From: []string{"账号"}}, "kind": {From: []string{"类型"}, Codes: map[string]string{"个人": "P", "对公": "C"}},
			"txn_date": {From: []string{"日期"}, Layout: "%Y年%m月%d日"}, "amount": {From: []string{"金额"}, Decimal: ",", Thousands: "."},
		}}
	body := encodeGB(t, "A1|个人|2024年1月31日|1.234,50|备注一\nA2|对公|2024年2月1日|-7,00|\n")
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Encoding: "gbk", Delimiter: "|", Workers: 1}, "lines_20240201.txt", []byte(body), 2)
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, []map[string]string{
		{"acct": "A1", "kind": "P", "txn_date": "2024-01-31", "amount": "1234.5", "_extra": `{"备注":"备注一"}`},
		{"acct": "A2", "kind": "C", "txn_date": "2024-02-01", "amount": "-7"},
	})

	fixed := stmtFeed(contract.Fixed)
	fm := &mapping.Entity{
		Banner: 1,
		Fields: []mapping.Field{{Name: "账号", Width: 6}, {Name: "名称", Width: 8}, {Name: "日期", Width: 8}, {Name: "金额", Width: 10}},
		Skip:   []string{`^T`},
		Counts: []mapping.Count{{Match: `^H\d{8}(?P<count>\d{6})`}, {Match: `^T(?P<count>\d{6})`}},
		Columns: map[string]mapping.Column{
			"acct": {From: []string{"账号"}}, "txn_date": {From: []string{"日期"}}, "amount": {From: []string{"金额"}}, "memo": {From: []string{"名称"}},
		}}
	line := func(acct, name, date, amt string) string {
		return pad(t, acct, 6) + pad(t, name, 8) + date + strings.Repeat(" ", 10-len(amt)) + amt
	}
	fbody := "H20240131000002\r\n" + line("A1", "张三", "20240131", "12.50") + "\r\n" + line("A2", "北京星河", "20240131", "-3.00") + "\r\nT000002\r\n"
	res = load(t, Options{Contract: fixed, Mappings: compile(t, fixed, fm), Encoding: "gbk", Workers: 2}, "lines_20240131.txt", []byte(fbody), 2)
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, []map[string]string{
		{"acct": "A1", "txn_date": "2024-01-31", "amount": "12.5", "memo": "张三"},
		{"acct": "A2", "txn_date": "2024-01-31", "amount": "-3", "memo": "北京星河"},
	})
	bad := strings.Replace(fbody, "T000002", "T000003", 1)
	err, _ := openErr(t, Options{Contract: fixed, Mappings: compile(t, fixed, fm), Encoding: "gbk", Workers: 2}, "lines_20240131.txt", bad)
	if err == nil || !strings.Contains(err.Error(), `line 4: "T000003" says 3 rows, the file has 2`) {
		t.Errorf("trailer count: %v", err)
	}
}

// Compile names every problem with its path: unknown columns, codes that
// map outside the enum, a layout on a number, a layout without a year and
// no year: to find it, sum on a string.
func TestMapped_CompileProblems(t *testing.T) {
	e := stmtFeed(contract.CSV).Entities[0]
	_, err := mapping.Compile(e, &mapping.Entity{Columns: map[string]mapping.Column{
		"nosuch":   {From: []string{"x"}},
		"kind":     {From: []string{"t"}, Codes: map[string]string{"个人": "X"}},
		"amount":   {From: []string{"a"}, Layout: "%Y"},
		"txn_date": {From: []string{"d"}, Layout: "%m/%d"},
		"memo":     {Sum: []string{"a", "-b"}},
	}}, contract.CSV)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`columns.nosuch: bank.lines has no column "nosuch"`,
		`columns.kind.codes.个人: maps to "X", which is not one of kind's values (P, C)`,
		`columns.amount.layout: is for dates and timestamps, and amount is a decimal(18,2)`,
		`columns.txn_date.layout: "%m/%d" has no year: add year:`,
		`columns.memo.sum: adds numbers, and memo is a string`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// Mapping-wide nulls apply to the columns the mapping does not list; a
// default fills only empty values of the field of the column's name; a
// thousands separator out of place is a reject, not a value 10× too big;
// a const or default must be a valid contract value.
func TestMapped_ReviewCases(t *testing.T) {
	feed := stmtFeed(contract.Delimited)
	m := &mapping.Entity{
		Nulls: []string{"-"},
		Columns: map[string]mapping.Column{
			"branch": {Default: str("BJ01")},
			"amount": {Thousands: ","},
		}}
	body := "acct|txn_date|amount|branch|memo\nA1|20240101|1,234.50|SH02|-\nA2|20240101|1,5||x\nA3|20240101|12,345,678||-\n"
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Delimiter: "|", Workers: 1}, "lines_20240101.txt", []byte(body), 3)
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, []map[string]string{
		{"acct": "A1", "txn_date": "2024-01-01", "amount": "1234.5", "branch": "SH02"},
		{"acct": "A3", "txn_date": "2024-01-01", "amount": "12345678", "branch": "BJ01"},
	})
	if len(res.rejects) != 1 || res.rejects[0].Line != 3 || res.rejects[0].Reason != contract.ReasonType {
		t.Errorf("rejects %+v, want line 3 bad_type for 1,5", res.rejects)
	}
	_, err := mapping.Compile(feed.Entities[0], &mapping.Entity{Columns: map[string]mapping.Column{
		"kind":   {From: mapping.List{"类型"}, Codes: map[string]string{"个人": "P"}, Default: str("个人")},
		"amount": {Const: str("1,5")},
	}}, contract.CSV)
	for _, want := range []string{`columns.kind.default: "个人" is not a valid enum`, `columns.amount.const: "1,5" is not a valid decimal(18,2)`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("compile: %v, want %q", err, want)
		}
	}
}

// A UTF-8 BOM before the first line of a header-less or fixed-width file
// is not data.
func TestMapped_BOMBeforeHeaderlessAndFixed(t *testing.T) {
	feed := stmtFeed(contract.Delimited)
	m := &mapping.Entity{Fields: []mapping.Field{{Name: "a"}, {Name: "d"}, {Name: "m"}},
		Columns: map[string]mapping.Column{"acct": {From: mapping.List{"a"}}, "txn_date": {From: mapping.List{"d"}}, "amount": {From: mapping.List{"m"}}}}
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Delimiter: "|", Workers: 1}, "lines_20240101.txt", []byte("\xef\xbb\xbfA1|20240101|1.00\n"), 1)
	if len(res.rows) != 1 || res.rows[0]["acct"] != "A1" {
		t.Errorf("header-less: %+v %+v", res.rows, res.rejects)
	}
	res = load(t, Options{Contract: depositsFeed("bytes"), Encoding: "utf-8", Workers: 1}, "dep_20261120.dat",
		[]byte("\xef\xbb\xbfA000000001"+strings.Repeat(" ", 12)+"        1.00"+"20240131"+"DEM \n"), 1)
	if len(res.rows) != 1 || res.rows[0]["acct_no"] != "A000000001" {
		t.Errorf("fixed-width: %+v %+v", res.rows, res.rejects)
	}
}

// JSON lines through a mapping: keys renamed, codes and layouts read from
// the values as text, keys no column reads kept in _extra as JSON, and
// JSON's own rules still enforced.
func TestMapped_JSONLines(t *testing.T) {
	feed := stmtFeed(contract.JSONL)
	m := &mapping.Entity{Columns: map[string]mapping.Column{
		"acct":     {From: mapping.List{"账号"}},
		"kind":     {From: mapping.List{"类型"}, Codes: map[string]string{"个人": "P", "对公": "C"}},
		"txn_date": {From: mapping.List{"日期"}, Layout: "%Y年%m月%d日"},
		"amount":   {From: mapping.List{"金额"}},
	}}
	body := strings.Join([]string{
		`{"账号":"A1","类型":"个人","日期":"2024年1月31日","金额":12.5,"渠道":{"名":"柜面"}}`,
		`{"账号":"A2","类型":"个体","日期":"2024年1月31日","金额":"3"}`,
		`{"账号":"A3","类型":null,"日期":"2024年2月1日","金额":01}`,
		`{"账号":"A4","日期":"2024年2月1日","金额":-7}`,
	}, "\n") + "\n"
	res := load(t, Options{Contract: feed, Mappings: compile(t, feed, m), Workers: 2}, "lines_20240131.txt", []byte(body), 4)
	for _, r := range res.rows {
		delete(r, "_pos")
		delete(r, "_part")
	}
	checkRows(t, res.rows, []map[string]string{
		{"acct": "A1", "kind": "P", "txn_date": "2024-01-31", "amount": "12.5", "_extra": `{"渠道":{"名":"柜面"}}`},
		{"acct": "A4", "txn_date": "2024-02-01", "amount": "-7"},
	})
	var reasons []string
	for _, r := range res.rejects {
		reasons = append(reasons, fmt.Sprintf("%d %s", r.Line, r.Reason))
	}
	if strings.Join(reasons, ",") != "2 bad_enum,3 malformed_row" {
		t.Errorf("rejects %v", reasons)
	}
}
