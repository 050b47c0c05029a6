package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/preflight"
)

// nativeOnly runs a command as on a machine that runs no other CPU's
// programs, as a Raspberry Pi or a PC does: in a user namespace with a
// binfmt_misc of its own, empty (Linux 6.7 and later give one to each
// user namespace that mounts it). This machine runs arm64 programs
// through qemu, which would hide what the check must find.
func nativeOnly(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	requireUnshare(t)
	script := `mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 97; exec "$@"`
	cmd := exec.Command("unshare", append([]string{"--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child", "--", "sh", "-c", script, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// refusedReport runs `launcher check --json` as cmd says and returns its
// report, which must end with exit 3.
func refusedReport(t *testing.T, cmd *exec.Cmd) preflight.Report {
	t.Helper()
	out, err := cmd.Output()
	return refused(t, out, commandExit(err))
}

// refused is the report `launcher check --json` printed, out, ending with
// exit code, which must be 3.
func refused(t *testing.T, out []byte, code int) preflight.Report {
	t.Helper()
	var r preflight.Report
	if err := json.Unmarshal(out, &r); err != nil || code != 3 {
		t.Fatalf("exit %d, want 3 (%v):\n%s", code, err, out)
	}
	return r
}

// A node for another CPU than the machine's (an amd64 build copied into a
// Raspberry Pi's image from a stage of the build machine's platform, or
// downloaded for it) is refused by the kernel before its loader runs, at
// every start: "exec format error". The check said its libraries were
// missing and told to install libstdc++. The node here is Debian's own for
// the other CPU, real; the judge is the kernel, asked by node itself.
func TestCheck_NodeForAnotherCPU(t *testing.T) {
	other, here, otherHA, hereHA := "arm64", "x64", "aarch64", "amd64"
	if runtime.GOARCH == "arm64" {
		other, here, otherHA, hereHA = "amd64", "arm64", "amd64", "aarch64"
	}
	root := debianRoot(t, other)
	node := filepath.Join(root, "usr", "bin", "node")
	out, err := nativeOnly(t, nil, node, "--version").CombinedOutput()
	if code := commandExit(err); code == 97 {
		t.Skipf("this kernel gives a user namespace no binfmt_misc of its own (Linux 6.7 and later do): %s", out)
	}
	if err == nil || !strings.Contains(string(out), "Exec format error") {
		t.Fatalf("node for %s ran without emulation (%v): %s", other, err, out)
	}
	app := newApp(t, ">=18", map[string]string{})
	want := []string{"is built for " + map[string]string{"arm64": "arm64", "amd64": "x64"}[other] + " (" + otherHA, "but this machine is " + here + " (" + hereHA + ")", "exec format error"}
	fix := []string{"Install node for " + hereHA + " in the runtime stage", "--platform=$BUILDPLATFORM"}

	// node alone, its libraries not here: as copied into another image.
	t.Run("its libraries elsewhere", func(t *testing.T) {
		r := refusedReport(t, nativeOnly(t, []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL="}, realLauncher(t), "check", "--json"))
		expectCheck(t, r, "node", preflight.StatusFail, want, fix)
	})

	// The image of the other CPU whole, but for the launcher: node's
	// libraries are there, and the kernel still refuses node.
	t.Run("in its own image", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("chroot needs root")
		}
		devNull(t, root)
		bin, appDir := inRootWith(t, root, app, realLauncher(t)) // this machine's: it runs here
		r := refusedReport(t, nativeOnly(t, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL="}, "chroot", root, bin, "check", "--json"))
		expectCheck(t, r, "node", preflight.StatusFail, want, fix)
	})

	// An image of the other CPU checked from outside (`check --root`),
	// which runs nothing: a node of this machine's CPU copied into it, its
	// libraries not there. The image's shell tells its CPU.
	t.Run("an image checked from outside", func(t *testing.T) {
		hostRoot := debianRoot(t, map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH])
		_, appDir := inRoot(t, root, app)
		copied := besideApp(t, root, appDir, filepath.Join(hostRoot, "usr", "bin", "node"))
		code, r, out := checkRoot(t, root, appDir, "LAUNCHER_NODE="+copied, "LAUNCHER_NATIVE_MODULES=")
		if code != 3 {
			t.Fatalf("exit %d, want 3:\n%s", code, out)
		}
		expectCheck(t, r, "node", preflight.StatusFail, []string{"is built for " + here + " (" + hereHA, "but the image's programs are for " + map[string]string{"arm64": "arm64", "amd64": "x64"}[other] + " (" + otherHA + ")", "exec format error"},
			[]string{"Install node for " + otherHA + " in the runtime stage"})
	})

	// Supervised, as the container's entrypoint: exit 3, the cause in the
	// log, nothing started again.
	t.Run("supervised", func(t *testing.T) {
		l := launch(t, launchOpts{binary: "unshare", args: []string{"--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child", "--",
			"sh", "-c", `mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && exec "$@"`, "sh", os.Args[0]},
			env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "TMPDIR=" + t.TempDir()}})
		if code := l.wait(30 * time.Second); code != 3 {
			t.Fatalf("exit %d, want 3:\n%s", code, l.stdout)
		}
		if text := l.stdout.String(); !strings.Contains(text, want[1]) || !strings.Contains(text, "not starting node") {
			t.Errorf("the log does not say why, or node was started:\n%s", text)
		}
	})
}

// A node built for the other C library than the image's: a glibc build (a
// Debian-based stage's, nodejs.org's) on Alpine, or Alpine's musl build on
// a glibc image. Its loader is not in the image, and the kernel fails its
// exec with "no such file or directory" though node is there. The check
// passed a musl node in a glibc image checked from outside, said `node
// --version` failed ("Reinstall node") where it ran, and told to install
// glibc's libc.so.6 on Alpine.
func TestCheck_NodeForTheOtherLibc(t *testing.T) {
	musl := filepath.Join(fixtures(t), "musl", "node") // the musl stand-in, x64
	wantMusl := []string{"is built for musl: its loader /lib/ld-musl-x86_64.so.1 is not in the image, whose C library is glibc", "no such file or directory"}
	fixMusl := []string{"Use node built for glibc on this image", "node:<version>-alpine) is built for musl"}

	t.Run("a musl node on glibc, run there", func(t *testing.T) {
		if runtime.GOARCH != "amd64" {
			t.Skip("the fixtures' musl node is x64")
		}
		root := debianRoot(t, "amd64")
		app := newApp(t, ">=18", map[string]string{})
		bin, appDir := inRoot(t, root, app)
		copied := besideApp(t, root, appDir, musl)
		// The judge: the kernel, asked by node itself.
		if out, code := chroot(t, root, nil, copied, "--version"); code == 0 {
			t.Fatalf("a musl node ran in a glibc image: %s", out)
		}
		out, code := chroot(t, root, []string{"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NODE=" + copied, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL="}, bin, "check", "--json")
		r := refused(t, out, code)
		expectCheck(t, r, "node", preflight.StatusFail, wantMusl, fixMusl)
	})

	// From outside (`check --root`), nothing runs: the loader's absence
	// says it, for a node of any CPU.
	for _, c := range []struct {
		name, root, node string
		want, fix        []string
	}{
		{"a musl node on glibc, from outside", "debian-amd64", musl, wantMusl, fixMusl},
		{"a glibc node on Alpine, from outside", "alpine-arm64", filepath.Join(fixtures(t), "debian-arm64", "usr", "bin", "node"),
			[]string{"is built for glibc: its loader /lib/ld-linux-aarch64.so.1 is not in the image, whose C library is musl (Alpine)", "no such file or directory"},
			[]string{"Use node built for musl on Alpine", "apk add --no-cache nodejs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(fixtures(t), c.root)
			app := newApp(t, ">=18", map[string]string{})
			_, appDir := inRoot(t, root, app)
			copied := besideApp(t, root, appDir, c.node)
			code, r, out := checkRoot(t, root, appDir, "LAUNCHER_NODE="+copied, "LAUNCHER_NATIVE_MODULES=")
			if code != 3 {
				t.Fatalf("exit %d, want 3:\n%s", code, out)
			}
			expectCheck(t, r, "node", preflight.StatusFail, c.want, c.fix)
		})
	}
}

// An image's programs are for one CPU, but a cross-platform build (`docker
// buildx build --platform linux/arm64` on an amd64 machine, as Home
// Assistant's builder runs) emulates the image's CPU and runs the build
// machine's natively, so `RUN launcher check` there runs a mix: a launcher
// built for the build machine (a Go stage whose GOARCH is not the target's)
// with the image's node, or node copied from a `--platform=$BUILDPLATFORM`
// stage with the image's launcher. The check passed such an image, or
// blamed node's C library; on a Raspberry Pi the container then fails at
// every start. Here, as in that build, the arm64 programs run through qemu.
func TestCheck_ImageOfTwoCPUs(t *testing.T) {
	requireArm64(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the build machine's programs here are x64 stand-ins")
	}
	app := newApp(t, ">=18", map[string]string{})
	env := func(appDir string, more ...string) []string {
		return append([]string{"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL="}, more...)
	}
	nodeFix := []string{"Install node for aarch64 in the runtime stage", "--platform=$BUILDPLATFORM"}

	// Debian's arm64 image whole, node included, and an amd64 launcher:
	// both run here, node emulated.
	t.Run("the launcher for the build machine", func(t *testing.T) {
		root := debianRoot(t, "arm64")
		if out, code := chroot(t, root, nil, "/usr/bin/node", "--version"); code != 0 {
			t.Fatalf("the image's node does not run here: exit %d, %s", code, out)
		}
		bin, appDir := inRootWith(t, root, app, realLauncher(t))
		out, code := chroot(t, root, env(appDir), bin, "check", "--json")
		r := refused(t, out, code)
		expectCheck(t, r, "node", preflight.StatusFail,
			[]string{"this launcher is built for x64 (amd64), but node (/usr/bin/node) and the image's programs are for arm64 (aarch64)", "exec format error"},
			[]string{"GOARCH=$TARGETARCH", "ARG TARGETARCH"})
	})

	// Alpine's arm64 image with the arm64 launcher, and an x64 node copied
	// in: dynamically linked, its loader is not in the image.
	t.Run("node for the build machine, its loader not in the image", func(t *testing.T) {
		root := filepath.Join(fixtures(t), "alpine-arm64")
		bin, appDir := inRoot(t, root, app)
		copied := besideApp(t, root, appDir, filepath.Join(fixtures(t), "musl", "node"))
		out, code := chroot(t, root, env(appDir, "LAUNCHER_NODE="+copied), bin, "check", "--json")
		r := refused(t, out, code)
		expectCheck(t, r, "node", preflight.StatusFail,
			[]string{"is built for x64 (amd64, ELFCLASS64), but the image's programs and this launcher are for arm64 (aarch64)", "exec format error"}, nodeFix)
		for _, c := range r.Checks {
			if c.Name == "node" && strings.Contains(c.Detail, "C library") {
				t.Errorf("a node for another CPU blamed on its C library: %s", c.Detail)
			}
		}
	})

	// The same with a static x64 node: it needs nothing of the image, so
	// it runs here, natively, beside the emulated launcher.
	t.Run("node for the build machine, static", func(t *testing.T) {
		root := filepath.Join(fixtures(t), "alpine-arm64")
		bin, appDir := inRoot(t, root, app)
		copied := besideApp(t, root, appDir, filepath.Join(fixtures(t), "musl", "node-static"))
		if out, code := chroot(t, root, nil, copied, "--version"); code != 0 {
			t.Fatalf("the static node does not run here: exit %d, %s", code, out)
		}
		out, code := chroot(t, root, env(appDir, "LAUNCHER_NODE="+copied), bin, "check", "--json")
		r := refused(t, out, code)
		expectCheck(t, r, "node", preflight.StatusFail,
			[]string{"is built for x64 (amd64, ELFCLASS64), but the image's programs and this launcher are for arm64 (aarch64)", "it runs here only because this machine runs x64 programs too", "exec format error"}, nodeFix)
	})

	// Supervised, as the container's entrypoint: exit 3, the cause in the
	// log, node not started.
	t.Run("supervised", func(t *testing.T) {
		root := debianRoot(t, "arm64")
		bin, appDir := inRootWith(t, root, app, realLauncher(t))
		l := launch(t, launchOpts{binary: "chroot", args: []string{root, bin},
			env: append(env(appDir), "PATH=/usr/bin:/bin", "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_PREFLIGHT_RECORD=")})
		if code := l.wait(60 * time.Second); code != 3 {
			t.Fatalf("exit %d, want 3:\n%s", code, l.stdout)
		}
		if text := l.stdout.String(); !strings.Contains(text, "this launcher is built for x64 (amd64)") || !strings.Contains(text, "not starting node") {
			t.Errorf("the log does not say why, or node was started:\n%s", text)
		}
	})
}

// A native module built for ARMv8.1 or later runs the CPU's atomic
// instructions (LSE) on any CPU, and node dies of SIGILL loading it on an
// ARMv8.0 one: the Cortex-A72 of a Raspberry Pi 4 and of Home Assistant
// Yellow, the Cortex-A53 of a Pi 3. @node-rs/bcrypt 1.10.8's arm64 glibc
// binary is one (its allocator, mimalloc, is compiled for armv8.1-a);
// 1.10.7's is built for ARMv8.0. The check passed both. The CPUs are
// QEMU's models of the Pi 4's and the Pi 5's (QEMU_CPU, which QEMU reads
// from the environment of the program it runs): their instructions and
// the /proc/cpuinfo QEMU writes for them. The judge is Debian's arm64
// node loading each release under each.
func TestCheck_ModuleBuiltForANewerARM(t *testing.T) {
	if runtime.GOARCH == "arm64" {
		t.Skip("on arm64 hardware the CPU is the machine's: QEMU's models choose it here")
	}
	requireArm64(t)
	root := debianRoot(t, "arm64")
	v81, v80 := filepath.Join(fixtures(t), "bcrypt-rs-arm64"), filepath.Join(fixtures(t), "bcrypt-rs-arm64-v80")
	const pi4, pi5 = "QEMU_CPU=cortex-a72", "QEMU_CPU=cortex-a76"
	devNull(t, root)
	for _, c := range []struct {
		app, cpu string
		loads    bool
	}{{v81, pi4, false}, {v81, pi5, true}, {v80, pi4, true}} {
		_, appDir := inRoot(t, root, c.app)
		cmd := exec.Command("chroot", root, "/usr/bin/node", "-e", "require('"+appDir+"/node_modules/@node-rs/bcrypt'); console.log('LOADED')")
		cmd.Env = []string{"PATH=/usr/bin:/bin", c.cpu}
		out, err := cmd.CombinedOutput()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if c.loads && (err != nil || !strings.Contains(string(out), "LOADED")) || !c.loads && ws.Signal() != syscall.SIGILL {
			t.Fatalf("node under %s, %s: %v (%v): %s", c.cpu, filepath.Base(c.app), err, ws.Signal(), out)
		}
	}

	const module = "LAUNCHER_NATIVE_MODULES=@node-rs/bcrypt"
	fix := []string{"Install a release of @node-rs/bcrypt built for ARMv8.0 (armv8-a)", "\"overrides\""}
	built := "built for ARMv8.1 or later: bcrypt.linux-arm64-gnu.node runs 215 of ARMv8.1's atomic instructions (LSE) on any CPU"
	code, r := checkInRoot(t, root, v81, pi4, module)
	if code != 3 {
		t.Errorf("1.10.8 on a Pi 4's CPU: exit %d, want 3", code)
	}
	expectCheck(t, r, "native:@node-rs/bcrypt", preflight.StatusFail,
		[]string{built, "this CPU (Cortex-A72) is ARMv8.0, without them: node dies of SIGILL"}, fix)
	code, r = checkInRoot(t, root, v81, pi5, module)
	if code != 0 {
		t.Errorf("1.10.8 on a Pi 5's CPU: exit %d, want 0: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:@node-rs/bcrypt", preflight.StatusWarn,
		[]string{built, "it runs here, but node dies of SIGILL (Illegal instruction) on an ARMv8.0 CPU (a Raspberry Pi 3 or 4, or Home Assistant Yellow)"}, fix)
	code, r = checkInRoot(t, root, v80, pi4, module)
	if code != 0 {
		t.Errorf("1.10.7 on a Pi 4's CPU: exit %d, want 0: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:@node-rs/bcrypt", pass, []string{"1.10.7", "glibc arm64"}, nil)
	for _, c := range r.Checks {
		if strings.Contains(c.Detail, "ARMv8") {
			t.Errorf("1.10.7 judged built for a newer ARM: %s", c.Detail)
		}
	}

	// From outside, the image's machine is any: a warning.
	_, appDir := inRoot(t, root, v81)
	withoutEmulation(t, func() { code, r, _ = checkRoot(t, root, appDir, module) })
	if code != 0 {
		t.Errorf("check --root: exit %d, want 0: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:@node-rs/bcrypt", preflight.StatusWarn,
		[]string{built, "where the CPU is ARMv8.1 or later it runs, but node dies of SIGILL"}, fix)

	// Supervised: a start on a Pi 5 records its report (with the warning)
	// in /data; restored on a Pi 4 (a backup of the add-on), the record is
	// not recalled: exit 3, the cause in the log, node not started.
	t.Run("supervised", func(t *testing.T) {
		bin, appDir := inRoot(t, root, v81)
		record := filepath.Join(filepath.Dir(appDir), "preflight.json")
		start := func(cpu string) (int, string) {
			l := launch(t, launchOpts{binary: "chroot", args: []string{root, bin}, env: []string{cpu, module, "PATH=/usr/bin:/bin",
				"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_READY_URL=", "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_HEALTH_ADDR=off",
				"LAUNCHER_RESTART=never", "LAUNCHER_PREFLIGHT_RECORD=" + record}})
			code := l.wait(60 * time.Second)
			return code, l.stdout.String()
		}
		if code, text := start(pi5); code != 0 || !strings.Contains(text, "node dies of SIGILL") {
			t.Fatalf("on a Pi 5's CPU: exit %d, or no warning:\n%s", code, text)
		}
		if _, err := os.Stat(filepath.Join(root, record)); err != nil {
			t.Fatalf("no record kept: %v", err)
		}
		if code, text := start(pi4); code != 3 || !strings.Contains(text, "this CPU (Cortex-A72) is ARMv8.0") || !strings.Contains(text, "not starting node") {
			t.Errorf("on a Pi 4's CPU with the Pi 5's record: exit %d, want 3, the cause, node not started:\n%s", code, text)
		}
	})

	// Loaded where no check looks (by a path the app computes), the
	// module kills node on the Pi 4's CPU: the log says what SIGILL means
	// there, and where to look.
	t.Run("died of it", func(t *testing.T) {
		app := newApp(t, ">=18", nil)
		must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("require(process.env.HASH_MODULE);\nconsole.log('LOADED');\n"), 0o644))
		bin, appDir := inRoot(t, root, app)
		hash := filepath.Join(filepath.Dir(appDir), "hash.node")
		if out, err := exec.Command("cp", filepath.Join(v81, "node_modules", "@node-rs", "bcrypt-linux-arm64-gnu", "bcrypt.linux-arm64-gnu.node"), filepath.Join(root, hash)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		l := launch(t, launchOpts{binary: "chroot", args: []string{root, bin}, env: []string{pi4, "HASH_MODULE=" + hash, "PATH=/usr/bin:/bin",
			"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_READY_URL=", "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_HEALTH_ADDR=off",
			"LAUNCHER_RESTART=never", "LAUNCHER_PREFLIGHT_RECORD=", "LAUNCHER_NATIVE_MODULES="}})
		if code := l.wait(60 * time.Second); code != 128+int(syscall.SIGILL) {
			t.Fatalf("exit %d, want %d:\n%s", code, 128+int(syscall.SIGILL), l.stdout)
		}
		text := l.stdout.String()
		for _, want := range []string{"SIGILL", "an instruction of ARMv8.1 or later (SIGILL), which this CPU (Cortex-A72) lacks: it is ARMv8.0", "`launcher check` in the image names the one it finds"} {
			if !strings.Contains(text, want) {
				t.Errorf("the log lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "LOADED") {
			t.Errorf("node loaded it:\n%s", text)
		}
	})
}
