package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/preflight"
)

// A bug in what samples node does not take node down. The launcher reads
// node's memory and CPU with gopsutil, whose parser of /proc/<pid>/stat
// indexes its fields without a bound (shirou/gopsutil#2070): a short stat
// file panics it. gopsutil reads /proc where HOST_PROC says, so the test
// gives it, for node's pid only, a /proc holding a valid statm and a stat
// cut short: the real library panics as on such a kernel. The launcher is
// PID 1 of its own PID namespace, as in the add-on's container: the build
// before died of the panic (Go's report on stderr, exit 2), and the kernel
// killed node with it. Now the launcher says so once, with the stack,
// samples no more, and node runs on until the stop, which ends it with 0.
// Under QEMU too, the arm64 launcher with Debian's arm64 node in a chroot.
func TestRun_APanicWhileSamplingLeavesNodeRunning(t *testing.T) {
	const app = `process.on("SIGTERM", () => process.exit(0)); console.log("app-" + "up"); setInterval(() => {}, 1e6);`
	env := []string{never, "LAUNCHER_SAMPLE_INTERVAL=50ms", "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=",
		"LAUNCHER_OPTIONS_FILE=", "LAUNCHER_PREFLIGHT_RECORD="}
	t.Run("here", func(t *testing.T) {
		proc := t.TempDir()
		l := launch(t, launchOpts{namespace: true, args: []string{"run", "--", "/usr/bin/node", "-e", app},
			env: append(env, "HOST_PROC="+proc)})
		panicWhileSampling(t, l, proc)
	})
	t.Run("arm64", func(t *testing.T) {
		root, bin := arm64Launcher(t)
		proc, err := os.MkdirTemp(filepath.Join(root, "tmp"), "proc-")
		must(t, err)
		t.Cleanup(func() { os.RemoveAll(proc) })
		l := launch(t, launchOpts{namespace: true, binary: "chroot", args: []string{root, bin, "run", "--", "/usr/bin/node", "-e", app},
			env: append(env, "HOST_PROC=/"+filepath.Base(filepath.Dir(proc))+"/"+filepath.Base(proc))})
		panicWhileSampling(t, l, proc)
	})
}

// panicWhileSampling gives l's node, once started, a /proc at proc that
// panics gopsutil, and checks that the launcher and node live on.
func panicWhileSampling(t *testing.T, l *launched, proc string) {
	t.Helper()
	l.waitFor("app-up")
	m := regexp.MustCompile(`started \S*node -e .* pid=(\d+)`).FindStringSubmatch(l.stdout.String())
	if m == nil {
		t.Fatalf("no pid for node:\n%s", l.stdout)
	}
	pid, _ := strconv.Atoi(m[1]) // the namespace's: what the launcher samples
	dir := filepath.Join(proc, m[1])
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "statm"), []byte("270000 11000 6000 2000 0 40000 0\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(fmt.Sprintf("%d (node) S 1\n", pid)), 0o644))

	l.waitFor("sampling node failed")
	out := l.stdout.String()
	logHas(t, out, "a bug in the launcher or in a library it uses", "index out of range", "node runs on",
		"goroutine ", "gopsutil") // the stack, which names where it panicked
	// The launcher and node still run: a stop ends node, as any stop does.
	select {
	case <-l.done:
		t.Fatalf("the launcher ended after the panic:\n%s\nstderr:\n%s", out, l.stderr)
	default:
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d after the stop, want 0\n%s", code, l.stdout)
	}
	out = l.stdout.String()
	logHas(t, out, "node exited with code 0")
	t.Logf("the launcher's log:\n%s", out)
	if n := strings.Count(out, "sampling node failed"); n != 1 {
		t.Errorf("the panic was told %d times, want once (sampling stops with it):\n%s", n, out)
	}
}

// launcher check after a panic in the checks (node's report, a function
// of the test's, panics; none of the checks is known to): the report is
// its one warning, exit 0 as node would start, and the stack goes to
// stderr for the report of the bug; in JSON too.
func TestCheck_APanicInTheChecksIsPrintedWithItsStack(t *testing.T) {
	app := t.TempDir()
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("console.log('up')\n"), 0o644))
	for _, asJSON := range []bool{false, true} {
		pf := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: "/usr/bin/node",
			Reported: func(context.Context) (preflight.NodeVersions, bool) {
				var v []int
				return preflight.NodeVersions{ABI: v[0]}, true
			}}
		stdout, stderr := tempFile(t), tempFile(t)
		code := program{stdout: stdout, stderr: stderr}.report(pf.Run(context.Background()), asJSON)
		out, errs := readBack(t, stdout), readBack(t, stderr)
		want := regexp.MustCompile(`WARN\s+checks\s+not run to their end: they failed for a bug in the launcher`)
		if asJSON {
			want = regexp.MustCompile(`"ok": true,[\s\S]*"name": "checks",\s+"status": "warn",\s+"detail": "not run to their end`)
		}
		if code != 0 || !want.MatchString(out) {
			t.Errorf("json=%v: exit %d, want 0 and one warning:\n%s", asJSON, code, out)
		}
		if !strings.HasPrefix(errs, "launcher check: the checks failed for a bug in the launcher or in a library it uses (runtime error: index out of range [0] with length 0)") ||
			!strings.Contains(errs, "TestCheck_APanicInTheChecksIsPrintedWithItsStack") {
			t.Errorf("json=%v: stderr lacks the panic and its stack:\n%s", asJSON, errs)
		}
	}
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func readBack(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	must(t, err)
	return string(b)
}
