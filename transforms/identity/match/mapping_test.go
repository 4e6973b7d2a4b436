package match

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMapping_ErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		line int // 0: the error needs no line
		want []string
	}{
		{"unknown top-level key",
			"id_column: id\nfeilds:\n  - {column: a, kind: name}\n",
			2, []string{"feilds"}},
		{"unknown key in a field",
			"id_column: id\nfields:\n  - column: a\n    kind: name\n  - column: b\n    kind: date\n    colour: red\n",
			7, []string{"colour"}},
		{"bad kind",
			"id_column: id\nfields:\n  - {column: a, kind: name}\n  - {column: b, kind: nam}\n",
			4, []string{"fields[1].kind", `"nam"`, "name, date, id, phone, address, postcode, text"}},
		{"bad kind in block style",
			"id_column: id\nfields:\n  - column: a\n    kind: name\n\n  - column: b\n    kind: colour\n",
			6, []string{"fields[1].kind", `"colour"`}},
		{"column and columns both",
			"id_column: id\nfields:\n  - {column: a, kind: name}\n  - {column: b, columns: [x, y], kind: date}\n",
			4, []string{"fields[1]", "not both"}},
		{"neither column nor columns",
			"id_column: id\nfields:\n  - {kind: name}\n",
			3, []string{"fields[0]", "column or columns"}},
		{"duplicate field",
			"id_column: id\nfields:\n  - {column: a, kind: name}\n\n  - {column: a, kind: text}\n",
			5, []string{"fields[1]", `"a" twice`}},
		{"duplicate name given to two columns",
			"fields:\n  - {column: a, name: x, kind: name}\n  - {column: b, name: x, kind: name}\n",
			3, []string{`"x" twice`}},
		{"no fields",
			"id_column: id\nfields: []\n",
			0, []string{"at least one field"}},
		{"unknown blocking field",
			"fields:\n  - {column: a, kind: name}\nblocking: [[b]]\n",
			0, []string{`no field "b"`}},
		{"wrong number of weight levels",
			"fields:\n  - {column: a, kind: name}\nweights: {a: {m: [0.1, 0.9], u: [0.9, 0.1]}}\n",
			0, []string{`"a"`, "4 levels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "people.yaml", tc.yaml)
			m, err := LoadMapping(p)
			if err == nil {
				t.Fatalf("no error; mapping %+v", m)
			}
			msg := err.Error()
			if !strings.Contains(msg, p) {
				t.Errorf("error %q does not name the file %s", msg, p)
			}
			if tc.line > 0 {
				// "file:7:" or, from the YAML decoder, "line 7:".
				re := regexp.MustCompile(`(:|line )` + strconv.Itoa(tc.line) + `:`)
				if !re.MatchString(msg) {
					t.Errorf("error %q does not name line %d", msg, tc.line)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
		})
	}
	t.Run("a missing file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "nope.yaml")
		if _, err := LoadMapping(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v does not name %s", err, p)
		}
	})
}

func TestLoadMapping_NamesDefaultToTheColumns(t *testing.T) {
	p := writeFile(t, t.TempDir(), "m.yaml", `id_column: rec_id
fields:
  - {column: given_name, kind: name}
  - {columns: [by, bm, bd], kind: date, format: "2006-1-2"}
  - {name: dob2, columns: [y, m, d], kind: date}
blocking: [[given_name], [by+bm+bd]]
threshold: 0.7
max_block: 50
`)
	m, err := LoadMapping(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Fields {
		names = append(names, f.Name)
	}
	if want := []string{"given_name", "by+bm+bd", "dob2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("field names %v, want %v", names, want)
	}
	cfg := m.Config()
	if cfg.Threshold != 0.7 || cfg.MaxBlock != 50 || !reflect.DeepEqual(cfg.Blocking, [][]string{{"given_name"}, {"by+bm+bd"}}) {
		t.Errorf("config %+v does not carry threshold, max_block and blocking", cfg)
	}
}

func TestMappingReadCSV_JoinsSplitDates(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "m.yaml", `id_column: id
fields:
  - {column: name, kind: name}
  - {name: dob, columns: [by, bm, bd], kind: date, format: "2006-1-2"}
  - {name: dob_slash, columns: [by, bm, bd], kind: text, join: "/"}
`)
	in := writeFile(t, dir, "in.csv", `id,name,by,bm,bd
1,frank,1967,9,27
2,frank,1967,09,27
3,martin, 1967 , 2 , 3
4,anna,,,
5,otto,1967,,27
`)
	m, err := LoadMapping(mp)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := m.ReadCSV([]string{in}, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1967-9-27", "1967-09-27", "1967-2-3", "", "1967--27"}; !reflect.DeepEqual(tb.Data.Values[1], want) {
		t.Errorf("joined dates %q, want %q (trimmed parts, missing when all parts are)", tb.Data.Values[1], want)
	}
	if want := []string{"1967/9/27", "1967/09/27", "1967/2/3", "", "1967//27"}; !reflect.DeepEqual(tb.Data.Values[2], want) {
		t.Errorf("joined with /: %q, want %q", tb.Data.Values[2], want)
	}
	// The layout reads the joined values as dates; a part missing leaves
	// text, compared as text.
	c := prepare(tb.Data.Fields[1], tb.Data.Values[1], nil)
	for i, wantDate := range []bool{true, true, true, false, false} {
		if got := c.date[i] != noDate; got != wantDate {
			t.Errorf("record %d (%q) parsed as a date: %v, want %v", i, tb.Data.Values[1][i], got, wantDate)
		}
	}
	if c.date[0] != c.date[1] {
		t.Errorf("1967-9-27 and 1967-09-27 are different days (%d, %d)", c.date[0], c.date[1])
	}
	if c.val[3] != "" || c.val[4] == "" {
		t.Errorf("prepared %q: want missing for no parts and kept text for some", c.val)
	}
	if !reflect.DeepEqual(tb.IDs, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("ids %v", tb.IDs)
	}
}

func TestMappingReadCSV_Errors(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "m.yaml", "id_column: rec_id\nfields:\n  - {column: given_name, kind: name}\n  - {column: surname, kind: name}\n")
	m, err := LoadMapping(mp)
	if err != nil {
		t.Fatal(err)
	}
	good := writeFile(t, dir, "good.csv", "rec_id,given_name,surname,true_id\na,john,smith,1\nb,jon,smith,1\n")
	for _, tc := range []struct {
		name  string
		files map[string]string
		truth string
		want  []string
	}{
		{"a missing mapped column lists the header",
			map[string]string{"in.csv": "rec_id,given_name,true_id\na,john,1\n"}, "",
			[]string{"in.csv", `"surname"`, "fields[1]", "rec_id, given_name, true_id"}},
		{"a missing id column",
			map[string]string{"in.csv": "id,given_name,surname\na,john,smith\n"}, "",
			[]string{"in.csv", `"rec_id"`, "id_column", "id, given_name, surname"}},
		{"a missing truth column",
			map[string]string{"in.csv": "rec_id,given_name,surname\na,john,smith\n"}, "true_id",
			[]string{"in.csv", `"true_id"`, "--truth-column"}},
		{"duplicate ids name both lines",
			map[string]string{"in.csv": "rec_id,given_name,surname\na,john,smith\nb,mary,jones\na,jon,smith\n"}, "",
			[]string{`id "a"`, "in.csv line 4", "in.csv line 2"}},
		{"a ragged row",
			map[string]string{"in.csv": "rec_id,given_name,surname\na,john\n"}, "",
			[]string{"in.csv", "line 2"}},
		{"an empty file",
			map[string]string{"in.csv": ""}, "",
			[]string{"in.csv", "header"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for name, text := range tc.files {
				paths = append(paths, writeFile(t, t.TempDir(), name, text))
			}
			_, err := m.ReadCSV(paths, tc.truth)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("duplicate ids across two inputs name both files", func(t *testing.T) {
		other := writeFile(t, dir, "other.csv", "rec_id,given_name,surname,true_id\nc,mary,jones,2\nb,jon,smith,1\n")
		_, err := m.ReadCSV([]string{good, other}, "")
		if err == nil || !strings.Contains(err.Error(), "other.csv line 3") || !strings.Contains(err.Error(), "good.csv line 3") {
			t.Errorf("error %v, want both other.csv line 3 and good.csv line 3", err)
		}
	})
	t.Run("no input or three", func(t *testing.T) {
		for _, paths := range [][]string{nil, {good, good, good}} {
			if _, err := m.ReadCSV(paths, ""); err == nil || !strings.Contains(err.Error(), "one input") {
				t.Errorf("%d inputs: error %v", len(paths), err)
			}
		}
	})
	t.Run("a missing file", func(t *testing.T) {
		p := filepath.Join(dir, "absent.csv")
		if _, err := m.ReadCSV([]string{p}, ""); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v does not name %s", err, p)
		}
	})
}

func TestMappingReadCSV_OneInputDeduplicatesTwoLink(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "m.yaml", "id_column: rec_id\ndelimiter: \";\"\nfields:\n  - {column: name, kind: name}\n  - {column: dob, kind: date}\n")
	m, err := LoadMapping(mp)
	if err != nil {
		t.Fatal(err)
	}
	a := writeFile(t, dir, "a.csv", "\ufeffrec_id;name;dob;true_id\na1;john smith;19800105;p1\na2;mary jones;19751231;p2\n")
	b := writeFile(t, dir, "b.csv", "true_id;dob;name;rec_id\np1;19800105;smith john;b1\np3;19900101;otto kranz;b2\np2;19751231;mary jones;b3\n")

	one, err := m.ReadCSV([]string{a}, "true_id")
	if err != nil {
		t.Fatal(err)
	}
	if one.Data.LinkOnly || one.Data.Source != nil {
		t.Errorf("one input: LinkOnly %v, Source %v; want a deduplication", one.Data.LinkOnly, one.Data.Source)
	}

	two, err := m.ReadCSV([]string{a, b}, "true_id")
	if err != nil {
		t.Fatal(err)
	}
	if !two.Data.LinkOnly {
		t.Error("two inputs do not set LinkOnly")
	}
	if want := []uint8{0, 0, 1, 1, 1}; !reflect.DeepEqual(two.Data.Source, want) || !reflect.DeepEqual(two.Source, want) {
		t.Errorf("Source %v (table %v), want %v", two.Data.Source, two.Source, want)
	}
	if want := []string{"a1", "a2", "b1", "b2", "b3"}; !reflect.DeepEqual(two.IDs, want) {
		t.Errorf("ids %v, want %v (columns found by name, BOM ignored)", two.IDs, want)
	}
	if want := []string{"john smith", "mary jones", "smith john", "otto kranz", "mary jones"}; !reflect.DeepEqual(two.Data.Values[0], want) {
		t.Errorf("names %q, want %q", two.Data.Values[0], want)
	}
	if want := []string{"p1", "p2", "p1", "p3", "p2"}; !reflect.DeepEqual(two.Truth, want) || !reflect.DeepEqual(two.Data.Truth, want) {
		t.Errorf("truth %v (data %v), want %v", two.Truth, two.Data.Truth, want)
	}
	// The linked table runs, and compares only across the inputs.
	res, err := Link(context.Background(), &two.Data, m.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Edges {
		if two.Data.Source[e.A] == two.Data.Source[e.B] {
			t.Errorf("edge %+v within one input", e)
		}
	}
}
