package pii_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cdp/internal/testbank"
	"cdp/pii"
	"cdp/transforms/signals"
	"cdp/transforms/tags"
)

// Every column of a fully built warehouse whose name looks like personal
// data is classified in pii.Columns, and every column the list names
// exactly exists: a new column that may hold an ID number or phone cannot
// slip out unmasked, and the list cannot rot.
func TestColumns_EveryPersonalColumnOfTheWarehouseIsClassified(t *testing.T) {
	b := testbank.Load(t, testbank.Options{Parties: 300, Days: 2, Seed: 31, BadRowRate: 0.01})
	b.Run(t, "tags", "tiers", "view", "signals")
	// The scratch tables of cdp tags eval and cdp signals eval.
	ctx, asOf := context.Background(), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	cat, err := tags.Load(tags.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Eval(ctx, b.W, cat, tags.EvalOptions{AsOf: asOf, Tags: []string{"age_band"}, Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	rules, err := signals.Load(signals.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signals.Eval(ctx, b.W, rules, signals.EvalOptions{AsOf: asOf, Logger: testbank.Quiet}); err != nil {
		t.Fatal(err)
	}
	rows, err := b.W.DB().Query(`SELECT table_schema, table_name, column_name FROM information_schema.columns
		WHERE table_schema IN ('raw', 'core', 'mart', 'ops', 'scratch') ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	var missing []string
	checked := 0
	for rows.Next() {
		var schema, table, column string
		if err := rows.Scan(&schema, &table, &column); err != nil {
			t.Fatal(err)
		}
		have[schema+"."+table+"."+column] = true
		if !pii.LooksPersonal(column) {
			continue
		}
		checked++
		if _, ok := pii.Listed(schema, table, column); !ok {
			missing = append(missing, schema+"."+table+"."+column)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("columns that look like personal data and are not classified in pii.Columns:\n  %s", strings.Join(missing, "\n  "))
	}
	for key := range pii.Columns {
		if !strings.Contains(key, "*") && !have[key] {
			t.Errorf("pii.Columns lists %s, which the warehouse does not have", key)
		}
	}
	if checked < 40 {
		t.Errorf("only %d columns looked like personal data; the warehouse is not fully built", checked)
	}
}
