package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The benchmark datasets are shared outside the project: ../shared/data
// from the project root, which is two levels above this package. CI always
// has them; a fresh clone does not, and then the tests that read them skip
// (the engine's own fixture still runs: link_fixture_test.go).
const (
	identityData = "../../../shared/data/identity"
	linkMappings = "../../examples/link"
)

// sharedIdentity returns the directory of the shared linkage benchmark
// sets, skipping the test when it is not beside this clone.
func sharedIdentity(t *testing.T) string {
	t.Helper()
	why, err := missingShared(identityData)
	if err != nil {
		t.Fatal(err)
	}
	if why != "" {
		t.Skip(why)
	}
	return identityData
}

// missingShared says what is missing when dir does not exist, "" when it
// does; any other trouble with dir is an error, not a reason to skip.
func missingShared(dir string) (string, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		return fmt.Sprintf("%s is missing: the shared linkage benchmark sets are not beside this clone (CI has them)", dir), nil
	case err != nil:
		return "", err
	case !info.IsDir():
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return "", nil
}

var linkDatasets = []string{"febrl1", "febrl2", "febrl3", "febrl_dsgen_A_10000", "rldata10000"}

// readCSV reads a whole CSV file, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return recs
}

// linkJSON decodes the output of `link --report json`: exactly one object.
func linkJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var rep map[string]any
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report is not a JSON object: %v\n%s", err, out)
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		t.Fatalf("more than one JSON value in the report (%v):\n%s", err, out)
	}
	return rep
}

// num returns the number at a dotted path of the report, failing when it
// is absent or not a number.
func num(t *testing.T, rep map[string]any, path string) float64 {
	t.Helper()
	var v any = rep
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("report: %s is not inside an object", path)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("report has no %s", path)
		}
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("report: %s = %v is not a number", path, v)
	}
	return f
}

func TestLink_BenchmarkDatasetsMeetTheF1Bar(t *testing.T) {
	data := sharedIdentity(t)
	for _, name := range linkDatasets {
		t.Run(name, func(t *testing.T) {
			input := filepath.Join(data, name+".csv")
			rows := len(readCSV(t, input)) - 1
			out, err := run(t, "link", "--mapping", filepath.Join(linkMappings, name+".yaml"),
				"--input", input, "--truth-column", "true_id", "--report", "json")
			if err != nil {
				t.Fatalf("link: %v\n%s", err, out)
			}
			rep := linkJSON(t, out)
			for _, k := range []string{"pairwise.precision", "pairwise.recall", "pairwise.f1",
				"bcubed.precision", "bcubed.recall", "bcubed.f1", "pairs_completeness", "reduction_ratio"} {
				if v := num(t, rep, k); v < 0 || v > 1 {
					t.Errorf("%s = %v, want a share in [0, 1]", k, v)
				}
			}
			if s := num(t, rep, "seconds"); s <= 0 {
				t.Errorf("seconds = %v, want the wall time", s)
			}
			if b := num(t, rep, "peak_rss_bytes"); b < 1<<20 {
				t.Errorf("peak_rss_bytes = %v, want the peak memory of the process", b)
			}
			if n := num(t, rep, "records"); int(n) != rows {
				t.Errorf("records = %v, the file has %d rows", n, rows)
			}
			f1 := num(t, rep, "pairwise.f1")
			t.Logf("%s: pairwise P %.4f R %.4f F1 %.4f, B-cubed F1 %.4f, pairs completeness %.4f, reduction ratio %.4f, %.2f s",
				name, num(t, rep, "pairwise.precision"), num(t, rep, "pairwise.recall"), f1,
				num(t, rep, "bcubed.f1"), num(t, rep, "pairs_completeness"), num(t, rep, "reduction_ratio"), num(t, rep, "seconds"))
			if f1 < 0.95 {
				t.Errorf("%s: pairwise F1 %.4f, the product bar is 0.95", name, f1)
			}
		})
	}
}

func TestLink_TextReportShowsTheEvaluation(t *testing.T) {
	out, err := run(t, "link", "--mapping", filepath.Join(linkMappings, "febrl1.yaml"),
		"--input", filepath.Join(sharedIdentity(t), "febrl1.csv"), "--truth-column", "true_id")
	if err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	for _, want := range []string{"records           1000", "pairwise          precision", "B-cubed           precision",
		"pairs completeness", "reduction ratio", "peak RSS", "given_name", "date_of_birth"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestLink_OutWritesOneRowPerRecord(t *testing.T) {
	input := filepath.Join(sharedIdentity(t), "febrl1.csv")
	in := readCSV(t, input)
	dest := filepath.Join(t.TempDir(), "clusters.csv")
	out, err := run(t, "link", "--mapping", filepath.Join(linkMappings, "febrl1.yaml"),
		"--input", input, "--out", dest, "--report", "json")
	if err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	rep := linkJSON(t, out)
	if _, ok := rep["pairwise"]; ok {
		t.Errorf("without --truth-column the report has a pairwise evaluation")
	}
	got := readCSV(t, dest)
	if head := got[0]; len(head) < 2 || head[0] != "rec_id" || head[1] != "cluster_id" {
		t.Fatalf("header %v, want rec_id,cluster_id first", head)
	}
	if len(got)-1 != len(in)-1 {
		t.Fatalf("%d rows written for %d input records", len(got)-1, len(in)-1)
	}
	written := map[string]string{}
	clusters := map[string]bool{}
	for _, row := range got[1:] {
		if _, dup := written[row[0]]; dup {
			t.Errorf("rec_id %s written twice", row[0])
		}
		if _, err := strconv.Atoi(row[1]); err != nil {
			t.Errorf("rec_id %s: cluster_id %q is not a number", row[0], row[1])
		}
		written[row[0]] = row[1]
		clusters[row[1]] = true
	}
	for _, row := range in[1:] {
		if _, ok := written[row[0]]; !ok {
			t.Errorf("input record %s has no row in --out", row[0])
		}
	}
	if n := num(t, rep, "clusters"); int(n) != len(clusters) {
		t.Errorf("report counts %v clusters, --out has %d distinct cluster ids", n, len(clusters))
	}
	// The clusters are the duplicates: rec-N-org and rec-N-dup-k share one.
	org := map[string]string{}
	for id, c := range written {
		if n, _, ok := strings.Cut(strings.TrimPrefix(id, "rec-"), "-"); ok && strings.HasSuffix(id, "-org") {
			org[n] = c
		}
	}
	same := 0
	for id, c := range written {
		if n, _, ok := strings.Cut(strings.TrimPrefix(id, "rec-"), "-"); ok && strings.Contains(id, "-dup-") && org[n] == c {
			same++
		}
	}
	if same < 475 {
		t.Errorf("only %d of 500 duplicates share their original's cluster id", same)
	}
}

func TestLink_TwoInputsAreLinked(t *testing.T) {
	// febrl1 split in two: the originals in one file, the duplicates in the
	// other.
	in := readCSV(t, filepath.Join(sharedIdentity(t), "febrl1.csv"))
	dir := t.TempDir()
	var orig, dups bytes.Buffer
	wo, wd := csv.NewWriter(&orig), csv.NewWriter(&dups)
	wo.Write(in[0])
	wd.Write(in[0])
	source := map[string]string{}
	for _, row := range in[1:] {
		if strings.HasSuffix(row[0], "-org") {
			wo.Write(row)
			source[row[0]] = "1"
		} else {
			wd.Write(row)
			source[row[0]] = "2"
		}
	}
	wo.Flush()
	wd.Flush()
	a, b := filepath.Join(dir, "originals.csv"), filepath.Join(dir, "duplicates.csv")
	if err := os.WriteFile(a, orig.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, dups.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "clusters.csv")
	out, err := run(t, "link", "--mapping", filepath.Join(linkMappings, "febrl1.yaml"),
		"--input", a, "--input", b, "--truth-column", "true_id", "--report", "json", "--out", dest)
	if err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	rep := linkJSON(t, out)
	if n := num(t, rep, "records"); n != 1000 {
		t.Errorf("records = %v, want 1000 from both inputs", n)
	}
	if inputs, _ := rep["inputs"].([]any); len(inputs) != 2 {
		t.Errorf("inputs = %v, want both files", rep["inputs"])
	}
	// Linking counts only pairs across the files: an original and its
	// duplicates, 500 in febrl1.
	if n := num(t, rep, "true_pairs"); n != 500 {
		t.Errorf("true_pairs = %v, want the 500 original–duplicate pairs", n)
	}
	if f1 := num(t, rep, "pairwise.f1"); f1 < 0.95 {
		t.Errorf("pairwise F1 %.4f linking originals to duplicates, want ≥ 0.95", f1)
	}
	got := readCSV(t, dest)
	if head := got[0]; len(head) < 4 || head[3] != "input" {
		t.Fatalf("header %v, want an input column for two inputs", head)
	}
	if len(got)-1 != 1000 {
		t.Errorf("%d rows written, want 1000", len(got)-1)
	}
	for _, row := range got[1:] {
		if source[row[0]] != row[3] {
			t.Errorf("rec_id %s: input %s, it came from input %s", row[0], row[3], source[row[0]])
		}
	}
}

func TestLink_BadFlagsGiveClearErrors(t *testing.T) {
	// The engine's own fixture, not a shared set: flag errors need a real
	// file and mapping, but no benchmark, so this runs on a fresh clone too.
	mapping, input := fixtureMapping, fixtureCSV
	missing := filepath.Join(t.TempDir(), "no-such.csv")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no --mapping", []string{"--input", input}, []string{"--mapping"}},
		{"no --input", []string{"--mapping", mapping}, []string{"--input"}},
		{"--report xml", []string{"--mapping", mapping, "--input", input, "--report", "xml"}, []string{`"xml"`, "text or json"}},
		{"a missing input file", []string{"--mapping", mapping, "--input", missing}, []string{missing}},
		{"a missing mapping file", []string{"--mapping", "no-such.yaml", "--input", input}, []string{"no-such.yaml"}},
		{"three inputs", []string{"--mapping", mapping, "--input", input, "--input", input, "--input", input}, []string{"one input", "two"}},
		{"a truth column the file lacks", []string{"--mapping", mapping, "--input", input, "--truth-column", "truth"}, []string{`"truth"`, "true_id"}},
		{"a stray argument", []string{"--mapping", mapping, "--input", input, "extra"}, []string{"extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, append([]string{"link"}, tc.args...)...)
			if err == nil {
				t.Fatalf("no error:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
