// Package contract says what a feed row is: the feeds, their entities, file
// layouts and typed columns, declared in YAML (feeds/*.yaml for the four
// built-in feeds, embedded in the binary; docs/feeds.md describes the
// format).
//
// It is the one place that says what a feed row is. The connectors parse and
// validate against it, the warehouse derives its raw.<feed>_<entity> tables from
// it, and the synthetic bank writes files that satisfy it. Changing a column
// there changes all three; nothing else hard-codes a feed's columns.
package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Type is the kind of warehouse type a feed column is parsed into; a
// Decimal column carries its precision and scale.
type Type int

const (
	String    Type = iota // VARCHAR (an enum is a String with its values)
	Int                   // BIGINT
	Decimal               // DECIMAL(p,s): money and rates, never float
	Date                  // DATE, delivered as YYYY-MM-DD or YYYYMMDD
	Timestamp             // TIMESTAMPTZ; China time unless the value carries an offset
	Bool                  // BOOLEAN
)

// MaxPrecision is the largest decimal precision a contract may declare:
// decimals are parsed into 64-bit integers of their smallest unit.
const MaxPrecision = 18

func (t Type) String() string {
	switch t {
	case Int:
		return "integer"
	case Decimal:
		return "decimal"
	case Date:
		return "date"
	case Timestamp:
		return "timestamp"
	case Bool:
		return "boolean"
	default:
		return "string"
	}
}

// Format is how an entity's files are laid out on disk.
type Format string

const (
	CSV       Format = "csv"       // RFC 4180, header row, delimiter and encoding from config
	Delimited Format = "delimited" // header row, no quoting, delimiter escaped as "\|"
	Parquet   Format = "parquet"   // one folder per business date, Hive layout
	JSONL     Format = "jsonl"     // one JSON object per line; ".gz" files are gunzipped
	Fixed     Format = "fixed"     // fixed-width (定长) lines, no header; each column has its width
	XLSX      Format = "xlsx"      // an Excel workbook's first visible sheet, cells as displayed
)

// Formats lists the formats a contract may name.
var Formats = []Format{CSV, Delimited, Parquet, JSONL, Fixed, XLSX}

func formatNames() []string {
	out := make([]string, len(Formats))
	for i, f := range Formats {
		out[i] = string(f)
	}
	return out
}

// Column is one field of a feed entity.
type Column struct {
	Name string
	Type Type
	// Precision and Scale of a Decimal column.
	Precision, Scale int
	// Required values must be present and non-empty; a row without one is rejected.
	Required bool
	// Optional columns may be absent from a file's header; all others must be
	// present or the whole file fails.
	Optional bool
	// Enum, when set, lists the only values accepted.
	Enum []string
	// Width of the column in a fixed-width file, in the entity's WidthUnit.
	Width int
	// PII is the column's personal-data class: id_number, phone, name,
	// free_text, or "" for none.
	PII string
	// Identifier: a string that identifies or links records (the entity's
	// key, a required code, an ID number, a phone); a value with an
	// invisible character is rejected.
	Identifier bool
	// ZH and EN describe the column.
	ZH, EN string
}

// SQL is the DuckDB type of the column in raw.*.
func (c Column) SQL() string {
	switch c.Type {
	case Int:
		return "BIGINT"
	case Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", c.Precision, c.Scale)
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMPTZ"
	case Bool:
		return "BOOLEAN"
	default:
		return "VARCHAR"
	}
}

// TypeName is the column's type as a contract file writes it.
func (c Column) TypeName() string {
	switch {
	case c.Type == Decimal:
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	case c.Enum != nil:
		return "enum"
	default:
		return c.Type.String()
	}
}

// Entity is one kind of row a feed delivers, landing in raw.<Feed>_<Name>.
type Entity struct {
	Feed    string
	Version int // the feed contract's version
	Name    string
	ZH, EN  string // what the entity is, in Chinese and English
	Format  Format
	// Pattern is the file name relative to the feed folder; {D} is YYYYMMDD and
	// {DATE} is YYYY-MM-DD.
	Pattern string
	// WidthUnit of a fixed-width entity's column widths: "bytes" (as
	// delivered, a GBK Chinese character is two) or "chars".
	WidthUnit string
	// Snapshot entities are full daily snapshots; the rest are daily increments.
	Snapshot bool
	Columns  []Column
	// Key lists the columns that identify a record of the entity (a
	// customer number, a loan number and due date).
	Key []string
	// Identity, when set, makes the entity's records customers that take
	// part in unification.
	Identity *Identity
	// Expected, when set, is when the entity's file for a business day is
	// due; a feed without it by then is late.
	Expected *Expected
	// UniqueKey, when set, is a column whose value is loaded at most once across
	// all sources of the entity (ebank events arrive on the stream and in the
	// archive). Later copies are rejected as duplicate_key.
	UniqueKey string
	// Checks are conditions a row must meet against the warehouse (a
	// signal or party it names must exist), checked as it loads; a row
	// that fails one is rejected with the check's reason.
	Checks []Check
}

// Table is the warehouse table the entity lands in.
func (e *Entity) Table() string { return "raw." + e.Feed + "_" + e.Name }

// ID is "feed.entity".
func (e *Entity) ID() string { return e.Feed + "." + e.Name }

// Fingerprint identifies the entity's columns (names and warehouse types,
// in order): two contracts with the same fingerprint make the same raw
// table.
func (e *Entity) Fingerprint() string {
	h := sha256.New()
	for _, c := range e.Columns {
		fmt.Fprintf(h, "%s %s\n", c.Name, c.SQL())
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// VersionLabel is the contract version a load records: the declared
// version and the columns' fingerprint ("2/3fa2c19e").
func (e *Entity) VersionLabel() string { return fmt.Sprintf("%d/%s", e.Version, e.Fingerprint()) }

// Column returns the column by name.
func (e *Entity) Column(name string) (Column, bool) {
	for _, c := range e.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Lineage columns every raw table carries after the contract's columns.
var Lineage = []struct{ Name, SQL, Doc string }{
	{"_extra", "JSON", "fields the contract does not know, kept as a JSON object (NULL when none)"},
	{"_load_id", "BIGINT", "the ops.loads row that brought this row in"},
	{"_source", "VARCHAR", "file:line, or topic/partition/offset"},
	{"_ingested_at", "TIMESTAMPTZ", "when the load committed"},
}

// Feed is one source system's contract: its entities in load order.
type Feed struct {
	Name   string
	ZH, EN string // what the system is, in Chinese and English
	File   string // the contract file it was read from
	// Version of the contract, raised with each change to its columns
	// (version: in the file; 1 when not written).
	Version int
	// Encoding its text files are written in unless the project's feed
	// says otherwise (encoding: in the file; "" = utf-8).
	Encoding string
	Entities []*Entity
	line     int
}

// Builtins are the built-in feeds (feeds/*.yaml, embedded), in name order.
var Builtins = mustLoad()

// Entities lists every built-in feed entity, feed by feed in name order,
// each feed's entities in load order (parents before children).
var Entities = entitiesOf(Builtins)

func mustLoad() []*Feed {
	feeds, err := Load(Builtin())
	if err != nil {
		panic("the built-in feed contracts: " + err.Error())
	}
	return feeds
}

func entitiesOf(feeds []*Feed) []*Entity {
	var out []*Entity
	for _, f := range feeds {
		out = append(out, f.Entities...)
	}
	return out
}

// Feeds lists the built-in feed names in contract order.
func Feeds() []string { return BuiltinSet.Names() }

// Lookup finds a built-in entity by feed and name.
func Lookup(feed, name string) (*Entity, error) { return BuiltinSet.Lookup(feed, name) }

// OfFeed returns the built-in feed's entities in load order.
func OfFeed(feed string) []*Entity {
	if f := BuiltinSet.Feed(feed); f != nil {
		return f.Entities
	}
	return nil
}

// FileName renders the entity's pattern for a business date given as YYYYMMDD.
func (e *Entity) FileName(yyyymmdd string) string {
	iso := yyyymmdd
	if len(yyyymmdd) == 8 {
		iso = yyyymmdd[:4] + "-" + yyyymmdd[4:6] + "-" + yyyymmdd[6:]
	}
	return strings.NewReplacer("{D}", yyyymmdd, "{DATE}", iso).Replace(e.Pattern)
}

// CreateTableSQL is the DDL of the entity's raw table.
func (e *Entity) CreateTableSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", e.Table())
	for _, c := range e.Columns {
		fmt.Fprintf(&b, "    %s %s,\n", c.Name, c.SQL())
	}
	for i, l := range Lineage {
		sep := ","
		if i == len(Lineage)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s %s%s\n", l.Name, l.SQL, sep)
	}
	b.WriteString(")")
	return b.String()
}

// Reject is one input row that did not load, with where it was and why.
type Reject struct {
	// Position is human-readable: "credit/customers_20261120.csv:17" or
	// "ebank.events/3/1234".
	Position  string
	Line      int64 // file line (1 = header), 0 for streams
	Partition int32 // stream partition, -1 for files
	Offset    int64 // stream offset, -1 for files
	Reason    string
	Detail    string
	Raw       string // the row as delivered, decoded to UTF-8 where possible
}
