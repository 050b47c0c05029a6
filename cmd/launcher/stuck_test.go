package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartsInAnHour has liveness fail within a second of a node that does
// not answer, and the launcher wait in the restart delay, where /status
// and the log are read.
var restartsInAnHour = []string{"LAUNCHER_LIVENESS_INTERVAL=300ms", "LAUNCHER_LIVENESS_FAILURES=2", "LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h"}

// A node whose health route stops answering because its main thread is
// held in a loop (tsc's output with its maps, testdata/node/mapped): before
// the liveness restart, the launcher sees it busy, opens node's inspector
// with SIGUSR1, pauses it, and tells where, in the compiled files and in
// the app's sources; /status and `launcher status` keep it with the last
// exit. Under Node 18 and 24 from npm, and this machine's 20, as PID 1.
func TestRun_TellsWhereAStuckNodeIs(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node"))
	app := dir + "/mapped"
	for _, major := range []int{18, 20, 24} {
		t.Run(fmt.Sprint("node", major), func(t *testing.T) {
			node := "/usr/bin/node"
			if major != 20 {
				node = npmNode(t, major)
			}
			b := runNodeAs(t, launchOpts{namespace: true}, "mapped/dist/server.js", append([]string{"LAUNCHER_NODE=" + node}, restartsInAnHour...)...)
			b.waitFor("restarting node in 1h")
			out := b.stdout.String()
			for _, want := range []string{
				"node's main thread is busy (",
				"and does not answer: node's inspector paused it here",
				"    at checksum (" + app + "/dist/server.js:14:",
				"    at answer (" + app + "/dist/server.js:21:",
				"node's stack in the app's sources (by their source maps)",
				"    at checksum (" + app + "/src/server.ts:14:",
				"    at answer (" + app + "/src/server.ts:22:",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the log lacks %q:\n%s", want, out)
				}
			}
			if strings.Index(out, "node's inspector paused it here") > strings.Index(out, "restarting node: 2 liveness probes failed") {
				t.Errorf("where node was stuck is told after the restart began:\n%s", out)
			}
			_, body := b.get("/status")
			var st struct {
				Child struct {
					LastExit struct {
						StuckAt   []string `json:"stuck_at"`
						Stack     []string `json:"stack_in_sources"`
						Stderr    []string `json:"stderr_tail"`
						Diagnoses []struct {
							Cause string `json:"cause"`
						} `json:"diagnoses"`
					} `json:"last_exit"`
				} `json:"child"`
			}
			if err := json.Unmarshal(body, &st); err != nil || len(st.Child.LastExit.StuckAt) < 2 ||
				!strings.HasPrefix(st.Child.LastExit.StuckAt[0], "at checksum ("+app+"/dist/server.js:14:") ||
				len(st.Child.LastExit.Stack) != 2 || !strings.HasPrefix(st.Child.LastExit.Stack[1], "at answer ("+app+"/src/server.ts:22:") {
				t.Errorf("/status child.last_exit: stuck_at %q, stack_in_sources %q (%v)\n%s", st.Child.LastExit.StuckAt, st.Child.LastExit.Stack, err, body)
			}
			// What the inspector announced as the look opened it reached
			// the container, and is not among node's last error lines.
			if !strings.Contains(b.stderr.String(), "Debugger listening on ws://") {
				t.Errorf("node's announcement of its inspector did not reach the container's stderr:\n%s", b.stderr)
			}
			for _, l := range st.Child.LastExit.Stderr {
				if strings.HasPrefix(l, "Debugger ") || strings.HasPrefix(l, "For help, see: https://nodejs.org/") {
					t.Errorf("/status child.last_exit.stderr_tail holds the inspector's %q:\n%s", l, body)
				}
			}
			// Why the restart came is the last exit's first diagnosis: the
			// verdict, at the innermost frame in the app's sources.
			paused := regexp.MustCompile(`^node's main thread is busy \(\d+ ms of CPU in 200 ms\) and does not answer: node's inspector paused it at checksum \(` + regexp.QuoteMeta(app+"/src/server.ts:14:"))
			if ds := st.Child.LastExit.Diagnoses; len(ds) == 0 || !paused.MatchString(ds[0].Cause) {
				t.Errorf("/status child.last_exit.diagnoses %+v: the first is not where node was paused", ds)
			}
			if code, status := b.subcommand("status"); code != 0 || !strings.Contains(status, "  stuck at (its main thread busy, paused by node's inspector):\n    at checksum (") ||
				!strings.Contains(status, "  why: node's main thread is busy (") {
				t.Errorf("launcher status: exit %d\n%s", code, status)
			}
			b.signal(syscall.SIGTERM)
			b.wait(10 * time.Second)
		})
	}
}

// A node held at its start, before it listens, by a computation without
// end: at the ready timeout the launcher looks at it before the restart,
// and tells where (the module's top level, then checksum, in the app's
// sources), with the timeout's own why; a stop during the look ends it at
// once, asking no restart.
func TestRun_TellsWhereANodeHeldAtItsStartIs(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node"))
	app := dir + "/mapped"
	b := runNodeAs(t, launchOpts{namespace: true}, "mapped/dist/server.js", append([]string{"STUCK_AT_START=1", "LAUNCHER_READY_TIMEOUT=2s"}, restartsInAnHour...)...)
	b.waitFor("restarting node in 1h")
	out := b.stdout.String()
	for _, want := range []string{
		"node listens on no TCP port: the app had not called listen() within 2s",
		"node's inspector paused it here",
		"    at checksum (" + app + "/dist/server.js:14:",
		"    at " + app + "/dist/server.js:25:",
		"    at checksum (" + app + "/src/server.ts:14:",
		"    at " + app + "/src/server.ts:26:",
		"restarting node: not ready within 2s (LAUNCHER_READY_TIMEOUT)",
		"% of it on a CPU, compiling and running the app's code before it answered",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "node's inspector paused it here") > strings.Index(out, "restarting node: not ready") {
		t.Errorf("where node was held is told after the restart began:\n%s", out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)

	// A stop while it is looked at: the look ends, no restart is asked,
	// the stop is done. Node 24 under --disable-sigusr1 never opens its
	// inspector, so the look would wait its 5 s: the stop comes within.
	b = runNodeAs(t, launchOpts{namespace: true}, "mapped/dist/server.js", "STUCK_AT_START=1", "LAUNCHER_READY_TIMEOUT=2s",
		"LAUNCHER_NODE="+npmNode(t, 24), "LAUNCHER_NODE_ARGS=--disable-sigusr1")
	b.waitFor("node listens on no TCP port: the app had not called listen() within 2s")
	b.signal(syscall.SIGTERM)
	if code := b.wait(10 * time.Second); code != 0 {
		t.Errorf("stopped during the look: exit %d, want 0\n%s", code, b.stdout)
	}
	if out := b.stdout.String(); strings.Contains(out, "restarting node") || strings.Contains(out, "main thread is ") || !strings.Contains(out, "forwarded SIGTERM to node to stop it") {
		t.Errorf("the look went on after the stop:\n%s", out)
	}
}

// A node whose health route stops answering while its event loop is free
// (the requests wait on nothing that comes) is told as waiting, and its
// inspector is not opened; one stopped by SIGSTOP is told stopped; under
// run -- CMD node itself is looked at, a shell that runs it is not; with
// LAUNCHER_INSPECT_STUCK=false a busy one is not looked at.
func TestRun_TellsANodeThatWaitsFromOneThatIsBusy(t *testing.T) {
	b := runNode(t, "server.js", append([]string{"SILENT_AFTER=2"}, restartsInAnHour...)...)
	b.waitFor("restarting node in 1h")
	out := b.stdout.String()
	if !strings.Contains(out, "node's main thread is not busy (state S, ") || !strings.Contains(out, "its event loop is free, yet the app does not answer") {
		t.Errorf("the log does not tell node's free event loop:\n%s", out)
	}
	if strings.Contains(out, "Debugger listening") || strings.Contains(out, "inspector") {
		t.Errorf("node's inspector was opened for a node that was not busy:\n%s", out)
	}
	// The verdict is why the last exit came, in /status and launcher status.
	if code, status := b.subcommand("status"); code != 0 || !regexp.MustCompile(`  why: node's main thread is not busy \(state S, [^\n]*its event loop is free, yet the app does not answer[^\n]*\n(  why|preflight)`).MatchString(status) {
		t.Errorf("launcher status does not tell the verdict, without a fix, as the last exit's why: exit %d\n%s", code, status)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)

	// Stopped by SIGSTOP: said so, not taken for a free event loop.
	b = runNode(t, "server.js", append([]string{"LAUNCHER_STOP_TIMEOUT=1s"}, restartsInAnHour...)...)
	b.waitFor("node ready in")
	_, body := b.get("/status")
	var st struct {
		Child struct {
			PID int `json:"pid"`
		} `json:"child"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Child.PID == 0 {
		t.Fatalf("no child's pid in /status (%v): %s", err, body)
	}
	must(t, syscall.Kill(st.Child.PID, syscall.SIGSTOP))
	b.waitFor("restarting node in 1h")
	if out := b.stdout.String(); !strings.Contains(out, "node is stopped (state T, 0 ms of CPU in 200 ms): a SIGSTOP or a debugger holds it") || strings.Contains(out, "not busy") {
		t.Errorf("the log does not tell a stopped node:\n%s", out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)

	// Under run -- CMD, node itself is looked at; a program that runs it
	// is not.
	script, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node", "mapped", "dist", "server.js"))
	for _, cmd := range [][]string{{"/usr/bin/node", script}, {"/bin/sh", "-c", "/usr/bin/node " + script}} {
		b = runNodeAs(t, launchOpts{args: append([]string{"run", "--"}, cmd...)}, "mapped/dist/server.js", restartsInAnHour...)
		b.waitFor("restarting " + filepath.Base(cmd[0]) + " in 1h")
		looked := strings.Contains(b.stdout.String(), "node's inspector paused it here\n    at checksum ("+script+":14:")
		if want := cmd[0] == "/usr/bin/node"; looked != want {
			t.Errorf("run -- %q: looked at %v, want %v:\n%s", cmd, looked, want, b.stdout)
		}
		b.signal(syscall.SIGTERM)
		b.wait(10 * time.Second)
	}

	b = runNode(t, "mapped/dist/server.js", append([]string{"LAUNCHER_INSPECT_STUCK=false"}, restartsInAnHour...)...)
	b.waitFor("restarting node in 1h")
	if out := b.stdout.String(); strings.Contains(out, "main thread is ") || strings.Contains(out, "Debugger listening") {
		t.Errorf("LAUNCHER_INSPECT_STUCK=false looked at node:\n%s", out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)
}

// A node whose main thread is held in native code (the add-on's own
// bcrypt, hashing at a cost of minutes in hashSync) takes no SIGUSR1: its
// inspector never opens, and the log says what holds it instead.
func TestRun_TellsANodeBusyInNativeCode(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app20"))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte(`const bcrypt = require('bcrypt');
let requests = 0;
require('http').createServer((req, res) => {
  if (++requests > 2) bcrypt.hashSync('secret', 30);
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`), 0o644))
	port := freePort(t)
	l := launch(t, launchOpts{namespace: true, env: append([]string{"LAUNCHER_APP_DIR=" + app,
		fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/", port), fmt.Sprintf("PORT=%d", port)}, restartsInAnHour...)})
	l.waitFor("restarting node in 1h")
	out := l.stdout.String()
	if !strings.Contains(out, "node's main thread is busy (") || !strings.Contains(out, "did not open node's inspector on SIGUSR1 within 5s: a synchronous call into native code holds it") {
		t.Errorf("the log does not tell a node held in native code:\n%s", out)
	}
	l.signal(syscall.SIGTERM)
	l.wait(10 * time.Second)
}

// A start held reading a disk that reads 1 MiB a second, as a worn SD card
// does (disktest.Slow): at the ready timeout the look finds node's main
// thread waiting on the disk, and the disk still reading: slow, not
// stopped, and said so, with how fast it reads.
func TestRun_TellsANodeWaitingOnASlowDisk(t *testing.T) {
	file, under := slowDisk(t, 1<<20, 16<<20)
	b := runNodeAs(t, launchOpts{under: under}, "server.js",
		append([]string{"READ_AT_START=" + file, "LAUNCHER_READY_TIMEOUT=2s", "LAUNCHER_STOP_TIMEOUT=1s"}, restartsInAnHour...)...)
	b.waitFor("restarting node in 1h")
	out := b.stdout.String()
	// Its main thread is in D while each read waits on the disk, and
	// runnable between two: the look tells either with the disk's reading.
	if !regexp.MustCompile(`node's main thread is (waiting on the disk \(state D|not busy \(state [RS])[^\n]*node reads the disk at [0-9.]+(KiB|MiB)/s \([^\n]*since it started\)[^\n]*a slow or worn SD card reads so`).MatchString(out) {
		t.Errorf("the log does not tell a node reading a slow disk:\n%s", out)
	}
	if strings.Contains(out, "does not end") || strings.Contains(out, "its event loop is free") {
		t.Errorf("a slow disk taken for one that stopped, or for a free event loop:\n%s", out)
	}
	// Before the look, where the start went in its two seconds: most of
	// it on the disk.
	if !regexp.MustCompile(`WARNING: node's start, not ready within 2s: its main thread ran [^\n]*, about [0-9.]+s on the disk, [^\n]*% of it waiting on the disk`).MatchString(out) ||
		strings.Index(out, "node's start, not ready within 2s") > strings.Index(out, "reads the disk at") {
		t.Errorf("where the held start went is not told before the look:\n%s", out)
	}
	b.signal(syscall.SIGTERM)
	b.wait(10 * time.Second)
}
