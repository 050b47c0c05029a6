package main

import (
	"cmp"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// Debian's and Ubuntu's node is a small executable over libnode.so.108,
// where the Node-API and V8 symbols live. The preflight must look for an
// addon's imports where the dynamic loader does (the executable, then its
// libraries breadth-first), or it fails modules that load.

// debianRoot is Debian 12's own Node 18 for arch, unpacked into a root by
// testdata/native/debian-node.sh (make fixtures).
func debianRoot(t *testing.T, arch string) string {
	t.Helper()
	root := filepath.Join(fixtures(t), "debian-"+arch)
	if _, err := os.Stat(filepath.Join(root, ".done")); err != nil {
		t.Fatalf("%s is missing: run make fixtures", root)
	}
	return root
}

// arm64Launcher is Debian's arm64 root, with /dev/null, and the arm64
// launcher's path in it, for a test that runs the launcher there under
// chroot (as root) and QEMU; it skips where neither can be had.
func arm64Launcher(t *testing.T) (root, launcher string) {
	t.Helper()
	requireArm64(t)
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	root = debianRoot(t, "arm64")
	devNull(t, root)
	launcher, _ = inRoot(t, root, t.TempDir())
	return root, launcher
}

// inRoot copies the real launcher built for the root's CPU and the app
// (links followed) into the root, as an image would hold them, and returns
// their paths inside it.
func inRoot(t *testing.T, root, app string) (launcherPath, appPath string) {
	t.Helper()
	return inRootWith(t, root, app, realLauncherFor(t, goarchOf(t, root)))
}

// inRootWith is inRoot with the given launcher binary.
func inRootWith(t *testing.T, root, app, launcher string) (launcherPath, appPath string) {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Join(root, "tmp"), "check-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	rel, _ := filepath.Rel(root, dir)
	for from, to := range map[string]string{launcher: "launcher", app: "app"} {
		if out, err := exec.Command("cp", "-aL", from, filepath.Join(dir, to)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	return "/" + filepath.Join(rel, "launcher"), "/" + filepath.Join(rel, "app")
}

// besideApp copies the program at from into root beside the app inRoot
// put there, as node, and returns its path inside the root.
func besideApp(t *testing.T, root, appDir, from string) string {
	t.Helper()
	node := filepath.Join(filepath.Dir(appDir), "node")
	if out, err := exec.Command("cp", from, filepath.Join(root, node)).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return node
}

// goarchOf is the CPU of a root's programs, by its dynamic loaders, as Go
// names it: this machine's when it has none, or loaders of two.
func goarchOf(t *testing.T, root string) string {
	t.Helper()
	arch := ""
	loaders, _ := filepath.Glob(filepath.Join(root, "lib*", "ld-*.so.*"))
	for _, l := range loaders {
		f, err := elf.Open(l)
		if err != nil {
			continue
		}
		a := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]
		f.Close()
		if arch != "" && a != arch {
			return runtime.GOARCH
		}
		arch = a
	}
	return cmp.Or(arch, runtime.GOARCH)
}

// chroot runs a command inside root, as the container's processes would.
func chroot(t *testing.T, root string, env []string, args ...string) ([]byte, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	devNull(t, root)
	cmd := exec.Command("chroot", append([]string{root}, args...)...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	out, err := cmd.Output()
	code := commandExit(err)
	if code < 0 {
		t.Fatalf("chroot %v: %v", args, err)
	}
	return out, code
}

// devNull makes the root's /dev/null: a container always has one, and
// node and the launcher need it.
func devNull(t *testing.T, root string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "dev", "null")); err != nil {
		if out, err := exec.Command("mknod", "-m", "666", filepath.Join(root, "dev", "null"), "c", "1", "3").CombinedOutput(); err != nil {
			t.Fatalf("mknod /dev/null: %v %s", err, out)
		}
	}
}

// commandExit is the exit code of the command err ended: 0 for none, -1 for
// a command that did not start or end.
func commandExit(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}

func checkInRoot(t *testing.T, root, app string, env ...string) (int, preflight.Report) {
	t.Helper()
	bin, appDir := inRoot(t, root, app)
	out, code := chroot(t, root, append([]string{"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_READY_URL="}, env...), bin, "check", "--json")
	var r preflight.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("check --json printed no report (%v):\n%s", err, out)
	}
	return code, r
}

// requireArm64 makes sure arm64 binaries run here (qemu-user and
// binfmt_misc, which make fixtures and make e2e-arm64 set up).
func requireArm64(t *testing.T) {
	t.Helper()
	if runtime.GOARCH == "arm64" {
		return
	}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("arm64 binaries cannot run here: apt-get install qemu-user-static binfmt-support")
		}
		t.Skip("arm64 binaries cannot run here (no qemu-aarch64 in binfmt_misc)")
	}
}

func TestCheck_DebianNodeOverLibnode(t *testing.T) {
	for _, c := range []struct {
		arch    string
		modules string
	}{
		{"amd64", "bcrypt,better-sqlite3"}, // better-sqlite3 built for ABI 108 (Node 18), amd64
		{"arm64", "bcrypt"},                // bcrypt 6's linux-arm64 prebuild
	} {
		t.Run(c.arch, func(t *testing.T) {
			if c.arch == "arm64" {
				requireArm64(t)
			}
			root := debianRoot(t, c.arch)
			app := newApp(t, ">=18", appPackages(t, "app18"))
			_, appDir := inRoot(t, root, app)
			// What node itself does with the module, under that very node.
			out, code := chroot(t, root, nil, "/usr/bin/node", "-e",
				"process.stdout.write(require('"+appDir+"/node_modules/bcrypt').hashSync('x', 4).slice(0, 4))")
			if code != 0 || string(out) != "$2b$" {
				t.Fatalf("Debian's node could not load bcrypt (%d): %s", code, out)
			}
			code, r := checkInRoot(t, root, app, "LAUNCHER_NATIVE_MODULES="+c.modules)
			if code != 0 || !r.OK {
				t.Fatalf("node loads bcrypt, but the preflight exits %d:\n%+v", code, r.Checks)
			}
			expectCheck(t, r, "node", pass, []string{"v18.20.4"}, nil)
			expectCheck(t, r, "native:bcrypt", pass, []string{"linux-" + map[string]string{"amd64": "x64", "arm64": "arm64"}[c.arch], "Node-API"}, nil)
		})
	}
}
