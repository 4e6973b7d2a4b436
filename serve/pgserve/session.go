package pgserve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
)

// session is one client connection, from login to close.
type session struct {
	user        User
	remote      string
	application string
	encrypted   bool  // the connection is TLS
	pid, secret int32 // the key of cancel requests
	inTx        atomic.Bool

	mu       sync.Mutex
	cancel   context.CancelCauseFunc // of the statement running, if any
	busy     bool                    // serving a request: from its query until ReadyForQuery
	canceled error                   // why the request being served was canceled, if it was
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	sess, _ := ctx.Value(sessionKey{}).(*session)
	return sess
}

// A cancel request stops what the session is doing for its client's
// request, as in Postgres: anywhere from the moment the query arrives until
// ReadyForQuery. A statement is described (parse) and then run on two
// separate snapshot connections, with nothing running in between, so a
// cancel is remembered for the rest of the request and stops the run as it
// starts; at ReadyForQuery the session is idle and a cancel does nothing.

// begin marks the session as serving a request.
func (sess *session) begin() {
	sess.mu.Lock()
	sess.busy = true
	sess.mu.Unlock()
}

// idle marks the request served: ReadyForQuery is on its way.
func (sess *session) idle() {
	sess.mu.Lock()
	sess.busy, sess.canceled = false, nil
	sess.mu.Unlock()
}

// running records the cancel function of the statement running (nil when
// it ends). A statement that starts in a request already canceled is
// canceled at once.
func (sess *session) running(cancel context.CancelCauseFunc) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.cancel = cancel
	if cancel == nil {
		return
	}
	sess.busy = true
	if sess.canceled != nil {
		cancel(sess.canceled)
	}
}

// interrupt cancels the statement running, if any, and the rest of the
// request being served.
func (sess *session) interrupt(cause error) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.busy {
		sess.canceled = cause
	}
	if sess.cancel != nil {
		sess.cancel(cause)
	}
}

func remoteAddr(ctx context.Context) string {
	if a := wire.RemoteAddress(ctx); a != nil {
		return a.String()
	}
	return ""
}

// backendKey gives the session its cancel key.
func (s *Server) backendKey(ctx context.Context) (int32, int32) {
	sess := sessionFrom(ctx)
	var b [4]byte
	rand.Read(b[:])
	sess.pid = s.nextPID.Add(1)
	sess.secret = int32(binary.BigEndian.Uint32(b[:]))
	return sess.pid, sess.secret
}

// startSession registers a logged-in session.
func (s *Server) startSession(ctx context.Context) (context.Context, error) {
	sess := sessionFrom(ctx)
	s.mu.Lock()
	s.sessions[sess.pid] = sess
	s.mu.Unlock()
	s.sessionsOpen.Add(1)
	s.observe(SessionOpened, sess.user.Role)
	s.log.Debug("sql session opened", "user", sess.user.Name, "role", sess.user.Role, "remote", sess.remote, "application", sess.application)
	return ctx, nil
}

// endSession forgets a session whose connection closed.
func (s *Server) endSession(ctx context.Context) error {
	sess := sessionFrom(ctx)
	s.mu.Lock()
	delete(s.sessions, sess.pid)
	s.mu.Unlock()
	s.sessionsOpen.Add(-1)
	s.observe(SessionClosed, sess.user.Role)
	s.log.Debug("sql session closed", "user", sess.user.Name, "remote", sess.remote)
	return nil
}

// errCanceledByUser and errShuttingDown are why a statement was canceled.
var (
	errCanceledByUser = errors.New("canceling statement due to user request")
	errShuttingDown   = errors.New("terminating connection: cdp serve is shutting down")
)

// cancelRequest cancels the statement a session is running, when the key
// matches; Postgres ignores a wrong key silently, and so do we.
func (s *Server) cancelRequest(ctx context.Context, pid, secret int32) error {
	s.mu.Lock()
	sess := s.sessions[pid]
	s.mu.Unlock()
	if sess == nil || subtle.ConstantTimeEq(sess.secret, secret) != 1 {
		return nil
	}
	s.log.Debug("sql statement canceled by the client", "user", sess.user.Name)
	sess.interrupt(errCanceledByUser)
	s.observe(CancelRequested, sess.user.Role)
	return nil
}

// txStatus is what ReadyForQuery says about the session's transaction.
// psql-wire asks it just before every ReadyForQuery, the end of a request.
func (s *Server) txStatus(ctx context.Context) types.ServerStatus {
	sess := sessionFrom(ctx)
	if sess == nil {
		return types.ServerIdle
	}
	sess.idle()
	if sess.inTx.Load() {
		return types.ServerTransactionBlock
	}
	return types.ServerIdle
}
