package signals

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"cdp/pii"
	"cdp/warehouse"
)

// Validate checks every rule's SQL against the warehouse: it compiles (for
// today's date), returns party_id (VARCHAR) and a numeric score, returns
// every column the reason template quotes, and — unless allowPII — no
// column named like an ID number or phone. Problems name file and line.
func Validate(ctx context.Context, db *sql.DB, rules *Rules, asOf string, allowPII bool) error {
	var probs Problems
	for _, r := range rules.Rules {
		bad := func(line int, format string, args ...any) {
			probs = append(probs, Problem{File: r.File, Line: line, Item: r.ID, Msg: fmt.Sprintf(format, args...)})
		}
		query, err := r.Query(asOf)
		if err != nil {
			bad(r.SQLLine, "%v", err)
			continue
		}
		cols, err := warehouse.Describe(ctx, db, query)
		if err != nil {
			bad(r.SQLLine, "sql does not compile: %s", strings.SplitN(err.Error(), "\n", 2)[0])
			continue
		}
		types := map[string]string{}
		sample := map[string]any{}
		for _, c := range cols {
			types[c.Name] = c.Type
			if c.Name != "party_id" && c.Name != "score" {
				sample[c.Name] = sampleValue(c.Type)
			}
			if !allowPII && pii.ClassOfName(c.Name).Masked() {
				bad(r.SQLLine, "column %s looks like an ID number or phone: events carry none unless publish.allow_pii is true", c.Name)
			}
		}
		switch t, ok := types["party_id"]; {
		case !ok:
			bad(r.SQLLine, "the sql returns no party_id column")
		case t != "VARCHAR":
			bad(r.SQLLine, "party_id is %s; want VARCHAR", t)
		}
		switch t, ok := types["score"]; {
		case !ok:
			bad(r.SQLLine, "the sql returns no score column (0..100)")
		case !numeric(t):
			bad(r.SQLLine, "score is %s; want a number 0..100", t)
		}
		if r.reason != nil {
			if err := r.reason.Execute(&bytes.Buffer{}, sample); err != nil {
				bad(r.ReasonLine, "reason: %s (the sql returns %s)", err, strings.Join(sortedKeys(sample), ", "))
			}
		}
		if r.reasonZH != nil {
			if err := r.reasonZH.Execute(&bytes.Buffer{}, sample); err != nil {
				bad(r.ReasonZHLine, "reason_zh: %s (the sql returns %s)", err, strings.Join(sortedKeys(sample), ", "))
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

func numeric(t string) bool {
	for _, p := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func sampleValue(t string) any {
	switch {
	case numeric(t):
		return 1.0
	case t == "DATE":
		return "2026-01-01"
	}
	return "x"
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
