package files

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

// Fixed-width files (定长文件): one record a line, no header, each column
// at a fixed offset. Widths count bytes as delivered (a GBK Chinese
// character is two) or characters (width_unit: chars). Values are trimmed
// of the spaces that pad them.

// fixedLayout is an entity's column widths.
type fixedLayout struct {
	e     *contract.Entity
	chars bool
	width int // the line's width: the sum of the columns'
}

func newFixedLayout(e *contract.Entity) (*fixedLayout, error) {
	l := &fixedLayout{e: e, chars: e.WidthUnit == "chars"}
	for _, c := range e.Columns {
		if c.Width < 1 {
			return nil, fmt.Errorf("%s: column %s has no width: a fixed-width file needs the contract's widths", e.ID(), c.Name)
		}
		l.width += c.Width
	}
	return l, nil
}

func (l *fixedLayout) unit() string {
	if l.chars {
		return "characters"
	}
	return "bytes"
}

// openFixed checks the first line's width against the layout (a file of
// another width fails whole: the layout changed) and starts the parallel
// parse.
func openFixed(e *contract.Entity, rel string, r io.Reader, closer io.Closer, o textOptions, loc *time.Location, workers int, bytesIn *atomic.Int64) (*orderedReader, error) {
	l, err := newFixedLayout(e)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: reading line 1: %w", rel, err)
	}
	p := newFixedParser(l, rel, o, loc)
	rec := bytes.TrimPrefix(bytes.TrimRight(first, "\r\n"), []byte("\xef\xbb\xbf"))
	if len(rec) > 0 {
		if n, ok := p.lineWidth(rec); ok && n != l.width {
			return nil, fmt.Errorf("%s line 1: %d %s wide, the layout of %s is %d: the file's layout is not the contract's; nothing loaded from this file",
				rel, n, l.unit(), e.ID(), l.width)
		}
	}
	p.release()
	split := lineSplitter(io.MultiReader(bytes.NewReader(first), br), 0, o.gb(), 1, bytesIn)
	return newOrderedReader(e.BatchSchema(), split, func() chunkParser { return newFixedParser(l, rel, o, loc) }, workers, bytesIn, closer), nil
}

type fixedParser struct {
	l    *fixedLayout
	rel  string
	o    textOptions
	b    *rows.Builder
	text *textParser // decodes GBK, and gives rejects their raw text
}

func newFixedParser(l *fixedLayout, rel string, o textOptions, loc *time.Location) *fixedParser {
	return &fixedParser{l: l, rel: rel, o: o, b: rows.NewBuilder(l.e, loc), text: newTextParser(l.e, rel, nil, o, loc)}
}

func (p *fixedParser) release() { p.b.Release() }

func (p *fixedParser) parse(c chunk) parsed {
	defer putChunk(c.data)
	out := parsed{seq: c.seq}
	data := c.data
	line := c.firstLine
	for pos := 0; pos < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		rec := data[pos:end]
		recLine := line
		line++
		pos = end + 1
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
		if len(rec) == 0 {
			if end == len(data) {
				break // no newline after the last record
			}
			out.rows++
			out.rejects = append(out.rejects, p.text.reject(recLine, rec, &rows.Problem{Reason: contract.ReasonMalformed, Detail: "empty line"}))
			continue
		}
		out.rows++
		if prob := p.row(rec, recLine); prob != nil {
			out.rejects = append(out.rejects, p.text.reject(recLine, rec, prob))
		}
	}
	out.rec = p.b.Batch()
	return out
}

// lineWidth is the record's width in the layout's unit; !ok when its bytes
// are not valid in the encoding.
func (p *fixedParser) lineWidth(rec []byte) (int, bool) {
	if !p.l.chars {
		return len(rec), true
	}
	text, ok := p.utf8(rec)
	if !ok {
		return 0, false
	}
	return utf8.RuneCount(text), true
}

// utf8 is b as UTF-8 (b itself when it is UTF-8 or ASCII); !ok when its
// bytes are not valid in the encoding. A decoded result lives in the
// parser's buffer until the next call.
func (p *fixedParser) utf8(b []byte) ([]byte, bool) {
	if !p.o.gb() {
		return b, utf8.Valid(b)
	}
	return p.text.decode(b)
}

// row cuts a line into its columns. Widths in characters: the line is
// decoded, then cut. Widths in bytes: the line is cut as delivered, at
// character boundaries only, and each value decoded.
func (p *fixedParser) row(rec []byte, line int64) *rows.Problem {
	cols := p.l.e.Columns
	b := p.b
	b.Begin()
	if p.l.chars {
		text, ok := p.utf8(rec)
		if !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "bytes that are not valid " + p.o.encoding}
		}
		if n := utf8.RuneCount(text); n != p.l.width {
			return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d characters wide, the layout is %d", n, p.l.width)}
		}
		off := 0
		for ci, c := range cols {
			start := off
			for range c.Width {
				_, size := utf8.DecodeRune(text[off:])
				off += size
			}
			if prob := b.Set(ci, trimPad(text[start:off])); prob != nil {
				return prob
			}
		}
		return b.Commit(line, -1)
	}
	if len(rec) != p.l.width {
		return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d bytes wide, the layout is %d", len(rec), p.l.width)}
	}
	// Every boundary first: a value cut in the middle of a character is
	// not a bad value but a wrong width, and says so.
	starts := charStarts(rec, p.o.gb())
	off := 0
	for _, c := range cols {
		if !starts(off) {
			return &rows.Problem{Reason: contract.ReasonSplitChar, Detail: fmt.Sprintf("column %s starts at byte %d, inside a %s character", c.Name, off+1, p.o.encoding)}
		}
		off += c.Width
	}
	off = 0
	for ci, c := range cols {
		v, ok := p.utf8(rec[off : off+c.Width])
		if !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: fmt.Sprintf("column %s: bytes that are not valid %s", c.Name, p.o.encoding)}
		}
		if prob := b.Set(ci, trimPad(v)); prob != nil {
			return prob
		}
		off += c.Width
	}
	return b.Commit(line, -1)
}

// trimPad removes the spaces (and full-width spaces, U+3000) that pad a
// fixed-width value.
func trimPad(v []byte) []byte {
	return bytes.TrimFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u3000' })
}

// charStarts reports whether a byte offset of rec starts a character: for
// GBK/GB18030 a lead byte (0x81–0xFE) starts two bytes, or four when the
// second is a digit; UTF-8 continuation bytes start nothing.
func charStarts(rec []byte, gb bool) func(int) bool {
	if !gb {
		return func(off int) bool { return off >= len(rec) || utf8.RuneStart(rec[off]) }
	}
	starts := make([]bool, len(rec)+1)
	for i := 0; i < len(rec); {
		starts[i] = true
		switch {
		case rec[i] < 0x81 || rec[i] == 0xFF:
			i++
		case i+1 < len(rec) && rec[i+1] >= 0x30 && rec[i+1] <= 0x39:
			i += 4
		default:
			i += 2
		}
	}
	starts[len(rec)] = true
	return func(off int) bool { return off <= len(rec) && starts[off] }
}
