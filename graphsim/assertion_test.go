package graphsim_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/overshare/overshare/graphsim"
)

// certCredential is azidentity's certificate credential as production builds it.
func (s *sim) certCredential(t testing.TB, pemData []byte) *azidentity.ClientCertificateCredential {
	t.Helper()
	certs, key, err := azidentity.ParseCertificates(pemData, nil)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	cred, err := azidentity.NewClientCertificateCredential(s.info.TenantID, s.info.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.info.AuthorityHost},
			Transport: &http.Client{Transport: s.transport()},
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("certificate credential: %v", err)
	}
	return cred
}

// The real azidentity client signs in with the certificate the simulator wrote; an expired or
// rotated-away certificate is refused with Entra ID's AADSTS700027 and its reason.
func TestSignInWithCertificate(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	pemData, err := os.ReadFile(s.info.CertificateFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(s.info.CertificateFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("certificate file mode: %v %v, want 0600", st.Mode(), err)
	}
	getToken := func(pemData []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A new credential each time: azidentity caches tokens.
		_, err := s.certCredential(t, pemData).GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScopes})
		return err
	}
	if err := getToken(pemData); err != nil {
		t.Fatalf("GetToken with the registered certificate: %v", err)
	}
	// The secret keeps working beside it.
	if _, err := s.credential(t, s.info.TenantID, s.info.ClientID, s.info.ClientSecret).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: graphScopes}); err != nil {
		t.Fatalf("GetToken with the secret: %v", err)
	}

	s.ExpireCertificate(true)
	if err := getToken(pemData); err == nil || !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "The key used is expired") {
		t.Fatalf("expired certificate: %v, want AADSTS700027 key expired", err)
	}
	s.ExpireCertificate(false)

	thumb, err := s.RotateCertificate()
	if err != nil || thumb == s.info.CertificateThumbprint {
		t.Fatalf("rotate: %q %v", thumb, err)
	}
	if err := getToken(pemData); err == nil || !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "The key was not found") {
		t.Fatalf("rotated-away certificate: %v, want AADSTS700027 key not found", err)
	}
	rotated, err := os.ReadFile(s.info.CertificateFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := getToken(rotated); err != nil {
		t.Fatalf("GetToken with the new certificate: %v", err)
	}
}

type assertionKey struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

func loadAssertionKey(t *testing.T, path string) assertionKey {
	t.Helper()
	pemData, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(pemData, nil)
	if err != nil {
		t.Fatal(err)
	}
	return assertionKey{certs[0], key.(*rsa.PrivateKey)}
}

// sign makes a client assertion; header and claims are maps so a test can break any part.
func (k assertionKey) sign(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	unsigned := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(unsigned))
	var sig []byte
	var err error
	if header["alg"] == "RS256" {
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	} else {
		sig, err = rsa.SignPSS(rand.Reader, k.key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Each rule of a client assertion, broken alone, over plain HTTP: Entra ID's code and words.
func TestClientAssertionRules(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	k := loadAssertionKey(t, s.info.CertificateFile)
	other := selfSigned(t)
	tokenURL := s.info.AuthorityHost + s.info.TenantID + "/oauth2/v2.0/token"
	s256 := sha256.Sum256(k.cert.Raw)
	s1 := sha1.Sum(k.cert.Raw)
	o256 := sha256.Sum256(other.cert.Raw)

	now := time.Now()
	header := func() map[string]any {
		return map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:])}
	}
	claims := func() map[string]any {
		return map[string]any{
			"aud": tokenURL, "iss": s.info.ClientID, "sub": s.info.ClientID,
			"jti": randomID(t), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		}
	}
	post := func(assertion string) (int, string) {
		f := url.Values{
			"grant_type": {"client_credentials"}, "client_id": {s.info.ClientID}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		}
		resp, err := s.hc.PostForm(tokenURL, f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Description
	}

	reused := k.sign(t, header(), claims())
	if code, msg := post(reused); code != 200 {
		t.Fatalf("valid assertion: %d %s", code, msg)
	}
	tests := []struct {
		name      string
		assertion string
		want      string
	}{
		{"RS256 with x5t", k.sign(t, map[string]any{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(s1[:])}, claims()), ""},
		{"x5t#S256 in standard base64, as MSAL Go writes it", k.sign(t, map[string]any{"alg": "PS256", "x5t#S256": base64.StdEncoding.EncodeToString(s256[:])}, claims()), ""},
		{"reused jti", reused, "AADSTS50027: JWT token is invalid or malformed. The client assertion with jti"},
		{"unknown thumbprint", other.sign(t, map[string]any{"alg": "PS256", "x5t#S256": base64.RawURLEncoding.EncodeToString(o256[:])}, claims()), "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found."},
		{"bad signature", other.sign(t, header(), claims()), "AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did not match"},
		{"no thumbprint", k.sign(t, map[string]any{"alg": "PS256"}, claims()), "No certificate thumbprint specified in token header"},
		{"HS256", k.sign(t, map[string]any{"alg": "HS256", "x5t#S256": header()["x5t#S256"]}, claims()), "AADSTS50027"},
		{"expired", k.sign(t, header(), with(claims(), "exp", now.Add(-time.Second).Unix())), "AADSTS700024: Client assertion is not within its valid time range."},
		{"no exp", k.sign(t, header(), with(claims(), "exp", nil)), "AADSTS700024"},
		{"not yet valid", k.sign(t, header(), with(claims(), "nbf", now.Add(time.Hour).Unix())), "AADSTS700024"},
		{"wrong audience", k.sign(t, header(), with(claims(), "aud", "https://login.microsoftonline.com/"+s.info.TenantID+"/oauth2/v2.0/token")), "AADSTS50012: Client assertion audience claim does not match Realm issuer."},
		{"two audiences", k.sign(t, header(), with(claims(), "aud", []string{tokenURL, tokenURL})), "AADSTS5002741"},
		{"iss not the client", k.sign(t, header(), with(claims(), "iss", "someone-else")), "AADSTS700021"},
		{"sub not the client", k.sign(t, header(), with(claims(), "sub", "someone-else")), "AADSTS700021"},
		{"no jti", k.sign(t, header(), with(claims(), "jti", nil)), "AADSTS50027"},
		{"not a JWT", "not-a-jwt", "AADSTS50027"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := post(tc.assertion)
			if tc.want == "" {
				if code != 200 {
					t.Fatalf("%d %s, want a token", code, msg)
				}
				return
			}
			if code != 401 || !strings.HasPrefix(msg, tc.want) && !strings.Contains(msg, tc.want) {
				t.Fatalf("%d %q, want 401 with %q", code, msg, tc.want)
			}
		})
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
	return m
}

func selfSigned(t *testing.T) assertionKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the app"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return assertionKey{cert, key}
}

func randomID(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
