package pgserve_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"cdp/serve/pgserve"
)

// testCA is a certificate authority made for one test, and a server
// certificate it signed for 127.0.0.1.
type testCA struct {
	caFile string // PEM of the CA, for sslrootcert
	server tls.Certificate
}

func newTestCA(t *testing.T, dir, name string) testCA {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return testCA{caFile: caFile, server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}
}

// psqlWith runs the real psql with extra libpq environment settings.
func (e *endpoint) psqlWith(env []string, user, password string, statements ...string) (string, string, error) {
	args := []string{"-h", "127.0.0.1", "-p", e.port, "-U", user, "-d", "cdp", "-X", "-w", "-v", "ON_ERROR_STOP=1", "-At"}
	for _, s := range statements {
		args = append(args, "-c", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psqlPath, args...)
	cmd.Env = append(append(os.Environ(), "PGPASSWORD="+password, "PGGSSENCMODE=disable", "PGCONNECT_TIMEOUT=10"), env...)
	var o, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &se
	err := cmd.Run()
	return strings.TrimSpace(o.String()), se.String(), err
}

// With a certificate, psql connects with sslmode=require and verify-full
// (against the CA that signed it, and no other); with TLS required a
// clear-text connection is refused before any password is exchanged, and
// counted; pgx logs in over TLS with SCRAM too.
func TestServe_TLSRequiredAndVerified(t *testing.T) {
	dir := t.TempDir()
	ca, other := newTestCA(t, dir, "bank-ca"), newTestCA(t, dir, "other-ca")
	e := serve(t, pgserve.Options{TLS: &tls.Config{Certificates: []tls.Certificate{ca.server}}, RequireTLS: true}, true)

	out, stderr, err := e.psqlWith([]string{"PGSSLMODE=require"}, "analyst", analystPassword, `SELECT count(*) FROM mart.customer_360`, `\conninfo`)
	if err != nil || !strings.HasPrefix(out, "20\n") || !strings.Contains(out, "SSL connection (protocol: TLSv1.3") {
		t.Errorf("sslmode=require: %v %q %s", err, out, stderr)
	}
	if out, stderr, err := e.psqlWith([]string{"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + ca.caFile}, "analyst", analystPassword, `SELECT 1`); err != nil || out != "1" {
		t.Errorf("sslmode=verify-full with the bank's CA: %v %q %s", err, out, stderr)
	}
	if _, stderr, err := e.psqlWith([]string{"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + other.caFile}, "analyst", analystPassword, `SELECT 1`); err == nil || !strings.Contains(stderr, "certificate verify failed") {
		t.Errorf("verify-full against another CA: %v %s", err, stderr)
	}
	_, stderr, err = e.psqlWith([]string{"PGSSLMODE=disable"}, "analyst", analystPassword, `SELECT 1`)
	if err == nil || !strings.Contains(stderr, "accepts only encrypted connections") {
		t.Errorf("clear text with TLS required: %v %s", err, stderr)
	}
	if n := e.srv.Stats().AuthFailures; n != 1 {
		t.Errorf("%d refused logins counted, want 1 (the clear-text one)", n)
	}
	if _, stderr, err := e.psqlWith([]string{"PGSSLMODE=require"}, "analyst", "wrong-password", `SELECT 1`); err == nil || !strings.Contains(stderr, `password authentication failed for user "analyst"`) {
		t.Errorf("a wrong password over TLS: %v %s", err, stderr)
	}

	ctx := context.Background()
	cfg, err := pgx.ParseConfig("postgres://analyst@127.0.0.1:" + e.port + "/cdp?sslmode=verify-full&sslrootcert=" + ca.caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = analystPassword
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgx over TLS: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM mart.customer_360 WHERE aum > $1`, 1005).Scan(&n); err != nil || n != 15 {
		t.Errorf("pgx query over TLS: %d, %v", n, err)
	}
	if !conn.PgConn().Conn().(*tls.Conn).ConnectionState().HandshakeComplete {
		t.Error("pgx's connection is not TLS")
	}
}

// The server asks for SCRAM-SHA-256 and nothing else: never a clear-text
// or MD5 password, whether the connection is encrypted or not.
func TestServe_LoginIsSCRAMOnly(t *testing.T) {
	e := serve(t, pgserve.Options{}, true)
	c, err := net.Dial("tcp", "127.0.0.1:"+e.port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "analyst", "database": "cdp"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	sasl, ok := msg.(*pgproto3.AuthenticationSASL)
	if !ok || len(sasl.AuthMechanisms) != 1 || sasl.AuthMechanisms[0] != "SCRAM-SHA-256" {
		t.Fatalf("first authentication message %T %+v, want SASL offering SCRAM-SHA-256 only", msg, msg)
	}
	// And in clear text (TLS not required here) the SCRAM login works.
	if out, stderr, err := e.psqlWith([]string{"PGSSLMODE=disable"}, "analyst", analystPassword, `SELECT 1`); err != nil || out != "1" {
		t.Errorf("SCRAM without TLS: %v %q %s", err, out, stderr)
	}
}

// TLS cannot be required of a server without a certificate.
func TestServe_RequireTLSNeedsACertificate(t *testing.T) {
	_, err := pgserve.New(pgserve.Options{RequireTLS: true, Users: []pgserve.User{{Name: "a", Password: "p", Role: pgserve.RoleAnalyst}}})
	if err == nil || !strings.Contains(err.Error(), "TLS is required but no certificate is configured") {
		t.Errorf("New: %v", err)
	}
}
