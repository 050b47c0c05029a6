package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
)

// The test binary plays three roles, chosen by LAUNCHER_TEST_ROLE: the test
// suite; the launcher itself (exactly what cmd/launcher runs); and a fake
// child whose behaviour the arguments name.
func TestMain(m *testing.M) {
	switch os.Getenv("LAUNCHER_TEST_ROLE") {
	case "launcher":
		p := program{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: append(os.Environ(), "LAUNCHER_TEST_ROLE=child")}
		os.Exit(p.main(context.Background(), os.Args[1:]))
	case "child":
		os.Exit(fakeChild(os.Args[1:]))
	}
	code := m.Run()
	// The real binaries' folder, built once for the whole run.
	if realBinaries.dir != "" {
		os.RemoveAll(realBinaries.dir)
	}
	os.Exit(code)
}

// fakeChild behaves as args say and returns its exit code.
func fakeChild(args []string) int {
	arg := func(i int) int {
		n, _ := strconv.Atoi(args[i])
		return n
	}
	switch args[0] {
	case "exit": // exit N
		return arg(1)
	case "ready": // print ready, then wait with default signal dispositions
		fmt.Println("child-ready")
		select {}
	case "ignore-term": // ignore SIGTERM and SIGINT
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("child-ready")
		select {}
	case "pid": // print the pid, then wait
		fmt.Printf("child-pid=%d\n", os.Getpid())
		select {}
	case "ids": // print uid and gid
		fmt.Printf("ids uid=%d gid=%d groups=%v\n", os.Getuid(), os.Getgid(), mustGroups())
		return 0
	case "echo-signals": // print each signal received, one per line
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGTERM)
		fmt.Println("child-ready")
		for s := range ch {
			fmt.Printf("got %s\n", launcher.SignalName(s.(syscall.Signal)))
			if s == syscall.SIGTERM {
				return 0
			}
		}
	case "slow-stop": // print each SIGTERM; a stop that ends only at SIGUSR1, with exit 0
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGUSR1)
		fmt.Println("child-ready")
		for s := range ch {
			if s == syscall.SIGUSR1 {
				return 0
			}
			fmt.Println("child got SIGTERM")
		}
	case "count-sigint": // count SIGINTs for a while after the first, exit with the count
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, syscall.SIGINT)
		fmt.Println("child-ready")
		<-ch
		n := 1
		deadline := time.After(300 * time.Millisecond)
		for {
			select {
			case <-ch:
				n++
			case <-deadline:
				fmt.Printf("sigints=%d\n", n)
				return n
			}
		}
	case "output": // exact bytes on both streams, then exit
		os.Stdout.Write(stdoutSample)
		os.Stderr.Write(stderrSample)
		return 0
	case "fail-loud": // N lines on stderr, then exit 3
		for i := 1; i <= arg(1); i++ {
			fmt.Fprintf(os.Stderr, "error line %d\n", i)
		}
		return 3
	case "orphan": // orphan N grandchildren (through an intermediate), then wait
		cmd := exec.Command(os.Args[0], "spawn", args[1])
		if err := cmd.Run(); err != nil {
			fmt.Println("spawn:", err)
			return 1
		}
		fmt.Println("child-ready")
		select {}
	case "escape": // start a process in its own session (like node's detached: true), print its pid, wait
		cmd := exec.Command("/bin/sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Println("escape:", err)
			return 1
		}
		fmt.Printf("escaped-pid=%d\n", cmd.Process.Pid)
		fmt.Println("child-ready")
		select {}
	case "forkloop-exit": // forkloop-exit SLEEP FLAG: first run: a shell in its own session that ignores SIGTERM and double-forks SLEEP as fast as it can, then exit 1; later runs: ready, wait
		if _, err := os.Stat(args[2]); err == nil {
			fmt.Println("child-ready")
			select {}
		}
		os.WriteFile(args[2], nil, 0o644)
		// Eight loops side by side, each double-forking as fast as it can:
		// while a single pass lists and kills, the others go on forking.
		loop := fmt.Sprintf("trap '' TERM; for j in 1 2 3 4 5 6 7 8; do ( i=0; while [ $i -lt 400 ]; do ( %s 10 & ); i=$((i+1)); done ) & done; wait", args[1])
		cmd := exec.Command("/bin/sh", "-c", loop)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Println("forkloop:", err)
			return 2
		}
		// Exit once the loop is under way.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)); len(b) > 0 {
				break
			}
		}
		fmt.Println("child-exiting")
		return 1
	case "leak": // print option values on stderr, as a careless crash message would, then wait
		fmt.Fprintf(os.Stderr, "db password is %s, api token %s\n", os.Getenv("ADMIN_PASSWORD"), os.Getenv("API_TOKEN"))
		fmt.Println("child-ready")
		select {}
	case "ipc-ready": // say "ready" on node's IPC channel (fd 3, JSON lines), then wait
		if os.Getenv("NODE_CHANNEL_FD") != "3" {
			fmt.Println("no IPC channel")
			return 2
		}
		f := os.NewFile(3, "ipc")
		f.Write([]byte("\"ready\"\n"))
		fmt.Println("child-ready")
		select {}
	case "spawn": // start N short processes and exit without waiting for them
		for i := 0; i < arg(1); i++ {
			if err := exec.Command("/bin/true").Start(); err != nil {
				return 1
			}
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "fake child: unknown behaviour %q\n", args)
	return 99
}

var (
	stdoutSample = []byte("line one\n\x00\x01\xff binary\r\nno newline at the end")
	stderrSample = []byte("warn: something\n\tindented\nlast partial")
)

func mustGroups() []int {
	g, _ := os.Getgroups()
	return g
}

// launched is a launcher process under test.
type launched struct {
	t         *testing.T
	cmd       *exec.Cmd
	stdout    *watchBuffer
	stderr    *watchBuffer
	started   time.Time
	done      chan struct{}
	state     *os.ProcessState
	elapsed   time.Duration
	faultTold bool // a fault of its Go runtime is told (once)
}

type launchOpts struct {
	binary string // run this launcher instead of the test binary

	env       []string // extra variables
	args      []string // launcher arguments
	namespace bool     // run as PID 1 of a fresh PID namespace
	stdout    *os.File // instead of a collected pipe
	stdin     *os.File
	under     []string // a command the launcher runs under: taskset -c 0
}

// child is the launcher's argument list for supervising a fake child.
func child(behaviour ...string) []string {
	return append([]string{"run", "--", os.Args[0]}, behaviour...)
}

func launch(t *testing.T, o launchOpts) *launched {
	t.Helper()
	name, args := os.Args[0], o.args
	if o.binary != "" {
		name = o.binary
	}
	if o.namespace {
		requireUnshare(t)
		// --kill-child: a test that fails before stopping the launcher must
		// not leave it running; unshare passes no signal on.
		name, args = "unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", name}, o.args...)
	}
	if len(o.under) > 0 {
		name, args = o.under[0], append(append(o.under[1:len(o.under):len(o.under)], name), args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(),
		"LAUNCHER_TEST_ROLE=launcher",
		"LAUNCHER_OPTIONS_FILE="+filepath.Join(t.TempDir(), "options.json"),
		"LAUNCHER_HEALTH_ADDR=off",
		// On, as in the add-on, but each launch's own: a test that wants
		// one start to recall another's sets it.
		"LAUNCHER_PREFLIGHT_RECORD="+filepath.Join(t.TempDir(), "preflight.json"),
		"LAUNCHER_LOG_LEVEL=debug",
		"NO_COLOR=1",
		// The race runtime sleeps 1 s at exit by default; timings here are the launcher's.
		"GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"),
	)
	cmd.Env = append(cmd.Env, o.env...)
	l := &launched{t: t, cmd: cmd, stdout: newWatchBuffer(), stderr: newWatchBuffer(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr, cmd.Stdin = l.stdout, l.stderr, o.stdin
	// A launcher killed by the cleanup below leaves its descendants; one
	// that still holds the output's pipe must not hold the test with it.
	cmd.WaitDelay = 5 * time.Second
	if o.stdout != nil {
		cmd.Stdout = o.stdout
	}
	l.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		l.elapsed = time.Since(l.started)
		l.state = cmd.ProcessState
		close(l.done)
	}()
	t.Cleanup(func() {
		select {
		case <-l.done:
		default:
			// A stop first, so that the launcher ends what it started.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-l.done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-l.done
			}
			t.Logf("launcher stdout:\n%s\nstderr:\n%s", l.stdout, l.stderr)
		}
		l.sound()
	})
	return l
}

// sound fails the test when the launcher's Go runtime reported a fault of
// its own: a data race (the launcher under test is this test binary,
// built with -race in CI) or a panic. Both go to a stderr few tests read,
// with an exit code (66, 2) only those that assert a code would see, and
// 2 is also the code of a bad configuration.
func (l *launched) sound() {
	l.t.Helper()
	if l.faultTold {
		return
	}
	if out := l.stderr.String(); runtimeFault(out) {
		l.faultTold = true
		l.t.Errorf("the launcher's Go runtime reported:\n%s", out)
	}
}

// runtimeFault reports whether out, a launcher's stderr, holds its Go
// runtime's report of a data race or a panic.
func runtimeFault(out string) bool {
	return strings.Contains(out, "WARNING: DATA RACE") || goPanic.MatchString(out)
}

// goPanic is how the Go runtime begins the report of a panic or a fatal
// error, then of the goroutine that met it.
var goPanic = regexp.MustCompile(`(?m)^(panic|fatal error): .*\n(?:.*\n)*?goroutine \d+ \[`)

// wait returns the launcher's exit code, failing the test after timeout.
func (l *launched) wait(timeout time.Duration) int {
	l.t.Helper()
	select {
	case <-l.done:
	case <-time.After(timeout):
		l.t.Fatalf("launcher still running after %s\nstdout:\n%s\nstderr:\n%s", timeout, l.stdout, l.stderr)
	}
	if ws, ok := l.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		l.t.Fatalf("launcher died of %s\nstdout:\n%s", ws.Signal(), l.stdout)
	}
	l.sound()
	return l.state.ExitCode()
}

// waitFor blocks until the launcher's stdout holds s.
func (l *launched) waitFor(s string) {
	l.t.Helper()
	if err := l.stdout.waitFor(s, 20*time.Second, l.done); err != nil {
		l.t.Fatalf("%v waiting for %q\nstdout:\n%s\nstderr:\n%s", err, s, l.stdout, l.stderr)
	}
}

// nodeFailed waits for the launcher to end with node's exit 1, as a
// failure node logged ends it under LAUNCHER_RESTART=never, and returns
// its log.
func (l *launched) nodeFailed(within time.Duration) string {
	l.t.Helper()
	if code := l.wait(within); code != 1 {
		l.t.Fatalf("exit %d, want node's 1\n%s", code, l.stdout)
	}
	return l.stdout.String()
}

// logHas fails t for each of want that out, a launcher's log, lacks.
func logHas(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, out)
		}
	}
}

// pid is the launcher's pid as seen from here (inside unshare, its child).
func (l *launched) pid() int {
	l.t.Helper()
	if l.cmd.Args[0] != "unshare" {
		return l.cmd.Process.Pid
	}
	p := l.cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
	if err != nil || len(strings.Fields(string(b))) == 0 {
		l.t.Fatalf("no launcher below unshare %d: %v", p, err)
	}
	n, _ := strconv.Atoi(strings.Fields(string(b))[0])
	return n
}

func (l *launched) signal(sig syscall.Signal) {
	l.t.Helper()
	if err := syscall.Kill(l.pid(), sig); err != nil {
		l.t.Fatal(err)
	}
}

var unshareOnce struct {
	sync.Once
	err error
}

// requireUnshare skips, saying why, where a PID namespace cannot be made.
// CI runs as root, where it can.
func requireUnshare(t *testing.T) {
	t.Helper()
	unshareOnce.Do(func() {
		out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput()
		if err != nil {
			unshareOnce.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if unshareOnce.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the PID-namespace tests, but unshare is refused: %v", unshareOnce.err)
		}
		t.Skipf("unshare is refused here, skipping the PID-1 test: %v", unshareOnce.err)
	}
}

// watchBuffer collects output and lets a test wait for a piece of it.
type watchBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchBuffer() *watchBuffer { return &watchBuffer{changed: make(chan struct{})} }

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return len(p), nil
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *watchBuffer) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

func (w *watchBuffer) waitFor(s string, timeout time.Duration, done <-chan struct{}) error {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		found, changed := strings.Contains(w.buf.String(), s), w.changed
		w.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-changed:
		case <-done:
			if strings.Contains(w.String(), s) {
				return nil
			}
			return errors.New("launcher exited")
		case <-deadline:
			return fmt.Errorf("timed out after %s", timeout)
		}
	}
}

// count is how many lines of the output contain s.
func (w *watchBuffer) count(s string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(w.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// eventually polls cond, for states only /proc can show, until it holds or
// the generous deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// realBinaries are cmd/launcher built as it ships, once a run for each CPU
// asked for, in one folder.
var realBinaries struct {
	sync.Mutex
	dir   string
	paths map[string]string // by GOARCH
}

// realLauncher builds cmd/launcher as it ships (static, no race detector),
// for what the race-instrumented test binary would distort: memory.
func realLauncher(t *testing.T) string {
	t.Helper()
	return realLauncherFor(t, runtime.GOARCH)
}

// realLauncherFor is the shipped launcher built for goarch, as an image of
// that CPU holds it (run here by emulation when it is not this machine's).
func realLauncherFor(t *testing.T, goarch string) string {
	t.Helper()
	realBinaries.Lock()
	defer realBinaries.Unlock()
	if path, ok := realBinaries.paths[goarch]; ok {
		return path
	}
	if realBinaries.dir == "" {
		dir, err := os.MkdirTemp("", "launcher-real-")
		if err != nil {
			t.Fatal(err)
		}
		realBinaries.dir, realBinaries.paths = dir, map[string]string{}
	}
	path := filepath.Join(realBinaries.dir, goarch, "launcher")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/launcher")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", goarch, err, out)
	}
	realBinaries.paths[goarch] = path
	return path
}
