package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"cdp/pipeline/config"
)

// Who may do what over the daemon's HTTP port:
//
//   - /healthz, /readyz, /metrics and /status answer loopback clients, and
//     others only with serve.public_endpoints: true.
//   - POST /run/JOB needs credentials: the control token as a bearer token
//     (serve.control), or an engineer of serve.sql.users with HTTP basic
//     authentication. Anyone else gets 401, whatever their address.
//
// Secrets are compared as SHA-256 digests in constant time; a refusal is
// logged with the client's address, never with what it sent.

// Credentials are the secrets that may operate the daemon.
type Credentials struct {
	Token     string            // "" = none configured
	Engineers map[string]string // user → password
}

// ReadCredentials reads the control token (env or file; a token file that
// does not exist means no token) and the engineers' passwords.
func ReadCredentials(p *config.Project) (Credentials, error) {
	c := Credentials{Engineers: map[string]string{}}
	var err error
	if c.Token, err = readToken(p); err != nil {
		return c, err
	}
	for _, u := range p.Serve.SQL.Users {
		if u.Role != "engineer" {
			continue
		}
		pw, err := ReadPassword(p, u)
		if err != nil {
			return c, err
		}
		c.Engineers[u.Name] = pw
	}
	return c, nil
}

// readToken reads the control token from serve.control's environment
// variable or file; a token file that does not exist is no token.
func readToken(p *config.Project) (string, error) {
	ctl := p.Serve.Control
	switch {
	case ctl.TokenEnv != "":
		if t := os.Getenv(ctl.TokenEnv); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("serve.control.token_env: environment variable %s is empty or not set", ctl.TokenEnv)
	case ctl.TokenFile != "":
		path := p.Resolve(ctl.TokenFile)
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", nil
		case err != nil:
			return "", fmt.Errorf("serve.control.token_file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("serve.control.token_file %s is empty", path)
	}
	return "", nil
}

// Authorize sets the credentials a client request that operates the
// daemon sends (cdp run): the control token, or else the first engineer
// of serve.sql.users whose password this process can read, with basic
// authentication; nothing when neither, and the daemon answers 401 saying
// what it takes. Read-only requests (cdp status) need none.
func Authorize(p *config.Project, r *http.Request) error {
	token, err := readToken(p)
	if err != nil {
		return err
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	for _, u := range p.Serve.SQL.Users {
		if u.Role != "engineer" {
			continue
		}
		if pw, err := ReadPassword(p, u); err == nil {
			r.SetBasicAuth(u.Name, pw)
			return nil
		}
	}
	return nil
}

func same(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// allowed says whether r carries credentials that may operate the daemon,
// and as whom.
func (c Credentials) allowed(r *http.Request) (string, bool) {
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return "token", c.Token != "" && same(auth, c.Token)
	}
	if name, pw, ok := r.BasicAuth(); ok {
		want, known := c.Engineers[name]
		if !known {
			want = "\x00no such engineer"
		}
		return name, same(pw, want) && known
	}
	return "", false
}

// requireControl wraps a handler that operates the daemon.
func requireControl(c Credentials, log *slog.Logger, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := c.allowed(r)
		if !ok {
			log.Warn("http control request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "as", who)
			w.Header().Set("WWW-Authenticate", `Bearer realm="cdp", Basic realm="cdp"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "operating cdp serve needs the control token (serve.control) or an engineer's login"})
			return
		}
		log.Info("http control request", "path", r.URL.Path, "remote", r.RemoteAddr, "as", who)
		next(w, r)
	}
}

// localOnly wraps a read-only endpoint: loopback clients, or anyone with
// serve.public_endpoints.
func localOnly(public bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !public && !loopback(r.RemoteAddr) {
			http.Error(w, "this endpoint answers loopback clients only (serve.public_endpoints: true opens it)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
