package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A start that is never ready says why, in the restart's line and a
// diagnosis with its fix: what the probe got, and where node listens
// instead (real node, its sockets as the kernel lists them).
func TestRun_SaysWhyNodeIsNotReady(t *testing.T) {
	other := freePort(t)
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"on another port", []string{fmt.Sprintf("PORT=%d", other)}, []string{
			"connection refused",
			fmt.Sprintf("node listens on 127.0.0.1:%d, not on port APP that LAUNCHER_READY_URL probes", other),
			"Set LAUNCHER_READY_URL to the app's health route on the port it listens on",
		}},
		{"on another address", []string{"HOST=::1"}, []string{
			"connection refused",
			"node listens on [::1]:APP, not on 127.0.0.1 that LAUNCHER_READY_URL probes",
			"listen on 0.0.0.0 or ::",
		}},
		{"without the route", []string{"ROUTE=/healthz"}, []string{
			"answered 404 Not Found",
			"the app answers on 127.0.0.1:APP but not at /api/health (404 Not Found)",
			"Set LAUNCHER_READY_URL to a route the app answers with 2xx",
		}},
		{"on no port yet", []string{"READY_AFTER_MS=60000"}, []string{
			"connection refused",
			"node listens on no TCP port: the app had not called listen() within 300ms",
			"raise LAUNCHER_READY_TIMEOUT",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := runNode(t, "server.js", append(tc.env, "LAUNCHER_READY_TIMEOUT=300ms", "LAUNCHER_RESTART_LIMIT=0")...)
			if code := b.wait(20 * time.Second); code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, b.stdout)
			}
			out := b.stdout.String()
			if !strings.Contains(out, "restarting node: not ready within 300ms (LAUNCHER_READY_TIMEOUT): ") {
				t.Errorf("no readiness restart with its why:\n%s", out)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "APP", fmt.Sprint(b.app))
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// The why of a start not ready is the last exit's in /status and
// `launcher status` too, while the restart delay runs: the reference
// backend exits 0 on the restart's SIGTERM, so nothing of its last words
// tells it.
func TestStatus_TellsWhyTheStartWasNotReady(t *testing.T) {
	other := freePort(t)
	b := runNode(t, "server.js", fmt.Sprintf("PORT=%d", other), "LAUNCHER_READY_TIMEOUT=300ms", "LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h")
	b.waitFor("restarting node in 1h")
	cause := fmt.Sprintf("node listens on 127.0.0.1:%d, not on port %d that LAUNCHER_READY_URL probes", other, b.app)
	_, body := b.get("/status")
	var st struct {
		Child struct {
			LastExit struct {
				Reason    string                        `json:"reason"`
				Diagnoses []struct{ Cause, Fix string } `json:"diagnoses"`
			} `json:"last_exit"`
		} `json:"child"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Child.LastExit.Reason != "readiness" || len(st.Child.LastExit.Diagnoses) != 1 ||
		!strings.HasPrefix(st.Child.LastExit.Diagnoses[0].Cause, cause) || !strings.Contains(st.Child.LastExit.Diagnoses[0].Fix, "Set LAUNCHER_READY_URL") {
		t.Errorf("/status child.last_exit: %+v (%v), want the reason readiness and the diagnosis %q\n%s", st.Child.LastExit, err, cause, body)
	}
	if code, out := b.subcommand("status"); code != 0 || !strings.Contains(out, "  why: "+cause) {
		t.Errorf("launcher status: exit %d\n%s", code, out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)
}

// A start that listens elsewhere than the probe knocks is told five
// seconds in, with its fix, not when LAUNCHER_READY_TIMEOUT (a minute)
// restarts it: no wait mends a wrong port. One that listens nowhere yet
// may still be starting: it is not warned of (the debug line shows the
// look), and looked at again at ten seconds.
func TestRun_TellsAWrongPortBeforeTheTimeout(t *testing.T) {
	other := freePort(t)
	wrong := fmt.Sprintf("node listens on 127.0.0.1:%d, not on port APP that LAUNCHER_READY_URL probes; restarted at 1m (LAUNCHER_READY_TIMEOUT) unless ready by then", other)
	for _, tc := range []struct {
		name  string
		env   []string
		looks []string // in the order logged
	}{
		{"on another port", []string{fmt.Sprintf("PORT=%d", other)}, []string{"not ready after 5s: " + wrong}},
		{"on another port, from six seconds in", []string{fmt.Sprintf("PORT=%d", other), "READY_AFTER_MS=6000"}, []string{
			"not ready after 5s: node listens on no TCP port yet",
			"not ready after 10s: " + wrong,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := runNode(t, "server.js", tc.env...)
			for _, look := range tc.looks {
				b.waitFor(strings.ReplaceAll(look, "APP", fmt.Sprint(b.app)))
			}
			b.signal(syscall.SIGTERM)
			if code := b.wait(10 * time.Second); code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, b.stdout)
			}
			out := b.stdout.String()
			if strings.Contains(out, "restarting node") {
				t.Errorf("restarted before LAUNCHER_READY_TIMEOUT:\n%s", out)
			}
			if n := strings.Count(out, "Set LAUNCHER_READY_URL to the app's health route on the port it listens on"); n != 1 {
				t.Errorf("the fix told %d times, want once:\n%s", n, out)
			}
		})
	}
}

// node listening on loopback alone, in a container (the launcher PID 1),
// is told once ready: nothing outside reaches it. Listening on every
// address, outside a container, or without a ready URL (no server for
// others, as far as the launcher knows) says nothing.
func TestRun_WarnsWhenOnlyLoopbackListens(t *testing.T) {
	const warning = "node listens only on loopback (127.0.0.1:"
	for _, tc := range []struct {
		name string
		o    launchOpts
		host string
		want bool
	}{
		{"PID 1, loopback", launchOpts{namespace: true}, "127.0.0.1", true},
		{"PID 1, every address", launchOpts{namespace: true}, "0.0.0.0", false},
		{"not a container, loopback", launchOpts{}, "127.0.0.1", false},
		{"PID 1, loopback, no ready URL", launchOpts{namespace: true, env: []string{"LAUNCHER_READY_URL=", "LAUNCHER_SAMPLE_INTERVAL=500ms"}}, "127.0.0.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := runNodeAs(t, tc.o, "server.js", "HOST="+tc.host)
			// The first sample, which says node's memory, is taken once the
			// start has settled, after the look at where node listens.
			b.waitFor("node uses")
			b.signal(syscall.SIGTERM)
			if code := b.wait(10 * time.Second); code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, b.stdout)
			}
			out := b.stdout.String()
			if got := strings.Contains(out, warning); got != tc.want {
				t.Errorf("warned %v, want %v:\n%s", got, tc.want, out)
			}
			if tc.want && !strings.Contains(out, "Home Assistant's ingress") {
				t.Errorf("the warning does not say who cannot reach node:\n%s", out)
			}
		})
	}
}

// node refused the address it would listen on, for real: as LAUNCHER_USER
// on a port below the kernel's floor for users (1024 here; a Home
// Assistant host's too, which a host_network add-on listens on), and on an
// address that is not this machine's. node says EACCES or EADDRNOTAVAIL and
// the address; the log now says why, and the fix.
func TestRun_DiagnosesAListenRefused(t *testing.T) {
	floor, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil || strings.TrimSpace(string(floor)) != "1024" {
		t.Skipf("ports below 1024 are not root's here (net.ipv4.ip_unprivileged_port_start %q, %v)", floor, err)
	}
	for _, c := range []struct {
		name, addr string
		port       int
		user       bool
		said, want string
	}{
		{"a port below 1024 to node's user", "0.0.0.0", 80, true,
			"listen EACCES: permission denied 0.0.0.0:80",
			"node: its user, nobody (uid 65534), may not listen on port 80: ports below 1024 are root's on this network (net.ipv4.ip_unprivileged_port_start)"},
		{"an address not this machine's", "192.0.2.1", 8099, false,
			"listen EADDRNOTAVAIL: address not available 192.0.2.1:8099",
			"node: it may not listen on 192.0.2.1: no network interface here has that address (127.0.0.1,"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := []string{never}
			if c.user {
				env = append(env, "LAUNCHER_USER=65534")
			}
			script := fmt.Sprintf("require('net').createServer().listen(%d, %q)", c.port, c.addr)
			l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", script}, env: env})
			if code := l.wait(30 * time.Second); code != 1 {
				t.Fatalf("exit %d, want node's 1\n%s", code, l.stdout)
			}
			out := l.stdout.String()
			if !strings.Contains(out, c.said) {
				t.Fatalf("node did not say %q:\n%s", c.said, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("log lacks %q:\n%s", c.want, out)
			}
		})
	}
}

// A port below the floor, as node's user, with node's file given
// cap_net_bind_service (the usual way to let a user other than root listen
// on port 80): node listens, unless it does not hold the capability.
// Without new privileges (Docker's --security-opt no-new-privileges) no
// file capability is granted; without the effective bit (setcap …+p) node
// holds it unused. The log says which, where it said only that the port is
// root's and to run node as root; and to a node without the capability it
// offers setcap.
func TestRun_DiagnosesAListenRefusedDespiteTheCapability(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("file capabilities and another user need root")
	}
	floor, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil || strings.TrimSpace(string(floor)) != "1024" {
		t.Skipf("ports below 1024 are not root's here (net.ipv4.ip_unprivileged_port_start %q, %v)", floor, err)
	}
	base, _ := addonData(t)
	bind := cappedNode(t, base, "node-bind", unix.CAP_NET_BIND_SERVICE)
	unused := cappedNode(t, base, "node-bind-unused", unix.CAP_NET_BIND_SERVICE)
	setcap(t, unused, unix.CAP_NET_BIND_SERVICE, false)
	plain, err := exec.LookPath("node")
	must(t, err)
	const port = 1001
	script := fmt.Sprintf("require('net').createServer().listen(%d, '127.0.0.1', function () { console.log('listening'); this.close() })", port)
	// The premise: so started, as nobody, node listens there.
	if out, err := asNobody(false, nil, bind, "-e", script); err != nil || out != "listening\n" {
		t.Fatalf("%s as nobody on port %d: %v: %q", bind, port, err, out)
	}
	for _, c := range []struct {
		name, node string
		under      []string
		cause, fix string
	}{
		{"without new privileges", bind, []string{"setpriv", "--no-new-privs"},
			"node's file has cap_net_bind_service, which would let it, but the launcher runs without new privileges",
			"without no-new-privileges"},
		{"without the effective bit", unused, nil,
			"node's file has cap_net_bind_service, which would let it, but without the effective bit, so node holds it unused",
			"setcap cap_net_bind_service=+ep"},
		{"no capability on node's file", plain, nil,
			"its user, nobody (uid 65534), may not listen on port 1001: ports below 1024 are root's on this network",
			"setcap cap_net_bind_service=+ep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{args: []string{"run", "--", c.node, "-e", script}, env: []string{never, "LAUNCHER_USER=65534"}, under: c.under})
			if code := l.wait(30 * time.Second); code != 1 {
				t.Fatalf("exit %d, want node's 1\n%s", code, l.stdout)
			}
			out := l.stdout.String()
			if !strings.Contains(out, fmt.Sprintf("listen EACCES: permission denied 127.0.0.1:%d", port)) {
				t.Fatalf("node did not say EACCES:\n%s", out)
			}
			logHas(t, out, c.cause, c.fix)
		})
	}
}
