package mapping

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cdp/connectors/contract"
	"cdp/connectors/rows"
)

// Plan is a compiled mapping for one entity.
type Plan struct {
	entity        *contract.Entity
	banner        int
	headerMatch   *regexp.Regexp
	fields        []Field
	skip          []*regexp.Regexp
	counts        []countRule
	year          *regexp.Regexp
	trim, unwrap  bool
	trailingDelim bool
	laxQuotes     bool
	nulls         []string
	cols          []*colPlan
}

type countRule struct {
	rx    *regexp.Regexp
	check string
}

type term struct {
	name string
	neg  bool
}

type colPlan struct {
	col       contract.Column
	ci        int
	at        string // "columns.<name>" when mapped
	implicit  bool   // not in the mapping: the field of the column's own name
	from      []string
	coalesce  []string // from holds them too: the first with a value wins
	sum       []string
	terms     []term
	constant  *string
	def       *string
	sign      *Sign
	codes     map[string]string
	codeBytes map[string][]byte // codes, converted once
	constB    []byte
	defB      []byte
	thouB     []byte
	decB      []byte
	removeB   [][]byte
	codeList  string
	layout    *layout
	thousands string
	decimal   string
	remove    []string
	nulls     []string
	nullMatch *regexp.Regexp
}

func (cp *colPlan) path() string {
	if cp.at != "" {
		return cp.at
	}
	return "columns." + cp.col.Name
}

// sources are the file fields the column reads.
func (cp *colPlan) sources() []string {
	var out []string
	if cp.constant == nil {
		out = append(out, cp.from...)
		for _, t := range cp.terms {
			out = append(out, t.name)
		}
	}
	if cp.sign != nil {
		out = append(out, cp.sign.Field)
	}
	return out
}

// Entity is the contract entity the plan maps to.
func (p *Plan) Entity() *contract.Entity { return p.entity }

// LaxQuotes: read CSV quotes as Excel does (see Entity.LaxQuotes).
func (p *Plan) LaxQuotes() bool { return p.laxQuotes }

// Positional: the file has no header; Fields names its fields.
func (p *Plan) Positional() bool { return len(p.fields) > 0 }

// Fields of a header-less file, in order.
func (p *Plan) Fields() []Field { return p.fields }

// Banner is the number of lines before the header or data (0 with
// header_match).
func (p *Plan) Banner() int { return p.banner }

// IsHeader tells whether line n (1-based, decoded text) is the header, for
// a file with one. Lines before it are the banner.
func (p *Plan) IsHeader(n int, text []byte) bool {
	if p.headerMatch != nil {
		return p.headerMatch.Match(text)
	}
	return n == p.banner+1
}

// DescribeHeader says how the header is found, for errors.
func (p *Plan) DescribeHeader() string {
	if p.headerMatch != nil {
		return fmt.Sprintf("the first line matching header_match %q", p.headerMatch.String())
	}
	return fmt.Sprintf("line %d (after a banner of %d)", p.banner+1, p.banner)
}

// Skips reports whether the mapping skips any data lines.
func (p *Plan) Skips() bool { return len(p.skip) > 0 || len(p.counts) > 0 }

// CountLine is a banner, header or trailer line that stated a row count.
type CountLine struct {
	Line  int64
	Count int64
	Check string
	Text  string
}

// Skip tells whether a data line (decoded text) is not a row, and the count
// it states if it is a count line.
func (p *Plan) Skip(text []byte, line int64) (skip bool, count *CountLine) {
	for _, r := range p.counts {
		if m := r.rx.FindSubmatch(text); m != nil {
			return true, countOf(r, m, line, text)
		}
	}
	for _, rx := range p.skip {
		if rx.Match(text) {
			return true, nil
		}
	}
	return false, nil
}

func countOf(r countRule, m [][]byte, line int64, text []byte) *CountLine {
	c := &CountLine{Line: line, Count: -1, Check: r.check, Text: clipText(text, 80)}
	if n, err := strconv.ParseInt(string(m[r.rx.SubexpIndex("count")]), 10, 64); err == nil {
		c.Count = n
	}
	return c
}

// File is what the banner of one file told: its year (and month), and
// the counts it states.
type File struct {
	Year, Month int
	Counts      []CountLine
}

// ReadBanner reads the banner lines (decoded text, line 1 first).
func (p *Plan) ReadBanner(rel string, lines [][]byte) (*File, error) {
	f := &File{}
	for i, text := range lines {
		for _, r := range p.counts {
			if m := r.rx.FindSubmatch(text); m != nil {
				f.Counts = append(f.Counts, *countOf(r, m, int64(i+1), text))
			}
		}
		if p.year != nil && f.Year == 0 {
			if m := p.year.FindSubmatch(text); m != nil {
				f.Year, _ = strconv.Atoi(string(m[p.year.SubexpIndex("year")]))
				if k := p.year.SubexpIndex("month"); k >= 0 {
					f.Month, _ = strconv.Atoi(string(m[k]))
				}
			}
		}
	}
	if p.year != nil && f.Year == 0 {
		return nil, fmt.Errorf("%s: no banner line matches year: %q, and a date layout needs the year; nothing loaded", rel, p.year.String())
	}
	return f, nil
}

// CheckCounts holds the stated counts against the rows the file had (data
// lines, loaded or rejected). A mismatch under check: error fails the file;
// under warn it is returned as a warning.
func CheckCounts(rel string, rowsIn int64, counts []CountLine) (warnings []string, err error) {
	for _, c := range counts {
		if c.Check == CheckOff {
			continue
		}
		var msg string
		switch {
		case c.Count < 0:
			msg = fmt.Sprintf("%s line %d: %q states no row count", rel, c.Line, c.Text)
		case c.Count != rowsIn:
			msg = fmt.Sprintf("%s line %d: %q says %d rows, the file has %d", rel, c.Line, c.Text, c.Count, rowsIn)
		default:
			continue
		}
		if c.Check == CheckError {
			return warnings, fmt.Errorf("%s; nothing loaded (set the count's check: to warn or off if the total is known to be wrong)", msg)
		}
		warnings = append(warnings, msg)
	}
	return warnings, nil
}

// Binding is a plan bound to one file's fields.
type Binding struct {
	p        *Plan
	file     *File
	names    [][]byte
	used     []bool // field read by some column; the rest go to _extra
	cols     []boundCol
	scratch  []byte
	sumParts []byte
}

type boundCol struct {
	cp      *colPlan
	from    []int // field indexes; -1 absent (an optional column)
	terms   []int
	signIdx int
}

// Bind maps a file's header (or the plan's fields) onto the contract. A
// required column whose field the file lacks fails the file, naming both.
func (p *Plan) Bind(rel string, names [][]byte, f *File) (*Binding, error) {
	if f == nil {
		f = &File{}
	}
	b := &Binding{p: p, file: f, names: names, used: make([]bool, len(names))}
	index := map[string]int{}
	for i, n := range names {
		name := string(trimSpace(b.clean(n)))
		if name == "" {
			continue // an unnamed column (a trailing delimiter, a merged cell): its values go to _extra as _N
		}
		if _, dup := index[name]; dup {
			return nil, fmt.Errorf("%s: field %q appears twice in the header", rel, name)
		}
		index[name] = i
	}
	lookup := func(name string) int {
		if i, ok := index[name]; ok {
			b.used[i] = true
			return i
		}
		return -1
	}
	var missing []string
	for _, cp := range p.cols {
		bc := boundCol{cp: cp, signIdx: -1}
		found := 0
		var absent []string
		for _, n := range cp.from {
			if cp.constant != nil {
				break
			}
			i := lookup(n)
			if i < 0 {
				absent = append(absent, n)
			} else {
				found++
			}
			bc.from = append(bc.from, i)
		}
		if cp.col.Required && cp.def == nil && len(absent) > 0 && (len(cp.coalesce) == 0 || found == 0) {
			for _, n := range absent {
				missing = append(missing, describeMissing(cp, n))
			}
		}
		for _, t := range cp.terms {
			i := lookup(t.name)
			if i < 0 && cp.col.Required && cp.def == nil {
				missing = append(missing, describeMissing(cp, t.name))
			}
			bc.terms = append(bc.terms, i)
		}
		if cp.sign != nil {
			if bc.signIdx = lookup(cp.sign.Field); bc.signIdx < 0 {
				missing = append(missing, fmt.Sprintf("%s (the sign of %s)", cp.sign.Field, cp.col.Name))
			}
		}
		b.cols = append(b.cols, bc)
	}
	if len(missing) > 0 {
		where := "the header"
		if p.Positional() {
			where = "fields:"
		}
		return nil, fmt.Errorf("%s: %s lacks %s, required by %s; nothing loaded from this file", rel, where, strings.Join(missing, ", "), p.entity.ID())
	}
	return b, nil
}

func describeMissing(cp *colPlan, field string) string {
	if cp.implicit {
		return fmt.Sprintf("%q", field)
	}
	return fmt.Sprintf("%q (mapped to %s)", field, cp.col.Name)
}

// Width is how many fields a data line has: the header's, plus one when
// lines end with the delimiter.
func (b *Binding) Width() int { return len(b.names) }

// Names are the file's field names.
func (b *Binding) Names() [][]byte { return b.names }

// Row maps one data line's fields into the builder and commits it.
func (b *Binding) Row(fields [][]byte, rb *rows.Builder, line int64) *rows.Problem {
	return b.RowExtra(fields, rb, line, nil)
}

// RowExtra is Row that lets extra add the row's unknown fields to the
// builder once the row has begun (JSON keys no column reads).
func (b *Binding) RowExtra(fields [][]byte, rb *rows.Builder, line int64, extra func(*rows.Builder)) *rows.Problem {
	if b.p.trailingDelim && len(fields) == len(b.names)+1 && len(fields[len(fields)-1]) == 0 {
		fields = fields[:len(fields)-1]
	}
	if len(fields) != len(b.names) {
		of := "the header has"
		if b.p.Positional() {
			of = "the mapping lists"
		}
		return &rows.Problem{Reason: contract.ReasonMalformed, Detail: fmt.Sprintf("%d fields, %s %d", len(fields), of, len(b.names))}
	}
	rb.Begin()
	if extra != nil {
		extra(rb)
	}
	b.scratch = b.scratch[:0]
	for i, f := range fields {
		if !b.used[i] {
			if f = b.clean(f); len(f) > 0 {
				name := trimSpace(b.clean(b.names[i]))
				if len(name) == 0 {
					name = []byte("_" + strconv.Itoa(i+1))
				}
				rb.AddExtraText(name, f)
			}
		}
	}
	for k := range b.cols {
		if prob := b.column(&b.cols[k], fields, rb); prob != nil {
			return prob
		}
	}
	return rb.Commit(line, -1)
}

// clean applies the mapping-wide steps: unwrap, trim.
func (b *Binding) clean(v []byte) []byte {
	if b.p.unwrap && len(v) >= 3 && v[0] == '=' && v[1] == '"' && v[len(v)-1] == '"' {
		v = v[2 : len(v)-1]
		if bytes.Contains(v, []byte(`""`)) {
			v = bytes.ReplaceAll(v, []byte(`""`), []byte(`"`))
		}
	}
	if b.p.trim {
		v = trimSpace(v)
	}
	return v
}

func trimSpace(v []byte) []byte {
	return bytes.TrimFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u3000' || r == '\u00a0' })
}

// value is one field's text through the column's steps, up to code maps
// and layouts; null: absent.
func (b *Binding) value(cp *colPlan, v []byte) (out []byte, null bool) {
	v = b.clean(v)
	for _, r := range cp.removeB {
		if bytes.Contains(v, r) {
			v = bytes.ReplaceAll(v, r, nil)
			if b.p.trim {
				v = trimSpace(v)
			}
		}
	}
	if len(v) == 0 {
		return nil, true
	}
	for _, n := range cp.nulls {
		if string(v) == n {
			return nil, true
		}
	}
	if cp.nullMatch != nil && cp.nullMatch.Match(v) {
		return nil, true
	}
	return v, false
}

// number rewrites thousands separators and a decimal mark away.
func (b *Binding) number(cp *colPlan, v []byte) []byte {
	if cp.thouB == nil && cp.decB == nil {
		return v
	}
	if cp.thouB != nil && !grouped(v, cp.thouB, cp.decB) {
		return v // separators in the wrong places: the type check rejects it as it stands
	}
	start := len(b.scratch)
	if cp.decB == nil && len(cp.thouB) == 1 {
		sep := cp.thouB[0]
		k := bytes.IndexByte(v, sep)
		if k < 0 {
			return v
		}
		for ; k >= 0; k = bytes.IndexByte(v, sep) {
			b.scratch = append(b.scratch, v[:k]...)
			v = v[k+1:]
		}
		b.scratch = append(b.scratch, v...)
		return b.scratch[start:]
	}
	for i := 0; i < len(v); {
		switch {
		case cp.thouB != nil && bytes.HasPrefix(v[i:], cp.thouB):
			i += len(cp.thouB)
		case cp.decB != nil && bytes.HasPrefix(v[i:], cp.decB):
			b.scratch = append(b.scratch, '.')
			i += len(cp.decB)
		default:
			b.scratch = append(b.scratch, v[i])
			i++
		}
	}
	return b.scratch[start:]
}

// grouped reports whether v's thousands separators stand where digit
// groups end: "1,234,567.5" yes, "1,5" or "12,34" no (10× errors).
func grouped(v, sep, dec []byte) bool {
	intPart := v
	if dec != nil {
		if k := bytes.Index(v, dec); k >= 0 {
			intPart = v[:k]
		}
	} else if k := bytes.IndexByte(v, '.'); k >= 0 && !bytes.Equal(sep, []byte(".")) {
		intPart = v[:k]
	}
	if len(intPart) > 0 && (intPart[0] == '-' || intPart[0] == '+') {
		intPart = intPart[1:]
	}
	groups := bytes.Split(intPart, sep)
	if len(groups) == 1 {
		return true
	}
	if n := len(groups[0]); n < 1 || n > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

func (b *Binding) column(bc *boundCol, fields [][]byte, rb *rows.Builder) *rows.Problem {
	cp := bc.cp
	var v []byte
	null := true
	switch {
	case cp.constant != nil:
		v, null = cp.constB, false
	case len(bc.terms) > 0:
		var prob *rows.Problem
		if v, null, prob = b.sum(bc, fields); prob != nil {
			return prob
		}
	case len(bc.from) == 1:
		if i := bc.from[0]; i >= 0 {
			v, null = b.value(cp, fields[i])
		}
	case len(cp.coalesce) > 0:
		for _, i := range bc.from {
			if i >= 0 {
				if v, null = b.value(cp, fields[i]); !null {
					break
				}
			}
		}
	default: // several fields joined by a space
		start := len(b.scratch)
		for k, i := range bc.from {
			if i < 0 {
				continue
			}
			part, isNull := b.value(cp, fields[i])
			if isNull {
				continue
			}
			if k > 0 && len(b.scratch) > start {
				b.scratch = append(b.scratch, ' ')
			}
			b.scratch = append(b.scratch, part...)
		}
		v = b.scratch[start:]
		null = len(v) == 0
	}
	if null && cp.def != nil {
		return b.set(bc, rb, cp.defB)
	}
	if null {
		rb.SetNull(cp.ci)
		return nil
	}
	if cp.constant != nil {
		return b.set(bc, rb, v) // the contract's value: no codes, layout or number style
	}
	if cp.codes != nil {
		mapped, ok := cp.codeBytes[string(v)]
		if !ok {
			return &rows.Problem{Reason: contract.ReasonEnum, Detail: fmt.Sprintf("column %s%s: %q is not in the code map (%s)", cp.col.Name, b.fromText(bc), clip(v), cp.codeList)}
		}
		v = mapped
	}
	if cp.layout != nil {
		start := len(b.scratch)
		out, ok := cp.layout.apply(b.scratch, v, b.file.Year, b.file.Month, cp.col.Type == contract.Timestamp)
		if !ok {
			return &rows.Problem{Reason: contract.ReasonDate, Detail: fmt.Sprintf("column %s%s: %q does not fit the layout %q", cp.col.Name, b.fromText(bc), clip(v), cp.layout.text)}
		}
		b.scratch = out
		v = out[start:]
	}
	if len(bc.terms) == 0 && (cp.col.Type == contract.Decimal || cp.col.Type == contract.Int) {
		v = b.number(cp, v)
		if bc.signIdx >= 0 && b.negative(cp, fields[bc.signIdx]) {
			start := len(b.scratch)
			b.scratch = appendNegated(b.scratch, v)
			v = b.scratch[start:]
		}
	}
	return b.set(bc, rb, v)
}

// set stages the column's final text, naming the source field in a problem.
func (b *Binding) set(bc *boundCol, rb *rows.Builder, v []byte) *rows.Problem {
	if prob := rb.Set(bc.cp.ci, v); prob != nil {
		if !bc.cp.implicit {
			prob.Detail += b.fromText(bc)
		}
		return prob
	}
	return nil
}

func (b *Binding) negative(cp *colPlan, v []byte) bool {
	v = b.clean(v)
	for _, n := range cp.sign.Negative {
		if string(v) == n {
			return true
		}
	}
	return false
}

// appendNegated appends -v ("-12.5" for "12.5", "12.5" for "-12.5").
func appendNegated(dst, v []byte) []byte {
	switch {
	case len(v) > 0 && v[0] == '-':
		return append(dst, v[1:]...)
	case len(v) > 0 && v[0] == '+':
		return append(append(dst, '-'), v[1:]...)
	}
	return append(append(dst, '-'), v...)
}

// sum adds the terms at the column's scale; all absent: absent.
func (b *Binding) sum(bc *boundCol, fields [][]byte) ([]byte, bool, *rows.Problem) {
	cp := bc.cp
	scale, precision := cp.col.Scale, cp.col.Precision
	if cp.col.Type == contract.Int {
		scale, precision = 0, 18
	}
	var total int64
	any := false
	for k, i := range bc.terms {
		if i < 0 {
			continue
		}
		v, null := b.value(cp, fields[i])
		if null {
			continue
		}
		v = b.number(cp, v)
		n, ok := rows.ParseDecimal(v, precision, scale)
		if !ok {
			return nil, false, &rows.Problem{Reason: contract.ReasonType, Detail: fmt.Sprintf("column %s (sum of %s): %s %q is not a valid %s", cp.col.Name, strings.Join(cp.sum, ", "), cp.terms[k].name, clip(v), cp.col.TypeName())}
		}
		if cp.terms[k].neg {
			n = -n
		}
		if (n > 0 && total > math.MaxInt64-n) || (n < 0 && total < math.MinInt64-n) {
			return nil, false, &rows.Problem{Reason: contract.ReasonType, Detail: fmt.Sprintf("column %s (sum of %s): the sum overflows", cp.col.Name, strings.Join(cp.sum, ", "))}
		}
		total += n
		any = true
	}
	if !any {
		return nil, true, nil
	}
	if bc.signIdx >= 0 && b.negative(cp, fields[bc.signIdx]) {
		total = -total
	}
	start := len(b.scratch)
	b.scratch = appendScaled(b.scratch, total, scale)
	return b.scratch[start:], false, nil
}

// appendScaled writes an unscaled integer at scale as decimal text.
func appendScaled(dst []byte, n int64, scale int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	if scale == 0 {
		return append(dst, s...)
	}
	for len(s) <= scale {
		s = "0" + s
	}
	dst = append(dst, s[:len(s)-scale]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-scale:]...)
}

func (b *Binding) fromText(bc *boundCol) string {
	if bc.cp.implicit || len(bc.cp.from) == 0 {
		return ""
	}
	return " (from " + strings.Join(bc.cp.from, " + ") + ")"
}

func clip(v []byte) string { return clipText(v, 40) }

func clipText(v []byte, max int) string {
	if len(v) <= max {
		return string(v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return string(v[:cut]) + "…"
}

// Plan is the binding's plan.
func (b *Binding) Plan() *Plan { return b.p }

// Clone is a binding for another worker (a binding keeps scratch space).
func (b *Binding) Clone() *Binding {
	c := *b
	c.scratch, c.sumParts = nil, nil
	return &c
}

// FitsWidth tells whether a line of n fields has the file's layout.
func (b *Binding) FitsWidth(n int) bool {
	return n == len(b.names) || b.p.trailingDelim && n == len(b.names)+1
}

// Describe says where each contract column comes from, one line each
// ("kind ← 客户类型 (codes: 个人, 对公)").
func (p *Plan) Describe() []string {
	var out []string
	for _, cp := range p.cols {
		var b strings.Builder
		b.WriteString(cp.col.Name)
		switch {
		case cp.constant != nil:
			fmt.Fprintf(&b, " = %q", *cp.constant)
		case len(cp.terms) > 0:
			fmt.Fprintf(&b, " ← sum(%s)", strings.Join(cp.sum, ", "))
		case cp.implicit && cp.def == nil:
			fmt.Fprintf(&b, " ← %s (same name)", cp.col.Name)
		case len(cp.coalesce) > 0:
			fmt.Fprintf(&b, " ← first of %s", strings.Join(cp.coalesce, ", "))
		case len(cp.from) > 0:
			fmt.Fprintf(&b, " ← %s", strings.Join(cp.from, " + "))
		}
		var notes []string
		if cp.codes != nil {
			notes = append(notes, "codes: "+cp.codeList)
		}
		if cp.layout != nil {
			notes = append(notes, "layout "+cp.layout.text)
		}
		if cp.thousands != "" || cp.decimal != "" {
			notes = append(notes, fmt.Sprintf("thousands %q, decimal %q", cp.thousands, cp.decimal))
		}
		if cp.sign != nil {
			notes = append(notes, fmt.Sprintf("negative when %s is %s", cp.sign.Field, strings.Join(cp.sign.Negative, "/")))
		}
		if cp.def != nil {
			notes = append(notes, fmt.Sprintf("default %q", *cp.def))
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
		}
		out = append(out, b.String())
	}
	return out
}

// SourceNames are the file fields the plan reads, each once: for files
// whose fields are named per record (JSON lines) rather than by a header.
func (p *Plan) SourceNames() []string {
	var out []string
	for _, cp := range p.cols {
		for _, n := range cp.sources() {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// Rename is the file column a contract column is read from when the plan
// renames it (a Parquet mapping), or the column's own name.
func (p *Plan) Rename(column string) string {
	for _, cp := range p.cols {
		if cp.col.Name == column && len(cp.from) == 1 {
			return cp.from[0]
		}
	}
	return column
}
