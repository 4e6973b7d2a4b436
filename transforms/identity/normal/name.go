package normal

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// PersonName normalises a person's name for comparison:
//
//   - full-width letters, digits, punctuation and brackets to half width,
//     U+3000 and every other blank to a space, invisible characters dropped;
//   - traditional characters to simplified (Simplify's table);
//   - the middle dots of transliterated names (•, ・, ‧ …) to ·;
//   - letters lower-cased; blanks collapsed to one space, removed between two
//     Han characters (or a Han character and ·), trimmed at both ends.
//
// "張 偉" → "张伟", "ZHANG  Wei" → "zhang wei", "王\u3000芳" → "王芳".
// An already normal name is returned without allocating.
func PersonName(s string) string { return normName(s, false) }

// CompanyName normalises a company's name for comparison. On top of
// PersonName's folding:
//
//   - brackets of both widths become full-width （）, whatever the source
//     keyed: "华锐(上海)" and "华锐（上海）" are the same name;
//   - blanks (line breaks included) are removed everywhere except between two
//     Latin letters or digits: "上海华锐\n有限公司" → "上海华锐有限公司";
//   - 有限责任公司 becomes 有限公司 (also 有限責任公司, which is simplified
//     first); 股份有限公司 stays as it is, it is a different legal form;
//   - punctuation, the middle dot included, becomes a word break; apostrophes
//     are dropped (Xi'an → xian);
//   - the Latin legal form at the end is REMOVED (chosen over rewriting it to
//     one canonical suffix: the English forms do not map one-to-one to the
//     Chinese ones), however it was written: "Co., Ltd.", "Company Limited",
//     "Co Ltd", "Ltd", "Limited", "Inc", "Incorporated", "Corp",
//     "Corporation", "LLC", "PLC", stacked in any order, as long as something
//     is left: "Shanghai Huarui Trading Co., Ltd." → "shanghai huarui
//     trading", "Co., Ltd." alone → "co".
func CompanyName(s string) string { return normName(s, true) }

// normName is the single pass behind PersonName and CompanyName: it writes
// into a stack buffer and only allocates when the result differs from s.
func normName(s string, company bool) string {
	var arr [128]byte
	b := arr[:0]
	last := rune(-1) // last rune written, -1 before the first
	pending := false // a word break was seen after last
	for _, r := range s {
		r = foldWidth(r)
		switch {
		case isSpace(r):
			pending = true
			continue
		case isInvisible(r):
			continue
		case r < utf8.RuneSelf:
			switch {
			case r >= 'A' && r <= 'Z':
				r += 'a' - 'A'
			case !company || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			case r == '(':
				r = '（'
			case r == ')':
				r = '）'
			case r == '\'' || r == '`':
				continue
			default: // other ASCII punctuation separates words
				pending = true
				continue
			}
		case isHan(r):
			r = simplifyRune(r)
		default:
			switch r {
			case 0xB7, 0x2022, 0x2027, 0x2219, 0x22C5, 0x30FB, 0xFF65:
				r = '·'
			case 0x2018, 0x2019, 0x2032:
				if company {
					continue
				}
			}
			if company && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
				pending = true
				continue
			}
			r = unicode.ToLower(r)
		}
		if pending && last >= 0 && keepSpace(last, r, company) {
			b = append(b, ' ')
		}
		pending = false
		b = utf8.AppendRune(b, r)
		last = r
	}
	if company {
		b = companySuffix(b)
	}
	if string(b) == s {
		return s
	}
	return string(b)
}

// keepSpace decides whether a word break between prev and next is kept.
func keepSpace(prev, next rune, company bool) bool {
	if company {
		return isWordRune(prev) && isWordRune(next)
	}
	return !(hanLike(prev) && hanLike(next))
}

func hanLike(r rune) bool { return r == '·' || isHan(r) }

// isWordRune: letters and digits that are not Han.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
	}
	return !isHan(r) && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

var (
	limitedLiability = []byte("有限责任公司")
	responsibility   = len("有限") // offset of 责任 inside 有限责任公司
)

// legalForms are the Latin legal-form words CompanyName removes from the end.
var legalForms = [...]string{"co", "company", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "plc"}

// companySuffix rewrites 有限责任公司 to 有限公司 and removes trailing Latin
// legal-form words, in place.
func companySuffix(b []byte) []byte {
	for from := 0; ; {
		i := bytes.Index(b[from:], limitedLiability)
		if i < 0 {
			break
		}
		i += from
		// Drop 责任 (two 3-byte runes): 有限责任公司 → 有限公司.
		b = append(b[:i+responsibility], b[i+responsibility+6:]...)
		from = i + len("有限公司")
	}
	for {
		k := len(b)
		for k > 0 && b[k-1] >= 'a' && b[k-1] <= 'z' {
			k--
		}
		if k == len(b) {
			return b
		}
		if prev, _ := utf8.DecodeLastRune(b[:k]); k > 0 && isWordRune(prev) {
			return b // the letters end a longer word: "abcltd", "déco"
		}
		if !isLegalForm(b[k:]) {
			return b
		}
		end := k
		if end > 0 && b[end-1] == ' ' {
			end--
		}
		if end == 0 {
			return b // the legal form is all there is: keep it
		}
		b = b[:end]
	}
}

func isLegalForm(w []byte) bool {
	for _, f := range legalForms {
		if string(w) == f {
			return true
		}
	}
	return false
}
