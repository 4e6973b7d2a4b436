package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/internal/sqltest"
	"cdp/warehouse"
)

var quiet = slog.New(slog.DiscardHandler)

// project is a throwaway project folder with the four file feeds.
type project struct {
	t   *testing.T
	dir string
}

func newProject(t *testing.T, extraYAML string) *project {
	t.Helper()
	dir := t.TempDir()
	yaml := `warehouse:
  path: wh.duckdb
ingest:
  workers: 2
  stream_batch: 120
feeds:
  - {name: credit, kind: files, path: feeds/credit, format: csv, encoding: gb18030}
  - {name: wealth, kind: files, path: feeds/wealth, format: parquet}
  - {name: card, kind: files, path: feeds/card, format: delimited}
  - {name: ebank, kind: files, path: feeds/ebank, format: jsonl}
  - {name: core_banking, kind: files, path: feeds/core_banking, format: fixed}
  - {name: contact, kind: files, path: feeds/contact, delimiter: "|"}
  - {name: external, kind: files, path: feeds/external}
` + extraYAML
	if err := os.WriteFile(filepath.Join(dir, "cdp.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"credit", "wealth", "card", "ebank", "core_banking", "contact", "external"} {
		os.MkdirAll(filepath.Join(dir, "feeds", f), 0o755)
	}
	return &project{t: t, dir: dir}
}

func (p *project) config() *Project {
	p.t.Helper()
	c, err := LoadProject(filepath.Join(p.dir, "cdp.yaml"))
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// write puts a data file in place without a control file.
func (p *project) write(rel string, data []byte) string {
	p.t.Helper()
	path := filepath.Join(p.dir, "feeds", rel)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// deliver writes a data file and its control file with the given row count.
func (p *project) deliver(rel string, data []byte, rows int) {
	p.t.Helper()
	path := p.write(rel, data)
	sum := md5.Sum(data)
	ok := fmt.Sprintf("%d|%s\n", rows, hex.EncodeToString(sum[:]))
	if err := os.WriteFile(path+".ok", []byte(ok), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// ingest runs one ingest into the project's warehouse and closes it.
func (p *project) ingest(feeds ...string) (*IngestReport, error) {
	p.t.Helper()
	c := p.config()
	w, err := warehouse.Open(context.Background(), c.WarehousePath(), warehouse.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	defer w.Close()
	return Ingest(context.Background(), c.Project, w, IngestOptions{Feeds: feeds, Logger: quiet})
}

// query runs fn against the project's warehouse.
func (p *project) query(fn func(w *warehouse.Warehouse)) {
	p.t.Helper()
	w, err := warehouse.Open(context.Background(), p.config().WarehousePath(), warehouse.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	defer w.Close()
	fn(w)
}

func (p *project) count(q string, args ...any) int64 {
	p.t.Helper()
	var n int64
	p.query(func(w *warehouse.Warehouse) {
		if err := w.DB().QueryRow(q, args...).Scan(&n); err != nil {
			p.t.Fatalf("%s: %v", q, err)
		}
	})
	return n
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("GBK encode: %v", err)
	}
	return b
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

const creditCustomerHeader = "cust_no,cust_type,name,id_type,id_no,mobile,birth_date,industry_code,annual_revenue,legal_rep_name,legal_rep_id_no,rm_id,branch_code,open_date,update_time"

func customerRow(custNo, typ, name, birth, revenue string) string {
	return strings.Join([]string{custNo, typ, name, "ID_CARD", "110101199003074578", "13800138000", birth, "C", revenue, "", "", "RM001", "B001", "2015-03-01", "2026-11-20 09:30:00"}, ",")
}

type reject struct {
	line   int64
	reason string
}

// rejects returns (line, reason) of a source's rejects in line order.
func (p *project) rejects(source string) []reject {
	p.t.Helper()
	var out []reject
	p.query(func(w *warehouse.Warehouse) {
		for scan := range sqltest.Rows(p.t, w.DB(), `SELECT line, reason FROM ops.rejects WHERE source = ? ORDER BY line`, source) {
			var r reject
			scan(&r.line, &r.reason)
			out = append(out, r)
		}
	})
	return out
}

func (p *project) queryRow(q string, args []any, dest ...any) {
	p.t.Helper()
	p.query(func(w *warehouse.Warehouse) {
		if err := w.DB().QueryRow(q, args...).Scan(dest...); err != nil {
			p.t.Fatalf("%s: %v", q, err)
		}
	})
}

// withContract adds a feed line under feeds: and writes a contract file
// into the project's contracts/ folder (which cdp.yaml must list).
func (p *project) withContract(feedLine, file, text string) {
	p.t.Helper()
	cfg := filepath.Join(p.dir, "cdp.yaml")
	yaml, err := os.ReadFile(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(yaml), "feeds:\n", "feeds:\n"+feedLine, 1)), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.writeContract(file, text)
}

// writeContract writes (or rewrites) a contract file of the project.
func (p *project) writeContract(file, text string) {
	p.t.Helper()
	if err := os.MkdirAll(filepath.Join(p.dir, "contracts"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, "contracts", file), []byte(text), 0o644); err != nil {
		p.t.Fatal(err)
	}
}
