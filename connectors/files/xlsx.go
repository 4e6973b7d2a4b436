package files

import (
	"encoding/csv"
	"fmt"
	"io"

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

func openXLSX(a *openArgs) (finisher, error) {
	rel := a.file.Source
	wb, err := excelize.OpenFile(a.file.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable .xlsx workbook (an old .xls? save it as .xlsx or CSV): %w", rel, err)
	}
	sheet := ""
	for _, name := range wb.GetSheetList() {
		if visible, err := wb.GetSheetVisible(name); err == nil && visible {
			sheet = name
			break
		}
	}
	if sheet == "" {
		wb.Close()
		return nil, fmt.Errorf("%s: the workbook has no visible sheet", rel)
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		wb.Close()
		return nil, fmt.Errorf("%s: sheet %s: %w", rel, sheet, err)
	}
	pr, pw := io.Pipe()
	go func() {
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
		rows.Close()
		pw.CloseWithError(err) // nil: io.EOF to the reader
	}()
	closer := multiCloser{pr, closeFunc(wb.Close)}
	r, err := openText(a.e, rel, pr, closer, textOptions{quoted: true, delim: ',', encoding: "utf-8", ragged: true}, a.loc, a.workers, a.bytesIn, a.plan)
	if err != nil {
		closer.Close() // the writer stops at its next row
		return nil, err
	}
	return r, nil
}

type closeFunc func() error

func (f closeFunc) Close() error { return f() }
