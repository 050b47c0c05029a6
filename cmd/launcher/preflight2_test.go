package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
)

// The preflight sees what node will see: each case here was a false pass
// or a false failure of the earlier checks, compared with what node does.

// nodeLoads runs node on a one-line script in dir and reports whether it
// exited 0, with its stderr.
func nodeLoads(t *testing.T, dir, script string, env ...string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-e", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}

// forEachNode runs f as a subtest of each node, named by its version,
// with its major.
func forEachNode(t *testing.T, nodes []string, f func(t *testing.T, node string, major int)) {
	for _, node := range nodes {
		version, err := exec.Command(node, "--version").Output()
		if err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		var major int
		fmt.Sscanf(string(version), "v%d", &major)
		t.Run(strings.TrimSpace(string(version)), func(t *testing.T) { f(t, node, major) })
	}
}

// layApp writes an app's files into a new folder, and gives it the
// node_modules of a fixture, if named.
func layApp(t *testing.T, files map[string]string, fixture string) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "app")
	for name, text := range files {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	if fixture != "" {
		if out, err := exec.Command("cp", "-a", filepath.Join(fixtures(t), fixture, "node_modules"), app).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, out)
		}
	}
	return app
}

// nodeRunsApp runs node on the app in dir, with args before the entry and
// env added to this process's, and reports whether the app ran: its
// output holds MAIN and node exited 0.
func nodeRunsApp(node, dir string, env, args []string, entry string) (bool, string) {
	cmd := exec.Command(node, append(slices.Clip(args), entry)...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "MAIN"), string(out)
}

// A FIFO where the entry, a package.json or a .node should be: refused at
// once, never waited on.
func TestCheck_FIFOsAreRefusedWithoutBlocking(t *testing.T) {
	for _, where := range []string{"index.js", "node_modules/bcrypt/package.json", "node_modules/bcrypt/prebuilds/linux-x64/bcrypt.glibc.node"} {
		t.Run(where, func(t *testing.T) {
			app := newApp(t, ">=18", map[string]string{})
			copyPackage(t, app, "bcrypt", appPackages(t, "app20")["bcrypt"])
			copyPackage(t, app, "node-gyp-build", appPackages(t, "app20")["node-gyp-build"])
			path := filepath.Join(app, where)
			must(t, os.Remove(path))
			must(t, syscall.Mkfifo(path, 0o644))
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=bcrypt")
			if code != 3 {
				t.Fatalf("exit %d, want 3: %+v", code, r.Checks)
			}
			found := false
			for _, c := range r.Failed() {
				found = found || strings.Contains(c.Detail, "FIFO")
			}
			if !found {
				t.Errorf("no failure names the FIFO: %+v", r.Checks)
			}
		})
	}
}

// A FIFO where a folder is listed (a node_modules entry, a symlink to one
// outside the app, bcrypt's prebuilds): the check ends, and judges as
// node would: an entry nothing loads is no failure; bcrypt without its
// binaries is.
func TestCheck_FIFOsForFoldersAreNotWaitedOn(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "fifo")
	must(t, syscall.Mkfifo(outside, 0o644))
	for _, c := range []struct {
		where string
		link  bool // a symlink to the FIFO outside, not a FIFO itself
		code  int
	}{
		{"node_modules/unrelated", false, 0},
		{"node_modules/linked", true, 0},
		{"node_modules/bcrypt/prebuilds", false, 3},
	} {
		t.Run(c.where, func(t *testing.T) {
			app := newApp(t, ">=18", map[string]string{})
			copyPackage(t, app, "bcrypt", appPackages(t, "app20")["bcrypt"])
			copyPackage(t, app, "node-gyp-build", appPackages(t, "app20")["node-gyp-build"])
			path := filepath.Join(app, c.where)
			must(t, os.RemoveAll(path))
			if c.link {
				must(t, os.Symlink(outside, path))
			} else {
				must(t, syscall.Mkfifo(path, 0o644))
			}
			if code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=bcrypt"); code != c.code {
				t.Errorf("exit %d, want %d: %+v", code, c.code, r.Checks)
			}
		})
	}
}

// The entry is resolved as node resolves `node X`: an absolute path as it
// is, X.js for X, a folder by its package.json main or index.js.
func TestCheck_EntryResolvedAsNodeDoes(t *testing.T) {
	app := newApp(t, ">=18", map[string]string{})
	must(t, os.MkdirAll(filepath.Join(app, "server", "lib"), 0o755))
	must(t, os.WriteFile(filepath.Join(app, "server", "package.json"), []byte(`{"main":"lib/start"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "server", "lib", "start.js"), []byte("1\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(app, "web"), 0o755))
	must(t, os.WriteFile(filepath.Join(app, "web", "index.js"), []byte("1\n"), 0o644))
	outside := filepath.Join(t.TempDir(), "x.js")
	must(t, os.WriteFile(outside, []byte("1\n"), 0o644))
	for _, c := range []struct{ entry, want string }{
		{"index", "index.js"},
		{"server", filepath.Join("server", "lib", "start.js")},
		{"web", filepath.Join("web", "index.js")},
		{outside, outside},
	} {
		ok, out := nodeLoads(t, app, fmt.Sprintf("require(%q)", filepath.Join(app, c.entry)))
		if filepath.IsAbs(c.entry) {
			ok, out = nodeLoads(t, app, fmt.Sprintf("require(%q)", c.entry))
		}
		if !ok {
			t.Fatalf("node itself cannot load %s: %s", c.entry, out)
		}
		code, r := runCheck(t, app, "LAUNCHER_ENTRY="+c.entry, "LAUNCHER_NATIVE_MODULES=")
		want := c.want
		if !filepath.IsAbs(want) {
			want = filepath.Join(app, want)
		}
		if code != 0 {
			t.Errorf("LAUNCHER_ENTRY=%s: exit %d: %+v", c.entry, code, r.Checks)
		}
		expectCheck(t, r, "entry", pass, []string{want}, nil)
	}
}

// Checked as the user node runs as: an entry only root can read fails, as
// node would with EACCES.
func TestCheck_EntryReadAsTheNodeUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a root-only file")
	}
	app := newApp(t, ">=18", map[string]string{})
	// The test's temporary folders are root's alone: open them to all,
	// so that only the entry's own mode decides.
	for d := app; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	must(t, os.Chmod(filepath.Join(app, "index.js"), 0o600))
	code, r := runCheck(t, app, "LAUNCHER_USER=65534", "LAUNCHER_NATIVE_MODULES=")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %+v", code, r.Checks)
	}
	expectCheck(t, r, "entry", preflight.StatusFail, []string{"not readable by nobody (uid 65534)", "EACCES"}, []string{"chmod"})
	must(t, os.Chmod(filepath.Join(app, "index.js"), 0o644))
	if code, r := runCheck(t, app, "LAUNCHER_USER=65534", "LAUNCHER_NATIVE_MODULES="); code != 0 {
		t.Errorf("readable by all, still refused: %+v", r.Checks)
	}
}

// NODE_OPTIONS from the options (node's environment): a --require preload
// that does not resolve fails the start, as node would.
func TestCheck_NodeOptionsPreload(t *testing.T) {
	app := newApp(t, ">=18", map[string]string{})
	opts := filepath.Join(t.TempDir(), "options.json")
	must(t, os.WriteFile(opts, []byte(`{"node_options": "--require ./missing-preload.js"}`), 0o644))
	ok, _ := nodeLoads(t, app, "1", "NODE_OPTIONS=--require ./missing-preload.js")
	if ok {
		t.Fatal("node runs with a missing preload?")
	}
	code, r := runCheck(t, app, "LAUNCHER_OPTIONS_FILE="+opts, "LAUNCHER_NATIVE_MODULES=")
	if code != 3 {
		t.Fatalf("exit %d, want 3: %+v", code, r.Checks)
	}
	expectCheck(t, r, "entry", preflight.StatusFail, []string{"NODE_OPTIONS preloads", "missing-preload.js"}, nil)
}

// Every module node preloads, as node reads its options: NODE_OPTIONS split
// by node's rules (double quotes, not the shell's), and LAUNCHER_NODE_ARGS;
// --require and -r by require's rules, --import and --experimental-loader
// by import's (no extension added, no folder, a URL's escapes, bare names
// with the "import" condition); builtins and data: URLs hold no file.
// Under Node 18, 20 and 24, the entry check's verdict on each is node's
// own: a preload node fails on is refused, one node runs passes. Before,
// --import and LAUNCHER_NODE_ARGS were not read (a missing one passed, and
// node then failed at every start), and `--require "./with space.js"` was
// refused.
func TestCheck_EveryPreloadAsNodeLoadsIt(t *testing.T) {
	app := newApp(t, ">=18", map[string]string{})
	files := map[string]string{
		"index.js":                           "console.log('MAIN');\n",
		"pre.js":                             "globalThis.pre = 1;\n",
		"with space.js":                      "globalThis.space = 1;\n",
		"pre.mjs":                            "globalThis.esm = 1;\n",
		"with space.mjs":                     "globalThis.esmSpace = 1;\n",
		"hooks/index.js":                     "globalThis.hooks = 1;\n",
		"node_modules/esm-hook/package.json": `{"name":"esm-hook","type":"module","exports":{".":{"import":"./hook.mjs"}}}`,
		"node_modules/esm-hook/hook.mjs":     "globalThis.hook = 1;\n",
		// The app's subpath imports: --import resolves "#…" through them.
		"package.json": `{"name":"app","version":"1.0.0","engines":{"node":">=18"},"imports":{"#hook":"./pre.mjs","#gone":"./gone.mjs"}}`,
	}
	for name, text := range files {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	cases := []struct {
		options, args string
		hint          string // in the fix of a refusal
	}{
		{options: `--require ./pre.js`},
		{options: `-r ./pre`},
		{options: `--require "./with space.js"`},
		{options: `--require ./hooks`},
		{options: `--require fs`},
		{options: `--import ./pre.mjs`},
		{options: `--import=./pre`, hint: "name the file, --import ./pre.js"},
		{options: `--import ./missing.mjs`, hint: "remove --import ./missing.mjs from NODE_OPTIONS"},
		{options: `--import ./hooks`, hint: "name the file, --import ./hooks/index.js"},
		{options: `--import esm-hook`},
		{options: `--import missing-hook`},
		{options: `--import node:fs --import "data:text/javascript,globalThis.data = 1"`},
		{options: `--import "file://` + app + `/with%20space.mjs"`},
		{options: `--experimental-loader ./missing.mjs`},
		{options: `--require "./pre.js`, hint: "double quotes keep a word with spaces whole"},
		{args: `-r ./missing.js`, hint: "from LAUNCHER_NODE_ARGS"},
		{args: `--import ./pre.mjs -r ./pre.js`},
		{args: `--import=./missing.mjs`},
		{args: `-r ""`, hint: "The argument 'id' must be a non-empty string"},
		{options: `--import #hook`},
		{options: `--import #gone`, hint: "Cannot find module"},
		{options: `--import #nope`, hint: "ERR_PACKAGE_IMPORT_NOT_DEFINED"},
		{args: `-r #hook`},
		{args: `--import=`, hint: "Name the module to preload after --import"},
	}
	forEachNode(t, []string{"node", npmNode(t, 18), npmNode(t, 24)}, func(t *testing.T, node string, _ int) {
		for _, c := range cases {
			args, err := config.SplitArgs(c.args)
			must(t, err)
			runs, out := nodeRunsApp(node, app, []string{"NODE_OPTIONS=" + c.options}, args, "index.js")
			_, r := runCheck(t, app, "LAUNCHER_NODE="+node, "LAUNCHER_NATIVE_MODULES=", "NODE_OPTIONS="+c.options, "LAUNCHER_NODE_ARGS="+c.args)
			var entry preflight.Check
			for _, ch := range r.Checks {
				if ch.Name == "entry" {
					entry = ch
				}
			}
			if passes := entry.Status == preflight.StatusPass; passes != runs {
				t.Errorf("NODE_OPTIONS=%s LAUNCHER_NODE_ARGS=%s: node runs the app: %v; the check: %s: %s\nnode said: %s", c.options, c.args, runs, entry.Status, entry.Detail, firstLines(string(out), 3))
			}
			if c.hint != "" && !strings.Contains(entry.Detail+" "+entry.Hint, c.hint) {
				t.Errorf("NODE_OPTIONS=%s LAUNCHER_NODE_ARGS=%s: %q not said: %s; fix: %s", c.options, c.args, c.hint, entry.Detail, entry.Hint)
			}
		}
	})

	// Under supervision, the gated node is held until the checks have
	// passed: nothing of the app runs, and the start ends with exit 3.
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=",
		"NODE_OPTIONS=--import ./missing.mjs", "TMPDIR=" + t.TempDir()}})
	if code := l.wait(30 * time.Second); code != 3 {
		t.Errorf("run with a missing --import: exit %d, want 3\n%s", code, l.stdout)
	}
	if out := l.stdout.String(); !strings.Contains(out, "behind the gate") || strings.Contains(out, "MAIN") {
		t.Errorf("not gated, or the app ran:\n%s", out)
	}
}

// node refuses some command lines before its first line, at every start:
// an option it does not know, an --env-file that is not there, a V8 flag's
// value it cannot read. The preflight passed them all; node then exited 9
// at each start, a restart loop instead of exit 3. The check's verdict is
// node's own, under Node 18, 20, 22 and 24, with the launcher started
// outside the app's folder (node's relative paths start in the app's).
func TestCheck_NodeArgsAsNodeTakesThem(t *testing.T) {
	app := newApp(t, ">=18", map[string]string{})
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("console.log('MAIN', process.env.FROM_ENV_FILE);\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "app.env"), []byte("FROM_ENV_FILE=yes\n"), 0o644))
	cases := []struct {
		args string
		hint string // in the fix of a refusal
	}{
		{args: `--enable-source-maps --max-old-space-size=256 --title=hasync`},
		{args: `--bogus-option`, hint: "node --help"},
		{args: `--env-file=app.env`},
		{args: `--env-file app.env`},
		{args: `--env-file=missing.env`, hint: "--env-file-if-exists"},
		{args: `--env-file-if-exists=missing.env`},
		{args: `--max-old-space-size=256MB`, hint: "--max-old-space-size=256"},
		{args: `--disable-proto=bogus`},
	}
	forEachNode(t, []string{npmNode(t, 18), "node", npmNode(t, 22), npmNode(t, 24)}, func(t *testing.T, node string, major int) {
		for _, c := range cases {
			args, err := config.SplitArgs(c.args)
			must(t, err)
			runs, out := nodeRunsApp(node, app, nil, args, "index.js")
			code, r := runCheck(t, app, "LAUNCHER_NODE="+node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_NODE_ARGS="+c.args)
			if passes := code == 0; passes != runs {
				t.Errorf("LAUNCHER_NODE_ARGS=%s: node runs the app: %v; the check: exit %d: %+v\nnode said: %s", c.args, runs, code, r.Failed(), firstLines(string(out), 3))
				continue
			}
			if runs {
				continue
			}
			var said string
			for _, ch := range r.Failed() {
				said += ch.Name + ": " + ch.Detail + "; fix: " + ch.Hint + "\n"
			}
			// node's own words, and the fix of the cause.
			if first := firstLines(string(out), 1); !strings.Contains(said, strings.TrimPrefix(first, node+": ")) {
				t.Errorf("LAUNCHER_NODE_ARGS=%s: node's words %q not in the report:\n%s", c.args, first, said)
			}
			if !strings.Contains(said, "LAUNCHER_NODE_ARGS") || c.hint != "" && major >= 20 && !strings.Contains(said, c.hint) {
				t.Errorf("LAUNCHER_NODE_ARGS=%s: the fix lacks %q or LAUNCHER_NODE_ARGS:\n%s", c.args, c.hint, said)
			}
		}
	})

	// As the user node runs as: an env file only root can read is refused
	// by node run as nobody, and so by the check, run by root.
	if os.Geteuid() == 0 {
		for d := app; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
			must(t, os.Chmod(d, 0o755))
		}
		must(t, os.Chmod(filepath.Join(app, "app.env"), 0o600))
		code, r := runCheck(t, app, "LAUNCHER_USER=65534", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_NODE_ARGS=--env-file=app.env")
		if code != 3 {
			t.Errorf("an env file nobody can read: exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "node", preflight.StatusFail, []string{"app.env: not found"}, []string{"--env-file"})
		must(t, os.Chmod(filepath.Join(app, "app.env"), 0o644))
		if code, r := runCheck(t, app, "LAUNCHER_USER=65534", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_NODE_ARGS=--env-file=app.env"); code != 0 {
			t.Errorf("an env file all can read, refused: %+v", r.Failed())
		}
	}

	// Under supervision, node that refuses its arguments at the gate is
	// not started again and again: exit 3, the refusal and its fix logged.
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=",
		"LAUNCHER_NODE_ARGS=--env-file=missing.env", "LAUNCHER_RESTART_DELAY=10ms", "TMPDIR=" + t.TempDir()}})
	if code := l.wait(30 * time.Second); code != 3 {
		t.Errorf("run with a missing --env-file: exit %d, want 3\n%s", code, l.stdout)
	}
	if out := l.stdout.String(); !strings.Contains(out, "missing.env: not found") || strings.Contains(out, "started node") || strings.Contains(out, "MAIN") {
		t.Errorf("the refusal is not told, or node was started for the app:\n%s", out)
	}
}

// A node killed by a signal while it answered with its arguments (a crash,
// the emulator's) said nothing about them: no refusal is reported, and the
// version is node's answer without them.
func TestCheck_ANodeKilledIsNoRefusal(t *testing.T) {
	app := newApp(t, "", map[string]string{})
	real, err := exec.LookPath("node")
	must(t, err)
	node := filepath.Join(t.TempDir(), "node")
	must(t, os.WriteFile(node, []byte("#!/bin/sh\n[ $# -gt 1 ] && kill -SEGV $$\nexec "+real+" \"$@\"\n"), 0o755))
	code, r := runCheck(t, app, "LAUNCHER_NODE="+node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_NODE_ARGS=--title=x")
	if code != 0 {
		t.Errorf("exit %d, want 0: %+v", code, r.Failed())
	}
}

// For a node major it has no table for, the preflight asks node its ABI
// (node -p process.versions.modules): that runs what NODE_OPTIONS
// preloads, the app's code, before the checks have passed. It is asked
// without NODE_OPTIONS. The node here is a script that says it is v99 and
// hands the rest to the real one.
func TestCheck_AskingNodeItsABIRunsNoPreload(t *testing.T) {
	app := newApp(t, "", map[string]string{})
	ran := filepath.Join(t.TempDir(), "ran")
	must(t, os.WriteFile(filepath.Join(app, "pre.js"), []byte("require('fs').writeFileSync("+fmt.Sprintf("%q", ran)+", 'PRELOAD RAN');\n"), 0o644))
	real, err := exec.LookPath("node")
	must(t, err)
	node := filepath.Join(t.TempDir(), "node")
	must(t, os.WriteFile(node, []byte("#!/bin/sh\ncase \"$1\" in --version) echo v99.1.0 ;; *) exec "+real+" \"$@\" ;; esac\n"), 0o755))
	_, r := runCheck(t, app, "LAUNCHER_NODE="+node, "LAUNCHER_NATIVE_MODULES=", "NODE_OPTIONS=--require "+filepath.Join(app, "pre.js"))
	expectCheck(t, r, "node", preflight.StatusWarn, []string{"v99.1.0", "NODE_MODULE_VERSION 1"}, nil) // node's own ABI, not 0
	if b, err := os.ReadFile(ran); err == nil {
		t.Errorf("the preflight ran the app's preload: %s", b)
	}
}

// "Cannot find module" at every start: a package the compiled backend
// requires left out of the image (a devDependency that npm prune removed),
// a compiled file not copied, an ES import without its extension, a
// TypeScript path alias tsc did not rewrite. The preflight passed them all.
// Each app here is compiled-style code (what tsc and Babel emit, formatted
// code), and the check's verdict is node's, run on the app itself, under
// Node 20 and 24; what node may load later (a require in a function, a
// try, a comment, a template literal) does not count.
func TestCheck_ImportsAsNodeLoadsThem(t *testing.T) {
	pkg := func(name string) map[string]string {
		return map[string]string{
			"node_modules/" + name + "/package.json": fmt.Sprintf(`{"name":%q,"version":"1.0.0","main":"lib/index.js"}`, name),
			"node_modules/" + name + "/lib/index.js": "exports.name = " + fmt.Sprintf("%q", name) + ";\n",
			"node_modules/" + name + "/lib/sub.js":   "module.exports = 'sub';\n",
		}
	}
	tsc := func(db string) map[string]string {
		return map[string]string{
			"package.json":   `{"name":"backend","dependencies":{"present":"1.0.0"},"devDependencies":{"pruned":"1.0.0"}}`,
			"dist/index.js":  "\"use strict\";\nvar __importDefault = (this && this.__importDefault) || function (mod) { return (mod && mod.__esModule) ? mod : { \"default\": mod }; };\nObject.defineProperty(exports, \"__esModule\", { value: true });\nconst node_fs_1 = __importDefault(require(\"node:fs\"));\nconst promises_1 = require(\"fs/promises\");\nconst config_1 = require(\"./config\");\nconst db_1 = require(\"./db\");\nconsole.log('MAIN', typeof node_fs_1, typeof promises_1, config_1.port, typeof db_1);\n",
			"dist/config.js": "\"use strict\";\nObject.defineProperty(exports, \"__esModule\", { value: true });\nexports.port = require(\"./data.json\").port;\n",
			"dist/data.json": `{"port": 8099}`,
			"dist/db.js":     db,
		}
	}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	// exported is a package of the given "exports" holding files, each
	// an ES module if it is .mjs.
	exported := func(name, exports string, files ...string) map[string]string {
		out := map[string]string{"node_modules/" + name + "/package.json": fmt.Sprintf(`{"name":%q,"version":"2.0.0","exports":%s}`, name, exports)}
		for _, f := range files {
			out["node_modules/"+name+"/"+f] = "module.exports = " + fmt.Sprintf("%q", f) + ";\n"
			if strings.HasSuffix(f, ".mjs") {
				out["node_modules/"+name+"/"+f] = "export default " + fmt.Sprintf("%q", f) + ";\n"
			}
		}
		return out
	}
	esm := func(index string, more map[string]string) map[string]string {
		return merge(map[string]string{"package.json": `{"name":"backend","type":"module"}`, "dist/index.js": index, "dist/db.js": "export const db = 1;\n"}, more)
	}
	// commonJSNames are CommonJS modules as tsc, Babel and hand-written
	// code make them, whose names node finds: a, b, c (tsc, by a getter
	// and a star re-export), d, e, f and g (a literal, up to its first
	// property that is not an identifier), c again (Babel's re-export).
	commonJSNames := map[string]string{
		"dist/lib.cjs": "\"use strict\";\nObject.defineProperty(exports, \"__esModule\", { value: true });\nexports.b = exports.a = void 0;\nconst more_1 = require(\"./more.cjs\");\nexports.a = 1;\n" +
			"Object.defineProperty(exports, \"b\", { enumerable: true, get: function () { return more_1.b; } });\n__exportStar(require(\"./star.cjs\"), exports);\nfunction __exportStar(m, e) { for (const k in m) if (!(k in e)) e[k] = m[k]; }\n",
		"dist/more.cjs":    "exports.b = 2;\n",
		"dist/star.cjs":    "exports.c = 3;\n",
		"dist/literal.cjs": "const d = 4, e = 5;\nmodule.exports = {\n  d, // the first\n  e: e,\n  'f': d,\n  g: function () {},\n  h: e,\n};\n",
		"dist/babel.cjs": "\"use strict\";\nObject.defineProperty(exports, \"__esModule\", { value: true });\nvar _star = require(\"./star.cjs\");\nObject.keys(_star).forEach(function (key) {\n" +
			"  if (key === \"default\" || key === \"__esModule\") return;\n  if (key in exports && exports[key] === _star[key]) return;\n  exports[key] = _star[key];\n});\n",
	}
	cases := []struct {
		name     string
		files    map[string]string
		hint     string   // in the fix of a refusal
		env      []string // for node and the check; APP stands for the app's folder
		fixture  string   // a fixture whose node_modules the app gets
		entry    string   // dist/index.js unless set
		minMajor int      // the oldest node the case is for
		builtins bool     // judged by the table of node's modules: not under a node newer than it
		check    string   // the check that refuses it: imports unless set
		detail   string   // in the refusal: dist/ (where the import is) unless set
	}{
		{name: "present", files: merge(tsc("const present_1 = __importDefault(require(\"present\"));\nconst { x } = require(\"present/lib/sub\");\n__exportStar(require(\"./util\"), exports);\nfunction __importDefault(m) { return m; }\nfunction __exportStar(m, e) {}\n"),
			map[string]string{"dist/util.js": "exports.u = 1;\n"}, pkg("present"))},
		{name: "pruned devDependency", files: merge(tsc("const pruned_1 = require(\"pruned\");\n"), pkg("present")), hint: "devDependencies"},
		{name: "not installed", files: merge(tsc("var _missing = _interopRequireDefault(require(\"missing\"));\nfunction _interopRequireDefault(m) { return m; }\n"), pkg("present")), hint: "list it in package.json's dependencies"},
		{name: "compiled file not copied", files: merge(tsc("__exportStar(require(\"./routes\"), exports);\nfunction __exportStar(m, e) {}\n"), pkg("present")), hint: "whole compiled output"},
		{name: "path alias", files: merge(tsc("const config_1 = require(\"@/config\");\n"), pkg("present")), hint: "path alias"},
		{name: "later or never", files: merge(tsc("function load() {\n  return require(\"missing\");\n}\ntry {\n  require(\"pruned\");\n} catch {}\n/*\nconst x = require(\"missing\");\n*/\nconst doc = `\nrequire(\"missing\");\n`;\nif (process.env.NEVER) require(\"missing\");\n"), pkg("present"))},
		{name: "esm present", files: esm("import fs from \"node:fs\";\nimport { db } from \"./db.js\";\nimport {\n  name\n} from \"present\";\nexport * from \"./db.js\";\nconsole.log('MAIN', typeof fs, db, name);\n", pkg("present"))},
		{name: "esm without extension", files: esm("import { db } from \"./db\";\nconsole.log('MAIN', db);\n", nil), hint: "import adds no extension"},
		{name: "esm package missing", files: esm("import {\n  name\n} from \"missing\";\nconsole.log('MAIN', name);\n", nil), hint: "missing"},
		// What node finds elsewhere, or by a module that changes how it
		// resolves, loaded first.
		{name: "NODE_PATH", files: merge(tsc("const g_1 = require(\"global-pkg\");\n"), map[string]string{
			"global/global-pkg/package.json": `{"name":"global-pkg"}`, "global/global-pkg/index.js": "module.exports = 1;\n"}), env: []string{"NODE_PATH=/nowhere:APP/global"}},
		{name: "module-alias", files: map[string]string{
			"package.json":   `{"name":"backend","_moduleAliases":{"@config":"dist/config"}}`,
			"dist/index.js":  "\"use strict\";\nrequire(\"module-alias/register\");\nconst config_1 = require(\"@config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js": "exports.port = 8099;\n"}, fixture: "resolvers"},
		{name: "tsconfig-paths preloaded", files: map[string]string{
			"package.json":   `{"name":"backend"}`,
			"tsconfig.json":  `{"compilerOptions":{"baseUrl":"dist","paths":{"@/*":["*"]}}}`,
			"dist/index.js":  "\"use strict\";\nconst config_1 = require(\"@/config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js": "exports.port = 8099;\n"}, fixture: "resolvers", env: []string{"LAUNCHER_NODE_ARGS=-r tsconfig-paths/register"}},
		{name: "self-reference", files: map[string]string{
			"package.json":   `{"name":"backend","exports":{"./config":"./dist/config.js"}}`,
			"dist/index.js":  "\"use strict\";\nconst config_1 = require(\"backend/config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js": "exports.port = 8099;\n"}},
		{name: "self-reference of what is not exported", files: map[string]string{
			"package.json":   `{"name":"backend","exports":{"./config":"./dist/config.js"}}`,
			"dist/index.js":  "\"use strict\";\nconst config_1 = require(\"backend/dist/config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js": "exports.port = 8099;\n"}, hint: "not among what the installed package exports"},
		{name: "self-reference to a script that requires a pruned package", files: map[string]string{
			"package.json":   `{"name":"backend","exports":{"./config":"./dist/config.js"},"devDependencies":{"pruned":"1.0.0"}}`,
			"dist/index.js":  "\"use strict\";\nconst config_1 = require(\"backend/config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js": "\"use strict\";\nconst pruned_1 = require(\"pruned\");\nexports.port = 8099;\n"}, hint: "devDependencies", detail: `dist/config.js:2 requires "pruned"`},
		{name: "self-reference from under another package.json", files: map[string]string{
			"package.json":      `{"name":"backend","exports":{"./config":"./dist/config.js"}}`,
			"dist/package.json": `{"type":"commonjs"}`,
			"dist/index.js":     "\"use strict\";\nconst config_1 = require(\"backend/config\");\nconsole.log('MAIN', config_1.port);\n",
			"dist/config.js":    "exports.port = 8099;\n"}, hint: "The app requires itself by its name from under dist, whose package.json is nearer"},
		{name: "webpack bundle", files: map[string]string{
			"package.json":  `{"name":"backend"}`,
			"dist/index.js": "/******/ (() => {\nvar __webpack_modules__ = ({\n\n/***/ 17:\n/***/ ((module) => {\n\n\"use strict\";\nmodule.exports = require(\"optional-native\");\n\n/***/ })\n\n});\nfunction __webpack_require__(id) { const m = { exports: {} }; __webpack_modules__[id](m); return m.exports; }\nconsole.log('MAIN');\n/******/ })();\n"}},
		// node 24 strips the types of a .ts entry; an import of types only
		// is erased with them.
		{name: "TypeScript entry", files: map[string]string{
			"package.json": `{"name":"backend","type":"module"}`,
			"src/index.ts": "import type { Db } from \"./types\";\nimport { db } from \"./db.ts\";\nconst x: Db = db;\nconsole.log('MAIN', x);\n",
			"src/db.ts":    "export const db: number = 1;\n"}, entry: "src/index.ts", minMajor: 24},

		// A package's "exports", and what each node's require() and import
		// load: CommonJS, or an ES module, which require() loads only from
		// Node 20.19 and 22.12 on.
		{name: "exports by condition", files: merge(tsc("const c_1 = require(\"cond\");\nconst s_1 = require(\"cond/sub/x\");\nconst p_1 = require(\"cond/package.json\");\nconst n_1 = require(\"nested\");\n"), pkg("present"), exported("cond",
			`{".":{"types":"./index.d.ts","import":"./m.mjs","require":"./c.cjs"},"./sub/*":"./lib/*.js","./package.json":"./package.json"}`, "c.cjs", "lib/x.js"),
			exported("nested", `{"node":{"import":"./m.mjs","default":"./c.cjs"},"default":"./none.js"}`, "c.cjs"))},
		{name: "esm imports by condition", files: esm("import c from \"cond\";\nimport x from \"cond/sub/x\";\nconsole.log('MAIN', c, x);\n", exported("cond",
			`{".":{"require":"./c.cjs","import":"./m.mjs"},"./sub/*":"./lib/*.js"}`, "m.mjs", "lib/x.js"))},
		// A package.json field of a type node ignores: dunder-proto's
		// "main": false (an express 4 dependency's dependency), whose
		// "exports" maps only ./get and ./set.
		{name: "a package.json field of a type node ignores", files: merge(tsc("const get_1 = require(\"dunder-proto/get\");\n"), pkg("present")), fixture: "commonjs"},
		{name: "a package.json field of a type node ignores, its subpath not exported", files: merge(tsc("const dp_1 = require(\"dunder-proto\");\n"), pkg("present")), fixture: "commonjs", hint: "exports"},
		// A package.json that is not JSON: node reads the app's to load
		// each .js file under it, and a package's to resolve it. A fault
		// between the top-level fields fails in every node; one inside a
		// field's value (a trailing comma in "dependencies") only in Node
		// 18 and 20, whose JSON.parse reads all of it.
		{name: "package.json with a trailing comma", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"main\": \"dist/index.js\",\n}\n",
			"dist/index.js": "console.log('MAIN');\n"}, hint: "Make package.json valid JSON", detail: "package.json, which node reads to load dist/index.js, is not JSON (line 4, column 1"},
		{name: "package.json with a trailing comma in dependencies", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"dependencies\": {\n    \"a\": \"1.0.0\",\n  }\n}\n",
			"dist/index.js": "console.log('MAIN');\n"}, hint: "Make package.json valid JSON", detail: "package.json, which node reads to load dist/index.js, is not JSON"},
		{name: "package.json with a trailing comma, an .mjs entry", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n}\n",
			"dist/index.mjs": "console.log('MAIN');\n"}, entry: "dist/index.mjs"},
		{name: "package.json with a trailing comma, dist's own package.json", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n}\n",
			"dist/package.json": `{"type":"commonjs"}`, "dist/index.js": "console.log('MAIN');\n"}},
		{name: "a package's package.json with a trailing comma", files: merge(tsc("const b_1 = require(\"broken\");\n"), pkg("present"), map[string]string{
			"node_modules/broken/package.json": "{\n  \"name\": \"broken\",\n  \"version\": \"1.0.0\",\n}\n", "node_modules/broken/index.js": "module.exports = 1;\n"}),
			hint: "Install the packages again (`npm ci`", detail: `requires "broken", whose node_modules/broken/package.json is not JSON`},
		{name: "a package's package.json, a comma missing in its scripts", files: merge(esm("import b from \"broken\";\nconsole.log('MAIN', b);\n", nil), map[string]string{
			"node_modules/broken/package.json": "{\"name\":\"broken\",\"scripts\":{\"a\":\"x\" \"b\":\"y\"}}\n", "node_modules/broken/index.js": "module.exports = 1;\n"}),
			hint: "Install the packages again (`npm ci`", detail: `imports "broken", whose node_modules/broken/package.json is not JSON`},
		// What only one of node's two readers refuses: Node 18's and 20's
		// JSON.parse reads a file saved in Latin-1, and refuses what
		// follows the object; the reader of Node 22 and later the other
		// way round, and it asks an "exports" its kind only up to 22.17
		// (Node 22.11 here). A tab typed inside a string fails both, and
		// so does a package's "exports" that is not JSON, which later
		// nodes parse as they resolve the package.
		{name: "package.json saved in Latin-1", files: esm("import { db } from \"./db.js\";\nconsole.log('MAIN', db);\n", map[string]string{
			"package.json": "{\"name\":\"backend\",\"type\":\"module\",\"author\":\"J\xfcrgen\"}\n"}),
			hint: "saved as UTF-8", detail: "package.json, which node reads to load dist/index.js, is not a package.json that Node 22 and later read (line 1, column 46: a byte that is not UTF-8"},
		{name: "package.json with a tab inside a string", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"description\": \"sync\tstate\"\n}\n",
			"dist/index.js": "console.log('MAIN');\n"}, hint: "a tab inside a string", detail: "package.json, which node reads to load dist/index.js, is not JSON (line 3, column"},
		{name: "package.json with a closing brace too many", files: map[string]string{"package.json": "{\n  \"name\": \"backend\"\n}\n}\n",
			"dist/index.js": "console.log('MAIN');\n"}, hint: "Make package.json valid JSON", detail: "package.json, which node reads to load dist/index.js, is not JSON (line 4, column 1"},
		{name: "a workspace package's exports not JSON", files: merge(tsc("const s_1 = require(\"shared\");\n"), pkg("present"), exported("shared", `{".":"./index.js",}`, "index.js")),
			hint: "Install the packages again (`npm ci`", detail: `requires "shared", whose node_modules/shared/package.json is not JSON`},
		// The app's own "imports" with a trailing comma: later nodes
		// read the file, and parse the field as they resolve "#db".
		{name: "the app's imports not JSON", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"imports\": {\n    \"#db\": \"./dist/db.js\",\n  }\n}\n",
			"dist/index.js": "const db_1 = require(\"#db\");\nconsole.log('MAIN', db_1);\n", "dist/db.js": "module.exports = 1;\n"}, hint: "Make package.json valid JSON"},
		{name: "the app's imports not JSON, an ES module entry", files: map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"imports\": {\n    \"#db\": \"./dist/db.js\",\n  }\n}\n",
			"dist/index.mjs": "import db from \"#db\";\nconsole.log('MAIN', db);\n", "dist/db.js": "module.exports = 1;\n"}, entry: "dist/index.mjs", hint: "Make package.json valid JSON", detail: `imports "#db", whose package.json is not JSON (line 5, column 3`},
		{name: "a workspace package's exports in single quotes", files: merge(esm("import s from \"shared\";\nconsole.log('MAIN', s);\n", nil), exported("shared", `'./index.js'`, "index.js")),
			hint: "Install the packages again (`npm ci`", detail: `imports "shared", whose node_modules/shared/package.json is not JSON`},
		{name: "subpath not exported", files: merge(tsc("const v4_1 = require(\"uuid/v4\");\n"), pkg("present"), exported("uuid", `{".":"./index.js"}`, "index.js", "v4.js")), hint: "exports"},
		{name: "no require in exports", files: merge(tsc("const e_1 = require(\"esm-only\");\n"), pkg("present"), exported("esm-only", `{"import":"./index.mjs"}`, "index.mjs")), hint: "exports"},
		{name: "exported file not in the package", files: merge(tsc("const p_1 = require(\"partial\");\n"), pkg("present"), exported("partial", `{".":"./lib/index.js"}`)), hint: "reinstall"},
		{name: "main not in the package", files: merge(tsc("const p_1 = require(\"partial\");\n"), pkg("present"), map[string]string{
			"node_modules/partial/package.json": `{"name":"partial","version":"1.0.0","main":"lib/index.js"}`}), hint: "reinstall"},
		{name: "subpath not in the package", files: merge(tsc("const p_1 = require(\"present/lib/gone\");\n"), pkg("present")), hint: "reinstall"},
		{name: "module-sync", files: merge(tsc("const m_1 = require(\"sync\");\n"), pkg("present"), exported("sync", `{"module-sync":"./m.mjs","require":"./c.cjs"}`, "m.mjs", "c.cjs"))},
		{name: "module-sync not in the package", files: merge(tsc("const m_1 = require(\"sync\");\n"), pkg("present"), exported("sync", `{"module-sync":"./m.mjs","require":"./c.cjs"}`, "c.cjs")), hint: "reinstall"},
		{name: "ES module package required", files: merge(tsc("const e_1 = require(\"esm-pkg\");\n"), pkg("present"), map[string]string{
			"node_modules/esm-pkg/package.json": `{"name":"esm-pkg","version":"5.0.0","type":"module","main":"index.js"}`,
			"node_modules/esm-pkg/index.js":     "export const x = 1;\n"}), hint: "ES module"},
		{name: "ES module file required", files: merge(tsc("const m_1 = require(\"./mod.mjs\");\n"), pkg("present"), map[string]string{"dist/mod.mjs": "export const x = 1;\n"}), hint: "ES module"},
		{name: "ES module without type", files: map[string]string{
			"package.json":  `{"name":"backend"}`,
			"dist/index.js": "import fs from \"node:fs\";\nimport { db } from \"./db.js\";\nconsole.log('MAIN', typeof fs, db);\n",
			"dist/db.js":    "export const db = 1;\n"}, hint: `"type": "module"`},
		{name: "ES module without type required", files: map[string]string{
			"package.json":  `{"name":"backend"}`,
			"dist/index.js": "\"use strict\";\nconst db_1 = require(\"./db\");\nconsole.log('MAIN', db_1.db);\n",
			"dist/db.js":    "export const db = 1;\n"}, hint: `"type": "module"`},
		{name: "import and require", files: map[string]string{
			"package.json":  `{"name":"backend"}`,
			"dist/index.js": "const fs = require(\"fs\");\nimport path from \"path\";\nconsole.log('MAIN', typeof fs, typeof path);\n"}, hint: "one module system"},
		{name: "ES module as CommonJS", files: map[string]string{
			"package.json":  `{"name":"backend","type":"commonjs"}`,
			"dist/index.js": "import fs from \"node:fs\";\nconsole.log('MAIN', typeof fs);\n"}, hint: `"type": "module"`},
		{name: "CommonJS under type module", files: merge(tsc("const present_1 = require(\"present\");\n"), pkg("present"), map[string]string{
			"package.json": `{"name":"backend","type":"module","dependencies":{"present":"1.0.0"}}`}), hint: `"type": "module"`},
		// Real packages: conditions (uuid, nanoid, dotenv, zod), and ES
		// modules only (chalk 5, node-fetch 3).
		{name: "real exports", files: merge(tsc("const uuid_1 = require(\"uuid\");\nconst nanoid_1 = require(\"nanoid\");\nrequire(\"dotenv/config\");\nconst zod_1 = require(\"zod\");\nconst p_1 = require(\"uuid/package.json\");\n"), pkg("present")), fixture: "exports"},
		{name: "real ES module required", files: merge(tsc("const chalk_1 = __importDefault(require(\"chalk\"));\nfunction __importDefault(m) { return m; }\n"), pkg("present")), fixture: "exports", hint: "ES module"},
		{name: "real subpath not exported", files: merge(tsc("const v4_1 = require(\"uuid/v4\");\n"), pkg("present")), fixture: "exports", hint: "uuid@9.0.1"},
		// require() of an ES module whose graph awaits at its top level:
		// ERR_REQUIRE_ASYNC_MODULE where require() loads ES modules (20.19,
		// 22.12 on), ERR_REQUIRE_ESM before; the fixes both say import().
		{name: "an ES module that awaits, required", files: merge(tsc("const tl_1 = require(\"tl\");\n"), pkg("present"), map[string]string{
			"node_modules/tl/package.json": `{"name":"tl","version":"1.0.0","type":"module","exports":"./index.js"}`,
			"node_modules/tl/index.js":     "import os from 'node:os';\nexport const dir = await Promise.resolve(os.tmpdir());\n"}), hint: "import()"},
		{name: "an ES module whose import awaits in a block, required", files: merge(tsc("const tl_1 = require(\"tl\");\n"), pkg("present"), map[string]string{
			"node_modules/tl/package.json": `{"name":"tl","version":"1.0.0","type":"module","exports":"./index.js"}`,
			"node_modules/tl/index.js":     "export { dir } from './inner.js';\nexport const f = async () => await 1;\n",
			"node_modules/tl/inner.js":     "export let dir = 1;\nif (process.env.NEVER === undefined) {\n  dir = await Promise.resolve(2);\n}\n"}), hint: "import()"},
		{name: "an ES module in standard style that awaits, required", files: merge(tsc("const tl_1 = require(\"tl\");\n"), pkg("present"), map[string]string{
			"node_modules/tl/package.json": `{"name":"tl","version":"1.0.0","type":"module","exports":"./index.js"}`,
			"node_modules/tl/index.js":     "const load = async () => ({ port: 8099 })\nexport const conf = await load()\n"}), hint: "import()"},
		{name: "an ES module that awaits only in functions, required", files: merge(tsc("const tl_1 = require(\"tl\");\n"), pkg("present"), map[string]string{
			"node_modules/tl/package.json": `{"name":"tl","version":"1.0.0","type":"module","exports":"./index.js"}`,
			"node_modules/tl/index.js": "export async function f() { await 1; }\nexport const g = async () => await 2;\nexport const o = { async m() { await 3; }, await: 4 };\n" +
				"class A { async m() { await 5; } }\nexport const t = `${'await'} /await/`;\nexport { A as await };\n"}), hint: "import()"},
		{name: "the app's own ES module that awaits, required", files: merge(tsc("const conf_1 = require(\"./conf.mjs\");\n"), pkg("present"), map[string]string{
			"dist/conf.mjs": "import { readFile } from 'node:fs/promises';\nexport const conf = JSON.parse(await readFile(new URL('./data.json', import.meta.url), 'utf8'));\n"}), hint: "import()"},
		{name: "real ES modules that await, required", files: merge(tsc("const temp_dir_1 = require(\"temp-dir\");\nconst tempy_1 = require(\"tempy\");\n"), pkg("present")), fixture: "awaits", hint: "import()"},
		{name: "real ES module graphs that do not await, required", files: merge(tsc("const got_1 = require(\"got\");\nconst execa_1 = require(\"execa\");\nconst globby_1 = require(\"globby\");\nconst ora_1 = require(\"ora\");\n"), pkg("present")), fixture: "awaits", hint: "import()"},
		{name: "real esm imports", files: esm("import chalk from \"chalk\";\nimport fetch from \"node-fetch\";\nimport { v4 } from \"uuid\";\nimport { nanoid } from \"nanoid\";\nimport \"dotenv/config\";\nimport { z } from \"zod\";\nconsole.log('MAIN', typeof chalk, typeof fetch, typeof v4, typeof nanoid, typeof z);\n", nil), fixture: "exports"},
		// Import attributes: a JSON module needs `with { type: "json" }`;
		// Node 22 removed the assertion form, `assert`.
		{name: "JSON with its attribute", files: esm("import data from \"./data.json\" with { type: \"json\" };\nconsole.log('MAIN', data.port);\n", map[string]string{"dist/data.json": `{"port": 8099}`})},
		{name: "JSON without its attribute", files: esm("import data from \"./data.json\";\nconsole.log('MAIN', data.port);\n", map[string]string{"dist/data.json": `{"port": 8099}`}), hint: `with { type: "json" }`},
		{name: "import assertion", files: esm("import data from \"./data.json\" assert { type: \"json\" };\nconsole.log('MAIN', data.port);\n", map[string]string{"dist/data.json": `{"port": 8099}`}), hint: "assert"},
		// Names imported from CommonJS: node links them before any code
		// runs, against the names its lexer finds in the module's text.
		{name: "names from CommonJS", files: esm("import { a, b, c } from \"./lib.cjs\";\nimport {\n  d, // the first\n  e as ee,\n  'f' as ff, g,\n} from \"./literal.cjs\";\nimport bb, { c as cc } from \"./babel.cjs\";\nexport { a as aa } from \"./lib.cjs\";\nconsole.log('MAIN', a, b, c, d, ee, ff, typeof g, typeof bb, cc);\n", commonJSNames)},
		{name: "a name CommonJS does not export", files: esm("import { a } from \"./lib.cjs\";\nimport { d, h } from \"./literal.cjs\";\nconsole.log('MAIN', a, d, h);\n", commonJSNames), hint: "default export"},
		{name: "a name re-exported under no type", files: merge(commonJSNames, map[string]string{
			"package.json":                      `{"name":"backend","type":"module"}`,
			"dist/index.js":                     "import { x } from \"helpers\";\nconsole.log('MAIN', x);\n",
			"node_modules/helpers/package.json": `{"name":"helpers","version":"1.0.0"}`,
			"node_modules/helpers/index.js":     "module.exports = require(\"./impl\");\n",
			"node_modules/helpers/impl.js":      "exports.y = 1;\n"}), hint: "helpers"},
		{name: "real names from CommonJS", files: esm("import express, { Router, json } from \"express\";\nimport _ from \"lodash\";\nimport pg from \"pg\";\nconst { Client } = pg;\nconsole.log('MAIN', typeof express, typeof Router, typeof json, typeof _.get, typeof Client);\n", nil), fixture: "commonjs"},
		{name: "real names node cannot find", files: esm("import { get } from \"lodash\";\nimport { Client } from \"pg\";\nconsole.log('MAIN', typeof get, typeof Client);\n", nil), fixture: "commonjs", hint: "lodash"},
		// Names imported from ES modules: written in the module, or in
		// one it re-exports whole, ES module or CommonJS; a type that
		// esbuild or swc kept as an import is no export.
		{name: "names from ES modules", files: esm("import { helper, a, b, abc } from \"./util.js\";\nimport { v4 } from \"uuid\";\nimport chalk, { chalkStderr } from \"chalk\";\nconsole.log('MAIN', helper(), a, b, abc, typeof v4, typeof chalk, typeof chalkStderr);\n",
			merge(commonJSNames, map[string]string{"dist/types.js": "export {};\n", "dist/util.js": "export * from \"./types.js\";\nexport * from \"./lib.cjs\";\nexport const helper = () => 1, \\u0061bc = 2;\n"})), fixture: "exports"},
		{name: "a type imported as a value", files: esm("import { helper, User } from \"./util.js\";\nconsole.log('MAIN', helper());\n",
			map[string]string{"dist/types.js": "/**\n * A User of the app.\n */\nexport {};\n", "dist/util.js": "// helpers for a User\nexport * from \"./types.js\";\nexport const helper = () => 1; // the helper\n"}), hint: "import type"},
		{name: "real ES module without the name", files: esm("import { red } from \"chalk\";\nconsole.log('MAIN', typeof red);\n", nil), fixture: "exports", hint: "not exported"},
		// node's own modules, as each release has them: a module or a name
		// newer than the image's node, or one a later node took out.
		{name: "a name node:util has from 20.12", files: esm("import { styleText, inspect } from \"node:util\";\nconsole.log('MAIN', typeof styleText, typeof inspect);\n", nil), hint: "20.12.0 and later 20.x", builtins: true},
		{name: "a name Node 23 took out", files: esm("import { isString } from \"util\";\nconsole.log('MAIN', typeof isString);\n", nil), hint: "18.0.0 to 22.x", builtins: true},
		{name: "a name no node exports", files: esm("import { readFile, readFileAsync } from \"node:fs\";\nconsole.log('MAIN', typeof readFile, typeof readFileAsync);\n", nil), hint: "No release of node has readFileAsync from \"node:fs\"", builtins: true},
		{name: "node:sqlite required", files: merge(tsc("const node_sqlite_1 = require(\"node:sqlite\");\n"), pkg("present")), hint: "\"node:sqlite\" (22.13.0 and later", builtins: true},
		{name: "a subpath Node 18 lacks", files: merge(tsc("const promises_2 = require(\"inspector/promises\");\n"), pkg("present")), hint: "inspector/promises", builtins: true},
		{name: "node's internals", files: merge(tsc("const stream_1 = require(\"_stream_readable\");\nconst a_1 = require(\"node:_http_agent\");\n"), pkg("present")), builtins: true},
		{name: "a package named like a builtin", files: merge(tsc("const punycode_1 = require(\"punycode/\");\n"), pkg("present"), pkg("punycode")), builtins: true},
		{name: "a package named like a builtin, missing", files: merge(tsc("const punycode_1 = require(\"punycode/\");\n"), pkg("present")), hint: "punycode", builtins: true},
		{name: "vm's modules under their flag", files: esm("import { SourceTextModule } from \"node:vm\";\nconsole.log('MAIN', typeof SourceTextModule);\n", nil), env: []string{"LAUNCHER_NODE_ARGS=--experimental-vm-modules"}, builtins: true},
		{name: "vm's modules without their flag", files: esm("import { SourceTextModule } from \"node:vm\";\nconsole.log('MAIN', typeof SourceTextModule);\n", nil), hint: "SourceTextModule", builtins: true},
		// The app's own subpath imports ("#…"): through the "imports" of
		// its package.json, by condition and pattern, to exact files,
		// which the walk then reads as the app's.
		{name: "subpath imports", files: map[string]string{
			"package.json":    `{"name":"backend","imports":{"#db":"./dist/db.js","#lib/*":"./dist/lib/*.js","#cond":{"node":"./dist/c.js","default":"./dist/none.js"},"#dep":"dep-pkg"}}`,
			"dist/index.js":   "\"use strict\";\nconst db_1 = require(\"#db\");\nconst x_1 = require(\"#lib/x\");\nconst c_1 = require(\"#cond\");\nconsole.log('MAIN', db_1.db, x_1.x, c_1.c);\n",
			"dist/db.js":      "exports.db = 1;\n",
			"dist/lib/x.js":   "exports.x = 2;\n",
			"dist/c.js":       "exports.c = 3;\n",
			"dist/unused.mjs": "export {};\n"}},
		{name: "a subpath import's own require not installed", files: map[string]string{
			"package.json":  `{"name":"backend","imports":{"#lib/*":"./dist/lib/*.js"},"devDependencies":{"pruned":"1.0.0"}}`,
			"dist/index.js": "\"use strict\";\nconst x_1 = require(\"#lib/x\");\nconsole.log('MAIN', x_1.x);\n",
			"dist/lib/x.js": "\"use strict\";\nconst pruned_1 = require(\"pruned\");\nexports.x = 2;\n"}, hint: "devDependencies", detail: `dist/lib/x.js:2 requires "pruned"`},
		{name: "a subpath import not defined", files: map[string]string{
			"package.json":  `{"name":"backend","imports":{"#db":"./dist/db.js"}}`,
			"dist/index.js": "\"use strict\";\nconst db_1 = require(\"#database\");\nconsole.log('MAIN', db_1.db);\n",
			"dist/db.js":    "exports.db = 1;\n"}, hint: `#database: package.json's "imports" must map it`},
		{name: "subpath imports to the TypeScript sources", files: map[string]string{
			"package.json":  `{"name":"backend","imports":{"#app/*":"./src/*.ts"}}`,
			"dist/index.js": "\"use strict\";\nconst db_1 = require(\"#app/db\");\nconsole.log('MAIN', db_1.db);\n",
			"dist/db.js":    "exports.db = 1;\n"}, hint: "not the sources in ./src"},
		{name: "subpath imports of an ES module", files: esm("import { db } from \"#db\";\nimport { x } from \"#lib/x\";\nconsole.log('MAIN', db, x);\n", map[string]string{
			"package.json":  `{"name":"backend","type":"module","imports":{"#db":"./dist/db.js","#lib/*":"./dist/lib/*.js"}}`,
			"dist/lib/x.js": "export const y = 2;\n"}), hint: "not exported"},
		{name: "a subpath import without an imports map", files: esm("import { db } from \"#db\";\nconsole.log('MAIN', db);\n", nil), hint: `#db: package.json's "imports" must map it`},
		// What node preloads (-r, --import; from LAUNCHER_NODE_ARGS or
		// NODE_OPTIONS) it loads before the entry, as require() or import
		// loads a module from its working folder, the app's.
		{name: "a preload's own require not installed", files: merge(tsc(""), pkg("present"), map[string]string{
			"dist/instrument.js": "\"use strict\";\nconst pruned_1 = require(\"pruned\");\n"}), env: []string{"LAUNCHER_NODE_ARGS=-r ./dist/instrument.js"}, hint: "devDependencies", detail: `dist/instrument.js:2 requires "pruned"`},
		{name: "a preload that loads what is installed", files: merge(tsc(""), pkg("present"), map[string]string{
			"dist/instrument.js": "\"use strict\";\nconst present_1 = require(\"present\");\nrequire(\"./db\");\n"}), env: []string{"NODE_OPTIONS=--require ./dist/instrument.js"}},
		{name: "an ES module preloaded by -r", files: merge(tsc(""), pkg("present"), map[string]string{"dist/conf.mjs": "export const port = 8099;\n"}),
			env: []string{"NODE_OPTIONS=-r ./dist/conf.mjs"}, hint: "preload it with --import instead", detail: `NODE_OPTIONS (-r) preloads "./dist/conf.mjs", an ES module`},
		{name: "an ES module that awaits, preloaded by -r", files: merge(tsc(""), pkg("present"), map[string]string{"dist/conf.mjs": "export const port = await Promise.resolve(8099);\n"}),
			env: []string{"LAUNCHER_NODE_ARGS=-r ./dist/conf.mjs"}, hint: "(-r ./dist/conf.mjs in LAUNCHER_NODE_ARGS): preload it with --import instead"},
		{name: "an ES module that awaits, preloaded by --import", files: merge(tsc(""), pkg("present"), map[string]string{"dist/conf.mjs": "export const port = await Promise.resolve(8099);\n"}),
			env: []string{"LAUNCHER_NODE_ARGS=--import ./dist/conf.mjs"}},
		{name: "real ES modules that await, preloaded by -r", files: merge(tsc(""), pkg("present")), fixture: "awaits", env: []string{"LAUNCHER_NODE_ARGS=-r temp-dir"}, hint: "(-r temp-dir in LAUNCHER_NODE_ARGS): preload it with --import instead", detail: `LAUNCHER_NODE_ARGS (-r) preloads "temp-dir", an ES module`},
		{name: "node:sqlite preloaded", files: merge(tsc(""), pkg("present")), env: []string{"LAUNCHER_NODE_ARGS=-r node:sqlite"}, hint: "\"node:sqlite\" (22.13.0 and later", builtins: true,
			detail: `LAUNCHER_NODE_ARGS (-r) preloads "node:sqlite", a module of node's`},
		{name: "a preloaded subpath not exported", files: merge(tsc(""), pkg("present")), fixture: "exports", env: []string{"NODE_OPTIONS=-r uuid/v4"}, hint: "not among what the installed package exports", check: "entry"},
		{name: "a preloaded package without its file", files: merge(tsc(""), pkg("present"), exported("partial", `{".":"./lib/index.js"}`)), env: []string{"LAUNCHER_NODE_ARGS=-r partial"}, hint: "reinstall", check: "entry"},
		// CommonJS's own names, which an ES module does not have: tsc
		// passes them, as @types/node declares them for every module.
		{name: "__dirname in an ES module", files: esm("import path from \"node:path\";\nconst root = path.join(__dirname, \"..\");\nconsole.log('MAIN', root);\n", nil), hint: "import.meta.dirname"},
		{name: "__filename in an ES module under no type", files: map[string]string{"package.json": `{"name":"backend"}`,
			"dist/index.js": "import { db } from \"./db.js\";\nconsole.log('MAIN', db, __filename);\n", "dist/db.js": "export const db = 1;\n"}, hint: "import.meta.filename", minMajor: 20},
		{name: "require.main in an ES module", files: esm("import http from \"node:http\";\nif (require.main === module) {\n  console.log('main');\n}\nconsole.log('MAIN', typeof http);\n", nil), hint: "createRequire(import.meta.url)"},
		{name: "a require of its own in an ES module", files: esm("import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\nconst p = require.resolve(\"present\");\nconsole.log('MAIN', p);\n", pkg("present"))},
		{name: "__dirname made, guarded, or read later", files: esm("import path from \"node:path\";\nimport { fileURLToPath } from \"node:url\";\nconst __dirname = path.dirname(fileURLToPath(import.meta.url));\n"+
			"const root = path.join(__dirname, \"..\");\nconst file = typeof __filename === \"undefined\" ? \"\" : __filename;\nexport const later = () => __filename;\nconsole.log('MAIN', root, file);\n", nil)},
		{name: "createRequire", files: esm("import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\nconst present = require(\"present\");\nconsole.log('MAIN', present.name);\n", pkg("present"))},
		// URLs: node's loader loads file: and data: URLs, and fetches
		// nothing (a CDN's module, a browser build's import).
		{name: "an https: URL imported", files: esm("import { x } from \"https://esm.sh/x@1\";\nconsole.log('MAIN', x);\n", nil), hint: "fetches none from the network"},
		{name: "an http: URL imported", files: esm("export * from \"http://127.0.0.1:9/x.js\";\nconsole.log('MAIN');\n", nil), hint: "fetches none from the network"},
		{name: "an https: URL preloaded", files: esm("console.log('MAIN');\n", nil), env: []string{"NODE_OPTIONS=--import=https://esm.sh/x@1"}, hint: "fetches none from the network", detail: "preloads"},
		{name: "an https: URL required", files: merge(tsc("const x_1 = require(\"https://esm.sh/x@1\");\n"), pkg("present")), hint: "fetches none from the network"},
		{name: "a data: URL imported", files: esm("import \"data:text/javascript,globalThis.x = 1;\";\nimport { db } from \"./db.js\";\nconsole.log('MAIN', globalThis.x, db);\n", nil)},
	}
	// Node 18 and 22.11 do not require() ES modules; Node 18 reads a .js
	// file under no "type" as CommonJS whatever it holds.
	forEachNode(t, []string{"node", npmNode(t, 18), npmNode(t, "22.11.0"), npmNode(t, 24)}, func(t *testing.T, node string, major int) {
		t.Parallel() // node's runs and the checks are most of the time, on one core each
		version, err := exec.Command(node, "--version").Output()
		must(t, err)
		release, _ := builtins.At(strings.TrimSpace(string(version)))
		tabled := release.Recorded()
		for _, c := range cases {
			if major < c.minMajor {
				continue
			}
			if c.builtins && !tabled {
				t.Logf("%s: node %s is past the table of node's modules: not judged", c.name, version)
				continue
			}
			app := layApp(t, c.files, c.fixture)
			entry := cmp.Or(c.entry, "dist/index.js")
			env := []string{"LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_ENTRY=" + entry}
			var args []string
			for _, kv := range c.env {
				kv = strings.ReplaceAll(kv, "APP", app)
				env = append(env, kv)
				if a, ok := strings.CutPrefix(kv, "LAUNCHER_NODE_ARGS="); ok {
					args, _ = config.SplitArgs(a)
				}
			}
			runs, out := nodeRunsApp(node, app, env, args, entry)
			code, r := runCheck(t, app, env...)
			if passes := code == 0; passes != runs {
				t.Errorf("%s: node runs the app: %v; the check: exit %d: %+v\nnode said: %s", c.name, runs, code, r.Failed(), firstLines(string(out), 6))
				continue
			}
			switch {
			case c.hint == "" || runs:
			case c.check == "entry":
				expectCheck(t, r, "entry", preflight.StatusFail, []string{"preloads", "node would fail with"}, []string{c.hint})
			default:
				expectCheck(t, r, "imports", preflight.StatusFail, []string{cmp.Or(c.detail, "dist/"), "node would fail at every start with"}, []string{c.hint})
			}
		}
	})
}

// Under a module that changes how node resolves and loads modules
// (module-alias, registered first), what the check would refuse is a
// warning, each in its own words: a package not found, an ES module that
// Node 18's require() refuses (found, so not "not found").
func TestCheck_ImportsUnderAResolverSayWhatEachIs(t *testing.T) {
	app := filepath.Join(t.TempDir(), "app")
	must(t, os.MkdirAll(app, 0o755))
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures(t), "resolvers", "node_modules"), app).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	for name, text := range map[string]string{
		"package.json":                      `{"name":"backend"}`,
		"index.js":                          "\"use strict\";\nrequire(\"module-alias/register\");\nconst esm_1 = require(\"esm-pkg\");\nconst missing_1 = require(\"missing\");\n",
		"node_modules/esm-pkg/package.json": `{"name":"esm-pkg","version":"5.0.0","type":"module","main":"index.js"}`,
		"node_modules/esm-pkg/index.js":     "export const x = 1;\n",
	} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	_, r := runCheck(t, app, "LAUNCHER_NODE="+npmNode(t, 18), "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "imports", preflight.StatusWarn, []string{
		`index.js:3 requires "esm-pkg", an ES module (node would fail at every start with: ERR_REQUIRE_ESM`,
		`index.js:4 requires "missing", not found`,
		"module-alias, which index.js loads, changes how it does, so whether node fails on them is known only at its start"},
		[]string{"Unless it finds and loads them", "esm-pkg@5.0.0 is an ES module", "Install missing in the image"})
}

// A package.json saved with a byte-order mark (as Windows editors save
// UTF-8): node skips the mark in every release, and reads the file's
// "type", "exports" and engines. The check read none of it: it refused an
// ES module app node runs as CommonJS ("no package.json above it sets
// \"type\"") under Node 18, resolved the package past its "exports", and
// warned that package.json was not JSON.
func TestCheck_PackageJSONWithAByteOrderMark(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	app := layApp(t, map[string]string{
		"package.json":                     bom + `{"name":"backend","type":"module","engines":{"node":">=18"}}`,
		"index.js":                         "import { db } from \"./db.js\";\nimport { x } from \"marked\";\nconsole.log('MAIN', db, x);\n",
		"db.js":                            "export const db = 1;\n",
		"node_modules/marked/package.json": bom + `{"name":"marked","version":"1.0.0","exports":{".":{"import":"./m.mjs","require":"./c.cjs"}}}`,
		"node_modules/marked/m.mjs":        "export const x = 1;\n",
		"node_modules/marked/c.cjs":        "exports.x = 1;\n",
	}, "")
	forEachNode(t, []string{npmNode(t, 18), "node", npmNode(t, 24)}, func(t *testing.T, node string, major int) {
		env := []string{"LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES="}
		if runs, out := nodeRunsApp(node, app, env, nil, "index.js"); !runs {
			t.Fatalf("node does not run the app: %s", firstLines(out, 6))
		}
		code, r := runCheck(t, app, env...)
		if code != 0 {
			t.Fatalf("exit %d: %+v", code, r.Failed())
		}
		expectCheck(t, r, "imports", preflight.StatusPass, []string{"2 scripts of its own, 1 package (marked)"}, nil)
		expectCheck(t, r, "engines", preflight.StatusPass, []string{">=18"}, nil)
	})
}

// A package.json node cannot parse is there: the engines check's warning
// says to mend it, not to copy it into the image. (An .mjs entry, which
// node loads without reading it.)
func TestCheck_PackageJSONNotJSON(t *testing.T) {
	app := layApp(t, map[string]string{"package.json": "{\n  \"name\": \"backend\",\n  \"engines\": { \"node\": \">=18\" },\n}\n", "index.mjs": "console.log('MAIN');\n"}, "")
	env := []string{"LAUNCHER_NATIVE_MODULES=", "LAUNCHER_ENTRY=index.mjs"}
	if runs, out := nodeRunsApp("node", app, env, nil, "index.mjs"); !runs {
		t.Fatalf("node does not run the app: %s", firstLines(out, 6))
	}
	code, r := runCheck(t, app, env...)
	if code != 0 {
		t.Fatalf("exit %d: %+v", code, r.Failed())
	}
	expectCheck(t, r, "engines", preflight.StatusWarn, []string{"package.json is not JSON (line 4, column 1: invalid character '}' looking for beginning of object key string)"}, []string{"Make package.json valid JSON (a trailing comma"})
}

// A package the app loads at its start whose own engines.node excludes
// the runtime's node: npm only warned (EBADENGINE) where the builder stage
// ran another node, and some such packages fail at their start (undici 7,
// yargs 18 under Node 18). A warning naming it, under that node only.
func TestCheck_ImportsWarnOfPackagesEngines(t *testing.T) {
	app := filepath.Join(t.TempDir(), "app")
	for name, text := range map[string]string{
		"package.json":                     `{"name":"backend"}`,
		"index.js":                         "\"use strict\";\nconst modern = require(\"modern\");\nconst old = require(\"old\");\n",
		"node_modules/modern/package.json": `{"name":"modern","version":"7.0.0","engines":{"node":">=20.18.1"}}`,
		"node_modules/modern/index.js":     "module.exports = 1;\n",
		"node_modules/old/package.json":    `{"name":"old","version":"1.0.0","engines":{"node":">=12"}}`,
		"node_modules/old/index.js":        "module.exports = 1;\n",
	} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	_, r := runCheck(t, app, "LAUNCHER_NODE="+npmNode(t, 18), "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "imports", preflight.StatusWarn, []string{`modern 7.0.0 declares engines.node ">=20.18.1", which excludes node v18.`}, []string{"Install versions whose engines include node v18."})
	for _, c := range r.Checks {
		if c.Name == "imports" && strings.Contains(c.Detail, "old 1.0.0") {
			t.Errorf("a package whose engines include node is named: %s", c.Detail)
		}
	}
	_, r = runCheck(t, app, "LAUNCHER_NODE=node", "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "imports", pass, []string{"2 packages (modern, old)"}, nil)
}

// npm, Yarn and pnpm workspaces hoist dependencies into the node_modules of
// the workspace's root, above the app, where require() finds them. The scan
// read the app's own node_modules alone: a hoisted better-sqlite3 built for
// Node 20 passed as "0 other native modules" under Node 22, which refuses
// it. Under Node 20 and 22 the verdict is node's, and the root's link to
// the app (npm's node_modules/<workspace>) is not walked again.
func TestCheck_ScanSeesModulesHoistedAboveTheApp(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	app := filepath.Join(root, "packages", "backend")
	must(t, os.MkdirAll(app, 0o755))
	if out, err := exec.Command("cp", "-a", filepath.Join(fixtures(t), "app20", "node_modules"), filepath.Join(root, "node_modules")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	must(t, os.Symlink("../packages/backend", filepath.Join(root, "node_modules", "backend")))
	must(t, os.WriteFile(filepath.Join(root, "package.json"), []byte(`{"name":"repo","private":true,"workspaces":["packages/*"]}`), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"backend","version":"1.0.0"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("require('bcrypt'); new (require('better-sqlite3'))(':memory:'); console.log('MAIN');\n"), 0o644))
	for _, c := range []struct {
		node   string
		detail string
	}{
		{"node", "1 other native module in node_modules, all would load"},
		{npmNode(t, 22), "better-sqlite3 (build/Release/better_sqlite3.node): compiled for NODE_MODULE_VERSION 115"},
	} {
		cmd := exec.Command(c.node, "index.js")
		cmd.Dir = app
		out, err := cmd.CombinedOutput()
		runs := err == nil && strings.Contains(string(out), "MAIN")
		_, r := runCheck(t, app, "LAUNCHER_NODE="+c.node, "LAUNCHER_NATIVE_MODULES=bcrypt")
		for _, ch := range r.Checks {
			if ch.Name != "native-scan" {
				continue
			}
			if passes := ch.Status == preflight.StatusPass; passes != runs || !strings.Contains(ch.Detail, c.detail) {
				t.Errorf("%s: node runs the app: %v; the scan: %s: %s (want %q)\nnode said: %s", c.node, runs, ch.Status, ch.Detail, c.detail, firstLines(string(out), 3))
			}
		}
	}
}

// firstLines is s's first n lines.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// A .node that no loader marks: build/Release without binding.gyp, named
// in LAUNCHER_NATIVE_MODULES; and the app's own (a bundle's) beside its
// code and required by a literal path. Random bytes and an aarch64 build
// fail, as node would fail to load them.
func TestCheck_UnmarkedBinaries(t *testing.T) {
	fx := fixtures(t)
	arm := filepath.Join(fx, "app20", "node_modules", "bcrypt", "prebuilds", "linux-arm64", "bcrypt.glibc.node")
	good := filepath.Join(fx, "app20", "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node")
	random := filepath.Join(t.TempDir(), "random.node")
	must(t, os.WriteFile(random, []byte("\x7fELF\x02\x01\x01 random bytes, not a module at all"), 0o644))

	t.Run("package without binding.gyp", func(t *testing.T) {
		for _, c := range []struct{ file, says string }{{arm, "node here is x64"}, {random, "malformed"}} {
			app := newApp(t, ">=18", map[string]string{})
			dir := filepath.Join(app, "node_modules", "plainmod")
			must(t, os.MkdirAll(filepath.Join(dir, "build", "Release"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"plainmod","version":"1.0.0","main":"index.js"}`), 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte("module.exports = require('./build/Release/x.node')\n"), 0o644))
			b, _ := os.ReadFile(c.file)
			must(t, os.WriteFile(filepath.Join(dir, "build", "Release", "x.node"), b, 0o644))
			if ok, _ := nodeLoads(t, app, "require('plainmod')"); ok {
				t.Fatalf("node loads %s?", c.file)
			}
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=plainmod")
			if code != 3 {
				t.Fatalf("%s: exit %d, want 3: %+v", filepath.Base(c.file), code, r.Checks)
			}
			expectCheck(t, r, "native:plainmod", preflight.StatusFail, []string{"build/Release/x.node", c.says}, nil)
		}
	})
	t.Run("bundle", func(t *testing.T) {
		app := newApp(t, ">=18", map[string]string{})
		dist := filepath.Join(app, "dist")
		must(t, os.MkdirAll(dist, 0o755))
		b, _ := os.ReadFile(good)
		must(t, os.WriteFile(filepath.Join(dist, "better_sqlite3.node"), b, 0o644))
		must(t, os.WriteFile(filepath.Join(dist, "index.js"), []byte("const b = require('./better_sqlite3.node');\nconst c = require('./crypto.node');\n"), 0o644))
		// the literal require of a file that is not there
		code, r := runCheck(t, app, "LAUNCHER_ENTRY=dist/index.js", "LAUNCHER_NATIVE_MODULES=")
		if code != 3 {
			t.Fatalf("exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native-app", preflight.StatusFail, []string{"dist/index.js requires dist/crypto.node, which is missing"}, nil)
		// with it there, and built for aarch64
		a, _ := os.ReadFile(arm)
		must(t, os.WriteFile(filepath.Join(dist, "crypto.node"), a, 0o644))
		code, r = runCheck(t, app, "LAUNCHER_ENTRY=dist/index.js", "LAUNCHER_NATIVE_MODULES=")
		if code != 3 {
			t.Fatalf("exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native-app", preflight.StatusFail, []string{"dist/crypto.node", "arm64"}, nil)
		// only the good one: it passes, and node agrees
		must(t, os.Remove(filepath.Join(dist, "crypto.node")))
		must(t, os.WriteFile(filepath.Join(dist, "index.js"), []byte("const b = require('./better_sqlite3.node');\n"), 0o644))
		if ok, out := nodeLoads(t, dist, "require('./index.js')"); !ok {
			t.Fatalf("node cannot load the bundle: %s", out)
		}
		code, r = runCheck(t, app, "LAUNCHER_ENTRY=dist/index.js", "LAUNCHER_NATIVE_MODULES=")
		if code != 0 {
			t.Fatalf("exit %d: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native-app", pass, []string{"1 native binary of the app's own"}, nil)
	})
}

// napi-rs's scheme: a parent of plain JavaScript that loads, at run time,
// the optional dependency built for its platform. Installed for another
// libc or CPU only, node throws; the preflight names the missing package
// and the npm flags that install it.
func TestCheck_NapiRsPlatformPackages(t *testing.T) {
	fx := fixtures(t)
	for _, c := range []struct {
		app, says string
		status    preflight.CheckStatus
	}{
		{"napi-here", "nice-linux-x64-gnu/", pass},
		{"napi-musl", "@napi-rs/nice-linux-x64-gnu on linux-x64 (glibc), which is not installed: only @napi-rs/nice-linux-x64-musl is installed", preflight.StatusFail},
		{"napi-arm64", "only @napi-rs/nice-linux-arm64-gnu is installed", preflight.StatusFail},
	} {
		t.Run(c.app, func(t *testing.T) {
			app := filepath.Join(fx, c.app)
			loads, out := nodeLoads(t, app, "require('@napi-rs/nice')")
			if loads != (c.status == pass) {
				t.Fatalf("node loads it: %v, but the test expects %s: %s", loads, c.status, out)
			}
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=@napi-rs/nice")
			if (code == 0) != loads {
				t.Errorf("exit %d while node loads it: %v: %+v", code, loads, r.Checks)
			}
			var hint []string
			if c.status != pass {
				hint = []string{"--os=linux --cpu=x64 --libc=glibc"}
			}
			expectCheck(t, r, "native:@napi-rs/nice", c.status, []string{c.says}, hint)
		})
	}
}

// sharp, the most used native module, has two platform packages for each
// platform: its binding, @img/sharp-linux-x64, and the libvips the binding
// links, @img/sharp-libvips-linux-x64, which holds no .node file. The
// check took the libvips package, first in name order, for the binding:
// "sharp-libvips-linux-x64 has no .node file", exit 3 for an app node
// runs. Now the binding is checked, and a missing binding is named.
func TestCheck_SharpBindingAndLibvips(t *testing.T) {
	fx := fixtures(t)
	loads := "const s = require('sharp'); console.log('LOADED', s.versions.vips)"
	noBinding := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("cp", "-a", filepath.Join(fx, "sharp-here"), noBinding).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	must(t, os.RemoveAll(filepath.Join(noBinding, "node_modules", "@img", "sharp-linux-x64")))
	for _, c := range []struct {
		name, app string
		says      []string
		status    preflight.CheckStatus
	}{
		{"here", filepath.Join(fx, "sharp-here"), []string{"@img/sharp-linux-x64/lib/sharp-linux-x64.node (its platform package)"}, pass},
		{"only libvips", noBinding, []string{"loads @img/sharp-linux-x64 on linux-x64 (glibc), which is not installed: only @img/sharp-libvips-linux-x64 is installed"}, preflight.StatusFail},
		{"musl only", filepath.Join(fx, "sharp-musl"), []string{"loads @img/sharp-linux-x64 on linux-x64 (glibc), which is not installed: only @img/sharp-libvips-linuxmusl-x64, @img/sharp-linuxmusl-x64 are installed"}, preflight.StatusFail},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, out := nodeLoads(t, c.app, loads)
			if ok != (c.status == pass) {
				t.Fatalf("node loads it: %v, but the test expects %s: %s", ok, c.status, out)
			}
			for _, flags := range [][]string{nil, {"--deep"}} {
				code, r := runCheckFlags(t, flags, c.app, "LAUNCHER_NATIVE_MODULES=sharp")
				if (code == 0) != ok {
					t.Errorf("check %v: exit %d while node loads it: %v: %+v", flags, code, ok, r.Checks)
				}
				expectCheck(t, r, "native:sharp", c.status, c.says, nil)
			}
		})
	}
	// On a Raspberry Pi: sharp installed for arm64 in Debian's arm64 image.
	// Its binding finds libvips through its RPATH, $ORIGIN/../../sharp-
	// libvips-linux-arm64/lib; checked from outside with --root, $ORIGIN
	// was the folder outside the image, and libvips "not found".
	t.Run("arm64 image", func(t *testing.T) {
		says := "@img/sharp-linux-arm64/lib/sharp-linux-arm64.node (its platform package)"
		passesInArm64Image(t, "sharp-arm64", "sharp", says)
		code, inside := checkInRoot(t, debianRoot(t, "arm64"), filepath.Join(fx, "sharp-arm64"), "LAUNCHER_NATIVE_MODULES=sharp")
		if code != 0 {
			t.Errorf("check inside the image: exit %d: %+v", code, inside.Checks)
		}
		expectCheck(t, inside, "native:sharp", pass, []string{says, "arm64"}, nil)
	})
}

// Not named in LAUNCHER_NATIVE_MODULES, the same package is found by the
// scan of node_modules, which warns.
// sharp's platform packages are of another scope than sharp itself
// (@img/sharp-linuxmusl-x64): the scan looked for a parent "@img/sharp",
// found none, and passed an app whose sharp node cannot load.
func TestCheck_ScanFindsMissingPlatformPackage(t *testing.T) {
	for app, missing := range map[string]string{"napi-musl": "@napi-rs/nice-linux-x64-gnu", "sharp-musl": "@img/sharp-linux-x64"} {
		t.Run(app, func(t *testing.T) {
			code, r := runCheck(t, filepath.Join(fixtures(t), app), "LAUNCHER_NATIVE_MODULES=")
			if code != 0 {
				t.Fatalf("exit %d: %+v", code, r.Checks)
			}
			expectCheck(t, r, "native-scan", preflight.StatusWarn, []string{missing, "not installed"}, []string{"--libc=glibc"})
		})
	}
}

// node behind a wrapper: a shell script (asdf's and nodenv's shims) or an
// executable that starts node (volta's shim). Neither is node: the node
// check warns and says how to find node itself, and the modules are
// checked as far as the wrapper tells. Both used to fail a start that
// node would make: bcrypt's binary was looked for under linux- (no
// architecture) behind the script, and node's Node-API was looked for in
// the shim's symbols. node loads both modules through either.
func TestCheck_NodeBehindAWrapper(t *testing.T) {
	script := filepath.Join(t.TempDir(), "node")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\nexec /usr/bin/node \"$@\"\n"), 0o755))
	shim := filepath.Join(fixtures(t), "shim", "node")
	loads := "const b = require('bcrypt'); require('better-sqlite3'); console.log('LOADED', b.compareSync('x', b.hashSync('x', 4)))"
	for _, c := range []struct {
		name, node     string
		detail, bcrypt []string
	}{
		{"script", script, []string{"v20.", "not an ELF binary"},
			[]string{"prebuilds/linux-x64/bcrypt.glibc.node", "node's CPU and libc unknown", "not checked further"}},
		{"executable", shim, []string{"v20.", "glibc, x64", "not node itself"},
			[]string{"prebuilds/linux-x64/bcrypt.glibc.node", "Node-API, glibc x64", "not checked further"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := newApp(t, ">=18", appPackages(t, "app20"))
			for _, flags := range [][]string{nil, {"--deep"}} {
				code, r := runCheckFlags(t, flags, app, "LAUNCHER_NODE="+c.node)
				if code != 0 || !r.OK {
					t.Errorf("check %v: exit %d, want 0: %+v", flags, code, r.Checks)
				}
				expectCheck(t, r, "node", preflight.StatusWarn, c.detail, []string{"LAUNCHER_NODE", "process.execPath"})
				expectCheck(t, r, "native:bcrypt", pass, c.bcrypt, nil)
				expectCheck(t, r, "native:better-sqlite3", pass, []string{"build/Release/better_sqlite3.node"}, nil)
			}
			cmd := exec.Command(c.node, "-e", loads)
			cmd.Dir = app
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "LOADED true") {
				t.Errorf("node through the %s does not load the modules: %v\n%s", c.name, err, out)
			}
		})
	}
	// An unpacked image whose node is a script: its version is the package
	// database's, its CPU is nobody's here, so which prebuild node-gyp-build
	// would pick is not known: a warning, not a failure.
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "usr", "bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "var", "lib", "dpkg"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr", "bin", "node"), []byte("#!/bin/sh\nexec /opt/node/bin/node \"$@\"\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "var", "lib", "dpkg", "status"),
		[]byte("Package: nodejs\nStatus: install ok installed\nArchitecture: arm64\nVersion: 20.19.2+dfsg-1\n\n"), 0o644))
	_, appDir := inRoot(t, root, newApp(t, ">=18", appPackages(t, "app20")))
	code, r, text := checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES=bcrypt")
	if code != 0 {
		t.Errorf("an image whose node is a script: exit %d, want 0:\n%s", code, text)
	}
	expectCheck(t, r, "node", preflight.StatusWarn, []string{"v20.19.2", "not an ELF binary"}, []string{"LAUNCHER_NODE"})
	expectCheck(t, r, "native:bcrypt", preflight.StatusWarn, []string{"which binary node-gyp-build would load depends on node's CPU"}, []string{"LAUNCHER_NODE"})
	// With its programs' CPU told by its loader (arm64), node runs on that
	// CPU whatever starts it: the prebuild is picked for it.
	must(t, os.MkdirAll(filepath.Join(root, "lib"), 0o755))
	if out, err := exec.Command("cp", "-L", filepath.Join(debianRoot(t, "arm64"), "lib", "ld-linux-aarch64.so.1"), filepath.Join(root, "lib")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if code, r, text = checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES=bcrypt"); code != 0 {
		t.Errorf("an arm64 image whose node is a script: exit %d, want 0:\n%s", code, text)
	}
	expectCheck(t, r, "native:bcrypt", pass, []string{"prebuilds/linux-arm64/bcrypt.glibc.node", "node's CPU and libc unknown"}, nil)
	// A script elsewhere is not the package's node: nothing outside it
	// tells its version.
	elsewhere := besideApp(t, root, appDir, filepath.Join(root, "usr", "bin", "node"))
	if code, r, text = checkRoot(t, root, appDir, "LAUNCHER_NODE="+elsewhere, "LAUNCHER_NATIVE_MODULES=bcrypt"); code != 3 {
		t.Errorf("an image whose node is a script beside the app: exit %d, want 3:\n%s", code, text)
	}
	expectCheck(t, r, "node", preflight.StatusFail, []string{"could not be read without running it", "the image's package database tells the version of /usr/bin/node alone"}, []string{"LAUNCHER_NODE must be node itself"})

	// What node's version tells is checked behind either: a module built
	// for Node 18 under the Node 20 they start is refused, as node would.
	for _, wrapper := range []string{script, shim} {
		code, r := runCheck(t, newApp(t, ">=18", appPackages(t, "app18")), "LAUNCHER_NODE="+wrapper)
		if code != 3 {
			t.Errorf("a Node 18 module behind %s: exit %d, want 3", wrapper, code)
		}
		expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"NODE_MODULE_VERSION 108 (Node 18)", "v20."}, []string{"FROM node:20-alpine"})
	}

	// Under run, node starts through the shim, behind the gate, and the
	// app loads both modules.
	app := newApp(t, ">=18", appPackages(t, "app20"))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte(loads+"\n"), 0o644))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + shim, "LAUNCHER_READY_URL=", "LAUNCHER_RESTART=never"}})
	if code := l.wait(30 * time.Second); code != 0 {
		t.Fatalf("run through the shim: exit %d\n%s", code, l.stdout)
	}
	for _, want := range []string{"node started behind the gate", "WARNING: preflight node:", "LOADED true"} {
		if !strings.Contains(l.stdout.String(), want) {
			t.Errorf("run through the shim: the log lacks %q:\n%s", want, l.stdout)
		}
	}
}

// better-sqlite3 13 ships one binary per platform as a file of prebuilds/
// and loads it itself: build/Debug, then build/Release, then
// prebuilds/linux-<arch>.node, or linuxmusl-<arch>.node under a musl node.
// The preflight looked for node-gyp-build's folders there and refused
// (exit 3) every start of an app that Node 22 to 26 run. Each verdict here
// is node's own: it opens a database where the check passes, and dies of
// SIGSEGV under Node 20, whose Node-API 9 is below the binary's 10.
func TestCheck_BetterSqlite3_13(t *testing.T) {
	fx := fixtures(t)
	nm := filepath.Join(fx, "sqlite13", "node_modules")
	pkgs := map[string]string{"bcrypt": filepath.Join(nm, "bcrypt"), "better-sqlite3": filepath.Join(nm, "better-sqlite3"),
		"node-gyp-build": filepath.Join(nm, "node-gyp-build")}
	nodeOpens := func(node, app string) bool {
		cmd := exec.Command(node, "-e", "const D = require('better-sqlite3'); console.log('OPENED', new D(':memory:').prepare('select 1 x').get().x)")
		cmd.Dir = app
		out, err := cmd.CombinedOutput()
		return err == nil && strings.Contains(string(out), "OPENED 1")
	}
	for _, major := range []int{22, 24, 26} {
		node := npmNode(t, major)
		app := newApp(t, ">=22", pkgs)
		code, r := runCheck(t, app, "LAUNCHER_NODE="+node)
		if code != 0 {
			t.Errorf("Node %d: exit %d, want 0: %+v", major, code, r.Checks)
		}
		expectCheck(t, r, "native:better-sqlite3", pass, []string{"better-sqlite3 13.", "prebuilds/linux-x64.node (picked by its own loader)", "Node-API 10"}, nil)
		if !nodeOpens(node, app) {
			t.Errorf("Node %d does not open a database with better-sqlite3 13, which the check passed", major)
		}
	}

	// Under Node 20 both refuse it.
	app := newApp(t, ">=18", pkgs)
	code, r := runCheck(t, app, "LAUNCHER_NODE=/usr/bin/node")
	if code != 3 {
		t.Errorf("Node 20: exit %d, want 3", code)
	}
	expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"prebuilds/linux-x64.node", "requires Node-API 10", "supports 9"}, []string{"newer node"})
	if nodeOpens("/usr/bin/node", app) {
		t.Errorf("Node 20 opened a database with better-sqlite3 13: the check's failure is false")
	}

	// A musl node gets the musl build.
	_, r = runCheck(t, app, "LAUNCHER_NODE="+filepath.Join(fx, "musl", "node"))
	expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"prebuilds/linuxmusl-x64.node (picked by its own loader)"}, nil)

	// A binary compiled on purpose in build/Release comes first: a broken
	// one there breaks node and the check alike.
	node24 := npmNode(t, 24)
	app = newApp(t, ">=22", map[string]string{"bcrypt": pkgs["bcrypt"], "node-gyp-build": pkgs["node-gyp-build"]})
	dir := copyPackage(t, app, "better-sqlite3", pkgs["better-sqlite3"])
	must(t, os.MkdirAll(filepath.Join(dir, "build", "Release"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "build", "Release", "better_sqlite3.node"), []byte("not a binary\n"), 0o755))
	code, r = runCheck(t, app, "LAUNCHER_NODE="+node24)
	if code != 3 || nodeOpens(node24, app) {
		t.Errorf("a broken build/Release/better_sqlite3.node: exit %d (want 3), or node opened a database", code)
	}
	expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"build/Release/better_sqlite3.node (picked by its own loader)"}, nil)

	// An arm64 image (Debian's Node 18, Node-API 9), from outside: the arm64
	// build is picked, and refused for its Node-API as under Node 20 here.
	t.Run("arm64", func(t *testing.T) {
		requireArm64(t)
		root := debianRoot(t, "arm64")
		_, appDir := inRoot(t, root, newApp(t, ">=18", pkgs))
		var r preflight.Report
		withoutEmulation(t, func() { _, r, _ = checkRoot(t, root, appDir) })
		expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail,
			[]string{"prebuilds/linux-arm64.node (picked by its own loader)", "requires Node-API 10", "v18.20.4 supports 9"}, nil)
	})

	// No binary for node's platform: its own fix, and node fails too.
	must(t, os.RemoveAll(filepath.Join(dir, "build")))
	must(t, os.Remove(filepath.Join(dir, "prebuilds", "linux-x64.node")))
	code, r = runCheck(t, app, "LAUNCHER_NODE="+node24)
	if code != 3 || nodeOpens(node24, app) {
		t.Errorf("no linux-x64 binary: exit %d (want 3), or node opened a database", code)
	}
	expectCheck(t, r, "native:better-sqlite3", preflight.StatusFail, []string{"no binary that its own loader would load on linux-x64", "prebuilds/linux-x64.node"},
		[]string{"no binary for linux-x64 in prebuilds/", "npx node-gyp rebuild"})
}

// zeromq 6 ships every platform's binary in build/ and loads it with
// cmake-ts's loader: of build/manifest.json's builds for node's OS, CPU
// and libc (musl where /etc/alpine-release exists), the highest ABI first,
// each tried until one loads. The check took build/Release for its loader
// (package.json says "gypfile"), found nothing there, and refused a start
// that node makes. Each verdict is node's: under Node 20 and 18 here, with
// the first build broken (node goes on to the next), with no build for
// this platform, and in Debian's arm64 image, from outside.
func TestCheck_ZeromqCmakeTs(t *testing.T) {
	fx := fixtures(t)
	loaded := func(node, app string) string {
		cmd := exec.Command(node, "-e", "require('zeromq'); console.log('LOADED', require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').find(l => l.includes('addon.node')).split('/build/')[1])")
		cmd.Dir = app
		out, _ := cmd.CombinedOutput()
		if _, after, ok := strings.Cut(string(out), "LOADED "); ok {
			return "build/" + strings.TrimSpace(after)
		}
		return ""
	}
	app := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("cp", "-a", filepath.Join(fx, "zeromq6"), app).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	builds := filepath.Join(app, "node_modules", "zeromq", "build", "linux", "x64", "node")
	good, err := os.ReadFile(filepath.Join(builds, "glibc-127-Release", "addon.node"))
	must(t, err)
	for _, c := range []struct {
		name, node string
		before     func()
		picked     string   // by node and by the check; "" when node loads none
		says       []string // the check's detail
	}{
		{"node20", "/usr/bin/node", nil, "build/linux/x64/node/glibc-127-Release/addon.node",
			[]string{"build/linux/x64/node/glibc-127-Release/addon.node (picked by cmake-ts)"}},
		{"node18", npmNode(t, 18), nil, "build/linux/x64/node/glibc-127-Release/addon.node",
			[]string{"build/linux/x64/node/glibc-127-Release/addon.node (picked by cmake-ts)"}},
		// The loader goes on to the next build: here a good one.
		{"the first broken", "/usr/bin/node", func() {
			must(t, os.WriteFile(filepath.Join(builds, "glibc-127-Release", "addon.node"), []byte("\x7fELF broken"), 0o755))
			must(t, os.WriteFile(filepath.Join(builds, "glibc-115-Release", "addon.node"), good, 0o755))
		}, "build/linux/x64/node/glibc-115-Release/addon.node",
			[]string{"build/linux/x64/node/glibc-115-Release/addon.node (picked by cmake-ts, after 1 that would not load: build/linux/x64/node/glibc-127-Release/addon.node)"}},
		// None loads: one broken, one missing, and zeromq's build for
		// Node 12 needs a glibc newer than Debian 12's.
		{"none loads", "/usr/bin/node", func() {
			must(t, os.RemoveAll(filepath.Join(builds, "glibc-115-Release")))
		}, "", []string{"none of the 3 builds cmake-ts would try here would load", "glibc-127-Release/addon.node: ", "glibc-115-Release/addon.node: ", "glibc-72-Release/addon.node: ", "GLIBC_2.38"}},
		{"none listed", "/usr/bin/node", func() {
			manifest := filepath.Join(app, "node_modules", "zeromq", "build", "manifest.json")
			cmd := exec.Command("node", "-e", `const fs = require('fs'), m = JSON.parse(fs.readFileSync(process.argv[1]));
for (const k of Object.keys(m)) { const c = JSON.parse(k); if (c.os === 'linux' && c.arch === 'x64' && c.libc === 'glibc') delete m[k]; }
fs.writeFileSync(process.argv[1], JSON.stringify(m));`, manifest)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}, "", []string{"no binary that cmake-ts would load on linux-x64", "none for linux x64 glibc"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			if got := loaded(c.node, app); got != c.picked {
				t.Fatalf("node loads %q, the test expects %q", got, c.picked)
			}
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=zeromq", "LAUNCHER_NODE="+c.node)
			if (code == 0) != (c.picked != "") {
				t.Errorf("exit %d, but node loads %q: %+v", code, c.picked, r.Checks)
			}
			status := pass
			if c.picked == "" {
				status = preflight.StatusFail
			}
			expectCheck(t, r, "native:zeromq", status, c.says, nil)
		})
	}
	t.Run("arm64 image", func(t *testing.T) {
		passesInArm64Image(t, "zeromq6", "zeromq", "build/linux/arm64/node/glibc-127-Release/addon.node (picked by cmake-ts)")
	})
}

// node-gyp-build-optional-packages (msgpackr-extract, lmdb: node-gyp-
// build's folders and tags, then @<name>/<name>-linux-<arch>, its files
// picked by the same tags with node's own libc) and @parcel/watcher (its
// platform package first, then build/Release). All three ship a
// binding.gyp, which made the check look in build/Release alone: exit 3
// for apps node runs. Each verdict and pick is node's, under Node 20 and
// 24 here, and in Debian's arm64 image, where msgpackr-extract 3.0.3
// publishes musl builds only and node cannot load it.
func TestCheck_OptionalPackagesLoaders(t *testing.T) {
	fx := fixtures(t)
	modules := []string{"msgpackr-extract", "lmdb", "@parcel/watcher"}
	env := "LAUNCHER_NATIVE_MODULES=" + strings.Join(modules, ",")
	for _, c := range []struct {
		name, node string
		picks      map[string]string
	}{
		{"node20", "/usr/bin/node", map[string]string{
			"msgpackr-extract": "@msgpackr-extract/msgpackr-extract-linux-x64/node.abi115.glibc.node (picked by node-gyp-build-optional-packages)",
			"lmdb":             "@lmdb/lmdb-linux-x64/node.abi115.glibc.node (picked by node-gyp-build-optional-packages)",
			"@parcel/watcher":  "@parcel/watcher-linux-x64-glibc/watcher.node (its platform package)"}},
		{"node24", npmNode(t, 24), map[string]string{
			"msgpackr-extract": "@msgpackr-extract/msgpackr-extract-linux-x64/node.napi.glibc.node (picked by node-gyp-build-optional-packages)",
			"lmdb":             "@lmdb/lmdb-linux-x64/node.napi.glibc.node (picked by node-gyp-build-optional-packages)",
			"@parcel/watcher":  "@parcel/watcher-linux-x64-glibc/watcher.node (its platform package)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := filepath.Join(fx, "optional-here")
			cmd := exec.Command(c.node, "-e", "for (const m of "+jsString(strings.Join(modules, " "))+".split(' ')) require(m);"+
				"console.log(require('fs').readFileSync('/proc/self/maps', 'utf8'))")
			cmd.Dir = app
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node does not load them: %v\n%s", err, out)
			}
			code, r := runCheck(t, app, env, "LAUNCHER_NODE="+c.node)
			if code != 0 {
				t.Errorf("exit %d while node loads them: %+v", code, r.Checks)
			}
			for m, pick := range c.picks {
				file := strings.Fields(pick)[0]
				if !strings.Contains(string(out), "/node_modules/"+file+"\n") {
					t.Errorf("node did not load %s for %s", file, m)
				}
				expectCheck(t, r, "native:"+m, pass, []string{pick}, nil)
			}
		})
	}
	t.Run("arm64 image", func(t *testing.T) {
		requireArm64(t)
		root := debianRoot(t, "arm64")
		_, appDir := inRoot(t, root, filepath.Join(fx, "optional-arm64"))
		for m, loads := range map[string]bool{"msgpackr-extract": false, "lmdb": true, "@parcel/watcher": true} {
			use := map[string]string{"lmdb": ".open({ path: '" + appDir + "/db' }).close()"}[m]
			_, code := chroot(t, root, nil, "/usr/bin/node", "-e", "require('"+appDir+"/node_modules/"+m+"')"+use)
			if (code == 0) != loads {
				t.Fatalf("Debian's arm64 node loads %s: %v, the test expects %v", m, code == 0, loads)
			}
		}
		var code int
		var r preflight.Report
		withoutEmulation(t, func() { code, r, _ = checkRoot(t, root, appDir, env) })
		if code != 3 {
			t.Errorf("check --root: exit %d, want 3 (msgpackr-extract): %+v", code, r.Checks)
		}
		expectCheck(t, r, "native:msgpackr-extract", preflight.StatusFail,
			[]string{"@msgpackr-extract/msgpackr-extract-linux-arm64 (node.abi115.musl.node, node.napi.musl.node: none for glibc"}, []string{"ships a build for glibc"})
		expectCheck(t, r, "native:lmdb", pass, []string{"@lmdb/lmdb-linux-arm64/node.napi.glibc.node"}, nil)
		expectCheck(t, r, "native:@parcel/watcher", pass, []string{"@parcel/watcher-linux-arm64-glibc/watcher.node"}, nil)
		expectCheck(t, r, "native-scan", pass, nil, nil) // msgpackr-extract is named: not again
	})
}

// koffi 3's platform package holds one folder per libc (linux_x64/ and
// musl_x64/, koffi.node in each): its loader takes the one for node's libc
// and tries the other when that one does not load. And its binaries
// declare NAPI_VERSION_EXPERIMENTAL (2147483647), which node loads
// whatever its own level. The check found no .node in the package, then
// refused the experimental level: exit 3 for an app node runs.
func TestCheck_KoffiLibcFoldersAndExperimentalNodeAPI(t *testing.T) {
	fx := fixtures(t)
	app := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("cp", "-a", filepath.Join(fx, "koffi3"), app).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	for _, c := range []struct{ name, node string }{{"node20", "/usr/bin/node"}, {"node18", npmNode(t, 18)}} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.node, "-e", "console.log('LOADED', require('koffi').version)")
			cmd.Dir = app
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "LOADED") {
				t.Fatalf("node does not load koffi: %v\n%s", err, out)
			}
			for _, flags := range [][]string{nil, {"--deep"}} {
				code, r := runCheckFlags(t, flags, app, "LAUNCHER_NATIVE_MODULES=koffi", "LAUNCHER_NODE="+c.node)
				if code != 0 {
					t.Errorf("check %v: exit %d while node loads it: %+v", flags, code, r.Checks)
				}
				expectCheck(t, r, "native:koffi", pass, []string{"@koromix/koffi-linux-x64/linux_x64/koffi.node (its platform package)", "Node-API (experimental)"}, nil)
			}
		})
	}
	// The glibc build broken: koffi tries the musl one, which node here
	// cannot load either.
	t.Run("glibc build broken", func(t *testing.T) {
		must(t, os.WriteFile(filepath.Join(app, "node_modules", "@koromix", "koffi-linux-x64", "linux_x64", "koffi.node"), []byte("\x7fELF broken"), 0o755))
		if ok, out := nodeLoads(t, app, "require('koffi')"); ok {
			t.Fatalf("node loads koffi with its glibc build broken: %s", out)
		}
		code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=koffi")
		if code != 3 {
			t.Errorf("exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native:koffi", preflight.StatusFail, []string{"linux_x64/koffi.node: unreadable", "musl_x64/koffi.node: linked against musl"}, nil)
	})
	t.Run("arm64 image", func(t *testing.T) {
		passesInArm64Image(t, "koffi3-arm64", "koffi", "@koromix/koffi-linux-arm64/linux_arm64/koffi.node (its platform package)")
	})
}

// node-hid 3 (USB HID devices, the Stream Deck's library) loads with
// pkg-prebuilds: prebuilds/<name>-linux-<arch>/node-napi-v<N>.node, -musl
// after the arch on Alpine, where the name is node-hid's own choice, made
// in its JavaScript (HID_hidraw on Linux, HID with libusb). Its prebuilds/
// made the check look for node-gyp-build's linux-x64/: exit 3. Now each
// binding for the platform is checked, and node loads the one it chose.
// (node-hid 3.4 ships no arm64 musl build: an Alpine image on a Raspberry
// Pi must compile it, and the check's fix says so: TestPickPkgPrebuilds.)
func TestCheck_NodeHidPkgPrebuilds(t *testing.T) {
	fx := fixtures(t)
	app := filepath.Join(fx, "nodehid3")
	for _, c := range []struct{ name, node string }{{"node20", "/usr/bin/node"}, {"node18", npmNode(t, 18)}} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.node, "-e", "require('node-hid').devices(); console.log(require('fs').readFileSync('/proc/self/maps', 'utf8'))")
			cmd.Dir = app
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "/prebuilds/HID_hidraw-linux-x64/node-napi-v4.node\n") {
				t.Fatalf("node does not load HID_hidraw-linux-x64: %v\n%s", err, out)
			}
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=node-hid", "LAUNCHER_NODE="+c.node)
			if code != 0 {
				t.Errorf("exit %d while node loads it: %+v", code, r.Checks)
			}
			expectCheck(t, r, "native:node-hid", pass, []string{"prebuilds/HID-linux-x64/node-napi-v4.node (picked by pkg-prebuilds, as prebuilds/HID_hidraw-linux-x64/node-napi-v4.node, which its code may choose instead)"}, nil)
		})
	}
	// An image without libudev: the hidraw binding, node-hid's choice on
	// Linux, needs it.
	t.Run("a library missing", func(t *testing.T) {
		libs := t.TempDir()
		hid := filepath.Join(t.TempDir(), "app")
		if out, err := exec.Command("cp", "-a", app, hid).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, out)
		}
		// The hidraw binding asks for a libudev no system has.
		binding := filepath.Join(hid, "node_modules", "node-hid", "prebuilds", "HID_hidraw-linux-x64", "node-napi-v4.node")
		b, err := os.ReadFile(binding)
		must(t, err)
		must(t, os.WriteFile(binding, bytes.Replace(b, []byte("libudev.so.1\x00"), []byte("libudev.so.9\x00"), 1), 0o755))
		if ok, out := nodeLoads(t, hid, "require('node-hid').devices()"); ok {
			t.Fatalf("node loads node-hid without its libudev: %s", out)
		}
		code, r := runCheck(t, hid, "LAUNCHER_NATIVE_MODULES=node-hid", "LD_LIBRARY_PATH="+libs)
		if code != 3 {
			t.Errorf("exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native:node-hid", preflight.StatusFail, []string{"HID_hidraw-linux-x64/node-napi-v4.node: libudev.so.9", "not found"}, nil)
	})
	t.Run("arm64 image", func(t *testing.T) {
		requireArm64(t)
		root := debianRoot(t, "arm64")
		_, appDir := inRoot(t, root, filepath.Join(fx, "nodehid3-arm64"))
		// Debian's image has neither libudev nor libusb: node fails, and the
		// check names both bindings' missing libraries.
		if _, code := chroot(t, root, nil, "/usr/bin/node", "-e", "require('"+appDir+"/node_modules/node-hid').devices()"); code == 0 {
			t.Fatal("Debian's arm64 node loads node-hid without libudev")
		}
		var code int
		var r preflight.Report
		withoutEmulation(t, func() { code, r, _ = checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES=node-hid") })
		if code != 3 {
			t.Errorf("check --root: exit %d, want 3: %+v", code, r.Checks)
		}
		expectCheck(t, r, "native:node-hid", preflight.StatusFail, []string{"HID-linux-arm64/node-napi-v4.node: libusb-1.0.so.0", "HID_hidraw-linux-arm64/node-napi-v4.node: libudev.so.1"}, nil)
	})
}

// oracledb ships one binary per platform side by side in build/Release,
// each named for its platform (oracledb-26.0.0-linux-x64.node), and its
// own code loads the one for node's. No loader marks them, so the check
// took the first in name order, the darwin-arm64 one: "not a Linux
// binary", exit 3 for an app node runs. Of binaries named for platforms,
// the one named for node's is checked now; in an arm64 image, the arm64
// one.
func TestCheck_BinariesNamedForTheirPlatform(t *testing.T) {
	fx := fixtures(t)
	app := filepath.Join(fx, "oracledb26")
	if ok, out := nodeLoads(t, app, "require('oracledb')"); !ok {
		t.Fatalf("node does not load oracledb: %s", out)
	}
	code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=oracledb")
	if code != 0 {
		t.Errorf("exit %d while node loads it: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:oracledb", pass, []string{"build/Release/oracledb-26.0.0-linux-x64.node (picked by a plain require)"}, nil)
	t.Run("arm64 image", func(t *testing.T) {
		passesInArm64Image(t, "oracledb26", "oracledb", "build/Release/oracledb-26.0.0-linux-arm64.node (picked by a plain require)")
	})
}

// The scan finds native packages that have neither binding.gyp nor
// prebuilds/: zeromq (cmake-ts, a CMakeLists.txt, its builds under build/)
// and oracledb (a binary for each platform in build/Release, which its
// Thick mode loads). Neither was seen unless named. Unnamed, each is
// checked as its loader picks: here the verdict is node's, for both as
// installed and for oracledb without its linux-x64 binary (its Thin mode,
// plain JavaScript, still runs; the scan only warns).
func TestCheck_ScanFindsCMakeAndBuildReleasePackages(t *testing.T) {
	fx := fixtures(t)
	for _, fixture := range []string{"zeromq6", "oracledb26"} {
		app := filepath.Join(fx, fixture)
		module := strings.TrimRight(fixture, "0123456789")
		if ok, out := nodeLoads(t, app, "require('"+module+"')"); !ok {
			t.Fatalf("node does not load %s: %s", module, out)
		}
		_, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=")
		expectCheck(t, r, "native-scan", pass, []string{"1 other native module in node_modules, all would load"}, nil)
	}
	app := newApp(t, ">=18", map[string]string{})
	dir := copyPackage(t, app, "oracledb", filepath.Join(fx, "oracledb26", "node_modules", "oracledb"))
	must(t, os.Remove(filepath.Join(dir, "build", "Release", "oracledb-26.0.0-linux-x64.node")))
	// Thick mode loads the binary, then Oracle's client library, which is
	// not here: DPI-1047 once the binary loaded, NJS-045 when it did not.
	thick := "try { require('oracledb').initOracleClient() } catch (e) { console.log(e.message.slice(0, 8)) }"
	if _, out := nodeLoads(t, filepath.Join(fx, "oracledb26"), thick); !strings.Contains(out, "DPI-1047") {
		t.Fatalf("oracledb's Thick mode as installed: %s", out)
	}
	if _, out := nodeLoads(t, app, thick); !strings.Contains(out, "NJS-045") {
		t.Fatalf("oracledb's Thick mode without its linux-x64 binary: %s", out)
	}
	_, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=")
	expectCheck(t, r, "native-scan", preflight.StatusWarn, []string{"1 of 1 other native module would not load: oracledb (build/Release/oracledb-26.0.0-darwin-arm64.node)"}, nil)
}

// serialport, the package Zigbee2MQTT and its kind import, is plain
// JavaScript; its binary is in its dependency @serialport/bindings-cpp (as
// @duckdb/node-api's is in @duckdb/node-bindings). Named, it only warned
// "has no native binary … drop serialport from LAUNCHER_NATIVE_MODULES",
// and nothing of it was checked. Its native dependency is checked now,
// here and in Debian's arm64 image, and node loads the same binary.
func TestCheck_NativeCodeInADependency(t *testing.T) {
	fx := fixtures(t)
	app := filepath.Join(fx, "serialport12")
	cmd := exec.Command("node", "-e", "require('serialport'); console.log(require('fs').readFileSync('/proc/self/maps', 'utf8'))")
	cmd.Dir = app
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "/@serialport/bindings-cpp/prebuilds/linux-x64/node.napi.glibc.node\n") {
		t.Fatalf("node does not load bindings-cpp's linux-x64 glibc prebuild: %v\n%s", err, out)
	}
	code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=serialport")
	if code != 0 {
		t.Errorf("exit %d: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:serialport", pass, []string{"serialport 12.0.0, through its dependency @serialport/bindings-cpp: ",
		"prebuilds/linux-x64/node.napi.glibc.node (picked by node-gyp-build)"}, nil)
	expectCheck(t, r, "native-scan", pass, []string{"0 other native modules"}, nil)
	t.Run("arm64 image", func(t *testing.T) {
		passesInArm64Image(t, "serialport12-arm64", "serialport", "through its dependency @serialport/bindings-cpp", "prebuilds/linux-arm64/node.napi.armv8.node")
	})
}

// passesInArm64Image puts the app of a fixture into Debian's arm64 image,
// where the image's node must load module, and checks it from outside
// (--root): it must pass, its detail holding says.
func passesInArm64Image(t *testing.T, fixture, module string, says ...string) {
	t.Helper()
	requireArm64(t)
	root := debianRoot(t, "arm64")
	_, appDir := inRoot(t, root, filepath.Join(fixtures(t), fixture))
	out, code := chroot(t, root, nil, "/usr/bin/node", "-e", "require('"+appDir+"/node_modules/"+module+"'); console.log('LOADED')")
	if code != 0 || !strings.Contains(string(out), "LOADED") {
		t.Fatalf("Debian's arm64 node does not load %s: exit %d: %s", module, code, out)
	}
	var r preflight.Report
	withoutEmulation(t, func() { code, r, _ = checkRoot(t, root, appDir, "LAUNCHER_NATIVE_MODULES="+module) })
	if code != 0 {
		t.Errorf("check --root: exit %d: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:"+module, pass, append(says, "arm64"), nil)
}

// pnpm lays each package out in a store folder of its own
// (node_modules/.pnpm/<name>@<version>/node_modules/<name>), its
// dependencies and platform packages in others, linked beside it. Each
// module resolves from its real folder, as node resolves it: the check
// picks the file node maps, and names it by its package.
func TestCheck_PnpmLayout(t *testing.T) {
	app := filepath.Join(fixtures(t), "pnpm-layout")
	cmd := exec.Command("node", "-e", "require('sharp'); require('lmdb'); require('koffi'); console.log(require('fs').readFileSync('/proc/self/maps', 'utf8'))")
	cmd.Dir = app
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node does not load them: %v\n%s", err, out)
	}
	code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=sharp,lmdb,koffi")
	if code != 0 {
		t.Errorf("exit %d while node loads them: %+v", code, r.Checks)
	}
	for module, file := range map[string]string{
		"sharp": "@img/sharp-linux-x64/lib/sharp-linux-x64.node",
		"lmdb":  "@lmdb/lmdb-linux-x64/node.abi115.glibc.node",
		"koffi": "@koromix/koffi-linux-x64/linux_x64/koffi.node",
	} {
		if !strings.Contains(string(out), "/node_modules/"+file+"\n") {
			t.Errorf("node did not map %s", file)
		}
		expectCheck(t, r, "native:"+module, pass, []string{": " + file + " ("}, nil)
	}
	expectCheck(t, r, "native-scan", pass, nil, nil)
}

// Yarn's Plug'n'Play: no node_modules; node resolves every module through
// the .pnp.cjs it preloads (LAUNCHER_NODE_ARGS=-r ./.pnp.cjs, or
// NODE_OPTIONS=--require …/.pnp.cjs, as `yarn node` sets it). The check
// does not follow that resolution, and refused the start: "bcrypt does not
// resolve", exit 3, for an app node runs. While node preloads .pnp.cjs, a
// named module found nowhere else warns that it is not checked, and the app
// starts; without the preload node cannot resolve it either, and the check
// still refuses.
func TestCheck_YarnPlugnPlay(t *testing.T) {
	app := filepath.Join(fixtures(t), "yarn-pnp", "app")
	pnp := filepath.Join(app, ".pnp.cjs")
	if ok, out := nodeLoads(t, app, "require('bcrypt')", "NODE_OPTIONS=--require "+pnp); !ok {
		t.Fatalf("node does not load bcrypt through .pnp.cjs: %s", out)
	}
	if ok, _ := nodeLoads(t, app, "require('bcrypt')"); ok {
		t.Fatal("node loads bcrypt without .pnp.cjs")
	}
	for _, env := range []string{"NODE_OPTIONS=--require " + pnp, "LAUNCHER_NODE_ARGS=-r ./.pnp.cjs"} {
		t.Run(env, func(t *testing.T) {
			code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=bcrypt", env)
			if code != 0 {
				t.Errorf("exit %d while node loads it: %+v", code, r.Checks)
			}
			expectCheck(t, r, "native:bcrypt", preflight.StatusWarn, []string{"Plug'n'Play", ".pnp.cjs", "not checked"}, []string{"nodeLinker: node-modules"})
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NATIVE_MODULES=bcrypt", "LAUNCHER_READY_URL=", env, "TMPDIR=" + t.TempDir()}})
			l.waitFor("APP true")
			l.signal(syscall.SIGTERM)
			if code := l.wait(10 * time.Second); code != 0 {
				t.Errorf("SIGTERM: exit %d", code)
			}
		})
	}
	code, r := runCheck(t, app, "LAUNCHER_NATIVE_MODULES=bcrypt")
	if code != 3 {
		t.Errorf("without .pnp.cjs preloaded: exit %d, want 3: %+v", code, r.Checks)
	}
	expectCheck(t, r, "native:bcrypt", preflight.StatusFail, []string{"does not resolve"}, nil)
}
