package normal

import (
	"strings"
	"testing"

	pinyin "github.com/mozillazg/go-pinyin"
)

func TestPinyinEqualities(t *testing.T) {
	groups := []struct {
		name string
		want string
		ins  []string
	}{
		{"Han, Latin, upper-case Latin and traditional spell the same name", "zhangxiaoming",
			[]string{"张晓明", "Zhang Xiaoming", "ZHANG XIAOMING", "張曉明", "zhang xiao ming", "ＺＨＡＮＧ\u3000ＸＩＡＯＭＩＮＧ", "张 晓明"}},
		{"ü is written v, as the generator and input methods do", "lvwei",
			[]string{"吕伟", "呂偉", "LV WEI", "Lü Wei", "LÜ WEI", "Lǚ Wěi"}},
		{"compound surname", "ouyangnana", []string{"欧阳娜娜", "歐陽娜娜", "Ouyang Nana", "OUYANG NANA"}},
		{"曾 as a surname reads zeng", "zengfang", []string{"曾芳", "Zeng Fang", "ZENG FANG"}},
		{"单 as a surname reads shan", "shanwei", []string{"单伟", "單偉", "Shan Wei"}},
		{"区 as a surname reads ou", "oujiahui", []string{"区嘉辉", "Ou Jiahui"}},
		{"解 as a surname reads xie", "xiejun", []string{"解军", "Xie Jun"}},
		{"compound surname 尉迟", "yuchigong", []string{"尉迟恭", "Yuchi Gong"}},
		{"apostrophe and place name", "xian", []string{"西安", "Xi'an", "XI'AN"}},
		{"重庆 reads chongqing", "chongqing", []string{"重庆", "重慶", "Chongqing"}},
		{"厦门 reads xiamen", "xiamen", []string{"厦门", "廈門", "Xiamen"}},
		{"成都 reads chengdu", "chengdu", []string{"成都", "Chengdu"}},
		{"长沙 reads changsha", "changsha", []string{"长沙", "長沙", "Changsha"}},
		{"digits, brackets and punctuation are dropped", "huaruishanghai",
			[]string{"华锐（上海）", "华锐(上海)", "Huarui (Shanghai) 1", "华锐·上海"}},
		{"empty", "", []string{"", "123", " ()"}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, in := range g.ins {
				if got := Pinyin(in); got != g.want {
					t.Errorf("Pinyin(%q) = %q, want %q", in, got, g.want)
				}
			}
		})
	}
}

func TestPinyinSurnameReadingOnlyAtTheStart(t *testing.T) {
	// 曾 inside a given name keeps the library's reading.
	if got := Pinyin("王曾"); got != "wangceng" {
		t.Errorf("Pinyin(王曾) = %q, want wangceng", got)
	}
}

// TestPinyinMatchesLibrary checks that the allocation-free reading of each
// character equals go-pinyin's own output, over its whole dictionary.
func TestPinyinMatchesLibrary(t *testing.T) {
	args := pinyin.NewArgs()
	n := 0
	for code := range pinyin.PinyinDict {
		r := rune(code)
		want := strings.Join(pinyin.LazyPinyin(string(r), args), "")
		got := string(appendHanPinyin(nil, r))
		if got != want {
			t.Errorf("%c U+%04X: got %q, go-pinyin %q", r, r, got, want)
			if n++; n > 20 {
				t.FailNow()
			}
		}
	}
}

// TestPinyinOfGeneratorNames compares the key of every name character the
// synthetic generator uses with the pinyin it writes for it (names.go), so
// a Han name and its generated transliteration meet.
func TestPinyinOfGeneratorNames(t *testing.T) {
	for han, py := range generatorReadings(t) {
		// Surnames are read at the start of a key, which is where they are.
		if got := Pinyin(han); got != py {
			t.Errorf("Pinyin(%s) = %q, generator writes %q", han, got, py)
		}
	}
}

// TestPinyinOfGeneratorCities compares city names with their English
// spelling in the generator's English company names.
func TestPinyinOfGeneratorCities(t *testing.T) {
	cities := map[string]string{
		"上海": "Shanghai", "北京": "Beijing", "深圳": "Shenzhen", "广州": "Guangzhou", "杭州": "Hangzhou",
		"苏州": "Suzhou", "南京": "Nanjing", "成都": "Chengdu", "武汉": "Wuhan", "天津": "Tianjin",
		"重庆": "Chongqing", "宁波": "Ningbo", "青岛": "Qingdao", "厦门": "Xiamen", "无锡": "Wuxi",
		"东莞": "Dongguan", "佛山": "Foshan", "合肥": "Hefei", "西安": "Xi'an", "长沙": "Changsha",
		"郑州": "Zhengzhou", "济南": "Jinan",
	}
	for han, en := range cities {
		if Pinyin(han) != Pinyin(en) {
			t.Errorf("Pinyin(%s) = %q, Pinyin(%s) = %q", han, Pinyin(han), en, Pinyin(en))
		}
	}
}
