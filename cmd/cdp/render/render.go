// Package render owns how query results look on the terminal: `cdp sql` and
// every command that prints rows write them through Rows, as an aligned
// table for people, CSV for spreadsheets, or a JSON array for programs.
//
// It reads a *sql.Rows to the end and needs nothing from the driver but
// database/sql: values are rendered by their Go type, refined by the
// column's database type name where the driver gives one (DuckDB's
// "DECIMAL(18,2)", "DATE", "VARCHAR[]", "STRUCT(...)"). So money keeps its
// scale (12.50, not 12.5), a DATE prints as 2026-11-20, and LIST, STRUCT and
// MAP values become JSON with their own elements rendered the same way.
//
// What each format promises:
//   - table: one header line, one separator line, one line per row, then
//     "(N rows)". Columns are aligned in terminal cells (a Chinese character
//     is two), numeric columns right-aligned, NULL printed as NULL, values
//     longer than 60 cells cut with "…", and tabs and newlines shown as \t
//     and \n so a row stays on one line. The table is built in memory before
//     it is printed, since widths depend on every row.
//   - csv: RFC 4180 through encoding/csv, header first, NULL as an empty
//     field, values in full. Streams.
//   - json: one JSON array of objects keyed by column name in column order,
//     one object per line; numbers (DECIMAL included, digits exact) as JSON
//     numbers, NULL as null, times as RFC 3339. Streams.
package render

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Format is an output format of Rows.
type Format string

// The formats Rows writes.
const (
	Table Format = "table"
	CSV   Format = "csv"
	JSON  Format = "json"
)

// Formats lists the formats, for flag help.
var Formats = []Format{Table, CSV, JSON}

// ParseFormat accepts a format name as typed on the command line.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want table, csv or json)", s)
}

// MaxCellWidth is the widest a table cell gets, in terminal cells.
const MaxCellWidth = 60

// cells measures text in terminal cells. Ambiguous-width characters (…, ·)
// count as one whatever the locale, so layout does not depend on LANG.
var cells = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

// Rows writes every row of rows to w in format f ("" means table) and
// returns how many rows it wrote. It does not close rows.
func Rows(w io.Writer, rows *sql.Rows, f Format) (n int, err error) {
	if f == "" {
		f = Table
	}
	if _, err := ParseFormat(string(f)); err != nil {
		return 0, err
	}
	cols, err := columns(rows)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	switch f {
	case CSV:
		n, err = writeCSV(bw, rows, cols)
	case JSON:
		n, err = writeJSONArray(bw, rows, cols)
	default:
		n, err = writeTable(bw, rows, cols)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return n, err
}

type column struct {
	name   string
	dbType string // as the driver names it; "" when it does not say
}

func columns(rows *sql.Rows) ([]column, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(types))
	for i, t := range types {
		cols[i] = column{name: t.Name(), dbType: t.DatabaseTypeName()}
	}
	return cols, nil
}

// scan reads the next row as cells (see cell); false at the end.
func scan(rows *sql.Rows, cols []column) ([]any, bool, error) {
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, false, err
	}
	out := make([]any, len(cols))
	for i, v := range raw {
		out[i] = cell(v, cols[i].dbType)
	}
	return out, true, nil
}

func writeCSV(w io.Writer, rows *sql.Rows, cols []column) (int, error) {
	cw := csv.NewWriter(w)
	record := make([]string, len(cols))
	for i, c := range cols {
		record[i] = c.name
	}
	if err := cw.Write(record); err != nil {
		return 0, err
	}
	n := 0
	for {
		row, ok, err := scan(rows, cols)
		if err != nil || !ok {
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
			return n, err
		}
		for i, c := range row {
			record[i] = text(c) // NULL is ""
		}
		if err := cw.Write(record); err != nil {
			return n, err
		}
		n++
	}
}

func writeJSONArray(w *bufio.Writer, rows *sql.Rows, cols []column) (int, error) {
	keys := make([]string, len(cols))
	for i, c := range cols {
		keys[i] = c.name
	}
	n := 0
	var line strings.Builder
	for {
		row, ok, err := scan(rows, cols)
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		line.Reset()
		if n == 0 {
			line.WriteString("[\n  ")
		} else {
			line.WriteString(",\n  ")
		}
		writeJSON(&line, &object{keys: keys, values: row})
		if _, err := w.WriteString(line.String()); err != nil {
			return n, err
		}
		n++
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	_, err := w.WriteString(end)
	return n, err
}

func writeTable(w *bufio.Writer, rows *sql.Rows, cols []column) (int, error) {
	const null = "NULL"
	var body [][]string
	allNumbers := make([]bool, len(cols))
	for i := range allNumbers {
		allNumbers[i] = true
	}
	for {
		row, ok, err := scan(rows, cols)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		line := make([]string, len(row))
		for i, c := range row {
			if c == nil {
				line[i] = null
				continue
			}
			if _, isNum := c.(number); !isNum {
				allNumbers[i] = false
			}
			line[i] = tableText(text(c))
		}
		body = append(body, line)
	}

	header := make([]string, len(cols))
	right := make([]bool, len(cols))
	widths := make([]int, len(cols))
	for i, c := range cols {
		header[i] = tableText(c.name)
		// Right-align by type; a driver that names no types gets it by value.
		right[i] = isNumericType(c.dbType) || (c.dbType == "" && allNumbers[i] && len(body) > 0)
		widths[i] = cells.StringWidth(header[i])
	}
	for _, line := range body {
		for i, s := range line {
			widths[i] = max(widths[i], cells.StringWidth(s))
		}
	}

	separator := make([]string, len(cols))
	for i, wd := range widths {
		separator[i] = strings.Repeat("-", wd)
	}
	if len(cols) > 0 {
		writeTableLine(w, header, widths, right)
		writeTableLine(w, separator, widths, right)
		for _, line := range body {
			writeTableLine(w, line, widths, right)
		}
	}
	unit := "rows"
	if len(body) == 1 {
		unit = "row"
	}
	_, err := fmt.Fprintf(w, "(%d %s)\n", len(body), unit)
	return len(body), err
}

func writeTableLine(w *bufio.Writer, line []string, widths []int, right []bool) {
	var b strings.Builder
	for i, s := range line {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", widths[i]-cells.StringWidth(s))
		if right[i] {
			b.WriteString(pad + s)
		} else {
			b.WriteString(s + pad)
		}
	}
	w.WriteString(strings.TrimRight(b.String(), " "))
	w.WriteByte('\n')
}

var controlChars = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

// tableText keeps a value on one line and within MaxCellWidth cells.
func tableText(s string) string {
	return cells.Truncate(controlChars.Replace(s), MaxCellWidth, "…")
}
