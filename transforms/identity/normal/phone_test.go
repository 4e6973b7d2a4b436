package normal

import "testing"

func TestMobile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Phone
	}{
		{"canonical mobile", "13812345678", Phone{"13812345678", MobileCN, ""}},
		{"+86 prefix", "+8613812345678", Phone{"13812345678", MobileCN, ""}},
		{"+86 and a space", "+86 13812345678", Phone{"13812345678", MobileCN, ""}},
		{"86 prefix without plus", "8613812345678", Phone{"13812345678", MobileCN, ""}},
		{"0086 prefix", "008613812345678", Phone{"13812345678", MobileCN, ""}},
		{"0086 and a space", "0086 13812345678", Phone{"13812345678", MobileCN, ""}},
		{"(+86) in brackets", "(+86)138-1234-5678", Phone{"13812345678", MobileCN, ""}},
		{"spaces 3-4-4", "138 1234 5678", Phone{"13812345678", MobileCN, ""}},
		{"dashes 3-4-4", "138-1234-5678", Phone{"13812345678", MobileCN, ""}},
		{"dots", "138.1234.5678", Phone{"13812345678", MobileCN, ""}},
		{"full-width digits and U+3000", "１３８\u3000１２３４\u3000５６７８", Phone{"13812345678", MobileCN, ""}},
		{"trunk 0 before a mobile", "013812345678", Phone{"13812345678", MobileCN, ""}},
		{"segment 19x", "19912345678", Phone{"19912345678", MobileCN, ""}},
		{"segment 12x is not a mobile", "12812345678", Phone{"12812345678", MobileOther, ProblemBadPrefix}},
		{"+86 before segment 10x keeps the input", "+8610812345678", Phone{"+8610812345678", MobileOther, ProblemBadPrefix}},
		{"Shanghai landline 021-62345678", "021-62345678", Phone{"02162345678", MobileLandline, ""}},
		{"Shenzhen landline with 7 digits 0755-1234567", "0755-1234567", Phone{"07551234567", MobileLandline, ""}},
		{"subscriber number starting with 0", "021-02345678", Phone{"02102345678", MobileOther, ProblemBadLength}},
		{"Shenzhen landline 0755-2345678", "0755-2345678", Phone{"07552345678", MobileLandline, ""}},
		{"Shenzhen landline 0755-23456789", "0755-23456789", Phone{"075523456789", MobileLandline, ""}},
		{"Beijing landline in brackets", "(010)82345678", Phone{"01082345678", MobileLandline, ""}},
		{"landline after +86 gets its trunk 0 back", "+86 21 6234 5678", Phone{"02162345678", MobileLandline, ""}},
		{"landline after 0086", "0086-755-2345678", Phone{"07552345678", MobileLandline, ""}},
		{"landline without area code", "62345678", Phone{"62345678", MobileOther, ProblemBadLength}},
		{"area code 01x other than 010 does not exist", "01162345678", Phone{"01162345678", MobileOther, ProblemBadLength}},
		{"letters", "138abc45678", Phone{"138abc45678", MobileOther, ProblemBadChar}},
		{"two numbers with a slash", "13812345678/13912345678", Phone{"13812345678/13912345678", MobileOther, ProblemBadChar}},
		{"extension", "021-62345678转801", Phone{"02162345678转801", MobileOther, ProblemBadChar}},
		{"Hong Kong number", "+852 9123 4567", Phone{"+85291234567", MobileOther, ProblemForeign}},
		{"00 international prefix other than 0086", "0085291234567", Phone{"0085291234567", MobileOther, ProblemForeign}},
		{"10 digits", "1381234567", Phone{"1381234567", MobileOther, ProblemBadLength}},
		{"12 digits", "138123456789", Phone{"138123456789", MobileOther, ProblemBadLength}},
		{"86 prefix with 12 more digits is not stripped", "86138123456789", Phone{"86138123456789", MobileOther, ProblemBadLength}},
		{"plus alone", "+", Phone{"+", MobileOther, ProblemBadChar}},
		{"empty", "", Phone{"", MobileNone, ProblemEmpty}},
		{"blanks and dashes only are empty", " - ", Phone{"", MobileNone, ProblemEmpty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Mobile(tt.in)
			if got != tt.want {
				t.Errorf("Mobile(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			if again := Mobile(got.Number); got.Kind != MobileNone && again != got {
				t.Errorf("not idempotent: %+v → %+v", got, again)
			}
		})
	}
}

func TestMobileCanonicalInputDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if Mobile("13812345678").Kind != MobileCN {
			t.Fatal("not a mobile")
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func TestMobileKindString(t *testing.T) {
	for k, want := range map[MobileKind]string{MobileNone: "none", MobileCN: "mobile", MobileLandline: "landline", MobileOther: "other"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
}
