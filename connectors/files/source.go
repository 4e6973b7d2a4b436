// Package files is the file-drop source: a folder per feed where the bank's
// systems deliver daily files (GBK CSV, pipe-delimited text, Parquet,
// JSON lines, optionally gzipped), each with a "<file>.ok" control file.
//
// A file is a load unit. Discover lists what is there, with the control file
// checked (present, row count, md5); Open parses one file into Arrow batches
// typed by the feed contract. The source keeps no state of its own: which
// files were already loaded, and under which md5, is the warehouse's
// checkpoint, committed with the rows.
package files

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/gzip"

	"cdp/connectors/contract"
	"cdp/connectors/mapping"
)

// Options configure one file feed.
type Options struct {
	Name      string         // config feed name; prefixes every file's source path
	Contract  *contract.Feed // the feed's contract
	Dir       string         // the feed's folder
	Format    contract.Format
	Encoding  string                   // utf-8, gbk, gb18030
	Delimiter string                   // csv: one byte; delimited: one or more (e.g. "|@|", "\x1f")
	Entities  []string                 // restrict to these entities; empty = all
	Patterns  map[string]string        // entity → file pattern override
	Mappings  map[string]*mapping.Plan // entity → the feed's mapping of it
	RequireOK bool                     // a data file without a control file waits
	Location  *time.Location           // for wall-clock timestamps
	Workers   int                      // parse workers; 0 = one per core
	// Loaded, when set, tells how a file was when it was last loaded. A file
	// with the same size and modification time is taken as unchanged without
	// reading it again (as rsync does); touching it makes the next run
	// re-hash it.
	Loaded func(source string) (md5 string, size int64, mtime time.Time, ok bool)
}

// Source lists and opens the files of one feed.
type Source struct {
	o Options
}

// New checks the options and returns the feed's source.
func New(o Options) (*Source, error) {
	if o.Contract == nil || len(o.Contract.Entities) == 0 {
		return nil, fmt.Errorf("feed %s: no contract", o.Name)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Encoding == "" {
		o.Encoding = "utf-8"
	}
	return &Source{o: o}, nil
}

// File is one data file found in the feed folder.
type File struct {
	Entity *contract.Entity
	Source string // "<feed>/<path inside the feed folder>", the ledger key
	Path   string
	Date   string // business date YYYYMMDD from the file name
	Bytes  int64
	MD5    string
	MTime  time.Time
	// Unchanged: same size and modification time as when it was loaded; not
	// read again.
	Unchanged bool
	// ExpectedRows is the control file's row count; -1 without a control file.
	ExpectedRows int64
	// Pending: no control file yet; the file is still being written.
	Pending bool
	// Problem: the control file disagrees with the data file, or cannot be read.
	// The file must not be loaded.
	Problem error
}

// Discover lists the feed's data files in business-date order, with their
// control files checked. It reads every file once for its md5.
func (s *Source) Discover(ctx context.Context) ([]*File, error) {
	if _, err := os.Stat(s.o.Dir); err != nil {
		return nil, fmt.Errorf("feed %s: folder %s: %w", s.o.Name, s.o.Dir, err)
	}
	var out []*File
	for _, e := range s.o.Contract.Entities {
		if len(s.o.Entities) > 0 && !contains(s.o.Entities, e.Name) {
			continue
		}
		pattern := e.Pattern
		if p, ok := s.o.Patterns[e.Name]; ok {
			pattern = p
		}
		matches, err := match(s.o.Dir, pattern)
		if err != nil {
			return nil, fmt.Errorf("feed %s: %w", s.o.Name, err)
		}
		for _, m := range matches {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			f := &File{Entity: e, Path: filepath.Join(s.o.Dir, m.rel), Date: m.date,
				Source: s.o.Name + "/" + filepath.ToSlash(m.rel), ExpectedRows: -1}
			s.check(f)
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return s.entityOrder(out[i].Entity) < s.entityOrder(out[j].Entity)
	})
	return out, nil
}

// entityOrder is the entity's place in its feed's load order.
func (s *Source) entityOrder(e *contract.Entity) int {
	for i, x := range s.o.Contract.Entities {
		if x == e {
			return i
		}
	}
	return len(s.o.Contract.Entities)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type matched struct{ rel, date string }

// match expands a pattern ({D}, {DATE}, *) under dir.
func match(dir, pattern string) ([]matched, error) {
	glob := strings.NewReplacer("{D}", "*", "{DATE}", "*").Replace(pattern)
	paths, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	rx, err := patternRegexp(pattern)
	if err != nil {
		return nil, err
	}
	var out []matched
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		m := rx.FindStringSubmatch(rel)
		if m == nil {
			continue
		}
		date := ""
		for i, name := range rx.SubexpNames() {
			switch name {
			case "d":
				date = m[i]
			case "iso":
				date = strings.ReplaceAll(m[i], "-", "")
			}
		}
		out = append(out, matched{rel: rel, date: date})
	}
	return out, nil
}

// BusinessDate is the business date (YYYYMMDD) a file's path inside its
// feed folder carries by the entity's pattern ({D} or {DATE}); "" when it
// does not match or the pattern has none.
func BusinessDate(pattern, rel string) string {
	rx, err := patternRegexp(pattern)
	if err != nil {
		return ""
	}
	m := rx.FindStringSubmatch(rel)
	if m == nil {
		return ""
	}
	for i, name := range rx.SubexpNames() {
		switch name {
		case "d":
			return m[i]
		case "iso":
			return strings.ReplaceAll(m[i], "-", "")
		}
	}
	return ""
}

// patternRegexp matches a file path (relative to the feed folder) against
// an entity's pattern, capturing its business date.
func patternRegexp(pattern string) (*regexp.Regexp, error) {
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\{D\}`, `(?P<d>\d{8})`, `\{DATE\}`, `(?P<iso>\d{4}-\d{2}-\d{2})`, `\*`, `[^/]*`).Replace(re)
	rx, err := regexp.Compile("^" + re + "$")
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return rx, nil
}

// Inspect makes a File of any path, for a dry run: its entity is the one
// named, else the one whose file pattern its name matches. No control file
// is read.
func (s *Source) Inspect(path, entity string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(filepath.ToSlash(path), "/")
	var tried []string
	for _, e := range s.o.Contract.Entities {
		pattern := e.Pattern
		if p, ok := s.o.Patterns[e.Name]; ok {
			pattern = p
		}
		tried = append(tried, e.Name+": "+pattern)
		if entity != "" {
			if e.Name == entity {
				return &File{Entity: e, Path: path, Source: filepath.Base(path), Bytes: st.Size(), ExpectedRows: -1}, nil
			}
			continue
		}
		rx, err := patternRegexp(pattern)
		if err != nil {
			return nil, err
		}
		if k := strings.Count(pattern, "/") + 1; k <= len(parts) {
			if rel := strings.Join(parts[len(parts)-k:], "/"); rx.MatchString(rel) {
				return &File{Entity: e, Path: path, Source: rel, Bytes: st.Size(), ExpectedRows: -1}, nil
			}
		}
	}
	if entity != "" {
		return nil, fmt.Errorf("feed %s has no entity %q (%s)", s.o.Name, entity, strings.Join(tried, "; "))
	}
	return nil, fmt.Errorf("%s matches no file pattern of feed %s (%s); name the entity with --entity", path, s.o.Name, strings.Join(tried, "; "))
}

// check reads the control file and the data file's md5.
func (s *Source) check(f *File) {
	st, err := os.Stat(f.Path)
	if err != nil {
		f.Problem = err
		return
	}
	// Microseconds: what the warehouse's TIMESTAMPTZ keeps of it.
	f.Bytes, f.MTime = st.Size(), st.ModTime().Truncate(time.Microsecond)
	if s.o.Loaded != nil {
		if md5, size, mtime, ok := s.o.Loaded(f.Source); ok && size == f.Bytes && !mtime.IsZero() && mtime.Equal(f.MTime) {
			f.MD5, f.Unchanged = md5, true
			return
		}
	}
	sum, err := fileMD5(f.Path)
	if err != nil {
		f.Problem = fmt.Errorf("%s: %w", f.Source, err)
		return
	}
	f.MD5 = sum
	ok, err := os.ReadFile(f.Path + ".ok")
	if errors.Is(err, os.ErrNotExist) {
		if s.o.RequireOK {
			f.Pending = true
		}
		return
	}
	if err != nil {
		f.Problem = fmt.Errorf("%s.ok: %w", f.Source, err)
		return
	}
	count, wantMD5, perr := parseControl(ok)
	switch {
	case perr != nil:
		f.Problem = fmt.Errorf("%s.ok: %w", f.Source, perr)
	case !strings.EqualFold(wantMD5, sum):
		f.Problem = fmt.Errorf("%s: md5 is %s but the control file says %s (damaged or still being written); nothing loaded", f.Source, sum, wantMD5)
	default:
		f.ExpectedRows = count
	}
}

// parseControl reads "<row count>|<md5>".
func parseControl(b []byte) (int64, string, error) {
	line := strings.TrimSpace(string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	count, sum, ok := strings.Cut(line, "|")
	if !ok {
		return 0, "", fmt.Errorf("want one line \"<row count>|<md5>\", got %q", clipString(line, 80))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(count), 10, 64)
	if err != nil || n < 0 {
		return 0, "", fmt.Errorf("row count %q is not a number", count)
	}
	sum = strings.TrimSpace(sum)
	if len(sum) != 32 {
		return 0, "", fmt.Errorf("md5 %q is not 32 hex digits", clipString(sum, 40))
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return 0, "", fmt.Errorf("md5 %q is not hex", sum)
	}
	return n, sum, nil
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Reader yields a file's batches; Finish reports rows read and rejects after
// the batches are drained, and fails when the control file's count disagrees.
type Reader interface {
	array.RecordReader
	Finish() (rowsIn int64, rejects []contract.Reject, err error)
	// BytesRead counts input bytes consumed so far (for progress).
	BytesRead() int64
	// Notes, after Finish, are what a mapped file's skipped lines told:
	// how many lines were not rows (banner, header, blank, trailer), and
	// the row counts that disagreed under check: warn.
	Notes() (skipped int64, warnings []string)
}

type finisher interface {
	array.RecordReader
	finish() (int64, []contract.Reject, error)
}

type fileReader struct {
	finisher
	f       *File
	bytesIn *atomic.Int64
}

func (r *fileReader) BytesRead() int64 { return r.bytesIn.Load() }

func (r *fileReader) Notes() (int64, []string) {
	if n, ok := r.finisher.(interface{ notes() (int64, []string) }); ok {
		return n.notes()
	}
	return 0, nil
}

func (r *fileReader) Finish() (int64, []contract.Reject, error) {
	n, rejects, err := r.finisher.finish()
	if err != nil {
		return 0, nil, err
	}
	if r.f.ExpectedRows >= 0 && n != r.f.ExpectedRows {
		return 0, nil, fmt.Errorf("%s: the control file says %d rows, the file has %d; nothing loaded", r.f.Source, r.f.ExpectedRows, n)
	}
	return n, rejects, nil
}

// Open starts parsing a discovered file, with the reader its format
// registered.
func (s *Source) Open(ctx context.Context, f *File) (Reader, error) {
	if f.Problem != nil {
		return nil, f.Problem
	}
	format := f.Entity.Format
	if s.o.Format != "" && format != contract.Parquet && format != contract.Fixed {
		format = s.o.Format
	}
	spec, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("%s: format %q is not supported", f.Source, format)
	}
	a := &openArgs{ctx: ctx, e: f.Entity, file: f, loc: s.o.Location, workers: s.o.Workers, bytesIn: new(atomic.Int64),
		encoding: s.o.Encoding, delimiter: s.o.Delimiter, format: format, plan: s.o.Mappings[f.Entity.Name]}
	if !spec.ownsFile {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Source, err)
		}
		a.r, a.closer = fh, fh
		if strings.HasSuffix(f.Path, ".gz") {
			gz, err := gzip.NewReader(bufio.NewReaderSize(fh, 1<<20))
			if err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s: not a gzip file: %w", f.Source, err)
			}
			a.r = &gzipErrors{gz: gz, source: f.Source}
			a.closer = multiCloser{gz, fh}
		}
	}
	fr, err := spec.open(a)
	if err != nil {
		if a.closer != nil {
			a.closer.Close()
		}
		return nil, err
	}
	return &fileReader{finisher: fr, f: f, bytesIn: a.bytesIn}, nil
}

// openArgs is what a format's reader is opened with.
type openArgs struct {
	ctx       context.Context
	e         *contract.Entity
	file      *File
	format    contract.Format
	r         io.Reader // the data, gunzipped (nil for a format that owns the file)
	closer    io.Closer
	encoding  string
	delimiter string
	loc       *time.Location
	workers   int
	bytesIn   *atomic.Int64
	plan      *mapping.Plan // the feed's mapping for the entity, or nil
}

// formatSpec is how one format is read: each format registers itself
// (registerFormat) from its own file, so the next format is one file.
type formatSpec struct {
	// ownsFile: the reader opens file.Path itself (Parquet needs random
	// access); the others get a stream, gunzipped when the name ends .gz.
	ownsFile bool
	open     func(a *openArgs) (finisher, error)
}

var formats = map[contract.Format]formatSpec{}

func registerFormat(f contract.Format, spec formatSpec) {
	if _, dup := formats[f]; dup {
		panic("files: format " + string(f) + " registered twice")
	}
	formats[f] = spec
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// gzipErrors names the file and explains a truncated archive.
type gzipErrors struct {
	gz     *gzip.Reader
	source string
	n      int64
}

func (g *gzipErrors) Read(p []byte) (int, error) {
	n, err := g.gz.Read(p)
	g.n += int64(n)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("%s: gzip stream is truncated after %d uncompressed bytes; nothing loaded: %w", g.source, g.n, err)
		}
		return n, fmt.Errorf("%s: gzip: %w", g.source, err)
	}
	return n, err
}
