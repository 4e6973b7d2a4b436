package pgserve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
	"github.com/xdg-go/scram"
)

// Logins are SCRAM-SHA-256 (RFC 5802, RFC 7677), as Postgres does it: the
// password never crosses the wire, not even under TLS, and the server keeps
// only the salted keys derived from it (4096 iterations, a random salt per
// user per start). The SCRAM user name is ignored: the startup message's
// user is the one checked, as in Postgres. An unknown user goes through the
// same exchange against keys derived from a salt that depends on the name
// and a secret of this start, so the answer and the work do not tell which
// users exist. Channel binding is not offered (SCRAM-SHA-256 only, not
// -PLUS); over TLS the certificate authenticates the server.
//
// With Options.RequireTLS a connection that did not ask for TLS is refused
// before the password exchange, with SQLSTATE 28000, as Postgres refuses a
// hostssl-only login.

// The authentication message codes of the protocol.
const (
	authOK           = 0
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

const (
	scramMechanism  = "SCRAM-SHA-256"
	scramIterations = 4096
)

// errLoginRefused ends a connection whose login failed, after the client
// was told why. It wraps io.EOF because psql-wire logs any other error
// ending a connection as an unexpected server error.
var errLoginRefused = fmt.Errorf("login refused: %w", io.EOF)

// credentials derives the stored SCRAM keys of every user.
func credentials(users map[string]User) (map[string]scram.StoredCredentials, []byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, nil, err
	}
	out := map[string]scram.StoredCredentials{}
	for name, u := range users {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, nil, err
		}
		c, err := storedCredentials(name, u.Password, salt)
		if err != nil {
			return nil, nil, fmt.Errorf("sql endpoint: user %s: %w", name, err)
		}
		out[name] = c
	}
	return out, secret, nil
}

func storedCredentials(name, password string, salt []byte) (scram.StoredCredentials, error) {
	client, err := scram.SHA256.NewClientUnprepped(name, password, "")
	if err != nil {
		return scram.StoredCredentials{}, err
	}
	return client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: scramIterations}), nil
}

// lookup is the stored credentials of a user, or for an unknown one keys
// no password matches, salted as a real user's would be.
func (s *Server) lookup(name string) (scram.StoredCredentials, bool) {
	if c, ok := s.creds[name]; ok {
		return c, true
	}
	mac := hmac.New(sha256.New, s.credSecret)
	mac.Write([]byte(name))
	sum := mac.Sum(nil)
	password := make([]byte, 32)
	rand.Read(password)
	c, _ := storedCredentials(name, string(password), sum[:16])
	return c, false
}

// authenticate runs the SCRAM-SHA-256 exchange with the startup message's
// user, after refusing a clear-text connection when TLS is required.
func (s *Server) authenticate(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (_ context.Context, err error) {
	params := wire.ClientParameters(ctx)
	name := params[wire.ParamUsername]
	remote := remoteAddr(ctx)
	encrypted := s.conns.encrypted(remote)
	if s.o.RequireTLS && !encrypted {
		s.authFailures.Add(1)
		s.log.Warn("sql login refused: no TLS", "user", name, "remote", remote)
		s.audit(AuditRecord{Kind: "login", User: name, Remote: remote, Outcome: OutcomeRefused, Error: "not encrypted"})
		return ctx, s.refuse(w, codes.InvalidAuthorizationSpecification,
			"the SQL endpoint accepts only encrypted connections: connect with sslmode=require (or verify-full)")
	}
	creds, known := s.lookup(name)
	server, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		return ctx, err
	}
	conv := server.NewConversation()

	w.Start(types.ServerAuth)
	w.AddInt32(authSASL)
	w.AddString(scramMechanism)
	w.AddNullTerminate()
	w.AddNullTerminate()
	if err := w.End(); err != nil {
		return ctx, err
	}
	// SASLInitialResponse: the mechanism, then the client-first-message.
	if t, _, err := r.ReadTypedMsg(); err != nil {
		return ctx, err
	} else if t != types.ClientPassword {
		return ctx, fmt.Errorf("expected a SASL initial response, got %s", t)
	}
	mech, err := r.GetString()
	if err != nil {
		return ctx, err
	}
	if mech != scramMechanism {
		return ctx, s.refuse(w, codes.InvalidAuthorizationSpecification, fmt.Sprintf("SASL mechanism %q is not offered (only %s)", mech, scramMechanism))
	}
	n, err := r.GetInt32()
	if err != nil {
		return ctx, err
	}
	first, err := r.GetBytes(int(n))
	if err != nil {
		return ctx, err
	}
	serverFirst, err := conv.Step(string(first))
	if err != nil {
		return ctx, s.loginFailed(w, name, remote, encrypted, err)
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASLContinue)
	w.AddString(serverFirst)
	if err := w.End(); err != nil {
		return ctx, err
	}
	// SASLResponse: the client-final-message, with the proof.
	t, _, err := r.ReadTypedMsg()
	if err != nil {
		return ctx, err
	}
	if t != types.ClientPassword {
		return ctx, fmt.Errorf("expected a SASL response, got %s", t)
	}
	final := string(r.Msg) // the whole message is the client-final-message
	serverFinal, err := conv.Step(final)
	if err != nil || !conv.Valid() || !known {
		if err == nil {
			err = errors.New("proof does not match")
		}
		return ctx, s.loginFailed(w, name, remote, encrypted, err)
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authSASLFinal)
	w.AddString(serverFinal)
	if err := w.End(); err != nil {
		return ctx, err
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authOK)
	if err := w.End(); err != nil {
		return ctx, err
	}
	sess := &session{user: s.users[name], remote: remote, application: params[wire.ParamApplicationName], encrypted: encrypted}
	s.audit(AuditRecord{Kind: "login", User: name, Role: sess.user.Role, Remote: remote, TLS: encrypted, Outcome: OutcomeOK})
	return context.WithValue(ctx, sessionKey{}, sess), nil
}

// loginFailed answers a wrong password or an unknown user alike.
func (s *Server) loginFailed(w *buffer.Writer, name, remote string, encrypted bool, cause error) error {
	s.authFailures.Add(1)
	s.log.Warn("sql login refused", "user", name, "remote", remote, "reason", cause.Error())
	s.audit(AuditRecord{Kind: "login", User: name, Remote: remote, TLS: encrypted, Outcome: OutcomeRefused, Error: "password authentication failed"})
	return s.refuse(w, codes.InvalidPassword, fmt.Sprintf("password authentication failed for user %q", name))
}

// refuse sends a FATAL error and ends the login.
func (s *Server) refuse(w *buffer.Writer, code codes.Code, msg string) error {
	refusal := psqlerr.WithSeverity(psqlerr.WithCode(errors.New(msg), code), psqlerr.LevelFatal)
	if err := wire.WriteUnterminatedError(w, refusal); err != nil {
		return err
	}
	return errLoginRefused
}

// sslRequest is the startup code a client sends to ask for TLS.
var sslRequest = [8]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// gssencRequest asks for GSSAPI encryption, which is declined; the client
// may ask for TLS next.
var gssencRequest = [8]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}

// sniffConn watches the first messages of a connection for a request for
// TLS: psql-wire upgrades the connection below, and tells its handlers
// nothing of it.
type sniffConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
	done bool
	tls  bool
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done && n > 0 {
		c.head = append(c.head, p[:min(n, 16-len(c.head))]...)
		for !c.done && len(c.head) >= 8 {
			var msg [8]byte
			copy(msg[:], c.head[:8])
			switch msg {
			case sslRequest:
				c.tls, c.done = true, true
			case gssencRequest:
				c.head = c.head[8:]
			default:
				c.done = true
			}
		}
	}
	return n, err
}

func (c *sniffConn) askedForTLS() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tls
}
