package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
	"golang.org/x/sys/unix"
)

const never = "LAUNCHER_RESTART=never"

// shDies is a command that dies of signal sig, for real: a Go fake child
// cannot, since the Go runtime catches the synchronous signals.
func shDies(sig string) []string {
	return []string{"run", "--", "/bin/sh", "-c", "kill -" + sig + " $$"}
}

func TestRun_ExitCodesPassThrough(t *testing.T) {
	for _, ns := range []bool{false, true} {
		for _, c := range []struct {
			args []string
			want int
		}{
			{child("exit", "0"), 0},
			{child("exit", "1"), 1},
			{child("exit", "42"), 42},
			{child("exit", "255"), 255},
			{shDies("TERM"), 143},
			{shDies("KILL"), 137},
			{shDies("SEGV"), 139},
		} {
			t.Run(fmt.Sprintf("pid1=%v/%s", ns, strings.Join(c.args[3:], " ")), func(t *testing.T) {
				l := launch(t, launchOpts{args: c.args, env: []string{never}, namespace: ns})
				if got := l.wait(10 * time.Second); got != c.want {
					t.Errorf("exit code %d, want %d\n%s", got, c.want, l.stdout)
				}
				if !strings.Contains(l.stdout.String(), fmt.Sprintf("launcher exiting with code %d", c.want)) {
					t.Errorf("the launcher's own exit code is not logged:\n%s", l.stdout)
				}
			})
		}
	}
}

func TestRun_StartFailures(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"missing command", []string{"run", "--", "/nonexistent/cmd"}, 127},
		{"not in PATH", []string{"run", "--", "no-such-command-anywhere"}, 127},
		{"not executable", []string{"run", "--", notExec}, 126},
		{"unknown subcommand", []string{"frobnicate"}, 2},
		{"unknown flag", []string{"run", "--verbose"}, 2},
		{"run -- nothing", []string{"run", "--"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{args: c.args})
			if got := l.wait(10 * time.Second); got != c.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got, c.want, l.stdout, l.stderr)
			}
		})
	}
}

func TestRun_BadConfigurationIsExit2WithEveryProblem(t *testing.T) {
	l := launch(t, launchOpts{args: child("exit", "0"), env: []string{
		"LAUNCHER_STOP_TIMEOUT=soon", "LAUNCHER_RESTART_LIMIT=-1", "LAUNCHER_LOG_LEVEL=chatty",
	}})
	if got := l.wait(10 * time.Second); got != 2 {
		t.Fatalf("exit code %d, want 2", got)
	}
	for _, want := range []string{"invalid configuration (3 problems)", `LAUNCHER_STOP_TIMEOUT="soon"`, "LAUNCHER_RESTART_LIMIT=-1", `LAUNCHER_LOG_LEVEL="chatty"`} {
		if !strings.Contains(l.stdout.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, l.stdout)
		}
	}
}

// The child's output reaches the container byte for byte; on a failure its
// last stderr lines are logged with the code.
func TestRun_ChildOutputUnchanged(t *testing.T) {
	l := launch(t, launchOpts{args: child("output"), env: []string{never, "LAUNCHER_LOG_FORMAT=json"}})
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := l.stderr.Bytes(); !bytes.Equal(got, stderrSample) {
		t.Errorf("stderr = %q, want exactly %q", got, stderrSample)
	}
	if !bytes.Contains(l.stdout.Bytes(), stdoutSample) {
		t.Errorf("stdout lacks the child's bytes %q:\n%q", stdoutSample, l.stdout.Bytes())
	}
}

func TestRun_StderrTailLoggedOnFailure(t *testing.T) {
	l := launch(t, launchOpts{args: child("fail-loud", "80"), env: []string{never}})
	if code := l.wait(10 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	out := l.stdout.String()
	i := strings.Index(out, "ERROR: ")
	if i < 0 {
		t.Fatalf("no error line:\n%s", out)
	}
	logged := out[i:]
	if !strings.Contains(logged, "exited with code 3") || !strings.Contains(logged, "    error line 80\n") ||
		!strings.Contains(logged, "    error line 31\n") || strings.Contains(logged, "error line 30\n") {
		t.Errorf("want the code and the last 50 stderr lines (31..80) in the log:\n%s", logged)
	}
}

func TestRun_RestartsThenGivesUp(t *testing.T) {
	l := launch(t, launchOpts{args: child("exit", "7"), env: []string{
		"LAUNCHER_RESTART_DELAY=10ms", "LAUNCHER_RESTART_DELAY_MAX=40ms", "LAUNCHER_RESTART_LIMIT=3",
	}})
	if code := l.wait(20 * time.Second); code != 7 {
		t.Fatalf("exit %d, want the child's last code 7", code)
	}
	if n := l.stdout.count("started "); n != 4 {
		t.Errorf("%d starts, want 1 + 3 restarts:\n%s", n, l.stdout)
	}
	for _, want := range []string{"restarting", "in 10ms", "in 20ms", "in 40ms", "3 restarts within 10m (LAUNCHER_RESTART_LIMIT)", "restarts=3"} {
		if !strings.Contains(l.stdout.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, l.stdout)
		}
	}
}

// node's facts (version, ABI, libc, CPU) are logged once, not again at
// each restart of a node that fails before it was ever ready: in a crash
// loop the log is read most, and they do not change.
func TestRun_NodeToldOnceThroughACrashLoop(t *testing.T) {
	app := newApp(t, ">=18", nil)
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("process.exit(5);\n"), 0o644))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=http://127.0.0.1:1/",
		"LAUNCHER_RESTART_DELAY=10ms", "LAUNCHER_RESTART_LIMIT=2"}})
	if code := l.wait(30 * time.Second); code != 5 {
		t.Fatalf("exit %d, want node's last code 5\n%s", code, l.stdout)
	}
	if n := l.stdout.count("started node "); n != 3 {
		t.Fatalf("%d starts, want 1 + 2 restarts:\n%s", n, l.stdout)
	}
	if n := l.stdout.count("INFO: node v"); n != 1 {
		t.Errorf("node's facts logged %d times over 3 starts, want once:\n%s", n, l.stdout)
	}
}

func TestRun_ForwardsSignals(t *testing.T) {
	l := launch(t, launchOpts{args: child("echo-signals"), env: []string{never}})
	l.waitFor("child-ready")
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGUSR2} {
		l.signal(sig)
		l.waitFor("got " + sigName(sig))
		l.waitFor("forwarded " + sigName(sig))
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// At the default level each forward is logged, where whoever sent the
// signal looks for it, but not a terminal's SIGWINCH, which comes by the
// dozen while a window is resized.
func TestRun_LogsEachForwardButSIGWINCH(t *testing.T) {
	l := launch(t, launchOpts{args: child("echo-signals"), env: []string{never, "LAUNCHER_LOG_LEVEL=info"}})
	l.waitFor("child-ready")
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGHUP} {
		l.signal(sig)
		l.waitFor("got " + sigName(sig))
	}
	// Signals that come while the main thread forwards one go through the
	// runtime's path, so the lines may come in another order.
	l.waitFor("forwarded SIGUSR1 to")
	l.waitFor("forwarded SIGHUP to")
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	if strings.Contains(l.stdout.String(), "forwarded SIGWINCH") {
		t.Errorf("the forwarded SIGWINCH logged at info:\n%s", l.stdout)
	}
}

// A signal that comes while no node runs (here, in a restart's delay) has
// nowhere to go; it is said so, where whoever sent it looks, rather than
// dropped unsaid (but SIGWINCH, as its forwards, at debug). Under QEMU too,
// the arm64 launcher with Debian's arm64 node in a chroot.
func TestRun_ASignalWhileNoNodeRunsIsToldNotForwarded(t *testing.T) {
	env := []string{"LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h", "LAUNCHER_LOG_LEVEL=info"}
	t.Run("here", func(t *testing.T) {
		signalWhileNoNodeRuns(t, launch(t, launchOpts{args: child("exit", "7"), env: env}))
	})
	t.Run("arm64", func(t *testing.T) {
		root, bin := arm64Launcher(t)
		signalWhileNoNodeRuns(t, launch(t, launchOpts{binary: "chroot",
			args: []string{root, bin, "run", "--", "/usr/bin/node", "-e", "process.exit(7)"},
			env:  append(env, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_PREFLIGHT_RECORD=")}))
	})
}

func signalWhileNoNodeRuns(t *testing.T, l *launched) {
	t.Helper()
	l.waitFor("restarting ")
	for _, sig := range []syscall.Signal{syscall.SIGWINCH, syscall.SIGUSR1, syscall.SIGHUP} {
		l.signal(sig)
	}
	l.waitFor("SIGUSR1 not forwarded")
	l.waitFor("SIGHUP not forwarded")
	l.signal(syscall.SIGTERM)
	if code := l.wait(60 * time.Second); code != 7 {
		t.Errorf("exit %d after the stop in the delay, want the last node's 7\n%s", code, l.stdout)
	}
	out := l.stdout.String()
	logHas(t, out, "SIGUSR1 not forwarded: no ", " runs (it starts again at ", "signal=SIGUSR1")
	if strings.Contains(out, "forwarded SIGUSR1 to") || strings.Contains(out, "SIGWINCH") {
		t.Errorf("a signal told as forwarded, or SIGWINCH at info:\n%s", out)
	}
}

// A stop during the restart delay that follows a restart of the
// launcher's own (readiness here; liveness and memory alike) is a clean
// stop: the child ended by the launcher's SIGTERM, as a stop's own SIGTERM
// ends it, and a stop a moment earlier, while that restart or the sweep
// after it ran, already ended the launcher with 0. In the delay it ended
// it with the child's 143, which Home Assistant's Supervisor reads as an
// app that did not handle SIGTERM. A child that failed by itself still
// gives its code (7 in TestRun_ASignalWhileNoNodeRunsIsToldNotForwarded).
func TestRun_StopInTheDelayAfterARestartOfTheLaunchersIsClean(t *testing.T) {
	l := launch(t, launchOpts{args: child("ready"), env: []string{"LAUNCHER_READY_URL=http://127.0.0.1:1/", "LAUNCHER_READY_TIMEOUT=300ms",
		"LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h"}})
	l.waitFor(" in 1h (restart 1 of ")
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after the stop in the delay, want 0 (a clean stop)\n%s", code, l.stdout)
	}
	logHas(t, l.stdout.String(), "not ready within 300ms", "killed by SIGTERM (143)", "stopped during the restart delay")
}

// The forwarded signals are waited for on the launcher's main thread, in
// rt_sigtimedwait, where the kernel brings a process's signals first (the
// runtime's path is two to three thread wake-ups slower); they still arrive.
func TestRun_WaitsForSignalsOnTheMainThread(t *testing.T) {
	l := launch(t, launchOpts{args: child("echo-signals"), env: []string{never}})
	l.waitFor("child-ready")
	// Between the waits it forwards, logs and counts; at rest it waits.
	waitsOnMainThread(t, l)
	for i := 1; i <= 3; i++ {
		l.signal(syscall.SIGUSR2)
		eventually(t, 5*time.Second, fmt.Sprintf("SIGUSR2 number %d at the child", i), func() bool { return l.stdout.count("got SIGUSR2") == i })
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// The main thread waits for SIGCHLD with the signals it forwards. An
// orphan's SIGCHLD comes to the main thread first, and taken in the wait it
// costs one wake-up, as in tini. Blocked there and left to the runtime's
// path (a handler, the signal goroutine, the Reaper's), reaping 1,000
// orphans cost the launcher a fifth more CPU (docs/BENCHMARKS.md). The set
// is read from the launcher's memory, where rt_sigtimedwait's first
// argument points.
func TestRun_MainThreadWaitsForSIGCHLD(t *testing.T) {
	l := launch(t, launchOpts{args: child("echo-signals"), env: []string{never}})
	l.waitFor("child-ready")
	call := waitsOnMainThread(t, l)
	addr, err := strconv.ParseUint(strings.TrimPrefix(call[1], "0x"), 16, 64)
	if err != nil {
		t.Fatalf("rt_sigtimedwait's set in %q: %v", call, err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", l.pid()))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	var raw [8]byte
	if _, err := mem.ReadAt(raw[:], int64(addr)); err != nil {
		t.Fatalf("reading the waited set at %#x: %v", addr, err)
	}
	set := binary.NativeEndian.Uint64(raw[:])
	for _, sig := range []syscall.Signal{syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGHUP} {
		if set&(1<<(sig-1)) == 0 {
			t.Errorf("the main thread does not wait for %s (set %x)", unix.SignalName(sig), set)
		}
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// waitsOnMainThread waits until the launcher's main thread waits in
// rt_sigtimedwait, at rest between the signals it forwards, and returns
// the call as /proc shows it: the number, then the arguments.
func waitsOnMainThread(t *testing.T, l *launched) (call []string) {
	t.Helper()
	eventually(t, 5*time.Second, "the main thread waiting in rt_sigtimedwait", func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", l.pid()))
		call = strings.Fields(string(b))
		return err == nil && len(call) > 1 && call[0] == strconv.Itoa(unix.SYS_RT_SIGTIMEDWAIT)
	})
	return call
}

func sigName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGUSR1: "SIGUSR1",
		syscall.SIGUSR2: "SIGUSR2", syscall.SIGWINCH: "SIGWINCH"}[s]
}

// PID 1: SIGTERM to a child that dies of it at once ends the launcher with
// 0, not 143, and quickly.
func TestRun_PID1_StopIsQuickAndClean(t *testing.T) {
	l := launch(t, launchOpts{args: child("ready"), namespace: true})
	l.waitFor("child-ready")
	sent := time.Now()
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0 for a clean stop\n%s", code, l.stdout)
	}
	if d := time.Since(sent); d > time.Second {
		t.Errorf("stop took %s, want well under a second", d)
	}
	// One line says it: the forward, what it is for, and the grace.
	if n, m := l.stdout.count("forwarded SIGTERM")+l.stdout.count("SIGTERM forwarded"), l.stdout.count("forwarded SIGTERM to launcher.test to stop it, SIGKILL in 8s"); n != 1 || m != 1 {
		t.Errorf("the stop's SIGTERM in %d lines, want one saying it is forwarded to stop, SIGKILL in 8s:\n%s", n, l.stdout)
	}
}

func TestRun_PID1_StopTimeoutKills(t *testing.T) {
	l := launch(t, launchOpts{args: child("ignore-term"), namespace: true, env: []string{"LAUNCHER_STOP_TIMEOUT=1s"}})
	l.waitFor("child-ready")
	sent := time.Now()
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 137 {
		t.Fatalf("exit %d, want 137\n%s", code, l.stdout)
	}
	if d := time.Since(sent); d > 2*time.Second {
		t.Errorf("stop took %s, want within 2s with LAUNCHER_STOP_TIMEOUT=1s", d)
	}
	if !strings.Contains(l.stdout.String(), "did not stop within 1s") {
		t.Errorf("the kill is not logged:\n%s", l.stdout)
	}
}

// GNU timeout, and whatever signals a process and then its group, sends
// SIGTERM twice in one instant: the launcher took the copy that came after
// the first was handled as an impatient second stop and SIGKILLed node
// (exit 137, about one run in sixteen under `timeout 1.2 launcher run`). Two
// copies within a moment are one stop: node gets it once and ends cleanly.
func TestRun_RepeatedStopInOneInstantIsOneStop(t *testing.T) {
	l := launch(t, launchOpts{args: child("slow-stop"), env: []string{"LAUNCHER_STOP_TIMEOUT=2m"}})
	l.waitFor("child-ready")
	l.signal(syscall.SIGTERM)
	l.waitFor("forwarded SIGTERM")
	l.signal(syscall.SIGTERM) // as timeout's second kill, to the group, lands after the first was taken
	l.waitFor("the same stop")
	// SIGUSR1 ends node's stop; sent while SIGTERM was still pending, it
	// would be taken first (the lower number).
	l.waitFor("child got SIGTERM")
	l.signal(syscall.SIGUSR1)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0: a SIGTERM sent twice at once is one clean stop\n%s", code, l.stdout)
	}
	if n, m := l.stdout.count("forwarded SIGTERM"), l.stdout.count("child got SIGTERM"); n != 1 || m != 1 {
		t.Errorf("SIGTERM forwarded %d times and got by node %d times, want once:\n%s", n, m, l.stdout)
	}
}

func TestRun_SecondSignalKillsAtOnce(t *testing.T) {
	l := launch(t, launchOpts{args: child("ignore-term"), env: []string{"LAUNCHER_STOP_TIMEOUT=2m"}})
	l.waitFor("child-ready")
	l.signal(syscall.SIGTERM)
	l.waitFor("forwarded SIGTERM")
	// What makes it a second stop is the time since the first: the wait
	// is this test's input, not a wait for something to happen.
	time.Sleep(launcher.SameStopWindow)
	l.signal(syscall.SIGINT)
	if code := l.wait(10 * time.Second); code != 137 {
		t.Fatalf("exit %d, want 137\n%s", code, l.stdout)
	}
	if !strings.Contains(l.stdout.String(), "second SIGINT") {
		t.Errorf("the second signal is not logged:\n%s", l.stdout)
	}
}

// PID 1 reaps every orphan: 100 grandchildren re-parented to it leave no
// zombie behind.
func TestRun_PID1_ReapsOrphans(t *testing.T) {
	l := launch(t, launchOpts{args: child("orphan", "100"), namespace: true})
	l.waitFor("child-ready")
	launcherPID := l.pid()
	eventually(t, 10*time.Second, "zombies left in the launcher's namespace", func() bool {
		return zombiesBelow(launcherPID) == 0
	})
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, l.stdout)
	}
	// The 100 grandchildren; the intermediate was waited for by its parent.
	if n := l.stdout.count("reaped orphan"); n != 100 {
		t.Errorf("%d orphans reaped, want 100", n)
	}
	if !strings.Contains(l.stdout.String(), "reaped=100") {
		t.Errorf("the exit line does not count the reaped orphans:\n%s", l.stdout)
	}
}

// zombiesBelow counts zombie processes that are children of pid.
func zombiesBelow(pid int) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] == "Z" && fields[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}

// Not PID 1: when the launcher is SIGKILLed, its child gets SIGKILL too
// (the parent-death signal), so nothing runs on unsupervised.
func TestRun_ParentDeathTakesTheChild(t *testing.T) {
	l := launch(t, launchOpts{args: child("pid")})
	l.waitFor("child-pid=")
	var childPID int
	for _, line := range strings.Split(l.stdout.String(), "\n") {
		if strings.HasPrefix(line, "child-pid=") {
			childPID, _ = strconv.Atoi(strings.TrimPrefix(line, "child-pid="))
		}
	}
	if childPID == 0 {
		t.Fatalf("no child pid in:\n%s", l.stdout)
	}
	l.signal(syscall.SIGKILL)
	<-l.done
	eventually(t, 10*time.Second, fmt.Sprintf("child %d still alive after the launcher was killed", childPID), func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", childPID))
		return err != nil || strings.Contains(string(b), ") Z ")
	})
}

// A log reader that goes away must not take PID 1 with it: writes to a
// closed stdout fail with EPIPE instead of raising SIGPIPE.
func TestRun_ClosedStdoutDoesNotKillTheLauncher(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	l := launch(t, launchOpts{args: child("ready"), stdout: w, namespace: true})
	w.Close()
	buf := make([]byte, 4096)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "child-ready") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("read: %v after %q", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	r.Close()
	l.signal(syscall.SIGWINCH) // the launcher logs the forward: a write to the closed pipe
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d, want 0: supervision must go on without a log reader", code)
	}
}

func TestRun_User(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching users needs root")
	}
	// The test binary must be reachable by nobody: copy it out of the
	// private test folder.
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("launcher-user-test-%d", os.Getpid()))
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(bin) })
	l := launch(t, launchOpts{args: []string{"run", "--", bin, "ids"}, env: []string{never, "LAUNCHER_USER=nobody"}})
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, l.stdout)
	}
	if !strings.Contains(l.stdout.String(), "ids uid=65534 gid=65534") {
		t.Errorf("the child did not run as nobody:\n%s", l.stdout)
	}
}

// Real node, default handlers: node dies of the forwarded SIGTERM, and
// the launcher reports a clean stop, 0, as Home Assistant expects.
func TestRun_RealNodeSIGTERMIsExit0(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	script := "console.log('child-ready'); setInterval(() => {}, 1000);\n"
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	l := launch(t, launchOpts{namespace: true, env: []string{
		"LAUNCHER_APP_DIR=" + dir, "LAUNCHER_NODE=" + node, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=",
	}})
	l.waitFor("child-ready")
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, l.stdout)
	}
	if !strings.Contains(l.stdout.String(), "node killed by SIGTERM (143)") {
		t.Errorf("node's death by SIGTERM is not logged:\n%s", l.stdout)
	}
}

// Under `docker run -it` the terminal sends Ctrl-C to its foreground
// process group. The launcher puts node's group there, so node gets the
// SIGINT once: from the terminal, not again from the launcher. Here, with
// the test binary as the child; and on arm64 (a developer's Apple Silicon
// machine runs arm64 images natively), the arm64 launcher in Debian's
// arm64 root with its node as the child, under QEMU.
func TestRun_CtrlCReachesTheChildOnce(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	self := os.Args[0]
	for _, on := range []struct {
		name string
		// inner is the shell command script runs: the launcher, which runs
		// a child that prints child-ready, counts the SIGINTs it gets for a
		// while after the first, prints sigints=N and exits.
		inner func(t *testing.T) string
	}{
		{"here", func(t *testing.T) string { return fmt.Sprintf("exec %s run -- %s count-sigint", self, self) }},
		{"arm64", func(t *testing.T) string {
			root, bin := arm64Launcher(t)
			const count = `let n = 0; process.on("SIGINT", () => { if (n++ === 0) setTimeout(() => { console.log("sigints" + "=" + n); process.exit(n); }, 300); }); console.log("child-" + "ready"); setInterval(() => {}, 1e6);` // the log's line that starts node quotes the script: not "child-ready" whole
			return fmt.Sprintf("exec chroot %s %s run -- /usr/bin/node -e '%s'", root, bin, count)
		}},
	} {
		t.Run(on.name, func(t *testing.T) { ctrlCReachesTheChildOnce(t, on.inner(t)) })
	}
}

func ctrlCReachesTheChildOnce(t *testing.T, inner string) {
	// script gives the launcher a pseudo-terminal as its controlling
	// terminal, as docker run -it does; our stdin feeds the terminal.
	in, feed, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	cmd := exec.Command("script", "-qefc", inner, "/dev/null")
	cmd.Env = append(os.Environ(), "LAUNCHER_TEST_ROLE=launcher", "LAUNCHER_RESTART=never", "GORACE=atexit_sleep_ms=0",
		"LAUNCHER_HEALTH_ADDR=off", "NO_COLOR=1", "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_PREFLIGHT_RECORD=")
	out := newWatchBuffer()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := out.waitFor("child-ready", 60*time.Second, done); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := feed.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if err := out.waitFor("sigints=", 20*time.Second, done); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	<-done
	if runtimeFault(out.String()) { // the launcher runs outside the harness, under script
		t.Errorf("the launcher's Go runtime reported:\n%s", out)
	}
	if !strings.Contains(out.String(), "sigints=1") {
		t.Errorf("want exactly one SIGINT at node:\n%s", out)
	}
	if strings.Contains(out.String(), "forwarded SIGINT") {
		t.Errorf("the launcher forwarded the terminal's SIGINT again:\n%s", out)
	}
}

// A descendant that escaped into its own session is not in the child's
// process group, so the group kill misses it; the sweep of the launcher's
// descendants still ends it, when the launcher is not PID 1 too.
func TestRun_StopSweepsEscapedDescendants(t *testing.T) {
	for _, ns := range []bool{false, true} {
		t.Run(fmt.Sprintf("pid1=%v", ns), func(t *testing.T) {
			l := launch(t, launchOpts{args: child("escape"), namespace: ns})
			l.waitFor("child-ready")
			var escaped int
			for _, line := range strings.Split(l.stdout.String(), "\n") {
				if v, ok := strings.CutPrefix(line, "escaped-pid="); ok {
					escaped, _ = strconv.Atoi(v)
				}
			}
			if escaped == 0 {
				t.Fatalf("no escaped pid:\n%s", l.stdout)
			}
			if ns {
				escaped = hostPID(t, l.pid(), escaped)
			}
			l.signal(syscall.SIGTERM)
			if code := l.wait(10 * time.Second); code != 0 {
				t.Fatalf("exit %d\n%s", code, l.stdout)
			}
			if alive(escaped) {
				t.Errorf("the escaped process %d outlived the launcher\n%s", escaped, l.stdout)
			}
			if !strings.Contains(l.stdout.String(), "killed 1 leftover process of launcher.test in 1 pass") {
				t.Errorf("the sweep is not logged:\n%s", l.stdout)
			}
		})
	}
}

// alive reports a process that exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// hostPID finds, below the namespace's PID 1 (host pid root), the process
// whose pid inside the namespace is nsPID.
func hostPID(t *testing.T, root, nsPID int) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(strings.TrimPrefix(line, "NSpid:")); strings.HasPrefix(line, "NSpid:") && len(f) == 2 && f[1] == strconv.Itoa(nsPID) {
				if pid, _ := strconv.Atoi(f[0]); pid != root && isBelow(pid, root) {
					return pid
				}
			}
		}
	}
	t.Fatalf("no process %d in the namespace of %d", nsPID, root)
	return 0
}

func isBelow(pid, root int) bool {
	for p := pid; p > 1; {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		p, _ = strconv.Atoi(f[1])
		if p == root {
			return true
		}
	}
	return false
}
