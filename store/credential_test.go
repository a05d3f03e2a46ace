package store_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// testCertificate is a PEM with a certificate and its key, its thumbprint and end date.
func testCertificate(t *testing.T) (pemData []byte, thumbprint string, notAfter time.Time) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	notAfter = time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second).UTC()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	pemData = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
	sum := sha1.Sum(der)
	return pemData, strings.ToUpper(hex.EncodeToString(sum[:])), notAfter
}

// keyBody is a line from the middle of the PEM's private key: what must never be stored or
// printed as it is.
func keyBody(pemData []byte) string {
	_, key, _ := strings.Cut(string(pemData), "PRIVATE KEY-----\n")
	lines := strings.Split(key, "\n")
	return lines[len(lines)/2]
}

func TestCertificateCredentialEncryptedAndSwitched(t *testing.T) {
	testdb.EachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		st := testdb.Open(t, cfg)
		pemData, thumb, notAfter := testCertificate(t)
		in := &models.Integration{Name: "Contoso", TenantID: "t", ClientID: "c"}
		if err := st.CreateIntegrationWithCredential(ctx, in, store.Credential{Certificate: pemData}); err != nil {
			t.Fatal(err)
		}
		got, err := st.IntegrationCredential(ctx, in.ID)
		if err != nil || string(got.Certificate) != string(pemData) || got.Secret != "" {
			t.Fatalf("IntegrationCredential = %v, %v; want the PEM back", got, err)
		}
		stored, err := st.Integration(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.CredentialType != models.CredentialCertificate || stored.CertificateThumbprint != thumb ||
			stored.CertificateExpiresAt == nil || !stored.CertificateExpiresAt.Equal(notAfter) || stored.SecretHint != "" {
			t.Fatalf("stored: type %q thumbprint %q (want %q) expiry %v (want %v) hint %q", stored.CredentialType, stored.CertificateThumbprint, thumb, stored.CertificateExpiresAt, notAfter, stored.SecretHint)
		}
		if _, err := st.IntegrationSecret(ctx, in.ID); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("IntegrationSecret of a certificate integration = %v, want an error saying so", err)
		}

		// Neither a column nor a log line nor %v holds the key.
		for col, v := range scanRow(t, st, "SELECT * FROM integrations") {
			s := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			if strings.Contains(s, keyBody(pemData)) || strings.Contains(s, "PRIVATE KEY") {
				t.Fatalf("column %s holds the private key in plaintext", col)
			}
		}
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cred", got)
		for _, s := range []string{fmt.Sprint(got), fmt.Sprintf("%+v %#v", got, got), logged.String()} {
			if strings.Contains(s, keyBody(pemData)) || strings.Contains(s, "BEGIN") {
				t.Fatalf("a Credential printed its key: %q", s)
			}
		}

		// To a secret and back: the other credential's columns are cleared.
		if err := st.SetCredential(ctx, in.ID, store.Credential{Secret: "second~secret~value~WXYZ"}); err != nil {
			t.Fatal(err)
		}
		stored, _ = st.Integration(ctx, in.ID)
		if stored.CredentialType != models.CredentialSecret || stored.CertificateCiphertext != nil || stored.CertificateThumbprint != "" || stored.CertificateExpiresAt != nil || stored.SecretHint != "WXYZ" {
			t.Fatalf("after switching to a secret: %+v", stored)
		}
		if got, err := st.IntegrationCredential(ctx, in.ID); err != nil || got.Secret != "second~secret~value~WXYZ" {
			t.Fatalf("IntegrationCredential after the switch = %v", err)
		}
		if err := st.SetCredential(ctx, in.ID, store.Credential{Certificate: pemData}); err != nil {
			t.Fatal(err)
		}
		stored, _ = st.Integration(ctx, in.ID)
		if stored.CredentialType != models.CredentialCertificate || stored.SecretCiphertext != nil || stored.SecretHint != "" {
			t.Fatalf("after switching back: type %q secret hint %q", stored.CredentialType, stored.SecretHint)
		}
		if err := st.SetCredential(ctx, in.ID, store.Credential{Secret: "s", Certificate: pemData}); err == nil {
			t.Fatal("SetCredential took two credentials at once")
		}
		st.Close()
		if st.Dialect() == store.SQLite {
			files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "overshare.db*"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if strings.Contains(string(b), keyBody(pemData)) {
					t.Fatalf("%s contains the private key in plaintext", filepath.Base(f))
				}
			}
		}
	})
}
