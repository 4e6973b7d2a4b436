package synthbank

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Identity numbers: canonical forms with real check characters, and the damage
// source systems do to them.

var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ResidentCheck returns the GB 11643 check character of the first 17 digits of
// a resident ID, or 0 if they are not 17 digits.
func ResidentCheck(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * residentWeights[i]
	}
	return "10X98765432"[sum%11]
}

// ValidResidentID reports whether s is a canonical 18-character resident ID
// with a correct check character and a real birth date.
func ValidResidentID(s string) bool {
	if len(s) != 18 || ResidentCheck(s[:17]) != s[17] {
		return false
	}
	y, _ := strconv.Atoi(s[6:10])
	m, _ := strconv.Atoi(s[10:12])
	d, _ := strconv.Atoi(s[12:14])
	return y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// residentID builds an 18-digit ID: region, birth date, a three-digit sequence
// whose last digit is odd for men and even for women, and the check character.
func residentID(region string, birth day, seq int, male bool) string {
	seq = seq % 1000
	if (seq%2 == 1) != male {
		seq = (seq + 1) % 1000
		if (seq%2 == 1) != male { // 999+1 wrapped to 0 for a man
			seq = 1
		}
	}
	b := make([]byte, 0, 18)
	b = append(b, region...)
	b = birth.appendCompact(b)
	b = append(b, byte('0'+seq/100), byte('0'+seq/10%10), byte('0'+seq%10))
	return string(append(b, ResidentCheck(string(b))))
}

// legacy15 downgrades an 18-digit ID to the pre-1999 15-digit form: the
// century digits and the check character are dropped.
func legacy15(id18 string) string { return id18[:6] + id18[8:17] }

// USCC charset (GB 32100): digits and upper-case letters without I, O, Z, S, V.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheck returns the GB 32100 check character of the first 17 characters of
// a unified social credit code, or 0 if a character is outside the charset.
func USCCCheck(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccChars, first17[i])
		if v < 0 {
			return 0
		}
		sum += v * usccWeights[i]
	}
	return usccChars[(31-sum%31)%31]
}

// ValidUSCC reports whether s is a canonical unified social credit code whose
// check character and embedded organisation code check character are right.
func ValidUSCC(s string) bool {
	return len(s) == 18 && USCCCheck(s[:17]) == s[17] && ValidOrgCode(s[8:17])
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// OrgCodeCheck returns the GB 11714 check character of an 8-character
// organisation code body (digits and upper-case letters, A=10 … Z=35).
func OrgCodeCheck(body string) byte {
	if len(body) != 8 {
		return 0
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0
		}
		sum += v * orgWeights[i]
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

// ValidOrgCode reports whether s is a 9-character organisation code with a
// correct check character.
func ValidOrgCode(s string) bool { return len(s) == 9 && OrgCodeCheck(s[:8]) == s[8] }

// uscc builds a code for an enterprise (registration authority 9, type 1)
// registered in region, around an organisation code with a digit body.
func uscc(region string, orgBody int) string {
	body := strconv.Itoa(10_000_000 + orgBody%90_000_000)
	org := body + string(OrgCodeCheck(body))
	first := "91" + region + org
	return first + string(USCCCheck(first))
}

// licenceCheck is the ISO 7064 MOD 11,10 check digit of a 14-digit business
// licence number (工商注册号).
func licenceCheck(first14 string) byte {
	p := 10
	for i := 0; i < len(first14); i++ {
		s := (p + int(first14[i]-'0')) % 10
		if s == 0 {
			s = 10
		}
		p = s * 2 % 11
	}
	for c := 0; c <= 9; c++ {
		if (p+c)%10 == 1 {
			return byte('0' + c)
		}
	}
	return '0'
}

// ValidLicence reports whether s is a 15-digit business licence number with a
// correct check digit.
func ValidLicence(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := 0; i < 15; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return licenceCheck(s[:14]) == s[14]
}

func licenceNo(region string, seq int) string {
	first := region + strconv.Itoa(10_000_000+seq%90_000_000)
	return first + string(licenceCheck(first))
}

// mobilePrefixes are real mainland carrier segments.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150",
	"151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177",
	"178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
}

func mobileNo(r *rand.Rand) string {
	b := make([]byte, 0, 11)
	b = append(b, mobilePrefixes[r.IntN(len(mobilePrefixes))]...)
	for len(b) < 11 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

var areaCodes = []string{"010", "021", "020", "0755", "0571", "025", "028", "027", "022", "023", "0512", "0532"}

func landline(r *rand.Rand) string {
	a := areaCodes[r.IntN(len(areaCodes))]
	n := 8
	if len(a) == 4 && r.IntN(3) == 0 {
		n = 7
	}
	b := []byte(a + "-")
	b = append(b, byte('2'+r.IntN(7)))
	for i := 1; i < n; i++ {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// noise holds the per-record rates at which one source system damages
// identity fields. Each rate is the share of that system's records affected.
type noise struct {
	lowerX    float64 // of IDs ending in X, share written with a lower-case x
	legacy15  float64 // 15-digit ID instead of 18 (persons born before 2000)
	idSpaces  float64
	idTypo    float64 // one digit mistyped, check character then wrong
	idEmpty   float64
	passport  float64 // a passport number instead of the resident ID
	mobPrefix float64 // +86 / 86 / 0086
	mobSpaces float64
	mobDashes float64
	landline  float64
	mobEmpty  float64
	nameSpace float64 // stray space inside or after the name
	nameTrad  float64 // traditional characters
	namePY    float64 // pinyin transliteration
	nameWide  float64 // full-width space / letters
	noBirth   float64 // birth date not captured

	coLower    float64 // credit code in lower case
	coOrgCode  float64 // old 9-character organisation code
	coLicence  float64 // 15-digit business licence number
	coEmpty    float64
	coSpaces   float64
	coBrackets float64 // of names with brackets, share written with ASCII ()
	coSuffix   float64 // 有限公司 ↔ 有限责任公司
	coTrad     float64
	coSpace    float64
	coEnglish  float64 // English name "... Co., Ltd."
	coNewline  float64 // a line break keyed into the name (credit only)
}

var systemNoise = [numSystems]noise{
	sysCredit: {
		lowerX: 0.15, legacy15: 0.10, idSpaces: 0.02, idTypo: 0.01, idEmpty: 0.01, passport: 0.003,
		mobPrefix: 0.03, mobSpaces: 0.02, mobDashes: 0.02, landline: 0.03, mobEmpty: 0.02,
		nameSpace: 0.03, nameTrad: 0.01, namePY: 0.005, nameWide: 0.01, noBirth: 0.10,
		coLower: 0.02, coOrgCode: 0.05, coLicence: 0.03, coEmpty: 0.01, coSpaces: 0.01,
		coBrackets: 0.30, coSuffix: 0.03, coTrad: 0.01, coSpace: 0.02, coEnglish: 0.01, coNewline: 0.005,
	},
	sysWealth: {
		lowerX: 0.20, legacy15: 0.03, idSpaces: 0.02, idTypo: 0.01, idEmpty: 0.01, passport: 0.005,
		mobPrefix: 0.04, mobSpaces: 0.02, mobDashes: 0.01, landline: 0.01, mobEmpty: 0.01,
		nameSpace: 0.02, nameTrad: 0.01, namePY: 0.005, nameWide: 0.01,
		coLower: 0.02, coOrgCode: 0.04, coEmpty: 0.02, coSpaces: 0.01,
		coBrackets: 0.30, coSuffix: 0.03, coTrad: 0.01, coSpace: 0.02,
	},
	sysCard: {
		lowerX: 0.40, legacy15: 0.01, idSpaces: 0.03, idTypo: 0.01, idEmpty: 0.01, passport: 0.005,
		mobPrefix: 0.05, mobSpaces: 0.03, mobDashes: 0.03, landline: 0.01, mobEmpty: 0.005,
		nameSpace: 0.02, nameTrad: 0.02, namePY: 0.02, nameWide: 0.01, noBirth: 0.05,
		coLower: 0.03, coOrgCode: 0.02, coEmpty: 0.02,
		coBrackets: 0.30, coSuffix: 0.03, coTrad: 0.01, coSpace: 0.02,
	},
	sysEbank: {
		lowerX: 0.50, idSpaces: 0.02, idTypo: 0.01, idEmpty: 0.04,
		mobPrefix: 0.06, mobSpaces: 0.02, mobDashes: 0.01, mobEmpty: 0.01,
		nameSpace: 0.02, nameTrad: 0.01, namePY: 0.01, nameWide: 0.01,
		coLower: 0.03, coEmpty: 0.03, coSpaces: 0.01,
		coBrackets: 0.30, coSuffix: 0.03, coTrad: 0.01, coSpace: 0.02, coEnglish: 0.01,
	},
	// Core banking opens customers at the counter against the ID document:
	// few typos, but legacy 15-digit IDs, old organisation codes and
	// landlines from the years before mobiles.
	sysCore: {
		lowerX: 0.10, legacy15: 0.06, idSpaces: 0.005, idTypo: 0.003, idEmpty: 0.003, passport: 0.003,
		mobPrefix: 0.02, mobSpaces: 0.01, mobDashes: 0.01, landline: 0.04, mobEmpty: 0.03,
		nameSpace: 0.01, nameTrad: 0.005, namePY: 0.002, nameWide: 0.005, noBirth: 0.02,
		coLower: 0.01, coOrgCode: 0.06, coLicence: 0.03, coEmpty: 0.005, coSpaces: 0.005,
		coBrackets: 0.30, coSuffix: 0.02, coTrad: 0.005, coSpace: 0.01,
	},
}

// noisyPersonID returns the id_type and id_no a system stores for a person.
func (n *noise) noisyPersonID(r *rand.Rand, p *party) (idType, idNo string) {
	id := p.idNo
	x := r.Float64()
	switch {
	case x < n.idEmpty:
		return "ID_CARD", ""
	case x < n.idEmpty+n.passport:
		return "PASSPORT", "E" + strconv.Itoa(10_000_000+r.IntN(90_000_000))
	}
	x -= n.idEmpty + n.passport
	switch {
	case x < n.legacy15:
		if id[6:8] == "19" { // 15-digit IDs predate anyone born after 1999
			id = legacy15(id)
		}
	case x < n.legacy15+n.idTypo:
		i := r.IntN(17)
		d := byte('0' + (int(id[i]-'0')+1+r.IntN(9))%10)
		id = id[:i] + string(d) + id[i+1:]
	}
	if id[len(id)-1] == 'X' && r.Float64() < n.lowerX {
		id = id[:len(id)-1] + "x"
	}
	if r.Float64() < n.idSpaces {
		switch {
		case len(id) == 18 && r.IntN(2) == 0:
			id = id[:6] + " " + id[6:14] + " " + id[14:]
		case r.IntN(2) == 0:
			id = " " + id
		default:
			id += " "
		}
	}
	return "ID_CARD", id
}

// noisyCompanyID returns the id_type and id_no a system stores for a company.
func (n *noise) noisyCompanyID(r *rand.Rand, p *party) (idType, idNo string) {
	x := r.Float64()
	switch {
	case x < n.coEmpty:
		return "USCC", ""
	case x < n.coEmpty+n.coOrgCode:
		org := p.idNo[8:17]
		if r.IntN(4) == 0 {
			org = org[:8] + "-" + org[8:]
		}
		return "ORG_CODE", org
	case x < n.coEmpty+n.coOrgCode+n.coLicence:
		return "OTHER", p.licence
	}
	id := p.idNo
	if r.Float64() < n.coLower {
		id = strings.ToLower(id)
	}
	if r.Float64() < n.coSpaces {
		id = id[:8] + " " + id[8:]
	}
	return "USCC", id
}

// noisyMobile renders a mobile the way one system captured it.
func (n *noise) noisyMobile(r *rand.Rand, mobile string) string {
	if mobile == "" || mobile[0] == '0' { // no number, or a landline already
		return mobile
	}
	x := r.Float64()
	switch {
	case x < n.mobEmpty:
		return ""
	case x < n.mobEmpty+n.landline:
		return landline(r)
	}
	x -= n.mobEmpty + n.landline
	switch {
	case x < n.mobPrefix:
		return [...]string{"+86", "+86 ", "86", "0086", "0086 "}[r.IntN(5)] + mobile
	case x < n.mobPrefix+n.mobSpaces:
		return mobile[:3] + " " + mobile[3:7] + " " + mobile[7:]
	case x < n.mobPrefix+n.mobSpaces+n.mobDashes:
		return mobile[:3] + "-" + mobile[3:7] + "-" + mobile[7:]
	}
	return mobile
}

// noisyPersonName renders a person's name the way one system captured it.
func (n *noise) noisyPersonName(r *rand.Rand, p *party) string {
	x := r.Float64()
	switch {
	case x < n.nameSpace:
		return insertSpace(p.name, r.IntN(3) == 0)
	case x < n.nameSpace+n.nameTrad:
		if t := toTraditional(p.name); t != p.name {
			return t
		}
	case x < n.nameSpace+n.nameTrad+n.namePY:
		return pinyinName(p.sur, p.given, r.IntN(3) > 0)
	case x < n.nameSpace+n.nameTrad+n.namePY+n.nameWide:
		if r.IntN(3) == 0 {
			return toFullWidth(pinyinName(p.sur, p.given, true))
		}
		return p.sur.han + "\u3000" + p.name[len(p.sur.han):]
	}
	return p.name
}

// noisyCompanyName renders a company's name the way one system captured it.
func (n *noise) noisyCompanyName(r *rand.Rand, p *party) string {
	name := p.name
	if strings.Contains(name, "（") && r.Float64() < n.coBrackets {
		name = halfWidthBrackets(name)
	}
	x := r.Float64()
	switch {
	case x < n.coSuffix:
		if strings.HasSuffix(name, "有限责任公司") {
			name = strings.TrimSuffix(name, "有限责任公司") + "有限公司"
		} else if strings.HasSuffix(name, "有限公司") && !strings.HasSuffix(name, "股份有限公司") {
			name = strings.TrimSuffix(name, "有限公司") + "有限责任公司"
		}
	case x < n.coSuffix+n.coTrad:
		name = toTraditional(name)
	case x < n.coSuffix+n.coTrad+n.coSpace:
		name = insertSpace(name, r.IntN(2) == 0)
	case x < n.coSuffix+n.coTrad+n.coSpace+n.coEnglish:
		name = p.enName
	case x < n.coSuffix+n.coTrad+n.coSpace+n.coEnglish+n.coNewline:
		// Keyed with a line break before the legal form; RFC 4180 quotes it.
		if i := strings.Index(name, "有限"); i > 0 {
			name = name[:i] + "\n" + name[i:]
		}
	}
	return name
}
