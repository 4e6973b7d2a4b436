package pii

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

func TestRedact_MasksIDsAndMobilesInsideText(t *testing.T) {
	for in, want := range map[string]string{
		"ID 110101199003071234 and 13812345678, +86 139-0000-0000 stays": "ID 110101********1234 and 138****5678, +86 139******0000 stays",
		"old ID 110101900307123 then 11010119900307123X":                 "old ID 110101*****7123 then 110101********123X",
		"客户 13812345678 的证件 11010519491231002X":                          "客户 138****5678 的证件 110105********002X",
		"order 12345678901234567890 is no ID; 1381234567 is no mobile":   "order 12345678901234567890 is no ID; 1381234567 is no mobile",
		"credit code 9132050570231811XP, event OP20261120101458":         "credit code 913205********11XP, event OP20261120101458",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMacros_MaskExactlyAsGoDoes runs the DuckDB macros over the values the
// Go masks are tested with: the 360 view and exports (SQL) and profiles,
// signals and logs (Go) must show the same masked value.
func TestMacros_MaskExactlyAsGoDoes(t *testing.T) {
	db := openDB(t)
	values := []string{"", "1", "1234567", "12345678", "ABC123456", "1234567890", "12345678901", "110101199003071234",
		"11010119900307123X", "91110000100000000X", "R110101199003071234", "13812345678", "138-1234-5678", "+8613812345678",
		"张三 13812345678", "证件 110101900307123 与 13900001111", "no digits here", "139 1234 5678 and 139-12345678",
		"企业 9132050570231811XP 与 91110105779300276E", "91110105779300276EX is longer", "13812345678.50", "1381234567",
		"上海某某贸易有限公司", "138 123 45678", "ABCDEFGHJK1234567"}
	for _, v := range values {
		var id, mob, text string
		if err := db.QueryRow(`SELECT mask_id(?), mask_mobile(?), mask_text(?)`, v, v, v).Scan(&id, &mob, &text); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if want := MaskID(v); id != want {
			t.Errorf("mask_id(%q) = %q, MaskID = %q", v, id, want)
		}
		if want := MaskMobile(v); mob != want {
			t.Errorf("mask_mobile(%q) = %q, MaskMobile = %q", v, mob, want)
		}
		if want := Redact(v); text != want {
			t.Errorf("mask_text(%q) = %q, Redact = %q", v, text, want)
		}
	}
	var n sql.NullString
	if err := db.QueryRow(`SELECT mask_id(NULL) || mask_mobile(NULL) || mask_text(NULL)`).Scan(&n); err != nil || n.Valid {
		t.Errorf("NULL masked to %v (%v), want NULL", n, err)
	}
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	c, err := duckdb.NewConnector(filepath.Join(t.TempDir(), "m.duckdb"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(MacrosSQL); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMasks(t *testing.T) {
	for _, c := range []struct {
		class    Class
		in, want string
	}{
		{IDNumber, "11010519491231002X", "110105********002X"},
		{IDNumber, "ABC123456", "*********"},
		{Phone, "13812345678", "138****5678"},
		{Phone, "123", "***"},
		{FreeText, "call 13812345678", "call 138****5678"},
		{Name, "张三", "张三"},
		{None, "13812345678", "13812345678"},
	} {
		if got := Mask(c.class, c.in); got != c.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", c.class, c.in, got, c.want)
		}
	}
}

func TestClassOf_ListFirstThenName(t *testing.T) {
	for _, c := range []struct {
		schema, table, column string
		want                  Class
	}{
		{"core", "party", "id_no", IDNumber},
		{"core", "party", "mobile_source", None}, // listed: a system name, though it says mobile
		{"core", "party_xref", "legal_rep_id", IDNumber},
		{"core", "party_xref", "match_key", IDNumber},
		{"raw", "wealth_clients", "mobile", Phone},
		{"raw", "card_txns", "_extra", FreeText},
		{"mart", "some_new_table", "contact_phone", Phone}, // not listed: by its name
		{"mart", "some_new_table", "legal_rep_id_no", IDNumber},
		{"mart", "some_new_table", "aum", None},
	} {
		if got := ClassOf(c.schema, c.table, c.column); got != c.want {
			t.Errorf("ClassOf(%s.%s.%s) = %q, want %q", c.schema, c.table, c.column, got, c.want)
		}
	}
}

func TestLogHandler_RedactsMessagesAndAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("who", "13812345678")
	log.Info("lookup of 11010519491231002X failed", "arg", "13912345678", "err", errors.New("no party 110101199003071234"),
		slog.Group("g", "id", "110101199003071234"), "n", 7)
	out := buf.String()
	for _, leak := range []string{"13812345678", "11010519491231002X", "13912345678", "110101199003071234"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line carries %s: %s", leak, out)
		}
	}
	for _, want := range []string{"138****5678", "110105********002X", "139****5678", "110101********1234", "n=7"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
}
