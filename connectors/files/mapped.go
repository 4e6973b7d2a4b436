package files

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
	"cdp/connectors/rows"
)

// A mapped file (feeds[].mapping in cdp.yaml) is read in three parts: the
// banner, read here line by line for the counts and the year it states;
// the header, found by the mapping (or replaced by its field list); and
// the data, parsed in parallel as any other file, where lines the mapping
// skips are counted but are not rows.

// maxBanner bounds the lines searched for a header.
const maxBanner = 1000

// preamble is what was read before the data.
type preamble struct {
	file      *mapping.File
	header    []byte // decoded header line; nil for a header-less file
	firstLine int64  // the first data line's number
}

// readPreamble reads the banner and the header of a mapped file.
// headerless: the file has no header whatever the mapping (fixed-width).
func readPreamble(br *bufio.Reader, rel string, o textOptions, plan *mapping.Plan, headerless bool, bytesIn *atomic.Int64) (*preamble, error) {
	headerless = headerless || plan.Positional()
	var banner [][]byte
	var dec *textParser
	if o.gb() {
		dec = &textParser{o: o, dec: newDecoder(o.encoding)}
	}
	pre := &preamble{}
	n := int64(0)
	for {
		if headerless && n == int64(plan.Banner()) {
			break
		}
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: reading line %d: %w", rel, n+1, err)
		}
		if len(line) == 0 {
			if headerless {
				break // a file shorter than its banner: no data
			}
			return nil, fmt.Errorf("%s: no header found (%s) in its %d lines; nothing loaded", rel, plan.DescribeHeader(), n)
		}
		n++
		bytesIn.Add(int64(len(line)))
		line = bytes.TrimRight(line, "\r\n")
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		text := line
		if dec != nil {
			var ok bool
			if text, ok = dec.decode(line); !ok {
				return nil, fmt.Errorf("%s line %d: not valid %s", rel, n, o.encoding)
			}
		} else if !utf8.Valid(line) {
			return nil, fmt.Errorf("%s line %d: not valid UTF-8 (is the file GBK? set encoding:)", rel, n)
		}
		text = append([]byte(nil), text...)
		if !headerless && plan.IsHeader(int(n), text) {
			pre.header = text
			break
		}
		if n >= maxBanner {
			return nil, fmt.Errorf("%s: no header found (%s) in its first %d lines; nothing loaded", rel, plan.DescribeHeader(), maxBanner)
		}
		banner = append(banner, text)
	}
	f, err := plan.ReadBanner(rel, banner)
	if err != nil {
		return nil, err
	}
	pre.file, pre.firstLine = f, n+1
	return pre, nil
}

// openMappedText reads a mapped text file's banner and header, binds the
// mapping, checks a header-less file's first data line has as many fields
// as the mapping lists, and starts the parallel parse.
func openMappedText(e *contract.Entity, rel string, br *bufio.Reader, closer io.Closer, o textOptions, loc *time.Location, workers int, bytesIn *atomic.Int64, plan *mapping.Plan) (*orderedReader, error) {
	o.laxQuotes = plan.LaxQuotes()
	pre, err := readPreamble(br, rel, o, plan, false, bytesIn)
	if err != nil {
		return nil, err
	}
	var names [][]byte
	if plan.Positional() {
		for _, f := range plan.Fields() {
			names = append(names, []byte(f.Name))
		}
	} else if names, err = splitHeader(e, rel, pre.header, o, loc, pre.firstLine-1); err != nil {
		return nil, err
	}
	bind, err := plan.Bind(rel, names, pre.file)
	if err != nil {
		return nil, err
	}
	var data io.Reader = br
	if plan.Positional() {
		// The field count of the first data line is the file's layout: a
		// file with another fails whole, not row by row.
		first, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: reading line %d: %w", rel, pre.firstLine, err)
		}
		if pre.firstLine == 1 {
			first = bytes.TrimPrefix(first, []byte("\xef\xbb\xbf")) // a UTF-8 BOM is not data
		}
		if rec := bytes.TrimRight(first, "\r\n"); len(rec) > 0 {
			p := newMappedParser(e, rel, bind, o, loc)
			text, ok := p.text(rec)
			if skip, _ := plan.Skip(text, pre.firstLine); ok && !skip {
				fields, prob := p.split(text)
				if o.ragged {
					fields = fitWidth(fields, bind.Width())
				}
				if prob == nil && !bind.FitsWidth(len(fields)) {
					p.release()
					return nil, fmt.Errorf("%s line %d: %d fields, the mapping lists %d: the file's layout is not the mapping's; nothing loaded from this file",
						rel, pre.firstLine, len(fields), len(names))
				}
			}
			p.release()
		}
		data = io.MultiReader(bytes.NewReader(first), br)
	}
	split := lineSplitter(data, o.csvDelim(), o.gb(), pre.firstLine, bytesIn)
	r := newOrderedReader(e.BatchSchema(), split, func() chunkParser { return newMappedParser(e, rel, bind.Clone(), o, loc) }, workers, bytesIn, closer)
	r.rel, r.counts, r.skipped = rel, pre.file.Counts, pre.firstLine-1
	return r, nil
}

func newMappedParser(e *contract.Entity, rel string, bind *mapping.Binding, o textOptions, loc *time.Location) *textParser {
	p := newTextParser(e, rel, nil, o, loc)
	p.bind = bind
	p.b = rows.NewBuilder(e, loc)
	if o.gb() && p.dec == nil {
		p.dec = newDecoder(o.encoding)
	}
	return p
}

// text is a record as UTF-8 (decoded in the parser's buffer for GBK).
func (p *textParser) text(rec []byte) ([]byte, bool) {
	if p.o.gb() {
		return p.decode(rec)
	}
	return rec, utf8.Valid(rec)
}

// skip tells whether the mapping skips a data line.
func (p *textParser) skip(rec []byte, line int64) (bool, *mapping.CountLine) {
	return p.skipText(p.bind.Plan(), rec, line)
}

func (p *textParser) skipText(plan *mapping.Plan, rec []byte, line int64) (bool, *mapping.CountLine) {
	text, ok := p.text(rec)
	if !ok {
		return false, nil // not skipped: rejected for its encoding
	}
	return plan.Skip(text, line)
}

// mappedRow splits a record and hands its fields, as UTF-8, to the
// binding. GBK is decoded field by field where the split is safe on the
// bytes as delivered (CSV with a delimiter below 0x40), only the fields
// that have non-ASCII bytes; otherwise the whole record first.
func (p *textParser) mappedRow(rec []byte, line int64, utf8OK bool) *rows.Problem {
	text := rec
	byField := p.o.gb() && !p.o.decodeFirst()
	if p.o.gb() && !byField {
		var ok bool
		if text, ok = p.decode(rec); !ok {
			return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "bytes that are not valid " + p.o.encoding}
		}
	} else if !p.o.gb() && !utf8OK && !utf8.Valid(rec) {
		return &rows.Problem{Reason: contract.ReasonEncoding, Detail: "not valid UTF-8"}
	}
	fields, prob := p.split(text)
	if prob != nil {
		return prob
	}
	if p.o.ragged {
		fields = fitWidth(fields, p.bind.Width())
	}
	if byField {
		// Decoded values go to rowbuf; the fields point into it once every
		// value is in (rowbuf may move while it grows).
		p.rowbuf, p.ends = p.rowbuf[:0], p.ends[:0]
		for _, f := range fields {
			if hasHigh(f) {
				d, ok := p.decode(f)
				if !ok {
					name := "field " + strconv.Itoa(len(p.ends)+1)
					if names := p.bind.Names(); len(p.ends) < len(names) {
						name = "field " + string(names[len(p.ends)])
					}
					return &rows.Problem{Reason: contract.ReasonEncoding, Detail: name + ": bytes that are not valid " + p.o.encoding}
				}
				p.rowbuf = append(p.rowbuf, d...)
				p.ends = append(p.ends, -len(p.rowbuf)-1) // negative: in rowbuf
			} else {
				p.ends = append(p.ends, 0)
			}
		}
		start := 0
		for i, end := range p.ends {
			if end < 0 {
				end = -end - 1
				fields[i] = p.rowbuf[start:end]
				start = end
			}
		}
	}
	return p.bind.Row(fields, p.b, line)
}
