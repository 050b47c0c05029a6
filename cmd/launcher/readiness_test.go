package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
)

// freePort is a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// nodeBackend runs testdata/node/<script> under the launcher with its own
// ports; env adds variables.
type nodeBackend struct {
	*launched
	health, app int
}

func runNode(t *testing.T, script string, env ...string) *nodeBackend {
	t.Helper()
	return runNodeAs(t, launchOpts{}, script, env...)
}

// runNodeAs is runNode with o's options (o.env goes after the backend's).
func runNodeAs(t *testing.T, o launchOpts, script string, env ...string) *nodeBackend {
	t.Helper()
	if _, err := os.Stat("/usr/bin/node"); err != nil {
		t.Skip("node is not installed")
	}
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node"))
	b := &nodeBackend{health: freePort(t), app: freePort(t)}
	base := []string{
		"LAUNCHER_APP_DIR=" + dir, "LAUNCHER_ENTRY=" + script, "LAUNCHER_NATIVE_MODULES=",
		fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", b.health),
		fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/api/health", b.app),
		fmt.Sprintf("PORT=%d", b.app),
	}
	o.env = append(append(base, env...), o.env...)
	b.launched = launch(t, o)
	return b
}

func (b *nodeBackend) get(path string) (int, []byte) {
	b.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", b.health, path))
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// subcommand runs `launcher <args>` against this launcher's health server.
func (b *nodeBackend) subcommand(args ...string) (int, string) {
	l := launch(b.t, launchOpts{args: args, env: []string{fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", b.health)}})
	code := l.wait(10 * time.Second)
	return code, l.stdout.String() + l.stderr.String()
}

var readyLine = regexp.MustCompile(`node ready in (\d+) ms \(preflight (\d+) ms, spawn (\d+) ms\)`)

// Readiness against a real node server that listens only after 400 ms:
// the launcher is ready when it answers, logs the timeline once, and
// serves it, with node's memory sampled at readiness, not an interval
// later.
func TestRun_ReadinessOfARealNodeServer(t *testing.T) {
	b := runNode(t, "server.js", "READY_AFTER_MS=400", "LAUNCHER_SAMPLE_INTERVAL=1h")
	b.waitFor("node ready in")
	m := readyLine.FindStringSubmatch(b.stdout.String())
	if m == nil {
		t.Fatalf("no timeline in the log:\n%s", b.stdout)
	}
	if !regexp.MustCompile(`spawn_ms=\d+(\.\d{1,3})?(\s|$)`).MatchString(b.stdout.String()) {
		t.Errorf("spawn_ms is not in whole microseconds:\n%s", b.stdout)
	}
	// One meaning per name: the log's spawn_ms is /status's startup.spawn_ms.
	if f := regexp.MustCompile(`spawn_ms=([\d.]+)`).FindStringSubmatch(b.stdout.String()); f != nil {
		var st struct {
			Startup struct {
				SpawnMS float64 `json:"spawn_ms"`
			}
		}
		_, body := b.get("/status")
		if err := json.Unmarshal(body, &st); err == nil && fmt.Sprint(st.Startup.SpawnMS) != f[1] {
			t.Errorf("spawn_ms is %s in the log and %v in /status", f[1], st.Startup.SpawnMS)
		}
	}
	var readyMS int
	fmt.Sscan(m[1], &readyMS)
	if readyMS < 400 {
		t.Errorf("ready after %d ms, but the server listened only after 400 ms", readyMS)
	}
	if code, _ := b.get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d once ready", code)
	}
	code, body := b.get("/status")
	var snap launcher.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil || code != 200 {
		t.Fatalf("/status: %d %v", code, err)
	}
	if snap.State != "ready" || snap.Startup.ReadyMS == nil || *snap.Startup.ReadyMS < 400 ||
		*snap.Startup.PreflightMS > *snap.Startup.SpawnMS || *snap.Startup.SpawnMS > *snap.Startup.ReadyMS ||
		snap.Node == nil || snap.Node.ABI != 115 || !snap.Child.Ready {
		t.Errorf("/status: %s", body)
	}
	eventually(t, 10*time.Second, "node's memory sampled at readiness", func() bool {
		var snap launcher.Snapshot
		_, body := b.get("/status")
		return json.Unmarshal(body, &snap) == nil && snap.Child.RSSBytes != nil && *snap.Child.RSSBytes > 0 &&
			snap.Launcher.RSSBytes != nil && snap.Container.MemoryUsageBytes != nil
	})
	if code, out := b.subcommand("healthcheck"); code != 0 || out != "" {
		t.Errorf("healthcheck against a healthy launcher: exit %d, output %q (want 0, quiet)", code, out)
	}
	if code, out := b.subcommand("status"); code != 0 || !strings.Contains(out, "READY") || !strings.Contains(out, "█") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	if code, out := b.subcommand("status", "--json"); code != 0 || !strings.Contains(out, `"state":"ready"`) {
		t.Errorf("status --json: exit %d\n%s", code, out)
	}
	b.signal(syscall.SIGTERM)
	if code := b.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// `launcher healthcheck --started`, the image's HEALTHCHECK: Docker keeps
// a container "starting" until its first healthy check, and the
// Supervisor shows the add-on as started only then. So it is unhealthy
// while node starts (plain healthcheck is healthy from the spawn), healthy
// from node's first readiness on, and still healthy inside a restart's
// backoff, as plain healthcheck is.
func TestHealthcheck_StartedOnceNodeHasBeenReady(t *testing.T) {
	b := runNode(t, "server.js", "LISTEN_ON_SIGUSR2=1", "LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h")
	b.waitFor("started node")
	healthz := func() (int, map[string]any) {
		code, body := b.get("/healthz")
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("/healthz: %v: %s", err, body)
		}
		return code, v
	}
	if code, v := healthz(); code != 200 || v["state"] != "running" || v["started"] != false {
		t.Fatalf("/healthz while node starts: %d %v, want 200 running, started false", code, v)
	}
	if code, out := b.subcommand("healthcheck"); code != 0 || out != "" {
		t.Errorf("healthcheck while node starts: exit %d %q, want 0 and quiet", code, out)
	}
	if code, out := b.subcommand("healthcheck", "--started"); code != 1 || out != "" {
		t.Errorf("healthcheck --started while node starts: exit %d %q, want 1 and quiet", code, out)
	}

	b.signal(syscall.SIGUSR2) // forwarded: node listens
	b.waitFor("node ready in")
	if code, v := healthz(); code != 200 || v["started"] != true {
		t.Errorf("/healthz once ready: %d %v, want 200, started true", code, v)
	}
	if code, out := b.subcommand("healthcheck", "--started"); code != 0 || out != "" {
		t.Errorf("healthcheck --started once ready: exit %d %q, want 0 and quiet", code, out)
	}

	var snap launcher.Snapshot
	if _, body := b.get("/status"); json.Unmarshal(body, &snap) != nil || snap.Child.PID == nil {
		t.Fatalf("no node pid in /status: %s", body)
	}
	if err := syscall.Kill(*snap.Child.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.waitFor("restarting node in 1h")
	if code, v := healthz(); code != 200 || v["state"] != "restarting" || v["started"] != true {
		t.Errorf("/healthz in the restart's backoff: %d %v, want 200 restarting, started true", code, v)
	}
	if code, out := b.subcommand("healthcheck", "--started"); code != 0 || out != "" {
		t.Errorf("healthcheck --started in the restart's backoff: exit %d %q, want 0", code, out)
	}
	if code, out := b.subcommand("healthcheck", "--now"); code != 2 || !strings.Contains(out, `"--now"`) {
		t.Errorf("healthcheck --now: exit %d %q, want 2 naming it", code, out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)
}

func TestHealthcheck_DeadAddressIsExit1(t *testing.T) {
	l := launch(t, launchOpts{args: []string{"healthcheck"}, env: []string{fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", freePort(t))}})
	if code := l.wait(10 * time.Second); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if l.stdout.String() != "" {
		t.Errorf("healthcheck must be quiet: %q", l.stdout)
	}
	l = launch(t, launchOpts{args: []string{"status"}, env: []string{fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", freePort(t))}})
	if code := l.wait(10 * time.Second); code != 1 || !strings.Contains(l.stderr.String(), "no launcher answers") {
		t.Errorf("status against nothing: exit %d, %s", code, l.stderr)
	}
}

// A health address that is taken is exit 2, naming it, before node starts.
func TestRun_HealthAddressTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := launch(t, launchOpts{args: child("ready"), env: []string{"LAUNCHER_HEALTH_ADDR=" + ln.Addr().String()}})
	if code := l.wait(10 * time.Second); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(l.stdout.String(), ln.Addr().String()) || !strings.Contains(l.stdout.String(), "address already in use") {
		t.Errorf("the error does not name the address:\n%s", l.stdout)
	}
	if strings.Contains(l.stdout.String(), "started ") {
		t.Errorf("the child started:\n%s", l.stdout)
	}
}

// No readiness by LAUNCHER_READY_TIMEOUT is a failed start: restarted by
// the policy, then given up with a failure.
func TestRun_ReadinessTimeout(t *testing.T) {
	b := runNode(t, "server.js", "READY_AFTER_MS=60000", "LAUNCHER_READY_TIMEOUT=300ms",
		"LAUNCHER_RESTART_LIMIT=1", "LAUNCHER_RESTART_DELAY=10ms")
	if code := b.wait(20 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, b.stdout)
	}
	out := b.stdout.String()
	if n := b.stdout.count("restarting node: not ready within 300ms (LAUNCHER_READY_TIMEOUT)"); n != 2 {
		t.Errorf("%d readiness restarts logged, want 2:\n%s", n, out)
	}
	if b.stdout.count("started node") != 2 || !strings.Contains(out, "reason=readiness") {
		t.Errorf("want 2 starts with reason readiness:\n%s", out)
	}
	// Each restart's SIGTERM is one line: the forward, what it is for, the grace.
	if n, m := b.stdout.count("forwarded SIGTERM")+b.stdout.count("SIGTERM forwarded"), b.stdout.count("forwarded SIGTERM to node to restart it, SIGKILL in 8s"); n != 2 || m != 2 {
		t.Errorf("the restarts' SIGTERM in %d lines, want 2 saying each is forwarded to restart, SIGKILL in 8s:\n%s", n, out)
	}
}

// Liveness: once ready, LAUNCHER_LIVENESS_FAILURES failed probes in a row
// restart node.
func TestRun_LivenessRestart(t *testing.T) {
	b := runNode(t, "server.js", "UNHEALTHY_AFTER_MS=300", "LAUNCHER_LIVENESS_INTERVAL=100ms", "LAUNCHER_LIVENESS_FAILURES=2",
		"LAUNCHER_RESTART_LIMIT=1", "LAUNCHER_RESTART_DELAY=10ms")
	b.waitFor("node ready in")
	if code := b.wait(20 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, b.stdout)
	}
	out := b.stdout.String()
	for _, want := range []string{"liveness probe 1 of 2 failed", "restarting node: 2 liveness probes failed in a row", "answered 503", "reason=liveness", "restart 1 of 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// The memory limit: a node that allocates without end is restarted after
// three samples above LAUNCHER_MEMORY_LIMIT.
func TestRun_MemoryLimitRestart(t *testing.T) {
	b := runNode(t, "alloc.js", "LAUNCHER_READY_URL=", "LAUNCHER_MEMORY_LIMIT=160MiB", "LAUNCHER_SAMPLE_INTERVAL=50ms",
		"ALLOC_MB=16", "ALLOC_MAX_MB=400", "LAUNCHER_RESTART_LIMIT=1", "LAUNCHER_RESTART_DELAY=10ms")
	if code := b.wait(30 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, b.stdout)
	}
	out := b.stdout.String()
	for _, want := range []string{"above LAUNCHER_MEMORY_LIMIT 160MiB for 3 samples in a row", "reason=memory"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if b.stdout.count("started node") != 2 {
		t.Errorf("want one restart:\n%s", out)
	}
}

// The add-on's log says how much memory node uses, where a Home Assistant
// user reads it: once ready, then at each doubling from there, a warning
// from four times on. A backend that leaks (from 36 to 50 MB, 8 MB more
// every 50 ms up to 220 MB more) gets a line at 2× and one at 4×, not one
// per sample.
func TestRun_MemoryInTheLog(t *testing.T) {
	b := runNode(t, "alloc.js", "LAUNCHER_READY_URL=", "LAUNCHER_SAMPLE_INTERVAL=50ms", "ALLOC_ON_SIGUSR2=1", "ALLOC_MB=8", "ALLOC_MAX_MB=220")
	b.waitFor("of memory once ready (resident)")
	b.signal(syscall.SIGUSR2)
	// From 2× to 4× node grows by 8 MB every 50 ms, sampled every 50 ms:
	// a line per sample would show here as several.
	b.waitFor("WARNING: node's memory grew to")
	b.signal(syscall.SIGTERM)
	if code := b.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, b.stdout)
	}
	out := b.stdout.String()
	grew := regexp.MustCompile(`(INFO|WARNING): node's memory grew to [0-9.]+MiB, ([0-9.]+)× the [0-9.]+MiB it used once ready`).FindAllStringSubmatch(out, -1)
	if b.stdout.count("of memory once ready (resident)") != 1 || len(grew) != 2 {
		t.Fatalf("want one line once ready and two as it grew:\n%s", out)
	}
	if x, _ := strconv.ParseFloat(grew[0][2], 64); grew[0][1] != "INFO" || x < 2 || x >= 4 {
		t.Errorf("first growth: %s at %s×, want INFO from 2× to 4×", grew[0][1], grew[0][2])
	}
	if x, _ := strconv.ParseFloat(grew[1][2], 64); grew[1][1] != "WARNING" || x < 4 {
		t.Errorf("second growth: %s at %s×, want WARNING from 4×", grew[1][1], grew[1][2])
	}
}

// Node's own word: with LAUNCHER_READY_IPC, process.send('ready') over the
// IPC channel marks readiness (no URL at all here).
func TestRun_IPCReadiness(t *testing.T) {
	b := runNode(t, "server.js", "SEND_READY=1", "READY_AFTER_MS=300", "LAUNCHER_READY_URL=", "LAUNCHER_READY_IPC=true")
	b.waitFor("sent ready")
	b.waitFor("node ready in")
	if code, _ := b.get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d after process.send('ready')", code)
	}
	m := readyLine.FindStringSubmatch(b.stdout.String())
	var ms int
	if m != nil {
		fmt.Sscan(m[1], &ms)
	}
	if ms < 300 {
		t.Errorf("ready after %d ms, before node sent it at 300 ms:\n%s", ms, b.stdout)
	}
	b.signal(syscall.SIGTERM)
	if code := b.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A stop ends the probes of node's URL: node closes its server as it stops,
// and liveness probes failing then only filled the log with warnings (and,
// had the stop lasted long enough, asked for a restart nobody wanted).
func TestRun_StopEndsTheProbes(t *testing.T) {
	b := runNode(t, "server.js", "LOG_REQUESTS=1", "STOP_AFTER_MS=1500",
		"LAUNCHER_LIVENESS_INTERVAL=100ms", "LAUNCHER_LIVENESS_FAILURES=100")
	b.waitFor("node ready in")
	b.waitFor("request 3") // the readiness probe's, then liveness probes
	b.signal(syscall.SIGTERM)
	if code := b.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, b.stdout)
	}
	if n := b.stdout.count("liveness probe"); n > 0 {
		t.Errorf("%d liveness probes failed while node stopped; want none:\n%s", n, b.stdout)
	}
}
