package preflight

import (
	"fmt"
	"strings"
	"time"
)

// node refused a server's TLS certificate: one for another name (Home
// Assistant with its own DuckDNS or Let's Encrypt certificate, reached as
// homeassistant:8123), its own (self-signed) or from an authority node
// does not know, or one outside its dates, by a clock that may be wrong
// (a Raspberry Pi before the 5 keeps no time while off, and sets it from
// the network once up). node's words name the code; the clock is the
// launcher's to read.

// supervisorProxyHint is how an add-on reaches Home Assistant whatever
// certificate Home Assistant has.
const supervisorProxyHint = "An add-on reaches Home Assistant through the Supervisor, without TLS and whatever certificate Home Assistant has: " +
	"http://supervisor/core/api and ws://supervisor/core/websocket, with SUPERVISOR_TOKEN (config.yaml: homeassistant_api: true)."

// certificateName explains node's ERR_TLS_CERT_ALTNAME_INVALID: what
// ("Host", "IP") node connected to, and the names the certificate is for.
func certificateName(what, host, names string) Diagnosis {
	that := "name"
	if what == "IP" {
		that = "address"
	}
	is := "is for " + strings.TrimSpace(names) + ", not for that " + that
	if strings.TrimSpace(names) == "" {
		is = "is for no " + that // node lists none of that kind
	}
	return Diagnosis{
		Cause: fmt.Sprintf("it refused the TLS certificate of %s: the certificate %s (ERR_TLS_CERT_ALTNAME_INVALID)", host, is),
		Hint:  "Connect by a name the certificate is for. " + supervisorProxyHint,
	}
}

// unverified are OpenSSL's words for the codes of a certificate node
// cannot trust, as node says them.
var unverified = map[string]string{
	"DEPTH_ZERO_SELF_SIGNED_CERT":       "self-signed certificate",
	"SELF_SIGNED_CERT_IN_CHAIN":         "self-signed certificate in certificate chain",
	"UNABLE_TO_VERIFY_LEAF_SIGNATURE":   "unable to verify the first certificate",
	"UNABLE_TO_GET_ISSUER_CERT_LOCALLY": "unable to get local issuer certificate",
	"UNABLE_TO_GET_ISSUER_CERT":         "unable to get issuer certificate",
}

// certificateUnverified explains node's refusal of a certificate it cannot
// trust, by its code: an authority node ignored first, when node ran in
// secure-execution mode with NODE_EXTRA_CA_CERTS set.
func (on Machine) certificateUnverified(code string) Diagnosis {
	d := Diagnosis{
		Cause: fmt.Sprintf("it refused a TLS certificate it cannot verify: %s (%s)", unverified[code], code),
		Hint: "The server's certificate is its own (self-signed, as a device's or Home Assistant's own may be) or from an authority node does not know: " +
			"give node that authority's certificate (NODE_EXTRA_CA_CERTS=/data/ca.pem), or, for Home Assistant, do without TLS: " + supervisorProxyHint +
			" Never NODE_TLS_REJECT_UNAUTHORIZED=0: it takes anyone's certificate.",
	}
	if on.Secure.IgnoresOptions && on.ExtraCACerts != "" {
		d.Cause += fmt.Sprintf(", though NODE_EXTRA_CA_CERTS names %s: node ignores it, as it runs in secure-execution mode (%s)", on.ExtraCACerts, on.Secure.Why)
		d.Hint = "node reads no NODE_EXTRA_CA_CERTS in secure-execution mode: have the app give its TLS connections the authority itself (their ca option), " +
			"or let node start outside that mode: as root (LAUNCHER_USER unset), or without capabilities on its file (`setcap -r`). For Home Assistant, do without TLS: " + supervisorProxyHint
		return d
	}
	if code == "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" {
		d.Hint = "A node built to use the system's certificate authorities (Debian's or Alpine's own nodejs package) finds none without them: " +
			"install ca-certificates in the runtime stage (`RUN apk add --no-cache ca-certificates`, or apt-get's). " + d.Hint
	}
	return d
}

// certificateDates explains node's CERT_HAS_EXPIRED and CERT_NOT_YET_VALID
// by the container's clock, which it says; a clock before the launcher's
// own build is behind.
func (on Machine) certificateDates(code string) Diagnosis {
	what := map[string]string{"CERT_HAS_EXPIRED": "that has expired", "CERT_NOT_YET_VALID": "that is not valid yet"}[code]
	d := Diagnosis{
		Cause: fmt.Sprintf("it refused a TLS certificate %s (%s)", what, code),
		Hint:  "Check the machine's date and time; if they are right, the server's certificate is out of its dates, and its owner must renew it (a DuckDNS or Let's Encrypt add-on renews Home Assistant's while it runs).",
	}
	if on.Now == nil {
		return d
	}
	now := on.Now().UTC()
	var built time.Time
	if on.Built != nil {
		built = on.Built()
	}
	d.Cause += ", by the container's clock: " + now.Format("2006-01-02 15:04 MST")
	switch {
	case !built.IsZero() && now.Before(built):
		d.Cause += fmt.Sprintf(", before the launcher itself was built (%s): the clock is behind", built.UTC().Format("2006-01-02"))
		d.Hint = "A Raspberry Pi without a battery-backed clock (every one before the 5, a 5 without its battery) keeps no time while it is off: it sets the time from the network (NTP) once its network is up, and the restart after that succeeds. " +
			"A clock that stays behind is the host's: check its network and time server (`ha host info`, `ha network info`)."
	case code == "CERT_NOT_YET_VALID":
		d.Hint = "The clock is not behind the launcher's own build: the server's certificate starts later than now, or the server's clock was ahead when it was made; its owner must make it again."
	}
	return d
}
