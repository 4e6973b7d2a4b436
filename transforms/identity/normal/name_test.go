package normal

import "testing"

func TestPersonName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"simplified name is unchanged", "张伟", "张伟"},
		{"traditional with a space", "張 偉", "张伟"},
		{"traditional surname and given name", "陳曉明", "陈晓明"},
		{"generator's traditional noise 黃麗艷", "黃麗艷", "黄丽艳"},
		{"ideographic space U+3000 between surname and given name", "王\u3000芳", "王芳"},
		{"stray space after the surname", "欧阳 娜娜", "欧阳娜娜"},
		{"trailing space", "杨敏颖 ", "杨敏颖"},
		{"tab and non-breaking space", "\t李\u00a0娜 ", "李娜"},
		{"Latin, upper case and double space", "ZHANG  Wei", "zhang wei"},
		{"Latin, capitalised", "Zhang Xiaoming", "zhang xiaoming"},
		{"full-width Latin with U+3000", "ＺＨＡＮＧ\u3000ＸＩＡＯＭＩＮＧ", "zhang xiaoming"},
		{"full-width brackets to half width", "李娜（Lina）", "李娜(lina)"},
		{"space between Han and Latin is kept", "张 Wei", "张 wei"},
		{"middle dots unified and spaces around them removed", "阿卜杜拉 • 买买提", "阿卜杜拉·买买提"},
		{"katakana middle dot", "阿卜杜拉・买买提", "阿卜杜拉·买买提"},
		{"zero-width space dropped", "张\u200b伟", "张伟"},
		{"line break inside", "张\n伟", "张伟"},
		{"accented Latin lower-cased", "LÜ Wei", "lü wei"},
		{"empty", "", ""},
		{"blanks only", " \u3000 ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PersonName(tt.in)
			if got != tt.want {
				t.Errorf("PersonName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := PersonName(got); again != got {
				t.Errorf("not idempotent: %q → %q → %q", tt.in, got, again)
			}
		})
	}
}

func TestCompanyName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"canonical name is unchanged", "上海华锐精密机械有限公司", "上海华锐精密机械有限公司"},
		{"ASCII brackets become full-width", "华锐精密机械(上海)有限公司", "华锐精密机械（上海）有限公司"},
		{"full-width brackets stay", "华锐精密机械（上海）有限公司", "华锐精密机械（上海）有限公司"},
		{"mixed brackets", "华锐精密机械（上海)有限公司", "华锐精密机械（上海）有限公司"},
		{"有限责任公司 becomes 有限公司", "上海华锐精密机械有限责任公司", "上海华锐精密机械有限公司"},
		{"股份有限公司 is kept", "上海华锐精密机械股份有限公司", "上海华锐精密机械股份有限公司"},
		{"有限责任公司 of a branch", "上海华锐有限责任公司北京分公司", "上海华锐有限公司北京分公司"},
		{"traditional, 有限責任公司 simplified then shortened", "上海華銳精密機械有限責任公司", "上海华锐精密机械有限公司"},
		{"traditional with brackets", "華銳電子科技(廈門)有限公司", "华锐电子科技（厦门）有限公司"},
		{"line break before the legal form", "上海华锐精密机械\n有限公司", "上海华锐精密机械有限公司"},
		{"CRLF and spaces inside", "上海 华锐精密机械\r\n有限公司 ", "上海华锐精密机械有限公司"},
		{"space after the city", "上海 华锐精密机械有限公司", "上海华锐精密机械有限公司"},
		{"U+3000 inside", "上海\u3000华锐精密机械有限公司", "上海华锐精密机械有限公司"},
		{"full-width digits and letters", "３Ｍ中国有限公司", "3m中国有限公司"},
		{"English name: Co., Ltd. removed", "Shanghai Huarui Precision Machinery Co., Ltd.", "shanghai huarui precision machinery"},
		{"English name: Company Limited removed", "SHANGHAI HUARUI PRECISION MACHINERY COMPANY LIMITED", "shanghai huarui precision machinery"},
		{"English name: Co Ltd removed", "Shanghai Huarui Precision Machinery Co Ltd", "shanghai huarui precision machinery"},
		{"English name: Co.,Ltd without spaces", "Shanghai Huarui Co.,Ltd", "shanghai huarui"},
		{"English name: Ltd. removed", "Pacific Components Ltd.", "pacific components"},
		{"English name: Limited removed", "Pacific Components Limited", "pacific components"},
		{"English name: Inc removed", "Atlantic Raw Materials Inc.", "atlantic raw materials"},
		{"English name: Corp removed", "Huarui Corp.", "huarui"},
		{"English name: Corporation removed", "Xi'an Hongtai New Energy Corporation", "xian hongtai new energy"},
		{"English name: Group kept, Co., Ltd. removed", "Beijing Hongtai Logistics Group Co., Ltd.", "beijing hongtai logistics group"},
		{"English name: ampersand is a word break", "Shenzhen Ruida Import & Export Trading Co., Ltd.", "shenzhen ruida import export trading"},
		{"English name with brackets", "Huarui (Shanghai) Co., Ltd.", "huarui（shanghai）"},
		{"a legal form alone is kept", "Co., Ltd.", "co"},
		{"legal-form letters inside a word are kept", "Abcltd", "abcltd"},
		{"legal-form letters after a digit are kept", "Studio 54co", "studio 54co"},
		{"Han punctuation is a word break", "上海华锐·精密机械有限公司", "上海华锐精密机械有限公司"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompanyName(tt.in)
			if got != tt.want {
				t.Errorf("CompanyName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := CompanyName(got); again != got {
				t.Errorf("not idempotent: %q → %q → %q", tt.in, got, again)
			}
		})
	}
}

func TestNamesDoNotAllocateWhenCanonical(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(string) string
		in   string
	}{
		{"PersonName", PersonName, "欧阳娜娜"},
		{"PersonName Latin", PersonName, "zhang xiaoming"},
		{"CompanyName", CompanyName, "华锐精密机械（上海）有限公司"},
		{"Simplify", Simplify, "上海华锐精密机械有限公司"},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if tt.f(tt.in) != tt.in {
				t.Fatalf("%s changed %q", tt.name, tt.in)
			}
		})
		if allocs != 0 {
			t.Errorf("%s(%q): allocs = %v, want 0", tt.name, tt.in, allocs)
		}
	}
}
