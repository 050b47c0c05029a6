package main

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/network/nettest"
)

// node refusing a server's TLS certificate, for real: node 20's fetch to
// servers of this test on loopback, whose certificates an authority of
// the test's signed (given to node as NODE_EXTRA_CA_CERTS, as an add-on
// would): one for another name (Home Assistant with its DuckDNS
// certificate, reached by another name), one expired, one not valid yet;
// and one self-signed. node says `fetch failed` and its cause's code (and,
// for another name, prints the certificate after it, past the 50 lines
// the launcher keeps); the log says which, with the fix.
func TestRun_TellsARefusedCertificate(t *testing.T) {
	ca := nettest.NewAuthority(t)
	today := time.Now().UTC().Format("2006-01-02")
	hour := time.Hour
	for _, c := range []struct {
		name, host       string
		by               *nettest.Authority
		from, to         time.Duration
		said, cause, fix string
	}{
		{"another name", "myhome.duckdns.org", ca, -hour, hour, "ERR_TLS_CERT_ALTNAME_INVALID",
			"node: it refused the TLS certificate of localhost: the certificate is for DNS:myhome.duckdns.org, not for that name (ERR_TLS_CERT_ALTNAME_INVALID)",
			"http://supervisor/core/api and ws://supervisor/core/websocket"},
		{"expired", "localhost", ca, -2 * hour, -hour, "CERT_HAS_EXPIRED",
			"node: it refused a TLS certificate that has expired (CERT_HAS_EXPIRED), by the container's clock: " + today, "must renew it"},
		{"not valid yet", "localhost", ca, hour, 2 * hour, "CERT_NOT_YET_VALID",
			"node: it refused a TLS certificate that is not valid yet (CERT_NOT_YET_VALID), by the container's clock: " + today, "starts later than now"},
		{"self-signed", "localhost", nil, -hour, hour, "DEPTH_ZERO_SELF_SIGNED_CERT",
			"node: it refused a TLS certificate it cannot verify: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)", "NODE_EXTRA_CA_CERTS=/data/ca.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			must(t, err)
			nettest.ServeTLS(t, l, c.by.Issue(t, c.host, time.Now().Add(c.from), time.Now().Add(c.to)))
			url := "https://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/api/"
			run := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", "fetch('" + url + "').then(r => console.log('answered', r.status))"},
				env: []string{never, "NODE_EXTRA_CA_CERTS=" + ca.File}})
			logHas(t, run.nodeFailed(30*time.Second), c.said, c.cause, "fix=", c.fix)
		})
	}
}
