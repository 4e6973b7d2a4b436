package pgserve

import (
	"time"
	"unicode/utf8"

	"cdp/pii"
)

// The audit trail: every login, refused or not, and every statement —
// queries, refusals and failures alike, and the chatter the endpoint
// answers itself — with who, from where, when, how long, how many rows and
// how it ended. Result values are never in it; resident IDs and mobiles
// inside a statement's text or an error are masked (pii.Redact), and a
// statement is cut at MaxAuditStatement bytes.

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"` // "login" or "statement"
	User      string    `json:"user"`
	Role      string    `json:"role,omitempty"`
	Remote    string    `json:"remote"`
	TLS       bool      `json:"tls"`
	Statement string    `json:"statement,omitempty"`
	Rows      int64     `json:"rows"`
	Millis    int64     `json:"ms"`
	Outcome   string    `json:"outcome"` // ok, refused, failed
	Error     string    `json:"error,omitempty"`
}

// Outcomes of an audit record.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
	OutcomeFailed  = "failed"
)

// MaxAuditStatement is the longest statement text an audit record keeps.
const MaxAuditStatement = 4096

// audit hands a record to Options.Audit, if set.
func (s *Server) audit(r AuditRecord) {
	if s.o.Audit == nil {
		return
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Statement = pii.Redact(cut(r.Statement, MaxAuditStatement))
	r.Error = pii.Redact(r.Error)
	s.o.Audit(r)
}

// cut shortens s to at most n bytes, on a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
