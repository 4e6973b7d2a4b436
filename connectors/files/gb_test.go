package files

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// The splitter cuts GBK/GB18030 files into chunks before anything is
// decoded. That is only right if no byte of a multibyte character can pass
// for a byte the splitter or the CSV field splitter acts on. Every character
// GB18030 encodes in more than one byte is checked: lead bytes are
// 0x81–0xFE, trail bytes 0x30–0x39 or 0x40–0xFE, so "\n", "\r", '"' and ','
// never occur inside one. '|' and '\' do occur (as trail bytes), which is
// why the delimited format decodes a line before splitting it into fields.
func TestGB18030_MultibyteCharactersNeverContainNewlineQuoteOrComma(t *testing.T) {
	enc := simplifiedchinese.GB18030.NewEncoder()
	var buf [8]byte
	var src [4]byte
	seen := map[byte]bool{}
	n := 0
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		nSrc := utf8.EncodeRune(src[:], r)
		nDst, _, err := enc.Transform(buf[:], src[:nSrc], true)
		if err != nil {
			t.Fatalf("U+%04X: %v", r, err)
		}
		b := buf[:nDst]
		if len(b) < 2 {
			continue
		}
		n++
		for i, c := range b {
			switch {
			case c == '\n' || c == '\r' || c == '"' || c == ',':
				t.Fatalf("U+%04X encodes as % x: byte %d is %q", r, b, i, c)
			case i == 0 && (c < 0x81 || c > 0xFE):
				t.Fatalf("U+%04X encodes as % x: lead byte outside 0x81–0xFE", r, b)
			}
			seen[c] = true
		}
	}
	if n < 1_000_000 {
		t.Fatalf("only %d multibyte characters checked", n)
	}
	if !seen['|'] || !seen['\\'] {
		t.Fatalf("expected '|' and '\\' among the trail bytes (they are why delimited GBK lines are decoded first)")
	}
}

// A field of Chinese text in a GBK or GB18030 file sits on the chunk
// boundary, with the boundary before each of its bytes in turn (so also
// between the lead and trail byte of a two-byte character and inside a
// four-byte GB18030 one). The record moves whole into the next chunk and
// decodes exactly. In the delimited cases the field holds 亅 (81 7C) and ends
// in 乗 (81 5C) just before the real delimiter: byte-wise those read as "|"
// and "\|".
func TestGB_ChineseTextOnChunkBoundaryDecodes(t *testing.T) {
	cases := []struct {
		f        format
		encoding string
		field    string // the field as UTF-8 text, quoting/escaping included
		value    string
	}{
		{csvCustomers, "gbk", "张三亅乗", "张三亅乗"},
		{csvCustomers, "gb18030", `"张𠮷,""乗"""`, `张𠮷,"乗"`},
		{delimitedHolders, "gbk", `亅张\|乗`, "亅张|乗"},
		{delimitedHolders, "gb18030", "𠮷亅乗", "𠮷亅乗"},
	}
	for _, c := range cases {
		f := c.f
		field := encodeGB(t, c.field)
		target := f.record("T0000001", field) + "\n"
		fieldAt := strings.Index(target, field)
		after := f.record("A0000001", encodeGB(t, "李四")) + "\n" +
			f.record("R0000001", "\xff") + "\n"
		badRaw := f.record("R0000001", `\xff`)
		detail := "column name: bytes that are not valid " + c.encoding
		if f.name == "delimited" {
			detail = "bytes that are not valid " + c.encoding // decoded as a whole line
		}
		for k := 0; k <= len(field); k++ {
			t.Run(f.name+"/"+c.encoding+"/boundary before byte "+strconv.Itoa(k)+" of the field", func(t *testing.T) {
				l := f.straddle(t, "\n", target, fieldAt+k, after)
				if got := chunkStarts(t, l.body, f.csvDelim, true, 2); !slices.Equal(got, []int{0, l.start}) {
					t.Fatalf("chunks start at %v, want [0 %d]", got, l.start)
				}
				o := f.options(4)
				o.Encoding = c.encoding
				res := load(t, o, f.file, f.fileBytes(t, l.body, "\n"), int64(len(l.rows)+3))
				checkRows(t, res.rows, append(l.rows,
					f.row("T0000001", c.value, l.line),
					f.row("A0000001", "李四", l.line+1)))
				checkRejects(t, res.rejects, []contract.Reject{
					fileReject(f, l.line+2, contract.ReasonEncoding, detail, badRaw),
				})
			})
		}
	}
}

// A GBK CSV file with "|" as its delimiter: 亅 is 81 7C, so byte-wise its
// trail byte reads as a delimiter, and a quote right after it as the opening
// quote of a field. Decoded, that quote is a bare quote inside an unquoted
// field: that row alone is rejected. The rows after it, up to and past the
// next quote in the file, load as they are, whether the parser (one chunk)
// or the splitter (the first read ends two rows later) sees them first.
// Before the fix the bad row swallowed the next two rows and the control
// file's count failed the whole file.
func TestCSV_GBKPipeDelimitedTrailByteBeforeQuoteRejectsOnlyItsRow(t *testing.T) {
	f := csvCustomers
	f.header = columnNames("credit", "customers", "|")
	f.csvDelim = '|'
	f.record = func(key, name string) string { return key + "|P|" + name + strings.Repeat("|", 12) }
	target := f.record("X0000001", encodeGB(t, `亅"引号`)) + "\n"
	after := f.record("B0000001", encodeGB(t, "正常")) + "\n" +
		f.record("C0000001", encodeGB(t, `"带|引号"`)) + "\n" +
		f.record("D0000001", "end") + "\n"
	for _, c := range []struct {
		name    string
		chunked bool
	}{{"one chunk", false}, {"first read ends inside the next row", true}} {
		t.Run(c.name, func(t *testing.T) {
			l := layout{body: []byte(target + after), line: 2}
			if c.chunked {
				l = f.straddle(t, "\n", target, len(target)+3, after)
			}
			want := []int{0}
			if c.chunked {
				want = append(want, l.start+len(target))
			}
			if got := chunkStarts(t, l.body, f.csvDelim, true, 2); !slices.Equal(got, want) {
				t.Fatalf("chunks start at %v, want %v: the splitter must cut after the rejected row", got, want)
			}
			o := f.options(4)
			o.Encoding, o.Delimiter = "gbk", "|"
			res := load(t, o, f.file, f.fileBytes(t, l.body, "\n"), int64(len(l.rows)+4))
			checkRows(t, res.rows, append(l.rows,
				f.row("B0000001", "正常", l.line+1),
				f.row("C0000001", "带|引号", l.line+2),
				f.row("D0000001", "end", l.line+3)))
			checkRejects(t, res.rejects, []contract.Reject{
				fileReject(f, l.line, contract.ReasonMalformed, "a bare quote inside an unquoted field", f.record("X0000001", `亅"引号`)),
			})
		})
	}
}
