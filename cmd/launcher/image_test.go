package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/preflight"
)

// `launcher check --root DIR` checks an unpacked image of any architecture
// from outside, running nothing in it: the same verdicts as inside.

var binfmt sync.Mutex

// withoutEmulation turns arm64 emulation off while f runs: an arm64
// program started meanwhile fails with "exec format error", so a check
// that passes ran nothing of the image.
func withoutEmulation(t *testing.T, f func()) {
	t.Helper()
	const entry = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
	if _, err := os.Stat(entry); err != nil {
		f() // no emulation to switch off: nothing arm64 can run anyway
		return
	}
	binfmt.Lock()
	defer binfmt.Unlock()
	must(t, os.WriteFile(entry, []byte("0"), 0o644))
	defer os.WriteFile(entry, []byte("1"), 0o644)
	if out, err := exec.Command(filepath.Join(fixtures(t), "debian-arm64", "usr", "bin", "node"), "--version").CombinedOutput(); err == nil {
		t.Fatalf("arm64 node still runs with emulation off: %s", out)
	}
	f()
}

// checkRoot is `launcher check --json --root root` of the app at appDir
// (a path in the image), with the report's text for messages.
func checkRoot(t *testing.T, root, appDir string, env ...string) (int, preflight.Report, string) {
	t.Helper()
	code, r := runCheckFlags(t, []string{"--root", root}, appDir, env...)
	text, _ := json.MarshalIndent(r, "", "  ")
	return code, r, string(text)
}

func TestCheckRoot_Arm64ImageFromOutside(t *testing.T) {
	requireArm64(t)
	root := debianRoot(t, "arm64")
	app := newApp(t, ">=18", appPackages(t, "app18"))
	_, appDir := inRoot(t, root, app)

	// Inside the image, under emulation: the reference verdicts.
	_, inside := checkInRoot(t, root, app, "LAUNCHER_NATIVE_MODULES=bcrypt,better-sqlite3")

	var code int
	var outside preflight.Report
	var text string
	withoutEmulation(t, func() {
		code, outside, text = checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES=bcrypt,better-sqlite3")
	})
	// better-sqlite3 here is an amd64 build: both must fail it, for that.
	if code != 3 {
		t.Errorf("exit %d, want 3 (better-sqlite3 is built for x64):\n%s", code, text)
	}
	expectCheck(t, outside, "node", pass, []string{"v18.20.4", "arm64", "glibc", "nodejs 18.20.4", "var/lib/dpkg/status", "not run"}, nil)
	expectCheck(t, outside, "native:bcrypt", pass, []string{"prebuilds/linux-arm64/bcrypt.glibc.node", "Node-API"}, nil)
	expectCheck(t, outside, "native:better-sqlite3", preflight.StatusFail, []string{"built for x64", "node here is arm64"}, nil)
	verdicts := func(r preflight.Report) map[string]preflight.CheckStatus {
		m := map[string]preflight.CheckStatus{}
		for _, c := range r.Checks {
			m[c.Name] = c.Status
		}
		return m
	}
	in, out := verdicts(inside), verdicts(outside)
	for name, v := range in {
		if out[name] != v {
			t.Errorf("%s: %s inside the image, %s from outside", name, v, out[name])
		}
	}
	if len(in) != len(out) {
		t.Errorf("checks inside %v, from outside %v", in, out)
	}
}

// Absolute symlinks in the image resolve inside it, never on this
// machine: /usr/bin/node -> /opt/node/bin/node.
func TestCheckRoot_AbsoluteSymlinksStayInside(t *testing.T) {
	root := debianRoot(t, "amd64")
	app := newApp(t, ">=18", appPackages(t, "app18"))
	_, appDir := inRoot(t, root, app)
	link := filepath.Join(root, "usr", "local", "bin", "node")
	must(t, os.MkdirAll(filepath.Dir(link), 0o755))
	must(t, os.Symlink("/usr/bin/node", link))
	defer os.Remove(link)
	code, r, text := checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES=bcrypt", "LAUNCHER_NODE=/usr/local/bin/node")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	// This machine's /usr/bin/node is node 20, static; the image's is
	// Debian's 18 over libnode.
	expectCheck(t, r, "node", pass, []string{"v18.20.4"}, nil)
	if !strings.Contains(text, "libnode") && !strings.Contains(text, "Node-API") {
		t.Logf("%s", text)
	}
}

// The add-on's image on a Raspberry Pi is Alpine on aarch64: musl, arm64.
// No Alpine package can be reached from here, so the fixture alpine-arm64
// lays that image out from what can (testdata/native/alpine-arm64.sh):
// Debian's arm64 musl (the real loader and libc), a real arm64 musl
// executable standing in for Node 24 (its Node-API exports, its --version),
// apk's database and /etc/alpine-release. In it, each app is checked inside
// the image (the launcher runs the stand-in under emulation, as the
// Dockerfile's `RUN launcher check` runs on a Pi) and from outside (--root,
// nothing run): the same verdicts, as each package's loader reads on musl.
//   - As npm installs them there (musl-arm64, sqlite13): bcrypt's musl
//     prebuild, better-sqlite3 13's linuxmusl-arm64 (Node 24 has the
//     Node-API 10 it needs), napi-rs's, sharp's and @parcel/watcher's musl packages, the musl
//     builds of msgpackr-extract and lmdb, koffi's musl folder of its one
//     arm64 package (refused before as "no build for linux-arm64 (musl)")
//     pass; serialport's binding and node-hid ship no musl arm64 build: both
//     refused, the fix saying to compile them (serialport's said to set the
//     Alpine marker, which is there).
//   - Addons built for glibc: one that calls only what musl has warns,
//     one that calls a function glibc alone has fails, as the image's
//     musl loader takes them (the first loads and runs, the second dies
//     of SIGSEGV at the call).
//   - jemalloc in LD_PRELOAD: a musl build passes, a glibc one fails, as
//     the image's musl loader takes them.
//   - Installed elsewhere: sharp for glibc, the fix naming its musl package;
//     better-sqlite3 built for x64.
func TestCheckRoot_AlpineArm64Image(t *testing.T) {
	requireArm64(t)
	fx := fixtures(t)
	root := filepath.Join(fx, "alpine-arm64")
	if _, err := os.Stat(filepath.Join(root, ".done")); err != nil {
		t.Fatalf("%s is missing: run make fixtures", root)
	}
	app := func(from ...string) string {
		dir := newApp(t, ">=18", map[string]string{})
		for _, f := range from {
			if out, err := exec.Command("cp", "-a", filepath.Join(fx, f, "node_modules")+"/.", filepath.Join(dir, "node_modules")).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v: %s", err, out)
			}
		}
		return dir
	}
	// Inside the image and from outside it, with emulation off: the same
	// verdicts, but for the checks named in differ.
	both := func(app, modules string, differ map[string]bool, env ...string) [2]preflight.Report {
		env = append(env, "LAUNCHER_NATIVE_MODULES="+modules)
		_, inside := checkInRoot(t, root, app, env...)
		_, appDir := inRoot(t, root, app)
		var outside preflight.Report
		withoutEmulation(t, func() { _, outside, _ = checkRoot(t, root, appDir, env...) })
		expectCheck(t, outside, "node", pass, []string{"nodejs 24.22.3-r0 in /lib/apk/db/installed", "not run"}, nil)
		if len(inside.Checks) != len(outside.Checks) {
			t.Fatalf("checks inside %d, from outside %d", len(inside.Checks), len(outside.Checks))
		}
		for i, c := range inside.Checks {
			if o := outside.Checks[i]; o.Name != c.Name || o.Status != c.Status && !differ[c.Name] {
				t.Errorf("%s: %s inside the image, %s %s from outside: %s", c.Name, c.Status, o.Name, o.Status, o.Detail)
			}
		}
		return [2]preflight.Report{inside, outside}
	}

	onPi := app("musl-arm64", "sqlite13") // bcrypt's prebuilds are for every platform, better-sqlite3 13's too
	for _, r := range both(onPi, "bcrypt,better-sqlite3,@napi-rs/nice,sharp,@parcel/watcher,msgpackr-extract,lmdb,koffi,serialport,node-hid", nil) {
		expectCheck(t, r, "node", pass, []string{"v24.22.3", "NODE_MODULE_VERSION 137", "musl", "arm64"}, nil)
		for module, picked := range map[string]string{
			"bcrypt":           "prebuilds/linux-arm64/bcrypt.musl.node (picked by node-gyp-build)",
			"better-sqlite3":   "prebuilds/linuxmusl-arm64.node",
			"@napi-rs/nice":    "@napi-rs/nice-linux-arm64-musl/nice.linux-arm64-musl.node",
			"sharp":            "@img/sharp-linuxmusl-arm64/lib/sharp-linuxmusl-arm64.node",
			"@parcel/watcher":  "@parcel/watcher-linux-arm64-musl/watcher.node",
			"msgpackr-extract": "msgpackr-extract-linux-arm64/node.napi.musl.node",
			"lmdb":             "lmdb-linux-arm64/node.napi.musl.node",
			"koffi":            "@koromix/koffi-linux-arm64/musl_arm64/koffi.node",
		} {
			expectCheck(t, r, "native:"+module, pass, []string{picked, "musl arm64"}, nil)
		}
		expectCheck(t, r, "native:serialport", preflight.StatusFail, []string{"@serialport/bindings-cpp", "linked against glibc, but node here uses musl"},
			[]string{"ships no musl prebuild for linux-arm64", "npm rebuild @serialport/bindings-cpp --build-from-source"})
		expectCheck(t, r, "native:node-hid", preflight.StatusFail, []string{"no binary that pkg-prebuilds would load on linux-arm64 (musl)"}, []string{"compile it in backend-builder"})
	}

	// What the app loads at its start, read by the arm64 launcher inside
	// the image and from outside: a package the build left out is refused
	// before node is started, the ones installed pass.
	partial := app("musl-arm64")
	must(t, os.WriteFile(filepath.Join(partial, "index.js"), []byte("const sharp = require(\"sharp\");\nconst nice = require(\"@napi-rs/nice\");\nconst express = require(\"express\");\n"), 0o644))
	for _, r := range both(partial, "", nil) {
		expectCheck(t, r, "imports", preflight.StatusFail, []string{`index.js:3 requires "express"`, "Cannot find module 'express'"}, []string{"Install express in the image"})
	}
	// Packages' "exports" and ES modules, under the image's Node 24, which
	// requires an ES module (chalk 5): uuid 9 exports no ./v4.
	exported := app("musl-arm64", "exports")
	must(t, os.WriteFile(filepath.Join(exported, "index.js"), []byte("const chalk = require(\"chalk\");\nconst { v4 } = require(\"uuid\");\nconst v4old = require(\"uuid/v4\");\n"), 0o644))
	for _, r := range both(exported, "", nil) {
		expectCheck(t, r, "imports", preflight.StatusFail, []string{`index.js:3 requires "uuid/v4"`, "ERR_PACKAGE_PATH_NOT_EXPORTED: Package subpath './v4'"}, []string{`"uuid/v4" (uuid@9.0.1)`})
		for _, c := range r.Checks {
			if c.Name == "imports" && strings.Contains(c.Detail, "chalk") {
				t.Errorf("chalk, which Node 24 requires, is refused: %s", c.Detail)
			}
		}
	}

	// Names an ES module imports from CommonJS packages: express's, which
	// node finds through its re-export, pass; lodash's get, which node
	// cannot name, is refused.
	named := app("musl-arm64", "commonjs")
	must(t, os.WriteFile(filepath.Join(named, "package.json"), []byte(`{"name":"app","version":"1.0.0","type":"module"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(named, "index.js"), []byte("import { Router, json } from \"express\";\nimport { get } from \"lodash\";\n"), 0o644))
	for _, r := range both(named, "", nil) {
		expectCheck(t, r, "imports", preflight.StatusFail, []string{`index.js:2 imports get from "lodash"`, "SyntaxError: Named export 'get' not found"}, []string{"default export"})
		for _, c := range r.Checks {
			if c.Name == "imports" && strings.Contains(c.Detail, `from "express"`) {
				t.Errorf("express's Router, which node finds, is refused: %s", c.Detail)
			}
		}
	}

	// node's own modules, judged against the image's Node 24 release by
	// the arm64 launcher's table: util.isString, which Node 23 took out,
	// is refused; node:sqlite and util's styleText pass.
	version, _ := chroot(t, root, nil, "/usr/bin/node", "--version")
	if release, _ := builtins.At(strings.TrimSpace(string(version))); release.Recorded() {
		own := app()
		must(t, os.WriteFile(filepath.Join(own, "package.json"), []byte(`{"name":"app","version":"1.0.0","type":"module"}`), 0o644))
		must(t, os.WriteFile(filepath.Join(own, "index.js"), []byte("import { DatabaseSync } from \"node:sqlite\";\nimport { styleText, isString } from \"node:util\";\n"), 0o644))
		for _, r := range both(own, "", nil) {
			expectCheck(t, r, "imports", preflight.StatusFail, []string{`index.js:2 imports isString from "node:util"`, "does not provide an export named 'isString'"}, []string{"18.0.0 to 22.x"})
			for _, c := range r.Checks {
				if c.Name == "imports" && (strings.Contains(c.Detail, "sqlite") || strings.Contains(c.Detail, "styleText")) {
					t.Errorf("what Node 24 has is refused: %s", c.Detail)
				}
			}
		}
	} else {
		t.Logf("the image's node, %s, is past the table of node's modules: not judged", version)
	}

	// The image's real musl loader, asked as node's process.dlopen asks it
	// (the stand-in's --dlopen), loads what the check passes, down to
	// every symbol (check --deep), where the addon needs nothing but the
	// image's libc: napi-rs's build, Rust. (The other addons need
	// libstdc++, here a stand-in with its soname only.)
	bin, appDir := inRoot(t, root, onPi)
	nice := appDir + "/node_modules/@napi-rs/nice-linux-arm64-musl/nice.linux-arm64-musl.node"
	if out, code := chroot(t, root, nil, "/usr/bin/node", "--dlopen", nice); code != 0 || strings.TrimSpace(string(out)) != "LOADED" {
		t.Errorf("the image's musl loader on %s: exit %d, %s", nice, code, out)
	}
	out, _ := chroot(t, root, []string{"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NATIVE_MODULES=@napi-rs/nice"}, bin, "check", "--json", "--deep")
	var deep preflight.Report
	if err := json.Unmarshal(out, &deep); err != nil {
		t.Fatalf("check --deep printed no report (%v): %s", err, out)
	}
	expectCheck(t, deep, "native:@napi-rs/nice", pass, []string{"nice.linux-arm64-musl.node", "symbols"}, nil)

	// Addons built for glibc (a Debian build stage), on musl: musl's
	// loader takes glibc's libc for its own and ignores symbol versions.
	// One that calls only what musl's libc has loads and runs under the
	// image's real loader: a warning, not the refusal it was. One that
	// calls gnu_get_libc_version, glibc's alone, loads (musl leaves the
	// function unbound under node's RTLD_LAZY) and dies of SIGSEGV at the
	// call: refused, naming the symbol.
	glibcApp := newApp(t, ">=18", map[string]string{})
	for _, name := range []string{"glibc-c", "glibc-only"} {
		dir := filepath.Join(glibcApp, "node_modules", name)
		must(t, os.MkdirAll(filepath.Join(dir, "build", "Release"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"`+name+`","version":"1.0.0"}`), 0o644))
		if out, err := exec.Command("cp", filepath.Join(root, "addons", name+".node"), filepath.Join(dir, "build", "Release")).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, out)
		}
	}
	if out, code := chroot(t, root, nil, "/usr/bin/node", "--dlopen", "/addons/glibc-c.node"); code != 0 || !strings.Contains(string(out), "LOADED") {
		t.Errorf("the image's musl loader on glibc-c.node: exit %d, %s", code, out)
	}
	crash := exec.Command("chroot", root, "/usr/bin/node", "--dlopen", "/addons/glibc-only.node")
	crash.Env = []string{"PATH=/usr/bin:/bin"}
	if err := crash.Run(); err == nil || crash.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGSEGV {
		t.Errorf("the image's musl loader on glibc-only.node: %v, want death by SIGSEGV at the unbound call", err)
	}
	for _, r := range both(glibcApp, "glibc-c,glibc-only", nil) {
		expectCheck(t, r, "native:glibc-c", preflight.StatusWarn, []string{"linked against glibc, but node here uses musl, whose loader resolves all"}, []string{"alpine"})
		expectCheck(t, r, "native:glibc-only", preflight.StatusFail, []string{"linked against glibc, but node here uses musl", "gnu_get_libc_version", "SIGSEGV"}, nil)
	}

	// jemalloc in LD_PRELOAD, as Home Assistant's base images suggest: a
	// musl arm64 build where they put it passes; Debian's glibc arm64
	// libjemalloc2 fails, and the image's real musl loader, running the
	// stand-in node under emulation, exits 127 with it as the check says.
	glibc, err := os.MkdirTemp(filepath.Join(root, "tmp"), "glibc-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(glibc) })
	if out, err := exec.Command("cp", filepath.Join(fx, "jemalloc-arm64", "usr", "lib", "aarch64-linux-gnu", "libjemalloc.so.2"), glibc).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	bare := newApp(t, ">=18", map[string]string{})
	for _, c := range []struct {
		preload string
		status  preflight.CheckStatus
		says    string
		exit    int
	}{
		{"/usr/local/lib/libjemalloc.so.2", pass, "/usr/local/lib/libjemalloc.so.2", 0},
		{"/" + filepath.Join(filepath.Base(filepath.Dir(glibc)), filepath.Base(glibc), "libjemalloc.so.2"), preflight.StatusFail, "linked against glibc, but node here uses musl: node would exit 127", 127},
	} {
		if _, code := chroot(t, root, []string{"LD_PRELOAD=" + c.preload}, "/usr/bin/node", "--version"); code != c.exit {
			t.Errorf("the stand-in node with LD_PRELOAD=%s under the image's musl: exit %d, want %d", c.preload, code, c.exit)
		}
		// With the glibc one, node's own run inside fails too, and says
		// why (engines then has no version to check); from outside, where
		// nothing runs, the ld-preload check alone says it.
		r := both(bare, "", map[string]bool{"node": c.exit != 0, "engines": c.exit != 0}, "LD_PRELOAD="+c.preload)
		for _, r := range r {
			expectCheck(t, r, "ld-preload", c.status, []string{c.says}, nil)
		}
		if c.exit == 0 {
			continue
		}
		expectCheck(t, r[0], "node", preflight.StatusFail, []string{"exit status 127", "Error"}, []string{"LD_PRELOAD stops node before its first line"})
	}

	elsewhere := app("sharp-arm64")
	for name, src := range appPackages(t, "app20") { // better-sqlite3 built here, for x64
		copyPackage(t, elsewhere, name, src)
	}
	for _, r := range both(elsewhere, "sharp,better-sqlite3", nil) {
		expectCheck(t, r, "native:sharp", preflight.StatusFail, []string{"@img/sharp-linuxmusl-arm64", "not installed"}, []string{"--libc=musl"})
		expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"built for x64", "node here is arm64"}, nil)
	}
}

// An image may hold the distribution's node beside the one the app runs
// (`apt-get install npm` brings Debian's nodejs into an official node
// image, whose node is /usr/local/bin/node): checked from outside, the
// package database's version is only that of the node it installed. It
// was taken for any node, so a Node 24 was judged as Debian's Node 18
// (its ABI, 108, against modules built for 137).
func TestCheckRoot_NodeBesideTheDistributionsIsItsOwnVersion(t *testing.T) {
	root := debianRoot(t, "amd64") // nothing runs: any machine
	app := newApp(t, ">=18", map[string]string{})
	_, appDir := inRoot(t, root, app)
	copied := besideApp(t, root, appDir, npmNode(t, 24))
	_, r, _ := checkRoot(t, root, appDir, "LAUNCHER_NODE="+copied, "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "node", pass, []string{"v24.", "NODE_MODULE_VERSION 137", "the release named in node"}, nil)
	// The distribution's own, beside it: its package's version.
	_, r, _ = checkRoot(t, root, appDir, "LAUNCHER_NODE=node", "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "node", pass, []string{"v18.20.4", "nodejs 18.20.4", "var/lib/dpkg/status"}, nil)
}
