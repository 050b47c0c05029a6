package main

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
	"strconv"
	"testing"
	"time"
)

// node refusing a server's TLS certificate, for real: node 20's fetch to
// servers of this test on loopback, whose certificates an authority of
// the test's signed (given to node as NODE_EXTRA_CA_CERTS, as an add-on
// would): one for another name (Home Assistant with its DuckDNS
// certificate, reached by another name), one expired, one not valid yet;
// and one self-signed. node says `fetch failed` and its cause's code; the
// log says which, with the fix.
func TestRun_TellsARefusedCertificate(t *testing.T) {
	ca, caKey := certificate(t, nil, nil, "", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644))
	hour := time.Hour
	for _, c := range []struct {
		name, host       string
		signed           bool
		from, to         time.Duration
		said, cause, fix string
	}{
		{"another name", "myhome.duckdns.org", true, -hour, hour, "ERR_TLS_CERT_ALTNAME_INVALID",
			"node: it refused the TLS certificate of localhost: the certificate is for DNS:myhome.duckdns.org, not for that name (ERR_TLS_CERT_ALTNAME_INVALID)",
			"http://supervisor/core/api and ws://supervisor/core/websocket"},
		{"expired", "localhost", true, -2 * hour, -hour, "CERT_HAS_EXPIRED",
			"node: it refused a TLS certificate that has expired (CERT_HAS_EXPIRED), by the container's clock: " + time.Now().UTC().Format("2006-01-02"),
			"must renew it"},
		{"not valid yet", "localhost", true, hour, 2 * hour, "CERT_NOT_YET_VALID",
			"node: it refused a TLS certificate that is not valid yet (CERT_NOT_YET_VALID), by the container's clock: " + time.Now().UTC().Format("2006-01-02"),
			"starts later than now"},
		{"self-signed", "localhost", false, -hour, hour, "DEPTH_ZERO_SELF_SIGNED_CERT",
			"node: it refused a TLS certificate it cannot verify: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
			"NODE_EXTRA_CA_CERTS=/data/ca.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var leaf *x509.Certificate
			var key *ecdsa.PrivateKey
			if c.signed {
				leaf, key = certificate(t, ca, caKey, c.host, time.Now().Add(c.from), time.Now().Add(c.to))
			} else {
				leaf, key = certificate(t, nil, nil, c.host, time.Now().Add(c.from), time.Now().Add(c.to))
			}
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: key}}})
			must(t, err)
			defer l.Close()
			go func() {
				for {
					conn, err := l.Accept()
					if err != nil {
						return
					}
					go func() { _ = conn.(*tls.Conn).Handshake(); conn.Close() }()
				}
			}()
			url := "https://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/api/"
			run := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", "fetch('" + url + "').then(r => console.log('answered', r.status))"},
				env: []string{never, "NODE_EXTRA_CA_CERTS=" + caFile}})
			logHas(t, run.nodeFailed(30*time.Second), c.said, c.cause, "fix=", c.fix)
		})
	}
}

// certificate makes a certificate for the host name, valid from from to
// to, signed by parent's key; without a parent, by its own: an authority
// when name is "".
func certificate(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, from, to time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{name}}
	if name == "" {
		tmpl.Subject.CommonName, tmpl.DNSNames = "HAsync test authority", nil
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return cert, key
}
