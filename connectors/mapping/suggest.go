package mapping

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	pinyin "github.com/mozillazg/go-pinyin"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

// Suggest proposes a mapping of a file's fields onto an entity's contract
// from the header names (similarity to the column's name and its Chinese
// description, in characters, pinyin and English, with the synonyms bank
// exports use) and from sample values (ID numbers, mobiles, dates, amounts,
// an enum's values). It proposes, never decides: every column carries its
// confidence and the reason, and the result is a snippet to review.

// Proposal is the suggestion for one contract column.
type Proposal struct {
	Column     string
	Field      string  // "" when no field fits
	Confidence float64 // 0–1
	Why        string
	Layout     string   // a date layout the samples need
	Thousands  string   // the samples group digits
	Remove     string   // a currency sign the samples write
	Sum        []string // split income and expense fields that make the amount
	Foreign    []string // sample values outside the column's enum: a code map to write
}

// SuggestReport is every column's proposal and the fields left over.
type SuggestReport struct {
	Entity    *contract.Entity
	Proposals []Proposal
	Unmapped  []string // fields no column takes (they would go to _extra)
	// Trim: values carry padding or TABs; Unwrap: cells are ="…" literals.
	Trim, Unwrap bool
}

// Suggest scores every field against every column and assigns each column
// its best field, best pairs first.
func Suggest(e *contract.Entity, header []string, samples [][]string) *SuggestReport {
	trim, unwrap := false, false
	for _, row := range append([][]string{header}, samples...) {
		for _, v := range row {
			unwrap = unwrap || strings.HasPrefix(strings.TrimSpace(v), `="`)
			trim = trim || v != strings.TrimSpace(v)
		}
	}
	header = slices.Clone(header)
	for i, h := range header {
		header[i] = cleanSample(h)
	}
	type pair struct {
		f, c     int
		score    float64
		why      string
		proposal Proposal
	}
	var pairs []pair
	for fi, h := range header {
		var values []string
		for _, row := range samples {
			if fi < len(row) {
				if v := cleanSample(row[fi]); v != "" {
					values = append(values, v)
				}
			}
		}
		for ci, c := range e.Columns {
			ns, nwhy := nameScore(h, c)
			vs, vwhy, p := valueScore(values, c)
			score := 0.7*ns + 0.3*vs
			if ns >= 0.999 && vs > 0.5 {
				score = max(score, 0.95)
			}
			if vs < 0.2 && len(values) > 0 && c.Type != contract.String {
				if ns >= 0.9 {
					score = max(0.5*score, 0.45) // the very name, but values of another type (masked?)
					vwhy = "but the values are not " + c.TypeName() + "s (masked? a mapping can read them as absent: null_match:)"
				} else {
					score *= 0.5 // the values are not of the column's type
				}
			}
			why := nwhy
			if vwhy != "" {
				why += "; " + vwhy
			}
			p.Column, p.Field, p.Confidence, p.Why = c.Name, strings.TrimSpace(h), score, why
			pairs = append(pairs, pair{fi, ci, score, why, p})
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	rep := &SuggestReport{Entity: e, Proposals: make([]Proposal, len(e.Columns)), Trim: trim, Unwrap: unwrap}
	usedF := make([]bool, len(header))
	usedC := make([]bool, len(e.Columns))
	for _, p := range pairs {
		if usedF[p.f] || usedC[p.c] || p.score < 0.4 {
			continue
		}
		usedF[p.f], usedC[p.c] = true, true
		rep.Proposals[p.c] = p.proposal
	}
	for ci, c := range e.Columns {
		if !usedC[ci] {
			rep.Proposals[ci] = Proposal{Column: c.Name, Why: "no field fits"}
		}
	}
	splitAmounts(rep, header, usedF)
	return rep
}

// cleanSample is a sample value as a mapping with trim: and unwrap: would
// read it, and without the null markers exports use.
func cleanSample(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, `="`) && strings.HasSuffix(v, `"`) && len(v) >= 3 {
		v = strings.TrimSpace(v[2 : len(v)-1])
	}
	if v == "-" || v == "/" || v == "--" {
		return ""
	}
	return v
}

// currencySigns are removed from amounts (the proposal says remove:).
var currencySigns = []string{"¥", "￥", "$", "RMB", "CNY"}

// Markers of split amount columns: income or credit, expense or debit.
var (
	incomeMarkers  = []string{"收入", "存入", "贷方", "转入", "入账"}
	expenseMarkers = []string{"支出", "借方", "转出", "出账"}
)

func stripMarker(h string, markers []string) (string, bool) {
	for _, m := range markers {
		if strings.Contains(h, m) {
			return normZH(strings.ReplaceAll(h, m, "")), true
		}
	}
	return "", false
}

// splitAmounts turns a number column proposed from one half of a split
// income/expense pair (交易金额(收入), 交易金额(支出)) into the pair's sum,
// income minus expense.
func splitAmounts(rep *SuggestReport, header []string, usedF []bool) {
	type half struct{ income, expense int }
	pairs := map[string]*half{}
	for i, h := range header {
		if base, ok := stripMarker(h, incomeMarkers); ok {
			if pairs[base] == nil {
				pairs[base] = &half{-1, -1}
			}
			pairs[base].income = i
		} else if base, ok := stripMarker(h, expenseMarkers); ok {
			if pairs[base] == nil {
				pairs[base] = &half{-1, -1}
			}
			pairs[base].expense = i
		}
	}
	taken := map[string]bool{}
	for pi := range rep.Proposals {
		p := &rep.Proposals[pi]
		c, _ := rep.Entity.Column(p.Column)
		if p.Field == "" || (c.Type != contract.Decimal && c.Type != contract.Int) {
			continue
		}
		for _, pr := range pairs {
			if pr.income < 0 || pr.expense < 0 {
				continue
			}
			in, out := strings.TrimSpace(header[pr.income]), strings.TrimSpace(header[pr.expense])
			if p.Field != in && p.Field != out {
				continue
			}
			if taken[in] {
				p.Field, p.Confidence, p.Why, p.Thousands, p.Remove = "", 0, "no field fits", "", ""
				break
			}
			taken[in], taken[out] = true, true
			p.Sum, p.Field = []string{in, out}, in
			p.Why += fmt.Sprintf("; %s and %s split one amount: income minus expense", in, out)
			usedF[pr.income], usedF[pr.expense] = true, true
			break
		}
	}
	// A number column no field took, and a pair no column took (存入 and
	// 支出 alone): the required columns first.
	for _, required := range []bool{true, false} {
		for pi := range rep.Proposals {
			p := &rep.Proposals[pi]
			c, _ := rep.Entity.Column(p.Column)
			if p.Field != "" || c.Required != required || (c.Type != contract.Decimal && c.Type != contract.Int) {
				continue
			}
			for _, base := range slices.Sorted(maps.Keys(pairs)) {
				pr := pairs[base]
				if pr.income < 0 || pr.expense < 0 || usedF[pr.income] || usedF[pr.expense] {
					continue
				}
				in, out := strings.TrimSpace(header[pr.income]), strings.TrimSpace(header[pr.expense])
				p.Sum, p.Field, p.Confidence = []string{in, out}, in, 0.5
				p.Why = fmt.Sprintf("%s and %s split an amount: income minus expense", in, out)
				usedF[pr.income], usedF[pr.expense] = true, true
				break
			}
		}
	}
	rep.Unmapped = rep.Unmapped[:0]
	for fi, h := range header {
		if !usedF[fi] && strings.TrimSpace(h) != "" {
			rep.Unmapped = append(rep.Unmapped, strings.TrimSpace(h))
		}
	}
}

// synonyms fold the words bank exports use for one thing into one.
var synonyms = strings.NewReplacer(
	"交易对方", "对方名", "对方户名", "对方名", "对方名称", "对方名", "收款方", "对方名", "付款方", "对方名",
	"对方账号", "对方号", "对方账户", "对方号", "对方卡号", "对方号",
	"交易流水号", "单号", "流水号", "单号", "交易单号", "单号", "订单号", "单号", "交易号", "单号", "凭证号", "单号",
	"交易描述", "摘要", "交易说明", "摘要", "商品说明", "摘要", "商品", "摘要", "用途", "摘要", "附言", "摘要", "描述", "摘要", "说明", "摘要",
	"交易渠道", "渠道", "支付方式", "渠道", "收付款方式", "渠道", "交易场所", "渠道", "交易方式", "渠道", "方式", "渠道",
	"交易状态", "状态", "当前状态", "状态", "分类", "类型", "商家", "商户",
	"法定代表人", "法人", "法人代表", "法人", "负责人", "法人",
	"营业机构", "机构", "网点", "机构", "分行", "机构", "支行", "机构", "部门", "机构",
	"种类", "类型", "类别", "类型", "性质", "类型", "出生日期", "出生日", "生日", "出生日",
	"所属", "", "当前", "", "最后", "", "最近", "",
	"号码", "号", "编号", "号", "编码", "号", "代码", "号", "代号", "号", "账号", "号",
	"姓名", "名", "名称", "名", "户名", "名", "客户名", "名",
	"移动电话", "手机", "手机号", "手机", "联系电话", "手机", "电话", "手机",
	"日期", "日", "时间", "时", "年月日", "日",
	"金额", "额", "余额", "余额",
	"客户", "", "证件", "证", "身份证", "证",
)

var parenthesized = regexp.MustCompile(`[(（\[【][^)）\]】]*[)）\]】]`)

func normZH(s string) string {
	s = parenthesized.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || strings.ContainsRune("()（）[]【】:：_-/", r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	s = synonyms.Replace(s)
	if t := strings.ReplaceAll(s, "交易", ""); t != "" {
		s = t // 交易日期 is 日期: most of a statement's fields are the transaction's
	}
	return s
}

func normLatin(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

var latin = regexp.MustCompile(`^[A-Za-z0-9_ .-]+$`)

// nameScore is how well a header name fits a column, and why.
func nameScore(h string, c contract.Column) (float64, string) {
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return 0, ""
	case h == c.Name || h == c.ZH:
		return 1, fmt.Sprintf("the name is the column's (%s)", h)
	case normLatin(h) == normLatin(c.Name):
		return 1, fmt.Sprintf("%s spells %s", h, c.Name)
	}
	if latin.MatchString(h) {
		l := normLatin(h)
		if c.ZH != "" {
			full, initials := pinyinOf(c.ZH)
			switch {
			case l == full:
				return 0.95, fmt.Sprintf("%s is the pinyin of %s", h, c.ZH)
			case l == initials:
				return 0.9, fmt.Sprintf("%s are the pinyin initials of %s", h, c.ZH)
			}
		}
		return tokenOverlap(h, c.Name), fmt.Sprintf("%s resembles %s", h, c.Name)
	}
	if c.ZH == "" {
		return 0, ""
	}
	a, b := normZH(h), normZH(c.ZH)
	if a == b && a != "" {
		return 0.9, fmt.Sprintf("%s means %s", h, c.ZH)
	}
	d := dice(a, b)
	return d, fmt.Sprintf("%s resembles %s", h, c.ZH)
}

func pinyinOf(zh string) (full, initials string) {
	a := pinyin.NewArgs()
	var f, i strings.Builder
	for _, syl := range pinyin.Pinyin(zh, a) {
		if len(syl) > 0 && syl[0] != "" {
			f.WriteString(syl[0])
			i.WriteByte(syl[0][0])
		}
	}
	return f.String(), i.String()
}

// dice is the Dice coefficient of two strings' character bigrams (single
// characters when either is one character long).
func dice(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	grams := func(r []rune) map[string]int {
		m := map[string]int{}
		if len(r) == 1 {
			m[string(r)]++
			return m
		}
		for i := 0; i+1 < len(r); i++ {
			m[string(r[i:i+2])]++
		}
		return m
	}
	if len(ra) == 1 || len(rb) == 1 {
		if strings.Contains(a, b) || strings.Contains(b, a) {
			return 0.5
		}
		return 0
	}
	ga, gb := grams(ra), grams(rb)
	common, total := 0, 0
	for g, n := range ga {
		common += min(n, gb[g])
		total += n
	}
	for _, n := range gb {
		total += n
	}
	return 2 * float64(common) / float64(total)
}

func tokenOverlap(a, b string) float64 {
	split := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '_' || r == ' ' || r == '-' || r == '.' })
	}
	ta, tb := split(a), split(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	common := 0
	for _, t := range ta {
		if slices.Contains(tb, t) {
			common++
		}
	}
	return 2 * float64(common) / float64(len(ta)+len(tb))
}

var (
	residentID = regexp.MustCompile(`^\d{17}[\dXx]$`)
	creditCode = regexp.MustCompile(`^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$`)
	mobile     = regexp.MustCompile(`^(\+?86[- ]?)?1[3-9]\d{9}$`)
	hanName    = regexp.MustCompile(`^\p{Han}{2,4}$`)
)

// fitEnough is the share of sample values that must fit a type: a sample
// may hold banner or trailer lines the mapping will skip.
const fitEnough = 0.7

// dateLayouts are the layouts tried on sample dates, most specific first.
var dateLayouts = []string{"%Y年%m月%d日", "%Y/%m/%d", "%m/%d", "%m-%d", "%m月%d日", "%Y-%m-%d", "%Y.%m.%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d%H%M%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"}

// valueScore is how well sample values fit a column, why, and what a
// mapping would need to read them (a layout, a thousands separator, codes).
func valueScore(values []string, c contract.Column) (float64, string, Proposal) {
	var p Proposal
	if len(values) == 0 {
		return 0, "", p
	}
	fit := func(ok func(string) bool) float64 {
		n := 0
		for _, v := range values {
			if ok(v) {
				n++
			}
		}
		return float64(n) / float64(len(values))
	}
	switch {
	case len(c.Enum) > 0:
		f := fit(func(v string) bool { return slices.Contains(c.Enum, v) })
		if f >= 0.9 {
			return 1, "the values are the column's", p
		}
		seen := map[string]bool{}
		for _, v := range values {
			if !slices.Contains(c.Enum, v) && !seen[v] && len(seen) < 12 {
				seen[v] = true
				p.Foreign = append(p.Foreign, v)
			}
		}
		sort.Strings(p.Foreign)
		if len(seen) <= len(c.Enum)+2 {
			return 0.5, fmt.Sprintf("%d distinct codes, as few as the column's values: a code map", len(seen)), p
		}
		return 0, "", p
	case c.Type == contract.Date || c.Type == contract.Timestamp:
		native := fit(func(v string) bool {
			if c.Type == contract.Date {
				_, ok := rows.ParseDate([]byte(v))
				return ok
			}
			_, ok := rows.ParseTimestamp([]byte(v), time.UTC)
			return ok
		})
		if native >= fitEnough {
			return 1, "dates", p
		}
		for _, lt := range dateLayouts {
			l, err := parseLayout(lt)
			if err != nil {
				continue
			}
			if fit(func(v string) bool { _, ok := l.apply(nil, []byte(v), 2000, 0, true); return ok }) >= fitEnough {
				p.Layout = lt
				if !l.hasYear {
					return 1, "dates without a year, in the layout " + lt + ": add year: {match: '(?P<year>\\d{4})年(?P<month>\\d{1,2})月'} for the banner line that has it", p
				}
				return 1, "dates in the layout " + lt, p
			}
		}
		return 0, "", p
	case c.Type == contract.Decimal || c.Type == contract.Int:
		plain := fit(func(v string) bool {
			if c.Type == contract.Int {
				_, ok := rows.ParseInt([]byte(v))
				return ok
			}
			_, ok := rows.ParseDecimal([]byte(v), c.Precision, c.Scale)
			return ok
		})
		if plain >= fitEnough {
			return 0.8, "numbers", p
		}
		grouped := fit(func(v string) bool {
			_, ok := rows.ParseDecimal([]byte(strings.ReplaceAll(v, ",", "")), 18, max(c.Scale, 0))
			return ok
		})
		if grouped >= fitEnough {
			p.Thousands = ","
			return 0.8, "numbers with digit groups", p
		}
		for _, sign := range currencySigns {
			signed := fit(func(v string) bool {
				_, ok := rows.ParseDecimal([]byte(strings.ReplaceAll(strings.ReplaceAll(v, sign, ""), ",", "")), 18, max(c.Scale, 0))
				return ok && strings.Contains(v, sign)
			})
			if signed >= 0.5 {
				p.Remove = sign
				if strings.Contains(strings.Join(values, ""), ",") {
					p.Thousands = ","
				}
				return 0.8, "amounts written with " + sign, p
			}
		}
		return 0, "", p
	case c.PII == "id_number":
		if f := fit(func(v string) bool { return residentID.MatchString(v) || creditCode.MatchString(v) }); f >= 0.5 {
			return 1, fmt.Sprintf("%.0f%% look like resident IDs or credit codes", 100*f), p
		}
	case c.PII == "phone":
		if f := fit(func(v string) bool { return mobile.MatchString(strings.ReplaceAll(v, " ", "")) }); f >= 0.5 {
			return 1, fmt.Sprintf("%.0f%% look like mobiles", 100*f), p
		}
	case c.PII == "name":
		if f := fit(hanName.MatchString); f >= 0.5 {
			return 0.6, "Chinese names", p
		}
	}
	// A string column: any text fits, weakly; codes and IDs fit a person's
	// name badly.
	if c.Type == contract.String && c.PII != "id_number" && c.PII != "phone" {
		if fit(func(v string) bool { return residentID.MatchString(v) || mobile.MatchString(v) }) >= 0.5 {
			return 0, "", p
		}
		return 0.3, "", p
	}
	return 0, "", p
}

// YAML writes the report as a commented cdp.yaml snippet: the mapping of
// the entity under a feed, each column with its confidence and reason.
func (r *SuggestReport) YAML(feed string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Suggested by cdp contract suggest: review every line, then check with\n")
	fmt.Fprintf(&b, "#   cdp contract check --feed %s FILE\n", feed)
	fmt.Fprintf(&b, "# Confidence 0-1 per column; below 0.6 is a guess.\n")
	fmt.Fprintf(&b, "    mapping:\n      %s:\n", r.Entity.Name)
	if r.Trim {
		fmt.Fprintf(&b, "        trim: true     # values carry padding or TABs\n")
	}
	if r.Unwrap {
		fmt.Fprintf(&b, "        unwrap: true   # cells are Excel literals =\"…\"\n")
	}
	fmt.Fprintf(&b, "        columns:\n")
	for _, p := range r.Proposals {
		if p.Field == "" {
			fmt.Fprintf(&b, "          # %s: no field fits; map it, or leave it out if it is optional\n", p.Column)
			continue
		}
		var parts []string
		if len(p.Sum) > 0 {
			parts = append(parts, "sum: ["+yamlString(p.Sum[0])+", "+yamlString("-"+p.Sum[1])+"]")
		} else {
			parts = append(parts, "from: "+yamlString(p.Field))
		}
		if p.Remove != "" {
			parts = append(parts, "remove: ["+yamlString(p.Remove)+"]")
		}
		if p.Layout != "" {
			parts = append(parts, "layout: "+yamlString(p.Layout))
		}
		if p.Thousands != "" {
			parts = append(parts, `thousands: ","`)
		}
		value := yamlString(p.Field)
		if len(parts) > 1 || len(p.Sum) > 0 {
			value = "{" + strings.Join(parts, ", ") + "}"
		}
		fmt.Fprintf(&b, "          %s: %s   # %.2f %s\n", p.Column, value, p.Confidence, p.Why)
		if len(p.Foreign) > 0 {
			fmt.Fprintf(&b, "          # %s needs a code map: its values %s are not the contract's (%s); add codes: {%s: ?, ...}\n",
				p.Column, strings.Join(p.Foreign, ", "), strings.Join(contractEnum(r.Entity, p.Column), ", "), yamlString(p.Foreign[0]))
		}
	}
	if len(r.Unmapped) > 0 {
		fmt.Fprintf(&b, "        # fields no column takes (kept in _extra): %s\n", strings.Join(r.Unmapped, ", "))
	}
	return b.String()
}

func contractEnum(e *contract.Entity, name string) []string {
	c, _ := e.Column(name)
	return c.Enum
}

// yamlString quotes a value when YAML would read it as something else.
func yamlString(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") || strings.TrimSpace(s) != s {
		return fmt.Sprintf("%q", s)
	}
	return s
}
