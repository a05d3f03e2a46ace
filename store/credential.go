package store

import (
	"crypto/sha1" //nolint:gosec // the thumbprint Entra ID lists is SHA-1; it names, it does not protect
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
)

// Credential is an app registration's credential as the caller gives it and the Graph client
// takes it: exactly one of a client secret's value and a PEM holding the certificate and its
// private key. It prints, formats and logs as a placeholder, so that a stray %v or slog
// attribute never writes the secret or the key.
type Credential struct {
	Secret      string
	Certificate []byte // PEM: the certificate and its unencrypted private key
}

// Type is the credential's kind.
func (c Credential) Type() models.CredentialType {
	if len(c.Certificate) > 0 {
		return models.CredentialCertificate
	}
	return models.CredentialSecret
}

func (c Credential) String() string {
	if len(c.Certificate) > 0 {
		return "[certificate]"
	}
	return "[client secret]"
}

// GoString keeps %#v from printing the fields.
func (c Credential) GoString() string { return c.String() }

// LogValue keeps slog from printing the fields.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// certificateAAD binds a certificate's ciphertext to its integration and column, so neither a
// copy to another row nor a swap with the secret's column decrypts.
func certificateAAD(integrationID string) string { return integrationID + "/certificate" }

// credentialColumns encrypts cred and returns the integrations columns to write, the other
// kind's cleared.
func (s *Store) credentialColumns(integrationID string, cred Credential) (map[string]any, error) {
	switch {
	case cred.Secret != "" && len(cred.Certificate) > 0:
		return nil, errors.New("give a client secret or a certificate, not both")
	case cred.Secret == "" && len(cred.Certificate) == 0:
		return nil, errors.New("the client secret is empty")
	}
	cols := map[string]any{
		"credential_type":   cred.Type(),
		"secret_ciphertext": []byte(nil), "secret_key_id": "", "secret_hint": "",
		"certificate_ciphertext": []byte(nil), "certificate_key_id": "", "certificate_thumbprint": "",
		"certificate_expires_at": (*time.Time)(nil),
	}
	if cred.Secret != "" {
		ct, keyID, err := s.keys.seal(cred.Secret, integrationID)
		if err != nil {
			return nil, fmt.Errorf("encrypt client secret: %w", err)
		}
		cols["secret_ciphertext"], cols["secret_key_id"], cols["secret_hint"] = ct, keyID, secretHint(cred.Secret)
		return cols, nil
	}
	thumb, notAfter, err := describeCertificate(cred.Certificate)
	if err != nil {
		return nil, err
	}
	ct, keyID, err := s.keys.seal(string(cred.Certificate), certificateAAD(integrationID))
	if err != nil {
		return nil, fmt.Errorf("encrypt certificate: %w", err)
	}
	at := notAfter.UTC()
	cols["certificate_ciphertext"], cols["certificate_key_id"] = ct, keyID
	cols["certificate_thumbprint"], cols["certificate_expires_at"] = thumb, &at
	return cols, nil
}

// describeCertificate reads, for display, the SHA-1 thumbprint and end date of the PEM's first
// certificate. Whether the PEM can sign in is the Graph client's check, made before anything is
// stored.
func describeCertificate(pemData []byte) (string, time.Time, error) {
	for rest := pemData; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "", time.Time{}, errors.New("the certificate PEM holds no CERTIFICATE block")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("the certificate PEM holds an unreadable certificate: %w", err)
		}
		sum := sha1.Sum(c.Raw) //nolint:gosec // see the import
		return strings.ToUpper(hex.EncodeToString(sum[:])), c.NotAfter, nil
	}
}
