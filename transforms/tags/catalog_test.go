package tags

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"cdp/internal/sqltest"
	"cdp/transforms/core"
	"cdp/warehouse"
)

func TestLoad_BuiltinCatalogHasEveryCategory(t *testing.T) {
	cat, err := Load(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	by := cat.ByCategory()
	for _, c := range Categories {
		if len(by[c.ID]) == 0 {
			t.Errorf("category %s has no tags", c.ID)
		}
	}
	for _, tg := range cat.Tags {
		if tg.File == "" || tg.Line == 0 || tg.SQLLine <= tg.Line {
			t.Errorf("%s: position %s:%d, sql at %d", tg.ID, tg.File, tg.Line, tg.SQLLine)
		}
	}
}

func TestLoad_ProblemsNameFileAndLine(t *testing.T) {
	good := "  - id: ok_tag\n    name_zh: 好\n    name_en: Good\n    type: int\n    description: d\n    sql: SELECT 1\n"
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("category: assets\nowner: o\ntags:\n" + good +
			"  - id: Bad-Id\n    name_zh: 坏\n    name_en: Bad\n    type: text\n    description: d\n    sql: SELECT 1\n" +
			"  - id: no_values\n    name_zh: 枚\n    name_en: Enum\n    type: enum\n    description: d\n    sql: SELECT 1\n")},
		"b.yaml": {Data: []byte("category: wealth\ntags:\n" + good)},
		"c.yaml": {Data: []byte("category: risk\nowner: o\ntags:\n  - id: x\n    name_zh: x\n    name_en: x\n    typ: int\n")},
	}
	_, err := Load(fsys)
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`a.yaml:10: Bad-Id: id "Bad-Id": lower-case letters`,
		`a.yaml:10: Bad-Id: type "text": want one of string, enum, int, decimal, bool`,
		`a.yaml:16: no_values: an enum needs values: (two or more)`,
		`b.yaml:1: category "wealth": want one of natural, assets, behaviour, risk, relationships`,
		`b.yaml:3: ok_tag: id declared twice (first in a.yaml:4)`,
		`b.yaml:3: ok_tag: owner is required (on the tag or the file)`,
		`c.yaml:7: unknown key "typ"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

func TestLoad_WindowsAreForPartyTagsThatReadADay(t *testing.T) {
	tag := func(id, extra, sql string) string {
		return "  - id: " + id + "\n    name_zh: 窗\n    name_en: W\n    type: int\n    description: d\n" + extra + "    sql: " + sql + "\n"
	}
	dated := "SELECT party_id, 1 AS value FROM core.activity_day WHERE day = {as_of}"
	win := "    windows: [{table: core.activity_day, column: day, days: 30}]\n"
	fsys := fstest.MapFS{"w.yaml": {Data: []byte("category: behaviour\nowner: o\ntags:\n" +
		tag("fine", "    scope: party\n"+win, dated) + // line 4
		tag("bank_scoped", win, dated) + // 12
		tag("current", "    scope: party\n    reads: current\n"+win, "SELECT party_id, 1 AS value FROM core.party") + // 19
		tag("snapshot", "    scope: party\n"+win, "SELECT party_id, 1 AS value FROM core.aum_daily WHERE as_of_date = {day:core.aum_daily}") + // 28
		tag("malformed", "    scope: party\n    windows: [{table: activity_day, column: 'a b', days: 0}, {table: core.x, column: d, days: 1}, {table: CORE.X, column: d, days: 2}]\n", dated) + // 36
		tag("snapshot_days", "    scope: party\n    windows: [{table: core.aum_daily, snapshot: true, days: 30}, {table: core.holding_daily, column: day, snapshot: true}, {table: core.loan_daily, snapshot: true}]\n",
			"SELECT party_id, 1 AS value FROM core.aum_daily WHERE as_of_date = {day:core.aum_daily} UNION ALL SELECT party_id, 1 FROM core.holding_daily WHERE as_of_date = {day:core.holding_daily}") + // 44
		tag("snapshot_ok", "    scope: party\n    windows: [{table: core.aum_daily, snapshot: true}]\n", "SELECT party_id, aum AS value FROM core.aum_daily WHERE as_of_date = {day:core.aum_daily}") + // 53
		tag("snapshot_calendar", "    scope: party\n    windows: [{table: core.holding_daily, snapshot: true}]\n", // 60
			"SELECT party_id, 1 AS value FROM core.holding_daily WHERE as_of_date = {day:core.holding_daily} AND maturity_date <= {as_of} + 30"))}}
	_, err := Load(fsys)
	if err == nil {
		t.Fatal("no problems found")
	}
	msg := err.Error()
	for _, want := range []string{
		"w.yaml:12: bank_scoped: windows are for a tag of scope party whose sql reads a day",
		"w.yaml:19: current: windows are for a tag of scope party whose sql reads a day",
		"w.yaml:28: snapshot: the sql reads core.aum_daily's snapshot ({day:core.aum_daily}): declare it among the windows",
		"w.yaml:44: snapshot_days: windows[0]: a snapshot window has no days",
		`w.yaml:44: snapshot_days: windows[1]: column "day": a snapshot is picked by as_of_date`,
		"w.yaml:44: snapshot_days: windows[2]: the sql does not read core.loan_daily's snapshot ({day:core.loan_daily})",
		"w.yaml:60: snapshot_calendar: the sql reads {as_of} but its windows are snapshots alone",
		`w.yaml:36: malformed: windows[0]: table "activity_day": want schema.name`,
		`w.yaml:36: malformed: windows[0]: column "a b": want the name of the table's date column`,
		"w.yaml:36: malformed: windows[0]: days 0: want the window's length, 1 or more",
		"w.yaml:36: malformed: windows[2]: table CORE.X has a window already",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "fine:") || strings.Contains(msg, "snapshot_ok:") {
		t.Errorf("a good tag was reported:\n%s", msg)
	}
}

func TestValidate_ChecksTheSQLAgainstTheWarehouse(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tag := func(id, typ, sql string, values ...string) *Tag {
		return &Tag{ID: id, Type: typ, SQL: sql, Values: values, File: "t.yaml", Line: 3, SQLLine: 9}
	}
	cat := &Catalog{Tags: []*Tag{
		tag("fine", "enum", "SELECT * FROM (VALUES ('P1', 'a'), ('P2', 'b')) t(party_id, value)", "a", "b"),
		tag("no_table", "int", "SELECT party_id, 1 AS value FROM core.nowhere"),
		tag("columns", "int", "SELECT 'P1' AS party, 1 AS value"),
		tag("typed", "bool", "SELECT 'P1' AS party_id, 'yes' AS value"),
		tag("twice", "int", "SELECT * FROM (VALUES ('P1', 1), ('P1', 2)) t(party_id, value)"),
		tag("stray", "enum", "SELECT * FROM (VALUES ('P1', 'a'), ('P2', 'z')) t(party_id, value)", "a", "b"),
		tag("decimal_ok", "decimal", "SELECT 'P1' AS party_id, 1.5 AS value"),
	}}
	// windows: over a table the SQL reads, keyed by party, by a date
	for _, s := range []string{
		`CREATE SCHEMA IF NOT EXISTS x`,
		`CREATE TABLE x.events (party_id VARCHAR, day DATE, seen_at TIMESTAMP, label VARCHAR)`,
		`CREATE TABLE x.notes (id VARCHAR, day DATE)`,
	} {
		sqltest.Exec(t, w.DB(), s)
	}
	windowed := func(id, sql string, win Window) *Tag {
		tg := tag(id, "int", sql)
		tg.Windows = []Window{win}
		return tg
	}
	events := "SELECT party_id, count(*) AS value FROM x.events WHERE day <= {as_of} GROUP BY party_id"
	cat.Tags = append(cat.Tags,
		windowed("window_ok", events, Window{Table: "x.events", Column: "day", Days: 30}),
		windowed("window_stamp", events, Window{Table: "X.Events", Column: "seen_at", Days: 30}),
		windowed("window_unread", events, Window{Table: "x.notes", Column: "day", Days: 30}),
		windowed("window_unkeyed", "SELECT id AS party_id, count(*) AS value FROM x.notes WHERE day <= {as_of} GROUP BY id", Window{Table: "x.notes", Column: "day", Days: 30}),
		windowed("window_column", events, Window{Table: "x.events", Column: "when", Days: 30}),
		windowed("window_typed", events, Window{Table: "x.events", Column: "label", Days: 30}),
	)
	err = Validate(ctx, w.DB(), cat, "2026-11-20")
	if err == nil {
		t.Fatal("no problems found")
	}
	msg := err.Error()
	for _, want := range []string{
		"t.yaml:9: no_table: sql does not compile: ",
		"t.yaml:9: columns: sql gives columns party, value; want party_id, value",
		"t.yaml:9: typed: value is VARCHAR, which a tag of type bool cannot hold",
		"t.yaml:9: twice: sql gives 1 parties more than one row",
		"t.yaml:9: stray: value z not among the declared values",
		"t.yaml:3: window_unread: windows[0]: the sql does not read x.notes",
		"t.yaml:3: window_unkeyed: windows[0]: x.notes has no party_id column",
		"t.yaml:3: window_column: windows[0]: x.events has no column when",
		"t.yaml:3: window_typed: windows[0]: x.events.label is VARCHAR; want a DATE or TIMESTAMP",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	for _, ok := range []string{"fine:", "decimal_ok:", "window_ok:", "window_stamp:"} {
		if strings.Contains(msg, ok) {
			t.Errorf("a good tag was reported:\n%s", msg)
		}
	}
}

func TestDocs_ListEveryTagUnderItsCategory(t *testing.T) {
	cat, err := Load(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Docs(&b, cat); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, c := range Categories {
		if !strings.Contains(doc, "## "+c.ZH+" "+c.EN) {
			t.Errorf("docs lack the %s heading", c.ID)
		}
	}
	for _, tg := range cat.Tags {
		if !strings.Contains(doc, "| `"+tg.ID+"` | "+tg.NameZH+" | ") || !strings.Contains(doc, "<code>"+tg.ID+"</code> definition") {
			t.Errorf("docs lack tag %s", tg.ID)
		}
	}
}

// TestRun_RefusesToDateARunWithoutData: on a warehouse with no snapshot yet,
// a run without --as-of is refused rather than dated today (which would
// block every later run for the real business dates).
func TestRun_RefusesToDateARunWithoutData(t *testing.T) {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := core.Build(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	cat, err := Load(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, w, cat, RunOptions{}); err == nil || !strings.Contains(err.Error(), "no snapshot day") {
		t.Fatalf("run on an empty warehouse: %v", err)
	}
	var runs int
	sqltest.Row(t, w.DB(), `SELECT count(*) FROM ops.tag_runs`).Scan(&runs)
	if runs != 0 {
		t.Errorf("%d runs recorded", runs)
	}
}
