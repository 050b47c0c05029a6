package launcher

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each way a probe fails, with where the app listens, gets its cause; a
// failure that tells nothing more than its error gets none.
func TestNotReady(t *testing.T) {
	const url = "http://127.0.0.1:8099/api/health"
	refused := &probeFailure{url: url, err: fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED)}
	answered := func(code int, status string) *probeFailure {
		return &probeFailure{url: url, code: code, status: status}
	}
	at := func(s ...string) []netip.AddrPort {
		var out []netip.AddrPort
		for _, a := range s {
			out = append(out, netip.MustParseAddrPort(a))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		f     *probeFailure
		addrs []netip.AddrPort
		want  string // in the cause; "" for no diagnosis
	}{
		{"another port", refused, at("0.0.0.0:3000"), "node listens on 0.0.0.0:3000, not on port 8099 that LAUNCHER_READY_URL probes"},
		{"another address", refused, at("[::1]:8099", "0.0.0.0:9000"), "node listens on [::1]:8099, 0.0.0.0:9000, not on 127.0.0.1 that"},
		{"nowhere", refused, nil, "node listens on no TCP port: the app had not called listen() within 1m"},
		{"no probe ended yet", nil, nil, "node listens on no TCP port"},
		{"no route", answered(404, "404 Not Found"), at("0.0.0.0:8099"), "the app answers on 127.0.0.1:8099 but not at /api/health (404 Not Found)"},
		{"a redirect", answered(302, "302 Found"), at("0.0.0.0:8099"), "the app answers /api/health with a redirect (302 Found), which the probe does not follow"},
		{"not ready by its word", answered(503, "503 Service Unavailable"), at("0.0.0.0:8099"), "the app answers /api/health with 503 Service Unavailable: not ready, by its own word"},
		{"no answer in time", &probeFailure{url: url, err: context.DeadlineExceeded}, at("0.0.0.0:8099"), "took the probe's connection on 127.0.0.1:8099 but did not answer it within a second"},
		{"reset", &probeFailure{url: url, err: syscall.ECONNRESET}, at("0.0.0.0:8099"), ""},
		// It began to listen after the last probe was refused: where it
		// listens is no why.
		{"listening where probed, since", refused, at("0.0.0.0:8099"), ""},
		{"listening on IPv6's wildcard, since", refused, at("[::]:8099", "127.0.0.1:9229"), ""},
	} {
		looked := false
		d, ok := notReady("node", targetOf(url), tc.f, func() []netip.AddrPort { looked = true; return tc.addrs }, time.Minute)
		if answered := tc.f != nil && (tc.f.code != 0 || !errors.Is(tc.f.err, syscall.ECONNREFUSED)); looked && answered {
			t.Errorf("%s: looked at where node listens, which a probe that got %v does not need", tc.name, tc.f)
		}
		if ok != (tc.want != "") || !strings.Contains(d.Cause, tc.want) {
			t.Errorf("%s: %q (told %v), want %q", tc.name, d.Cause, ok, tc.want)
		}
		if ok && d.Hint == "" {
			t.Errorf("%s: no fix", tc.name)
		}
	}
	if d, ok := notReady("node", targetOf("http://localhost/"), refused, func() []netip.AddrPort { return at("0.0.0.0:8080") }, time.Minute); !ok || !strings.Contains(d.Cause, "not on port 80 ") {
		t.Errorf("a URL without a port: %q, want port 80", d.Cause)
	}
}

// Whether a connection to the probe's address finds a listener, as
// Linux's TCP would: the same port, at that address or a wildcard (IPv6's
// takes IPv4 too); a host named localhost is loopback.
func TestProbeTargetReachedBy(t *testing.T) {
	for _, tc := range []struct {
		url, addr string
		want      bool
	}{
		{"http://127.0.0.1:8099/", "127.0.0.1:8099", true},
		{"http://127.0.0.1:8099/", "0.0.0.0:8099", true},
		{"http://127.0.0.1:8099/", "[::]:8099", true},
		{"http://127.0.0.1:8099/", "[::ffff:127.0.0.1]:8099", true},
		{"http://127.0.0.1:8099/", "127.0.0.1:3000", false},
		{"http://127.0.0.1:8099/", "[::1]:8099", false},
		{"http://127.0.0.1:8099/", "172.30.33.2:8099", false},
		{"http://[::1]:8099/", "0.0.0.0:8099", false},
		{"http://[::1]:8099/", "[::]:8099", true},
		{"http://[::1]:8099/", "[::1]:8099", true},
		{"http://localhost:8099/", "[::1]:8099", true},
		{"http://localhost:8099/", "127.0.0.1:8099", true},
		{"http://localhost:8099/", "172.30.33.2:8099", false},
		{"http://backend:8099/", "172.30.33.2:8099", true},
		{"http://127.0.0.1/", "0.0.0.0:80", true},
	} {
		if got := targetOf(tc.url).reachedBy(netip.MustParseAddrPort(tc.addr)); got != tc.want {
			t.Errorf("%s reached by a listener on %s: %v, want %v", tc.url, tc.addr, got, tc.want)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	lo := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8099"), netip.MustParseAddrPort("[::1]:8099")}
	d, ok := loopbackOnly("node", lo)
	if !ok || !strings.Contains(d.Cause, "node listens only on loopback (127.0.0.1:8099, [::1]:8099)") {
		t.Errorf("loopback: %q, %v", d.Cause, ok)
	}
	for _, addrs := range [][]netip.AddrPort{nil, append(lo, netip.MustParseAddrPort("0.0.0.0:9000")), {netip.MustParseAddrPort("[::]:8099")}} {
		if d, ok := loopbackOnly("node", addrs); ok {
			t.Errorf("%v: told %q", addrs, d.Cause)
		}
	}
}
