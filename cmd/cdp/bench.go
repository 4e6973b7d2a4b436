package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"
	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
	"cdp/internal/synthbank"
	"cdp/pipeline"
	"cdp/warehouse"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks: measured on this machine, ours against DuckDB's own readers"}
	var o benchOptions
	ingest := &cobra.Command{
		Use:   "ingest",
		Short: "Connector throughput per format against DuckDB's bare readers, and peak memory at 1x and 10x file size",
		Long: `Generates a bank (or reuses --data), then for one large file per format times
our whole ingest path (control file check, decoding, validation, lineage,
Arrow into DuckDB, checkpoint) against DuckDB loading the same file bare
(read_csv / read_json / read_parquet into a table; the GBK file is compared
with the same file in UTF-8, which DuckDB can read). Each is run --runs times
into a fresh database; medians are reported, with the ratio of our
throughput to DuckDB's measured in the same run.

With --memory, our ingest of the file and of a copy 10x larger run as child
processes and their peak RSS is reported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return benchIngest(cmd.Context(), g, cmd.OutOrStdout(), o)
		},
	}
	ingest.Flags().IntVar(&o.parties, "parties", 100000, "parties in the generated bank")
	ingest.Flags().StringVar(&o.data, "data", "", "reuse a bank generated into this folder (default: generate into a temp folder)")
	ingest.Flags().IntVar(&o.runs, "runs", 3, "runs per measurement (the median is reported)")
	ingest.Flags().BoolVar(&o.memory, "memory", false, "also measure peak RSS at 1x and 10x file size")
	ingest.Flags().StringVar(&o.only, "format", "", "only this format: csv-gbk, delimited, jsonl-gz, parquet")
	ingest.Flags().StringVar(&o.memLim, "memory-limit", "", "ingest.memory_limit for our loads (default: the project default, 64MB)")
	ingest.Flags().IntVar(&o.scale, "scale", 5, "time files with their data rows repeated this many times, so fixed costs do not dominate")
	one := &cobra.Command{
		Use: "ingest-project CONFIG", Hidden: true, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := ingestProject(cmd.Context(), args[0]); err != nil {
				return err
			}
			return printPeakRSS(cmd.OutOrStdout())
		},
	}
	bare := &cobra.Command{
		Use: "bare-load DB SQL", Hidden: true, Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := bareLoad(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return printPeakRSS(cmd.OutOrStdout())
		},
	}
	cmd.AddCommand(ingest, one, bare, newBenchUnifyCmd(g), newBenchPublishCmd(g), newBenchFormatsCmd(g), newBenchConsoleCmd(g), newBenchSQLCmd(g), newBenchStreamCmd(g), newBenchDAGCmd(g))
	return cmd
}

type benchOptions struct {
	parties int
	data    string
	runs    int
	memory  bool
	only    string
	scale   int
	memLim  string
}

// benchCase is one file loaded both ways.
type benchCase struct {
	name     string // csv-gbk, delimited, jsonl-gz, parquet
	feed     string
	entity   *contract.Entity
	file     string // our input
	bare     string // what DuckDB reads (UTF-8 copy for GBK)
	bareSQL  string // with %s for the path
	format   string
	encoding string
}

// benchBank is the bank a benchmark reads: --data, or one generated into
// a temporary folder; and a work folder. cleanup removes what it made.
func benchBank(ctx context.Context, out io.Writer, o benchOptions, bad float64) (dir, work string, cleanup func(), err error) {
	var remove []string
	cleanup = func() {
		for _, r := range remove {
			os.RemoveAll(r)
		}
	}
	dir = o.data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cdp-bench-"); err != nil {
			return "", "", cleanup, err
		}
		remove = append(remove, dir)
	}
	if _, serr := os.Stat(filepath.Join(dir, "feeds")); os.IsNotExist(serr) {
		t0 := time.Now()
		if _, err = generateBank(ctx, synthbank.Options{Out: dir, Parties: o.parties, Days: 2, Seed: 1, BadRowRate: bad}); err != nil {
			return "", "", cleanup, err
		}
		fmt.Fprintf(out, "generated %d parties × 2 days in %.1fs into %s\n", o.parties, time.Since(t0).Seconds(), dir)
	}
	if work, err = os.MkdirTemp("", "cdp-bench-work-"); err != nil {
		return "", "", cleanup, err
	}
	remove = append(remove, work)
	return dir, work, cleanup, nil
}

func benchIngest(ctx context.Context, g *globals, out io.Writer, o benchOptions) error {
	dir, work, cleanup, err := benchBank(ctx, out, o, 0.0005)
	defer cleanup()
	if err != nil {
		return err
	}
	cases, err := benchCases(dir, work)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "\n%-10s %-28s %8s %9s | %9s %9s %8s | %9s %8s | %6s\n", "format", "file", "MB", "rows", "ours s", "rows/s", "MB/s", "duckdb s", "MB/s", "ratio")
	base := map[string]string{} // format → the file timed (the 1x of the memory check)
	for _, c := range cases {
		if o.only != "" && o.only != c.name {
			continue
		}
		if o.scale > 1 {
			if c.file, err = repeatFile(c, work, o.scale); err != nil {
				return err
			}
		}
		c.bare = c.file
		if c.encoding != "utf-8" {
			// DuckDB reads no GBK: it gets the same file transcoded to UTF-8.
			c.bare = filepath.Join(work, c.name+"-utf8.csv")
			if err := transcodeGBK(c.file, c.bare); err != nil {
				return err
			}
		}
		base[c.name] = c.file
		st, _ := os.Stat(c.file)
		mb := float64(st.Size()) / 1e6
		var ours, bare []float64
		var rows int64
		for run := 0; run < o.runs; run++ {
			proj, err := benchProject(work, c, c.file, fmt.Sprintf("%s-%d", c.name, run), o.memLim)
			if err != nil {
				return err
			}
			t0 := time.Now()
			rep, err := ingestProject(ctx, proj)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			ours = append(ours, time.Since(t0).Seconds())
			rows, _, _, _ = rep.Totals()
			secs, err := bareLoad(ctx, filepath.Join(work, fmt.Sprintf("bare-%s-%d.duckdb", c.name, run)), fmt.Sprintf(c.bareSQL, c.bare))
			if err != nil {
				return fmt.Errorf("%s: duckdb bare reader: %w", c.name, err)
			}
			bare = append(bare, secs)
		}
		mo, mb2 := median(ours), median(bare)
		fmt.Fprintf(out, "%-10s %-28s %8.1f %9d | %9.3f %9.0f %8.1f | %9.3f %8.1f | %5.2fx\n",
			c.name, filepath.Base(c.file), mb, rows, mo, float64(rows)/mo, mb/mo, mb2, mb/mb2, mb2/mo)
	}
	fmt.Fprintf(out, "\nfiles: the largest of each format in the bank, data rows repeated %dx; median of %d runs each.\n", o.scale, o.runs)
	fmt.Fprintln(out, "ratio = our throughput / DuckDB's bare reader on the same file in the same run (≥ 0.5x is the bar for the text formats).")
	if !o.memory {
		return nil
	}
	fmt.Fprintf(out, "\n%-10s %12s %12s %8s | %14s %14s %8s\n", "format", "ours 1x MB", "ours 10x MB", "growth", "duckdb 1x MB", "duckdb 10x MB", "growth")
	// 1x is the file timed above; 10x repeats the original's rows ten times more.
	for _, c := range cases {
		if o.only != "" && o.only != c.name {
			continue
		}
		big, err := repeatFile(c, work, 10*max(1, o.scale))
		if err != nil {
			return err
		}
		var rss, bareRSS [2]int64
		for i, f := range []string{base[c.name], big} {
			// Ours: the median of --runs children, each into a fresh warehouse.
			var peaks []float64
			for run := range max(1, o.runs) {
				proj, err := benchProject(work, c, f, fmt.Sprintf("%s-mem-%d-%d", c.name, i, run), o.memLim)
				if err != nil {
					return err
				}
				peak, err := childPeakRSS(ctx, "ingest-project", proj)
				if err != nil {
					return err
				}
				peaks = append(peaks, float64(peak))
			}
			rss[i] = int64(median(peaks))
			bareFile := f
			if c.encoding != "utf-8" {
				bareFile = filepath.Join(work, fmt.Sprintf("%s-mem-%d-utf8.csv", c.name, i))
				if err := transcodeGBK(f, bareFile); err != nil {
					return err
				}
			}
			db := filepath.Join(work, fmt.Sprintf("bare-mem-%s-%d.duckdb", c.name, i))
			if bareRSS[i], err = childPeakRSS(ctx, "bare-load", db, fmt.Sprintf(c.bareSQL, bareFile)); err != nil {
				return err
			}
		}
		growth := func(r [2]int64) float64 { return 100 * float64(r[1]-r[0]) / float64(r[0]) }
		fmt.Fprintf(out, "%-10s %12.0f %12.0f %7.0f%% | %14.0f %14.0f %7.0f%%\n", c.name, float64(rss[0])/1e6, float64(rss[1])/1e6, growth(rss),
			float64(bareRSS[0])/1e6, float64(bareRSS[1])/1e6, growth(bareRSS))
	}
	fmt.Fprintf(out, "\npeak RSS (VmHWM) of a child process loading the timed file and one 10x larger: our ingest (median of %d children; ingest.memory_limit caps DuckDB), and DuckDB's bare reader with its defaults (one child). The bar: ours grows at most 30%%.\n", max(1, o.runs))
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// benchCases picks the largest file of each format in the generated bank.
func benchCases(dir, work string) ([]benchCase, error) {
	largest := func(glob string) (string, error) {
		m, err := filepath.Glob(filepath.Join(dir, "feeds", glob))
		if err != nil || len(m) == 0 {
			return "", fmt.Errorf("no %s in %s/feeds", glob, dir)
		}
		best, size := "", int64(-1)
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && st.Size() > size {
				best, size = f, st.Size()
			}
		}
		return best, nil
	}
	var cases []benchCase
	add := func(name, feed, entity, glob, bareSQL, format, enc string) error {
		f, err := largest(glob)
		if err != nil {
			return err
		}
		e, err := contract.Lookup(feed, entity)
		if err != nil {
			return err
		}
		cases = append(cases, benchCase{name: name, feed: feed, entity: e, file: f, bare: f, bareSQL: bareSQL, format: format, encoding: enc})
		return nil
	}
	if err := add("csv-gbk", "credit", "loans", "credit/loans_*.csv", "CREATE TABLE t AS SELECT * FROM read_csv('%s', header = true, delim = ',', quote = '\"')", "csv", "gb18030"); err != nil {
		return nil, err
	}
	if err := add("delimited", "card", "txns", "card/txns_*.del", "CREATE TABLE t AS SELECT * FROM read_csv('%s', header = true, delim = '|', quote = '', escape = '', ignore_errors = true)", "delimited", "utf-8"); err != nil {
		return nil, err
	}
	if err := add("jsonl-gz", "ebank", "events", "ebank/events_*.jsonl.gz", "CREATE TABLE t AS SELECT * FROM read_json('%s', format = 'newline_delimited', ignore_errors = true)", "jsonl", "utf-8"); err != nil {
		return nil, err
	}
	if err := add("parquet", "wealth", "holdings", "wealth/holdings/dt=*/*.parquet", "CREATE TABLE t AS SELECT * FROM read_parquet('%s')", "parquet", "utf-8"); err != nil {
		return nil, err
	}
	return cases, nil
}

func transcodeGBK(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	if _, err := io.Copy(w, simplifiedchinese.GB18030.NewDecoder().Reader(in)); err != nil {
		return err
	}
	return w.Flush()
}

// benchProject lays out a one-file project whose feed folder holds only the
// file (linked) and its control file.
func benchProject(work string, c benchCase, file, name, memLimit string) (string, error) {
	dir := filepath.Join(work, name)
	feedDir := filepath.Join(dir, "feeds", c.feed)
	// Keep the file's own name, and for Parquet its dt= folder, so the
	// contract's pattern matches it.
	target := filepath.Join(feedDir, filepath.Base(file))
	if c.format == "parquet" {
		target = filepath.Join(feedDir, c.entity.Name, filepath.Base(filepath.Dir(file)), filepath.Base(file))
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return "", err
	}
	for _, suffix := range []string{"", ".ok"} {
		if err := os.Symlink(file+suffix, target+suffix); err != nil {
			return "", err
		}
	}
	ingest := ""
	if memLimit != "" {
		ingest = "ingest: {memory_limit: " + memLimit + "}\n"
	}
	yaml := fmt.Sprintf(`warehouse: {path: wh.duckdb}
%sfeeds:
  - {name: %s, kind: files, path: feeds/%s, format: %s, encoding: %s, entities: [%s]}
`, ingest, c.feed, c.feed, c.format, c.encoding, c.entity.Name)
	path := filepath.Join(dir, "cdp.yaml")
	return path, os.WriteFile(path, []byte(yaml), 0o644)
}

func ingestProject(ctx context.Context, path string) (*pipeline.IngestReport, error) {
	p, err := pipeline.LoadProject(path)
	if err != nil {
		return nil, err
	}
	w, err := openWarehouse(ctx, p)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return pipeline.Ingest(ctx, p.Project, w, pipeline.IngestOptions{Logger: quietLogger()})
}

func bareLoad(ctx context.Context, path, sql string) (float64, error) {
	w, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		return 0, err
	}
	defer w.Close()
	t0 := time.Now()
	if _, err := w.DB().ExecContext(ctx, sql); err != nil {
		return 0, err
	}
	if _, err := w.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		return 0, err
	}
	return time.Since(t0).Seconds(), nil
}

// repeatFile writes a copy of a text file with its data rows repeated n
// times (Parquet: the row groups repeated), with a matching control file.
func repeatFile(c benchCase, work string, n int) (string, error) {
	// Same file name (and dt= folder) as the original, so the feed pattern matches.
	dst := filepath.Join(work, fmt.Sprintf("x%d", n), filepath.Base(filepath.Dir(c.file)), filepath.Base(c.file))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if c.format == "parquet" {
		return repeatParquet(c.file, dst, n, keyColumn(c.entity))
	}
	raw, err := readMaybeGzip(c.file)
	if err != nil {
		return "", err
	}
	header, body := []byte{}, raw
	if c.format != "jsonl" {
		i := bytes.IndexByte(raw, '\n')
		header, body = raw[:i+1], raw[i+1:]
	}
	f, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	h := md5.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	var w io.Writer = bw
	var gz *gzip.Writer
	if strings.HasSuffix(c.file, ".gz") {
		gz = gzip.NewWriter(bw)
		w = gz
	}
	w.Write(header)
	for i := 0; i < n; i++ {
		copyBody := body
		switch {
		case i == 0:
		case c.entity.UniqueKey != "":
			// Each copy of the events gets its own ids: a real day has no duplicates.
			copyBody = bytes.ReplaceAll(body, []byte(`"event_id":"`), []byte(fmt.Sprintf(`"event_id":"r%d-`, i)))
		case keyColumn(c.entity) == 0:
			// Nor does a file repeat its key: each copy's keys (the
			// first field) get a prefix of their own.
			prefix := []byte(fmt.Sprintf("r%d-", i))
			copyBody = append(append([]byte(nil), prefix...), bytes.ReplaceAll(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"), append([]byte("\n"), prefix...))...)
			copyBody = append(copyBody, '\n')
		}
		w.Write(copyBody)
	}
	if gz != nil {
		gz.Close()
	}
	bw.Flush()
	f.Close()
	rows := bytes.Count(body, []byte{'\n'}) * n
	return dst, os.WriteFile(dst+".ok", []byte(fmt.Sprintf("%d|%s\n", rows, hex.EncodeToString(h.Sum(nil)))), 0o644)
}

func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".gz") {
		return io.ReadAll(f)
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(gz)
}

// printPeakRSS prints VmHWM, this process's own peak RSS (the parent's
// rusage of a child would also count pages shared before exec).
func printPeakRSS(w io.Writer) error {
	kb := warehouse.PeakRSS() >> 10
	if kb == 0 {
		return fmt.Errorf("no VmHWM in /proc/self/status")
	}
	_, err := fmt.Fprintf(w, "%d kB\n", kb)
	return err
}

// childPeakRSS runs a hidden bench command in a child process and returns
// the peak resident set size it reports for itself.
func childPeakRSS(ctx context.Context, args ...string) (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	project := strings.Join(args, " ")
	cmd := exec.CommandContext(ctx, exe, append([]string{"bench"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("child ingest of %s: %w", project, err)
	}
	var kb int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "%d kB", &kb); err != nil {
		return 0, fmt.Errorf("child ingest of %s: peak RSS %q: %w", project, out, err)
	}
	return kb * 1024, nil
}

// keyColumn is the position of the entity's first key column among its
// columns, -1 without a key.
func keyColumn(e *contract.Entity) int {
	if len(e.Key) == 0 {
		return -1
	}
	for i, c := range e.Columns {
		if c.Name == e.Key[0] {
			return i
		}
	}
	return -1
}

// repeatParquet writes src's rows n times; from the second copy on, the
// string column key (when ≥ 0) gets a prefix per copy, so that no key
// repeats.
func repeatParquet(src, dst string, n, key int) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	pf, err := file.NewParquetReader(in)
	if err != nil {
		return "", err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return "", err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return "", err
	}
	defer tbl.Release()
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	w, err := pqarrow.NewFileWriter(tbl.Schema(), out, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)), pqarrow.DefaultWriterProps())
	if err != nil {
		return "", err
	}
	for i := 0; i < n; i++ {
		t := tbl
		if i > 0 && key >= 0 {
			if t, err = prefixColumn(tbl, key, fmt.Sprintf("r%d-", i)); err != nil {
				return "", err
			}
		}
		err := w.WriteTable(t, 128<<10)
		if t != tbl {
			t.Release()
		}
		if err != nil {
			return "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	sum, err := md5File(dst)
	if err != nil {
		return "", err
	}
	return dst, os.WriteFile(dst+".ok", []byte(fmt.Sprintf("%d|%s\n", tbl.NumRows()*int64(n), sum)), 0o644)
}

// prefixColumn is tbl with prefix before every value of its string column i.
func prefixColumn(tbl arrow.Table, i int, prefix string) (arrow.Table, error) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for _, chunk := range tbl.Column(i).Data().Chunks() {
		col, ok := chunk.(*array.String)
		if !ok {
			return nil, fmt.Errorf("column %s is %s, not a string", tbl.Schema().Field(i).Name, chunk.DataType())
		}
		for j := 0; j < col.Len(); j++ {
			if col.IsNull(j) {
				b.AppendNull()
			} else {
				b.Append(prefix + col.Value(j))
			}
		}
	}
	arr := b.NewArray()
	defer arr.Release()
	chunked := arrow.NewChunked(arr.DataType(), []arrow.Array{arr})
	defer chunked.Release()
	cols := make([]arrow.Column, tbl.NumCols())
	for c := range cols {
		if c == i {
			cols[c] = *arrow.NewColumn(tbl.Schema().Field(c), chunked)
		} else {
			cols[c] = *tbl.Column(c)
			cols[c].Retain()
		}
	}
	out := array.NewTable(tbl.Schema(), cols, tbl.NumRows())
	for c := range cols {
		cols[c].Release()
	}
	return out, nil
}

func md5File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
