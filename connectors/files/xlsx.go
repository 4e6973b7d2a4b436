package files

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"cdp/connectors/contract"
)

// Excel workbooks (.xlsx), as banks' online banking exports them: the
// first visible sheet, each cell as Excel displays it (its number format
// applied, as a CSV saved from Excel would hold it), a row that ends
// early read as empty cells (Excel leaves them out), empty cells past the
// header dropped. The rows then take the CSV path: header or mapping,
// banner and trailer lines, the same checks and rejects. Read with
// github.com/xuri/excelize, which streams the sheet's XML row by row.

func init() {
	registerFormat(contract.XLSX, formatSpec{ownsFile: true, open: openXLSX})
}

// openSheet opens a workbook and names its first visible sheet.
func openSheet(path, rel string) (*excelize.File, string, error) {
	wb, err := excelize.OpenFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%s: not a readable .xlsx workbook (an old .xls? save it as .xlsx or CSV): %w", rel, err)
	}
	for _, name := range wb.GetSheetList() {
		if visible, err := wb.GetSheetVisible(name); err == nil && visible {
			return wb, name, nil
		}
	}
	wb.Close()
	return nil, "", fmt.Errorf("%s: the workbook has no visible sheet", rel)
}

// SheetRows reads up to limit rows of a workbook's first visible sheet,
// cells as displayed (for cdp contract suggest).
func SheetRows(path string, limit int) ([][]string, error) {
	wb, sheet, err := openSheet(path, path)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	rows, err := wb.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%s: sheet %s: %w", path, sheet, err)
	}
	defer rows.Close()
	var out [][]string
	for len(out) < limit && rows.Next() {
		cells, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("%s: sheet %s row %d: %w", path, sheet, len(out)+1, err)
		}
		out = append(out, cells)
	}
	return out, rows.Error()
}

func openXLSX(a *openArgs) (finisher, error) {
	rel := a.file.Source
	wb, sheet, err := openSheet(a.file.Path, rel)
	if err != nil {
		return nil, err
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		wb.Close()
		return nil, fmt.Errorf("%s: sheet %s: %w", rel, sheet, err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		// The goroutine owns the workbook: it is closed here, after the last
		// read, never under a read.
		defer close(done)
		defer wb.Close()
		defer rows.Close()
		cw := csv.NewWriter(pw)
		n := 0
		var err error
		for rows.Next() {
			n++
			var cells []string
			if cells, err = rows.Columns(); err != nil {
				err = fmt.Errorf("%s: sheet %s row %d: %w", rel, sheet, n, err)
				break
			}
			// One sheet row is one line (reject positions are sheet rows): a
			// line break inside a cell (Alt+Enter) reads as a space.
			for i, c := range cells {
				if strings.ContainsAny(c, "\r\n") {
					cells[i] = cellBreaks.Replace(c)
				}
			}
			if err = cw.Write(cells); err != nil {
				break
			}
		}
		if err == nil {
			err = rows.Error()
		}
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		pw.CloseWithError(err) // nil: io.EOF to the reader
	}()
	closer := closeFunc(func() error {
		err := pr.Close() // the writer stops at its next flush
		<-done
		return err
	})
	r, err := openText(a.e, rel, pr, closer, textOptions{quoted: true, delim: ',', encoding: "utf-8", ragged: true}, a.loc, a.workers, a.bytesIn, a.plan)
	if err != nil {
		closer.Close() // the writer stops at its next row
		return nil, err
	}
	return r, nil
}

var cellBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

type closeFunc func() error

func (f closeFunc) Close() error { return f() }
