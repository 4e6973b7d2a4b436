package synthbank

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/klauspost/compress/gzip"

	"cdp/connectors/contract"
)

// hashingFile is the bottom of every writer chain: bytes go to the file and into
// the md5 that the control file reports.
type hashingFile struct {
	f *os.File
	h hash.Hash
	n int64
}

func (s *hashingFile) Write(p []byte) (int, error) {
	s.h.Write(p)
	s.n += int64(len(p))
	return s.f.Write(p)
}

// dataFile is one delivered data file. Rows are counted as they are written;
// closing it writes the ".ok" control file, strictly after the data file is
// complete and closed, as a real exporter would.
type dataFile struct {
	rel  string // path relative to Out/feeds, slash-separated
	path string
	sink *hashingFile
	gz   *gzip.Writer  // nil for plain text and parquet
	gzfb *bufio.Writer // buffer between the compressor and the file
	w    *bufio.Writer
	rows int64
	// line is the 1-based physical line number the next row starts on (the
	// header is line 1), in the decompressed text.
	line int
}

func createDataFile(root, rel string, gzipped bool) (*dataFile, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	df := &dataFile{rel: rel, path: path, sink: &hashingFile{f: f, h: md5.New()}, line: 1}
	if gzipped {
		// Writing through a buffer keeps the compressor's many small writes off
		// the file descriptor.
		fb := bufio.NewWriterSize(df.sink, 1<<18)
		gz, err := gzip.NewWriterLevel(fb, gzip.BestSpeed)
		if err != nil {
			f.Close()
			return nil, err
		}
		df.gz, df.gzfb = gz, fb
		df.w = bufio.NewWriterSize(gz, 1<<18)
	} else {
		df.w = bufio.NewWriterSize(df.sink, 1<<18)
	}
	return df, nil
}

// writeHeader writes the header line (not counted as a row).
func (df *dataFile) writeHeader(line []byte) error {
	_, err := df.w.Write(line)
	df.line++
	return err
}

// writeRow writes one data row; newlines inside it (quoted CSV fields) advance
// the physical line counter.
func (df *dataFile) writeRow(line []byte) error {
	for _, c := range line {
		if c == '\n' {
			df.line++
		}
	}
	df.rows++
	_, err := df.w.Write(line)
	return err
}

// close finishes the data file and then writes "<rows>|<md5>\n" to <file>.ok.
func (df *dataFile) close() (int64, error) {
	if err := df.w.Flush(); err != nil {
		df.sink.f.Close()
		return 0, err
	}
	if df.gz != nil {
		if err := df.gz.Close(); err != nil {
			df.sink.f.Close()
			return 0, err
		}
		if err := df.gzfb.Flush(); err != nil {
			df.sink.f.Close()
			return 0, err
		}
	}
	if err := df.sink.f.Close(); err != nil {
		return 0, err
	}
	ok := strconv.AppendInt(nil, df.rows, 10)
	ok = append(ok, '|')
	ok = append(ok, hex.EncodeToString(df.sink.h.Sum(nil))...)
	ok = append(ok, '\n')
	if err := os.WriteFile(df.path+".ok", ok, 0o644); err != nil {
		return 0, fmt.Errorf("%s.ok: %w", df.rel, err)
	}
	return df.sink.n, nil
}

var _ io.Writer = (*hashingFile)(nil)

// appendMoney writes cents as "1234.56".
func appendMoney(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	return append(b, '.', byte('0'+cents/10%10), byte('0'+cents%10))
}

// appendJSONAmount writes cents as a JSON number with at most two decimals and
// no trailing zeros ("1234", "1234.5", "1234.56"), as a float-based producer would.
func appendJSONAmount(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	switch f := cents % 100; {
	case f == 0:
	case f%10 == 0:
		b = append(b, '.', byte('0'+f/10))
	default:
		b = append(b, '.', byte('0'+f/10), byte('0'+f%10))
	}
	return b
}

// appendRate writes a rate held in 1e-4 units as "0.0435".
func appendRate(b []byte, r int) []byte {
	b = strconv.AppendInt(b, int64(r/10000), 10)
	b = append(b, '.')
	return append4(b, r%10000)
}

// appendCSVField writes one RFC 4180 field: quoted when it holds a comma, a
// quote or a line break, with inner quotes doubled. It works on GBK bytes too:
// GBK trail bytes are >= 0x40, so they never look like ',', '"' or '\n'.
func appendCSVField(b, v []byte) []byte {
	needs := false
	for _, c := range v {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// appendDelField writes one pipe-delimited field, escaping a literal '|' as "\|".
func appendDelField(b []byte, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '|' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return b
}

// appendJSONString writes a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// rowFields collects one row's field values in a reusable buffer, so that a
// row can be damaged (a field replaced, dropped or added) before it is
// serialised.
type rowFields struct {
	buf  []byte
	ends []int
	vals [][]byte
}

func (f *rowFields) reset()            { f.buf, f.ends = f.buf[:0], f.ends[:0] }
func (f *rowFields) next()             { f.ends = append(f.ends, len(f.buf)) }
func (f *rowFields) str(s string)      { f.buf = append(f.buf, s...); f.next() }
func (f *rowFields) raw(b []byte)      { f.buf = append(f.buf, b...); f.next() }
func (f *rowFields) money(cents int64) { f.buf = appendMoney(f.buf, cents); f.next() }

// optMoney writes cents, or an empty field for a negative value.
func (f *rowFields) optMoney(cents int64) {
	if cents >= 0 {
		f.buf = appendMoney(f.buf, cents)
	}
	f.next()
}
func (f *rowFields) int(v int64)           { f.buf = strconv.AppendInt(f.buf, v, 10); f.next() }
func (f *rowFields) isoDate(d day)         { f.dateWith(d, day.appendISO) }
func (f *rowFields) compactDate(d day)     { f.dateWith(d, day.appendCompact) }
func (f *rowFields) dateTime(d day, s int) { f.buf = appendDateTime(f.buf, d, s); f.next() }

func (f *rowFields) dateWith(d day, app func(day, []byte) []byte) {
	if d != noDay {
		f.buf = app(d, f.buf)
	}
	f.next()
}

// values returns the fields as slices of the buffer (valid until reset).
func (f *rowFields) values() [][]byte {
	f.vals = f.vals[:0]
	start := 0
	for _, e := range f.ends {
		f.vals = append(f.vals, f.buf[start:e])
		start = e
	}
	return f.vals
}

func appendCSVLine(dst []byte, vals [][]byte) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCSVField(dst, v)
	}
	return append(dst, '\n')
}

func appendDelLine(dst []byte, vals [][]byte) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, '|')
		}
		dst = appendDelField(dst, v)
	}
	return append(dst, '\n')
}

// headerLine joins the contract's column names.
func headerLine(e *contract.Entity, sep byte) []byte {
	var b []byte
	for i, c := range e.Columns {
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, c.Name...)
	}
	return append(b, '\n')
}
