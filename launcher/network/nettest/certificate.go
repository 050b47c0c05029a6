package nettest

import (
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
	"path/filepath"
	"testing"
	"time"
)

// Authority is a certificate authority of the test's own, as a server on
// the network has one node does not know unless told (NODE_EXTRA_CA_CERTS).
type Authority struct {
	File string // its certificate, PEM
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewAuthority makes an authority, valid an hour either side of now.
func NewAuthority(t testing.TB) *Authority {
	t.Helper()
	cert, key := certificate(t, nil, nil, "", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	a := &Authority{File: filepath.Join(t.TempDir(), "ca.pem"), cert: cert, key: key}
	if err := os.WriteFile(a.File, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// Issue makes a server's certificate for the host name, valid from from
// to to, signed by a; a nil a signs it with its own key (self-signed).
func (a *Authority) Issue(t testing.TB, name string, from, to time.Time) tls.Certificate {
	t.Helper()
	var cert *x509.Certificate
	var key *ecdsa.PrivateKey
	if a == nil {
		cert, key = certificate(t, nil, nil, name, from, to)
	} else {
		cert, key = certificate(t, a.cert, a.key, name, from, to)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}

// certificate makes a certificate for the host name, valid from from to
// to, signed by parent's key; without a parent, by its own: an authority
// when name is "".
func certificate(t testing.TB, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, from, to time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{name}}
	if name == "" {
		tmpl.Subject.CommonName, tmpl.DNSNames = "launcher test authority", nil
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// ServeTLS shakes hands with whoever connects to l as the server of cert,
// and hangs up, until the test ends.
func ServeTLS(t testing.TB, l net.Listener, cert tls.Certificate) {
	tl := tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := tl.Accept()
			if err != nil {
				return
			}
			go func() { _ = conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	t.Cleanup(func() { tl.Close(); <-done })
}
