package files

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
	"cdp/connectors/rows"
)

// textOptions describe a delimited text file: RFC 4180 CSV, or the card
// system's unquoted format where the delimiter inside a value is escaped with
// a backslash.
type textOptions struct {
	delim    byte
	quoted   bool   // true: RFC 4180 quoting; false: backslash escapes
	encoding string // utf-8, gbk or gb18030
	// delimSeq, when set, is a delimiter of several bytes ("|@|"), for
	// the unquoted format: it is never escaped.
	delimSeq []byte
	// ragged: rows may end early or carry empty cells past the header (a
	// spreadsheet's rows): short rows are padded, empty extra cells dropped.
	ragged bool
	// laxQuotes (a mapping's lax_quotes): a quote inside an unquoted field
	// is an ordinary character, and text after a closing quote belongs to
	// the field, as Excel and Python's csv module read them.
	laxQuotes bool
}

func (o textOptions) gb() bool { return o.encoding == "gbk" || o.encoding == "gb18030" }

// decodeFirst: a GBK trail byte can equal a delimiter of 0x40 or above (or
// the backslash escape), so such files are decoded line by line before they
// are split. Commas, quotes and newlines never occur inside a GBK character.
func (o textOptions) decodeFirst() bool { return o.gb() && (o.delim >= 0x40 || !o.quoted) }

func newDecoder(enc string) *encoding.Decoder {
	// GB18030 is a superset of GBK: one decoder reads both.
	return simplifiedchinese.GB18030.NewDecoder()
}

var replacement = []byte("\uFFFD")

// header is a file's first line mapped onto the contract.
type header struct {
	names   [][]byte
	mapping []int // header position → contract column, -1 = unknown (kept in _extra)
}

func mapHeader(e *contract.Entity, names [][]byte, rel string) (*header, error) {
	h := &header{names: names, mapping: make([]int, len(names))}
	seen := map[string]bool{}
	for i, n := range names {
		name := string(bytes.TrimSpace(n))
		if name == "" {
			h.mapping[i] = -1 // an unnamed column (a merged header cell): its values go to _extra as _N
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("%s line 1: column %q appears twice in the header", rel, name)
		}
		seen[name] = true
		h.mapping[i] = -1
		for ci, c := range e.Columns {
			if c.Name == name {
				h.mapping[i] = ci
			}
		}
	}
	var missing []string
	for _, c := range e.Columns {
		if !seen[c.Name] && !c.Optional {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s line 1: header lacks required column(s) %v of %s; nothing loaded from this file", rel, missing, e.ID())
	}
	return h, nil
}

func init() {
	open := func(a *openArgs) (finisher, error) {
		o := textOptions{quoted: a.format == contract.CSV, encoding: a.encoding}
		switch {
		case len(a.delimiter) == 1:
			o.delim = a.delimiter[0]
		case len(a.delimiter) > 1 && a.format == contract.Delimited:
			o.delimSeq = []byte(a.delimiter)
		case len(a.delimiter) > 1:
			return nil, fmt.Errorf("%s: a CSV delimiter is one byte, not %q", a.file.Source, a.delimiter)
		}
		if o.delim == 0 && o.delimSeq == nil {
			o.delim = ','
			if a.format == contract.Delimited {
				o.delim = '|'
			}
		}
		return openText(a.e, a.file.Source, a.r, a.closer, o, a.loc, a.workers, a.bytesIn, a.plan)
	}
	registerFormat(contract.CSV, formatSpec{open: open})
	registerFormat(contract.Delimited, formatSpec{open: open})
}

// openText reads the header and starts the parallel parse of the rest. A
// mapping (plan, may be nil) first reads the banner, finds the header or
// takes its field list, and binds it onto the contract.
func openText(e *contract.Entity, rel string, r io.Reader, closer io.Closer, o textOptions, loc *time.Location, workers int, bytesIn *atomic.Int64, plan *mapping.Plan) (*orderedReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if plan != nil {
		return openMappedText(e, rel, br, closer, o, loc, workers, bytesIn, plan)
	}
	first, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: reading header: %w", rel, err)
	}
	if len(first) == 0 {
		return nil, fmt.Errorf("%s: empty file, no header row", rel)
	}
	bytesIn.Add(int64(len(first)))
	first = bytes.TrimPrefix(bytes.TrimRight(first, "\r\n"), []byte("\xef\xbb\xbf"))
	if o.gb() {
		dec := newDecoder(o.encoding)
		if first, err = dec.Bytes(first); err != nil || bytes.Contains(first, replacement) {
			return nil, fmt.Errorf("%s line 1: header is not valid %s", rel, o.encoding)
		}
	}
	names, err := splitHeader(e, rel, first, o, loc, 1)
	if err != nil {
		return nil, err
	}
	h, err := mapHeader(e, names, rel)
	if err != nil {
		return nil, err
	}
	split := lineSplitter(br, o.csvDelim(), o.gb(), 2, bytesIn)
	return newOrderedReader(e.BatchSchema(), split, func() chunkParser { return newTextParser(e, rel, h, o, loc) }, workers, bytesIn, closer), nil
}

// csvDelim is the delimiter the splitter must see to keep quoted newlines
// inside their record (0: lines are records).
func (o textOptions) csvDelim() byte {
	if o.quoted {
		return o.delim
	}
	return 0
}

// fitWidth pads a spreadsheet row that ends early with empty cells, and
// drops empty cells past the header's width.
func fitWidth(fields [][]byte, width int) [][]byte {
	for len(fields) > width && len(fields[len(fields)-1]) == 0 {
		fields = fields[:len(fields)-1]
	}
	for len(fields) < width {
		fields = append(fields, nil)
	}
	return fields
}

// splitHeader splits a decoded header line into names (copied).
func splitHeader(e *contract.Entity, rel string, line []byte, o textOptions, loc *time.Location, n int64) ([][]byte, error) {
	p := newTextParser(e, rel, nil, o, loc)
	names, perr := p.split(line)
	if perr != nil {
		return nil, fmt.Errorf("%s line %d: header: %s", rel, n, perr.Detail)
	}
	if o.ragged {
		for len(names) > 0 && len(bytes.TrimSpace(names[len(names)-1])) == 0 {
			names = names[:len(names)-1]
		}
	}
	cp := make([][]byte, len(names))
	for i, n := range names {
		cp[i] = append([]byte(nil), n...)
	}
	return cp, nil
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// putChunk hands a parsed chunk's buffer back to the pool, unless it grew for
// a record longer than a chunk: every later chunk, of any file, is read into
// a pooled buffer, so a bigger one would become the chunk size.
func putChunk(b []byte) {
	if cap(b) == chunkSize {
		chunkPool.Put(&b)
	}
}

// maxRecord bounds one record: a quote that never closes must fail the file
// with a clear error, not read the rest of it into memory.
const maxRecord = 64 << 20

// lineSplitter cuts r into chunks ending at a newline; for CSV (csvDelim
// set), only at a newline that ends a record, outside any quoted field. gb:
// the bytes are GBK/GB18030 (see csvRecordEnd).
func lineSplitter(r io.Reader, csvDelim byte, gb bool, startLine int64, bytesIn *atomic.Int64) splitFunc {
	return func(ctx context.Context, emit func([]byte, int64) error) error {
		bp := chunkPool.Get().(*[]byte)
		buf := (*bp)[:cap(*bp)]
		have := 0
		line := startLine
		for {
			n, err := readFull(r, buf[have:])
			have += n
			bytesIn.Add(int64(n))
			eof := err == io.EOF
			if err != nil && !eof {
				return fmt.Errorf("after line %d: %w", line+int64(bytes.Count(buf[:have], nl)), err)
			}
			if have == 0 {
				return nil
			}
			cut := have
			if !eof {
				cut = boundary(buf[:have], csvDelim, gb)
				if cut == 0 { // one record longer than the buffer
					if len(buf) >= maxRecord {
						return fmt.Errorf("the record at line %d is longer than %d MB (a quote that never closes?); nothing loaded", line, maxRecord>>20)
					}
					bigger := make([]byte, 2*len(buf))
					copy(bigger, buf[:have])
					buf = bigger
					continue
				}
			}
			np := chunkPool.Get().(*[]byte)
			next := (*np)[:cap(*np)]
			if len(next) < len(buf) {
				next = make([]byte, len(buf))
			}
			rest := copy(next, buf[cut:have])
			data := buf[:cut]
			lines := int64(bytes.Count(data, nl))
			if err := emit(data, line); err != nil {
				return err
			}
			line += lines
			buf, have = next, rest
			if eof && have == 0 {
				return nil
			}
		}
	}
}

var nl = []byte{'\n'}

// boundary is the length of b's complete records: up to and including the
// last newline that ends a record (0 if none does).
func boundary(b []byte, csvDelim byte, gb bool) int {
	if csvDelim == 0 {
		return bytes.LastIndexByte(b, '\n') + 1
	}
	if bytes.IndexByte(b, '"') < 0 {
		return bytes.LastIndexByte(b, '\n') + 1
	}
	cut, pos := 0, 0
	for pos < len(b) {
		end, _, complete := csvRecordEnd(b, pos, csvDelim, gb)
		if !complete {
			break
		}
		cut = end + 1
		pos = end + 1
	}
	return cut
}

// csvRecordEnd finds the newline ending the RFC 4180 record that starts at
// pos, and how many newlines inside quoted fields it passed. A quote opens a
// quoted field only at the start of a field; anywhere else it is an ordinary
// byte (the row is then rejected as malformed, alone). complete is false
// when b ends before the record does. gb: b is GBK/GB18030, read a character
// at a time outside quotes, since a trail byte can equal a delimiter of 0x40
// or above (a quote after it does not start a field).
func csvRecordEnd(b []byte, pos int, delim byte, gb bool) (end, inner int, complete bool) {
	i := pos
	for {
		if i < len(b) && b[i] == '"' { // a quoted field
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return len(b), inner, false
				}
				inner += bytes.Count(b[j:j+k], nl)
				j += k + 1
				if j < len(b) && b[j] == '"' {
					j++
					continue
				}
				break
			}
			i = j
		}
		// The rest of the field, up to a delimiter or the end of the line.
		for i < len(b) && b[i] != delim && b[i] != '\n' {
			if gb && b[i] >= 0x81 && b[i] <= 0xFE && i+1 < len(b) && gbTrail(b[i+1]) {
				i++ // a lead byte: its trail byte is part of the character
			}
			i++
		}
		if i == len(b) {
			return len(b), inner, false
		}
		if b[i] == '\n' {
			return i, inner, true
		}
		i++ // past the delimiter: the next field starts
	}
}

type span struct {
	start, end int
	scratch    bool // bytes live in the parser's scratch buffer, not the record
}

type textParser struct {
	e       *contract.Entity
	rel     string
	h       *header
	bind    *mapping.Binding // a mapped file: the binding reads the fields
	o       textOptions
	b       *rows.Builder
	dec     *encoding.Decoder
	spans   []span
	fields  [][]byte
	scratch []byte
	dbuf    []byte
	line    []byte
	rowbuf  []byte // a mapped record's decoded fields
	ends    []int
}

func newTextParser(e *contract.Entity, rel string, h *header, o textOptions, loc *time.Location) *textParser {
	p := &textParser{e: e, rel: rel, h: h, o: o}
	if h != nil {
		p.b = rows.NewBuilder(e, loc)
	}
	if o.gb() {
		p.dec = newDecoder(o.encoding)
	}
	return p
}

func (p *textParser) release() {
	if p.b != nil {
		p.b.Release()
	}
}

func (p *textParser) parse(c chunk) parsed {
	defer putChunk(c.data)
	out := parsed{seq: c.seq}
	data := c.data
	utf8OK := !p.o.gb() && utf8.Valid(data)
	line := c.firstLine
	pos := 0
	for pos < len(data) {
		end, inner := p.recordEnd(data, pos)
		rec := data[pos:end]
		recLine := line
		line += 1 + int64(inner)
		pos = end + 1
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
		if p.bind != nil && p.bind.Plan().Skips() {
			if skip, count := p.skip(rec, recLine); skip {
				out.skipped++
				if count != nil {
					out.counts = append(out.counts, *count)
				}
				continue
			}
		}
		if len(rec) == 0 {
			if pos >= len(data) && end == len(data) {
				break // no newline after the last record
			}
			if p.o.ragged { // an empty spreadsheet row: not a row of data
				out.skipped++
				continue
			}
			out.rows++
			out.rejects = append(out.rejects, p.reject(recLine, rec, &rows.Problem{Reason: contract.ReasonMalformed, Detail: "empty line"}))
			continue
		}
		out.rows++
		if prob := p.row(rec, recLine, utf8OK); prob != nil {
			out.rejects = append(out.rejects, p.reject(recLine, rec, prob))
		}
	}
	out.rec = p.b.Batch()
	return out
}

// recordEnd finds the newline ending the record at pos (len(data) if none),
// and how many newlines inside quoted fields it passed.
func (p *textParser) recordEnd(data []byte, pos int) (int, int) {
	if !p.o.quoted {
		idx := bytes.IndexByte(data[pos:], '\n')
		if idx < 0 {
			return len(data), 0
		}
		return pos + idx, 0
	}
	end, inner, _ := csvRecordEnd(data, pos, p.o.delim, p.o.gb())
	return end, inner
}

// gbTrail: c can follow a GBK/GB18030 lead byte (0x30–0x39 starts a
// four-byte character, read as two pairs). '\n', '"', ',' and '\r' never can.
func gbTrail(c byte) bool { return c >= 0x30 && c <= 0x39 || c >= 0x40 && c <= 0xFE && c != 0x7F }

func (p *textParser) row(rec []byte, line int64, utf8OK bool) *rows.Problem {
	if p.bind != nil {
		return p.mappedRow(rec, line, utf8OK)
	}
	if p.o.decodeFirst() {
		var ok bool
		if rec, ok = p.decode(rec); !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "bytes that are not valid " + p.o.encoding}
		}
	}
	fields, prob := p.split(rec)
	if prob != nil {
		return prob
	}
	if p.o.ragged {
		fields = fitWidth(fields, len(p.h.names))
	}
	if len(fields) != len(p.h.names) {
		return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d fields, the header has %d", len(fields), len(p.h.names))}
	}
	b := p.b
	b.Begin()
	for i, f := range fields {
		if p.o.gb() && !p.o.decodeFirst() && hasHigh(f) {
			var ok bool
			if f, ok = p.decode(f); !ok {
				return &rows.Problem{Reason: contract.ReasonEncoding, Detail: fmt.Sprintf("column %s: bytes that are not valid %s", p.h.names[i], p.o.encoding)}
			}
		} else if !p.o.gb() && !utf8OK && !utf8.Valid(f) {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: fmt.Sprintf("column %s: not valid UTF-8", p.h.names[i])}
		}
		ci := p.h.mapping[i]
		if ci < 0 {
			if len(f) > 0 {
				name := p.h.names[i]
				if len(bytes.TrimSpace(name)) == 0 {
					name = []byte("_" + strconv.Itoa(i+1))
				}
				b.AddExtraText(name, f)
			}
			continue
		}
		if prob := b.Set(ci, f); prob != nil {
			return prob
		}
	}
	return b.Commit(line, -1)
}

func hasHigh(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// decode converts GB18030/GBK bytes to UTF-8 in the parser's buffer, valid
// until the next call.
func (p *textParser) decode(src []byte) ([]byte, bool) {
	if !hasHigh(src) {
		return src, true
	}
	if cap(p.dbuf) < 2*len(src)+16 {
		p.dbuf = make([]byte, 2*len(src)+16)
	}
	p.dec.Reset()
	n, _, err := p.dec.Transform(p.dbuf[:cap(p.dbuf)], src, true)
	if err != nil {
		return nil, false
	}
	out := p.dbuf[:n]
	if bytes.Contains(out, replacement) {
		return nil, false
	}
	return out, true
}

// split cuts one record into fields. Unescaped values go to the scratch
// buffer so the record itself stays as delivered (for reject raw text).
func (p *textParser) split(rec []byte) ([][]byte, *rows.Problem) {
	p.spans = p.spans[:0]
	p.scratch = p.scratch[:0]
	d := p.o.delim
	var prob *rows.Problem
	switch {
	case p.o.quoted:
		prob = p.splitCSV(rec, d)
	case len(p.o.delimSeq) > 1:
		p.splitSeq(rec, p.o.delimSeq)
	default:
		p.splitEscaped(rec, d)
	}
	if prob != nil {
		return nil, prob
	}
	p.fields = p.fields[:0]
	for _, s := range p.spans {
		if s.scratch {
			p.fields = append(p.fields, p.scratch[s.start:s.end])
		} else {
			p.fields = append(p.fields, rec[s.start:s.end])
		}
	}
	return p.fields, nil
}

func (p *textParser) splitCSV(rec []byte, d byte) *rows.Problem {
	i, n := 0, len(rec)
	for {
		if i < n && rec[i] == '"' {
			start := len(p.scratch)
			j := i + 1
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return &rows.Problem{Reason: contract.ReasonMalformed, Detail: "a quoted field is never closed"}
				}
				p.scratch = append(p.scratch, rec[j:j+k]...)
				j += k + 1
				if j < n && rec[j] == '"' {
					p.scratch = append(p.scratch, '"')
					j++
					continue
				}
				break
			}
			if j < n && rec[j] != d && p.o.laxQuotes {
				// "123"\t,: what follows the closing quote is part of the field.
				k := bytes.IndexByte(rec[j:], d)
				if k < 0 {
					k = n - j
				}
				p.scratch = append(p.scratch, rec[j:j+k]...)
				j += k
			}
			p.spans = append(p.spans, span{start, len(p.scratch), true})
			if j == n {
				return nil
			}
			if rec[j] != d {
				return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("unexpected %q after a closing quote", rec[j])}
			}
			i = j + 1
		} else {
			k := bytes.IndexByte(rec[i:], d)
			end := n
			if k >= 0 {
				end = i + k
			}
			if !p.o.laxQuotes && bytes.IndexByte(rec[i:end], '"') >= 0 {
				return &rows.Problem{Reason: contract.ReasonMalformed, Detail: "a bare quote inside an unquoted field"}
			}
			p.spans = append(p.spans, span{i, end, false})
			if k < 0 {
				return nil
			}
			i = end + 1
		}
		if i == n { // trailing delimiter: one more, empty, field
			p.spans = append(p.spans, span{n, n, false})
			return nil
		}
	}
}

// splitSeq splits on a delimiter of several bytes, never escaped.
func (p *textParser) splitSeq(rec, d []byte) {
	i := 0
	for {
		k := bytes.Index(rec[i:], d)
		if k < 0 {
			p.spans = append(p.spans, span{i, len(rec), false})
			return
		}
		p.spans = append(p.spans, span{i, i + k, false})
		i += k + len(d)
	}
}

// splitEscaped splits on the delimiter except where it is escaped as "\|";
// "\\" is a backslash.
func (p *textParser) splitEscaped(rec []byte, d byte) {
	if bytes.IndexByte(rec, '\\') < 0 {
		i := 0
		for {
			k := bytes.IndexByte(rec[i:], d)
			if k < 0 {
				p.spans = append(p.spans, span{i, len(rec), false})
				return
			}
			p.spans = append(p.spans, span{i, i + k, false})
			i += k + 1
		}
	}
	start := len(p.scratch)
	for i := 0; i < len(rec); i++ {
		c := rec[i]
		switch {
		case c == '\\' && i+1 < len(rec) && (rec[i+1] == d || rec[i+1] == '\\'):
			p.scratch = append(p.scratch, rec[i+1])
			i++
		case c == d:
			p.spans = append(p.spans, span{start, len(p.scratch), true})
			start = len(p.scratch)
		default:
			p.scratch = append(p.scratch, c)
		}
	}
	p.spans = append(p.spans, span{start, len(p.scratch), true})
}

func (p *textParser) reject(line int64, rec []byte, prob *rows.Problem) contract.Reject {
	return contract.Reject{
		Position: p.rel + ":" + strconv.FormatInt(line, 10), Line: line, Partition: -1, Offset: -1,
		Reason: prob.Reason, Detail: prob.Detail, Raw: p.rawText(rec),
	}
}

// rawText is the record as UTF-8; bytes that do not decode are written as
// \xNN so the reject keeps exactly what arrived.
func (p *textParser) rawText(rec []byte) string {
	if p.o.gb() && p.dec != nil {
		if s, ok := p.decode(rec); ok {
			return string(s)
		}
	} else if utf8.Valid(rec) {
		return string(rec)
	}
	var b []byte
	for _, c := range rec {
		if c < 0x80 {
			b = append(b, c)
		} else {
			b = append(b, fmt.Sprintf(`\x%02x`, c)...)
		}
	}
	return string(b)
}
