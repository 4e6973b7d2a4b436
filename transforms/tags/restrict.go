package tags

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"cdp/warehouse"
)

// restrictToParties rewrites a party-scoped tag's SQL so that each table
// keyed by party it names (keyed: "schema.name", lower case) is read
// through a filter to the parties of the temp table parties (party_id):
// `core.aum_daily a` becomes `(SELECT * FROM core.aum_daily WHERE party_id
// IN (SELECT party_id FROM parties)) a`. The tag then aggregates the rows
// of the parties it is computed for, not of the whole bank.
//
// For those parties the values are the same, by the tag's promise (scope:
// party): a party's value comes from its own rows, so the other parties'
// rows can go (TestScope_APartyTagReadsItsPartysRowsAlone takes them away
// exactly like this, and cdp tags validate checks it on the warehouse).
// Leaving a table unfiltered is always right, only slower, so anything the
// rewrite is not sure of is left as written (see readThrough). It returns
// "" and why when it rewrote nothing.
func restrictToParties(ctx context.Context, conn *sql.Conn, sqlText string, keyed map[string]bool, parties string) (string, string, error) {
	read := map[string]string{}
	for key := range keyed {
		read[key] = "(SELECT * FROM %s WHERE " + inParties(parties) + ")"
	}
	return readThrough(ctx, conn, sqlText, read)
}

// inParties is the condition that a row's party is one of the temp table
// parties' (named with its catalog and schema, which no CTE of the tag's
// SQL can take).
func inParties(parties string) string {
	return "party_id IN (SELECT party_id FROM temp.main." + parties + ")"
}

// readThrough rewrites sqlText so that each table of read ("schema.name",
// lower case) it names is read through read's subquery instead, a format
// whose %s is the table's name as written: `core.t a` becomes
// `(SELECT * FROM core.t WHERE …) a`, `core.t` `(…) AS "t"`. Only the names
// are replaced, at the offsets DuckDB's parser gives (json_serialize_sql);
// the text around them is the SQL's own. What it cannot be sure of, it
// leaves as written, saying why ("" and the reason): a table read through
// another catalog, with a sample or AT clause, a column named with its
// schema (core.t.col, which the subquery's alias would not answer to), a
// sample of the rows, SQL that does not parse or names none of the
// tables. (A table named without its schema, or through another catalog,
// is not one of read's, and is read whole.)
func readThrough(ctx context.Context, conn *sql.Conn, sqlText string, read map[string]string) (string, string, error) {
	root, ok, err := parseSQL(ctx, conn, sqlText)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "it does not parse", nil
	}
	type ref struct {
		at, end int
		alias   string
		name    string
		through string
	}
	var refs []ref
	why := ""
	warehouse.EachNode(root, func(v map[string]any) {
		if cols, ok := v["column_names"].([]any); ok && v["class"] == "COLUMN_REF" && len(cols) > 2 {
			why = "a column named with its schema"
		}
		if v["type"] == "SELECT_NODE" && v["sample"] != nil {
			why = "it samples rows (USING SAMPLE)" // (a sample of fewer rows is another sample)
		}
		if v["type"] == "BASE_TABLE" {
			schema, _ := v["schema_name"].(string)
			name, _ := v["table_name"].(string)
			catalog, _ := v["catalog_name"].(string)
			if through, ok := read[strings.ToLower(schema+"."+name)]; ok {
				alias, _ := v["alias"].(string)
				colAlias, _ := v["column_name_alias"].([]any)
				at, ok := v["query_location"].(float64)
				switch {
				case catalog != "":
					// another catalog's table: left as it is
				case v["sample"] != nil || v["at_clause"] != nil:
					why = schema + "." + name + " is read with a sample or AT clause"
				case !ok || at < 0 || at >= float64(len(sqlText)) || (alias == "" && len(colAlias) > 0):
					why = "no place for " + schema + "." + name
				default:
					end, ok := nameEnd(sqlText, int(at), []string{schema, name})
					if !ok {
						why = "no place for " + schema + "." + name
						break
					}
					refs = append(refs, ref{at: int(at), end: end, alias: alias, name: name, through: through})
				}
			}
		}
	})
	if why != "" {
		return "", why, nil
	}
	if len(refs) == 0 {
		return "", "it reads none of the tables", nil
	}
	slices.SortFunc(refs, func(a, b ref) int { return b.at - a.at }) // from the end, so offsets hold
	out := sqlText
	for i, r := range refs {
		if i > 0 && r.end > refs[i-1].at {
			return "", "overlapping table names", nil
		}
		sub := fmt.Sprintf(r.through, out[r.at:r.end])
		if r.alias == "" {
			sub += " AS " + warehouse.Ident(r.name)
		}
		out = out[:r.at] + sub + out[r.end:]
	}
	return out, "", nil
}

// nameEnd reads the dotted name at offset at of s (each part bare or in
// double quotes, blanks allowed around the dots) and returns where it
// ends, if its parts are want (compared without case).
func nameEnd(s string, at int, want []string) (int, bool) {
	i := at
	var parts []string
	for {
		if i < len(s) && s[i] == '"' {
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return 0, false
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			parts = append(parts, b.String())
			i = j + 1
		} else {
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 0x80) {
				j++
			}
			if j == i {
				return 0, false
			}
			parts = append(parts, s[i:j])
			i = j
		}
		k := i
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			k++
		}
		if k >= len(s) || s[k] != '.' || len(parts) >= len(want) {
			break
		}
		k++
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
			k++
		}
		i = k
	}
	if len(parts) != len(want) {
		return 0, false
	}
	for n := range parts {
		if !strings.EqualFold(parts[n], want[n]) {
			return 0, false
		}
	}
	return i, true
}

// parseSQL parses sqlText with DuckDB (json_serialize_sql) into its tree;
// ok is false when it does not parse.
func parseSQL(ctx context.Context, conn *sql.Conn, sqlText string) (root any, ok bool, err error) {
	var tree string
	if err := conn.QueryRowContext(ctx, `SELECT CAST(json_serialize_sql(`+warehouse.Literal(sqlText)+`) AS VARCHAR)`).Scan(&tree); err != nil {
		return nil, false, fmt.Errorf("parse: %w", err)
	}
	if err := json.Unmarshal([]byte(tree), &root); err != nil {
		return nil, false, fmt.Errorf("parse tree: %w", err)
	}
	if m, isMap := root.(map[string]any); !isMap || m["error"] == true {
		return root, false, nil
	}
	return root, true, nil
}
