package files

import (
	"slices"
	"strings"
	"testing"
)

// CRLF files in every text format. The first 1 MB read ends between a
// record's "\r" and its "\n" (or right after them): the splitter cuts only
// after a newline, so the "\r" never ends up alone at the end of a chunk, no
// value keeps a "\r", and the last line loads whatever it ends with.
func TestCRLF_LineEndingOnChunkBoundaryAndLastLineWithoutNewline(t *testing.T) {
	cases := []struct {
		name     string
		boundary string // where the 1 MB read ends in the target record's "\r\n"
		last     string // how the file's last line ends
	}{
		{`read ends between \r and \n, last line has no newline`, `\r|\n`, ""},
		{`read ends right after \r\n, last line ends in \r\n`, `\r\n|`, "\r\n"},
		{`read ends between \r and \n, last line ends in a bare \r`, `\r|\n`, "\r"},
		{`read ends right after \r\n, a stray \r after the last newline is no row`, `\r\n|`, "\r\n\r"},
	}
	for _, f := range []format{csvCustomers, delimitedHolders, jsonlUsers, jsonlGzEvents} {
		for _, c := range cases {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				target := f.record("T0000001", "target") + "\r\n"
				after := f.record("A0000001", "next chunk") + "\r\n" + f.record("Z0000001", "last") + c.last
				at, second := len(target)-1, 0 // "\r" ends the first read; the target opens chunk two
				if c.boundary == `\r\n|` {
					at = len(target) // the target ends the first read; the next record opens chunk two
					second = len(target)
				}
				l := f.straddle(t, "\r\n", target, at, after)
				want := []int{0, l.start + second}
				if got := chunkStarts(t, l.body, f.csvDelim, false, f.firstBodyLine()); !slices.Equal(got, want) {
					t.Fatalf("chunks start at %v, want %v", got, want)
				}
				if c.boundary == `\r|\n` && (l.body[chunkSize-1] != '\r' || l.body[chunkSize] != '\n') {
					t.Fatalf("the read boundary is not inside the \\r\\n")
				}

				res := load(t, f.options(3), f.file, f.fileBytes(t, l.body, "\r\n"), int64(len(l.rows)+3))
				wantRows := append(l.rows,
					f.row("T0000001", "target", l.line),
					f.row("A0000001", "next chunk", l.line+1),
					f.row("Z0000001", "last", l.line+2))
				checkRows(t, res.rows, wantRows)
				checkRejects(t, res.rejects, nil)
				for _, r := range res.rows {
					for k, v := range r {
						if strings.ContainsAny(v, "\r\n") {
							t.Fatalf("column %s keeps a line ending: %q", k, v)
						}
					}
				}
			})
		}
	}
}
