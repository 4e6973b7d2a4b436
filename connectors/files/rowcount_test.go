package files

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"cdp/connectors/contract"
)

// A ~4 MB file (five chunks) parsed by four workers: every record comes out
// either as a row or as a reject, never both and never neither, so rows in =
// rows emitted + rejects = the control file's count. Rows come out in file
// order with their own line numbers, and rejects in line order, although the
// chunks are parsed concurrently and records spanning several physical lines
// shift the line numbers.
func TestRowCounts_EveryRecordIsEmittedOrRejectedInFileOrderAcrossWorkers(t *testing.T) {
	const records = 40_000
	for _, f := range []format{csvCustomers, delimitedHolders, jsonlUsers, jsonlGzEvents} {
		t.Run(f.name, func(t *testing.T) {
			var body bytes.Buffer
			var want []map[string]string
			var rejects []contract.Reject
			line := f.firstBodyLine()
			text := f.header != ""
			for i := 1; i <= records; i++ {
				key := fmt.Sprintf("K%07d", i)
				name := "name " + strconv.Itoa(i) + " " + strings.Repeat("y", 40+i%37)
				var rec string
				lines := int64(1)
				switch {
				case i%1000 == 0: // the key is missing
					rec = f.record("", name)
					rejects = append(rejects, fileReject(f, line, contract.ReasonMissing, "column "+f.id+" is required", rec))
				case i%1000 == 500 && text: // one field too many
					delim := f.header[len(f.id) : len(f.id)+1] // follows the first column's name
					columns := strings.Count(f.header, delim) + 1
					rec = f.record(key, name) + delim
					rejects = append(rejects, fileReject(f, line, contract.ReasonMalformed,
						fmt.Sprintf("%d fields, the header has %d", columns+1, columns), rec))
				case i%1000 == 500: // not UTF-8
					rec = f.record(key, "\xff")
					rejects = append(rejects, fileReject(f, line, contract.ReasonEncoding, "not valid UTF-8", strconv.QuoteToASCII(rec)))
				case i%4000 == 1999 && text: // an empty line
					rejects = append(rejects, fileReject(f, line, contract.ReasonMalformed, "empty line", ""))
				case i%300 == 150 && f.name == "csv": // a quoted field over two lines
					rec = f.record(key, `"`+name+"\nsecond line\"")
					want = append(want, f.row(key, name+"\nsecond line", line))
					lines = 2
				case i%300 == 150 && f.name == "delimited": // an escaped delimiter
					rec = f.record(key, name+`\|tail`)
					want = append(want, f.row(key, name+"|tail", line))
				case i%300 == 150: // an escaped newline
					rec = f.record(key, name+`\nsecond line`)
					want = append(want, f.row(key, name+"\nsecond line", line))
				default:
					rec = f.record(key, name)
					want = append(want, f.row(key, name, line))
				}
				body.WriteString(rec + "\n")
				line += lines
			}
			if n := len(chunkStarts(t, body.Bytes(), f.csvDelim, false, f.firstBodyLine())); n < 4 {
				t.Fatalf("the file splits into %d chunks, want at least 4", n)
			}

			res := load(t, f.options(4), f.file, f.fileBytes(t, body.Bytes(), "\n"), records)
			if res.rowsIn != records {
				t.Errorf("rows in %d, want %d", res.rowsIn, records)
			}
			if res.batches < 4 {
				t.Errorf("%d batches, want one per chunk (at least 4)", res.batches)
			}
			checkRows(t, res.rows, want)
			checkRejects(t, res.rejects, rejects)
		})
	}
}

// The control file's row count is the number of records, rejects included:
// one more or one fewer fails the file at Finish, after the batches.
func TestControlFile_RowCountMustMatchRecordsIncludingRejects(t *testing.T) {
	f := csvCustomers
	body := f.record("A0000001", "a") + "\n" + f.record("B0000001", "b") + "\n" + f.record("", "no key") + "\n"
	data := f.fileBytes(t, []byte(body), "\n")
	for _, c := range []struct {
		okRows  int64
		wantErr string
	}{
		{3, ""},
		{2, "feed/customers_20240102.csv: the control file says 2 rows, the file has 3; nothing loaded"},
		{4, "feed/customers_20240102.csv: the control file says 4 rows, the file has 3; nothing loaded"},
	} {
		t.Run(strconv.FormatInt(c.okRows, 10), func(t *testing.T) {
			s, file := deliver(t, f.options(2), f.file, data, c.okRows)
			r, err := s.Open(context.Background(), file)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Release()
			rows, _ := drain(t, r)
			checkRows(t, rows, []map[string]string{f.row("A0000001", "a", 2), f.row("B0000001", "b", 3)})
			n, rejects, err := r.Finish()
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("finish: %v", err)
				}
				if n != 3 || len(rejects) != 1 || rejects[0].Line != 4 || rejects[0].Reason != contract.ReasonMissing {
					t.Fatalf("finish: %d rows in, rejects %+v; want 3 and the missing key at line 4", n, rejects)
				}
				return
			}
			if err == nil || err.Error() != c.wantErr {
				t.Fatalf("finish: error %v, want %q", err, c.wantErr)
			}
		})
	}
}
