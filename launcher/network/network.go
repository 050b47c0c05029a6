// Package network looks at the container's network as node uses it, now:
// a name resolved as the C library resolves it (the container's
// /etc/hosts, then the DNS servers of its /etc/resolv.conf), and a TCP
// connection tried to an address. The launcher asks it after node failed
// to reach something (`getaddrinfo EAI_AGAIN`, `connect ECONNREFUSED`), to
// tell a name or an address that does not work from one that did not work
// for a while: a DNS server not up yet at the machine's start, Home
// Assistant restarting.
//
// Every look is bounded by Patience, and ends sooner when its context
// does: the launcher makes it on its way to a restart, and calls it off
// when it is asked to stop meanwhile.
//
// Non-goals: nsswitch.conf beyond files and DNS (mDNS, LDAP), DNS record
// types other than A and AAAA, UDP, and proxies.
package network

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Patience bounds each look: a name's lookup through all the DNS servers,
// a connection's attempt.
const Patience = 2 * time.Second

// Outcome is what became of a name's lookup.
type Outcome int

const (
	// Resolved: the name has addresses.
	Resolved Outcome = iota
	// NotFound: a DNS server said the name does not exist, or has no
	// address.
	NotFound
	// Silent: no DNS server answered within Patience.
	Silent
	// Failed: a DNS server answered with a failure (SERVFAIL), or could
	// not be asked (no route, refused); Answer.Err says which.
	Failed
	// CalledOff: the look's context ended before a DNS server answered:
	// nothing is known of the name now.
	CalledOff
)

// Answer is how a name resolves now.
type Answer struct {
	Name    string
	Outcome Outcome
	Addrs   []netip.Addr // its addresses, Resolved
	InHosts bool         // Resolved by the hosts file, no DNS server asked
	// Servers are the DNS servers the resolver configuration names;
	// none, and the C library asks 127.0.0.1.
	Servers []string
	// By is the server that answered (Resolved, NotFound), or the last one
	// asked (Silent, Failed).
	By  string
	Err string // Failed: the server's failure, as Go's resolver says it
}

// Resolver resolves names as the container's C library does. The zero
// Resolver reads the system's files and asks the DNS servers on port 53.
type Resolver struct {
	Hosts      string // the hosts file: /etc/hosts
	ResolvConf string // the resolver configuration: /etc/resolv.conf
	Port       int    // the DNS servers' port: 53
}

func (r Resolver) files() (hosts, resolvConf string, port int) {
	hosts, resolvConf, port = r.Hosts, r.ResolvConf, r.Port
	if hosts == "" {
		hosts = "/etc/hosts"
	}
	if resolvConf == "" {
		resolvConf = "/etc/resolv.conf"
	}
	if port == 0 {
		port = 53
	}
	return hosts, resolvConf, port
}

// Resolve looks name up now: in the hosts file, else from each DNS server
// in turn until one gives an answer, all within Patience; CalledOff when
// ctx ends first.
func (r Resolver) Resolve(ctx context.Context, name string) Answer {
	hostsFile, resolvConf, port := r.files()
	a := Answer{Name: name}
	if b, err := os.ReadFile(hostsFile); err == nil {
		if addrs := ParseHosts(b)[strings.ToLower(name)]; len(addrs) > 0 {
			a.Outcome, a.Addrs, a.InHosts = Resolved, addrs, true
			return a
		}
	}
	if b, err := os.ReadFile(resolvConf); err == nil {
		a.Servers = ParseResolvConf(b)
	}
	servers := a.Servers
	if len(servers) == 0 {
		servers = []string{"127.0.0.1"}
	}
	look, cancel := context.WithTimeout(ctx, Patience)
	defer cancel()
	a.Outcome = Silent
	for _, s := range servers {
		a.By = s
		outcome, addrs, why := ask(look, net.JoinHostPort(s, strconv.Itoa(port)), name)
		switch outcome {
		case Resolved, NotFound:
			a.Outcome, a.Addrs, a.Err = outcome, addrs, ""
			return a
		case Failed:
			// Another server may still answer; a silent one after a
			// failing one leaves the failure said.
			a.Outcome, a.Err = Failed, why
		}
		if look.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		a.Outcome, a.Err = CalledOff, ""
	}
	return a
}

// ask asks one DNS server for name's addresses: Go's own resolver, whose
// dial goes to that server whatever the system's configuration names, so
// that each server's answer is its own.
func ask(ctx context.Context, server, name string) (Outcome, []netip.Addr, string) {
	var d net.Dialer
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, server)
	}}
	addrs, err := res.LookupNetIP(ctx, "ip", name)
	if err == nil {
		for i, a := range addrs {
			addrs[i] = a.Unmap()
		}
		return Resolved, addrs, ""
	}
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return NotFound, nil, ""
	case errors.As(err, &de) && de.IsTimeout, ctx.Err() != nil:
		return Silent, nil, ""
	case errors.As(err, &de):
		return Failed, nil, de.Err
	}
	return Failed, nil, err.Error()
}

// ParseHosts reads a hosts file: each name, lower-cased, to its addresses
// in the file's order. Lines that are not an address and names are
// skipped, as the C library skips them.
func ParseHosts(b []byte) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, name := range f[1:] {
			name = strings.ToLower(name)
			out[name] = append(out[name], addr.Unmap())
		}
	}
	return out
}

// ParseResolvConf reads the DNS servers a resolver configuration names
// (its nameserver lines), in order. A server that is not an address is
// skipped, as the C library skips it.
func ParseResolvConf(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		// An IPv6 server may carry its zone (fe80::1%eth0).
		if a, err := netip.ParseAddr(f[1]); err == nil {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// Connect tries a TCP connection to addr now, within Patience, and closes
// it: nil when addr accepts connections; an error that is
// context.Canceled when ctx was cancelled first.
func Connect(ctx context.Context, addr netip.AddrPort) error {
	d := net.Dialer{Timeout: Patience}
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	return c.Close()
}
