package synthbank

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// A small, strict reader of the generated feeds, written from FEEDS.md and the
// contract only. It is what the tests judge the generator by: every row either
// parses per the contract or is rejected with a reason code, and the rejected
// rows must be exactly the ones listed in truth/bad_rows.csv.

type parsedRow struct {
	file   string // relative to feeds/
	line   int
	vals   map[string]string // null and absent values are missing from the map
	reason string            // "" = valid per contract
	raw    map[string]json.RawMessage
}

type parsedFile struct {
	rel       string
	entity    *contract.Entity
	header    []string
	dataRows  int
	rows      []parsedRow
	day       day
	okRows    int64
	okMD5     string
	actualMD5 string
}

// fileNameFor returns the generated file (relative to feeds/) of an entity on a day.
func fileNameFor(e *contract.Entity, d day) string {
	if e.Format == contract.Parquet {
		return parquetName(e, d.iso())
	}
	return e.Feed + "/" + e.FileName(d.compact())
}

var (
	decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)
	rateRE    = regexp.MustCompile(`^[0-9]+\.[0-9]{1,6}$`)
	intRE     = regexp.MustCompile(`^-?[0-9]+$`)
)

// checkValue returns the reason a value breaks its column, or "".
func checkValue(c contract.Column, v string, present bool, format contract.Format) string {
	if !present || v == "" {
		if c.Required {
			return contract.ReasonMissing
		}
		return ""
	}
	if len(c.Enum) > 0 && !slices.Contains(c.Enum, v) {
		return contract.ReasonEnum
	}
	switch c.Type {
	case contract.Decimal:
		re := decimalRE // money: decimal(18,2)
		if c.Scale != 2 {
			re = rateRE // rates: decimal(12,6)
		}
		if !re.MatchString(v) {
			return contract.ReasonType
		}
	case contract.Int:
		if !intRE.MatchString(v) {
			return contract.ReasonType
		}
	case contract.Bool:
		if v != "true" && v != "false" && (format != contract.Fixed || v != "Y" && v != "N") {
			return contract.ReasonType
		}
	case contract.Date:
		layout := "2006-01-02"
		if format == contract.Delimited || format == contract.Fixed {
			layout = "20060102"
		}
		if _, err := time.Parse(layout, v); err != nil {
			return contract.ReasonDate
		}
	case contract.Timestamp:
		layout := "2006-01-02 15:04:05"
		if format == contract.JSONL || format == contract.Parquet {
			layout = time.RFC3339
		}
		if _, err := time.Parse(layout, v); err != nil {
			return contract.ReasonDate
		}
	}
	return ""
}

func checkRow(e *contract.Entity, vals map[string]string) string {
	for _, c := range e.Columns {
		v, ok := vals[c.Name]
		if r := checkValue(c, v, ok, e.Format); r != "" {
			return r
		}
	}
	return ""
}

func parseFeedFile(t testing.TB, feeds string, e *contract.Entity, d day) *parsedFile {
	t.Helper()
	rel := fileNameFor(e, d)
	path := filepath.Join(feeds, filepath.FromSlash(rel))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	pf := &parsedFile{rel: rel, entity: e, day: d, actualMD5: md5hex(data)}
	ok, err := os.ReadFile(path + ".ok")
	if err != nil {
		t.Fatalf("%s.ok: %v", rel, err)
	}
	okLine := strings.TrimSuffix(string(ok), "\n")
	n, sum, found := strings.Cut(okLine, "|")
	if !found || !strings.HasSuffix(string(ok), "\n") || strings.Count(string(ok), "\n") != 1 {
		t.Fatalf("%s.ok: malformed control file %q", rel, ok)
	}
	pf.okRows, _ = strconv.ParseInt(n, 10, 64)
	pf.okMD5 = sum
	switch e.Format {
	case contract.CSV:
		parseCSV(t, pf, data)
	case contract.Delimited:
		parseDelimited(t, pf, data)
	case contract.JSONL:
		if strings.HasSuffix(rel, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
		}
		parseJSONL(t, pf, data)
	case contract.Parquet:
		parseParquet(t, pf, path)
	case contract.Fixed:
		parseFixed(t, pf, data)
	}
	return pf
}

// parseFixed reads a fixed-width GBK file by the contract's byte widths;
// a field that is not valid GBK makes the row bad_encoding.
func parseFixed(t testing.TB, pf *parsedFile, data []byte) {
	width := 0
	for _, c := range pf.entity.Columns {
		pf.header = append(pf.header, c.Name)
		width += c.Width
	}
	dec := simplifiedchinese.GBK.NewDecoder()
	for i, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(l) == 0 && len(data) == 0 {
			break
		}
		if len(l) != width {
			t.Fatalf("%s:%d: %d bytes, the contract's lines are %d", pf.rel, i+1, len(l), width)
		}
		row := parsedRow{file: pf.rel, line: i + 1, vals: map[string]string{}}
		at := 0
		for _, c := range pf.entity.Columns {
			field := l[at : at+c.Width]
			at += c.Width
			text, err := dec.Bytes(field)
			if err != nil || bytes.ContainsRune(text, '\uFFFD') {
				row.reason = contract.ReasonEncoding
			}
			if v := strings.Trim(string(text), " "); v != "" {
				row.vals[c.Name] = v
			}
		}
		if row.reason == "" {
			row.reason = checkRow(pf.entity, row.vals)
		}
		pf.rows = append(pf.rows, row)
		pf.dataRows++
	}
}

func parseCSV(t testing.TB, pf *parsedFile, data []byte) {
	text := data
	if pf.entity.Feed == "credit" { // GB18030; the other CSV feeds are UTF-8
		var err error
		if text, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
			t.Fatalf("%s: GB18030 decode: %v", pf.rel, err)
		}
	}
	r := csv.NewReader(bytes.NewReader(text))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: header: %v", pf.rel, err)
	}
	pf.header = header
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v (an unclosed quote must never be generated)", pf.rel, err)
		}
		line, _ := r.FieldPos(0)
		row := parsedRow{file: pf.rel, line: line, vals: map[string]string{}}
		switch {
		case slices.ContainsFunc(rec, func(s string) bool { return strings.ContainsRune(s, '\uFFFD') }):
			row.reason = contract.ReasonEncoding
		case len(rec) != len(header):
			row.reason = contract.ReasonMalformed
		default:
			for i, v := range rec {
				row.vals[header[i]] = v
			}
			row.reason = checkRow(pf.entity, row.vals)
		}
		pf.rows = append(pf.rows, row)
		pf.dataRows++
	}
}

// splitDelimited splits on '|' that is not escaped as "\|".
func splitDelimited(line string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(out, cur.String())
}

func parseDelimited(t testing.TB, pf *parsedFile, data []byte) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	pf.header = splitDelimited(lines[0])
	for i, l := range lines[1:] {
		fields := splitDelimited(l)
		row := parsedRow{file: pf.rel, line: i + 2, vals: map[string]string{}}
		if len(fields) != len(pf.header) {
			row.reason = contract.ReasonMalformed
		} else {
			for j, v := range fields {
				row.vals[pf.header[j]] = v
			}
			row.reason = checkRow(pf.entity, row.vals)
		}
		pf.rows = append(pf.rows, row)
		pf.dataRows++
	}
}

func parseJSONL(t testing.TB, pf *parsedFile, data []byte) {
	if len(data) == 0 {
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		row := parsedRow{file: pf.rel, line: i + 1, vals: map[string]string{}}
		pf.dataRows++
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			row.reason = contract.ReasonMalformed
			pf.rows = append(pf.rows, row)
			continue
		}
		row.raw = obj
		for k, raw := range obj {
			var v any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s:%d: %v", pf.rel, i+1, err)
			}
			switch x := v.(type) {
			case nil:
			case string:
				row.vals[k] = x
			case json.Number:
				row.vals[k] = x.String()
			case bool:
				row.vals[k] = strconv.FormatBool(x)
			default:
				row.vals[k] = string(raw)
			}
		}
		row.reason = checkRow(pf.entity, row.vals)
		if row.reason == "" {
			// JSON types: amount must be a number, cross_border a boolean.
			if raw, ok := obj["amount"]; ok && string(raw) != "null" && raw[0] == '"' {
				row.reason = contract.ReasonType
			}
			if raw, ok := obj["cross_border"]; ok && string(raw) != "null" && string(raw) != "true" && string(raw) != "false" {
				row.reason = contract.ReasonType
			}
		}
		pf.rows = append(pf.rows, row)
	}
}

func parseParquet(t testing.TB, pf *parsedFile, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("%s: %v", pf.rel, err)
	}
	defer tbl.Release()
	want := arrowSchema(pf.entity)
	for i, fld := range tbl.Schema().Fields() {
		pf.header = append(pf.header, fld.Name)
		if i < want.NumFields() && !arrow.TypeEqual(fld.Type, want.Field(i).Type) {
			t.Errorf("%s: column %s is %s, want %s", pf.rel, fld.Name, fld.Type, want.Field(i).Type)
		}
	}
	tr := array.NewTableReader(tbl, 1<<16)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := parsedRow{file: pf.rel, line: pf.dataRows + 1, vals: map[string]string{}}
			for c := 0; c < int(rec.NumCols()); c++ {
				col := rec.Column(c)
				if col.IsNull(i) {
					continue
				}
				name := rec.ColumnName(c)
				switch a := col.(type) {
				case *array.String:
					row.vals[name] = a.Value(i)
				case *array.Date32:
					row.vals[name] = day(a.Value(i)).iso()
				case *array.Decimal128:
					row.vals[name] = string(appendMoney(nil, int64(a.Value(i).LowBits())))
				case *array.Timestamp:
					row.vals[name] = time.UnixMicro(int64(a.Value(i))).UTC().Format(time.RFC3339)
				default:
					t.Fatalf("%s: unexpected column type %T", pf.rel, col)
				}
			}
			row.reason = checkRow(pf.entity, row.vals)
			pf.rows = append(pf.rows, row)
			pf.dataRows++
		}
	}
}

func md5hex(b []byte) string {
	return fmt.Sprintf("%x", md5sum(b))
}
