package normal

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets: never panic, idempotent, and Valid implies the canonical
// shape. Run one with
//
//	go test -run XXX -fuzz FuzzResidentID -fuzztime 20s ./transforms/identity/normal/

func FuzzResidentID(f *testing.F) {
	for _, s := range []string{
		"110105199003070017", "11010519900307005x", "110105491231002", "110105 19900307 0017",
		"310115198102290045", "000000199001010018", "11010519900307X017", "", " ", "e12345678",
		"１１０１０５１９９００３０７００５ｘ", "11010549123100A", "\xff\xfe", "110105\u3000491231002",
		"11010521001231001X", "110105491331002", "x", "\u200b110105199003070017",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ResidentID(s)
		if (p.Problem == "") != p.Valid {
			t.Fatalf("Valid %v with Problem %q", p.Valid, p.Problem)
		}
		if (p.ID == "") != (p.Problem == ProblemEmpty) {
			t.Fatalf("ID %q with Problem %q", p.ID, p.Problem)
		}
		if p.Valid {
			if len(p.ID) != 18 || !allDigits(p.ID[:17]) || ResidentCheck(p.ID[:17]) != p.ID[17] {
				t.Fatalf("valid ID %q is not canonical", p.ID)
			}
			if p.Birth == "" || p.Male == 0 || p.Birth != formatDate8(p.ID[6:14]) {
				t.Fatalf("valid ID %q: birth %q sex %d", p.ID, p.Birth, p.Male)
			}
		}
		if p.Birth != "" && !validDate8(strings.ReplaceAll(p.Birth, "-", "")) {
			t.Fatalf("birth %q is not a date in range", p.Birth)
		}
		q := ResidentID(p.ID)
		if q.ID != p.ID || q.Valid != p.Valid || q.Birth != p.Birth || q.Male != p.Male || q.Problem != p.Problem || q.Upgraded {
			t.Fatalf("not idempotent: %q → %+v → %+v", s, p, q)
		}
		if CheckBirth(p, p.Birth) != "" {
			t.Fatalf("CheckBirth disagrees with its own birth date %q", p.Birth)
		}
	})
}

func FuzzCreditCode(f *testing.F) {
	for _, s := range []string{
		"91310115MA1FL1XA1W", "91310115ma1fl1xa1w", "91310115 MA1FL1XA1W", "12345678-8", "ma1fl1xa－1",
		"310115000123456", "440305100000009", "91310115MA1FL1OA1W", "", "-", "ABC123", "\xff",
		"９１３１０１１５ＭＡ１ＦＬ１ＸＡ１Ｗ", "1234567_8", "12345678—8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CreditCode(s)
		if (c.Problem == "") != c.Valid {
			t.Fatalf("Valid %v with Problem %q", c.Valid, c.Problem)
		}
		if again := CreditCode(c.Code); again != c {
			t.Fatalf("not idempotent: %q → %+v → %+v", s, c, again)
		}
		if strings.ContainsAny(c.Code, " -abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("code %q is not clean", c.Code)
		}
		if !c.Valid {
			if c.OrgCode != "" {
				t.Fatalf("invalid %+v has an organisation code", c)
			}
			return
		}
		switch c.Kind {
		case CodeUSCC:
			if len(c.Code) != 18 || USCCCheck(c.Code[:17]) != c.Code[17] || c.OrgCode != c.Code[8:17] ||
				OrgCodeCheck(c.OrgCode[:8]) != c.OrgCode[8] {
				t.Fatalf("valid USCC %+v is not canonical", c)
			}
		case CodeOrg:
			if len(c.Code) != 9 || OrgCodeCheck(c.Code[:8]) != c.Code[8] || c.OrgCode != c.Code {
				t.Fatalf("valid organisation code %+v is not canonical", c)
			}
		case CodeLicence:
			if len(c.Code) != 15 || LicenceCheck(c.Code[:14]) != c.Code[14] || c.OrgCode != "" {
				t.Fatalf("valid licence %+v is not canonical", c)
			}
		default:
			t.Fatalf("valid code of kind %v", c.Kind)
		}
	})
}

func FuzzMobile(f *testing.F) {
	for _, s := range []string{
		"13812345678", "+86 13812345678", "8613812345678", "008613812345678", "138-1234-5678", "138 1234 5678",
		"013812345678", "021-62345678", "0755-1234567", "+86 21 6234 5678", "(010)82345678", "+852 9123 4567",
		"138abc45678", "+", "", "12812345678", "+8686138123456789", "86861381234567", "+860", "0086",
		"１３８\u3000１２３４\u3000５６７８", "\xff13812345678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mobile(s)
		if again := Mobile(m.Number); again != m {
			t.Fatalf("not idempotent: %q → %+v → %+v", s, m, again)
		}
		switch m.Kind {
		case MobileNone:
			if m.Number != "" || m.Problem != ProblemEmpty {
				t.Fatalf("empty %+v", m)
			}
		case MobileCN:
			if len(m.Number) != 11 || !allDigits(m.Number) || m.Number[0] != '1' || m.Number[1] < '3' || m.Problem != "" {
				t.Fatalf("mobile %+v is not canonical", m)
			}
		case MobileLandline:
			if n := len(m.Number); n < 10 || n > 12 || !allDigits(m.Number) || m.Number[0] != '0' || m.Problem != "" {
				t.Fatalf("landline %+v is not canonical", m)
			}
		case MobileOther:
			if m.Problem == "" || m.Number == "" {
				t.Fatalf("other %+v without a problem", m)
			}
		}
	})
}

var nameSeeds = []string{
	"张伟", "張 偉", "ZHANG  Wei", "ＺＨＡＮＧ\u3000ＸＩＡＯＭＩＮＧ", "王\u3000芳", "阿卜杜拉 • 买买提", "李娜（Lina）",
	"上海华锐精密机械有限责任公司", "华锐精密机械(上海)有限公司", "上海華銳精密機械有限責任公司", "上海华锐\n有限公司",
	"Shanghai Huarui Precision Machinery Co., Ltd.", "Co., Ltd.", "Abc co", "déco", "Xi'an", "a (b) c", "\xff\xfe",
	"有限责任有限责任公司公司", "有限责有限责任公司任公司", " co ltd", "k\u212a", "ǅ", "İstanbul", "\u200b", "3M 中国", "（ ）",
	"a ltd ltd", "ltd co", "company limited inc corp", "x\u00a0y", "華\u3000銳", "·", " · ", "a·b",
}

func FuzzPersonName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := PersonName(s)
		if again := PersonName(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		checkNameShape(t, s, n)
	})
}

func FuzzCompanyName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := CompanyName(s)
		if again := CompanyName(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		checkNameShape(t, s, n)
		if strings.ContainsAny(n, "()") || strings.Contains(n, "有限责任公司") {
			t.Fatalf("%q → %q keeps half-width brackets or 有限责任公司", s, n)
		}
	})
}

func checkNameShape(t *testing.T, in, n string) {
	t.Helper()
	if !utf8.ValidString(n) {
		t.Fatalf("%q → %q is not valid UTF-8", in, n)
	}
	if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
		t.Fatalf("%q → %q has stray spaces", in, n)
	}
	for _, r := range n {
		if r >= 'A' && r <= 'Z' || r >= 0xFF01 && r <= 0xFF5E && r != '（' && r != '）' || r != ' ' && isSpace(r) || isInvisible(r) {
			t.Fatalf("%q → %q keeps %U", in, n, r)
		}
	}
	if Simplify(n) != n {
		t.Fatalf("%q → %q keeps traditional characters", in, n)
	}
}

func FuzzPinyin(f *testing.F) {
	for _, s := range append(nameSeeds, "曾", "尉迟恭", "重庆", "Lǚ", "单于") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := Pinyin(s)
		for i := 0; i < len(p); i++ {
			if p[i] < 'a' || p[i] > 'z' {
				t.Fatalf("Pinyin(%q) = %q", s, p)
			}
		}
		if Pinyin(p) != p {
			t.Fatalf("Pinyin(%q) = %q is not its own key", s, p)
		}
	})
}
