package normal

import "testing"

func TestCreditCode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want CompanyID
	}{
		{"valid USCC", "91310115MA1FL1XA1W",
			CompanyID{Code: "91310115MA1FL1XA1W", Kind: CodeUSCC, Valid: true, OrgCode: "MA1FL1XA1"}},
		{"valid USCC with a digit body", "913101151234567880",
			CompanyID{Code: "913101151234567880", Kind: CodeUSCC, Valid: true, OrgCode: "123456788"}},
		{"lower-case USCC is upper-cased", "91310115ma1fl1xa1w",
			CompanyID{Code: "91310115MA1FL1XA1W", Kind: CodeUSCC, Valid: true, OrgCode: "MA1FL1XA1"}},
		{"space before the organisation code, as the credit system keys it", "91310115 MA1FL1XA1W",
			CompanyID{Code: "91310115MA1FL1XA1W", Kind: CodeUSCC, Valid: true, OrgCode: "MA1FL1XA1"}},
		{"full-width USCC", "９１３１０１１５ＭＡ１ＦＬ１ＸＡ１Ｗ",
			CompanyID{Code: "91310115MA1FL1XA1W", Kind: CodeUSCC, Valid: true, OrgCode: "MA1FL1XA1"}},
		{"USCC with a wrong check character", "91310115MA1FL1XA1X",
			CompanyID{Code: "91310115MA1FL1XA1X", Kind: CodeUSCC, Problem: ProblemBadCheck}},
		{"USCC whose embedded organisation code check is wrong", usccWithBadOrg(),
			CompanyID{Code: usccWithBadOrg(), Kind: CodeUSCC, Problem: ProblemBadCheck}},
		{"USCC with a letter outside the charset (O)", "91310115MA1FL1OA1W",
			CompanyID{Code: "91310115MA1FL1OA1W", Kind: CodeUSCC, Problem: ProblemBadChar}},
		{"USCC with a letter outside the charset (I, from lower-case i)", "91310115ma1fl1ia1w",
			CompanyID{Code: "91310115MA1FL1IA1W", Kind: CodeUSCC, Problem: ProblemBadChar}},
		{"organisation code with dash", "12345678-8",
			CompanyID{Code: "123456788", Kind: CodeOrg, Valid: true, OrgCode: "123456788"}},
		{"organisation code without dash", "123456788",
			CompanyID{Code: "123456788", Kind: CodeOrg, Valid: true, OrgCode: "123456788"}},
		{"organisation code with letters, lower case and a full-width dash", "ma1fl1xa－1",
			CompanyID{Code: "MA1FL1XA1", Kind: CodeOrg, Valid: true, OrgCode: "MA1FL1XA1"}},
		{"organisation code whose check is X", orgWithCheckX(),
			CompanyID{Code: orgWithCheckX(), Kind: CodeOrg, Valid: true, OrgCode: orgWithCheckX()}},
		{"organisation code whose check is 0 (11 - 0)", orgWithCheck0(),
			CompanyID{Code: orgWithCheck0(), Kind: CodeOrg, Valid: true, OrgCode: orgWithCheck0()}},
		{"organisation code with a wrong check", "12345678-9",
			CompanyID{Code: "123456789", Kind: CodeOrg, Problem: ProblemBadCheck}},
		{"organisation code with a punctuation mark", "1234567_8",
			CompanyID{Code: "1234567_8", Kind: CodeOrg, Problem: ProblemBadChar}},
		{"licence number", "310115000123456",
			CompanyID{Code: "310115000123456", Kind: CodeLicence, Valid: true}},
		{"licence number ending in 9", "440305100000009",
			CompanyID{Code: "440305100000009", Kind: CodeLicence, Valid: true}},
		{"licence number with a wrong check", "310115000123457",
			CompanyID{Code: "310115000123457", Kind: CodeLicence, Problem: ProblemBadCheck}},
		{"licence number with a letter", "31011500012345A",
			CompanyID{Code: "31011500012345A", Kind: CodeLicence, Problem: ProblemBadChar}},
		{"empty", "", CompanyID{Kind: CodeNone, Problem: ProblemEmpty}},
		{"dashes only are empty", " - ", CompanyID{Kind: CodeNone, Problem: ProblemEmpty}},
		{"other length", "ABC123", CompanyID{Code: "ABC123", Kind: CodeUnknown, Problem: ProblemBadLength}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CreditCode(tt.in)
			if got != tt.want {
				t.Errorf("CreditCode(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			if again := CreditCode(got.Code); again != got {
				t.Errorf("not idempotent: %+v → %+v", got, again)
			}
		})
	}
}

// usccWithBadOrg is a code with a right GB 32100 check character around an
// organisation code whose own check character is wrong.
func usccWithBadOrg() string {
	first := "91310115" + "12345678" + "9" // right org check would be 8
	return first + string(USCCCheck(first))
}

func orgWithCheckX() string { return orgWithCheck('X') }
func orgWithCheck0() string { return orgWithCheck('0') }

func orgWithCheck(want byte) string {
	for n := 10000000; n < 10001000; n++ {
		body := itoa8(n)
		if OrgCodeCheck(body) == want {
			return body + string(want)
		}
	}
	panic("no body found")
}

func itoa8(n int) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

func TestCheckFunctionsRejectBadShapes(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  byte
	}{
		{"USCCCheck of a short code", USCCCheck("9131")},
		{"USCCCheck with I", USCCCheck("9131011512345678I")},
		{"OrgCodeCheck with lower case", OrgCodeCheck("ma1fl1xa")},
		{"OrgCodeCheck of 7 characters", OrgCodeCheck("1234567")},
		{"LicenceCheck with a letter", LicenceCheck("3101150001234A")},
		{"ResidentCheck with X inside", ResidentCheck("1101051990030700X")},
	} {
		if tt.got != 0 {
			t.Errorf("%s = %q, want 0", tt.name, tt.got)
		}
	}
}

func TestCodeKindString(t *testing.T) {
	for k, want := range map[CodeKind]string{CodeNone: "none", CodeUSCC: "uscc", CodeOrg: "org_code", CodeLicence: "licence", CodeUnknown: "unknown"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), want)
		}
	}
}
