package files

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// The tests cross the real chunk size: a file is laid out so that a chosen
// byte of a chosen record sits exactly at body offset chunkSize, where the
// splitter's first 1 MB read ends. The body is the file after its header
// line (the splitter starts reading there) or, for JSON lines, the whole
// (uncompressed) file.

// format is one text layout under test, with a helper for its records.
type format struct {
	name     string
	contract string // feed contract
	id       string // the entity's first, required, column: its key
	file     string // file name in the feed folder
	header   string // header line without its ending; "" for JSON lines
	csvDelim byte   // what the splitter is given: the CSV delimiter, else 0
	// record is one record without its line ending; name is the raw text of
	// the record's free-text field as it sits in the file.
	record func(key, name string) string
	// want is the emitted row of record(key, name) at line pos, with the
	// free-text field decoded to value.
	want func(key, value string, pos int64) map[string]string
}

// columnNames is the header of a file with the entity's columns but its
// optional ones (the layout of files from before a contract version added
// them).
func columnNames(feed, entity string, sep string) string {
	e, err := contract.Lookup(feed, entity)
	if err != nil {
		panic(err)
	}
	var names []string
	for _, c := range e.Columns {
		if !c.Optional {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, sep)
}

// csvCustomers: credit.customers, RFC 4180 CSV; the free-text field is name.
// The record has all 15 columns, most of them empty.
var csvCustomers = format{
	name: "csv", contract: "credit", id: "cust_no", file: "customers_20240102.csv",
	header:   columnNames("credit", "customers", ","),
	csvDelim: ',',
	record: func(key, name string) string {
		return key + ",P," + name + strings.Repeat(",", 12)
	},
	want: func(key, value string, pos int64) map[string]string {
		return map[string]string{"cust_no": key, "cust_type": "P", "name": value, "_pos": strconv.FormatInt(pos, 10), "_part": "-1"}
	},
}

// delimitedHolders: card.holders, "|" delimited with "\|" escapes; 8 columns.
var delimitedHolders = format{
	name: "delimited", contract: "card", id: "holder_id", file: "holders_20240102.del",
	header: columnNames("card", "holders", "|"),
	record: func(key, name string) string {
		return key + "|" + name + strings.Repeat("|", 6)
	},
	want: func(key, value string, pos int64) map[string]string {
		return map[string]string{"holder_id": key, "name": value, "_pos": strconv.FormatInt(pos, 10), "_part": "-1"}
	},
}

// jsonlUsers: ebank.users, one JSON object per line.
var jsonlUsers = format{
	name: "jsonl", contract: "ebank", id: "user_id", file: "users_20240102.jsonl",
	record: func(key, name string) string {
		return `{"user_id":"` + key + `","user_type":"PERSONAL","name":"` + name + `"}`
	},
	want: func(key, value string, pos int64) map[string]string {
		return map[string]string{"user_id": key, "user_type": "PERSONAL", "name": value, "_pos": strconv.FormatInt(pos, 10), "_part": "-1"}
	},
}

// jsonlGzEvents: ebank.events, gzipped JSON lines; the free-text field is
// counterparty_name.
var jsonlGzEvents = format{
	name: "jsonl.gz", contract: "ebank", id: "event_id", file: "events_20240102.jsonl.gz",
	record: func(key, name string) string {
		return `{"event_id":"` + key + `","user_id":"U1","ts":"2024-01-02T09:04:05+08:00","channel":"APP","event_type":"LOGIN","counterparty_name":"` + name + `"}`
	},
	want: func(key, value string, pos int64) map[string]string {
		return map[string]string{"event_id": key, "user_id": "U1", "ts": "2024-01-02T01:04:05Z", "channel": "APP",
			"event_type": "LOGIN", "counterparty_name": value, "_pos": strconv.FormatInt(pos, 10), "_part": "-1"}
	},
}

// firstBodyLine is the line number of the body's first line.
func (f format) firstBodyLine() int64 {
	if f.header == "" {
		return 1
	}
	return 2
}

// fileBytes is the delivered file: header (if any) and body, gzipped for ".gz".
func (f format) fileBytes(t *testing.T, body []byte, eol string) []byte {
	t.Helper()
	var data []byte
	if f.header != "" {
		data = append([]byte(f.header+eol), body...)
	} else {
		data = body
	}
	if !strings.HasSuffix(f.file, ".gz") {
		return data
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filler is records of f, each ending in eol, exactly total bytes long: keys
// F0000001, F0000002, … with names of 1000 or more x's. It returns the
// records and the rows they load as.
func (f format) filler(t *testing.T, total int, eol string) ([]string, []map[string]string) {
	t.Helper()
	var recs []string
	var rows []map[string]string
	for i := 1; total > 0; i++ {
		key := fmt.Sprintf("F%07d", i)
		base := len(f.record(key, "")) + len(eol)
		pad := 1000
		if total-(base+pad) < base+pad {
			pad = total - base // the last one takes up the rest
		}
		if pad < 1 {
			t.Fatalf("filler: %d bytes left, not enough for one record", total)
		}
		name := strings.Repeat("x", pad)
		r := f.record(key, name) + eol
		recs = append(recs, r)
		rows = append(rows, f.row(key, name, f.firstBodyLine()+int64(i-1)))
		total -= len(r)
	}
	return recs, rows
}

// row is want without the empty values (they load as nulls).
func (f format) row(key, value string, pos int64) map[string]string {
	m := f.want(key, value, pos)
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// layout is a body in which (target+after)[at] is the byte at offset
// chunkSize.
type layout struct {
	body  []byte
	rows  []map[string]string // what the filler records load as
	start int                 // offset of target in body
	line  int64               // line number of target's first line
}

// straddle lays out filler records, target and then after, so that byte at
// of target+after lands exactly on the chunk boundary (the first byte the
// first 1 MB read does not get), and checks that it does.
func (f format) straddle(t *testing.T, eol, target string, at int, after string) layout {
	t.Helper()
	if at < 0 || at >= len(target)+len(after) {
		t.Fatalf("boundary offset %d is outside target+after", at)
	}
	fill, rows := f.filler(t, chunkSize-at, eol)
	var b bytes.Buffer
	for _, r := range fill {
		b.WriteString(r)
	}
	start := b.Len()
	b.WriteString(target)
	b.WriteString(after)
	body := b.Bytes()
	if start+at != chunkSize || body[chunkSize] != (target + after)[at] {
		t.Fatalf("layout: byte %d of the target is at body offset %d, want %d", at, start+at, chunkSize)
	}
	return layout{body: body, rows: rows, start: start, line: f.firstBodyLine() + int64(len(fill))}
}

// chunkStarts runs the splitter over body as openText/openJSONL do (gb: the
// body is GBK/GB18030) and
// returns the offset each chunk starts at, checking that the chunks tile the
// body and that each one's first line number is right.
func chunkStarts(t *testing.T, body []byte, csvDelim byte, gb bool, firstLine int64) []int {
	t.Helper()
	var starts []int
	off := 0
	var bytesIn atomic.Int64
	split := lineSplitter(bytes.NewReader(body), csvDelim, gb, firstLine, &bytesIn)
	err := split(context.Background(), func(data []byte, line int64) error {
		if want := firstLine + int64(bytes.Count(body[:off], nl)); line != want {
			t.Errorf("chunk at offset %d: first line %d, want %d", off, line, want)
		}
		if !bytes.Equal(data, body[off:off+len(data)]) {
			t.Errorf("chunk at offset %d is not the body's bytes", off)
		}
		starts = append(starts, off)
		off += len(data)
		return nil
	})
	if err != nil {
		t.Fatalf("splitter: %v", err)
	}
	if off != len(body) {
		t.Fatalf("chunks cover %d bytes of %d", off, len(body))
	}
	return starts
}

// loaded is everything a file load gives back.
type loaded struct {
	rows    []map[string]string // column → value; null columns are absent
	rowsIn  int64
	rejects []contract.Reject
	batches int
}

// deliver writes data as name into a fresh feed folder (with a control file
// when okRows >= 0), discovers it and returns the source and the file.
func deliver(t *testing.T, o Options, name string, data []byte, okRows int64) (*Source, *File) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if okRows >= 0 {
		ok := fmt.Sprintf("%d|%x\n", okRows, md5.Sum(data))
		if err := os.WriteFile(path+".ok", []byte(ok), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o.Name, o.Dir = "feed", dir
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	found, err := s.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("discovered %d files, want 1", len(found))
	}
	f := found[0]
	if f.Problem != nil || f.Pending {
		t.Fatalf("%s: problem %v, pending %v", f.Source, f.Problem, f.Pending)
	}
	if f.ExpectedRows != okRows {
		t.Fatalf("%s: expected rows %d, want %d", f.Source, f.ExpectedRows, okRows)
	}
	return s, f
}

// drain reads every batch of r into rows.
func drain(t *testing.T, r Reader) ([]map[string]string, int) {
	t.Helper()
	var out []map[string]string
	batches := 0
	for r.Next() {
		rec := r.RecordBatch()
		batches++
		for i := 0; i < int(rec.NumRows()); i++ {
			m := map[string]string{}
			for c, col := range rec.Columns() {
				if !col.IsNull(i) {
					m[rec.ColumnName(c)] = col.ValueStr(i)
				}
			}
			out = append(out, m)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatalf("reading batches: %v", err)
	}
	return out, batches
}

// load delivers a file, reads it all and finishes it; any error fails the test.
func load(t *testing.T, o Options, name string, data []byte, okRows int64) loaded {
	t.Helper()
	s, f := deliver(t, o, name, data, okRows)
	r, err := s.Open(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var res loaded
	res.rows, res.batches = drain(t, r)
	res.rowsIn, res.rejects, err = r.Finish()
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	if got := int64(len(res.rows) + len(res.rejects)); got != res.rowsIn {
		t.Errorf("rows in %d, but %d emitted + %d rejected = %d", res.rowsIn, len(res.rows), len(res.rejects), got)
	}
	return res
}

func (f format) options(workers int) Options {
	return Options{Contract: contract.BuiltinSet.Feed(f.contract), Workers: workers}
}

// checkRows compares rows one by one and reports the first few differences.
func checkRows(t *testing.T, got, want []map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	bad := 0
	for i := 0; i < len(got) && i < len(want); i++ {
		if !sameRow(got[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, got[i], want[i])
			if bad++; bad == 5 {
				t.Fatal("too many differences")
			}
		}
	}
}

func sameRow(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func checkRejects(t *testing.T, got, want []contract.Reject) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rejects, want %d", len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("reject %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// fileReject is the reject a file row gets at line.
func fileReject(f format, line int64, reason, detail, raw string) contract.Reject {
	return contract.Reject{Position: "feed/" + f.file + ":" + strconv.FormatInt(line, 10), Line: line,
		Partition: -1, Offset: -1, Reason: reason, Detail: detail, Raw: raw}
}

// encodeGB encodes UTF-8 text as GB18030 (GBK is its two-byte subset).
func encodeGB(t *testing.T, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return string(b)
}
