package mapping

import (
	"fmt"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// On a foreign bank's customer file (headers in its own words: synonyms,
// pinyin initials, English, a column order of its own; codes of its own;
// dates in another layout), the top suggestion is right for at least 90%
// of the columns the file carries, and names the layout and the codes.
func TestSuggest_ForeignHeaders(t *testing.T) {
	e := contract.BuiltinSet.Feed("credit").Entities[0] // customers
	header := []string{"客户编号", "KHLX", "姓名", "证件种类", "身份证号码", "手机号码", "出生年月日", "所属行业", "营业收入",
		"法人代表", "法人证件号", "RM_ID", "网点号", "开户时间", "最后更新时间", "备注"}
	want := map[string]string{"客户编号": "cust_no", "KHLX": "cust_type", "姓名": "name", "证件种类": "id_type", "身份证号码": "id_no",
		"手机号码": "mobile", "出生年月日": "birth_date", "所属行业": "industry_code", "营业收入": "annual_revenue",
		"法人代表": "legal_rep_name", "法人证件号": "legal_rep_id_no", "RM_ID": "rm_id", "网点号": "branch_code",
		"开户时间": "open_date", "最后更新时间": "update_time"}
	var samples [][]string
	for i := range 50 {
		samples = append(samples, []string{fmt.Sprintf("K%05d", i), []string{"个人", "对公"}[i%2], "张伟", "ID_CARD",
			fmt.Sprintf("1101011990030%04d", 1000+i) + "5", fmt.Sprintf("139%08d", i), "1990年03月07日", "C", "1,234,567.00",
			"", "", "RM001", "B001", "2015年03月01日", "2026-11-20 09:30:00", "x"})
	}
	rep := Suggest(e, header, samples)
	right, total := 0, 0
	for _, p := range rep.Proposals {
		for field, col := range want {
			if col != p.Column {
				continue
			}
			total++
			if p.Field == field {
				right++
			} else {
				t.Logf("%s: suggested %q (%.2f %s), want %q", col, p.Field, p.Confidence, p.Why, field)
			}
		}
	}
	if float64(right) < 0.9*float64(total) {
		t.Errorf("%d of %d columns right, want at least 90%%", right, total)
	}
	yaml := rep.YAML("credit")
	for _, w := range []string{`birth_date: {from: 出生年月日, layout: "%Y年%m月%d日"}`, "cust_type needs a code map: its values 个人, 对公 are not the contract's (P, C)",
		"annual_revenue: {from: 营业收入, thousands: \",\"}", "fields no column takes (kept in _extra): 备注"} {
		if !strings.Contains(yaml, w) {
			t.Errorf("the snippet lacks %q:\n%s", w, yaml)
		}
	}
}
