package contract

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Docs writes the feeds' contracts as Markdown: per feed, per entity, its
// file, its table and a table of its columns.
func Docs(w io.Writer, feeds []*Feed) error {
	fmt.Fprintf(w, "# Feed contracts\n\n%d feeds. Each entity lands in its `raw.<feed>_<entity>` table: the contract's columns, then\n", len(feeds))
	fmt.Fprint(w, "the lineage columns (`_extra`, `_load_id`, `_source`, `_ingested_at`). A value that is not of its column's type, or\n"+
		"outside an enum's values, is a reject with its reason; a required column must have a value.\n"+
		"Written by `cdp contract docs` from the contract files; do not edit.\n\n")
	for _, f := range feeds {
		fmt.Fprintf(w, "## %s %s (`%s`, %s)\n\n", f.ZH, f.EN, f.Name, f.File)
		for _, e := range f.Entities {
			fmt.Fprintf(w, "### %s %s (`%s`)\n\n", e.ZH, e.EN, e.Table())
			fmt.Fprintf(w, "%s files, `%s` (`{D}` is YYYYMMDD, `{DATE}` YYYY-MM-DD), %s.", e.Format, e.Pattern, delivery(e))
			if len(e.Key) > 0 {
				fmt.Fprintf(w, " Key: `%s`.", strings.Join(e.Key, "`, `"))
			}
			if e.UniqueKey != "" {
				fmt.Fprintf(w, " A `%s` is loaded once across all of the entity's sources; later copies are rejected as `duplicate_key`.", e.UniqueKey)
			}
			if id := e.Identity; id != nil {
				fmt.Fprintf(w, " Customers: unified as system `%s` by `%s`, with %s.", id.System, id.Key, identityAttrs(id))
			}
			if x := e.Expected; x != nil {
				fmt.Fprintf(w, " Due by %s, %d day(s) after the business day (%s).", x.By, x.LagDays(), x.Days)
			}
			fmt.Fprint(w, "\n\n| column | type | values | required | PII | 中文 | description |\n| --- | --- | --- | --- | --- | --- | --- |\n")
			for _, c := range e.Columns {
				fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s |\n", c.Name, c.TypeName(), cell(strings.Join(c.Enum, ", ")),
					required(c), c.PII, cell(c.ZH), cell(c.EN))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// Show writes one feed's contract as aligned text for a terminal.
func Show(w io.Writer, f *Feed) error {
	fmt.Fprintf(w, "%s  %s %s  (%s)\n", f.Name, f.ZH, f.EN, f.File)
	for _, e := range f.Entities {
		fmt.Fprintf(w, "\n%s → %s  %s %s\n  %s files %s, %s", e.ID(), e.Table(), e.ZH, e.EN, e.Format, e.Pattern, delivery(e))
		if len(e.Key) > 0 {
			fmt.Fprintf(w, ", key %s", strings.Join(e.Key, "+"))
		}
		if e.UniqueKey != "" {
			fmt.Fprintf(w, ", %s loaded once", e.UniqueKey)
		}
		if id := e.Identity; id != nil {
			fmt.Fprintf(w, "\n  customers, unified as system %s by %s: %s", id.System, id.Key, strings.ReplaceAll(identityAttrs(id), "`", ""))
		}
		if x := e.Expected; x != nil {
			fmt.Fprintf(w, "\n  due by %s, %d day(s) after the business day (%s)", x.By, x.LagDays(), x.Days)
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  column\ttype\trequired\tpii\tdescription\t中文")
		for _, c := range e.Columns {
			desc := c.EN
			if c.Enum != nil {
				desc += " (" + strings.Join(c.Enum, " ") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.TypeName(), required(c), c.PII, desc, c.ZH)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func delivery(e *Entity) string {
	if e.Snapshot {
		return "a full snapshot each business day"
	}
	return "each business day's new rows"
}

func required(c Column) string {
	switch {
	case c.Required:
		return "yes"
	case c.Optional:
		return "may be absent"
	}
	return ""
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// identityAttrs lists a customer entity's identity attributes and columns.
func identityAttrs(id *Identity) string {
	var parts []string
	for _, a := range IdentityAttributes {
		if c, ok := id.Attributes[a]; ok {
			if c == a {
				parts = append(parts, "`"+a+"`")
			} else {
				parts = append(parts, fmt.Sprintf("`%s` from `%s`", a, c))
			}
		}
	}
	return strings.Join(parts, ", ")
}
