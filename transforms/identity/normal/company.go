package normal

// Company codes. Since 2015 a company is identified by its 18-character
// unified social credit code (统一社会信用代码, GB 32100-2015), which embeds the
// 9-character organisation code (组织机构代码, GB 11714) at positions 9-17.
// Older systems still hold the organisation code alone or the 15-digit
// business licence registration number (工商注册号, GS15-2006).

// CodeKind is the kind of company code CreditCode recognised by shape.
type CodeKind uint8

const (
	CodeNone    CodeKind = iota // empty input
	CodeUSCC                    // 18 characters: unified social credit code
	CodeOrg                     // 9 characters (a dash before the last one removed): organisation code
	CodeLicence                 // 15 characters: business licence registration number
	CodeUnknown                 // any other length
)

func (k CodeKind) String() string {
	switch k {
	case CodeNone:
		return "none"
	case CodeUSCC:
		return "uscc"
	case CodeOrg:
		return "org_code"
	case CodeLicence:
		return "licence"
	}
	return "unknown"
}

// CompanyID is a company code after normalisation.
type CompanyID struct {
	// Code is the cleaned input: blanks and dashes removed, full-width
	// folded, upper case. For a valid code this is the canonical form (USCC
	// 18 characters, organisation code 9 without its dash, licence 15 digits).
	Code string
	Kind CodeKind
	// Valid: USCC with charset 0-9 A-H J-N P-R T-U W-Y, GB 32100 check
	// (weights 3^i mod 31) right and its embedded organisation code's GB
	// 11714 check right; organisation code with GB 11714 check right;
	// licence number with ISO 7064 MOD 11,10 check right.
	Valid bool
	// OrgCode is the 9-character organisation code: Code[8:17] of a valid
	// USCC, Code itself for a valid organisation code, "" otherwise. It
	// joins a company keyed by USCC in one system and by organisation code
	// in another.
	OrgCode string
	// Problem is "" when Valid; else empty, bad_length, bad_char or
	// bad_check (for a USCC: either check character).
	Problem string
}

// usccValue maps a USCC character to its value 0..30, or -1. The charset is
// digits and upper-case letters without I, O, S, V, Z.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range []byte(usccChars) {
		t[c] = int8(i)
	}
	return t
}()

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]uint8{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheck returns the GB 32100 check character of the first 17 characters
// of a unified social credit code, or 0 if one is outside the charset.
func USCCCheck(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue[first17[i]]
		if v < 0 {
			return 0
		}
		sum += int(v) * int(usccWeights[i])
	}
	return usccChars[(31-sum%31)%31]
}

var orgWeights = [8]uint8{3, 7, 9, 10, 5, 8, 4, 2}

// OrgCodeCheck returns the GB 11714 check character ('0'-'9' or 'X') of an
// 8-character organisation code body (digits and upper-case letters, A=10 …
// Z=35), or 0 if the body is not of that shape.
func OrgCodeCheck(body string) byte {
	if len(body) != 8 {
		return 0
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case isDigit(c):
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0
		}
		sum += v * int(orgWeights[i])
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// LicenceCheck returns the ISO 7064 MOD 11,10 check digit of the first 14
// digits of a business licence registration number, or 0 if they are not 14
// digits.
func LicenceCheck(first14 string) byte {
	if len(first14) != 14 || !allDigits(first14) {
		return 0
	}
	p := 10
	for i := 0; i < 14; i++ {
		s := (p + int(first14[i]-'0')) % 10
		if s == 0 {
			s = 10
		}
		p = s * 2 % 11
	}
	// The check digit c makes (p + c) mod 10 == 1.
	return byte('0' + (11-p)%10)
}

// CreditCode normalises a company code and detects its kind by length:
// 18 a unified social credit code, 9 an organisation code, 15 a business
// licence number. Blanks, dashes (the organisation code's "12345678-9") and
// lower case are undone first.
func CreditCode(s string) CompanyID {
	code := cleanCode(s, true)
	c := CompanyID{Code: code}
	switch len(code) {
	case 0:
		c.Kind, c.Problem = CodeNone, ProblemEmpty
	case 18:
		c.Kind = CodeUSCC
		for i := 0; i < 18; i++ {
			if usccValue[code[i]] < 0 {
				c.Problem = ProblemBadChar
				return c
			}
		}
		if USCCCheck(code[:17]) != code[17] || OrgCodeCheck(code[8:16]) != code[16] {
			c.Problem = ProblemBadCheck
			return c
		}
		c.Valid, c.OrgCode = true, code[8:17]
	case 9:
		c.Kind = CodeOrg
		for i := 0; i < 8; i++ {
			if ch := code[i]; !isDigit(ch) && (ch < 'A' || ch > 'Z') {
				c.Problem = ProblemBadChar
				return c
			}
		}
		if ch := code[8]; !isDigit(ch) && ch != 'X' {
			c.Problem = ProblemBadChar
			return c
		}
		if OrgCodeCheck(code[:8]) != code[8] {
			c.Problem = ProblemBadCheck
			return c
		}
		c.Valid, c.OrgCode = true, code
	case 15:
		c.Kind = CodeLicence
		if !allDigits(code) {
			c.Problem = ProblemBadChar
			return c
		}
		if LicenceCheck(code[:14]) != code[14] {
			c.Problem = ProblemBadCheck
			return c
		}
		c.Valid = true
	default:
		c.Kind, c.Problem = CodeUnknown, ProblemBadLength
	}
	return c
}
