// Package sqltext fills the placeholders of the SQL the transforms run:
// the core model's scripts, the tag catalog, the value tiers, the signal
// rules and identity's relationships. One syntax everywhere:
//
//	{name}       a value: {as_of} is DATE '2026-11-20', {min_amount} 1000000
//	{name:arg}   a value of an argument: {day:core.aum_daily}, {date:l}
//
// A name is lower-case letters, digits and _, starting with a letter; an
// argument runs to the closing brace and holds no blank. Anything else in
// braces — DuckDB struct literals {'a': 1}, JSON, regular expressions like
// \d{6} — is left alone. A placeholder inside a string literal is filled
// too; comments (-- to the end of the line, /* to */) are left as they are,
// so a comment may mention any name in braces. A placeholder nobody
// supplies is an error naming it, never left in the SQL.
package sqltext

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Var gives a placeholder's value for its argument ("" when written
// without one).
type Var func(arg string) (string, error)

// Vars are the placeholders a piece of SQL may use, by name.
type Vars map[string]Var

var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)(?::([^{}\s]+))?\}`)

// Fill replaces every placeholder of sql with its value.
func Fill(sql string, vars Vars) (string, error) {
	var errs []string
	out := replaceOutsideComments(sql, func(m string) string {
		p := placeholder.FindStringSubmatch(m)
		v, ok := vars[p[1]]
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown placeholder %s (this SQL may use %s)", m, vars.names()))
			return m
		}
		val, err := v(p[2])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", m, err))
			return m
		}
		return val
	})
	if len(errs) > 0 {
		slices.Sort(errs)
		return "", fmt.Errorf("%s", strings.Join(slices.Compact(errs), "; "))
	}
	return out, nil
}

// MustFill is Fill for SQL that ships with cdp, whose placeholders a test
// covers: a missing one is a bug.
func MustFill(sql string, vars Vars) string {
	out, err := Fill(sql, vars)
	if err != nil {
		panic("sqltext: " + err.Error())
	}
	return out
}

// Uses lists the names of the placeholders sql uses, each once, in order
// of first use.
func Uses(sql string) []string {
	var out []string
	replaceOutsideComments(sql, func(m string) string {
		if name := placeholder.FindStringSubmatch(m)[1]; !slices.Contains(out, name) {
			out = append(out, name)
		}
		return m
	})
	return out
}

// replaceOutsideComments replaces the placeholders of sql that are not in
// a comment with what fn returns for them. Quotes are followed so that --
// or /* inside a string literal or a quoted name starts no comment.
func replaceOutsideComments(sql string, fn func(string) string) string {
	var b strings.Builder
	code := 0 // start of the text not yet written
	flush := func(end int) {
		b.WriteString(placeholder.ReplaceAllStringFunc(sql[code:end], fn))
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"':
			if j := strings.IndexByte(sql[i+1:], c); j >= 0 {
				i += j + 1 // a doubled quote is two literals back to back: same result
			} else {
				i = len(sql)
			}
		case c == '-' && strings.HasPrefix(sql[i:], "--"), c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := len(sql)
			if c == '-' {
				if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
					end = i + j
				}
			} else if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				end = i + 2 + j + 2
			}
			flush(i)
			b.WriteString(sql[i:end])
			code, i = end, end-1
		}
	}
	flush(len(sql))
	return b.String()
}

func (v Vars) names() string {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, "{"+n+"}")
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Merge is the union of sets of Vars; a later set wins a name.
func Merge(sets ...Vars) Vars {
	out := Vars{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// Value is a placeholder written without an argument.
func Value(s string) Var {
	return func(arg string) (string, error) {
		if arg != "" {
			return "", fmt.Errorf("takes no argument")
		}
		return s, nil
	}
}

// Date is a day (YYYY-MM-DD) as a SQL DATE literal.
func Date(day string) string { return "DATE '" + strings.ReplaceAll(day, "'", "''") + "'" }

// String is s as a SQL string literal.
func String(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Number is f as a SQL number.
func Number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Literal is a parameter value as SQL: numbers as they are, strings quoted,
// booleans true or false.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return Number(x), nil
	case string:
		return String(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("%v (%T): want a number, a string or true/false", v, v)
}
