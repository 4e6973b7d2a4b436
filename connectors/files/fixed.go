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
	"cdp/connectors/mapping"
	"cdp/connectors/rows"
)

// Fixed-width files (定长文件): one record a line, no header, each column
// at a fixed offset. Widths count bytes as delivered (a GBK Chinese
// character is two) or characters (width_unit: chars). Values are trimmed
// of the spaces that pad them.

func init() {
	registerFormat(contract.Fixed, formatSpec{open: func(a *openArgs) (finisher, error) {
		return openFixed(a.e, a.file.Source, a.r, a.closer, textOptions{encoding: a.encoding}, a.loc, a.workers, a.bytesIn, a.plan)
	}})
}

// fixedLayout is a file's field widths: the contract's columns, or the
// fields a mapping lists.
type fixedLayout struct {
	e      *contract.Entity
	chars  bool
	names  []string
	widths []int
	width  int  // the line's width: the sum of the fields'
	mapped bool // the fields are a mapping's, read through a binding
}

func newFixedLayout(e *contract.Entity, plan *mapping.Plan) (*fixedLayout, error) {
	l := &fixedLayout{e: e, chars: e.WidthUnit == "chars"}
	if plan != nil && plan.Positional() {
		l.mapped = true
		for _, f := range plan.Fields() {
			l.names, l.widths = append(l.names, f.Name), append(l.widths, f.Width)
			l.width += f.Width
		}
		return l, nil
	}
	l.mapped = plan != nil
	for _, c := range e.Columns {
		if c.Width < 1 {
			return nil, fmt.Errorf("%s: column %s has no width: a fixed-width file needs the contract's widths (or a mapping's fields:)", e.ID(), c.Name)
		}
		l.names, l.widths = append(l.names, c.Name), append(l.widths, c.Width)
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
func openFixed(e *contract.Entity, rel string, r io.Reader, closer io.Closer, o textOptions, loc *time.Location, workers int, bytesIn *atomic.Int64, plan *mapping.Plan) (*orderedReader, error) {
	l, err := newFixedLayout(e, plan)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var bind *mapping.Binding
	var pre *preamble
	firstLine := int64(1)
	if plan != nil {
		if pre, err = readPreamble(br, rel, o, plan, true, bytesIn); err != nil {
			return nil, err
		}
		names := make([][]byte, len(l.names))
		for i, n := range l.names {
			names[i] = []byte(n)
		}
		if bind, err = plan.Bind(rel, names, pre.file); err != nil {
			return nil, err
		}
		firstLine = pre.firstLine
	}
	first, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: reading line %d: %w", rel, firstLine, err)
	}
	if firstLine == 1 {
		first = bytes.TrimPrefix(first, []byte("\xef\xbb\xbf")) // a UTF-8 BOM is not data
	}
	p := newFixedParser(l, rel, o, loc, bind)
	rec := bytes.TrimRight(first, "\r\n")
	skip := false
	if bind != nil && len(rec) > 0 {
		if text, ok := p.text.text(rec); ok {
			skip, _ = plan.Skip(text, firstLine)
		}
	}
	if len(rec) > 0 && !skip {
		if n, ok := p.lineWidth(rec); ok && n != l.width {
			p.release()
			return nil, fmt.Errorf("%s line %d: %d %s wide, the layout of %s is %d: the file's layout is not the %s; nothing loaded from this file",
				rel, firstLine, n, l.unit(), e.ID(), l.width, l.source())
		}
	}
	p.release()
	split := lineSplitter(io.MultiReader(bytes.NewReader(first), br), 0, o.gb(), firstLine, bytesIn)
	out := newOrderedReader(e.BatchSchema(), split, func() chunkParser {
		var b *mapping.Binding
		if bind != nil {
			b = bind.Clone()
		}
		return newFixedParser(l, rel, o, loc, b)
	}, workers, bytesIn, closer)
	if pre != nil {
		out.rel, out.counts, out.skipped = rel, pre.file.Counts, pre.firstLine-1
	}
	return out, nil
}

// kind is what the layout's names are: the contract's columns or a
// mapping's fields.
func (l *fixedLayout) kind() string {
	if l.mapped {
		return "field"
	}
	return "column"
}

func (l *fixedLayout) source() string {
	if l.mapped {
		return "mapping's"
	}
	return "contract's"
}

type fixedParser struct {
	l    *fixedLayout
	rel  string
	o    textOptions
	b    *rows.Builder
	text *textParser      // decodes GBK, and gives rejects their raw text
	bind *mapping.Binding // a mapped file
	// A mapped line's values, decoded, before the binding reads them.
	rowbuf []byte
	ends   []int
	fields [][]byte
}

func newFixedParser(l *fixedLayout, rel string, o textOptions, loc *time.Location, bind *mapping.Binding) *fixedParser {
	return &fixedParser{l: l, rel: rel, o: o, b: rows.NewBuilder(l.e, loc), text: newTextParser(l.e, rel, nil, o, loc), bind: bind}
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
		if p.bind != nil && p.bind.Plan().Skips() {
			if skip, count := p.text.skipText(p.bind.Plan(), rec, recLine); skip {
				out.skipped++
				if count != nil {
					out.counts = append(out.counts, *count)
				}
				continue
			}
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
	b := p.b
	b.Begin()
	p.rowbuf, p.ends = p.rowbuf[:0], p.ends[:0]
	if p.l.chars {
		text, ok := p.utf8(rec)
		if !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "bytes that are not valid " + p.o.encoding}
		}
		if n := utf8.RuneCount(text); n != p.l.width {
			return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d characters wide, the layout is %d", n, p.l.width)}
		}
		off := 0
		for fi, w := range p.l.widths {
			start := off
			for range w {
				_, size := utf8.DecodeRune(text[off:])
				off += size
			}
			if prob := p.value(fi, trimPad(text[start:off])); prob != nil {
				return prob
			}
		}
		return p.commit(line)
	}
	if len(rec) != p.l.width {
		return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d bytes wide, the layout is %d", len(rec), p.l.width)}
	}
	// Every boundary first: a value cut in the middle of a character is
	// not a bad value but a wrong width, and says so.
	starts := charStarts(rec, p.o.gb())
	off := 0
	for fi, w := range p.l.widths {
		if !starts(off) {
			return &rows.Problem{Reason: contract.ReasonSplitChar, Detail: fmt.Sprintf("%s %s starts at byte %d, inside a %s character", p.l.kind(), p.l.names[fi], off+1, p.o.encoding)}
		}
		off += w
	}
	off = 0
	for fi, w := range p.l.widths {
		v, ok := p.utf8(rec[off : off+w])
		if !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: fmt.Sprintf("%s %s: bytes that are not valid %s", p.l.kind(), p.l.names[fi], p.o.encoding)}
		}
		if prob := p.value(fi, trimPad(v)); prob != nil {
			return prob
		}
		off += w
	}
	return p.commit(line)
}

// value takes field fi's text: straight into the builder, or kept for the
// binding of a mapped file.
func (p *fixedParser) value(fi int, v []byte) *rows.Problem {
	if p.bind == nil {
		return p.b.Set(fi, v)
	}
	p.rowbuf = append(p.rowbuf, v...)
	p.ends = append(p.ends, len(p.rowbuf))
	return nil
}

func (p *fixedParser) commit(line int64) *rows.Problem {
	if p.bind == nil {
		return p.b.Commit(line, -1)
	}
	p.fields = p.fields[:0]
	start := 0
	for _, end := range p.ends {
		p.fields = append(p.fields, p.rowbuf[start:end])
		start = end
	}
	return p.bind.Row(p.fields, p.b, line)
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
