package files

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"

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
	dec  *encoding.Decoder
	dbuf []byte
	text *textParser // for rejects' raw text
}

func newFixedParser(l *fixedLayout, rel string, o textOptions, loc *time.Location) *fixedParser {
	p := &fixedParser{l: l, rel: rel, o: o, b: rows.NewBuilder(l.e, loc)}
	if o.gb() {
		p.dec = newDecoder(o.encoding)
	}
	p.text = newTextParser(l.e, rel, nil, o, loc)
	return p
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

// utf8 is the record as UTF-8.
func (p *fixedParser) utf8(rec []byte) ([]byte, bool) {
	if !p.o.gb() {
		return rec, utf8.Valid(rec)
	}
	if !hasHigh(rec) {
		return rec, true
	}
	if cap(p.dbuf) < 2*len(rec)+16 {
		p.dbuf = make([]byte, 2*len(rec)+16)
	}
	p.dec.Reset()
	n, _, err := p.dec.Transform(p.dbuf[:cap(p.dbuf)], rec, true)
	if err != nil || bytes.Contains(p.dbuf[:n], replacement) {
		return nil, false
	}
	return p.dbuf[:n], true
}

func (p *fixedParser) row(rec []byte, line int64) *rows.Problem {
	text, ok := p.utf8(rec)
	if !ok {
		return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "bytes that are not valid " + p.o.encoding}
	}
	var cuts []int // byte offsets in text where each column starts, then the end
	if p.l.chars {
		if n := utf8.RuneCount(text); n != p.l.width {
			return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d characters wide, the layout is %d", n, p.l.width)}
		}
		cuts = make([]int, 0, len(p.l.e.Columns)+1)
		off := 0
		for _, c := range p.l.e.Columns {
			cuts = append(cuts, off)
			for k := 0; k < c.Width; k++ {
				_, size := utf8.DecodeRune(text[off:])
				off += size
			}
		}
		cuts = append(cuts, off)
	} else {
		if len(rec) != p.l.width {
			return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d bytes wide, the layout is %d", len(rec), p.l.width)}
		}
		starts := charStarts(rec, p.o.gb())
		cuts = make([]int, 0, len(p.l.e.Columns)+1)
		off := 0
		for _, c := range p.l.e.Columns {
			if !starts(off) {
				return &rows.Problem{Reason: contract.ReasonSplitChar, Detail: fmt.Sprintf("column %s starts at byte %d, inside a %s character", c.Name, off+1, p.o.encoding)}
			}
			cuts = append(cuts, off)
			off += c.Width
		}
		cuts = append(cuts, off)
		if !bytes.Equal(text, rec) { // decoded: cut the raw bytes, decode each value
			text = nil
		}
	}
	b := p.b
	b.Begin()
	for ci, c := range p.l.e.Columns {
		var v []byte
		if text != nil {
			v = text[cuts[ci]:cuts[ci+1]]
		} else {
			var ok bool
			if v, ok = p.utf8(rec[cuts[ci]:cuts[ci+1]]); !ok {
				return &rows.Problem{Reason: contract.ReasonEncoding, Detail: fmt.Sprintf("column %s: bytes that are not valid %s", c.Name, p.o.encoding)}
			}
		}
		if prob := b.Set(ci, trimPad(v)); prob != nil {
			return prob
		}
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
