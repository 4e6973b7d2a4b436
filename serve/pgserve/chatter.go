package pgserve

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
)

// Client chatter: statements drivers and BI tools send on their own, which
// Postgres answers and DuckDB would not (or would answer differently). They
// are answered here without DuckDB, and need no snapshot:
//
//   - SET and RESET of the session settings below are accepted and ignored
//     (SET client_encoding only to UTF8). Any other SET is refused by the gate.
//   - BEGIN / START TRANSACTION, COMMIT / END, ROLLBACK / ABORT, SAVEPOINT and
//     RELEASE are accepted: every statement reads a read-only snapshot, so
//     they only track the transaction state clients see. A transaction does
//     not pin a snapshot: each statement reads the newest one (hence
//     transaction_isolation "read committed").
//   - DISCARD ALL (connection poolers) is accepted.
//   - SHOW of the usual server parameters, and SELECT version().

// ignoredSettings are the session settings SET accepts and ignores.
var ignoredSettings = map[string]bool{
	"application_name": true, "extra_float_digits": true, "datestyle": true, "client_encoding": true,
	"client_min_messages": true, "intervalstyle": true, "timezone": true, "statement_timeout": true,
	"lock_timeout": true, "idle_in_transaction_session_timeout": true, "bytea_output": true,
	"default_transaction_read_only": true, "default_transaction_isolation": true, "jit": true,
}

// chatterKeywords start the statements chatter may answer.
var chatterKeywords = map[string]bool{
	"set": true, "reset": true, "discard": true, "begin": true, "start": true, "commit": true, "end": true,
	"rollback": true, "abort": true, "savepoint": true, "release": true, "show": true, "select": true,
}

// maxChatterTokens bounds the statements read as chatter.
const maxChatterTokens = 48

// chatter answers the statement toks if it is client chatter. ok is false
// when it is not; err is a refusal of a chatter-like statement (SET
// client_encoding to something but UTF8).
func (s *Server) chatter(sess *session, toks []token) (stmt *wire.PreparedStatement, ok bool, err error) {
	if len(toks) == 0 || len(toks) > maxChatterTokens {
		return nil, false, nil
	}
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.text
		if t.kind == tokSymbol && t.text == ";" {
			// SET x = 1; DROP …: one statement per query, chatter included.
			if chatterKeywords[words[0]] {
				return nil, true, errMultipleStatements
			}
			return nil, false, nil
		}
	}
	switch words[0] {
	case "set":
		accepted, err := acceptSet(toks)
		if err != nil {
			return nil, true, err
		}
		if accepted {
			return s.tagOnly(sess, "SET", nil), true, nil
		}
	case "reset":
		if len(toks) == 2 && (words[1] == "all" || ignoredSettings[words[1]]) {
			return s.tagOnly(sess, "RESET", nil), true, nil
		}
	case "discard":
		if len(toks) == 2 && words[1] == "all" {
			return s.tagOnly(sess, "DISCARD ALL", func() { sess.inTx.Store(false) }), true, nil
		}
	case "begin", "start":
		if words[0] == "start" && (len(words) < 2 || words[1] != "transaction") {
			return nil, false, nil
		}
		return s.tagOnly(sess, "BEGIN", func() { sess.inTx.Store(true) }), true, nil
	case "commit", "end":
		return s.tagOnly(sess, "COMMIT", func() { sess.inTx.Store(false) }), true, nil
	case "rollback", "abort":
		if len(words) > 1 && (words[1] == "to" || len(words) > 2 && words[2] == "to") {
			return s.tagOnly(sess, "ROLLBACK", nil), true, nil // to a savepoint: the transaction goes on
		}
		return s.tagOnly(sess, "ROLLBACK", func() { sess.inTx.Store(false) }), true, nil
	case "savepoint":
		return s.tagOnly(sess, "SAVEPOINT", nil), true, nil
	case "release":
		return s.tagOnly(sess, "RELEASE", nil), true, nil
	case "show":
		name := strings.Join(words[1:], " ")
		if name == "transaction isolation level" {
			name = "transaction_isolation"
		} else if name == "time zone" {
			name = "timezone"
		}
		if value, known := s.parameter(sess, name); known {
			return s.oneValue(sess, name, value, "SHOW"), true, nil
		}
	case "select":
		if isVersionCall(words[1:]) {
			return s.oneValue(sess, "version", s.versionString(sess), "SELECT 1"), true, nil
		}
	}
	return nil, false, nil
}

// acceptSet accepts SET [SESSION|LOCAL] name {=|TO} value of an ignored
// setting, SET TIME ZONE, and SET [SESSION CHARACTERISTICS AS] TRANSACTION.
// Other SETs are left to the gate, which refuses them naming the setting.
func acceptSet(toks []token) (bool, error) {
	i := 1
	if i < len(toks) && toks[i].kind == tokWord && (toks[i].text == "session" || toks[i].text == "local") {
		i++
	}
	if i >= len(toks) || toks[i].kind != tokWord {
		return false, nil
	}
	name := toks[i].text
	switch {
	case name == "transaction" || name == "characteristics":
		return true, nil
	case name == "time" && i+1 < len(toks) && toks[i+1].text == "zone":
		return true, nil
	case !ignoredSettings[name]:
		return false, nil
	}
	if name == "client_encoding" && i+2 < len(toks) {
		if v := strings.ToLower(toks[i+2].text); v != "utf8" && v != "utf-8" && v != "unicode" {
			return false, refused(codes.FeatureNotSupported, "", "cdp serve speaks UTF8 only: client_encoding %s is not supported", v)
		}
	}
	return true, nil
}

// isVersionCall matches version() and pg_catalog.version().
func isVersionCall(words []string) bool {
	if len(words) == 5 && words[0] == "pg_catalog" && words[1] == "." {
		words = words[2:]
	}
	return len(words) == 3 && words[0] == "version" && words[1] == "(" && words[2] == ")"
}

// parameter is the value SHOW gives for a server parameter.
func (s *Server) parameter(sess *session, name string) (string, bool) {
	switch name {
	case "server_version":
		return serverVersion, true
	case "server_version_num":
		return serverVersionNum, true
	case "server_encoding", "client_encoding":
		return "UTF8", true
	case "datestyle":
		return "ISO, MDY", true
	case "intervalstyle":
		return "postgres", true
	case "timezone":
		return s.loc.String(), true
	case "transaction_isolation", "default_transaction_isolation":
		return "read committed", true
	case "transaction_read_only", "default_transaction_read_only", "standard_conforming_strings", "integer_datetimes":
		return "on", true
	case "is_superuser":
		return "off", true
	case "search_path":
		return "main", true
	case "max_identifier_length":
		return "63", true
	case "statement_timeout":
		return strconv.FormatInt(s.o.QueryTimeout.Milliseconds(), 10), true
	case "application_name":
		return sess.application, true
	}
	return "", false
}

// tagStatement completes with tag and no rows, calling then (if any) when
// it runs, not when it is parsed.
func tagStatement(tag string, then func()) *wire.PreparedStatement {
	return wire.NewStatement(func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		if then != nil {
			then()
		}
		return w.Complete(tag)
	})
}

// tagOnly is tagStatement for a session, counted and logged as a query.
func (s *Server) tagOnly(sess *session, tag string, then func()) *wire.PreparedStatement {
	return tagStatement(tag, func() {
		s.queries.Add(1)
		s.log.Debug("sql chatter answered", "user", sess.user.Name, "tag", tag)
		s.audit(AuditRecord{Kind: "statement", User: sess.user.Name, Role: sess.user.Role, Remote: sess.remote,
			TLS: sess.encrypted, Statement: tag, Outcome: OutcomeOK})
		if then != nil {
			then()
		}
	})
}

// oneValue answers one text row of one column.
func (s *Server) oneValue(sess *session, column, value, tag string) *wire.PreparedStatement {
	columns := wire.Columns{{Name: column, Oid: pgtype.TextOID, Width: -1}}
	return wire.NewStatement(func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		s.queries.Add(1)
		s.log.Debug("sql chatter answered", "user", sess.user.Name, "tag", tag, "column", column)
		s.audit(AuditRecord{Kind: "statement", User: sess.user.Name, Role: sess.user.Role, Remote: sess.remote,
			TLS: sess.encrypted, Statement: tag + " " + column, Rows: 1, Outcome: OutcomeOK})
		if err := w.Row([]any{value}); err != nil {
			return err
		}
		return w.Complete(tag)
	}, wire.WithColumns(columns))
}
