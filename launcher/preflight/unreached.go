package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/hasync/launcher/launcher/network"
)

// node could not reach something on the network: a name it could not
// resolve (getaddrinfo ENOTFOUND, EAI_AGAIN), an address that refused or
// did not answer its connection. Node's words alone cannot tell a wrong
// name or port from one that was down for a while, at the machine's start
// most often (Home Assistant starts add-ons before its DNS and network are
// up) or while Home Assistant restarts; the launcher asks again now.

// supervisorName tells the names the Supervisor gives itself in the
// /etc/hosts of each add-on's container. Home Assistant's, homeassistant,
// its DNS plugin answers.
func supervisorName(name string) bool {
	switch strings.ToLower(name) {
	case "supervisor", "hassio":
		return true
	}
	return false
}

// passingHint is what to do about a name or an address that works again.
const passingHint = "The restart reaches it. An app that retries its first connections for a while rides out a machine's start, " +
	"where Home Assistant starts add-ons before its network and DNS are up, and a restart of what it connects to."

// unresolved explains node's "getaddrinfo <code> <name>" (dns.lookup, the
// C library's resolver, which http, net and fetch use), or its
// "query<type> <code> <name>" (dns.resolve, c-ares, which asks the DNS
// servers alone, never /etc/hosts).
func (on Machine) unresolved(call, code, name string) Diagnosis {
	said := map[string]string{
		"ENOTFOUND": "it does not exist",
		"EAI_AGAIN": "the DNS server did not answer",
		"EAI_FAIL":  "the DNS server failed",
		"ETIMEOUT":  "the DNS server did not answer",
		"ESERVFAIL": "the DNS server failed",
	}[code]
	if said == "" {
		said = code
	} else {
		said = code + ": " + said
	}
	d := Diagnosis{
		Cause: fmt.Sprintf("it could not resolve the name %s (%s)", name, said),
		Hint:  "Check the name where the app takes it (its options); if it is right, the container's DNS server did not know it or did not answer.",
		// By node's words alone: a DNS server that did not answer or
		// failed may answer later; one that said the name does not exist
		// will not.
		Unreached: code != "ENOTFOUND",
	}
	if on.Resolve == nil {
		return d
	}
	a := on.Resolve(name)
	if a.Outcome == network.CalledOff {
		return d // the launcher is stopping: nothing is known now
	}
	// Asked again now: a name that resolves now, or a DNS server that
	// still does not answer, is the network's passing state; anything
	// else below is a setting of the app's or of how it is run.
	d.Unreached = a.Outcome == network.Resolved || a.Outcome == network.Silent || a.Outcome == network.Failed
	servers := "the DNS server " + strings.Join(a.Servers, ", ") + " (/etc/resolv.conf)"
	if len(a.Servers) > 1 {
		servers = "the DNS servers " + strings.Join(a.Servers, ", ") + " (/etc/resolv.conf)"
	} else if len(a.Servers) == 0 {
		servers = "127.0.0.1, which the C library asks when /etc/resolv.conf names no DNS server,"
	}
	switch {
	case a.Outcome == network.Resolved && a.InHosts && call != "getaddrinfo":
		d.Cause += fmt.Sprintf(", which /etc/hosts names (%s): node's dns.resolve asks the DNS servers alone, and they do not know it", addrList(a.Addrs))
		d.Hint = "Resolve it as http, net and fetch do, with dns.lookup (the C library's resolver, which reads /etc/hosts), or let them resolve it."
		d.Unreached = false // the app's way of asking, which fails every time
	case a.Outcome == network.Resolved && a.InHosts:
		d.Cause += fmt.Sprintf(", which /etc/hosts names now (%s)", addrList(a.Addrs))
		d.Hint = "The container's /etc/hosts changed after node failed: " + passingHint
	case a.Outcome == network.Resolved:
		d.Cause += fmt.Sprintf(", which resolves now (to %s, by %s): the name was not resolvable for a while", addrList(a.Addrs), a.By)
		d.Hint = passingHint
	case supervisorName(name):
		d.Unreached = false // whatever the DNS server says: no wait writes the line
		d.Cause += fmt.Sprintf(": the Supervisor writes %s into the /etc/hosts of each add-on it starts, and this container's has no such line: Home Assistant's Supervisor did not start it", name)
		d.Hint = "The Supervisor's API (http://supervisor/…, with SUPERVISOR_TOKEN) is there only for an add-on installed in Home Assistant. " +
			"To run the image by hand (docker run), give it a stand-in: --add-host supervisor:<address>, or have the app take the API's URL from an option."
	case strings.EqualFold(name, "homeassistant") && a.Outcome == network.NotFound:
		d.Cause += fmt.Sprintf(": %s does not know it (asked again now); the Supervisor's DNS plugin answers it on the network of the add-ons it starts, and this container is not on it", servers)
		d.Hint = "Run the app as an add-on installed in Home Assistant, or give it Home Assistant's address (--add-host homeassistant:<address> under docker run). " +
			"An add-on on the host's network (host_network) reaches Home Assistant through the Supervisor (http://supervisor/core/api, with SUPERVISOR_TOKEN)."
	case a.Outcome == network.NotFound:
		d.Cause += fmt.Sprintf(": %s says it does not exist (asked again now)", servers)
		d.Hint = "Check the name where the app takes it (its options): a typing error, or a name only another network knows (a device's .local name is resolved by mDNS, not by DNS)."
	case a.Outcome == network.Silent:
		d.Cause += fmt.Sprintf(": %s does not answer (asked again now, for %s)", servers, network.Patience)
		d.Hint = dnsHint
	case a.Outcome == network.Failed:
		d.Cause += fmt.Sprintf(": %s fails to answer (asked again now: %s)", servers, a.Err)
		d.Hint = dnsHint
	}
	return d
}

// dnsHint is what to do about an add-on's DNS server that does not answer.
const dnsHint = "An add-on's DNS server is the Supervisor's DNS plugin, which asks the DNS servers of the host's network: " +
	"check the machine's network and its DNS server (Settings > System > Network), and the plugin's log (`ha dns logs`); `ha dns restart` starts it again. " +
	"Under docker run, the container's network is Docker's (--dns, --network)."

// unreached explains node's "connect <code> <address>:<port>", and
// fetch's connect timeout, whose address may be a name.
func (on Machine) unreached(code, addr, port string) Diagnosis {
	said := map[string]string{
		"ECONNREFUSED":            "nothing listened there",
		"ETIMEDOUT":               "no answer",
		"EHOSTUNREACH":            "no route to the host",
		"ENETUNREACH":             "no route to its network",
		"UND_ERR_CONNECT_TIMEOUT": "no answer within fetch's connect timeout",
	}[code]
	addr = strings.Trim(addr, "[]")
	hostPort := addr + ":" + port
	a := parseAddr(addr)
	if a.IsValid() && a.Is6() && !a.Is4In6() {
		hostPort = "[" + addr + "]:" + port
	}
	if !a.IsValid() && on.Resolve != nil {
		// A name (fetch's words): the connection now goes where it
		// resolves now.
		if r := on.Resolve(addr); r.Outcome == network.Resolved && len(r.Addrs) > 0 {
			a = r.Addrs[0]
		}
	}
	d := Diagnosis{
		Cause: fmt.Sprintf("it could not connect to %s (%s: %s)", hostPort, code, said),
		Hint:  "Check the address and port the app is given (its options); if they are right, what listens there was stopped or restarting.",
		// Whether it refuses, does not answer or has no route now, what
		// listens there may be starting again; but loopback is this
		// container itself (below).
		Unreached: true,
	}
	if port == "8123" {
		d.Hint = "Port 8123 is Home Assistant's: it was stopped or restarting, or the address is not Home Assistant's (reach it as homeassistant:8123, or through the Supervisor at http://supervisor/core/api)."
	}
	if p, err := strconv.ParseUint(port, 10, 16); err == nil && a.IsValid() && on.Connect != nil {
		switch err := on.Connect(netip.AddrPortFrom(a, uint16(p))); {
		case errors.Is(err, context.Canceled):
			// The launcher is stopping: nothing is known now.
		case err == nil:
			d.Cause += ", and it accepts connections now: it was down for a while"
			d.Hint = passingHint
			return d
		case errors.Is(err, syscall.ECONNREFUSED):
			d.Cause += "; it refuses connections now too"
		case isTimeout(err):
			d.Cause += fmt.Sprintf("; it does not answer now either (tried for %s): the machine is off or gone, or a firewall drops the connection", network.Patience)
		case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
			d.Cause += "; it is unreachable now too (no route): no network of this container's leads there"
		default:
			d.Cause += fmt.Sprintf("; now: %v", err)
		}
	}
	if a.IsLoopback() {
		d.Unreached = false
		named := addr + " (localhost)"
		if a.String() != addr {
			named = addr + " (" + a.String() + ")" // a name fetch gave
		}
		d.Cause += fmt.Sprintf("; %s is this container itself, not the machine Home Assistant runs on", named)
		d.Hint = "Reach another add-on by its host name (the Mosquitto broker is core-mosquitto:1883; an add-on's page names its host name), " +
			"Home Assistant as homeassistant:8123 or through the Supervisor (http://supervisor/core/api, with SUPERVISOR_TOKEN). " +
			"Only an add-on on the host's network (host_network) shares the host's localhost."
	}
	return d
}

// isTimeout tells an error that is a timeout, as net's errors say so.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// addrList writes addresses for a person: 172.30.32.1, 2001:db8::1.
func addrList(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
