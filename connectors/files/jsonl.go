package files

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"io"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
	"cdp/connectors/rows"
)

func init() {
	registerFormat(contract.JSONL, formatSpec{open: func(a *openArgs) (finisher, error) {
		if a.plan != nil {
			return openMappedJSONL(a.e, a.file.Source, a.r, a.closer, a.loc, a.workers, a.bytesIn, a.plan)
		}
		return openJSONL(a.e, a.file.Source, a.r, a.closer, a.loc, a.workers, a.bytesIn), nil
	}})
}

// openJSONL parses one JSON object per line (the caller has already
// unwrapped gzip).
func openJSONL(e *contract.Entity, rel string, r io.Reader, closer io.Closer, loc *time.Location, workers int, bytesIn *atomic.Int64) *orderedReader {
	split := lineSplitter(r, 0, false, 1, bytesIn)
	return newOrderedReader(e.BatchSchema(), split, func() chunkParser { return newJSONLParser(e, rel, loc) }, workers, bytesIn, closer)
}

type jsonlParser struct {
	rel string
	b   *rows.Builder
	j   *rows.JSONRow
}

func newJSONLParser(e *contract.Entity, rel string, loc *time.Location) *jsonlParser {
	b := rows.NewBuilder(e, loc)
	return &jsonlParser{rel: rel, b: b, j: rows.NewJSONRow(b)}
}

func (p *jsonlParser) release() { p.b.Release() }

func (p *jsonlParser) parse(c chunk) parsed {
	return jsonLines(c, p.rel, p.b, func(rec []byte, line int64) *rows.Problem {
		prob := p.j.Stage(rec)
		if prob == nil {
			prob = p.b.Commit(line, -1)
		}
		return prob
	})
}

// jsonLines runs row on each line of a chunk of JSON lines (a BOM before
// the first dropped, CRLF read as LF) and gathers the rows, the rejects
// and the builder's batch.
func jsonLines(c chunk, rel string, b *rows.Builder, row func(rec []byte, line int64) *rows.Problem) parsed {
	defer putChunk(c.data)
	out := parsed{seq: c.seq}
	data := c.data
	line := c.firstLine
	if line == 1 {
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	}
	for len(data) > 0 {
		var rec []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			rec, data = data[:i], data[i+1:]
		} else {
			rec, data = data, nil
		}
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
		if len(rec) == 0 && len(data) == 0 {
			break // a stray "\r" after the last newline is not a row
		}
		out.rows++
		if prob := row(rec, line); prob != nil {
			out.rejects = append(out.rejects, contract.Reject{
				Position: rel + ":" + strconv.FormatInt(line, 10), Line: line, Partition: -1, Offset: -1,
				Reason: prob.Reason, Detail: prob.Detail, Raw: rawUTF8(rec),
			})
		}
		line++
	}
	out.rec = b.Batch()
	return out
}

func rawUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strconv.QuoteToASCII(string(b))
}

// A mapped JSON lines file: each object's keys are its fields, read by the
// mapping as text (renames, codes, layouts and the rest apply as to a
// CSV); keys the mapping does not read are kept in _extra as JSON.
func openMappedJSONL(e *contract.Entity, rel string, r io.Reader, closer io.Closer, loc *time.Location, workers int, bytesIn *atomic.Int64, plan *mapping.Plan) (*orderedReader, error) {
	names := plan.SourceNames()
	header := make([][]byte, len(names))
	index := map[string]int{}
	for i, n := range names {
		header[i] = []byte(n)
		index[n] = i
	}
	bind, err := plan.Bind(rel, header, nil)
	if err != nil {
		return nil, err
	}
	split := lineSplitter(r, 0, false, 1, bytesIn)
	return newOrderedReader(e.BatchSchema(), split, func() chunkParser {
		return &mappedJSONParser{rel: rel, b: rows.NewBuilder(e, loc), bind: bind.Clone(), index: index, fields: make([][]byte, len(names))}
	}, workers, bytesIn, closer), nil
}

type mappedJSONParser struct {
	rel    string
	b      *rows.Builder
	bind   *mapping.Binding
	j      rows.JSONFields
	index  map[string]int
	fields [][]byte
	buf    []byte // the row's values and unknown keys, copied
	spans  [][2]int
	extras [][4]int // key and raw value spans in buf
}

func (p *mappedJSONParser) release() { p.b.Release() }

func (p *mappedJSONParser) parse(c chunk) parsed { return jsonLines(c, p.rel, p.b, p.row) }

func (p *mappedJSONParser) row(rec []byte, line int64) *rows.Problem {
	p.buf, p.extras = p.buf[:0], p.extras[:0]
	p.spans = p.spans[:0]
	for range p.fields {
		p.spans = append(p.spans, [2]int{-1, -1})
	}
	prob := p.j.Parse(rec, func(key, text, raw []byte) {
		if i, ok := p.index[string(key)]; ok {
			if text != nil {
				start := len(p.buf)
				p.buf = append(p.buf, text...)
				p.spans[i] = [2]int{start, len(p.buf)}
			}
			return
		}
		k := len(p.buf)
		p.buf = append(p.buf, key...)
		v := len(p.buf)
		p.buf = append(p.buf, raw...)
		p.extras = append(p.extras, [4]int{k, v, v, len(p.buf)})
	})
	if prob != nil {
		return prob
	}
	for i, sp := range p.spans {
		p.fields[i] = nil
		if sp[0] >= 0 {
			p.fields[i] = p.buf[sp[0]:sp[1]]
		}
	}
	return p.bind.RowExtra(p.fields, p.b, line, func(b *rows.Builder) {
		for _, x := range p.extras {
			b.AddExtra(p.buf[x[0]:x[1]], p.buf[x[2]:x[3]])
		}
	})
}
