// Package mapping sits between a file as a bank's system writes it and the
// feed contract: column renames in any script, positional and fixed-width
// field lists for files without a header, code maps, date layouts,
// constants and defaults, number styles, null markers, banner and trailer
// lines, and the row counts those lines state.
//
// A mapping is declared per feed and entity in cdp.yaml (see docs/feeds.md),
// compiled once against the entity's contract (Compile: every problem named
// with its field), bound to each file's header (Plan.Bind: a required column
// the header lacks fails the file), and applied per row (Binding.Row). It
// never guesses: a value outside a code map is a bad_enum reject naming the
// value, a date that does not fit its layout a bad_date reject.
package mapping

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

// Entity is how one entity's files differ from its contract, as written in
// cdp.yaml under feeds[].mapping.<entity>.
type Entity struct {
	// Banner is how many lines come before the header (or before the data,
	// in a file without one): titles, export notes, blank lines.
	Banner int `yaml:"banner"`
	// HeaderMatch, instead of Banner: the header is the first line this
	// regular expression matches; the lines before it are the banner.
	HeaderMatch string `yaml:"header_match"`
	// Fields, for a file without a header: its fields in order, each a name
	// (and, in a fixed-width file, a width). Columns map from these names.
	Fields []Field `yaml:"fields"`
	// Skip: data lines that match one of these expressions are not rows
	// (blank lines, trailers such as "TOTAL|1234"). They are counted.
	Skip List `yaml:"skip"`
	// Counts: banner or skipped lines that state the file's row count, in a
	// group named count ("TOTAL\|(?P<count>\d+)").
	Counts []Count `yaml:"counts"`
	// Year: a banner line holding the statement's year (and month), for
	// date layouts without a year.
	Year *Year `yaml:"year"`
	// Trim spaces, TABs and full-width spaces around every value.
	Trim bool `yaml:"trim"`
	// Unwrap Excel formula literals: ="00123" is read as 00123.
	Unwrap bool `yaml:"unwrap"`
	// Nulls are values read as absent in every column ("-", "/").
	Nulls List `yaml:"nulls"`
	// LaxQuotes (CSV): a quote inside an unquoted field is an ordinary
	// character, and text after a closing quote ("123"<TAB>) belongs to
	// the field, as Excel and Python's csv module read them.
	LaxQuotes bool `yaml:"lax_quotes"`
	// TrailingDelimiter: data lines end with one delimiter more than the
	// header has; the empty field after it is dropped.
	TrailingDelimiter bool `yaml:"trailing_delimiter"`
	// Columns maps contract columns to the file. A contract column not
	// listed is read from the file field of its own name, if there is one.
	Columns map[string]Column `yaml:"columns"`
	// Encoding-independent options only: encoding, delimiter and format
	// stay on the feed.
}

// Field is one field of a header-less file.
type Field struct {
	Name  string `yaml:"name"`
	Width int    `yaml:"width"` // fixed-width files: bytes, or characters with the contract's width_unit: chars
}

// Shorthand lets a field be written as its name alone.
func (f *Field) Shorthand(s string) { f.Name = s }

// Count is a line that states how many data rows the file has.
type Count struct {
	Match string `yaml:"match"` // with a group named count
	Check string `yaml:"check"` // error (default): a mismatch fails the file; warn: logged; off
}

// Year finds the year for date layouts without one.
type Year struct {
	// Match is searched in the banner lines; its group year is the year,
	// and an optional group month the statement month: a date whose month
	// is after it belongs to the year before (a January statement lists
	// December's transactions).
	Match string `yaml:"match"`
}

// Column says where one contract column comes from, and how its text is
// read.
type Column struct {
	// From names the file field (any script). Several are joined with a
	// space: a date and a time in two fields.
	From List `yaml:"from"`
	// Coalesce takes the first of these fields that has a value (a
	// transaction date that is empty on repayments: the posting date).
	Coalesce List `yaml:"coalesce"`
	// Const is the value of every row; the file has no such field.
	Const *string `yaml:"const"`
	// Default is the value when the field is absent or empty.
	Default *string `yaml:"default"`
	// Sum adds numeric fields, each optionally prefixed with "-": split
	// income and expense columns become one signed amount.
	Sum List `yaml:"sum"`
	// Sign negates the value when another field holds one of the values
	// listed (a debit/credit flag: 借/贷, D/C, 支出/收入).
	Sign *Sign `yaml:"sign"`
	// Codes maps the file's codes to the contract's values (正常: "1").
	// A value not in the map is rejected as bad_enum.
	Codes map[string]string `yaml:"codes"`
	// Layout of a date or timestamp, strftime style: %Y%m%d, %d/%m/%Y
	// %H:%M:%S, %m/%d (the year from the mapping's year:).
	Layout string `yaml:"layout"`
	// Thousands is the digit group separator the file writes ("," or ".");
	// Decimal its decimal mark ("," in a decimal-comma file).
	Thousands string `yaml:"thousands"`
	Decimal   string `yaml:"decimal"`
	// Remove these texts wherever they occur: currency signs, "(CN)".
	Remove List `yaml:"remove"`
	// Nulls are values read as absent in this column, besides the mapping's.
	Nulls List `yaml:"nulls"`
	// NullMatch: values this expression matches are absent (masked values
	// such as "xx,yyyy.zz" or "****").
	NullMatch string `yaml:"null_match"`
}

// Shorthand lets a rename be written as the source field's name alone.
func (c *Column) Shorthand(s string) { c.From = List{s} }

// List is a list of names or values. Written as one value it is that one
// value, commas included ("Amount, CNY" is one field, not two).
type List []string

// Shorthand makes a single value a list of one.
func (l *List) Shorthand(s string) { *l = List{s} }

// Sign negates a value by another field.
type Sign struct {
	Field    string `yaml:"field"`
	Negative List   `yaml:"negative"`
}

// Checks for Count.Check.
const (
	CheckError = "error"
	CheckWarn  = "warn"
	CheckOff   = "off"
)

// Problem is one thing wrong with a mapping, at a path inside it
// ("columns.party_type.codes").
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) Error() string { return p.Path + ": " + p.Msg }

// Problems is every problem Compile found.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Compile checks m against the entity's contract and readies it for files
// of format. Every problem is reported, each with its path.
func Compile(e *contract.Entity, m *Entity, format contract.Format) (*Plan, error) {
	c := &compiler{e: e, m: m, format: format}
	p := c.compile()
	if len(c.probs) > 0 {
		return nil, c.probs
	}
	return p, nil
}

type compiler struct {
	e      *contract.Entity
	m      *Entity
	format contract.Format
	probs  Problems
}

func (c *compiler) errorf(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) regexp(path, expr string) *regexp.Regexp {
	rx, err := regexp.Compile(expr)
	if err != nil {
		c.errorf(path, "%q is not a regular expression: %v", expr, err)
		return nil
	}
	return rx
}

func (c *compiler) compile() *Plan {
	m := c.m
	p := &Plan{entity: c.e, banner: m.Banner, trim: m.Trim, unwrap: m.Unwrap, trailingDelim: m.TrailingDelimiter, laxQuotes: m.LaxQuotes}
	if m.LaxQuotes && c.format != contract.CSV {
		c.errorf("lax_quotes", "is for csv files; %s files do not quote", c.format)
	}
	if m.Banner < 0 {
		c.errorf("banner", "want a number of lines, 0 or more")
	}
	if m.HeaderMatch != "" {
		if m.Banner > 0 {
			c.errorf("header_match", "give banner: or header_match:, not both")
		}
		p.headerMatch = c.regexp("header_match", m.HeaderMatch)
	}
	switch c.format {
	case contract.Parquet:
		if m.Banner > 0 || m.HeaderMatch != "" || len(m.Fields) > 0 || len(m.Skip) > 0 || len(m.Counts) > 0 || m.TrailingDelimiter ||
			m.Year != nil || m.LaxQuotes || m.Trim || m.Unwrap || len(m.Nulls) > 0 {
			c.errorf("", "parquet columns are typed and named: a mapping can only rename them (columns: {column: parquet_name})")
		}
		for _, name := range slices.Sorted(maps.Keys(m.Columns)) {
			col := m.Columns[name]
			if len(col.From) != 1 || len(col.Coalesce) > 0 || len(col.Sum) > 0 || col.Const != nil || col.Default != nil || col.Sign != nil ||
				len(col.Codes) > 0 || col.Layout != "" || col.Thousands != "" || col.Decimal != "" || len(col.Remove) > 0 || len(col.Nulls) > 0 || col.NullMatch != "" {
				c.errorf("columns."+name, "parquet columns are typed: a mapping can only rename them (%s: parquet_name)", name)
			}
		}
	case contract.JSONL:
		if m.Banner > 0 || m.HeaderMatch != "" || len(m.Fields) > 0 || len(m.Skip) > 0 || len(m.Counts) > 0 || m.TrailingDelimiter || m.Year != nil || m.LaxQuotes {
			c.errorf("", "%s files have no lines to skip and name their own fields: only columns, trim, unwrap and nulls apply", c.format)
		}
	case contract.Fixed:
		if m.HeaderMatch != "" {
			c.errorf("header_match", "a fixed-width file has no header; skip its first lines with banner:")
		}
		if m.TrailingDelimiter {
			c.errorf("trailing_delimiter", "a fixed-width file has no delimiters")
		}
	}
	if m.HeaderMatch != "" && len(m.Fields) > 0 {
		c.errorf("header_match", "fields: says the file has no header; skip its first lines with banner:")
	}
	seen := map[string]bool{}
	for i, f := range m.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		switch {
		case strings.TrimSpace(f.Name) == "":
			c.errorf(at, "every field needs a name")
		case seen[f.Name]:
			c.errorf(at, "field %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		if c.format == contract.Fixed && f.Width < 1 {
			c.errorf(at+".width", "a fixed-width field needs its width (1 or more)")
		}
		if c.format != contract.Fixed && f.Width != 0 {
			c.errorf(at+".width", "only fixed-width files have widths")
		}
		p.fields = append(p.fields, f)
	}
	for i, s := range m.Skip {
		if rx := c.regexp(fmt.Sprintf("skip[%d]", i), s); rx != nil {
			p.skip = append(p.skip, rx)
		}
	}
	for i, n := range m.Counts {
		at := fmt.Sprintf("counts[%d]", i)
		rx := c.regexp(at+".match", n.Match)
		if rx != nil && rx.SubexpIndex("count") < 0 {
			c.errorf(at+".match", "%q needs a group named count: (?P<count>\\d+)", n.Match)
		}
		check := strings.ToLower(n.Check)
		if check == "" {
			check = CheckError
		}
		if !slices.Contains([]string{CheckError, CheckWarn, CheckOff}, check) {
			c.errorf(at+".check", "unknown check %q (want error, warn or off)", n.Check)
		}
		if rx != nil {
			p.counts = append(p.counts, countRule{rx: rx, check: check})
		}
	}
	if m.Year != nil {
		rx := c.regexp("year.match", m.Year.Match)
		if rx != nil && rx.SubexpIndex("year") < 0 {
			c.errorf("year.match", "%q needs a group named year: (?P<year>\\d{4})", m.Year.Match)
		}
		p.year = rx
	}
	p.nulls = m.Nulls
	p.cols = make([]*colPlan, len(c.e.Columns))
	for _, name := range slices.Sorted(maps.Keys(m.Columns)) {
		if _, ok := c.e.Column(name); !ok {
			c.errorf("columns."+name, "%s has no column %q (it has %s)", c.e.ID(), name, columnNames(c.e))
		}
	}
	for ci, col := range c.e.Columns {
		spec, mapped := m.Columns[col.Name]
		if !mapped {
			cp := &colPlan{col: col, ci: ci, from: []string{col.Name}, implicit: true, nulls: p.nulls}
			cp.prepare()
			p.cols[ci] = cp
			continue
		}
		p.cols[ci] = c.column(ci, col, &spec, "columns."+col.Name, p)
	}
	if len(m.Fields) > 0 {
		for _, cp := range p.cols {
			for _, src := range cp.sources() {
				switch {
				case seen[src] || cp.implicit && (!cp.col.Required || cp.def != nil):
				case cp.implicit:
					c.errorf(cp.path(), "required column %s has no field of its name in fields: (%s); map it with from:, or give it a const: or default:", src, fieldNames(m.Fields))
				default:
					c.errorf(cp.path(), "field %q is not in fields: (%s)", src, fieldNames(m.Fields))
				}
			}
		}
	}
	return p
}

func (c *compiler) column(ci int, col contract.Column, spec *Column, at string, p *Plan) *colPlan {
	cp := &colPlan{col: col, ci: ci, at: at, from: spec.From, coalesce: spec.Coalesce, sum: spec.Sum, thousands: spec.Thousands, decimal: spec.Decimal,
		remove: spec.Remove, nulls: append(slices.Clone(p.nulls), spec.Nulls...), codes: spec.Codes}
	sources := 0
	if len(spec.From) > 0 {
		sources++
	}
	if len(spec.Sum) > 0 {
		sources++
	}
	if len(spec.Coalesce) > 0 {
		sources++
		if len(spec.From) == 0 {
			cp.from = spec.Coalesce
		}
	}
	if spec.Const != nil {
		sources++
		v := *spec.Const
		cp.constant = &v
	}
	if sources > 1 {
		c.errorf(at, "give one of from:, coalesce:, sum: or const:")
	}
	if sources == 0 {
		cp.from = []string{col.Name}
		cp.implicit = true
	}
	if spec.Default != nil {
		v := *spec.Default
		cp.def = &v
		c.checkValue(at+".default", col, v)
	}
	if spec.Const != nil {
		c.checkValue(at+".const", col, *spec.Const)
	}
	for i, f := range spec.From {
		if strings.TrimSpace(f) == "" {
			c.errorf(fmt.Sprintf("%s.from[%d]", at, i), "names no field")
		}
	}
	for i, s := range spec.Sum {
		name := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
		if strings.TrimSpace(name) == "" {
			c.errorf(fmt.Sprintf("%s.sum[%d]", at, i), "names no field")
		}
		cp.terms = append(cp.terms, term{name: name, neg: strings.HasPrefix(s, "-")})
	}
	if len(spec.Sum) > 0 && col.Type != contract.Decimal && col.Type != contract.Int {
		c.errorf(at+".sum", "adds numbers, and %s is a %s", col.Name, col.TypeName())
	}
	if spec.Sign != nil {
		if col.Type != contract.Decimal && col.Type != contract.Int {
			c.errorf(at+".sign", "negates numbers, and %s is a %s", col.Name, col.TypeName())
		}
		if spec.Sign.Field == "" || len(spec.Sign.Negative) == 0 {
			c.errorf(at+".sign", "needs field: and negative: [values that mean a debit]")
		}
		cp.sign = spec.Sign
	}
	if (spec.Thousands != "" || spec.Decimal != "") && col.Type != contract.Decimal && col.Type != contract.Int {
		c.errorf(at, "thousands: and decimal: are for numbers, and %s is a %s", col.Name, col.TypeName())
	}
	if spec.Thousands != "" && spec.Thousands == spec.Decimal {
		c.errorf(at+".thousands", "%q cannot be both the thousands separator and the decimal mark", spec.Thousands)
	}
	if len(spec.Codes) > 0 {
		if len(col.Enum) > 0 {
			for _, k := range slices.Sorted(maps.Keys(spec.Codes)) {
				if v := spec.Codes[k]; !slices.Contains(col.Enum, v) {
					c.errorf(at+".codes."+k, "maps to %q, which is not one of %s's values (%s)", v, col.Name, strings.Join(col.Enum, ", "))
				}
			}
		}
		cp.codeList = strings.Join(slices.Sorted(maps.Keys(spec.Codes)), ", ")
	}
	if spec.Layout != "" {
		if col.Type != contract.Date && col.Type != contract.Timestamp {
			c.errorf(at+".layout", "is for dates and timestamps, and %s is a %s", col.Name, col.TypeName())
		}
		l, err := parseLayout(spec.Layout)
		if err != nil {
			c.errorf(at+".layout", "%v", err)
		} else {
			if !l.hasYear && c.m.Year == nil {
				c.errorf(at+".layout", "%q has no year: add year: {match: ...} to find it in the banner", spec.Layout)
			}
			cp.layout = l
		}
	}
	if spec.NullMatch != "" {
		cp.nullMatch = c.regexp(at+".null_match", spec.NullMatch)
	}
	cp.prepare()
	return cp
}

// checkValue checks a const: or default: value, which is written as the
// contract's value (codes and layouts read the file's values, not these).
func (c *compiler) checkValue(at string, col contract.Column, v string) {
	b := []byte(v)
	ok := true
	switch col.Type {
	case contract.Int:
		_, ok = rows.ParseInt(b)
	case contract.Decimal:
		_, ok = rows.ParseDecimal(b, col.Precision, col.Scale)
	case contract.Date:
		_, ok = rows.ParseDate(b)
	case contract.Timestamp:
		_, ok = rows.ParseTimestamp(b, time.UTC)
	case contract.Bool:
		_, ok = rows.ParseBool(b)
	}
	if len(col.Enum) > 0 && !slices.Contains(col.Enum, v) {
		ok = false
	}
	if !ok {
		c.errorf(at, "%q is not a valid %s (a const or default is written as the contract's value, not the file's)", v, col.TypeName())
	}
}

// prepare converts the column's texts to bytes once, not per row.
func (cp *colPlan) prepare() {
	if cp.codes != nil {
		cp.codeBytes = make(map[string][]byte, len(cp.codes))
		for k, v := range cp.codes {
			cp.codeBytes[k] = []byte(v)
		}
	}
	if cp.constant != nil {
		cp.constB = []byte(*cp.constant)
	}
	if cp.def != nil {
		cp.defB = []byte(*cp.def)
	}
	if cp.thousands != "" {
		cp.thouB = []byte(cp.thousands)
	}
	if cp.decimal != "" {
		cp.decB = []byte(cp.decimal)
	}
	for _, r := range cp.remove {
		if r != "" {
			cp.removeB = append(cp.removeB, []byte(r))
		}
	}
}

func columnNames(e *contract.Entity) string {
	names := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func fieldNames(fs []Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}
