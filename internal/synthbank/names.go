package synthbank

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Name tables. Every character here is GBK-encodable (the credit feed is GBK),
// and carries its pinyin so that login names and Latin transliterations can be
// derived from the real name.

type hanzi struct{ han, py string }

// surnames are the common Chinese surnames, roughly by frequency; the first
// twenty are drawn more often.
var surnames = []hanzi{
	{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"},
	{"杨", "yang"}, {"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"},
	{"徐", "xu"}, {"孙", "sun"}, {"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"},
	{"郭", "guo"}, {"何", "he"}, {"高", "gao"}, {"林", "lin"}, {"罗", "luo"},
	{"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"}, {"宋", "song"}, {"唐", "tang"},
	{"许", "xu"}, {"韩", "han"}, {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"},
	{"彭", "peng"}, {"曾", "zeng"}, {"肖", "xiao"}, {"田", "tian"}, {"董", "dong"},
	{"袁", "yuan"}, {"潘", "pan"}, {"于", "yu"}, {"蒋", "jiang"}, {"蔡", "cai"},
	{"余", "yu"}, {"杜", "du"}, {"叶", "ye"}, {"程", "cheng"}, {"苏", "su"},
	{"魏", "wei"}, {"吕", "lv"}, {"丁", "ding"}, {"任", "ren"}, {"沈", "shen"},
	{"姚", "yao"}, {"卢", "lu"}, {"姜", "jiang"}, {"崔", "cui"}, {"钟", "zhong"},
	{"谭", "tan"}, {"陆", "lu"}, {"汪", "wang"}, {"范", "fan"}, {"金", "jin"},
	{"石", "shi"}, {"廖", "liao"}, {"贾", "jia"}, {"夏", "xia"}, {"韦", "wei"},
	{"付", "fu"}, {"方", "fang"}, {"白", "bai"}, {"邹", "zou"}, {"孟", "meng"},
	{"熊", "xiong"}, {"秦", "qin"}, {"邱", "qiu"}, {"江", "jiang"}, {"尹", "yin"},
	{"薛", "xue"}, {"闫", "yan"}, {"段", "duan"}, {"雷", "lei"}, {"侯", "hou"},
	{"龙", "long"}, {"史", "shi"}, {"陶", "tao"}, {"黎", "li"}, {"贺", "he"},
	{"顾", "gu"}, {"毛", "mao"}, {"郝", "hao"}, {"龚", "gong"}, {"邵", "shao"},
	{"万", "wan"}, {"钱", "qian"}, {"严", "yan"}, {"武", "wu"}, {"戴", "dai"},
	{"莫", "mo"}, {"孔", "kong"}, {"向", "xiang"}, {"汤", "tang"}, {"欧阳", "ouyang"},
	{"司马", "sima"}, {"上官", "shangguan"}, {"诸葛", "zhuge"},
}

var maleGiven = []hanzi{
	{"伟", "wei"}, {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"勇", "yong"},
	{"杰", "jie"}, {"涛", "tao"}, {"斌", "bin"}, {"超", "chao"}, {"明", "ming"},
	{"刚", "gang"}, {"平", "ping"}, {"辉", "hui"}, {"鹏", "peng"}, {"华", "hua"},
	{"飞", "fei"}, {"鑫", "xin"}, {"波", "bo"}, {"宇", "yu"}, {"浩", "hao"},
	{"凯", "kai"}, {"健", "jian"}, {"俊", "jun"}, {"帆", "fan"}, {"帅", "shuai"},
	{"旭", "xu"}, {"宁", "ning"}, {"龙", "long"}, {"林", "lin"}, {"阳", "yang"},
	{"建", "jian"}, {"国", "guo"}, {"志", "zhi"}, {"文", "wen"}, {"东", "dong"},
	{"海", "hai"}, {"峰", "feng"}, {"亮", "liang"}, {"成", "cheng"}, {"博", "bo"},
	{"晨", "chen"}, {"天", "tian"}, {"翔", "xiang"}, {"泽", "ze"}, {"睿", "rui"},
	{"源", "yuan"}, {"立", "li"}, {"庆", "qing"}, {"荣", "rong"}, {"德", "de"},
}

var femaleGiven = []hanzi{
	{"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"}, {"丽", "li"},
	{"艳", "yan"}, {"娟", "juan"}, {"霞", "xia"}, {"秀", "xiu"}, {"玲", "ling"},
	{"婷", "ting"}, {"雪", "xue"}, {"慧", "hui"}, {"琳", "lin"}, {"颖", "ying"},
	{"倩", "qian"}, {"洁", "jie"}, {"梅", "mei"}, {"琴", "qin"}, {"云", "yun"},
	{"莉", "li"}, {"燕", "yan"}, {"红", "hong"}, {"晶", "jing"}, {"欣", "xin"},
	{"怡", "yi"}, {"佳", "jia"}, {"雯", "wen"}, {"萍", "ping"}, {"淑", "shu"},
	{"兰", "lan"}, {"月", "yue"}, {"蕾", "lei"}, {"璐", "lu"}, {"瑶", "yao"},
	{"诗", "shi"}, {"梦", "meng"}, {"悦", "yue"}, {"涵", "han"}, {"琪", "qi"},
	{"晓", "xiao"}, {"春", "chun"}, {"英", "ying"}, {"凤", "feng"}, {"丹", "dan"},
}

// neutralGiven may start a two-character given name of either gender.
var neutralGiven = []hanzi{
	{"子", "zi"}, {"思", "si"}, {"嘉", "jia"}, {"家", "jia"}, {"雨", "yu"},
	{"小", "xiao"}, {"晓", "xiao"}, {"文", "wen"}, {"一", "yi"}, {"欣", "xin"},
	{"梓", "zi"}, {"宇", "yu"}, {"俊", "jun"}, {"志", "zhi"}, {"海", "hai"},
}

// traditional maps simplified characters used above to their traditional
// forms (陈→陳, 张→張, 国→國 …): the same person keyed in a Hong Kong or
// Taiwan style, or an old system.
var traditional = map[rune]rune{
	'陈': '陳', '张': '張', '国': '國', '刘': '劉', '杨': '楊', '黄': '黃', '赵': '趙',
	'吴': '吳', '孙': '孫', '马': '馬', '郑': '鄭', '罗': '羅', '谢': '謝', '韩': '韓',
	'冯': '馮', '邓': '鄧', '叶': '葉', '苏': '蘇', '吕': '呂', '卢': '盧', '钟': '鍾',
	'谭': '譚', '陆': '陸', '贾': '賈', '邹': '鄒', '龙': '龍', '顾': '顧', '龚': '龔',
	'钱': '錢', '汤': '湯', '许': '許', '蒋': '蔣', '闫': '閆', '贺': '賀', '严': '嚴',
	'伟': '偉', '强': '強', '军': '軍', '涛': '濤', '辉': '輝', '鹏': '鵬', '华': '華',
	'飞': '飛', '凯': '凱', '帅': '帥', '宁': '寧', '阳': '陽', '东': '東', '丽': '麗',
	'艳': '艷', '颖': '穎', '洁': '潔', '云': '雲', '红': '紅', '兰': '蘭', '瑶': '瑤',
	'诗': '詩', '梦': '夢', '晓': '曉', '庆': '慶', '荣': '榮', '凤': '鳳', '锐': '銳',
	'达': '達', '兴': '興', '丰': '豐', '鸿': '鴻', '远': '遠', '诚': '誠', '创': '創',
	'汇': '匯', '腾': '騰', '润': '潤', '实': '實', '业': '業', '电': '電', '机': '機',
	'贸': '貿', '进': '進', '环': '環', '医': '醫', '药': '藥', '车': '車', '农': '農',
	'产': '產', '资': '資', '网': '網', '络': '絡', '软': '軟', '纺': '紡', '织': '織',
	'运': '運', '输': '輸', '团': '團', '广': '廣', '门': '門', '厦': '廈', '长': '長',
	'济': '濟', '汉': '漢', '务': '務', '经': '經', '营': '營', '开': '開', '关': '關',
	'银': '銀', '证': '證', '险': '險', '筑': '築', '装': '裝', '饮': '飲', '质': '質',
	'检': '檢', '测': '測', '仪': '儀', '钢': '鋼', '铁': '鐵', '矿': '礦', '热': '熱',
	'风': '風', '储': '儲', '学': '學', '乐': '樂', '传': '傳', '体': '體', '设': '設',
	'计': '計', '责': '責', '限': '限', '动': '動', '对': '對', '发': '發', '术': '術',
	'应': '應', '链': '鏈', '级': '級', '货': '貨', '际': '際', '态': '態', '庄': '莊',
	'无': '無', '锡': '錫', '莞': '莞', '佛': '佛', '岛': '島', '宾': '賓', '圳': '圳',
	'宝': '寶', '饰': '飾', '数': '數', '码': '碼', '这': '這', '内': '內', '现': '現',
	'宏': '宏', '泰': '泰', '盛': '盛', '瑞': '瑞', '鑫': '鑫', '隆': '隆', '恒': '恆',
	'贷': '貸', '优': '優', '购': '購', '条': '條', '万': '萬', '丁': '丁', '邵': '邵',
}

func toTraditional(s string) string {
	var b strings.Builder
	for _, r := range s {
		if t, ok := traditional[r]; ok {
			r = t
		}
		b.WriteRune(r)
	}
	return b.String()
}

// city is where a company is registered: its name, the pinyin used in English
// names, and a real county-level division code for IDs and credit codes.
type city struct{ name, en, region string }

var cities = []city{
	{"上海", "Shanghai", "310115"}, {"北京", "Beijing", "110105"}, {"深圳", "Shenzhen", "440305"},
	{"广州", "Guangzhou", "440106"}, {"杭州", "Hangzhou", "330106"}, {"苏州", "Suzhou", "320505"},
	{"南京", "Nanjing", "320102"}, {"成都", "Chengdu", "510104"}, {"武汉", "Wuhan", "420106"},
	{"天津", "Tianjin", "120101"}, {"重庆", "Chongqing", "500103"}, {"宁波", "Ningbo", "330205"},
	{"青岛", "Qingdao", "370202"}, {"厦门", "Xiamen", "350203"}, {"无锡", "Wuxi", "320211"},
	{"东莞", "Dongguan", "441900"}, {"佛山", "Foshan", "440604"}, {"合肥", "Hefei", "340104"},
	{"西安", "Xi'an", "610113"}, {"长沙", "Changsha", "430102"}, {"郑州", "Zhengzhou", "410105"},
	{"济南", "Jinan", "370102"},
}

// residentRegions are real county-level division codes (GB/T 2260) across the
// provinces, used as the first six digits of resident IDs.
var residentRegions = []string{
	"110101", "110105", "110108", "120101", "120104", "130102", "130104", "140105",
	"150102", "210102", "210202", "220102", "230102", "310101", "310104", "310110",
	"310115", "320102", "320211", "320505", "320583", "330106", "330205", "330302",
	"340104", "350203", "350102", "360102", "370102", "370202", "410105", "420106",
	"430102", "440103", "440106", "440304", "440305", "440604", "441900", "450103",
	"460105", "500103", "510104", "510107", "520102", "530102", "540102", "610113",
	"620102", "630102", "640104", "650102",
}

// brandChars build the distinctive part of a company name (华锐, 恒泰 …).
var brandChars = []hanzi{
	{"华", "hua"}, {"锐", "rui"}, {"恒", "heng"}, {"泰", "tai"}, {"盛", "sheng"},
	{"达", "da"}, {"鑫", "xin"}, {"宏", "hong"}, {"远", "yuan"}, {"兴", "xing"},
	{"隆", "long"}, {"丰", "feng"}, {"鸿", "hong"}, {"瑞", "rui"}, {"德", "de"},
	{"信", "xin"}, {"诚", "cheng"}, {"嘉", "jia"}, {"博", "bo"}, {"创", "chuang"},
	{"新", "xin"}, {"海", "hai"}, {"天", "tian"}, {"中", "zhong"}, {"金", "jin"},
	{"安", "an"}, {"宇", "yu"}, {"星", "xing"}, {"光", "guang"}, {"明", "ming"},
	{"永", "yong"}, {"正", "zheng"}, {"通", "tong"}, {"汇", "hui"}, {"凯", "kai"},
	{"腾", "teng"}, {"飞", "fei"}, {"龙", "long"}, {"源", "yuan"}, {"辉", "hui"},
	{"峰", "feng"}, {"润", "run"}, {"和", "he"}, {"美", "mei"}, {"康", "kang"},
	{"利", "li"}, {"佳", "jia"}, {"力", "li"}, {"科", "ke"}, {"景", "jing"},
}

// industry is a company's line of business with its GB/T 4754 section letter.
// industry is a line of business with its GB/T 4754-2017 code: the
// section letter and the division (two digits), or a class (four) where
// the groups differ within the division (solar against coal-fired power).
type industry struct {
	word, en string
	code     string
}

var industries = []industry{
	{"精密机械", "Precision Machinery", "C34"}, {"电子科技", "Electronic Technology", "C39"},
	{"化工", "Chemical", "C26"}, {"纺织", "Textile", "C17"}, {"医药", "Pharmaceutical", "C27"},
	{"食品", "Food", "C14"}, {"汽车零部件", "Auto Parts", "C36"}, {"新材料", "New Materials", "C30"},
	{"进出口贸易", "Import & Export Trading", "F51"}, {"商贸", "Trading", "F52"},
	{"供应链管理", "Supply Chain Management", "L72"}, {"建筑工程", "Construction Engineering", "E48"},
	{"建设", "Construction", "E47"}, {"物流", "Logistics", "G59"},
	{"国际货运代理", "International Freight Forwarding", "G58"}, {"软件技术", "Software Technology", "I65"},
	{"信息技术", "Information Technology", "I65"}, {"新能源", "New Energy", "D4416"},
	{"电力", "Power", "D4411"}, {"房地产开发", "Real Estate Development", "K70"},
	{"物业管理", "Property Management", "K70"}, {"农业科技", "Agricultural Technology", "A05"},
	{"矿业", "Mining", "B08"}, {"酒店管理", "Hotel Management", "H61"},
	{"餐饮管理", "Catering Management", "H62"}, {"投资管理", "Investment Management", "L72"},
	{"融资租赁", "Financial Leasing", "J66"}, {"环保科技", "Environmental Technology", "N77"},
	{"检测技术", "Testing Technology", "M74"}, {"教育科技", "Education Technology", "P83"},
	{"医疗管理", "Healthcare Management", "Q84"}, {"文化传媒", "Culture & Media", "R86"},
	{"家政服务", "Housekeeping Services", "O80"},
}

// tradeIndustries are the lines of business that plausibly settle in foreign
// currency every day (the cross-border behaviours draw from them).
func isTradeIndustry(ind *industry) bool {
	switch ind.word {
	case "进出口贸易", "商贸", "供应链管理", "国际货运代理", "电子科技", "纺织", "汽车零部件", "精密机械":
		return true
	}
	return false
}

type legalForm struct{ cn, en string }

var legalForms = []legalForm{
	{"有限公司", "Co., Ltd."}, {"有限公司", "Co., Ltd."}, {"有限公司", "Co., Ltd."},
	{"有限公司", "Co., Ltd."}, {"有限公司", "Co., Ltd."}, {"有限公司", "Co., Ltd."},
	{"股份有限公司", "Corporation"}, {"股份有限公司", "Co., Ltd."},
	{"有限责任公司", "Co., Ltd."}, {"集团有限公司", "Group Co., Ltd."},
}

// personName draws a Chinese name consistent with the gender.
func personName(r *rand.Rand, male bool) (sur hanzi, given []hanzi) {
	if r.IntN(100) < 60 {
		sur = surnames[r.IntN(20)]
	} else {
		sur = surnames[r.IntN(len(surnames))]
	}
	pool := femaleGiven
	if male {
		pool = maleGiven
	}
	switch n := r.IntN(100); {
	case n < 28:
		given = []hanzi{pool[r.IntN(len(pool))]}
	case n < 55:
		given = []hanzi{neutralGiven[r.IntN(len(neutralGiven))], pool[r.IntN(len(pool))]}
	default:
		given = []hanzi{pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]}
	}
	return sur, given
}

func joinHan(sur hanzi, given []hanzi) string {
	s := sur.han
	for _, g := range given {
		s += g.han
	}
	return s
}

// pinyinName renders "ZHANG XIAOMING" or "Zhang Xiaoming".
func pinyinName(sur hanzi, given []hanzi, upper bool) string {
	g := ""
	for _, h := range given {
		g += h.py
	}
	if upper {
		return strings.ToUpper(sur.py) + " " + strings.ToUpper(g)
	}
	return capitalise(sur.py) + " " + capitalise(g)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// toFullWidth turns ASCII letters, digits, brackets and spaces into their
// full-width forms (Ａ, （, 　), as some input methods produce them.
func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			r = '\u3000'
		case r > ' ' && r < 0x7f:
			r = r - 0x21 + 0xFF01
		}
		b.WriteRune(r)
	}
	return b.String()
}

// halfWidthBrackets turns full-width brackets into ASCII ones: "（上海）" → "(上海)".
func halfWidthBrackets(s string) string {
	return strings.NewReplacer("（", "(", "）", ")").Replace(s)
}

// insertSpace puts a space after the first rune (the surname of a person, or
// the city of a company) or, with odd, at the end.
func insertSpace(s string, odd bool) string {
	if odd {
		return s + " "
	}
	_, n := utf8.DecodeRuneInString(s)
	if n >= len(s) {
		return s + " "
	}
	return s[:n] + " " + s[n:]
}

// Merchants and counterparties for card and ebank transactions.
type merchant struct {
	mcc, name string
	min, max  int64 // amount range in CNY cents
}

var merchants = []merchant{
	{"5411", "沃尔玛(深圳福田店)", 2000, 80000}, {"5411", "盒马鲜生", 3000, 60000},
	{"5411", "永辉超市", 2000, 50000}, {"5812", "海底捞火锅", 15000, 120000},
	{"5812", "星巴克|STARBUCKS 国贸店", 3000, 12000}, {"5814", "美团|外卖", 2000, 15000},
	{"5814", "麦当劳", 2500, 9000}, {"5541", "中国石化加油站", 20000, 60000},
	{"4121", "滴滴出行", 1500, 15000}, {"5311", "万象城百货", 20000, 300000},
	{"5732", "苹果直营店", 50000, 1500000}, {"5732", "京东商城", 5000, 500000},
	{"5999", "天猫|淘宝", 3000, 200000}, {"5691", "优衣库", 10000, 80000},
	{"5944", "周大福珠宝", 200000, 3000000}, {"7011", "万豪酒店", 60000, 400000},
	{"4511", "中国国际航空", 80000, 800000}, {"5912", "老百姓大药房", 2000, 30000},
	{"8220", "某大学继续教育学院", 100000, 1500000}, {"5977", "丝芙兰", 20000, 200000},
}

// luxuryMerchants are used for the large purchases of premium-card candidates.
var luxuryMerchants = []merchant{
	{"5944", "周大福珠宝", 500000, 3000000}, {"5311", "SKP百货", 400000, 2500000},
	{"7011", "上海半岛酒店", 300000, 1200000}, {"4511", "中国东方航空|头等舱", 400000, 1500000},
	{"5732", "苹果直营店", 600000, 1500000}, {"5681", "路易威登(恒隆广场)", 800000, 3000000},
}

var domesticBanks = []string{
	"中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "招商银行",
	"浦发银行", "兴业银行", "中信银行", "民生银行", "平安银行", "宁波银行",
}

var foreignBanks = []string{
	"HSBC Hong Kong", "Citibank N.A. New York", "MUFG Bank Tokyo", "Deutsche Bank Frankfurt",
	"DBS Bank Singapore", "Standard Chartered Hong Kong", "BNP Paribas Paris",
}

var foreignPayees = []string{
	"Pacific Components Ltd.", "Nordic Machinery AB", "Osaka Seimitsu K.K.",
	"Global Freight Partners LLC", "Hanseatic Trading GmbH", "Lion City Supplies Pte. Ltd.",
	"Kowloon Electronics Co., Ltd.", "Atlantic Raw Materials Inc.",
}

var billPayees = []string{
	"国家电网", "中国移动", "中国联通", "中国电信", "自来水公司", "燃气集团", "物业服务中心", "税务局",
}
