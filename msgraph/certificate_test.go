package msgraph

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/graphsim"
)

func certConfig(t *testing.T, srv *graphsim.Server) (Config, []byte) {
	t.Helper()
	pemData, err := os.ReadFile(srv.Info().CertificateFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFor(srv)
	cfg.ClientSecret, cfg.Certificate = "", pemData
	return cfg, pemData
}

// testPEM makes a certificate valid from..until with its key, as PEM blocks.
func testPEM(t *testing.T, key any, pub any, from, until time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "test app"}, NotBefore: from, NotAfter: until}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}

func TestCertificateCredentialChecksOut(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	cfg, _ := certConfig(t, srv)
	c := newClient(t, cfg)
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials with the certificate: %v", err)
	}
	users := 0
	if err := c.ListUsers(context.Background(), func(us []User) error { users += len(us); return nil }); err != nil || users == 0 {
		t.Fatalf("ListUsers: %d users, %v", users, err)
	}
}

// Every way a certificate goes wrong ends in a sentence an administrator can act on, with the
// kind the jobs and the API decide by, and never a byte of the key.
func TestCertificateFailuresInWords(t *testing.T) {
	srv := startSim(t, graphsim.Options{})
	good, goodPEM := certConfig(t, srv)
	thumb := srv.Info().CertificateThumbprint
	now := time.Now()

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherCert, otherKeyPEM := testPEM(t, otherKey, &otherKey.PublicKey, now.Add(-time.Hour), now.Add(time.Hour))
	expiredCert, expiredKeyPEM := testPEM(t, otherKey, &otherKey.PublicKey, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecCert, ecKeyPEM := testPEM(t, ecKey, &ecKey.PublicKey, now.Add(-time.Hour), now.Add(time.Hour))
	registeredCert := goodPEM[:bytes.Index(goodPEM, []byte("-----BEGIN PRIVATE KEY"))]

	tests := []struct {
		name    string
		pem     []byte
		before  func()
		inNew   bool // refused before any request
		kind    Kind
		mention string
	}{
		{name: "unknown thumbprint", pem: append(otherCert, otherKeyPEM...), kind: UnknownCertificate, mention: "AADSTS700027"},
		{name: "expired in Entra ID", pem: goodPEM, before: func() { srv.ExpireCertificate(true) }, kind: ExpiredCertificate, mention: thumb},
		{name: "wrong certificate: key of another certificate", pem: append(append([]byte{}, registeredCert...), otherKeyPEM...), inNew: true, kind: BadCertificate, mention: "does not belong to its certificate"},
		{name: "certificate past its end date", pem: append(expiredCert, expiredKeyPEM...), inNew: true, kind: ExpiredCertificate, mention: "expired on"},
		{name: "EC key", pem: append(ecCert, ecKeyPEM...), inNew: true, kind: BadCertificate, mention: "RSA"},
		{name: "certificate without its key", pem: registeredCert, inNew: true, kind: BadCertificate, mention: "no usable private key"},
		{name: "key without its certificate", pem: otherKeyPEM, inNew: true, kind: BadCertificate, mention: "no certificate"},
		{name: "not a PEM", pem: []byte("hello"), inNew: true, kind: BadCertificate, mention: "not usable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ExpireCertificate(false)
			t.Cleanup(func() { srv.ExpireCertificate(false) })
			if tc.before != nil {
				tc.before()
			}
			cfg := good
			cfg.Certificate = tc.pem
			c, err := New(context.Background(), cfg)
			if tc.inNew {
				if err == nil {
					t.Fatalf("New accepted the PEM")
				}
			} else {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				err = c.CheckCredentials(context.Background())
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want *Error", err, err)
			}
			if e.Kind != tc.kind || !strings.Contains(e.Message, tc.mention) || !e.Kind.Credential() {
				t.Fatalf("got %v %q, want %v mentioning %q", e.Kind, e.Message, tc.kind, tc.mention)
			}
			for _, leak := range []string{keyLine(goodPEM), keyLine(otherKeyPEM), keyLine(tc.pem)} {
				if strings.Contains(e.Error(), leak) {
					t.Errorf("message leaks key material (%q): %q", leak, e.Message)
				}
			}
		})
	}
}

// keyLine is a line from the middle of a PEM's private key block, or "" when it has none.
func keyLine(p []byte) string {
	_, key, ok := strings.Cut(string(p), "PRIVATE KEY-----\n")
	if !ok {
		return "no key in this PEM"
	}
	lines := strings.Split(key, "\n")
	return lines[len(lines)/2]
}

// The bracketed reason of AADSTS700027 picks the kind: the real client never sends a key of
// another certificate (MSAL refuses first), so the signature-mismatch text is fed as azidentity
// reports it.
func TestAssertionRefusalsClassified(t *testing.T) {
	c := &Client{cfg: Config{ClientID: "app"}, certThumbprint: "ABC"}
	for text, want := range map[string]Kind{
		"ClientCertificateCredential authentication failed\nAADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: 'ABC']": WrongCertificate,
		"ClientCertificateCredential authentication failed\nAADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: 'ABC']":                                                   UnknownCertificate,
		"ClientCertificateCredential authentication failed\nAADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: 'ABC']":                                                 ExpiredCertificate,
		"ClientCertificateCredential authentication failed\nAADSTS1000502: The certificate is outside its validity window.":                                                                                                                             ExpiredCertificate,
		"ClientCertificateCredential authentication failed\nAADSTS700024: Client assertion is not within its valid time range.":                                                                                                                         Unknown,
	} {
		err := c.classify(opUsers, errors.New(text))
		if KindOf(err) != want || !strings.Contains(err.Error(), "app") {
			t.Errorf("%.60s…: %v %q, want %v", text[50:], KindOf(err), err, want)
		}
	}
}
