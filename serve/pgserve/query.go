package pgserve

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"

	"cdp/pii"
)

// plan is what parsing learned of a statement: its result columns and its
// parameters' types.
type plan struct {
	columns wire.Columns
	types   []pgType
	params  []uint32
}

// parse is psql-wire's ParseFn, for the simple and the extended protocol:
// chatter is answered, the gate refuses what is not a query, and DuckDB
// prepares the rest on the role's snapshot to describe it. The statement
// returned prepares it again when it runs, on the snapshot current then.
func (s *Server) parse(ctx context.Context, q wire.Query) (wire.PreparedStatements, error) {
	sess := sessionFrom(ctx)
	sess.begin()
	start := time.Now()
	toks, _ := lex(q.Query, -1)
	stmt, ok, err := s.chatter(sess, toks)
	if !ok {
		err = keywordGate(sess.user.Role, toks)
	}
	if !ok && err == nil {
		err = functionGate(toks)
	}
	if err != nil {
		return nil, s.finish(sess, q.Query, 0, start, err)
	}
	if ok {
		return wire.Prepared(stmt), nil
	}
	var p *plan
	err = s.onSnapshot(ctx, sess, func(ctx context.Context, conn driver.Conn, snap *snapshot) error {
		st, err := prepare(ctx, conn, sess.user, snap, q.Query)
		if err != nil {
			return err
		}
		defer st.Close()
		p, err = s.planOf(st, q.ParameterOIDs)
		return err
	})
	if err != nil {
		return nil, s.finish(sess, q.Query, 0, start, err)
	}
	run := func(ctx context.Context, w wire.DataWriter, params []wire.Parameter) error {
		return s.run(ctx, sess, q.Query, p, params, w)
	}
	return wire.Prepared(wire.NewStatement(run, wire.WithColumns(p.columns), wire.WithParameters(p.params))), nil
}

// errStatementTimeout is why a statement over Options.QueryTimeout stops.
var errStatementTimeout = errors.New("canceling statement due to statement timeout")

// onSnapshot runs fn on a connection to the current snapshot of the
// session's role, with the session's scope set on it, within the statement
// timeout, and translates its errors to Postgres ones. The snapshot stays
// open until fn returns.
func (s *Server) onSnapshot(ctx context.Context, sess *session, fn func(context.Context, driver.Conn, *snapshot) error) error {
	snap, err := s.acquire(sess.user.Role)
	if err != nil {
		return err
	}
	defer s.release(snap)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, s.o.QueryTimeout, errStatementTimeout)
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sess.running(cancel)
	defer sess.running(nil)
	s.observe(StatementStarted, sess.user.Role)
	defer s.observe(StatementEnded, sess.user.Role)
	conn, err := snap.db.Conn(ctx)
	if err != nil {
		return s.translate(ctx, sess.user.Role, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		if err := scopeVariables(ctx, dc.(driver.Conn), sess.user, snap); err != nil {
			return err
		}
		return fn(ctx, dc.(driver.Conn), snap)
	})
	return s.translate(ctx, sess.user.Role, err)
}

// prepare has DuckDB parse and bind one statement, which runs nothing, and
// lets it through if DuckDB says it is a query: layer 3 of the gate. A
// scoped user's statement passes the scope gate first (scope.go).
// driver.Conn.Prepare, not PrepareContext: the DuckDB driver's
// PrepareContext runs every statement of a query but the last.
func prepare(ctx context.Context, conn driver.Conn, u User, snap *snapshot, query string) (*duckdb.Stmt, error) {
	role := u.Role
	text := rewriteCatalog(query)
	if err := scopeGate(ctx, conn, u, snap, text); err != nil {
		return nil, err
	}
	ds, err := conn.Prepare(text)
	if err != nil {
		// A write DuckDB failed to bind (an INSERT into a mart view of a
		// scoped snapshot) is refused as a write, as when it binds.
		var de *duckdb.Error
		if errors.As(err, &de) && (de.Type == duckdb.ErrorTypeBinder || de.Type == duckdb.ErrorTypeCatalog) && writeKeyword(text) != "" {
			what := writeKeyword(text)
			return nil, refuseWrite(role, what)
		}
		return nil, err
	}
	st := ds.(*duckdb.Stmt)
	typ, err := st.StatementType()
	if err == nil {
		err = typeGate(role, typ)
	}
	if err == nil && typ == duckdb.STATEMENT_TYPE_EXPLAIN {
		err = checkExplained(ctx, conn, u, snap, query)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// checkExplained passes the statement an EXPLAIN explains through the gate:
// EXPLAIN ANALYZE runs it.
func checkExplained(ctx context.Context, conn driver.Conn, u User, snap *snapshot, query string) error {
	at, ok := explainTarget(query)
	if !ok {
		return nil
	}
	target := query[at:]
	toks, _ := lex(target, 2)
	if err := keywordGate(u.Role, toks); err != nil {
		return err
	}
	st, err := prepare(ctx, conn, u, snap, target)
	if err != nil {
		return err
	}
	return st.Close()
}

// planOf describes a prepared statement. Parameter types the client gave
// win over DuckDB's; a parameter DuckDB cannot type is text.
func (s *Server) planOf(st *duckdb.Stmt, clientOIDs []uint32) (*plan, error) {
	n, err := st.ColumnCount()
	if err != nil {
		return nil, err
	}
	p := &plan{}
	for i := range n {
		name, err := st.ColumnName(i)
		if err != nil {
			return nil, err
		}
		t := pgType{pgtype.TextOID, -1, func(v any) any { return fmt.Sprint(v) }}
		if info, err := st.ColumnTypeInfo(i); err == nil {
			t = pgTypeOf(info, s.loc)
		}
		p.types = append(p.types, t)
		p.columns = append(p.columns, wire.Column{Name: name, Oid: t.oid, Width: t.size})
	}
	for i := 1; i <= st.NumInput(); i++ {
		var oid uint32
		if i <= len(clientOIDs) {
			oid = clientOIDs[i-1]
		}
		if oid == 0 {
			typ, _ := st.ParamType(i)
			oid = paramOID(typ)
		}
		p.params = append(p.params, oid)
	}
	return p, nil
}

// paramOID is the Postgres type clients are asked to send a parameter in.
func paramOID(typ duckdb.Type) uint32 {
	switch typ {
	case duckdb.TYPE_BOOLEAN:
		return pgtype.BoolOID
	case duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT:
		return pgtype.Int2OID
	case duckdb.TYPE_INTEGER:
		return pgtype.Int4OID
	case duckdb.TYPE_BIGINT:
		return pgtype.Int8OID
	case duckdb.TYPE_FLOAT:
		return pgtype.Float4OID
	case duckdb.TYPE_DOUBLE:
		return pgtype.Float8OID
	case duckdb.TYPE_DECIMAL, duckdb.TYPE_HUGEINT:
		return pgtype.NumericOID
	case duckdb.TYPE_DATE:
		return pgtype.DateOID
	case duckdb.TYPE_TIMESTAMP:
		return pgtype.TimestampOID
	case duckdb.TYPE_TIMESTAMP_TZ:
		return pgtype.TimestamptzOID
	case duckdb.TYPE_BLOB:
		return pgtype.ByteaOID
	}
	return pgtype.TextOID
}

// errTooManyRows stops a result longer than Options.MaxRows.
type errTooManyRows int

func (n errTooManyRows) Error() string {
	return fmt.Sprintf("the result has more than %d rows, the most cdp serve returns (max_rows): add a LIMIT or aggregate", int(n))
}

// errSnapshotChanged answers a prepared statement whose result columns
// changed with the snapshot published since; Postgres says the same of a
// cached plan, and drivers prepare again on it.
var errSnapshotChanged = psqlerr.WithSeverity(psqlerr.WithCode(errors.New(
	"cached plan must not change result type (a new snapshot was published since the statement was prepared)"),
	codes.FeatureNotSupported), psqlerr.LevelError)

// run executes a planned statement on the current snapshot and streams its
// rows to the client.
func (s *Server) run(ctx context.Context, sess *session, query string, p *plan, params []wire.Parameter, w wire.DataWriter) error {
	start := time.Now()
	var rows int64
	err := s.onSnapshot(ctx, sess, func(ctx context.Context, conn driver.Conn, snap *snapshot) error {
		st, err := prepare(ctx, conn, sess.user, snap, query)
		if err != nil {
			return err
		}
		defer st.Close()
		now, err := s.planOf(st, nil)
		if err != nil {
			return err
		}
		if !sameColumns(now.columns, p.columns) {
			return errSnapshotChanged
		}
		args, err := bindArgs(params, p.params)
		if err != nil {
			return err
		}
		r, err := st.QueryContext(ctx, args)
		if err != nil {
			return err
		}
		defer r.Close()
		rows, err = s.stream(ctx, r, now.types, w)
		return err
	})
	if err == nil {
		err = w.Complete(fmt.Sprintf("SELECT %d", rows))
	}
	return s.finish(sess, query, rows, start, err)
}

// stream sends the rows of r, one at a time, as DuckDB hands them over.
func (s *Server) stream(ctx context.Context, r driver.Rows, types []pgType, w wire.DataWriter) (int64, error) {
	values := make([]driver.Value, len(types))
	row := make([]any, len(types))
	var n int64
	for {
		if err := r.Next(values); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		n++
		if s.o.MaxRows > 0 && n > int64(s.o.MaxRows) {
			return n - 1, errTooManyRows(s.o.MaxRows)
		}
		for i, v := range values {
			row[i] = nil
			if v != nil {
				row[i] = types[i].value(v)
			}
		}
		if err := w.Row(row); err != nil {
			return n, err
		}
	}
}

func sameColumns(a, b wire.Columns) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Oid != b[i].Oid {
			return false
		}
	}
	return true
}

// bindArgs decodes the parameters of a Bind. Text values go to DuckDB as
// strings, which it casts to the parameter's type; binary ones are decoded
// as the type the statement described.
func bindArgs(params []wire.Parameter, oids []uint32) ([]driver.NamedValue, error) {
	args := make([]driver.NamedValue, len(params))
	for i, p := range params {
		args[i].Ordinal = i + 1
		switch {
		case p.Value() == nil:
		case p.Format() == wire.TextFormat || i >= len(oids):
			args[i].Value = string(p.Value())
		default:
			v, err := p.Scan(oids[i])
			if err != nil {
				return nil, psqlerr.WithCode(fmt.Errorf("parameter $%d: %w", i+1, err), codes.InvalidParameterValue)
			}
			if u, ok := v.([16]byte); ok {
				uuid, _ := pgtype.UUID{Bytes: u, Valid: true}.Value()
				v = uuid
			}
			args[i].Value = v
		}
	}
	return args, nil
}

// translate turns what stopped a statement into the error the client gets.
func (s *Server) translate(ctx context.Context, role string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errStatementTimeout):
			return psqlerr.WithCode(fmt.Errorf("%w (%s)", errStatementTimeout, s.o.QueryTimeout), codes.QueryCanceled)
		case errors.Is(cause, errCanceledByUser):
			return psqlerr.WithCode(errCanceledByUser, codes.QueryCanceled)
		case errors.Is(cause, errShuttingDown):
			return psqlerr.WithSeverity(psqlerr.WithCode(errShuttingDown, codes.AdminShutdown), psqlerr.LevelFatal)
		}
	}
	var tooMany errTooManyRows
	switch {
	case errors.As(err, &tooMany):
		return psqlerr.WithCode(err, codes.ProgramLimitExceeded)
	case isRefusal(err), errors.Is(err, wire.ErrSuspendedHandlerClosed), psqlerr.GetCode(err) != codes.Uncategorized:
		return err
	}
	return pgError(role, err)
}

// finish counts and logs a statement that ran, failed or was refused.
func (s *Server) finish(sess *session, query string, rows int64, start time.Time, err error) error {
	s.queries.Add(1)
	rec := AuditRecord{Time: start, Kind: "statement", User: sess.user.Name, Role: sess.user.Role, Remote: sess.remote,
		TLS: sess.encrypted, Statement: query, Rows: rows, Millis: time.Since(start).Milliseconds(), Outcome: OutcomeOK}
	attrs := []any{"user", sess.user.Name, "role", sess.user.Role, "rows", rows, "ms", rec.Millis, "sql", pii.Redact(cut(query, 200))}
	switch {
	case err == nil, errors.Is(err, wire.ErrSuspendedHandlerClosed):
		s.log.Debug("sql statement", attrs...)
	case isRefusal(err):
		s.refusals.Add(1)
		rec.Outcome, rec.Error = OutcomeRefused, err.Error()
		s.log.Info("sql statement refused", append(attrs, "reason", pii.Redact(err.Error()))...)
	default:
		s.queryErrors.Add(1)
		rec.Outcome, rec.Error = OutcomeFailed, err.Error()
		s.log.Debug("sql statement failed", append(attrs, "error", pii.Redact(err.Error()))...)
	}
	s.audit(rec)
	return err
}
