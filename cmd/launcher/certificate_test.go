package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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

// node in secure-execution mode ignores NODE_EXTRA_CA_CERTS: the add-on
// gave node its authority's certificate, and node refuses the server
// anyway. Here node's file has cap_net_raw (as Bluetooth libraries ask)
// and node runs as nobody. The log says that node ignored the variable and
// why, where it said to set the variable that was set.
func TestRun_TellsARefusedCertificateNodeIgnoresTheAuthorityOf(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("file capabilities and another user need root")
	}
	base, _ := addonData(t)
	raw := cappedNode(t, base, "node-raw", unix.CAP_NET_RAW)
	plain, err := exec.LookPath("node")
	must(t, err)
	ca := nettest.NewAuthority(t)
	pem, err := os.ReadFile(ca.File)
	must(t, err)
	caFile := filepath.Join(base, "ca.pem") // nobody reads it
	must(t, os.WriteFile(caFile, pem, 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	nettest.ServeTLS(t, l, ca.Issue(t, "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	url := "https://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/api/"
	script := "fetch('" + url + "').then(r => console.log('answered', r.status))"
	// The premise: node without the capability, as nobody, trusts the
	// authority, and node with it does not.
	said := "require('tls').connect({ host: 'localhost', port: " + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + " }, () => { console.log('trusted'); process.exit() })" +
		".on('error', e => console.log(e.code))"
	for node, want := range map[string]string{plain: "trusted\n", raw: "UNABLE_TO_VERIFY_LEAF_SIGNATURE\n"} {
		if out, err := asNobody(false, []string{"NODE_EXTRA_CA_CERTS=" + caFile}, node, "-e", said); err != nil || out != want {
			t.Fatalf("%s as nobody with NODE_EXTRA_CA_CERTS: %v: %q, want %q", node, err, out, want)
		}
	}
	run := launch(t, launchOpts{args: []string{"run", "--", raw, "-e", script},
		env: []string{never, "LAUNCHER_USER=nobody", "NODE_EXTRA_CA_CERTS=" + caFile}})
	logHas(t, run.nodeFailed(30*time.Second),
		"node-raw: it refused a TLS certificate it cannot verify: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE), though NODE_EXTRA_CA_CERTS names "+caFile+
			": node ignores it, as it runs in secure-execution mode (its file has capabilities (cap_net_raw) that raise uid 65534)",
		"fix=", "their ca option")
}
