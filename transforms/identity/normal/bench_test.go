package normal

import "testing"

// Benchmarks over the shapes the feeds really carry: most values canonical,
// a few percent damaged. Run with
//
//	go test -run XXX -bench . -benchmem ./transforms/identity/normal/

var sink any

func benchStrings[T any](b *testing.B, f func(string) T, cases []struct{ name, in string }) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var v T
			for b.Loop() {
				v = f(c.in)
			}
			sink = v
		})
	}
}

func BenchmarkResidentID(b *testing.B) {
	benchStrings(b, ResidentID, []struct{ name, in string }{
		{"canonical", "110105199003070017"},
		{"lower_x", "11010519900307005x"},
		{"spaces", "110105 19900307 0017"},
		{"legacy15", "110105491231002"},
		{"bad_check", "110105199003070018"},
	})
}

func BenchmarkCreditCode(b *testing.B) {
	benchStrings(b, CreditCode, []struct{ name, in string }{
		{"canonical", "91310115MA1FL1XA1W"},
		{"lower_space", "91310115 ma1fl1xa1w"},
		{"org_dash", "12345678-8"},
		{"licence", "310115000123456"},
	})
}

func BenchmarkMobile(b *testing.B) {
	benchStrings(b, Mobile, []struct{ name, in string }{
		{"canonical", "13812345678"},
		{"plus86_space", "+86 13812345678"},
		{"dashes", "138-1234-5678"},
		{"landline", "0755-2345678"},
	})
}

func BenchmarkPersonName(b *testing.B) {
	benchStrings(b, PersonName, []struct{ name, in string }{
		{"canonical", "欧阳娜娜"},
		{"traditional_space", "張 曉明"},
		{"u3000", "王\u3000芳"},
		{"latin", "ZHANG XIAOMING"},
	})
}

func BenchmarkCompanyName(b *testing.B) {
	benchStrings(b, CompanyName, []struct{ name, in string }{
		{"canonical", "华锐精密机械（上海）有限公司"},
		{"ascii_brackets", "华锐精密机械(上海)有限公司"},
		{"suffix", "上海华锐精密机械有限责任公司"},
		{"traditional", "上海華銳精密機械有限公司"},
		{"english", "Shanghai Huarui Precision Machinery Co., Ltd."},
	})
}

func BenchmarkPinyin(b *testing.B) {
	benchStrings(b, Pinyin, []struct{ name, in string }{
		{"han3", "张晓明"},
		{"han_company", "上海华锐精密机械有限公司"},
		{"latin", "Zhang Xiaoming"},
	})
}

func BenchmarkSimplify(b *testing.B) {
	benchStrings(b, Simplify, []struct{ name, in string }{
		{"simplified", "上海华锐精密机械有限公司"},
		{"traditional", "上海華銳精密機械有限公司"},
	})
}
