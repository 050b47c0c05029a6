package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/preflight"
)

// The supervision core under abuse: each of these reproduced a failure of
// the earlier design before it was fixed.

// forkLoop makes the program a fork loop double-forks: sleep under a name
// of its own, so its processes can be told from any other.
func forkLoop(t *testing.T) (sleep, marker string) {
	t.Helper()
	marker = fmt.Sprintf("forkloop-%d-%d", os.Getpid(), time.Now().UnixNano())
	sleep = filepath.Join(t.TempDir(), marker)
	must(t, os.Symlink("/bin/sleep", sleep))
	return sleep, marker
}

// chainAlive lists the live processes of a fork loop, by its marker.
func chainAlive(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		argv := strings.Split(string(b), "\x00")
		// The sleeps (named by the marker) and the shell loop; not the
		// launcher or unshare, whose arguments name it too.
		if err != nil || !strings.HasSuffix(argv[0], marker) && !(argv[0] == "/bin/sh" && strings.Contains(string(b), marker)) {
			continue
		}
		if alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// childOf reports whether the launcher still has a child whose command
// line holds s.
func childOf(launcherPID int, s string) bool {
	for _, pid := range childrenOf(launcherPID) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// childrenOf lists the direct children of every thread of pid.
func childrenOf(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				out = append(out, k)
			}
		}
	}
	return out
}

// 1. A SIGTERM is never lost: while the launcher sweeps what a failed child
// left (a fork loop that outlives a single pass), a flood of forwarded
// signals arrives, then SIGTERM. The stop wins over the restart.
func TestCore_StopDuringTheSweepIsNotLost(t *testing.T) {
	sleep, _ := forkLoop(t)
	flag := filepath.Join(t.TempDir(), "ran")
	l := launch(t, launchOpts{namespace: true, args: child("forkloop-exit", sleep, flag),
		env: []string{"LAUNCHER_RESTART=on-failure", "LAUNCHER_RESTART_DELAY=10ms"}})
	l.waitFor("child-exiting")
	// The child is reaped: the loop is past its exit, in the sweep.
	eventually(t, 10*time.Second, "the child was not reaped", func() bool { return !childOf(l.pid(), "forkloop-exit") })
	for range 20 {
		l.signal(syscall.SIGWINCH)
		l.signal(syscall.Signal(36)) // SIGRTMIN+2: real-time signals queue, so the flood is all delivered
	}
	l.signal(syscall.SIGTERM)
	code := l.wait(15 * time.Second)
	if n := strings.Count(l.stdout.String(), "started "); n != 1 {
		t.Errorf("the child was started %d times: the stop was lost\n%s", n, l.stdout)
	}
	if code != 1 {
		t.Errorf("exit %d, want the child's own 1 (a stop after a failure)\n%s", code, l.stdout)
	}
}

// 2. The sweep repeats until nothing is left: a shell loop that ignores
// SIGTERM and double-forks as fast as it can, in its own session.
func TestCore_SweepLeavesNoSurvivor(t *testing.T) {
	t.Run("subreaper", func(t *testing.T) {
		sleep, marker := forkLoop(t)
		l := launch(t, launchOpts{args: child("forkloop-exit", sleep, filepath.Join(t.TempDir(), "ran")),
			env: []string{"LAUNCHER_RESTART=never"}})
		if code := l.wait(15 * time.Second); code != 1 {
			t.Fatalf("exit %d\n%s", code, l.stdout)
		}
		if left := chainAlive(marker); len(left) > 0 {
			t.Errorf("%d processes of the fork loop outlived the launcher: %v\n%s", len(left), left, l.stdout)
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if !strings.Contains(l.stdout.String(), "leftover") {
			t.Errorf("the sweep is not logged:\n%s", l.stdout)
		}
	})
	t.Run("pid1", func(t *testing.T) {
		sleep, marker := forkLoop(t)
		l := launch(t, launchOpts{namespace: true, args: child("forkloop-exit", sleep, filepath.Join(t.TempDir(), "ran")),
			env: []string{"LAUNCHER_RESTART=on-failure", "LAUNCHER_RESTART_DELAY=10ms"}})
		l.waitFor("child-ready") // the second child's life
		if left := chainAlive(marker); len(left) > 0 {
			t.Errorf("%d processes of the fork loop survived into the next child's life\n%s", len(left), l.stdout)
		}
		l.signal(syscall.SIGTERM)
		if code := l.wait(15 * time.Second); code != 0 {
			t.Errorf("exit %d\n%s", code, l.stdout)
		}
	})
}

// freeAddr is a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// 3. Idle connections to the health server cannot take the descriptors a
// restart needs: with 400 descriptors and 450 idle connections, killing
// the child still ends in a restart, not in a fatal "too many open files".
func TestCore_IdleConnectionsCannotStarveARestart(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	addr := freeAddr(t)
	l := launch(t, launchOpts{binary: "prlimit", args: append([]string{"--nofile=400:400", os.Args[0]}, child("pid")...),
		env: []string{"LAUNCHER_HEALTH_ADDR=" + addr, "LAUNCHER_RESTART=on-failure", "LAUNCHER_RESTART_DELAY=10ms"}})
	l.waitFor("child-pid=")
	eventually(t, 10*time.Second, "the health server does not answer", func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 450 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	pid, _ := strconv.Atoi(strings.Fields(strings.SplitN(l.stdout.String(), "child-pid=", 2)[1])[0])
	syscall.Kill(pid, syscall.SIGKILL)
	l.stdout.waitFor("child-pid=", time.Second, nil) // the first
	eventually(t, 15*time.Second, "no second start after the kill:\n"+l.stdout.String(), func() bool {
		return strings.Count(l.stdout.String(), "child-pid=") >= 2
	})
	if strings.Contains(l.stdout.String(), "too many open files") {
		t.Errorf("the launcher ran out of descriptors:\n%s", l.stdout)
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(15 * time.Second); code != 0 {
		t.Errorf("exit %d\n%s", code, l.stdout)
	}
}

// 3b. A preflight that runs out of descriptors says so: no "not found" for
// a shortage, and the report is marked short (not a verdict on the image).
func TestCore_PreflightShortOfDescriptorsSaysSo(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	app := newApp(t, ">=18", appPackages(t, "app20"))
	for _, n := range []int{6, 8, 10, 12, 16} {
		l := launch(t, launchOpts{binary: "prlimit", args: []string{fmt.Sprintf("--nofile=%d:%d", n, n), os.Args[0], "check", "--json"},
			env: []string{"LAUNCHER_APP_DIR=" + app}})
		code := l.wait(30 * time.Second)
		var r preflight.Report
		if err := json.Unmarshal(l.stdout.Bytes(), &r); err != nil {
			continue // too few descriptors to print a report at all
		}
		for _, c := range r.Checks {
			if c.Status == preflight.StatusFail && strings.Contains(c.Detail, "not found") {
				t.Errorf("nofile=%d: %s says %q for a shortage of descriptors", n, c.Name, c.Detail)
			}
		}
		if code == 3 && !r.Short {
			t.Errorf("nofile=%d: the preflight failed without being marked short: %+v", n, r.Checks)
		}
	}
}

// 4. With LAUNCHER_READY_IPC and a ready URL, readiness is the first of the
// two: a URL that answers at once makes the child ready though it never
// sends "ready"; a child that sends "ready" is ready though the URL never
// answers.
func TestCore_ReadinessIsTheFirstOfIPCAndURL(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	down := freeAddr(t)
	for _, c := range []struct {
		name, url, behaviour, by string
	}{
		{"url answers", up.URL, "ready", "by=url"},
		{"ipc says ready", "http://" + down + "/", "ipc-ready", "by=ipc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{args: child(c.behaviour), env: []string{"LAUNCHER_READY_IPC=true",
				"LAUNCHER_READY_URL=" + c.url, "LAUNCHER_READY_TIMEOUT=20s", "LAUNCHER_LIVENESS_INTERVAL=0"}})
			l.waitFor(" ready in ")
			if out := l.stdout.String(); !strings.Contains(out, c.by) || strings.Contains(out, "not ready within") {
				t.Errorf("readiness not taken from the first to show it (%s):\n%s", c.by, out)
			}
			l.signal(syscall.SIGTERM)
			if code := l.wait(15 * time.Second); code != 0 {
				t.Errorf("exit %d\n%s", code, l.stdout)
			}
		})
	}
}

// 5. A stop that comes while the launcher starts ends it as a stop: exit 0,
// told, nothing of the app run; a signal for node then is told not
// forwarded. Until the supervision loop subscribed them, SIGTERM and SIGHUP
// met the Go runtime's default: the launcher, PID 1, ended with exit 2 (the
// code of a bad configuration) and not a line of log more (SIGQUIT with a
// dump of its goroutines), whether they came in its first milliseconds or
// while it gave node's user a data folder of many files, which takes as
// long as the folder is large. The stops are now subscribed before the
// first line is written, so a stop sent once it is read always comes
// after; the others from the same moment, in the background, SIGHUP and
// SIGQUIT first, in a fraction of the time the walk takes.
func TestCore_StopWhileTheLauncherStartsIsAStop(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	app := t.TempDir()
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("require('fs').writeFileSync(__dirname + '/ran', '')\n"), 0o644))
	// stop starts the launcher (command, then run) as PID 1 with the app
	// at appIn (ran on this side), and at its line at sends it first (for
	// node: told not forwarded), then SIGTERM.
	stop := func(t *testing.T, command []string, appIn, ran, at string, env []string, first ...syscall.Signal) {
		t.Helper()
		l := launch(t, launchOpts{namespace: true, binary: command[0], args: append(slices.Clone(command[1:]), "run"),
			env: append([]string{"LAUNCHER_APP_DIR=" + appIn, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "LAUNCHER_RESTART=never"}, env...)})
		l.waitFor(at)
		for _, sig := range append(first, syscall.SIGTERM) {
			l.signal(sig)
		}
		if code := l.wait(60 * time.Second); code != 0 {
			t.Fatalf("exit %d after %v at %q, want 0 (a clean stop)\nstdout:\n%s\nstderr:\n%s", code, append(first, syscall.SIGTERM), at, l.stdout, l.stderr)
		}
		logHas(t, l.stdout.String(), "SIGTERM: stopping before node started", "launcher exiting with code 0")
		for _, sig := range first {
			// "node has not started yet", or "no node runs" once the stop
			// is under way: the forwarder and the loop go side by side.
			logHas(t, l.stdout.String(), launcher.SignalName(sig)+" not forwarded: ")
		}
		if _, err := os.Stat(ran); err == nil {
			t.Fatalf("the app ran although the stop came before node started\n%s", l.stdout)
		}
	}
	here := []string{os.Args[0]}
	t.Run("at its first line", func(t *testing.T) {
		for range 5 {
			stop(t, here, app, filepath.Join(app, "ran"), " pid=1", []string{"LAUNCHER_NODE=" + node})
		}
	})
	t.Run("while it gives node's user its data", func(t *testing.T) {
		data := t.TempDir()
		for i := range 100 {
			dir := filepath.Join(data, strconv.Itoa(i))
			must(t, os.Mkdir(dir, 0o755))
			for j := range 200 {
				must(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(j)), nil, 0o644))
			}
		}
		stop(t, here, app, filepath.Join(app, "ran"), "the child runs as", []string{"LAUNCHER_NODE=" + node, "LAUNCHER_USER=65534", "LAUNCHER_USER_DIRS=" + data},
			syscall.SIGHUP, syscall.SIGQUIT)
	})
	// The arm64 launcher in Debian's arm64 root, under QEMU, as on a
	// Raspberry Pi: its start, emulated, is all the longer.
	t.Run("arm64, at its first line", func(t *testing.T) {
		root, _ := arm64Launcher(t)
		bin, appIn := inRoot(t, root, app)
		for range 3 {
			stop(t, []string{"chroot", root, bin}, appIn, filepath.Join(root, appIn, "ran"), " pid=1", []string{"LAUNCHER_NODE=/usr/bin/node", "LAUNCHER_PREFLIGHT_RECORD="})
		}
	})
}

// 6. A node that cannot run `--version` because /dev/null is missing is
// told so, not to reinstall node.
func TestCore_MissingDevNullIsNamed(t *testing.T) {
	root := debianRoot(t, "amd64")
	app := newApp(t, ">=18", appPackages(t, "app18"))
	bin, appDir := inRoot(t, root, app)
	empty := t.TempDir()
	// /dev of the root hidden under an empty folder, in a mount namespace
	// of this command alone.
	script := fmt.Sprintf("mount --bind %s %s/dev && exec chroot %s %s check --json", empty, root, root, bin)
	cmd := exec.Command("unshare", "--mount", "sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NATIVE_MODULES=bcrypt"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	var r preflight.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("no report (%v):\n%s\n%s", err, out, stderr.String())
	}
	expectCheck(t, r, "node", preflight.StatusFail, []string{"/dev/null"}, []string{"/dev/null is missing", "mknod"})
	for _, c := range r.Checks {
		if c.Name == "node" && strings.Contains(c.Hint, "Reinstall") {
			t.Errorf("told to reinstall node for a missing /dev/null: %s", c.Hint)
		}
	}
}

// The health server is bounded: 3,000 idle connections hold neither the
// launcher's descriptors nor its memory, and /healthz still answers.
func TestCore_HealthServerBounded(t *testing.T) {
	addr := freeAddr(t)
	l := launch(t, launchOpts{binary: realLauncher(t), args: []string{"run", "--", "/bin/sleep", "1000"},
		env: []string{"LAUNCHER_HEALTH_ADDR=" + addr}})
	l.waitFor("ready in")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3000 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	began := time.Now()
	res, err := client.Get("http://" + addr + "/healthz")
	took := time.Since(began)
	if err != nil {
		t.Fatalf("/healthz with 3,000 idle connections: %v", err)
	}
	res.Body.Close()
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", l.pid()))
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.pid()))
	anon := 0
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssAnon:" {
			anon, _ = strconv.Atoi(f[1])
		}
	}
	t.Logf("3,000 idle connections: /healthz in %s, launcher holds %d descriptors, %d kB anonymous memory", took, len(fds), anon)
	if len(fds) > 100 {
		t.Errorf("the launcher holds %d descriptors: the connection cap does not hold", len(fds))
	}
	if anon > 16<<10 {
		t.Errorf("the launcher's anonymous memory is %d kB, over 16 MB", anon)
	}
	l.signal(syscall.SIGTERM)
	l.wait(15 * time.Second)
}
