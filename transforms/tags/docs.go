package tags

import (
	"fmt"
	"io"
	"strings"
)

// Docs writes the catalog as Markdown for analysts: per category, a table
// of the tags, then each tag's definition.
func Docs(w io.Writer, cat *Catalog) error {
	by := cat.ByCategory()
	fmt.Fprintf(w, "# Tag catalog\n\n%d tags in %d categories. Each tag is one value per party, computed by its SQL over the core tables\n", len(cat.Tags), len(by))
	fmt.Fprint(w, "as of a business day. A **dated** tag reads only facts up to that day (the day's snapshot, the newest on or before it,\n"+
		"and events in windows ending on it): evaluated for a past day (`cdp tags eval --as-of`), it gives the value the run of\n"+
		"that day recorded. A **current** tag reads the current state (the golden record, the latest snapshot of loans and\n"+
		"cards, relationships), so a past day shows today's state. A tag of scope **party** gives a party a value from its own\n"+
		"rows alone, so a run may compute it for the parties whose rows changed; **bank** tags read other parties' rows too.\n"+
		"A dated, party-scoped tag's **windows** are the tables it reads over the last days up to the as-of day (table.column,\n"+
		"days) and the snapshots it reads: it is computed for the parties whose rows changed, entered or left a window, or\n"+
		"differ between the last run's snapshot and this run's.\n\n")
	for _, c := range Categories {
		ts := by[c.ID]
		if len(ts) == 0 {
			continue
		}
		fmt.Fprintf(w, "## %s %s (`%s`, %d tags)\n\n", c.ZH, c.EN, c.ID, len(ts))
		fmt.Fprintln(w, "| id | 名称 | name | type | values | reads | scope | description | owner |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		for _, t := range ts {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.ID, cell(t.NameZH), cell(t.NameEN), t.Type,
				cell(strings.Join(t.Values, ", ")), t.Reads, scopeCell(t), cell(t.Description), cell(t.Owner))
		}
		fmt.Fprintln(w)
		for _, t := range ts {
			fmt.Fprintf(w, "<details><summary><code>%s</code> definition (%s:%d)</summary>\n\n```sql\n%s\n```\n</details>\n\n",
				t.ID, t.File, t.Line, strings.TrimSpace(t.SQL))
		}
	}
	var current []string
	for _, t := range cat.Tags {
		if t.Reads == Current {
			current = append(current, "`"+t.ID+"`")
		}
	}
	fmt.Fprintf(w, "## Current-state tags (%d)\n\nThese read the current state; evaluated for a past day they show today's: %s.\n",
		len(current), strings.Join(current, ", "))
	return nil
}

// scopeCell is a tag's scope, with its windows.
func scopeCell(t *Tag) string {
	if len(t.Windows) == 0 {
		return t.Scope
	}
	ws := make([]string, len(t.Windows))
	for i, w := range t.Windows {
		ws[i] = fmt.Sprintf("%s.%s %d days", w.Table, w.Column, w.Days)
		if w.Snapshot {
			ws[i] = w.Table + " snapshot"
		}
	}
	return t.Scope + "; windows: " + strings.Join(ws, ", ")
}

func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(strings.TrimSpace(s))
}
