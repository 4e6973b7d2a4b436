package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"cdp/transforms/identity/normal"
	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// record is one source customer record: the latest version of a source key
// across the snapshots loaded, raw and normalised. A full run holds
// millions of them in Go: what many records have alike (their system and
// the attributes with few values) is one shared copy, and the identity as
// delivered is dropped once normalised, and what most records lack is
// one shared empty extra, and the normalised identity is one string
// (480 → 176 → 112 bytes a record).
type record struct {
	*common
	*delivered                    // nil once normalised, and for records rebuilt from core.party_xref
	*extra                        // noExtra when the record has none of them
	key                           string
	loadID                        int64
	norm                               // normalised
	active                        bool // new or changed: compared in this run
	idValid, mobileValid, hanName bool
	hash                          uint64
}

// norm is a record's normalised identity: its name, the name's pinyin, ID,
// the ID's problem, match key, birth date and mobile, one after another in
// one string (each field ends at ends[i]). Seven strings of their own took
// 112 bytes of headers and up to seven allocations a record; 15.85M records
// at 5M parties.
type norm struct {
	packed string
	ends   [7]uint32
}

func (n *norm) field(i int) string {
	start := uint32(0)
	if i > 0 {
		start = n.ends[i-1]
	}
	return n.packed[start:n.ends[i]]
}

func (n *norm) nName() string     { return n.field(0) }
func (n *norm) nAlt() string      { return n.field(1) }
func (n *norm) nID() string       { return n.field(2) }
func (n *norm) idProblem() string { return n.field(3) }
func (n *norm) matchKey() string  { return n.field(4) }
func (n *norm) nBirth() string    { return n.field(5) }
func (n *norm) nMobile() string   { return n.field(6) }

// setNorm packs the normalised identity, with the name's pinyin and
// whether it is written in Chinese.
func (r *record) setNorm(name, id, problem, key, birth, mobile string) {
	alt := normal.Pinyin(name)
	r.hanName = hasHan(name)
	var b strings.Builder
	b.Grow(len(name) + len(alt) + len(id) + len(problem) + len(key) + len(birth) + len(mobile))
	for i, v := range [...]string{name, alt, id, problem, key, birth, mobile} {
		b.WriteString(v)
		r.ends[i] = uint32(b.Len())
	}
	r.packed = b.String()
}

// extra holds the attributes most records lack: a company's revenue and
// legal representative, a person's employer and income (raw, as delivered;
// SQL NULL as ""), and the legal representative's valid resident ID.
type extra struct {
	revenue, legalRepName, employer, income string
	legalRepKey                             string
}

// noExtra is every record's extra that has none: read, never written.
var noExtra = &extra{}

// extras is e, or noExtra when e is empty.
func extras(e extra) *extra {
	if e == (extra{}) {
		return noExtra
	}
	return &e
}

// common holds the attributes with few values, one copy for every record
// that has them all alike (raw, as delivered).
type common struct {
	system, ptype                                      string // ptype: P | C
	idType, industry, riskLevel, segment, rmID, branch string
	bizDate                                            string
}

// delivered is the identity as the source delivered it, which only
// normalise reads.
type delivered struct {
	name, idNo, mobile, birth, legalRepID string
}

// commons hands out one *common for equal values.
type commons map[common]*common

func (m commons) get(c common) *common {
	if p, ok := m[c]; ok {
		return p
	}
	p := &c
	m[c] = p
	return p
}

// ref is "system:source_key", how records are named in lineage columns.
func (r *record) ref() string { return r.system + ":" + r.key }

// sourceQuery selects the latest version of every source customer record
// in loads after a given load id (0: all). The business date comes from the
// snapshot's file name (customers_20261120.csv, dt=2026-11-20); a later load
// of the same date (a correction) wins. An incremental run keeps only
// records that are new or whose fields changed since unification last saw
// them, and never lets an older snapshot delivered late replace a newer one.
func sourceQuery(sources []Source) string {
	return `
WITH src AS (` + unionSQL(sources) + `), hashed AS (
    SELECT *, ` + businessDateSQL + ` AS business_date, ` + recordHashSQL + ` AS record_hash
    FROM src {part}
), latest AS (
    -- Each key's latest version: the newest snapshot, then the latest load,
    -- then the last row. One row a key held at a time (a hash aggregate),
    -- not a window over every version delivered, whose sort of all the
    -- days' rows grew with the history (7 GB at 50k parties × 90 days).
    SELECT unnest(v) FROM (
        SELECT arg_max(h, (h.business_date, h._load_id, coalesce(h._source, ''))) AS v
        FROM hashed h {narrow} GROUP BY h.system, h.source_key)
)
SELECT l.system, l.source_key, l.party_type, l.name, l.id_type, l.id_no, l.mobile, l.birth_date, l.industry_code,
       l.annual_revenue, l.legal_rep_name, l.legal_rep_id_no, l.employer, l.annual_income, l.risk_level, l.segment,
       l.rm_id, l.branch_code, l.business_date, l._load_id, l.record_hash
FROM latest l {filter}`
}

// candidatesOnly narrows an incremental read before the latest versions are
// picked: only keys with at least one delivered version unification has not
// seen. (The latest version is still picked among all of that key's new
// rows.)
const candidatesOnly = `WHERE (system, source_key) IN (
    SELECT h.system, h.source_key FROM hashed h ANTI JOIN core.party_xref x
    ON x.system = h.system AND x.source_key = h.source_key AND x.record_hash = h.record_hash)`

// changedOnly is the incremental filter of sourceQuery: new keys, and
// changed versions from a snapshot no older than the newest one the last run
// had seen for that system (a late older snapshot is not a change; a source
// whose file names carry no date always is). {after} is the last run's load.
const changedOnly = `LEFT JOIN core.party_xref x ON x.system = l.system AND x.source_key = l.source_key
LEFT JOIN (
    SELECT {entity_system} AS system,
           max(coalesce(replace(regexp_extract(source, '(\d{4}-?\d{2}-?\d{2})', 1), '-', ''), '')) AS seen
    FROM ops.loads
    WHERE status = 'loaded' AND load_id <= {after}
      AND entity IN ({entities})
    GROUP BY 1
) w ON w.system = l.system
WHERE x.party_id IS NULL
   OR (x.record_hash <> l.record_hash AND (l.business_date = '' OR l.business_date >= coalesce(w.seen, '')))`

// businessDateSQL is the snapshot date of a raw row, YYYYMMDD, from the
// path part of its _source (customers_20261120.csv:17,
// clients/dt=2026-11-20/part-0.parquet:5); ” when the name carries none.
var businessDateSQL = warehouse.SnapshotDateSQL("")

// recordHashSQL fingerprints a source row's fields: a change makes the
// record active again.
const recordHashSQL = `hash(party_type, name, id_type, id_no, mobile, birth_date, industry_code, annual_revenue,
    legal_rep_name, legal_rep_id_no, employer, annual_income, risk_level, segment, rm_id, branch_code)`

// readRecords loads the source records of loads in (afterLoad, upTo];
// with changed, only those new or changed since the last run. The latest
// version of each key is picked in parts (by a hash of the key), so that
// DuckDB holds one part's keys at a time: all of them at once outgrew its
// share of the budget at 5M parties (15.8M records). Records come in no
// particular order.
func readRecords(ctx context.Context, conn *sql.Conn, sources []Source, afterLoad, upTo int64, changed bool, parts int) ([]*record, error) {
	vars := sqltext.Vars{"after": sqltext.Value(strconv.FormatInt(afterLoad, 10)), "upto": sqltext.Value(strconv.FormatInt(upTo, 10)),
		"filter": sqltext.Value(""), "narrow": sqltext.Value(""), "entities": sqltext.Value(entityList(sources)),
		"entity_system": sqltext.Value(entitySystem(sources)), "part": sqltext.Value("")}
	if changed {
		vars["filter"], vars["narrow"] = sqltext.Value(sqltext.MustFill(changedOnly, vars)), sqltext.Value(candidatesOnly)
	}
	var out []*record
	shared, alike := interned{}, commons{}
	for part := range max(parts, 1) {
		if parts > 1 {
			vars["part"] = sqltext.Value(fmt.Sprintf("WHERE hash(system, source_key) %% %d = %d", parts, part))
		}
		var err error
		if out, err = readPart(ctx, conn, sqltext.MustFill(sourceQuery(sources), vars), out, shared, alike); err != nil {
			if parts > 1 {
				err = fmt.Errorf("part %d of %d: %w", part+1, parts, err)
			}
			return nil, fmt.Errorf("read source records: %w", err)
		}
	}
	return out, nil
}

// rowsPerPart is how many raw customer rows readRecords gives DuckDB at
// once per GiB of its memory limit: 6.3M rows (1M parties, two days) fit
// its 4.7 GiB, 16M (5M parties, one day) did not.
var rowsPerPart int64 = 1 << 20 // (tests set it lower)

// readParts is how many parts readRecords should read the raw rows of
// loads up to upTo in, for DuckDB's memory limit (bytes).
func readParts(ctx context.Context, conn *sql.Conn, sources []Source, upTo, duckdbBytes int64) (int, error) {
	var counts []string
	for _, s := range sources {
		counts = append(counts, fmt.Sprintf("SELECT count(*) AS n FROM %s WHERE _load_id <= %d", s.Table, upTo))
	}
	var rows int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(sum(n), 0) FROM ("+strings.Join(counts, " UNION ALL ")+")").Scan(&rows); err != nil {
		return 0, fmt.Errorf("count source records: %w", err)
	}
	return int(warehouse.Parts(rows, rowsPerPart, duckdbBytes)), nil
}

// readPart appends the records one source query returns to out.
func readPart(ctx context.Context, conn *sql.Conn, q string, out []*record, shared interned, alike commons) ([]*record, error) {
	err := warehouse.QueryArrow(ctx, conn, q, func(b arrow.RecordBatch) error {
		cols := make([]*array.String, 19)
		for c := range cols {
			cols[c] = b.Column(c).(*array.String)
		}
		loads := b.Column(19).(*array.Int64)
		hashes := b.Column(20).(*array.Uint64)
		for i := 0; i < int(b.NumRows()); i++ {
			get := func(c int) string { return getString(cols[c], i) }
			few := func(c int) string { return shared.get(cols[c], i) }
			out = append(out, &record{
				common: alike.get(common{system: few(0), ptype: few(2), idType: few(4), industry: few(8),
					riskLevel: few(14), segment: few(15), rmID: few(16), branch: few(17), bizDate: few(18)}),
				delivered: &delivered{name: get(3), idNo: get(5), mobile: get(6), birth: get(7), legalRepID: get(11)},
				extra:     extras(extra{revenue: get(9), legalRepName: get(10), employer: get(12), income: get(13)}),
				key:       get(1), loadID: loads.Value(i), hash: hashes.Value(i),
			})
		}
		return nil
	})
	return out, err
}

// getString copies a value out of a batch (Value points into the batch,
// which is released after the callback).
func getString(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return strings.Clone(a.Value(i))
}

// interned holds one copy of each value of the columns with few distinct
// values (system, party type, ID type, industry, risk level, segment, RM,
// branch, business date), which millions of records share.
type interned map[string]string

func (m interned) get(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	if s, ok := m[a.Value(i)]; ok { // Value points into the batch: looked up, not kept
		return s
	}
	return once(m, strings.Clone(a.Value(i)))
}

// xrefColumns rebuild a record from core.party_xref: the normalised
// identity and the attributes the golden record needs.
const xrefColumns = `x.system, x.source_key, x.party_id, x.party_type, x.name, x.id_type, x.id_no, x.id_problem,
	x.match_key, CAST(x.birth_date AS VARCHAR), x.mobile, x.legal_rep_id, x.industry_code,
	CAST(x.annual_revenue AS VARCHAR), x.legal_rep_name, x.employer, CAST(x.annual_income AS VARCHAR), x.risk_level,
	x.segment, x.rm_id, x.branch_code, x.business_date, coalesce(x.updated_run, ''),
	x.id_valid, x.mobile_valid, x.load_id, x.record_hash`

// stored is a record as the last run left it, with its party.
type stored struct {
	rec            *record
	party, updated string
}

// readStored loads xref rows (query selects xrefColumns).
func readStored(ctx context.Context, conn *sql.Conn, query string) ([]stored, error) {
	var out []stored
	alike := commons{}
	err := warehouse.QueryArrow(ctx, conn, query, func(b arrow.RecordBatch) error {
		cols := make([]*array.String, 23)
		for c := range cols {
			cols[c] = b.Column(c).(*array.String)
		}
		idValid := b.Column(23).(*array.Boolean)
		mobValid := b.Column(24).(*array.Boolean)
		loads := b.Column(25).(*array.Int64)
		hashes := b.Column(26).(*array.Uint64)
		for i := 0; i < int(b.NumRows()); i++ {
			get := func(c int) string { return getString(cols[c], i) }
			r := &record{
				common: alike.get(common{system: get(0), ptype: get(3), idType: get(5), industry: get(12),
					riskLevel: get(17), segment: get(18), rmID: get(19), branch: get(20), bizDate: get(21)}),
				key:     get(1),
				extra:   extras(extra{legalRepKey: get(11), revenue: get(13), legalRepName: get(14), employer: get(15), income: get(16)}),
				idValid: !idValid.IsNull(i) && idValid.Value(i), mobileValid: !mobValid.IsNull(i) && mobValid.Value(i),
				loadID: loads.Value(i), hash: hashes.Value(i),
			}
			// Values of the batch, not kept: setNorm copies them.
			batch := func(c int) string {
				if cols[c].IsNull(i) {
					return ""
				}
				return cols[c].Value(i)
			}
			r.setNorm(batch(4), batch(6), batch(7), batch(8), batch(9), batch(10))
			out = append(out, stored{rec: r, party: get(2), updated: get(22)})
		}
		return nil
	})
	return out, err
}

// normalise fills the normalised fields of a record read from raw.
func (r *record) normalise() {
	var name, id, problem, key, birth string
	if r.ptype == "C" {
		name = normal.CompanyName(r.name)
		c := normal.CreditCode(r.idNo)
		id, r.idValid, problem = c.Code, c.Valid, c.Problem
		if c.Valid && c.OrgCode != "" {
			// The organisation code is inside every credit code: it joins
			// a company keyed by either.
			key = "O" + c.OrgCode
		} else if c.Valid {
			key = "L" + c.Code
		}
		if r.legalRepID != "" {
			if p := normal.ResidentID(r.legalRepID); p.Valid {
				e := *r.extra
				e.legalRepKey = p.ID
				r.extra = &e
			}
		}
	} else {
		name = normal.PersonName(r.name)
		if r.idType == "PASSPORT" {
			id = normal.CreditCode(r.idNo).Code // cleaned: spaces out, upper case
			problem = "passport"
		} else {
			p := normal.ResidentID(r.idNo)
			id, r.idValid, problem = p.ID, p.Valid, p.Problem
			if p.Valid {
				key = "R" + p.ID
			}
			birth = p.Birth
		}
		if b := normBirth(r.birth); b != "" {
			if birth == "" || !r.idValid {
				birth = b
			}
		}
	}
	if id == "" {
		r.idValid = false
	}
	m := normal.Mobile(r.mobile)
	r.mobileValid = m.Kind == normal.MobileCN
	r.setNorm(name, id, problem, key, birth, m.Number)
	r.delivered = nil // normalised: nothing reads it again
}

// gender is M or F as a person's valid resident ID says, or "" (read for
// the golden record's ID alone, not kept in every record).
func (r *record) gender() string {
	if r.ptype == "P" && r.idValid {
		switch normal.ResidentID(r.nID()).Male {
		case 1:
			return "M"
		case 2:
			return "F"
		}
	}
	return ""
}

// normBirth turns a DATE rendered as text into YYYY-MM-DD.
func normBirth(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return ""
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF {
			return true
		}
	}
	return false
}
