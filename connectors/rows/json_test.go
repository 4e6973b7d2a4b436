package rows

import (
	"strings"
	"testing"
	"time"

	"cdp/connectors/contract"
)

// JSON is held to RFC 8259 where the parser alone would be lenient: each
// of these lines is a malformed row naming what is wrong, and the same
// values written as JSON allows load.
func TestJSONRow_StrictJSON(t *testing.T) {
	e := &contract.Entity{Feed: "f", Name: "e", Columns: []contract.Column{
		{Name: "id", Type: contract.String, Required: true, Identifier: true},
		{Name: "n", Type: contract.Int},
		{Name: "amt", Type: contract.Decimal, Precision: 18, Scale: 2},
	}}
	b := NewBuilder(e, time.UTC)
	defer b.Release()
	j := NewJSONRow(b)
	for _, c := range []struct{ line, want string }{
		{`{"id":"a","n":01}`, "01 is not a JSON number"},
		{`{"id":"a","n":+1}`, "+1 is not a JSON number"},
		{`{"id":"a","amt":.5}`, ".5 is not a JSON number"},
		{`{"id":"a","amt":1.}`, "1. is not a JSON number"},
		{`{"id":"a","amt":NaN}`, "NaN is not a JSON number"},
		{`{"id":"a","x":[1,{"y":nan}]}`, "nan is not a JSON number"},
		{`{"id":"\x41"}`, `\x is not a JSON escape`},
		{`{"id":"\u12"}`, `\u needs four hex digits`},
		{`{"id":"\ud800x"}`, `\uD800 is half of a surrogate pair`},
		{`{"id":"\udc00"}`, `\uDC00 is half of a surrogate pair`},
		{"{\"id\":\"a\tb\"}", "a raw control character (0x09) inside a string"},
		{`{"id":"a","n":1,"n":2}`, `key "n" appears twice`},
		{`{"id":"a","x":1,"x":2}`, `key "x" appears twice`},
	} {
		prob := j.Stage([]byte(c.line))
		if prob == nil || prob.Reason != contract.ReasonMalformed || !strings.Contains(prob.Detail, c.want) {
			t.Errorf("%s: %v, want malformed_row %q", c.line, prob, c.want)
		}
	}
	for _, line := range []string{`{"id":"a","n":-0,"amt":1.5,"x":1.5e-3}`, `{"id":"\u00e9\ud83d\ude00","x":"\"\\\/\b\f\n\r\t","n":10}`, "{\"id\":\"a\",\t\"n\":1}"} {
		if prob := j.Stage([]byte(line)); prob != nil {
			t.Errorf("%s: %v", line, prob)
		} else if prob := b.Commit(1, -1); prob != nil {
			t.Errorf("%s: commit: %v", line, prob)
		}
	}
}

// An identifier with an invisible character is rejected, naming it; a
// free-text value keeps it.
func TestBuilder_InvisibleCharactersInIdentifiers(t *testing.T) {
	e := &contract.Entity{Feed: "f", Name: "e", Columns: []contract.Column{
		{Name: "cust_no", Type: contract.String, Identifier: true},
		{Name: "memo", Type: contract.String},
	}}
	b := NewBuilder(e, time.UTC)
	defer b.Release()
	for _, c := range []struct{ v, want string }{
		{"C001\u200b", "U+200B ZERO WIDTH SPACE at character 5"},
		{"\ufeffC001", "U+FEFF BYTE ORDER MARK at character 1"},
		{"C0\u00a001", "U+00A0 NO-BREAK SPACE at character 3"},
		{"C001\t", "U+0009 TAB at character 5"},
		{"客户\u3000号", "U+3000 IDEOGRAPHIC SPACE at character 3"},
		{"C\u200d1", "U+200D ZERO WIDTH JOINER"},
	} {
		b.Begin()
		prob := b.Set(0, []byte(c.v))
		if prob == nil || prob.Reason != contract.ReasonInvisible || !strings.Contains(prob.Detail, c.want) {
			t.Errorf("%q: %v, want %q", c.v, prob, c.want)
		}
	}
	b.Begin()
	if prob := b.Set(0, []byte("C 001")); prob != nil {
		t.Errorf("an ASCII space: %v", prob)
	}
	if prob := b.Set(1, []byte("family 👨\u200d👩\u200d👧")); prob != nil {
		t.Errorf("free text: %v", prob)
	}
}

// The eight-bytes-at-a-time scan finds a backslash or a control byte
// wherever it stands, and nothing in plain text.
func TestNeedsStringCheck(t *testing.T) {
	base := []byte(`{"a":"今天 plain text of some length, 12345","b":[1,2]}`)
	if needsStringCheck(base) {
		t.Fatal("plain text flagged")
	}
	for i := range base {
		for _, c := range []byte{'\\', 0x00, 0x09, 0x1f} {
			line := append([]byte(nil), base...)
			line[i] = c
			if !needsStringCheck(line) {
				t.Fatalf("%#02x at %d not found", c, i)
			}
		}
	}
}
