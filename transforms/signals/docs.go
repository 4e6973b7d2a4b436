package signals

import (
	"fmt"
	"io"
	"strings"

	"cdp/transforms/sqltext"
)

// Describe is the rule's description with its parameters filled in (a
// description mentions them as {name}, like the SQL).
func (r *Rule) Describe() string {
	vars := sqltext.Vars{}
	for name, v := range r.Params {
		vars[name] = sqltext.Value(fmt.Sprint(v))
	}
	out, err := sqltext.Fill(strings.TrimSpace(r.Description), vars)
	if err != nil {
		return strings.TrimSpace(r.Description)
	}
	return out
}

// Docs writes the rule set as Markdown for CRM teams and relationship
// managers: per kind (and topic), a table of the rules, then each rule's
// reason template, parameters and SQL. lang "zh" (the default: the RMs
// who act on the signals read Chinese) shows each rule's Chinese action and
// reason, "en" the English ones.
func Docs(w io.Writer, rules *Rules, cfg Config, lang string) error {
	if lang != "en" && lang != "zh" && lang != "" {
		return fmt.Errorf("signals docs --lang %q: want zh or en", lang)
	}
	zh := lang != "en"
	action := func(r *Rule) string {
		if zh && r.ActionZH != "" {
			return r.ActionZH
		}
		return r.Action
	}
	reason := func(r *Rule) string {
		if zh && r.ReasonZH != "" {
			return r.ReasonZH
		}
		return r.Reason
	}
	cfg = cfg.WithDefaults()
	fmt.Fprintf(w, "# Signal rules\n\n%d rules. A rule fires for a party when its SQL returns the party; the reason is its template filled with the evidence the SQL returns.\n\n", len(rules.Rules))
	fmt.Fprint(w, "A rule runs as of a business day. A **dated** rule reads only facts up to that day, so evaluated for a past day "+
		"(`cdp signals eval --as-of`) it finds the parties the run of that day found; a **current** rule reads the current "+
		"state of loans or cards, so a past day shows today's.\n\n")
	fmt.Fprintf(w, "Lifecycle: a signal opens, is updated when its score rises, closes when the rule stops firing, and expires after its validity. "+
		"The same rule is not sent to the same party again within %d days unless its score rises; "+
		"a party gets at most %d cross-sell signals in any %d days, highest score first.\n\n", cfg.SuppressDays, cfg.CrossSellCap, cfg.CrossSellCapDays)
	for _, k := range Kinds {
		var rs []*Rule
		for _, r := range rules.Rules {
			if r.Kind == k.ID {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(w, "## %s %s (`%s`, topic `%s`, %d rules)\n\n", k.ZH, k.EN, k.ID, k.Topic, len(rs))
		fmt.Fprintln(w, "| id | 名称 | name | priority | valid days | product | for (team role) | reads | when it fires | action | owner |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		for _, r := range rs {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", r.ID, cell(r.NameZH), cell(r.NameEN), r.Priority,
				r.ValidDays, cell(r.Product), roleText(r.Role(), zh), r.Reads, cell(r.Describe()), cell(action(r)), cell(r.Owner))
		}
		fmt.Fprintln(w)
		for _, r := range rs {
			var params []string
			for _, p := range r.paramNames() {
				params = append(params, fmt.Sprintf("`%s` = %v", p, r.Params[p]))
			}
			fmt.Fprintf(w, "<details><summary><code>%s</code> definition (%s:%d)</summary>\n\nReason: `%s`\n\nParameters: %s\n\n```sql\n%s\n```\n</details>\n\n",
				r.ID, r.File, r.Line, strings.TrimSpace(reason(r)), strings.Join(append(params, "`as_of` = the run's date"), ", "), strings.TrimSpace(r.SQL))
		}
	}
	var current []string
	for _, r := range rules.Rules {
		if r.Reads == Current {
			current = append(current, "`"+r.ID+"`")
		}
	}
	fmt.Fprintf(w, "## Current-state rules (%d)\n\nThese read the current state; evaluated for a past day they show today's: %s.\n",
		len(current), strings.Join(current, ", "))
	return nil
}

// roleText is a team role as the docs name it.
func roleText(role string, zh bool) string {
	for _, t := range TeamRoles {
		if t.ID == role {
			if zh {
				return t.ZH + " `" + t.ID + "`"
			}
			return t.EN + " `" + t.ID + "`"
		}
	}
	return "`" + role + "`"
}

func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(strings.TrimSpace(s))
}
