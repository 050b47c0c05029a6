package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/network/nettest"
)

// node failing to reach the network, for real: node's own fetch,
// net.connect and dns.resolve, in a network namespace of the test's own
// whose only DNS server is the test's. A name its DNS server does not
// answer; one it answers only after node gave up (a DNS server not up yet
// at the machine's start); one misspelt; the Supervisor's name outside
// Home Assistant; a name of /etc/hosts asked of the DNS server alone
// (dns.resolve); an MQTT broker looked for on localhost; Home Assistant's
// port with Home Assistant stopped; an address no route leads to. node
// says `getaddrinfo EAI_AGAIN` or `connect ECONNREFUSED` and no more; the
// launcher asks again now and says which it is, and the fix. (A port that
// accepts connections again by the time the launcher asks, Home Assistant
// restarting, is the preflight package's TestDiagnose_Unreached: here
// nothing could open it between node's exit and the launcher's look
// without a race.)
func TestRun_TellsWhyNodeCouldNotReach(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n172.30.33.9 hasync-db\n")
	ns.Run(t, "ip", "addr", "add", "172.30.32.1/32", "dev", "lo")
	ns.Run(t, "ip", "route", "add", "unreachable", "192.0.2.9/32")
	ns.DNS.Mute("down.example.com")
	ns.DNS.Set("boot.example.com", "127.0.0.7")
	ns.DNS.Late("boot.example.com")
	fetch := func(url string) string {
		return "fetch('" + url + "').then(r => console.log('answered', r.status))"
	}
	const connect = "require('net').connect(1883, '127.0.0.1').on('connect', () => console.log('connected'))"

	for _, c := range []struct {
		name, script, said, cause, fix string
	}{
		{"a DNS server that does not answer", fetch("http://down.example.com/"), "getaddrinfo EAI_AGAIN down.example.com",
			"node: it could not resolve the name down.example.com (EAI_AGAIN: the DNS server did not answer): the DNS server 127.0.0.2 (/etc/resolv.conf) does not answer (asked again now, for 2s)",
			"ha dns logs"},
		{"a DNS server not up yet", fetch("http://boot.example.com/"), "getaddrinfo EAI_AGAIN boot.example.com",
			"node: it could not resolve the name boot.example.com (EAI_AGAIN: the DNS server did not answer), which resolves now (to 127.0.0.7, by 127.0.0.2): the name was not resolvable for a while",
			"The restart reaches it"},
		{"a misspelt name", fetch("http://api.exmaple.com/"), "getaddrinfo ENOTFOUND api.exmaple.com",
			"node: it could not resolve the name api.exmaple.com (ENOTFOUND: it does not exist): the DNS server 127.0.0.2 (/etc/resolv.conf) says it does not exist (asked again now)",
			"a typing error"},
		{"the Supervisor outside Home Assistant", fetch("http://supervisor/core/api"), "getaddrinfo ENOTFOUND supervisor",
			"node: it could not resolve the name supervisor (ENOTFOUND: it does not exist): the Supervisor writes supervisor into the /etc/hosts of each add-on it starts, and this container's has no such line",
			"--add-host supervisor:<address>"},
		{"dns.resolve of a name /etc/hosts has", "require('dns').promises.resolve4('hasync-db')", "queryA ENOTFOUND hasync-db",
			"node: it could not resolve the name hasync-db (ENOTFOUND: it does not exist), which /etc/hosts names (172.30.33.9): node's dns.resolve asks the DNS servers alone, and they do not know it",
			"with dns.lookup"},
		{"an MQTT broker on localhost", connect, "connect ECONNREFUSED 127.0.0.1:1883",
			"node: it could not connect to 127.0.0.1:1883 (ECONNREFUSED: nothing listened there); it refuses connections now too; 127.0.0.1 (localhost) is this container itself, not the machine Home Assistant runs on",
			"core-mosquitto:1883"},
		{"Home Assistant stopped", fetch("http://172.30.32.1:8123/api/"), "connect ECONNREFUSED 172.30.32.1:8123",
			"node: it could not connect to 172.30.32.1:8123 (ECONNREFUSED: nothing listened there); it refuses connections now too",
			"Port 8123 is Home Assistant's"},
		{"an address no network leads to", fetch("http://192.0.2.9:8080/"), "connect EHOSTUNREACH 192.0.2.9:8080",
			"node: it could not connect to 192.0.2.9:8080 (EHOSTUNREACH: no route to the host); it is unreachable now too (no route): no network of this container's leads there",
			"Check the address and port the app is given"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", c.script}, env: []string{never}, under: ns.Exec()})
			logHas(t, l.nodeFailed(30*time.Second), c.said, c.cause, "fix=", c.fix)
		})
	}
}

// Home Assistant restarting while the app needs it, for real: node
// connects to Home Assistant's port at its start and fails while nothing
// listens there, again and again, in a network namespace of the test's
// own. With a restart limit of 2, the launcher restarts it past the limit,
// since each failure is for want of the network (the look finds the port
// still closed), and node connects once Home Assistant listens again;
// before, the launcher gave up after the second restart, about 31 s into
// a restart of Home Assistant with the defaults, which takes minutes on a
// Raspberry Pi. Past a window of such failures (2 s here) they count, and
// a Home Assistant that never comes back ends in the limit as before.
func TestRun_WaitsForHomeAssistantToComeBack(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	ns.Run(t, "ip", "addr", "add", "172.30.32.1/32", "dev", "lo")
	const app = `const fs = require('fs'), runs = process.env.RUNS;
const n = (fs.existsSync(runs) ? +fs.readFileSync(runs, 'utf8') : 0) + 1;
fs.writeFileSync(runs, String(n));
console.log('attempt ' + n);
require('net').connect(8123, '172.30.32.1').on('connect', () => { console.log('connected to Home Assistant'); setInterval(() => {}, 1e6); });`
	env := func(window string) []string {
		return []string{"RUNS=" + filepath.Join(t.TempDir(), "runs"), "LAUNCHER_RESTART_LIMIT=2", "LAUNCHER_RESTART_WINDOW=" + window,
			"LAUNCHER_RESTART_DELAY=10ms", "LAUNCHER_RESTART_DELAY_MAX=100ms"}
	}

	t.Run("back", func(t *testing.T) {
		l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", app}, env: env("10m"), under: ns.Exec()})
		l.waitFor("attempt 5") // four restarts, twice the limit
		ns.Listen(t, "172.30.32.1:8123")
		l.waitFor("connected to Home Assistant")
		out := l.stdout.String()
		logHas(t, out, "node: it could not connect to 172.30.32.1:8123 (ECONNREFUSED: nothing listened there); it refuses connections now too",
			"(for want of the network: not counted toward LAUNCHER_RESTART_LIMIT until such failures have lasted 10m)")
		if strings.Contains(out, "not restarting node") || strings.Contains(out, "restart 1 of 2") {
			t.Errorf("a failure for want of the network was counted toward the limit:\n%s", out)
		}
		l.signal(syscall.SIGTERM)
		if code := l.wait(10 * time.Second); code != 0 {
			t.Errorf("stopped once connected: exit %d, want 0\n%s", code, l.stdout)
		}
	})

	t.Run("never back", func(t *testing.T) {
		l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", app}, env: env("2s"), under: ns.Exec()})
		out := l.nodeFailed(60 * time.Second)
		logHas(t, out, "for want of the network: not counted toward LAUNCHER_RESTART_LIMIT until such failures have lasted 2s",
			"restart 2 of 2 within 2s; failures for want of the network count once they have lasted 2s",
			"not restarting node: 2 restarts within 2s (LAUNCHER_RESTART_LIMIT); failures for want of the network count once they have lasted 2s")
		if n := l.stdout.count("restarting node in"); n < 3 {
			t.Errorf("%d restarts, want the limit's 2 and the first failure's at least\n%s", n, out)
		}
	})
}

// A start held by the network, for real: node connects to an address that
// never answers (a firewall that drops), and looks up a name its DNS
// server does not answer, before it listens. At the ready timeout the look
// finds node's event loop free, and says what on the network it waits on,
// from the kernel's socket tables; before, "it waits on something that
// does not come".
func TestRun_TellsANodeWaitingOnTheNetwork(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	ns.Unanswered(t, "10.1.0.0/24")
	ns.DNS.Mute("down.example.com")
	ns.ResolvConf(t, "nameserver 127.0.0.2\noptions timeout:30 attempts:1\n")
	for _, c := range []struct{ name, script, want string }{
		{"a connection", "require('net').connect(1883, '10.1.0.9').on('error', () => {})",
			"node's main thread is not busy (state S, 0 ms of CPU in 200 ms): its event loop is free, and node waits on the network: its connection to 10.1.0.9:1883 has had no answer (sent again "},
		{"a lookup", "require('dns').lookup('down.example.com', () => {})",
			"its event loop is free, and node waits on the network: its DNS server 127.0.0.2:53 has not answered a lookup; a machine that is off or behind a firewall that drops, a DNS server that does not answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", c.script + "; setInterval(() => {}, 1e6)"},
				env: append([]string{"LAUNCHER_READY_URL=http://127.0.0.1:8099/", "LAUNCHER_READY_TIMEOUT=2s"}, restartsInAnHour...), under: ns.Exec()})
			l.waitFor("restarting node in 1h")
			out := l.stdout.String()
			logHas(t, out, c.want, "restarting node: not ready within 2s (LAUNCHER_READY_TIMEOUT)")
			t.Logf("%s", regexp.MustCompile(`node waits on the network[^\n]*`).FindString(out))
			if strings.Index(out, "waits on the network") > strings.Index(out, "restarting node: not ready") {
				t.Errorf("what node waits on is told after the restart began:\n%s", out)
			}
			l.signal(syscall.SIGTERM)
			l.wait(10 * time.Second)
		})
	}
}

// A start held by a connection whose other end went away without closing
// it, for real: node connects to a machine beside its namespace (Home
// Assistant, a broker), which is then switched off while node goes on
// writing to it. At the ready timeout the look says what node waits on:
// the connection, established, and what it sent without acknowledgement;
// before, "it waits on something that does not come".
func TestRun_TellsANodeWhosePeerWentAway(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	peer := ns.Peer(t)
	off := peer.OffOnceConnected(peer.Listen(t, peer.Addr+":8123"))
	script := "const s = require('net').connect(8123, '10.3.0.1').on('error', () => {}); s.on('connect', () => setInterval(() => s.write('x'.repeat(100)), 50))"
	b := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", script},
		env: append([]string{"LAUNCHER_READY_URL=http://127.0.0.1:8099/", "LAUNCHER_READY_TIMEOUT=2s"}, restartsInAnHour...), under: ns.Exec()})
	must(t, <-off)
	b.waitFor("restarting node in 1h")
	out := b.stdout.String()
	said := regexp.MustCompile(`its event loop is free, and node waits on the network: its connection to 10\.3\.0\.1:8123 has had no acknowledgement of the [0-9.]+(B|KiB) it sent \(sent again \d+ times?\); a machine that is off`)
	if !said.MatchString(out) {
		t.Errorf("the log does not tell the connection whose other end went away:\n%s", out)
	}
	t.Logf("%s", said.FindString(out))
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)
}

// The look at why node failed runs beside the supervision loop, and a stop
// calls it off: Home Assistant stopping the add-on while the launcher asks
// a DNS server that does not answer (for up to 2 s) is not kept waiting.
// The failure is still told, in node's words; before, the loop waited the
// look out, told what it found, and only then took the stop.
func TestRun_AStopCallsOffTheLookAtAFailure(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	ns.DNS.Mute("down.example.com")
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", "fetch('http://down.example.com/')"},
		env: []string{"LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h"}, under: ns.Exec()})
	l.waitFor("node exited with code 1")
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 1 {
		t.Errorf("stopped after a failure: exit %d, want node's 1", code)
	}
	out := l.stdout.String()
	logHas(t, out, "SIGTERM: stopping; the look at why node failed is called off",
		"node: it could not resolve the name down.example.com (EAI_AGAIN: the DNS server did not answer) fix=")
	for _, not := range []string{"asked again now", "restarting node in"} {
		if strings.Contains(out, not) {
			t.Errorf("the log says %q: the stop waited for the look\n%s", not, out)
		}
	}
}

// Why the last exit failed is in /status (child.last_exit.diagnoses) and
// in `launcher status`, as the log told it, while the restart delay runs,
// with when node starts again (child.next_start_at): for whoever looks at
// a container between restarts. Nothing of the child that ended is told
// as the current one's: its pid, its start (and the start time metric).
func TestStatus_TellsWhyTheLastExitFailed(t *testing.T) {
	health, port := freePort(t), freePort(t)
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", fmt.Sprintf("require('net').connect(%d, '127.0.0.1')", port)},
		env: []string{"LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h", fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health)}})
	l.waitFor("restarting node in 1h")
	delayed := time.Now()
	cause := fmt.Sprintf("it could not connect to 127.0.0.1:%d (ECONNREFUSED: nothing listened there); it refuses connections now too; 127.0.0.1 (localhost) is this container itself", port)
	logHas(t, l.stdout.String(), "node: "+cause)
	b := &nodeBackend{launched: l, health: health}
	_, body := b.get("/status")
	var st struct {
		Child struct {
			LastExit struct {
				Diagnoses []struct{ Cause, Fix string } `json:"diagnoses"`
			} `json:"last_exit"`
			NextStartAt *time.Time `json:"next_start_at"`
			PID         *int       `json:"pid"`
			StartedAt   *time.Time `json:"started_at"`
		} `json:"child"`
	}
	if err := json.Unmarshal(body, &st); err != nil || len(st.Child.LastExit.Diagnoses) != 1 ||
		!strings.HasPrefix(st.Child.LastExit.Diagnoses[0].Cause, cause) || !strings.Contains(st.Child.LastExit.Diagnoses[0].Fix, "core-mosquitto:1883") {
		t.Errorf("/status child.last_exit.diagnoses = %+v (%v), want %q\n%s", st.Child.LastExit.Diagnoses, err, cause, body)
	}
	if st.Child.PID != nil || st.Child.StartedAt != nil {
		t.Errorf("/status child: pid %v, started_at %v, want null for both with no child running\n%s", st.Child.PID, st.Child.StartedAt, body)
	}
	if _, metrics := b.get("/metrics"); !strings.Contains(string(metrics), "\nlauncher_child_up 0\n") || strings.Contains(string(metrics), "\nlauncher_child_start_time_seconds ") {
		t.Errorf("/metrics with no child running: want launcher_child_up 0 and no start time\n%s", metrics)
	}
	if next := st.Child.NextStartAt; next == nil || next.Before(delayed.Add(59*time.Minute)) || next.After(delayed.Add(time.Hour)) {
		t.Errorf("/status child.next_start_at = %v, want an hour after the restart was decided (%s)\n%s", next, delayed.UTC(), body)
	}
	if code, out := b.subcommand("status"); code != 0 || !strings.Contains(out, "  why: "+cause) || !strings.Contains(out, "      fix: Reach another add-on by its host name") ||
		!strings.Contains(out, "child     not running; starts again at "+st.Child.NextStartAt.Local().Format("15:04:05")+" (in ") {
		t.Errorf("launcher status: exit %d\n%s", code, out)
	}
	l.signal(syscall.SIGTERM)
	l.wait(10 * time.Second)
}
