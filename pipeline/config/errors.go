package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a project file, positioned for a human to fix it.
type Error struct {
	File   string // the path as the caller gave it
	Line   int    // 1-based; 0 when the problem is the file as a whole
	Column int    // 1-based; 0 when unknown
	Field  string // e.g. "feeds[1].encoding"; "" for syntax errors
	Msg    string

	cause error
}

// Error reads "cdp.yaml:14:5: feeds[1].encoding: unknown encoding …".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, if any (fs.ErrNotExist for a missing file).
func (e *Error) Unwrap() error { return e.cause }

// Errors is several problems in one file, in file order, one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the first *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
