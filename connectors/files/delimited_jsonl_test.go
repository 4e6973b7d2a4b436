package files

import (
	"slices"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// In the delimited format "\|" is a "|" inside a value and "\\" a
// backslash. The chunk boundary falls inside and right after each escape;
// the value comes out unescaped and the fields stay where they belong.
func TestDelimited_EscapedDelimiterOnChunkBoundary(t *testing.T) {
	f := delimitedHolders
	target := f.record("T0000001", `pay\|day\\`) + "\n" // name is `pay|day\`, then the real delimiter
	cases := []struct {
		name string
		at   int
	}{
		{`boundary just before \|`, strings.Index(target, `\|`)},
		{`boundary between \ and |`, strings.Index(target, `\|`) + 1},
		{`boundary right after \|`, strings.Index(target, `\|`) + 2},
		{`boundary between the two backslashes of \\`, strings.Index(target, `\\`) + 1},
		{`boundary between \\ and the real delimiter`, strings.Index(target, `\\`) + 2},
	}
	short := "X0000001|only"
	after := f.record("A0000001", `c:\\\|d`) + "\n" + short + "\n" + f.record("B0000001", "plain") + "\n"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := f.straddle(t, "\n", target, c.at, after)
			if got := chunkStarts(t, l.body, 0, false, 2); !slices.Equal(got, []int{0, l.start}) {
				t.Fatalf("chunks start at %v, want [0 %d]", got, l.start)
			}
			res := load(t, f.options(4), f.file, f.fileBytes(t, l.body, "\n"), int64(len(l.rows)+4))
			checkRows(t, res.rows, append(l.rows,
				f.row("T0000001", `pay|day\`, l.line),
				f.row("A0000001", `c:\|d`, l.line+1),
				f.row("B0000001", "plain", l.line+3)))
			checkRejects(t, res.rejects, []contract.Reject{
				fileReject(f, l.line+2, contract.ReasonMalformed, "2 fields, the header has 8", short),
			})
		})
	}
}

// A JSON line straddles the chunk boundary: inside an escaped quote, inside
// a three-byte UTF-8 character, inside a \u escape. It loads as one record,
// and the line numbers after it hold, plain and gzipped.
func TestJSONL_RecordAcrossChunkBoundaryIsOneRecord(t *testing.T) {
	name := `say \"hi\" 中文 \u4e2d\\`
	value := `say "hi" 中文 中\`
	cases := []struct {
		name string
		at   func(target string) int
	}{
		{`boundary between \ and " of an escaped quote`, func(tg string) int { return strings.Index(tg, `\"`) + 1 }},
		{"boundary after the first byte of 中", func(tg string) int { return strings.Index(tg, "中") + 1 }},
		{"boundary after the second byte of 中", func(tg string) int { return strings.Index(tg, "中") + 2 }},
		{`boundary inside \u4e2d`, func(tg string) int { return strings.Index(tg, `\u4e2d`) + 3 }},
		{"boundary on the closing brace", func(tg string) int { return strings.LastIndexByte(tg, '}') }},
	}
	for _, f := range []format{jsonlUsers, jsonlGzEvents} {
		for _, c := range cases {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				target := f.record("T0000001", name) + "\n"
				noID := `{"name":"无编号"}`
				after := f.record("A0000001", "下一个") + "\n" + noID + "\n" + f.record("B0000001", "plain")
				l := f.straddle(t, "\n", target, c.at(target), after)
				if got := chunkStarts(t, l.body, 0, false, 1); !slices.Equal(got, []int{0, l.start}) {
					t.Fatalf("chunks start at %v, want [0 %d]", got, l.start)
				}
				res := load(t, f.options(4), f.file, f.fileBytes(t, l.body, "\n"), int64(len(l.rows)+4))
				checkRows(t, res.rows, append(l.rows,
					f.row("T0000001", value, l.line),
					f.row("A0000001", "下一个", l.line+1),
					f.row("B0000001", "plain", l.line+3)))
				checkRejects(t, res.rejects, []contract.Reject{
					fileReject(f, l.line+2, contract.ReasonMissing, "column "+f.id+" is required", noID),
				})
			})
		}
	}
}

// A delimiter of several characters ("|@|") separates fields and is never
// escaped: a lone "|" or "@" is part of a value; in a GBK file the
// delimiter is found after decoding, so a trail byte equal to "|" or "@"
// never cuts a field. A row with another field count is a reject.
func TestDelimited_MultiCharacterDelimiter(t *testing.T) {
	feed := contract.BuiltinSet.Feed("card")
	header := "holder_id|@|name|@|id_type|@|id_no|@|mobile|@|birth_date|@|employer|@|annual_income\n"
	body := "H1|@|a|b@c|@|ID_CARD|@||@||@|1980-01-02|@|北京星河|科技|@|12.50\n" +
		"H2|@|only two\n" +
		"H3|@|王小明|@||@||@||@||@||@|\n"
	for _, enc := range []string{"utf-8", "gbk"} {
		t.Run(enc, func(t *testing.T) {
			data := header + body
			if enc == "gbk" {
				data = encodeGB(t, data)
			}
			res := load(t, Options{Contract: feed, Encoding: enc, Delimiter: "|@|", Workers: 2}, "holders_20261120.del", []byte(data), 3)
			if len(res.rows) != 2 || res.rows[0]["name"] != "a|b@c" || res.rows[0]["employer"] != "北京星河|科技" ||
				res.rows[0]["annual_income"] != "12.5" || res.rows[1]["name"] != "王小明" {
				t.Fatalf("rows %v", res.rows)
			}
			if len(res.rejects) != 1 || res.rejects[0].Line != 3 || res.rejects[0].Reason != contract.ReasonMalformed {
				t.Fatalf("rejects %+v", res.rejects)
			}
		})
	}
}
