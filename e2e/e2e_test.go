//go:build e2e

// Package e2e runs the add-on in a real container: an image assembled from
// scratch with the static launcher as ENTRYPOINT (PID 1, no --init), the
// built reference backend with its node_modules, and node and its libraries
// from the host's /usr (no base image can be pulled here). Run with
// `make e2e`.
package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// podmanFlags are what podman needs on this machine: runc (crun refuses
// hybrid cgroups) and cgroupfs.
var podmanFlags = []string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}

// runFlags are what every container run here gets: no network, and limits
// runc can set without the host's own.
var runFlags = []string{"--network", "none", "--ulimit", "nofile=1024:20000", "--ulimit", "nproc=1024:2048"}

// runFlagsWith is runFlags for a run with flags: one that chooses its own
// network (--network bridge, to publish a port) goes without "none".
func runFlagsWith(flags []string) []string {
	if slices.Contains(flags, "--network") {
		return runFlags[2:]
	}
	return runFlags
}

// podman runs podman with podmanFlags.
func podman(args ...string) *exec.Cmd {
	return exec.Command("podman", append(slices.Clone(podmanFlags), args...)...)
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v\n%s", from, err, out)
	}
}

// buildImage lays out the image's root as the Dockerfile's runtime stage
// does, and builds it FROM scratch.
func buildImage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is not installed (apt-get install podman runc)")
	}
	repo, _ := filepath.Abs("..")
	ctx := t.TempDir()
	root := filepath.Join(ctx, "root")
	backend := filepath.Join(repo, "rootfs", "app", "backend")
	for _, need := range []string{filepath.Join(repo, "bin", "launcher"), filepath.Join(backend, "dist", "index.js"), filepath.Join(repo, "rootfs", "app", "frontend", "dist")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run make build backend frontend (make e2e does)", need)
		}
	}
	copyTree(t, filepath.Join(repo, "bin", "launcher"), filepath.Join(root, "launcher"))
	for _, p := range []string{"dist", "node_modules", "package.json", "db"} {
		copyTree(t, filepath.Join(backend, p), filepath.Join(root, "app", "backend", p))
	}
	copyTree(t, filepath.Join(repo, "rootfs", "app", "frontend", "dist"), filepath.Join(root, "app", "frontend", "dist"))
	copyTree(t, filepath.Join(repo, "testdata", "node"), filepath.Join(root, "app", "test"))
	for _, d := range []string{"data", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o1777); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"lib": "usr/lib", "lib64": "usr/lib64", "bin": "usr/bin"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	// The launcher stays outside /usr, which the host's is mounted over.
	containerfile := `FROM scratch
COPY root/ /
ENV LAUNCHER_APP_DIR=/app/backend LAUNCHER_ENTRY=dist/index.js PATH=/usr/local/bin:/usr/bin:/bin
ENTRYPOINT ["/launcher"]
HEALTHCHECK --interval=30s --timeout=5s CMD ["/launcher", "healthcheck", "--started"]
`
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("localhost/launcher-e2e:%d", os.Getpid())
	run(t, "build", "--format", "docker", "-q", "-t", tag, ctx)
	t.Cleanup(func() { _ = podman("rmi", "-f", tag).Run() })
	return tag
}

// supervisorFlags are what the Supervisor's run of an add-on's container
// adds to podman's defaults here: no seccomp profile, an oom_score_adj of
// 200, the host's /dev read-only with a tmpfs at /dev/shm, a hostname, the
// time zone and the Supervisor's API token (under both its names) in the
// environment.
var supervisorFlags = []string{"--security-opt", "seccomp=unconfined", "--oom-score-adj", "200",
	"-v", "/dev:/dev:ro", "--tmpfs", "/dev/shm", "--hostname", "xxxxxxxx-hasync",
	"-e", "TZ=UTC", "-e", "SUPERVISOR_TOKEN=" + supervisorToken, "-e", "HASSIO_TOKEN=" + supervisorToken}

const supervisorToken = "e2e-supervisor-token-0123456789abcdef"

type container struct {
	t    *testing.T
	name string
}

// start runs image with data at /data and the host's /usr (node and its
// libraries) mounted over the image's.
func start(t *testing.T, image, data string, flags ...string) *container {
	t.Helper()
	return startImage(t, image, data, append([]string{"-v", "/usr:/usr:ro"}, flags...)...)
}

// startImage runs image, which brings its own node, with data at /data.
func startImage(t *testing.T, image, data string, flags ...string) *container {
	t.Helper()
	name := fmt.Sprintf("launcher-e2e-%d", time.Now().UnixNano())
	args := append(append(append([]string{"run", "-d", "--name", name}, runFlagsWith(flags)...), "-v", data+":/data"), flags...)
	run(t, append(args, image)...)
	c := &container{t, name}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := podman("logs", name).CombinedOutput()
			t.Logf("container logs:\n%s", out)
		}
		_ = podman("rm", "-f", "-t", "0", name).Run()
	})
	return c
}

func (c *container) exec(args ...string) (string, error) {
	out, err := podman(append([]string{"exec", c.name}, args...)...).CombinedOutput()
	return string(out), err
}

func (c *container) logs() string {
	out, _ := podman("logs", c.name).CombinedOutput()
	return string(out)
}

// eventually polls cond, a state only the container can show, until it
// holds or the generous deadline passes.
func (c *container) eventually(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("after %s: %s\nlogs:\n%s", timeout, what, c.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *container) status() map[string]any {
	c.t.Helper()
	return c.statusOf("/launcher")
}

// statusOf is `status --json` of the launcher binary at the path launcher.
func (c *container) statusOf(launcher string) map[string]any {
	c.t.Helper()
	out, err := c.exec(launcher, "status", "--json")
	if err != nil {
		c.t.Fatalf("status --json: %v\n%s", err, out)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		c.t.Fatalf("status --json: %v\n%s", err, out)
	}
	return s
}

// reapsAnOrphan makes an orphan in the container and waits until PID 1
// has reaped it, as the launcher binary at the path launcher tells. node,
// started by podman exec, starts a second node and exits; the second is
// re-parented to PID 1 (podman's exec runs outside the container's PID
// namespace) and ends half a second later. Its reaping shows in /status.
func (c *container) reapsAnOrphan(node, launcher string) {
	c.t.Helper()
	reaped := func() float64 {
		return c.statusOf(launcher)["launcher"].(map[string]any)["reaped"].(float64)
	}
	before := reaped()
	orphan := `require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 500)'], {detached: true, stdio: 'ignore'}).unref()`
	if out, err := c.exec(node, "-e", orphan); err != nil {
		c.t.Fatalf("starting an orphan: %v %s", err, out)
	}
	c.eventually(60*time.Second, "PID 1 did not reap the orphan", func() bool { return reaped() > before })
}

var bashioLine = regexp.MustCompile(`(?m)^\[\d\d:\d\d:\d\d\] (INFO|NOTICE|WARNING|ERROR): `)

func TestAddonInAContainer(t *testing.T) {
	image := buildImage(t)
	data := t.TempDir()
	options := `{"log_level": "info", "admin_username": "e2e-admin", "admin_password": "e2e-secret-value", "database_path": "/data/hasync.db"}`
	if err := os.WriteFile(filepath.Join(data, "options.json"), []byte(options), 0o644); err != nil {
		t.Fatal(err)
	}
	c := start(t, image, data)

	// Healthy, by the image's own HEALTHCHECK.
	c.eventually(60*time.Second, "the container never became healthy", func() bool {
		return podman("healthcheck", "run", c.name).Run() == nil
	})
	if out, err := c.exec("/launcher", "healthcheck"); err != nil || out != "" {
		t.Errorf("launcher healthcheck: %v %q", err, out)
	}

	// The launcher is PID 1, with no init in front of it.
	if out, _ := c.exec("cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "/launcher") {
		t.Errorf("PID 1 is %q, want the launcher", out)
	}

	// launcher status shows the timeline.
	out, err := c.exec("/launcher", "status")
	if err != nil || !strings.Contains(out, "READY") || !strings.Contains(out, "startup") || !strings.Contains(out, "█") {
		t.Errorf("launcher status: %v\n%s", err, out)
	}

	// The options reached the backend as its environment: the admin it
	// created, and the database where database_path says. The password
	// never reaches the log.
	logs := c.logs()
	if !strings.Contains(logs, "admin user e2e-admin ready") {
		t.Errorf("ADMIN_USERNAME from options.json did not reach the backend:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(data, "hasync.db")); err != nil {
		t.Errorf("DATABASE_PATH from options.json: %v", err)
	}
	if strings.Contains(logs, "e2e-secret-value") {
		t.Errorf("an option's value reached the log")
	}
	if !bashioLine.MatchString(logs) || !strings.Contains(logs, "] INFO: ") {
		t.Errorf("podman logs shows no bashio-style lines:\n%s", logs)
	}
	// node's memory once ready, and the container's, in the log.
	memory := regexp.MustCompile(`INFO: \S*node uses [0-9.]+MiB of memory once ready \(resident\); the container uses [0-9.]+MiB`)
	c.eventually(30*time.Second, "no line with node's memory once ready", func() bool { return memory.MatchString(c.logs()) })

	// node killed inside the container is restarted.
	st := c.status()
	pid := int(st["child"].(map[string]any)["pid"].(float64))
	if out, err := c.exec("kill", "-KILL", fmt.Sprint(pid)); err != nil {
		t.Fatalf("kill node: %v %s", err, out)
	}
	c.eventually(30*time.Second, "node was not restarted", func() bool {
		s := c.status()
		child := s["child"].(map[string]any)
		return s["state"] == "ready" && child["restarts"].(float64) == 1 && child["pid"] != nil && int(child["pid"].(float64)) != pid
	})
	if logs := c.logs(); !strings.Contains(logs, "node killed by SIGKILL (137)") || !strings.Contains(logs, "restarting node in") {
		t.Errorf("the kill and the restart are not logged:\n%s", logs)
	}

	c.reapsAnOrphan("node", "/launcher")

	// While the backend runs, its database has a write-ahead log beside
	// it: what a hot backup would copy at another moment than the file.
	if _, err := os.Stat(filepath.Join(data, "hasync.db-wal")); err != nil {
		t.Errorf("the running backend's database has no write-ahead log: %v", err)
	}

	// podman stop: SIGTERM to PID 1, a clean stop, exit 0, well within 2 s.
	began := time.Now()
	run(t, "stop", "-t", "10", c.name)
	took := time.Since(began)
	code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name))
	if code != "0" {
		t.Errorf("exit code %s after podman stop, want 0\n%s", code, c.logs())
	}
	if took > 2*time.Second {
		t.Errorf("podman stop took %s, want under 2 s", took)
	}
	logs = c.logs()
	if !strings.Contains(logs, "forwarded SIGTERM to node") || !strings.Contains(logs, "launcher exiting with code 0") {
		t.Errorf("the stop is not logged:\n%s", logs)
	}
	t.Logf("podman stop took %s; container logs:\n%s", took, logs)

	// A backup (config.yaml: backup: cold) is this stop, then a copy of
	// /data, and a restore copies it back. The stop reached the backend,
	// which closed its database: the file is whole, its write-ahead log
	// folded in and gone.
	if _, err := os.Stat(filepath.Join(data, "hasync.db-wal")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the stop /data still holds the database's write-ahead log (%v): the backend did not close the database", err)
	}
	restored := filepath.Join(t.TempDir(), "data")
	copyTree(t, data, restored)

	// The Supervisor makes a new container of the same image at every
	// start (and after a restore), with /data as it was: the first start
	// kept the preflight's record there (node's restart above recalled it),
	// and a new container recalls it too (overlayfs keeps the image's files'
	// inodes and times across containers, not its device number).
	passes := regexp.MustCompile(`preflight passed in [^\n]*`).FindAllString(logs, -1)
	if len(passes) != 2 || strings.Contains(passes[0], "recalled") || !strings.Contains(passes[1], "recalled") {
		t.Errorf("the first start must run every check and node's restart recall them: %q", passes)
	}
	if _, err := os.Stat(filepath.Join(data, "launcher-preflight.json")); err != nil {
		t.Errorf("the preflight's record is not in /data: %v", err)
	}
	again := start(t, image, restored)
	again.eventually(60*time.Second, "the restored container's backend never opened its database", func() bool {
		return strings.Contains(again.logs(), "database /data/hasync.db:")
	})
	logs = again.logs()
	if !strings.Contains(logs, "recalled: nothing they read changed since") {
		t.Errorf("a new container of the same image must recall the preflight:\n%s", logs)
	}
	if !strings.Contains(logs, "database /data/hasync.db: up to date") {
		t.Errorf("the restored database is not the one the first container migrated:\n%s", logs)
	}
}

// Out of memory: in a container with a memory limit, a node that allocates
// without end is killed by the kernel; the launcher says so (from the
// cgroup's OOM counter), restarts it, and exits 137 when it gives up.
func TestOutOfMemoryInAContainer(t *testing.T) {
	image := buildImage(t)
	c := start(t, image, t.TempDir(), "--memory", "160m", "--memory-swap", "160m",
		"-e", "LAUNCHER_APP_DIR=/app/test", "-e", "LAUNCHER_ENTRY=alloc.js", "-e", "LAUNCHER_NATIVE_MODULES=",
		"-e", "LAUNCHER_READY_URL=", "-e", "ALLOC_MB=32", "-e", "LAUNCHER_RESTART_LIMIT=1", "-e", "LAUNCHER_RESTART_DELAY=100ms")
	c.eventually(60*time.Second, "the launcher did not end", func() bool {
		out, _ := podman("inspect", "-f", "{{.State.Running}}", c.name).Output()
		return strings.TrimSpace(string(out)) == "false"
	})
	code := strings.TrimSpace(run(t, "inspect", "-f", "{{.State.ExitCode}}", c.name))
	logs := c.logs()
	if code != "137" {
		t.Errorf("exit code %s, want 137\n%s", code, logs)
	}
	for _, want := range []string{"node killed by SIGKILL (137)", "was killed by the kernel: out of memory", "reason=oom", "restarting node in 100ms", "not restarting node"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	t.Logf("container logs:\n%s", logs)
}
