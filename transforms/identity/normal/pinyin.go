package normal

import (
	"sync"
	"unicode/utf8"

	pinyin "github.com/mozillazg/go-pinyin"
)

// Pinyin returns a Latin key for comparing Han and Latin spellings of a
// name: Han characters (simplified first) become toneless pinyin, Latin
// letters are lower-cased (full-width folded, tone marks dropped, ü → v as
// pinyin input methods write it), everything else is dropped, syllables are
// concatenated without spaces:
//
//	"张晓明", "Zhang Xiaoming", "ZHANG XIAOMING", "張曉明" → "zhangxiaoming"
//	"吕伟", "Lü Wei", "LV WEI" → "lvwei";  "西安", "Xi'an" → "xian"
//
// Readings come from github.com/mozillazg/go-pinyin (its first reading, no
// tones, heteronyms off), with two exceptions where that reading is wrong
// for names and would break the comparison:
//
//   - the first Han character of the key takes its surname reading when it
//     is one of the surnames whose everyday reading differs (曾 zeng not
//     ceng, 单 shan, 区 ou, 仇 qiu, 解 xie, 查 zha, 朴 piao, 翟 zhai, 种
//     chong, 缪 miao …, and the compound surnames 尉迟 yuchi, 万俟 moqi, 单于
//     chanyu, 澹台 tantai);
//   - a few place names and words common in company names read as a whole
//     (重庆 chongqing, 厦门 xiamen, 成都 chengdu, 佛山 foshan, 长沙 changsha,
//     长春 changchun, 银行 yinhang …).
func Pinyin(s string) string {
	var arr [64]byte
	b := arr[:0]
	firstHan := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		r = foldWidth(r)
		if r < utf8.RuneSelf {
			switch {
			case r >= 'a' && r <= 'z':
				b = append(b, byte(r))
			case r >= 'A' && r <= 'Z':
				b = append(b, byte(r+'a'-'A'))
			}
			continue
		}
		if !isHan(r) {
			if c := latinBase(r); c != 0 {
				b = append(b, c)
			}
			continue
		}
		r = simplifyRune(r)
		// A two-character reading: compound surname or phrase.
		if i < len(s) && pairStart(r) {
			r2, n2 := utf8.DecodeRuneInString(s[i:])
			r2 = simplifyRune(r2)
			if py, ok := pairReading(r, r2, firstHan); ok {
				b = append(b, py...)
				i += n2
				firstHan = false
				continue
			}
		}
		if firstHan {
			firstHan = false
			if py := surnameReading(r); py != "" {
				b = append(b, py...)
				continue
			}
		}
		b = appendHanPinyin(b, r)
	}
	return string(b)
}

// appendHanPinyin appends go-pinyin's first reading of r without tones.
// This is what pinyin.LazyPinyin(string(r), pinyin.NewArgs()) returns
// (TestPinyinMatchesLibrary checks every character of the dictionary), but
// without its regular expressions and allocations: the basic CJK block is
// read from a dense table built on first use, other characters from the
// library's map.
func appendHanPinyin(b []byte, r rune) []byte {
	if i := r - t2sBase; i >= 0 && int(i) < len(t2s) {
		t := hanTable()
		return append(b, t.syllables[t.index[i]]...)
	}
	reading, ok := pinyin.PinyinDict[int(r)]
	if !ok {
		return b
	}
	return appendToneless(b, reading)
}

// appendToneless appends the first reading of a comma-separated list of
// toned readings, tone marks dropped.
func appendToneless(b []byte, reading string) []byte {
	for i := 0; i < len(reading); {
		c := reading[i]
		if c == ',' {
			break
		}
		if c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		tr, n := utf8.DecodeRuneInString(reading[i:])
		i += n
		if base := latinBase(tr); base != 0 {
			b = append(b, base)
		}
	}
	return b
}

// hanReadings is the dense reading table of U+4E00..U+9FFF: index holds a
// syllable number per character (0 = no reading, syllables[0] = "").
type hanReadings struct {
	index     [len(t2s)]uint16
	syllables []string
}

var hanTable = sync.OnceValue(func() *hanReadings {
	t := &hanReadings{syllables: []string{""}}
	ids := map[string]uint16{"": 0}
	var buf []byte
	for i := range t.index {
		reading, ok := pinyin.PinyinDict[t2sBase+i]
		if !ok {
			continue
		}
		buf = appendToneless(buf[:0], reading)
		id, ok := ids[string(buf)]
		if !ok {
			id = uint16(len(t.syllables))
			ids[string(buf)] = id
			t.syllables = append(t.syllables, string(buf))
		}
		t.index[i] = id
	}
	return t
})

// latinBase maps a Latin letter with a pinyin tone mark, or ü, to the ASCII
// letter a pinyin key uses (ü → v); 0 for anything else.
func latinBase(r rune) byte {
	switch r {
	case 'ā', 'á', 'ǎ', 'à', 'Ā', 'Á', 'Ǎ', 'À':
		return 'a'
	case 'ē', 'é', 'ě', 'è', 'Ē', 'É', 'Ě', 'È', 'ê', 'Ê':
		return 'e'
	case 'ī', 'í', 'ǐ', 'ì', 'Ī', 'Í', 'Ǐ', 'Ì':
		return 'i'
	case 'ō', 'ó', 'ǒ', 'ò', 'Ō', 'Ó', 'Ǒ', 'Ò':
		return 'o'
	case 'ū', 'ú', 'ǔ', 'ù', 'Ū', 'Ú', 'Ǔ', 'Ù':
		return 'u'
	case 'ü', 'ǖ', 'ǘ', 'ǚ', 'ǜ', 'Ü', 'Ǖ', 'Ǘ', 'Ǚ', 'Ǜ':
		return 'v'
	case 'ń', 'ň', 'ǹ', 'Ń', 'Ň', 'Ǹ':
		return 'n'
	case 'ḿ', 'Ḿ':
		return 'm'
	}
	return 0
}

// surnameReading is the reading of a single-character surname whose
// go-pinyin default (its everyday reading) is not the surname's. Only
// surnames with one established reading are listed: 乐 (yue/le), 盖 (ge/gai)
// and 覃 (qin/tan) are read both ways and keep the default.
func surnameReading(r rune) string {
	switch r {
	case '曾':
		return "zeng"
	case '单':
		return "shan"
	case '区':
		return "ou"
	case '仇':
		return "qiu"
	case '解':
		return "xie"
	case '查':
		return "zha"
	case '朴':
		return "piao"
	case '翟':
		return "zhai"
	case '种':
		return "chong"
	case '缪':
		return "miao"
	case '召':
		return "shao"
	case '秘':
		return "bi"
	case '折':
		return "she"
	case '薄':
		return "bo"
	case '阚':
		return "kan"
	case '隗':
		return "wei"
	case '乜':
		return "nie"
	case '祭':
		return "zhai"
	case '员':
		return "yun"
	case '藏':
		return "zang"
	}
	return ""
}

// pairStart reports the first characters of pairReading's pairs.
func pairStart(r rune) bool {
	switch r {
	case '尉', '万', '单', '澹', '重', '厦', '成', '首', '长', '银', '佛', '番', '乐', '都', '蚌', '六':
		return true
	}
	return false
}

// pairReading reads two characters as one word: a compound surname (only at
// the start) or a place name or word whose first character's default
// reading is wrong there.
func pairReading(r1, r2 rune, first bool) (string, bool) {
	if first {
		switch [2]rune{r1, r2} {
		case [2]rune{'尉', '迟'}:
			return "yuchi", true
		case [2]rune{'万', '俟'}:
			return "moqi", true
		case [2]rune{'单', '于'}:
			return "chanyu", true
		case [2]rune{'澹', '台'}:
			return "tantai", true
		}
	}
	switch [2]rune{r1, r2} {
	case [2]rune{'重', '庆'}:
		return "chongqing", true
	case [2]rune{'厦', '门'}:
		return "xiamen", true
	case [2]rune{'成', '都'}:
		return "chengdu", true
	case [2]rune{'首', '都'}:
		return "shoudu", true
	case [2]rune{'长', '沙'}:
		return "changsha", true
	case [2]rune{'长', '春'}:
		return "changchun", true
	case [2]rune{'长', '安'}:
		return "changan", true
	case [2]rune{'长', '江'}:
		return "changjiang", true
	case [2]rune{'长', '城'}:
		return "changcheng", true
	case [2]rune{'银', '行'}:
		return "yinhang", true
	case [2]rune{'佛', '山'}:
		return "foshan", true
	case [2]rune{'长', '治'}:
		return "changzhi", true
	case [2]rune{'番', '禺'}:
		return "panyu", true
	case [2]rune{'乐', '清'}:
		return "yueqing", true
	case [2]rune{'都', '江'}:
		return "dujiang", true
	case [2]rune{'蚌', '埠'}:
		return "bengbu", true
	case [2]rune{'六', '安'}:
		return "luan", true
	}
	return "", false
}
