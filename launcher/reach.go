package launcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hasync/launcher/launcher/listeners"
	"github.com/hasync/launcher/launcher/preflight"
)

// Where the child listens, told where it matters: why a start was not ready
// (the probe knocked where nothing listens, or on a route the app does not
// answer), and that an app on loopback alone cannot be reached from outside
// its container. A wrong port or address is the commonest way an add-on
// starts and yet shows nothing: Home Assistant's ingress proxy connects to
// the container's address on its ingress_port, and answers 502 Bad Gateway
// when nothing listens there.

// Listening is where the process pid and its descendants listen: node's
// server, or that of a command node runs under (`run -- npm start`). nil
// when the kernel's tables cannot be read.
func Listening(pid int) []netip.AddrPort {
	addrs, _, err := listeners.Of(append([]int{pid}, descendants(pid)...))
	if err != nil {
		return nil
	}
	return addrs
}

// probeTarget is where LAUNCHER_READY_URL knocks.
type probeTarget struct {
	host string // as the URL names it: "127.0.0.1", "localhost"
	port int
	path string
}

// targetOf is where readyURL, a URL config.Load accepted, knocks; port 80
// when it names none.
func targetOf(readyURL string) probeTarget {
	u, err := url.Parse(readyURL)
	if err != nil {
		return probeTarget{port: 80, path: "/"}
	}
	t := probeTarget{host: u.Hostname(), path: u.EscapedPath()}
	t.port, _ = strconv.Atoi(u.Port())
	if t.port == 0 {
		t.port = 80
	}
	if t.path == "" {
		t.path = "/"
	}
	return t
}

// at is the probe's host and port: "127.0.0.1:8099".
func (t probeTarget) at() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// reachedBy says whether a connection to t finds the listener a: on t's
// port, at t's address or every address (a wildcard of IPv6 takes IPv4's
// connections too, Linux's default). A host named, not numbered, is
// loopback for "localhost" and unknown otherwise (taken as reached).
func (t probeTarget) reachedBy(a netip.AddrPort) bool {
	if int(a.Port()) != t.port {
		return false
	}
	at := a.Addr().Unmap()
	if at.IsUnspecified() {
		return at.Is6() || !strings.Contains(t.host, ":")
	}
	if host, err := netip.ParseAddr(t.host); err == nil {
		return host.Unmap() == at
	}
	if t.host == "localhost" {
		return at.IsLoopback()
	}
	return true
}

// notReady says why a start was not ready within timeout: what the probe
// of t last got (f, nil before any probe ended), and, when nothing
// answered, where the child listens (looked at only then). ok is false
// when neither tells more than the probe's error.
func notReady(name string, t probeTarget, f *probeFailure, where func() []netip.AddrPort, timeout time.Duration) (d preflight.Diagnosis, ok bool) {
	switch {
	case f != nil && f.code >= 300 && f.code < 400:
		return preflight.Diagnosis{
			Cause: fmt.Sprintf("the app answers %s with a redirect (%s), which the probe does not follow", t.path, f.status),
			Hint:  "Set LAUNCHER_READY_URL to a route the app answers with 2xx once it is ready (its health route), not one that sends to a login or a page.",
		}, true
	case f != nil && f.code == 404:
		return preflight.Diagnosis{
			Cause: fmt.Sprintf("the app answers on %s but not at %s (%s)", t.at(), t.path, f.status),
			Hint:  "Set LAUNCHER_READY_URL to a route the app answers with 2xx once it is ready (its health route).",
		}, true
	case f != nil && f.code != 0:
		return preflight.Diagnosis{
			Cause: fmt.Sprintf("the app answers %s with %s: not ready, by its own word", t.path, f.status),
			Hint:  "The app's lines above say why; a route behind a login (401, 403) is no health route: set LAUNCHER_READY_URL to one that answers 2xx once the app is ready.",
		}, true
	case f != nil && errors.Is(f.err, context.DeadlineExceeded):
		return preflight.Diagnosis{
			Cause: fmt.Sprintf("the app took the probe's connection on %s but did not answer it within a second", t.at()),
			Hint:  "Work done at the start without a pause (a large synchronous read, a migration) holds node's event loop: do it after listen(), or raise LAUNCHER_READY_TIMEOUT.",
		}, true
	case f != nil && !errors.Is(f.err, syscall.ECONNREFUSED):
		return d, false
	}
	// Refused, or no probe ended: where the app listens says why.
	addrs := where()
	if len(addrs) == 0 {
		return preflight.Diagnosis{
			Cause: fmt.Sprintf("%s listens on no TCP port: the app had not called listen() within %s", name, HumanDuration(timeout)),
			Hint: "A start slower than that (a migration, a first download) needs a longer wait: raise LAUNCHER_READY_TIMEOUT. " +
				"An app that serves no HTTP is ready at its start with LAUNCHER_READY_URL= (empty), or says so with process.send('ready') and LAUNCHER_READY_IPC=true.",
		}, true
	}
	return listensElsewhere(name, t, addrs)
}

// listensElsewhere says that the child listens, but not where the probe
// knocks: on another port, or on the port at another address. ok is false
// when it listens nowhere, or where the probe reaches (it began to
// listen after the probe was refused).
func listensElsewhere(name string, t probeTarget, addrs []netip.AddrPort) (d preflight.Diagnosis, ok bool) {
	if len(addrs) == 0 || slices.ContainsFunc(addrs, t.reachedBy) {
		return d, false
	}
	for _, a := range addrs {
		if int(a.Port()) == t.port {
			return preflight.Diagnosis{
				Cause: fmt.Sprintf("%s listens on %s, not on %s that LAUNCHER_READY_URL probes", name, listeners.Ports(addrs), t.host),
				Hint:  "Have the app listen on 0.0.0.0 or :: (every address, as Home Assistant's ingress needs), or set LAUNCHER_READY_URL to an address it listens on.",
			}, true
		}
	}
	return preflight.Diagnosis{
		Cause: fmt.Sprintf("%s listens on %s, not on port %d that LAUNCHER_READY_URL probes", name, listeners.Ports(addrs), t.port),
		Hint: fmt.Sprintf("Set LAUNCHER_READY_URL to the app's health route on the port it listens on, and config.yaml's ingress_port (and ports) to that port; "+
			"or have the app listen on %d (many read it from a PORT variable).", t.port),
	}, true
}

// loopbackOnly says that the child listens on loopback addresses alone,
// which nothing outside its network namespace reaches. ok is false when it
// listens elsewhere too, or nowhere.
func loopbackOnly(name string, addrs []netip.AddrPort) (d preflight.Diagnosis, ok bool) {
	if !listeners.LoopbackOnly(addrs) {
		return d, false
	}
	return preflight.Diagnosis{
		Cause: fmt.Sprintf("%s listens only on loopback (%s): nothing outside this container reaches it, not Home Assistant's ingress (its page answers 502 Bad Gateway) nor the add-on's mapped ports", name, listeners.Ports(addrs)),
		Hint:  "Have the app listen on every address: 0.0.0.0, or :: for IPv6 too (`server.listen(port, '0.0.0.0')`, or its HOST variable); the launcher's probe of 127.0.0.1 reaches it either way.",
	}, true
}

// tellReach warns, at the first start that settles, when the child listens
// on loopback alone, the launcher is a container's entrypoint (PID 1) and
// the app is a server (LAUNCHER_READY_URL): there it is for others to
// reach. On a developer's machine, loopback is where a server belongs; a
// command without a ready URL may keep a port of its own on loopback.
func (s *Supervisor) tellReach(c *Child) {
	if s.reachDone || s.probe == nil || os.Getpid() != 1 {
		return
	}
	s.reachDone = true
	if d, ok := loopbackOnly(s.name, Listening(c.PID)); ok {
		s.log.Warn().Str("fix", d.Hint).Msg(d.Cause)
	}
}
