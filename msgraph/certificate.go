package msgraph

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the thumbprint Entra ID shows is SHA-1; it names, it does not protect
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// certificateCredential reads a certificate credential: a PEM holding the app's certificate
// and its unencrypted private key. Entra ID verifies client assertions signed with RSA only
// (RS256 or PS256), and MSAL refuses any other key, so an EC key is refused here in words. The
// checks made here are the ones Entra ID would otherwise answer with a code an administrator
// cannot read: a key of another certificate (AADSTS700027, signature mismatch) and a
// certificate past its end date (AADSTS700027, key expired).
func certificateCredential(pemData []byte, now time.Time) ([]*x509.Certificate, crypto.PrivateKey, string, error) {
	certs, key, err := azidentity.ParseCertificates(pemData, nil)
	if err != nil {
		return nil, nil, "", &Error{Kind: BadCertificate, Message: "The certificate is not usable: " + certificateProblem(err), err: err}
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, "", &Error{Kind: BadCertificate, Message: "The certificate's private key is not an RSA key: Microsoft Entra ID accepts client assertions signed with RSA keys only; create the certificate with an RSA key (2048 bits or more)."}
	}
	for _, c := range certs {
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || !pub.Equal(&rk.PublicKey) {
			continue
		}
		thumb := Thumbprint(c)
		if now.After(c.NotAfter) {
			return nil, nil, thumb, &Error{Kind: ExpiredCertificate, Message: fmt.Sprintf("The certificate with thumbprint %s expired on %s: create a new certificate, upload it in the app's Certificates & secrets page and use it here.", thumb, c.NotAfter.UTC().Format("2006-01-02 15:04 MST"))}
		}
		return certs, key, thumb, nil
	}
	return nil, nil, "", &Error{Kind: BadCertificate, Message: "The private key in the PEM does not belong to its certificate: give the certificate together with its own private key (the wrong key file, or a certificate of another key pair)."}
}

// Thumbprint is a certificate's SHA-1 thumbprint in upper-case hex, the form the Entra admin
// center lists under Certificates & secrets.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) //nolint:gosec // see the import
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// certificateProblem words azidentity's parse errors; they never quote the input.
func certificateProblem(err error) string {
	text := err.Error()
	switch {
	case strings.Contains(text, "no certificate"):
		return "the PEM holds no certificate (a -----BEGIN CERTIFICATE----- block is needed besides the private key)."
	case strings.Contains(text, "private key") || strings.Contains(text, "no key"):
		return "the PEM holds no usable private key: it needs the certificate's unencrypted private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); an encrypted key must be decrypted first (openssl pkey -in key.pem -out plain.pem)."
	}
	return "it is not a PEM holding a certificate and its private key (" + sentence(text) + ")"
}
