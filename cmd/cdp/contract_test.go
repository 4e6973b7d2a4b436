package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// cdp contract lists every entity of every feed, shows a feed's columns
// and names the feeds when asked for one that does not exist.
func TestContract_ListShowAndUnknownFeed(t *testing.T) {
	out, err := run(t, "contract", "list")
	if err != nil {
		t.Fatalf("contract list: %v\n%s", err, out)
	}
	for _, e := range contract.Entities {
		if !strings.Contains(out, e.Table()) || !strings.Contains(out, e.Pattern) {
			t.Errorf("contract list lacks %s (%s):\n%s", e.Table(), e.Pattern, out)
		}
	}
	out, err = run(t, "contract", "show", "credit")
	if err != nil {
		t.Fatalf("contract show: %v\n%s", err, out)
	}
	for _, want := range []string{"credit.loans → raw.credit_loans", "five_class", "decimal(12,6)", "legal_rep_id_no", "id_number", "借据号"} {
		if !strings.Contains(out, want) {
			t.Errorf("contract show credit lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "contract", "show", "nope"); err == nil || !strings.Contains(err.Error(), "credit, wealth, card, ebank") {
		t.Errorf("an unknown feed: %v", err)
	}
}

// docs/contracts.md is what cdp contract docs writes: a contract changed
// without make docs fails here.
func TestContractDocs_AreCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "contracts.md")
	if msg, err := run(t, "contract", "docs", "--out", out); err != nil {
		t.Fatalf("contract docs: %v\n%s", err, msg)
	}
	gen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "contracts.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(gen) != string(committed) {
		t.Error("docs/contracts.md is not what cdp contract docs writes: run make docs")
	}
	if !strings.Contains(string(gen), "`raw.ebank_events`") || !strings.Contains(string(gen), "duplicate_key") {
		t.Errorf("the contract docs lack the events table or its unique key:\n%s", gen)
	}
}

// In a project with its own contracts folder, cdp contract shows the
// project's feeds beside the built-in ones.
func TestContract_ShowsAProjectsOwnFeeds(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "contracts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cdp.yaml"), []byte("contracts: [contracts]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contracts", "branch.yaml"), []byte(`feed: branch
zh: 网点系统
en: Branch system
entities:
  - name: visits
    zh: 到店
    en: Branch visits
    format: csv
    pattern: visits_{D}.csv
    columns:
      - {name: visit_id, type: string, required: true, zh: 到店编号, en: visit id}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "cdp.yaml")
	out, err := run(t, "contract", "list", "--config", cfg)
	if err != nil || !strings.Contains(out, "raw.branch_visits") || !strings.Contains(out, "raw.credit_loans") {
		t.Fatalf("contract list in a project: %v\n%s", err, out)
	}
	out, err = run(t, "contract", "show", "branch", "--config", cfg)
	if err != nil || !strings.Contains(out, "contracts/branch.yaml") || !strings.Contains(out, "visit_id") {
		t.Fatalf("contract show branch: %v\n%s", err, out)
	}
}

// cdp contract check parses a file as its feed would load it and reports
// the would-be rejects, the unknown fields and the counts, masking IDs and
// mobiles, and writes nothing: no warehouse appears.
func TestContractCheck_ReportsWithoutWriting(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cdp.yaml")
	if err := os.WriteFile(cfg, []byte("warehouse: {path: wh.duckdb}\nfeeds:\n  - {name: card, path: feeds/card}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "txns_20261120.del")
	data := "txn_id|card_account_id|txn_time|amount|currency|mcc|merchant_name|country_code|channel|txn_type|memo\n" +
		"T1|A1|2026-11-20 10:00:00|88.50|CNY|5812|shop|CN|POS|PURCHASE|first\n" +
		"T2|A1|2026-11-20 10:05:00|abc|CNY|5812|shop|CN|POS|PURCHASE|\n" +
		"T3|A1|2026-11-20 10:06:00|1.00|CNY|5812|shop|CN|KIOSK|PURCHASE|call 13812345678\n" +
		"T4|A1|2026-11-20 10:07:00|2.00|CNY|5812|shop|CN|POS|PURCHASE|x\n" +
		"T1|A1|2026-11-20 10:08:00|3.00|CNY|5812|shop|CN|POS|PURCHASE|again\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "contract", "check", "--config", cfg, "--feed", "card", file)
	if err != nil {
		t.Fatalf("contract check: %v\n%s", err, out)
	}
	for _, want := range []string{"as card.txns (raw.card_txns): 5 rows, 2 would load, 3 would be rejected",
		"bad_enum=1 bad_type=1 duplicate_key=1", "txns_20261120.del:3  bad_type", "txns_20261120.del:4  bad_enum",
		"txns_20261120.del:6  duplicate_key  txn_id T1 repeats the row at txns_20261120.del:2", "memo (3 rows)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "13812345678") {
		t.Errorf("a mobile in the report:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "wh.duckdb")); !os.IsNotExist(err) {
		t.Errorf("a dry run made a warehouse: %v", err)
	}
	if _, err := run(t, "contract", "check", "--config", cfg, "--feed", "card", filepath.Join(t.TempDir(), "x.csv")); err == nil {
		t.Error("a missing file checked")
	}
	other := filepath.Join(filepath.Dir(file), "other.del")
	if err := os.WriteFile(other, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "contract", "check", "--config", cfg, "--feed", "card", other); err == nil || !strings.Contains(err.Error(), "matches no file pattern of feed card") {
		t.Errorf("a name matching no pattern: %v", err)
	}
	if out, err := run(t, "contract", "check", "--config", cfg, "--feed", "card", "--entity", "txns", other); err != nil || !strings.Contains(out, "2 would load") {
		t.Errorf("--entity: %v\n%s", err, out)
	}
}

// A mapped feed: check prints where each column comes from, the lines the
// mapping skipped and a stated count that disagrees (check: warn), and
// show lists the project's mapping under the contract.
func TestContractCheck_AMappedFeed(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cdp.yaml")
	yaml := `warehouse: {path: wh.duckdb}
feeds:
  - name: card
    path: feeds/card
    mapping:
      holders:
        banner: 1
        skip: ['^合计']
        counts: [{match: '^合计(?P<count>\d+)', check: warn}]
        columns:
          holder_id: 持卡人编号
          id_type: {from: 证件类型, codes: {身份证: ID_CARD, 护照: PASSPORT}}
          birth_date: {from: 出生日期, layout: "%Y年%m月%d日"}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "holders_20261120.del")
	data := "持卡人信息导出\n持卡人编号|证件类型|出生日期|备注\nH1|身份证|1980年1月2日|vip\nH2|军官证|1980年1月2日|\nH3|护照|1980年13月2日|\n合计9\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "contract", "check", "--config", cfg, "--feed", "card", file)
	if err != nil {
		t.Fatalf("contract check: %v\n%s", err, out)
	}
	for _, want := range []string{
		"holder_id ← 持卡人编号", "id_type ← 证件类型 (codes: 护照, 身份证)", "birth_date ← 出生日期 (layout %Y年%m月%d日)",
		"3 rows, 1 would load, 2 would be rejected", "3 lines skipped by the mapping",
		`warning: holders_20261120.del line 6: "合计9" says 9 rows, the file has 3`,
		`holders_20261120.del:4  bad_enum  column id_type (from 证件类型): "军官证" is not in the code map (护照, 身份证)`,
		`holders_20261120.del:5  bad_date  column birth_date (from 出生日期): "1980年13月2日" does not fit the layout "%Y年%m月%d日"`,
		"备注 (1 rows)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, "contract", "show", "--config", cfg, "card")
	if err != nil || !strings.Contains(out, "feed card maps card.holders (cdp.yaml line 3):") || !strings.Contains(out, "holder_id ← 持卡人编号") {
		t.Errorf("contract show: %v\n%s", err, out)
	}
}

// cdp contract suggest prints a mapping snippet with a confidence per
// column; it writes nothing.
func TestContractSuggest(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cdp.yaml")
	if err := os.WriteFile(cfg, []byte("warehouse: {path: wh.duckdb}\nfeeds:\n  - {name: card, path: feeds/card}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "holders.txt")
	data := "banner line\n持卡人号|姓名|证件号码|手机|生日\nH1|张伟|110101199003071234|13800138000|1990/3/7\nH2|李娜|110101198512011234|13900139000|1985/12/1\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "contract", "suggest", "--config", cfg, "--feed", "card", "--entity", "holders", "--header-line", "2", file)
	if err != nil {
		t.Fatalf("suggest: %v\n%s", err, out)
	}
	for _, want := range []string{"    mapping:\n      holders:\n        columns:", "holder_id: 持卡人号", "id_no: 证件号码", "mobile: 手机", `birth_date: {from: 生日, layout: "%Y/%m/%d"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("the snippet lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "wh.duckdb")); !os.IsNotExist(err) {
		t.Errorf("suggest made a warehouse: %v", err)
	}
}
