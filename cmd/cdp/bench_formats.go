package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
)

// cdp bench formats: the same rows as our GBK CSV, as a fixed-width GBK
// file, and as a foreign bank's mapped CSV (Chinese headers, its own codes,
// compact dates), each loaded by our whole ingest
// path; the ratios are to the CSV, measured in one run.

func newBenchFormatsCmd(g *globals) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "formats",
		Short: "Fixed-width GBK and a mapped feed against our GBK CSV path, on the same rows",
		Long: `Generates a bank (or reuses --data), takes its largest credit loans file and
writes its rows three ways: our GBK CSV, a fixed-width GBK file (widths in
bytes, read through a mapping's field list), and a foreign bank's GBK CSV
loaded through a mapping (Chinese header names in another order, code maps
for currency, five-class and status, dates as YYYYMMDD read by a layout). Each is loaded --runs times by the
whole ingest path into a fresh warehouse, the three alternating; medians
are reported with each one's throughput as a ratio of the CSV's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchFormats(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.parties, "parties", 100000, "parties in the generated bank")
	cmd.Flags().StringVar(&o.data, "data", "", "reuse a bank generated into this folder (default: generate into a temp folder)")
	cmd.Flags().IntVar(&o.runs, "runs", 5, "runs per variant (the median is reported)")
	cmd.Flags().IntVar(&o.scale, "scale", 5, "repeat the file's rows this many times, so fixed costs do not dominate")
	return cmd
}

type formatVariant struct {
	name, format, file, mapping string
	data                        []byte
}

func benchFormats(ctx context.Context, out io.Writer, o benchOptions) error {
	dir, work, cleanup, err := benchBank(ctx, out, o, 0)
	defer cleanup()
	if err != nil {
		return err
	}
	cases, err := benchCases(dir, work)
	if err != nil {
		return err
	}
	e := cases[0].entity // credit loans, the csv-gbk case
	rows, err := readGBKCSV(cases[0].file, len(e.Columns))
	if err != nil {
		return err
	}
	var all [][]string
	for range max(1, o.scale) {
		all = append(all, rows...)
	}
	variants, err := formatVariants(e, all)
	if err != nil {
		return err
	}
	times := make([][]float64, len(variants))
	var loaded []int64
	for run := range max(1, o.runs) {
		for i, v := range variants {
			proj, err := variantProject(work, e, v, fmt.Sprintf("%s-%d", v.name, run))
			if err != nil {
				return err
			}
			t0 := time.Now()
			rep, err := ingestProject(ctx, proj)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			times[i] = append(times[i], time.Since(t0).Seconds())
			if failed := rep.Failed(); len(failed) > 0 {
				return fmt.Errorf("%s: %w", v.name, failed[0].Err)
			}
			if run == 0 {
				n, _, _, _ := rep.Totals()
				loaded = append(loaded, n)
			}
			os.RemoveAll(filepath.Dir(proj))
		}
	}
	fmt.Fprintf(out, "\n%-14s %8s %9s | %9s %10s %8s | %6s\n", "variant", "MB", "rows", "median s", "rows/s", "MB/s", "ratio")
	base := median(times[0])
	for i, v := range variants {
		mb := float64(len(v.data)) / 1e6
		m := median(times[i])
		fmt.Fprintf(out, "%-14s %8.1f %9d | %9.3f %10.0f %8.1f | %5.2fx\n", v.name, mb, loaded[i], m, float64(loaded[i])/m, mb/m, base/m)
	}
	fmt.Fprintf(out, "\nrows: credit loans (%s) repeated %dx; median of %d runs each, the variants alternating.\n", filepath.Base(cases[0].file), max(1, o.scale), max(1, o.runs))
	fmt.Fprintln(out, "ratio = the variant's rows/s over csv-gbk's in the same run (bars: fixed-gbk ≥ 0.7x, mapped-csv ≥ 0.9x).")
	return nil
}

// readGBKCSV reads a GBK CSV's data rows (those with the header's width).
func readGBKCSV(path string, width int) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	utf, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := csv.NewReader(bytes.NewReader(utf))
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out [][]string
	for _, rec := range recs[1:] {
		if len(rec) == width {
			out = append(out, rec)
		}
	}
	return out, nil
}

// benchCodes are a foreign bank's codes for the loans' enum columns.
func benchCodes(c contract.Column) map[string]string {
	m := map[string]string{}
	for i, v := range c.Enum {
		m[v] = fmt.Sprintf("%02d", i+1)
	}
	if c.Name == "five_class" {
		for i, zh := range []string{"正常", "关注", "次级", "可疑", "损失"} {
			m[fmt.Sprint(i+1)] = zh
		}
	}
	return m
}

func formatVariants(e *contract.Entity, rows [][]string) ([]formatVariant, error) {
	enc := simplifiedchinese.GB18030.NewEncoder()
	gb := func(s string) ([]byte, error) { return enc.Bytes([]byte(s)) }
	var vs []formatVariant

	// Our CSV.
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	names := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		names[i] = c.Name
	}
	w.Write(names)
	w.WriteAll(rows)
	data, err := gb(buf.String())
	if err != nil {
		return nil, err
	}
	vs = append(vs, formatVariant{name: "csv-gbk", format: "csv", file: e.FileName("20261120"), data: data})

	// Fixed width, in bytes of GBK.
	widths := make([]int, len(e.Columns))
	enc2 := make([][][]byte, len(rows))
	for r, row := range rows {
		enc2[r] = make([][]byte, len(row))
		for i, v := range row {
			b, err := gb(v)
			if err != nil {
				return nil, err
			}
			enc2[r][i] = b
			widths[i] = max(widths[i], len(b), 1)
		}
	}
	buf.Reset()
	for _, row := range enc2 {
		for i, v := range row {
			buf.Write(v)
			buf.WriteString(strings.Repeat(" ", widths[i]-len(v)))
		}
		buf.WriteString("\r\n")
	}
	var m strings.Builder
	fmt.Fprintf(&m, "    mapping:\n      %s:\n        fields:\n", e.Name)
	for i, c := range e.Columns {
		fmt.Fprintf(&m, "          - {name: %s, width: %d}\n", c.Name, widths[i])
	}
	vs = append(vs, formatVariant{name: "fixed-gbk", format: "fixed", file: e.FileName("20261120"), data: append([]byte(nil), buf.Bytes()...), mapping: m.String()})

	// A foreign bank: Chinese names in reverse order, codes, compact dates.
	buf.Reset()
	w = csv.NewWriter(&buf)
	n := len(e.Columns)
	head := make([]string, n)
	for i, c := range e.Columns {
		head[n-1-i] = c.ZH
	}
	w.Write(head)
	for _, row := range rows {
		rec := make([]string, n)
		for i, c := range e.Columns {
			v := row[i]
			switch {
			case v == "":
			case len(c.Enum) > 0:
				v = benchCodes(c)[v]
			case c.Type == contract.Date:
				v = strings.ReplaceAll(v, "-", "")
			}
			rec[n-1-i] = v
		}
		w.Write(rec)
	}
	w.Flush()
	if data, err = gb(buf.String()); err != nil {
		return nil, err
	}
	m.Reset()
	fmt.Fprintf(&m, "    mapping:\n      %s:\n        columns:\n", e.Name)
	for _, c := range e.Columns {
		parts := []string{"from: " + c.ZH}
		switch {
		case len(c.Enum) > 0:
			var codes []string
			for v, code := range benchCodes(c) {
				codes = append(codes, fmt.Sprintf("%q: %q", code, v))
			}
			parts = append(parts, "codes: {"+strings.Join(codes, ", ")+"}")
		case c.Type == contract.Date:
			parts = append(parts, `layout: "%Y%m%d"`)
		}
		fmt.Fprintf(&m, "          %s: {%s}\n", c.Name, strings.Join(parts, ", "))
	}
	vs = append(vs, formatVariant{name: "mapped-csv", format: "csv", file: e.FileName("20261120"), data: data, mapping: m.String()})
	return vs, nil
}

// variantProject writes a one-file project for a variant.
func variantProject(work string, e *contract.Entity, v formatVariant, name string) (string, error) {
	dir := filepath.Join(work, name)
	feedDir := filepath.Join(dir, "feeds", e.Feed)
	if err := os.MkdirAll(feedDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(feedDir, v.file)
	if err := os.WriteFile(path, v.data, 0o644); err != nil {
		return "", err
	}
	lines := bytes.Count(v.data, []byte("\n"))
	if v.format != "fixed" {
		lines-- // the header
	}
	if err := os.WriteFile(path+".ok", []byte(fmt.Sprintf("%d|%x\n", lines, md5.Sum(v.data))), 0o644); err != nil {
		return "", err
	}
	yaml := fmt.Sprintf(`warehouse: {path: wh.duckdb}
feeds:
  - name: %s
    kind: files
    path: feeds/%s
    format: %s
    encoding: gb18030
    entities: [%s]
%s`, e.Feed, e.Feed, v.format, e.Name, v.mapping)
	cfg := filepath.Join(dir, "cdp.yaml")
	return cfg, os.WriteFile(cfg, []byte(yaml), 0o644)
}
