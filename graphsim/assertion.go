package graphsim

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition (RFC 7515); it names a certificate
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// jwtBearer is the only client_assertion_type Entra ID accepts.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSkew is how far in the future an assertion's nbf may lie. Entra ID documents no
// tolerance; token validators commonly allow five minutes, and MSAL sets nbf to its own now.
// exp gets none: an assertion past its exp is refused at once (harsher).
const assertionSkew = 5 * time.Minute

// appCertificate is a certificate registered for the app (a key credential in Entra ID's
// terms), with its thumbprints as the assertion header names them.
type appCertificate struct {
	cert           *x509.Certificate
	x5t, x5tS256   []byte // SHA-1 and SHA-256 of the DER
	thumbprintHex  string // SHA-1, upper-case hex, as the Entra admin center shows it
	pemWithKey     []byte // certificate and PKCS #8 private key, written to the CA dir
	start, endDate time.Time
}

// newAppCertificate makes a self-signed RSA certificate for the app, valid for a year, as
// `New-SelfSignedCertificate` or `openssl req -x509` would for an app registration. RSA,
// because Entra ID verifies client assertions with RS256 or PS256 only.
func newAppCertificate(clientID string, now time.Time) (*appCertificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("app key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Overshare graphsim app " + clientID},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("app certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	s1 := sha1.Sum(der) //nolint:gosec // see the import
	s256 := sha256.Sum256(der)
	return &appCertificate{
		cert: cert, x5t: s1[:], x5tS256: s256[:], thumbprintHex: strings.ToUpper(hex.EncodeToString(s1[:])),
		pemWithKey: buf.Bytes(), start: cert.NotBefore, endDate: cert.NotAfter,
	}, nil
}

// writeAppCertificate writes the PEM (certificate and key) readable by its owner only.
func writeAppCertificate(path string, c *appCertificate) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, c.pemWithKey, 0o600); err != nil {
		return fmt.Errorf("write app certificate: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write app certificate: %w", err)
	}
	return nil
}

// assertionError is one of Entra ID's refusals of a client assertion.
type assertionError struct {
	status  int
	errCode string
	aadsts  int
	msg     string
}

func assertionRefused(aadsts int, msg string) *assertionError {
	return &assertionError{status: http.StatusUnauthorized, errCode: "invalid_client", aadsts: aadsts, msg: msg}
}

const certDocs = " Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."

// checkAssertion verifies a client assertion as Entra ID does (docs/graph-behaviour.md,
// "Certificates"): the header's thumbprint must name a certificate registered for the app and
// not expired there, the RS256/PS256 signature must verify with it, aud must be this tenant's
// token endpoint, iss and sub the client id, now within nbf..exp, and the jti unused.
func (s *Server) checkAssertion(tenantSeg, clientID, assertion string, now time.Time) *assertionError {
	malformed := func(why string) *assertionError {
		return assertionRefused(50027, "JWT token is invalid or malformed. "+why)
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return malformed("The client assertion is not a signed JWT (three dot-separated parts).")
	}
	var header struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Jti string          `json:"jti"`
		Exp *float64        `json:"exp"`
		Nbf *float64        `json:"nbf"`
	}
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return malformed("The client assertion's parts are not base64url-encoded JSON.")
	}
	if header.Alg != "RS256" && header.Alg != "PS256" {
		return malformed("The client assertion must be signed with RS256 or PS256, not '" + header.Alg + "'.")
	}
	var thumb []byte
	var sha256Thumb bool
	switch {
	case header.X5tS256 != "":
		thumb, sha256Thumb = decodeThumbprint(header.X5tS256), true
	case header.X5t != "":
		thumb = decodeThumbprint(header.X5t)
	default:
		return malformed("Invalid JWT token. No certificate thumbprint specified in token header.")
	}

	// Which key: the thumbprint, then the key's own validity, then the signature.
	s.app.mu.RLock()
	cert, certExpired := s.app.cert, s.app.certExpired
	s.app.mu.RUnlock()
	shown := strings.ToUpper(hex.EncodeToString(thumb))
	if cert == nil || !(sha256Thumb && bytes.Equal(thumb, cert.x5tS256) || !sha256Thumb && bytes.Equal(thumb, cert.x5t)) {
		return assertionRefused(700027, "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '"+shown+
			"', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '"+s.opt.ClientID+"'.]")
	}
	found := "Found key 'Start=" + cert.start.UTC().Format("01/02/2006 15:04:05") + ", End=" + cert.endDate.UTC().Format("01/02/2006 15:04:05") + "'"
	if certExpired || now.After(cert.endDate) {
		return assertionRefused(700027, "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '"+shown+"', "+found+"]")
	}
	if !verifyRSA(cert.cert, header.Alg, parts[0]+"."+parts[1], sig) {
		return assertionRefused(700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '"+shown+"', "+found+"]")
	}

	var auds []string
	if len(claims.Aud) > 0 && claims.Aud[0] == '[' {
		_ = json.Unmarshal(claims.Aud, &auds)
	} else {
		var a string
		_ = json.Unmarshal(claims.Aud, &a)
		if a != "" {
			auds = []string{a}
		}
	}
	if len(auds) > 1 {
		return assertionRefused(5002741, fmt.Sprintf("Number of audience values in the provided client credential exceed maximum allowed. %d audience values provided, maximum allowed is 1.", len(auds)))
	}
	if len(auds) == 0 || !s.tokenEndpoint(auds[0]) {
		return assertionRefused(50012, "Client assertion audience claim does not match Realm issuer.")
	}
	if !strings.EqualFold(claims.Iss, clientID) || !strings.EqualFold(claims.Sub, clientID) {
		return assertionRefused(700021, "Client assertion application identifier doesn't match 'client_id' parameter."+certDocs)
	}
	from, until := time.Unix(0, 0).UTC(), time.Time{}
	if claims.Nbf != nil {
		from = time.Unix(int64(*claims.Nbf), 0).UTC()
	}
	if claims.Exp != nil {
		until = time.Unix(int64(*claims.Exp), 0).UTC()
	}
	if claims.Exp == nil || !now.Before(until) || from.After(now.Add(assertionSkew)) {
		return assertionRefused(700024, "Client assertion is not within its valid time range. Current time: "+now.UTC().Format("2006-01-02T15:04:05.0000000Z")+
			", assertion valid from "+from.Format("2006-01-02T15:04:05.0000000Z")+", expiry time of assertion "+until.Format("2006-01-02T15:04:05.0000000Z")+"."+certDocs)
	}
	if claims.Jti == "" {
		return malformed("The client assertion has no jti claim.")
	}
	if !s.app.useJTI(claims.Jti, until, now) {
		// Entra ID documents jti as a unique identifier without saying that it refuses a
		// replay, nor with which code; the simulator refuses (harsher) with this one.
		return malformed("The client assertion with jti '" + claims.Jti + "' was already used; a client assertion is good for one token request.")
	}
	return nil
}

// decodeThumbprint accepts base64url (RFC 7515) and standard base64: MSAL Go writes x5t#S256
// in standard base64, and Entra ID accepts it.
func decodeThumbprint(v string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b
		}
	}
	return []byte(v)
}

func verifyRSA(cert *x509.Certificate, alg, signed string, sig []byte) bool {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(signed))
	if alg == "PS256" {
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

// tokenEndpoint reports whether aud is this tenant's v2.0 token endpoint, named by tenant id
// or domain, as Entra ID's documentation asks.
func (s *Server) tokenEndpoint(aud string) bool {
	rest, ok := strings.CutPrefix(aud, s.baseURL+"/")
	if !ok {
		return false
	}
	seg, path, _ := strings.Cut(rest, "/")
	return path == "oauth2/v2.0/token" && s.knownTenant(seg)
}

// useJTI records a jti until its assertion expires and reports whether it was new. Expired
// entries are dropped on the way, so the set stays as small as the assertions still valid.
func (a *appState) useJTI(jti string, exp, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jtis == nil {
		a.jtis = map[string]time.Time{}
	}
	for k, until := range a.jtis {
		if now.After(until) {
			delete(a.jtis, k)
		}
	}
	if _, used := a.jtis[jti]; used {
		return false
	}
	a.jtis[jti] = exp
	return true
}
