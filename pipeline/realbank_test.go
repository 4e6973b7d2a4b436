package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realbank holds real statement exports of Chinese banks and payment
// platforms (public samples; see its README). They are shared outside the
// project and never copied into it.
const realbank = "../../shared/data/realbank"

// copyTree copies the files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The eight real exports load through examples/realbank: one contract for
// statement lines and one mapping per layout, in YAML alone. Banners and
// trailers are skipped, padding and TABs trimmed, ="…" cells unwrapped,
// split income and expense combined into a signed amount, MM/DD dates
// completed from the title's year (across the year end), "-" and "/" and
// masked balances read as NULL. Every data line loads.
func TestIngest_RealBankExportsThroughMappings(t *testing.T) {
	if _, err := os.Stat(realbank); err != nil {
		t.Skipf("the real bank exports are not here (%s): %v", realbank, err)
	}
	dir := t.TempDir()
	copyTree(t, "../examples/realbank", dir)
	files := []struct {
		feed, file string
		lines      int64 // data lines, from the samples' README
	}{
		{"icbc_credit", "01_icbc_credit_web.csv", 9},
		{"icbc_debit", "02_icbc_debit_v2_web.csv", 11},
		{"cmb_credit", "06_cmb_credit_bill.csv", 6},
		{"cmb_debit", "07_cmb_debit_pc_export.csv", 7},
		{"boc_credit", "08_boc_credit_bill.csv", 14},
		{"alipay", "10_alipay_gbk.csv", 10},
		{"hxsec", "11_hxsec_broker_gbk.xls", 13},
		{"wechat", "14_wechatpay.csv", 27},
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(realbank, f.file))
		if err != nil {
			t.Fatal(err)
		}
		folder := filepath.Join(dir, "statements", f.feed)
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, f.file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &project{t: t, dir: dir}
	rep, err := p.ingest()
	if err != nil {
		t.Fatal(err)
	}
	if failed := rep.Failed(); len(failed) != 0 {
		t.Fatalf("failed: %+v", failed)
	}
	var total int64
	for _, f := range files {
		source := f.feed + "/" + f.file
		if n := p.count(`SELECT rows_loaded FROM ops.loads WHERE source = ? AND rows_rejected = 0 AND rows_in = ?`, source, f.lines); n != f.lines {
			t.Errorf("%s: %d rows loaded without rejects, want %d", source, n, f.lines)
		}
		total += f.lines
	}
	if n := p.count(`SELECT count(*) FROM raw.statement_lines`); n != 97 || total != 97 {
		t.Errorf("%d rows in raw.statement_lines, want 97", n)
	}
	for _, q := range []string{
		// Padded cells ending in a TAB, a trailing comma, thousands separators, split columns.
		`_source = 'icbc_credit/01_icbc_credit_web.csv:8' AND txn_date = DATE '2023-04-22' AND amount = -0.01 AND balance = -6086.11 AND channel = 'XX旗舰店' AND currency = 'CNY'`,
		// "-" for empty, a masked balance read as NULL, money in.
		`_source = 'icbc_debit/02_icbc_debit_v2_web.csv:10' AND amount = 1234.56 AND balance IS NULL AND counterparty = '李四' AND description = '他行汇入'`,
		// MM/DD across the year end, the year from the title; an empty 交易日 takes 记账日.
		`_source = 'cmb_credit/06_cmb_credit_bill.csv:3' AND txn_date = DATE '2023-12-29' AND amount = -1.23`,
		`_source = 'cmb_credit/06_cmb_credit_bill.csv:8' AND txn_date = DATE '2024-01-05' AND post_date = DATE '2024-01-07' AND original_amount = 8000`,
		// "#" banner and trailer, date and time in two fields, a TAB-led cell, a masked balance.
		`_source = 'cmb_debit/07_cmb_debit_pc_export.csv:9' AND txn_time = TIMESTAMPTZ '2022-01-31 23:27:04+08' AND amount = -1688 AND description = '财付通 - 微信转账' AND balance IS NULL`,
		`_source = 'boc_credit/08_boc_credit_bill.csv:5' AND amount = 0.01 AND card_last4 IS NULL AND description = '存款利息'`,
		// GBK, padded header names, 收/支 codes and the sign they give.
		`_source = 'alipay/10_alipay_gbk.csv:26' AND amount = -49.74 AND direction = 'out' AND category = '亲友代付' AND counterparty_account IS NULL`,
		`_source = 'alipay/10_alipay_gbk.csv:28' AND amount = 16.03 AND direction = 'none'`,
		// GBK TSV named .xls, ="…" cells unwrapped.
		`_source = 'hxsec/11_hxsec_broker_gbk.xls:2' AND txn_date = DATE '2023-02-12' AND category = '银行转证券' AND amount = 128000 AND balance = 128000 AND currency = 'CNY'`,
		// ¥ amounts, a TAB after a closing quote, quotes inside unquoted text.
		`_source = 'wechat/14_wechatpay.csv:18' AND amount = -28.16 AND txn_id = '3985734' AND merchant_order_id = '129847129' AND note IS NULL`,
		`_source = 'wechat/14_wechatpay.csv:37' AND amount = 0.07 AND direction = 'in' AND counterparty = '打开拼多多，点击底部"多多视频"'`,
	} {
		if n := p.count(`SELECT count(*) FROM raw.statement_lines WHERE ` + q); n != 1 {
			t.Errorf("no row where %s", q)
		}
	}

	// cdp contract suggest on the same exports, given where the header is:
	// the columns a statement cannot do without, found from names and values.
	c := p.config()
	for _, sc := range []struct {
		feed, file string
		header     int
		want       []string
	}{
		{"icbc_credit", "01_icbc_credit_web.csv", 7, []string{"trim: true", "txn_date: 交易日期", "amount: {sum: [交易金额(收入), -交易金额(支出)]", "balance: {from: 余额, thousands: \",\"}"}},
		{"boc_credit", "08_boc_credit_bill.csv", 2, []string{"txn_date: 交易日", "amount: {sum: [存入, -支出]}", "description: 交易描述", "card_last4: 卡号后四位"}},
		{"cmb_credit", "06_cmb_credit_bill.csv", 2, []string{`txn_date: {from: 交易日, layout: "%m/%d"}`, "add year:", "amount: 人民币金额"}},
		{"wechat", "14_wechatpay.csv", 17, []string{"txn_time: 交易时间", "amount: {from: 金额(元), remove: [¥]}", "txn_id: 交易单号", "counterparty: 交易对方"}},
		{"alipay", "10_alipay_gbk.csv", 25, []string{"amount: 金额", "category: 交易分类", "merchant_order_id: 商家订单号", "direction needs a code map"}},
		{"hxsec", "11_hxsec_broker_gbk.xls", 1, []string{"unwrap: true", "txn_date: 交收日期", "currency: 币种"}},
	} {
		rep, err := SuggestMapping(c, sc.feed, "lines", filepath.Join(dir, "statements", sc.feed, sc.file), sc.header)
		if err != nil {
			t.Fatalf("suggest %s: %v", sc.feed, err)
		}
		yaml := rep.YAML(sc.feed)
		for _, w := range sc.want {
			if !strings.Contains(yaml, w) {
				t.Errorf("suggest %s lacks %q:\n%s", sc.feed, w, yaml)
			}
		}
	}
}
