package files

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"io"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

func init() {
	registerFormat(contract.JSONL, formatSpec{open: func(a *openArgs) (finisher, error) {
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
		prob := p.j.Stage(rec)
		if prob == nil {
			prob = p.b.Commit(line, -1)
		}
		if prob != nil {
			out.rejects = append(out.rejects, contract.Reject{
				Position: p.rel + ":" + strconv.FormatInt(line, 10), Line: line, Partition: -1, Offset: -1,
				Reason: prob.Reason, Detail: prob.Detail, Raw: rawUTF8(rec),
			})
		}
		line++
	}
	out.rec = p.b.Batch()
	return out
}

func rawUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strconv.QuoteToASCII(string(b))
}
