package core

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cdp/transforms/sqltext"
	"cdp/warehouse"
)

// The core model is declared one table per file (tables/NN_name.sql, built
// in file order): a header of directives, then the one SELECT that defines
// the table. Full and incremental builds both come from it:
//
//	kind: latest      rows of a raw table, one per key, the newest version
//	  key: a, b       what identifies a row
//	  newest: c, d    the order (descending) in which a version is newer;
//	                  when it starts with load_id, a new load's version
//	                  always is
//	  repoint: party_id = SYSTEM.column
//	                  the column holding the party of that system's source
//	                  record in column; rows follow a record that moves
//	  follows: core.parent (column)
//	                  the party is the parent row's, joined on column
//	kind: unique      like latest, but ingest already keeps one row a key
//	kind: derived     rebuilt whole from other core tables every build
//	kind: aggregate   sums of other core tables; its file carries its own
//	                  incremental statements (after "-- incremental:") and
//	                  says why, with {scope} / {scope:NAME} conditions
//	                  ("scope NAME: …" directives) that are true in a full
//	                  build, and {definition}, its SELECT so scoped
//
// In a definition, {new:ALIAS} is true in a full build and limits raw table
// ALIAS to the loads after the last build in an incremental one, and
// {date:ALIAS} is the snapshot date (YYYYMMDD) of raw row ALIAS, from its
// file name. An incremental build leaves, for the statements after it:
// cdp_moved (system, source_key, party_id: the records whose party changed,
// NULL when gone) and cdp_moved_from (their parties before); per table,
// when an aggregate reads them, cdp_new_NAME (the new versions) and
// cdp_changed_NAME (those and the versions they replaced), and, for a table
// others follow, cdp_touched_NAME (the keys whose party changed or that
// were replaced).
type definition struct {
	name, file, text string
	kind             string
	key, newest      []string
	repoint          []repoint
	follows          *follows
	order            string
	scopes           map[string]string // "" for {scope}
	query            string            // the SELECT
	incremental      string            // aggregates: their own statements
}

type repoint struct{ column, system, source string }

type follows struct{ parent, column string }

// Kinds of table definition.
const (
	kindLatest    = "latest"
	kindUnique    = "unique"
	kindDerived   = "derived"
	kindAggregate = "aggregate"
)

var (
	directive   = regexp.MustCompile(`^-- (kind|key|newest|repoint|follows|order|scope)(?: ([a-z]+))?: (.+)$`)
	repointForm = regexp.MustCompile(`^([a-z_]+) = ([a-z_]+)\.([a-z_]+)$`)
	followsForm = regexp.MustCompile(`^(core\.[a-z_]+) \(([a-z_]+)\)$`)
)

// definitions are the core tables, in build order.
var definitions = func() []definition {
	names, err := fs.Glob(tableFiles, "tables/*.sql")
	if err != nil {
		panic(err)
	}
	slices.Sort(names)
	var out []definition
	for _, n := range names {
		b, err := tableFiles.ReadFile(n)
		if err != nil {
			panic(err)
		}
		d, err := parseDefinition(n, string(b))
		if err != nil {
			panic("core: " + err.Error()) // the files ship with cdp; a test loads them
		}
		out = append(out, d)
	}
	return out
}()

func parseDefinition(file, text string) (definition, error) {
	d := definition{file: file, text: text, scopes: map[string]string{}}
	body, inc, _ := strings.Cut(text, "-- incremental:\n")
	d.incremental = inc
	var query []string
	inHeader := true
	for _, line := range strings.Split(body, "\n") {
		if inHeader && strings.HasPrefix(line, "--") {
			if d.name == "" {
				if name, _, ok := strings.Cut(strings.TrimPrefix(line, "-- "), ":"); ok && strings.HasPrefix(name, "core.") {
					d.name = name
				}
			}
			m := directive.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			v := strings.TrimSpace(m[3])
			switch m[1] {
			case "kind":
				d.kind = v
			case "key":
				d.key = splitList(v)
			case "newest":
				d.newest = splitList(v)
			case "repoint":
				r := repointForm.FindStringSubmatch(v)
				if r == nil {
					return d, fmt.Errorf("%s: repoint %q: want column = system.source_column", file, v)
				}
				d.repoint = append(d.repoint, repoint{r[1], r[2], r[3]})
			case "follows":
				f := followsForm.FindStringSubmatch(v)
				if f == nil {
					return d, fmt.Errorf("%s: follows %q: want core.table (column)", file, v)
				}
				d.follows = &follows{f[1], f[2]}
			case "order":
				d.order = v
			case "scope":
				d.scopes[m[2]] = v
			}
			continue
		}
		inHeader = false
		query = append(query, line)
	}
	d.query = strings.TrimSpace(strings.Join(query, "\n"))
	switch {
	case d.name == "":
		return d, fmt.Errorf("%s: the first line names no core table", file)
	case !slices.Contains([]string{kindLatest, kindUnique, kindDerived, kindAggregate}, d.kind):
		return d, fmt.Errorf("%s: kind %q: want latest, unique, derived or aggregate", file, d.kind)
	case (d.kind == kindLatest || d.kind == kindUnique) && len(d.key) == 0:
		return d, fmt.Errorf("%s: a %s table needs key:", file, d.kind)
	case d.kind == kindLatest && len(d.newest) == 0:
		return d, fmt.Errorf("%s: a latest table needs newest:", file)
	case d.kind == kindAggregate && strings.TrimSpace(d.incremental) == "":
		return d, fmt.Errorf("%s: an aggregate carries its incremental statements after -- incremental:", file)
	}
	return d, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// short is the table's name without its schema.
func (d definition) short() string { return strings.TrimPrefix(d.name, "core.") }

// statement is one SQL statement of a build, and the table it builds.
type statement struct{ table, sql string }

// fillDefinition fills the definition's placeholders: {new:ALIAS} with
// newLoads (an SQL condition, %s the alias), {date:ALIAS}, and the scopes.
func (d definition) fill(text string, newLoads func(alias string) string, scoped bool, sor Records, extra sqltext.Vars) (string, error) {
	vars := sqltext.Vars{
		"sor": func(arg string) (string, error) {
			product, system, ok := strings.Cut(arg, "=")
			if !ok {
				return "", fmt.Errorf("{sor:%s}: want {sor:PRODUCT=SYSTEM}", arg)
			}
			from, err := sor.of(product)
			if err != nil {
				return "", err
			}
			return strconv.FormatBool(from == system), nil
		},
		"new": func(alias string) (string, error) { return newLoads(alias), nil },
		"date": func(alias string) (string, error) {
			if alias == "" {
				return "", fmt.Errorf("names the raw row's alias")
			}
			return warehouse.SnapshotDateSQL(alias), nil
		},
		"scope": func(name string) (string, error) {
			if !scoped {
				return "true", nil
			}
			s, ok := d.scopes[name]
			if !ok {
				return "", fmt.Errorf("the file declares no scope %q", name)
			}
			return s, nil
		},
	}
	out, err := sqltext.Fill(text, sqltext.Merge(vars, extra))
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.file, err)
	}
	return out, nil
}

func allLoads(string) string { return "true" }

// full is a full build: every table rebuilt from raw and the other core
// tables, in order.
func full(sor Records) ([]statement, error) {
	var out []statement
	for _, d := range definitions {
		q, err := d.fill(d.query, allLoads, false, sor, nil)
		if err != nil {
			return nil, err
		}
		var sql string
		switch d.kind {
		case kindLatest:
			sql = "CREATE OR REPLACE TABLE " + d.name + " AS SELECT * FROM (" + q + ")\n" + d.qualify()
		case kindUnique, kindDerived:
			sql = "CREATE OR REPLACE TABLE " + d.name + " AS " + q
		case kindAggregate:
			sql = "CREATE OR REPLACE TABLE " + d.name + " AS SELECT * FROM (" + q + ")"
			if d.order != "" {
				sql += " ORDER BY " + d.order
			}
		}
		out = append(out, statement{d.name, sql})
	}
	return out, nil
}

// qualify keeps the newest version of each key.
func (d definition) qualify() string {
	order := make([]string, len(d.newest))
	for i, c := range d.newest {
		order[i] = c + " DESC"
	}
	return "QUALIFY row_number() OVER (PARTITION BY " + strings.Join(d.key, ", ") + " ORDER BY " + strings.Join(order, ", ") + ") = 1"
}

// keyMatch joins stored rows t with new rows n on the key.
func (d definition) keyMatch() string {
	parts := make([]string, len(d.key))
	for i, k := range d.key {
		parts[i] = "t." + k + " IS NOT DISTINCT FROM n." + k
	}
	return strings.Join(parts, " AND ")
}

// storedIsNewer holds when stored row t is a newer version than new row n.
func (d definition) storedIsNewer() string {
	var or []string
	for i := range d.newest {
		var and []string
		for _, c := range d.newest[:i] {
			and = append(and, "t."+c+" = n."+c)
		}
		and = append(and, "t."+d.newest[i]+" > n."+d.newest[i])
		or = append(or, "("+strings.Join(and, " AND ")+")")
	}
	return strings.Join(or, " OR ")
}

// incremental is a build from the last one's state: rows of records that
// moved to another party re-pointed, the rows of loads after hwm added by
// the same rules as a full build, derived tables rebuilt and aggregates
// summed again where their inputs changed.
func incremental(hwm int64, sor Records) ([]statement, error) {
	newLoads := func(alias string) string { return alias + "._load_id > " + strconv.FormatInt(hwm, 10) }
	followed := map[string]bool{}
	var aggregates strings.Builder // what the aggregates' statements read
	for _, d := range definitions {
		if d.follows != nil {
			followed[d.follows.parent] = true
		}
		aggregates.WriteString(d.incremental)
	}
	reads := func(table string) bool {
		return regexp.MustCompile(`\b` + table + `\b`).MatchString(aggregates.String())
	}
	out := []statement{
		// Source records whose party changed (or that are new, or gone from
		// the xref), and the parties they had.
		{"", `CREATE OR REPLACE TEMP TABLE cdp_moved AS
			SELECT system, source_key, party_id FROM core.party_xref
			EXCEPT
			SELECT system, source_key, party_id FROM core.model_xref
			UNION ALL
			SELECT m.system, m.source_key, NULL FROM core.model_xref m
			ANTI JOIN core.party_xref x ON x.system = m.system AND x.source_key = m.source_key`},
		{"", `CREATE OR REPLACE TEMP TABLE cdp_moved_from AS
			SELECT m.system, m.source_key, m.party_id FROM core.model_xref m
			SEMI JOIN cdp_moved c ON c.system = m.system AND c.source_key = m.source_key`},
	}
	for _, d := range definitions {
		add := func(sql string) { out = append(out, statement{d.name, sql}) }
		switch d.kind {
		case kindDerived:
			q, err := d.fill(d.query, allLoads, false, sor, nil)
			if err != nil {
				return nil, err
			}
			add("CREATE OR REPLACE TABLE " + d.name + " AS " + q)
			continue
		case kindAggregate:
			def, err := d.fill(d.query, newLoads, true, sor, nil)
			if err != nil {
				return nil, err
			}
			inc, err := d.fill(d.incremental, newLoads, true, sor, sqltext.Vars{"definition": sqltext.Value(def)})
			if err != nil {
				return nil, err
			}
			for _, st := range splitStatements(inc) {
				add(st)
			}
			continue
		}
		// latest and unique: re-point, then add the new versions.
		touched := "cdp_touched_" + d.short()
		var moved []string
		for _, r := range d.repoint {
			add(fmt.Sprintf(`UPDATE %s t SET %s = m.party_id FROM cdp_moved m WHERE m.system = '%s' AND t.%s = m.source_key`,
				d.name, r.column, r.system, r.source))
			moved = append(moved, fmt.Sprintf(`%s IN (SELECT source_key FROM cdp_moved WHERE system = '%s')`, r.source, r.system))
		}
		if followed[d.name] {
			where := "false"
			if len(moved) > 0 {
				where = strings.Join(moved, " OR ")
			}
			add(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s WHERE %s`, touched, strings.Join(d.key, ", "), d.name, where))
		}
		q, err := d.fill(d.query, newLoads, false, sor, nil)
		if err != nil {
			return nil, err
		}
		if d.kind == kindLatest {
			add("CREATE OR REPLACE TEMP TABLE cdp_new AS SELECT * FROM (" + q + ")\n" + d.qualify())
			if d.newest[0] != "load_id" {
				// An older snapshot delivered late does not replace a newer one.
				add(fmt.Sprintf(`DELETE FROM cdp_new n USING %s t WHERE %s AND (%s)`, d.name, d.keyMatch(), d.storedIsNewer()))
			}
			if reads("cdp_changed_" + d.short()) {
				add(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cdp_changed_%s AS
					SELECT t.* FROM %s t SEMI JOIN cdp_new n ON %s UNION ALL SELECT * FROM cdp_new`, d.short(), d.name, d.keyMatch()))
			}
			add(fmt.Sprintf(`DELETE FROM %s t USING cdp_new n WHERE %s`, d.name, d.keyMatch()))
		} else {
			add("CREATE OR REPLACE TEMP TABLE cdp_new AS " + q)
			if reads("cdp_changed_" + d.short()) {
				add(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cdp_changed_%s AS SELECT * FROM cdp_new`, d.short()))
			}
		}
		if reads("cdp_new_" + d.short()) {
			add(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cdp_new_%s AS SELECT * FROM cdp_new`, d.short()))
		}
		add("INSERT INTO " + d.name + " SELECT * FROM cdp_new")
		if followed[d.name] {
			add(fmt.Sprintf(`INSERT INTO %s SELECT %s FROM cdp_new`, touched, strings.Join(d.key, ", ")))
		}
		if f := d.follows; f != nil {
			// The party is the parent's: follow the parents whose party
			// changed or that a new version replaced.
			add(fmt.Sprintf(`UPDATE %[1]s t SET party_id = p.party_id FROM %[2]s p
				WHERE t.%[3]s = p.%[3]s AND t.%[3]s IN (SELECT %[3]s FROM cdp_touched_%[4]s) AND t.party_id IS DISTINCT FROM p.party_id`,
				d.name, f.parent, f.column, strings.TrimPrefix(f.parent, "core.")))
		}
	}
	out = append(out, statement{"", "DROP TABLE IF EXISTS cdp_new"})
	return out, nil
}

// splitStatements splits a script into its statements: each ends with a
// semicolon at the end of a line that is not a comment (the scripts keep
// semicolons out of strings).
func splitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(script, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
