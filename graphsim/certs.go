package graphsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

type caCert struct {
	pem []byte
}

// newCertificates makes a throw-away CA and a leaf for the loopback names. A
// CA (rather than one self-signed leaf) is what production code is configured
// with, so the same "extra CA file" path is exercised.
func newCertificates() (caCert, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return caCert{}, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "graphsim local CA", Organization: []string{"Overshare graphsim"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return caCert{}, tls.Certificate{}, fmt.Errorf("ca: %w", err)
	}
	caParsed, err := x509.ParseCertificate(caDER)
	if err != nil {
		return caCert{}, tls.Certificate{}, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return caCert{}, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caParsed, &leafKey.PublicKey, caKey)
	if err != nil {
		return caCert{}, tls.Certificate{}, fmt.Errorf("leaf: %w", err)
	}
	leaf := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
	return caCert{pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}, leaf, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func formatUUID(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newUUID is a random version-4 UUID, as Graph's request-ids are.
func newUUID() string { return formatUUID(randomBytes(16)) }

// seededUUID is a stable UUID derived from the tenant seed.
func seededUUID(seed int64, what string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s", seed, what))
	return formatUUID(sum[:16])
}

// newSecret looks like an Entra ID client secret value (40 characters).
func newSecret() string {
	s := base64.RawURLEncoding.EncodeToString(randomBytes(30))
	return s[:3] + "8Q~" + s[6:]
}

// LoopbackTLS makes a throw-away certificate for the loopback names and the pool that
// trusts it: the demo's receiver of change notifications serves it, and the simulator is
// given the pool (Options.NotificationRootCAs), as Graph trusts a public CA's certificate.
func LoopbackTLS() (tls.Certificate, *x509.CertPool, error) {
	ca, leaf, err := newCertificates()
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.pem) {
		return tls.Certificate{}, nil, fmt.Errorf("loopback CA: no certificate")
	}
	return leaf, pool, nil
}
