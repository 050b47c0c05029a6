package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/preflight"
)

// pagedAddon is the source of a Node-API addon that needs nothing of a
// libc: built with -nostdlib, it loads under glibc and musl alike.
const pagedAddon = `typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
static int calls = 42;
int table[64] = {1};
napi_value napi_register_module_v1(napi_env env, napi_value exports) { table[1] = ++calls; return exports; }
int node_api_module_get_api_version_v1(void) { return 8; }
`

// buildPaged builds pagedAddon with the C compiler cc, its segments laid
// out for memory pages of page bytes (-z max-page-size; -z separate-code
// puts its writable data a page on from where the file holds it, as
// Debian's x86-64 linker does by default), and returns its path.
func buildPaged(t *testing.T, cc string, page int) string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed", cc)
		}
		t.Skipf("%s is not installed", cc)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "paged.c")
	must(t, os.WriteFile(src, []byte(pagedAddon), 0o644))
	out := filepath.Join(dir, "paged.node")
	size := strconv.Itoa(page)
	if b, err := exec.Command(cc, "-O2", "-shared", "-fPIC", "-nostdlib", "-o", out, src,
		"-Wl,-z,max-page-size="+size, "-Wl,-z,common-page-size="+size, "-Wl,-z,separate-code").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, b)
	}
	return out
}

// A native module laid out for smaller memory pages than the kernel's does
// not load: node's loader refuses it under glibc, and under musl (Alpine,
// the add-on's runtime) maps it askew, and node dies of SIGSEGV. The
// preflight passed it. Shown for real with the pages here (4 KiB): a module
// linked for 1 KiB pages, under this machine's node (glibc, x86-64) and,
// under QEMU, under the musl loader of the add-on's Alpine arm64 image.
// There a module linked for 4 KiB pages loads, and is a warning: a kernel of
// 16 KiB pages (a Raspberry Pi 5 under Raspberry Pi OS) does not map it. No
// such kernel runs here (QEMU's user mode keeps the host's pages); the
// preflight's judgement under one is TestCheckPages_UnderAKernelOf16KiBPages.
func TestCheck_AModuleLaidOutForSmallerPagesThanTheKernels(t *testing.T) {
	t.Run("here", func(t *testing.T) {
		small := buildPaged(t, "gcc", 1<<10)
		out, err := exec.Command("node", "-e", "process.dlopen({exports: {}}, process.argv[1])", small).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "ELF load command address/offset not page-aligned") {
			t.Fatalf("this machine's node on a module laid out for 1 KiB pages: %v, want its loader's refusal\n%s", err, out)
		}
		app := newApp(t, ">=18", map[string]string{})
		nativePackage(t, app, "small", small)
		nativePackage(t, app, "usual", buildPaged(t, "gcc", 4<<10))
		code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=small,usual")
		if code != 3 {
			t.Errorf("check: exit %d, want 3", code)
		}
		expectCheck(t, r, "native:small", preflight.StatusFail,
			[]string{"laid out for memory pages of 1KiB", "this kernel's pages are 4KiB", "glibc's, refuses it", "not page-aligned"},
			[]string{"npm rebuild small --build-from-source", "max-page-size=65536"})
		expectCheck(t, r, "native:usual", pass, nil, nil) // x86-64 kernels have 4 KiB pages alone

		// One the checks do not see (loaded by a path the app computes):
		// node's failure says why.
		l := launch(t, launchOpts{args: []string{"run", "--", "/usr/bin/node", "-e", "process.dlopen({exports: {}}, process.argv[1])", small},
			env: []string{never, "LAUNCHER_OPTIONS_FILE=", "LAUNCHER_PREFLIGHT_RECORD="}})
		if code := l.wait(30 * time.Second); code != 1 {
			t.Errorf("exit %d, want node's 1\n%s", code, l.stdout)
		}
		logHas(t, l.stdout.String(), "paged.node is laid out for smaller memory pages than this kernel's", "max-page-size=65536")
	})
	t.Run("arm64 Alpine", func(t *testing.T) {
		requireArm64(t)
		root := filepath.Join(fixtures(t), "alpine-arm64")
		if _, err := os.Stat(filepath.Join(root, ".done")); err != nil {
			t.Fatalf("%s is missing: run make fixtures", root)
		}
		const cc = "aarch64-linux-gnu-gcc"
		app := newApp(t, ">=18", map[string]string{})
		nativePackage(t, app, "small", buildPaged(t, cc, 1<<10))
		nativePackage(t, app, "four", buildPaged(t, cc, 4<<10))
		nativePackage(t, app, "usual", buildPaged(t, cc, 64<<10))
		_, appDir := inRoot(t, root, app)

		// The image's real musl loader, asked as node's process.dlopen asks
		// it (the stand-in node's --dlopen): the module for 1 KiB pages kills
		// node, the one for 4 KiB loads here.
		crash := exec.Command("chroot", root, "/usr/bin/node", "--dlopen", appDir+"/node_modules/small/build/Release/paged.node")
		crash.Env = []string{"PATH=/usr/bin:/bin"}
		if err := crash.Run(); err == nil || crash.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGSEGV {
			t.Errorf("the image's musl loader on the module for 1 KiB pages: %v, want node's death by SIGSEGV", err)
		}
		if out, code := chroot(t, root, nil, "/usr/bin/node", "--dlopen", appDir+"/node_modules/four/build/Release/paged.node"); code != 0 || !strings.Contains(string(out), "LOADED") {
			t.Errorf("the image's musl loader on the module for 4 KiB pages: exit %d, %s", code, out)
		}

		env := "LAUNCHER_NATIVE_MODULES=small,four,usual"
		_, inside := checkInRoot(t, root, app, env)
		expectCheck(t, inside, "native:small", preflight.StatusFail,
			[]string{"laid out for memory pages of 1KiB", "this kernel's pages are 4KiB", "musl's, maps it askew", "SIGSEGV"}, []string{"max-page-size=65536"})
		expectCheck(t, inside, "native:four", preflight.StatusWarn,
			[]string{"laid out for memory pages of 4KiB", "it loads here", "16 KiB pages (a Raspberry Pi 5 under Raspberry Pi OS)", "SIGSEGV"}, nil)
		expectCheck(t, inside, "native:usual", pass, nil, nil)
		// From outside (--root), the kernel is the one the image will run
		// under, any: the same verdicts, said so.
		var outside preflight.Report
		withoutEmulation(t, func() { _, outside, _ = checkRoot(t, root, appDir, env) })
		expectCheck(t, outside, "native:small", preflight.StatusFail, []string{"laid out for memory pages of 1KiB", "less than any kernel's"}, nil)
		expectCheck(t, outside, "native:four", preflight.StatusWarn, []string{"it loads under a kernel of 4 KiB pages", "16 KiB pages"}, nil)
		expectCheck(t, outside, "native:usual", pass, nil, nil)
	})
}
