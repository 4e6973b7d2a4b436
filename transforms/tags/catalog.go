// Package tags owns the tag catalog — tags declared in YAML files, one file
// per category, each tag an SQL definition over the core tables that yields
// one value per party — and its values: loading and checking the catalog
// (the built-in one and a project's own folders), its documentation, a run
// as of a business day into mart.tags with their history and the day's
// changes (Run), and a read-only look at any day (Eval).
//
// A catalog file:
//
//	category: assets                  # natural | assets | behaviour | risk | relationships
//	owner: wealth-analytics           # default owner of the file's tags
//	tags:
//	  - id: aum_tier                  # lower-case letters, digits, _; unique in the catalog
//	    name_zh: 资产规模层级
//	    name_en: AUM tier
//	    type: enum                    # string | enum | int | decimal | bool
//	    values: [lt_1m, 1m_6m, ge_6m] # enum only: every value the SQL may give
//	    description: …
//	    reads: dated                  # dated | current (see below)
//	    scope: party                  # party | bank (default; see below)
//	    windows:                      # party-scoped tags: the tables read over the last days, the snapshots read (see below)
//	      - {table: core.activity_day, column: day, days: 30}
//	    sql: |                        # columns party_id and value; at most one row per party
//	      SELECT party_id, … AS value FROM core.aum_daily WHERE as_of_date = {day:core.aum_daily}
//
// Every problem names the file and line it is on.
//
// A tag is computed as of a business day, and says what it reads. A dated
// tag reads facts dated up to that day only — a snapshot table at
// {day:TABLE} (the newest snapshot on or before the day), events and
// windows ending at {as_of} — so evaluated for a past day it gives the value
// the run on that day recorded. A current tag reads the current state (the
// golden record, the latest snapshot of loans and cards, relationships): a
// past day shows today's state. Left out, reads is dated when the SQL uses
// {as_of} or {day:…}, else current.
//
// A tag's scope says whose rows a party's value comes from: party when
// from that party's own rows alone (its rows of every table with a
// party_id; tables without one, like reference data, whole), bank (the
// default) when from other parties' rows too. A run computes a current,
// party-scoped tag whose SQL is unchanged only for the parties whose rows
// changed in the tables it reads (see Run).
//
// A party-scoped tag whose dated tables are read over a window
// ending at the as-of day — the rows whose date column lies in the last N
// days up to and including it, `column BETWEEN {as_of} - (N-1) AND {as_of}`
// — declares each such table, column and N under windows. It says that a
// party's value as of a day comes from its rows of those tables in the
// window alone (and its rows of the other tables it reads), not from the
// calendar itself: the same rows give the same value on another day. Such
// a tag too is computed for changed parties only: those whose rows
// changed, and those with rows on the days that entered or left a window
// since the last run. A snapshot it reads ({day:TABLE}: the rows of the
// newest snapshot day on or before the as-of day) is a window too, declared
// {table: TABLE, snapshot: true}: a party whose rows on the run's snapshot
// day differ from its rows on the last run's is computed. A tag that counts
// days from {as_of} to a row's date declares no windows.
package tags

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"cdp/decl"
	"cdp/transforms/core"
	"cdp/transforms/sqltext"
)

//go:embed catalog/*.yaml
var builtin embed.FS

// Builtin is the catalog that ships with cdp.
func Builtin() fs.FS {
	sub, _ := fs.Sub(builtin, "catalog")
	return sub
}

// Categories in catalog order, with their names.
var Categories = []struct{ ID, ZH, EN string }{
	{"natural", "自然属性", "Natural attributes"},
	{"assets", "资产", "Assets"},
	{"behaviour", "行为", "Behaviour"},
	{"risk", "风险偏好", "Risk preference"},
	{"relationships", "关系", "Relationships"},
}

// Types a tag's value may have.
var Types = []string{"string", "enum", "int", "decimal", "bool"}

// Tag is one declared tag.
type Tag struct {
	ID          string   `yaml:"id"`
	NameZH      string   `yaml:"name_zh"`
	NameEN      string   `yaml:"name_en"`
	Type        string   `yaml:"type"`
	Values      []string `yaml:"values"`
	Description string   `yaml:"description"`
	SQL         string   `yaml:"sql"`
	Owner       string   `yaml:"owner"`
	// Reads is dated or current (see the package doc).
	Reads string `yaml:"reads"`
	// Scope is party when a party's value comes from that party's own rows
	// alone (in every table it reads that has a party_id; tables without
	// one are read whole), so a run may compute it for the parties whose
	// rows changed (PartyScope); bank (the default) when it reads other
	// parties' rows too — relationships, counts over the bank.
	Scope string `yaml:"scope"`
	// Windows are the dated tables a party-scoped tag reads over the last
	// days up to its as-of day, and the snapshots it reads (see the
	// package doc).
	Windows []Window `yaml:"windows"`
	// Replaces says a project's tag replaces the built-in tag of its id.
	Replaces bool `yaml:"replaces"`

	Category string `yaml:"-"`
	File     string `yaml:"-"`
	Line     int    `yaml:"-"` // of the tag
	SQLLine  int    `yaml:"-"` // of its sql: key
}

// Window is a table a dated tag reads over the Days days up to and
// including its as-of day: the rows whose Column (a date, or a timestamp's
// date) lies in them. A Snapshot window is a snapshot table read on its
// newest snapshot day on or before the as-of day ({day:TABLE}; Column is
// as_of_date).
type Window struct {
	Table    string `yaml:"table"` // schema.name
	Column   string `yaml:"column"`
	Days     int    `yaml:"days"`
	Snapshot bool   `yaml:"snapshot"`
}

// snapshotColumn is the column {day:TABLE} picks a snapshot day by.
const snapshotColumn = "as_of_date"

// Catalog is a loaded set of tags, in file then declaration order.
type Catalog struct {
	Tags []*Tag
}

// Problem is one thing wrong in a catalog file (Item is the tag id).
type Problem = decl.Problem

// Problems is every problem found, in file and line order.
type Problems = decl.Problems

type file struct {
	Category string `yaml:"category"`
	Owner    string `yaml:"owner"`
	Tags     []*Tag `yaml:"tags"`
}

var (
	idPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	tablePattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$`)
	columnPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Declared is the tag's id and place, for layering a project's catalog on
// the built-in one.
func (t *Tag) Declared() (string, string, int, bool) { return t.ID, t.File, t.Line, t.Replaces }

// Config is the tags: section of cdp.yaml: which catalogs a project uses.
type Config struct {
	// Catalogs are folders of tag files whose tags add to the built-in
	// catalog (relative to cdp.yaml).
	Catalogs []string `yaml:"catalogs"`
	// Builtin false leaves the built-in catalog out: only the folders' tags.
	Builtin *bool `yaml:"builtin"`
	// Disable switches built-in tags off by id.
	Disable []string `yaml:"disable"`
}

// WithDefaults fills what the section left out.
func (c Config) WithDefaults() Config {
	if c.Builtin == nil {
		yes := true
		c.Builtin = &yes
	}
	return c
}

// UsesBuiltin reports whether the built-in catalog is part of the project's.
func (c Config) UsesBuiltin() bool { return c.Builtin == nil || *c.Builtin }

// Load reads every *.yaml file of fsys (the files a directory holds, or
// Builtin()) as one catalog. It returns the catalog and, when anything is
// wrong, Problems; checks that need the warehouse (the SQL) are Validate's.
func Load(fsys fs.FS) (*Catalog, error) {
	files, err := decl.ReadAll(fsys, "tag")
	if err != nil {
		return nil, err
	}
	tags, probs := parseFiles(files)
	if len(probs) > 0 {
		return &Catalog{Tags: tags}, probs
	}
	return &Catalog{Tags: tags}, nil
}

// Open loads the catalog a project uses: the built-in tags (all of them,
// less those cfg.Disable names, or none with builtin: false), then the
// tags of every folder, in order. A folder's tag with a built-in tag's id
// replaces it only when it says replaces: true; otherwise that is a problem
// naming both files.
func Open(cfg Config, folders ...string) (*Catalog, error) {
	files, err := decl.ReadAll(Builtin(), "tag")
	if err != nil {
		return nil, err
	}
	builtin, probs := parseFiles(files)
	var project []*Tag
	for _, dir := range folders {
		files, err := decl.ReadDir(dir, "tag")
		if err != nil {
			return nil, fmt.Errorf("tags.catalogs: %w", err)
		}
		tags, ps := parseFiles(files)
		probs = append(probs, ps...)
		project = append(project, tags...)
	}
	tags, ps := decl.Layer(builtin, decl.LayerOptions{What: "tag", Key: "tags", Builtin: cfg.UsesBuiltin(), Disable: cfg.Disable}, project)
	probs = append(probs, ps...)
	cat := &Catalog{Tags: tags}
	if len(probs) > 0 {
		return cat, probs
	}
	if len(cat.Tags) == 0 {
		return cat, errors.New("the catalog is empty: tags.builtin is false and tags.catalogs names no tags")
	}
	return cat, nil
}

// parseFiles parses tag files into tags, refusing an id declared twice.
func parseFiles(files []decl.File) ([]*Tag, Problems) {
	var out []*Tag
	var probs Problems
	seen := map[string]*Tag{}
	for _, df := range files {
		f, ps := parseFile(df.Name, df.Data)
		probs = append(probs, ps...)
		if f == nil {
			continue
		}
		for _, t := range f.Tags {
			if prev, dup := seen[t.ID]; dup && t.ID != "" {
				probs = append(probs, Problem{File: df.Name, Line: t.Line, Item: t.ID, Msg: fmt.Sprintf("id declared twice (first in %s:%d)", prev.File, prev.Line)})
				continue
			}
			seen[t.ID] = t
			out = append(out, t)
		}
	}
	return out, probs
}

func parseFile(name string, data []byte) (*file, Problems) {
	var f file
	lines, probs := decl.Decode(name, data, &f, "tags")
	if probs != nil {
		return nil, probs
	}
	for i, l := range lines {
		if i < len(f.Tags) {
			f.Tags[i].Line, f.Tags[i].SQLLine = l.Line, l.Key("sql")
		}
	}
	known := false
	for _, c := range Categories {
		known = known || c.ID == f.Category
	}
	if !known {
		probs = append(probs, Problem{File: name, Line: 1, Msg: fmt.Sprintf("category %q: want one of natural, assets, behaviour, risk, relationships", f.Category)})
	}
	if len(f.Tags) == 0 {
		probs = append(probs, Problem{File: name, Line: 1, Msg: "no tags"})
	}
	for _, t := range f.Tags {
		t.File, t.Category = name, f.Category
		if t.Owner == "" {
			t.Owner = f.Owner
		}
		bad := func(format string, args ...any) {
			probs = append(probs, Problem{File: name, Line: t.Line, Item: t.ID, Msg: fmt.Sprintf(format, args...)})
		}
		switch {
		case t.ID == "":
			bad("every tag needs an id")
		case !idPattern.MatchString(t.ID):
			bad("id %q: lower-case letters, digits and _, starting with a letter", t.ID)
		}
		if t.NameZH == "" || t.NameEN == "" {
			bad("name_zh and name_en are both required")
		}
		if t.Description == "" {
			bad("description is required: analysts read it in the catalog docs")
		}
		if t.Owner == "" {
			bad("owner is required (on the tag or the file)")
		}
		if !slices.Contains(Types, t.Type) {
			bad("type %q: want one of %s", t.Type, strings.Join(Types, ", "))
		}
		if t.Type == "enum" && len(t.Values) < 2 {
			bad("an enum needs values: (two or more)")
		}
		if t.Type != "enum" && len(t.Values) > 0 {
			bad("values: is only for type enum")
		}
		if strings.TrimSpace(t.SQL) == "" {
			bad("sql is required")
		} else if _, err := t.Query("2000-01-01"); err != nil {
			probs = append(probs, Problem{File: name, Line: t.SQLLine, Item: t.ID, Msg: "sql: " + err.Error()})
		}
		usesDay := slices.ContainsFunc(sqltext.Uses(t.SQL), func(n string) bool { return n == "as_of" || n == "day" })
		switch t.Reads {
		case "":
			t.Reads = Current
			if usesDay {
				t.Reads = Dated
			}
		case Dated:
			if !usesDay {
				bad("a dated tag reads the facts of its day: its sql uses {as_of} or {day:TABLE}")
			}
		case Current:
		default:
			bad("reads %q: want dated (facts up to the as-of day) or current (the current state)", t.Reads)
		}
		switch t.Scope {
		case "":
			t.Scope = BankScope
		case PartyScope, BankScope:
		default:
			bad("scope %q: want party (a party's value from its own rows alone) or bank (it reads other parties' rows too)", t.Scope)
		}
		if len(t.Windows) > 0 {
			if !usesDay || t.Scope != PartyScope {
				bad("windows are for a tag of scope party whose sql reads a day ({as_of} or {day:TABLE}): its own rows over the last days, or on a snapshot day")
			}
			snapshots := snapshotsRead(t.SQL)
			seen := map[string]bool{}
			for i, win := range t.Windows {
				switch {
				case !tablePattern.MatchString(win.Table):
					bad("windows[%d]: table %q: want schema.name", i, win.Table)
				case seen[strings.ToLower(win.Table)]:
					bad("windows[%d]: table %s has a window already", i, win.Table)
				}
				seen[strings.ToLower(win.Table)] = true
				if win.Snapshot {
					switch {
					case win.Days != 0:
						bad("windows[%d]: a snapshot window has no days: it is the newest snapshot on or before the as-of day", i)
					case win.Column != "" && win.Column != snapshotColumn:
						bad("windows[%d]: column %q: a snapshot is picked by %s", i, win.Column, snapshotColumn)
					case !slices.Contains(snapshots, win.Table):
						bad("windows[%d]: the sql does not read %s's snapshot ({day:%s})", i, win.Table, win.Table)
					}
					continue
				}
				if !columnPattern.MatchString(win.Column) {
					bad("windows[%d]: column %q: want the name of the table's date column", i, win.Column)
				}
				if win.Days < 1 {
					bad("windows[%d]: days %d: want the window's length, 1 or more (30 for the 30 days up to the as-of day)", i, win.Days)
				}
			}
			if !slices.ContainsFunc(t.Windows, func(w Window) bool { return !w.Snapshot }) && slices.Contains(sqltext.Uses(t.SQL), "as_of") {
				bad("the sql reads {as_of} but its windows are snapshots alone: a value that moves with the day itself (a maturity within 30 days of it) declares no windows")
			}
			for _, table := range snapshots {
				if !slices.ContainsFunc(t.Windows, func(w Window) bool { return w.Snapshot && w.Table == table }) {
					bad("the sql reads %s's snapshot ({day:%s}): declare it among the windows, {table: %s, snapshot: true}", table, table, table)
				}
			}
		}
	}
	return &f, probs
}

// What a tag reads.
const (
	Dated   = "dated"   // facts dated up to the as-of day: reproducible for a past day
	Current = "current" // the current state: a past day shows today's
)

// Scopes of a tag's value.
const (
	PartyScope = "party" // from the party's own rows alone
	BankScope  = "bank"  // from other parties' rows too
)

// snapshotsRead are the tables whose snapshot sql reads ({day:TABLE}).
func snapshotsRead(sql string) []string {
	var out []string
	vars := core.AsOf("2000-01-01")
	day := vars["day"]
	vars["day"] = func(table string) (string, error) {
		if !slices.Contains(out, table) {
			out = append(out, table)
		}
		return day(table)
	}
	_, _ = sqltext.Fill(sql, vars) // (what does not fill, Query reports)
	return out
}

// Query is the tag's SQL for business day asOf (YYYY-MM-DD), its
// placeholders filled.
func (t *Tag) Query(asOf string) (string, error) {
	return t.Fill(core.AsOf(asOf))
}

// Fill is the tag's SQL with vars' values for its placeholders
// (core.AsOf's, or core.AsOfFixed's).
func (t *Tag) Fill(vars sqltext.Vars) (string, error) {
	return sqltext.Fill(strings.TrimRight(strings.TrimSpace(t.SQL), ";"), vars)
}

// ByCategory groups the catalog's tags by category, in Categories order.
func (c *Catalog) ByCategory() map[string][]*Tag {
	out := map[string][]*Tag{}
	for _, t := range c.Tags {
		out[t.Category] = append(out[t.Category], t)
	}
	return out
}
