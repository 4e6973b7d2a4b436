package files

import (
	"slices"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// A quoted CSV field with line endings, doubled quotes and a delimiter in it
// straddles the chunk boundary: the splitter must not cut inside the quotes,
// the record loads whole, and the records and rejects after it keep their
// physical line numbers.
func TestCSV_QuotedNewlineAcrossChunkBoundaryIsOneRecord(t *testing.T) {
	f := csvCustomers
	cases := []struct {
		name string
		at   func(target, eol string) int // byte of the target record on the boundary
	}{
		{"boundary right after the opening quote", func(tg, eol string) int { return strings.Index(tg, `"`) + 1 }},
		{"boundary on the embedded line ending's last byte", func(tg, eol string) int { return strings.Index(tg, eol) + len(eol) - 1 }},
		{"boundary right after the embedded line ending", func(tg, eol string) int { return strings.Index(tg, eol) + len(eol) }},
		{"boundary between doubled quotes", func(tg, eol string) int { return strings.Index(tg, `""hi`) + 1 }},
		{"boundary between the closing quote and the delimiter", func(tg, eol string) int { return strings.Index(tg, `comma"`) + len(`comma"`) }},
		{"boundary on the record's own line ending", func(tg, eol string) int { return len(tg) - 1 }},
	}
	for _, eol := range []string{"\n", "\r\n"} {
		for _, c := range cases {
			t.Run(strings.NewReplacer("\r", "CR", "\n", "LF").Replace(eol)+"/"+c.name, func(t *testing.T) {
				target := f.record("T0000001", `"first line`+eol+`he said ""hi""`+eol+`third, with comma"`) + eol
				value := "first line" + eol + `he said "hi"` + eol + "third, with comma"
				bad := `B0000001,Z,"two` + eol + `lines"` + strings.Repeat(",", 12)
				after := f.record("A0000001", "plain") + eol +
					bad + eol +
					f.record("C0000001", `"after ""reject"""`) + eol
				l := f.straddle(t, eol, target, c.at(target, eol), after)
				if got := chunkStarts(t, l.body, f.csvDelim, false, 2); !slices.Equal(got, []int{0, l.start}) {
					t.Fatalf("chunks start at %v, want [0 %d]: the quoted record must open the second chunk", got, l.start)
				}

				res := load(t, f.options(4), f.file, f.fileBytes(t, l.body, eol), -1)
				want := append(l.rows,
					f.row("T0000001", value, l.line),
					f.row("A0000001", "plain", l.line+3),
					f.row("C0000001", `after "reject"`, l.line+6))
				checkRows(t, res.rows, want)
				checkRejects(t, res.rejects, []contract.Reject{
					fileReject(f, l.line+4, contract.ReasonEnum, `column cust_type: "Z" is not one of [P C]`, bad),
				})
				if res.rowsIn != int64(len(l.rows)+4) {
					t.Errorf("rows in %d, want %d", res.rowsIn, len(l.rows)+4)
				}
			})
		}
	}
}

// One quoted field longer than the 1 MB chunk: the splitter grows its buffer
// instead of cutting the record, and the rows around it load in order.
func TestCSV_RecordLongerThanChunkIsOneRecord(t *testing.T) {
	f := csvCustomers
	long := strings.Repeat("0123456789, \"\"quoted\"\"\n", chunkSize/20) // > 1 MB in the file
	value := strings.ReplaceAll(long, `""`, `"`)
	lines := int64(strings.Count(long, "\n"))
	body := f.record("A0000001", "before") + "\n" +
		f.record("T0000001", `"`+long+`"`) + "\n" +
		f.record("B0000001", "after") + "\n"
	starts := chunkStarts(t, []byte(body), f.csvDelim, false, 2)
	if second := len(f.record("A0000001", "before")) + 1; !slices.Equal(starts, []int{0, second}) {
		t.Fatalf("chunks start at %v, want [0 %d]", starts, second)
	}
	res := load(t, f.options(2), f.file, f.fileBytes(t, []byte(body), "\n"), 3)
	checkRows(t, res.rows, []map[string]string{
		f.row("A0000001", "before", 2),
		f.row("T0000001", value, 3),
		f.row("B0000001", "after", 4+lines),
	})
	checkRejects(t, res.rejects, nil)
}
