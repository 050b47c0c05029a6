package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/preflight"
)

// nodeBuiltins is what collect.cjs (testdata/builtins) prints of a node:
// its version, and each module it loads, with its ES module names.
type nodeBuiltins struct {
	Version string
	Modules map[string]struct {
		Bare, Prefixed bool
		Names          []string
	}
}

// The table of node's modules answers as each real node does: every node
// the tests run, amd64 from npm (Node 18, 20, 22.11, 22, 24, 26), and
// Debian 12's own Node 18 for amd64 and for arm64 (under emulation), a
// distribution's build as Alpine's is (node's libraries shared, the
// system's OpenSSL and ICU). Each module the table knows is tried in each
// node, with the node: scheme and without, and each name it knows of the
// module is looked for in the module's namespace.
func TestBuiltins_TheTableAnswersAsEachNode(t *testing.T) {
	collect, err := filepath.Abs(filepath.Join("..", "..", "testdata", "builtins", "collect.cjs"))
	must(t, err)
	ids := builtins.IDs()
	if len(ids) < 60 || !slices.Contains(ids, "sqlite") || !slices.Contains(ids, "fs/promises") {
		t.Fatalf("the table lists %d modules: %v", len(ids), ids)
	}
	empty := t.TempDir() // no node_modules: only node can answer
	run := func(node string) []byte {
		cmd := exec.Command(node, append([]string{collect}, ids...)...)
		cmd.Dir = empty
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v", node, collect, err)
		}
		return out
	}
	answers := map[string][]byte{}
	for _, node := range []string{"node", npmNode(t, 18), npmNode(t, "22.11.0"), npmNode(t, 22), npmNode(t, 24), npmNode(t, 26)} {
		answers[node] = run(node)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		root := filepath.Join(fixtures(t), "debian-"+arch)
		if _, err := os.Stat(filepath.Join(root, ".done")); err != nil {
			t.Fatalf("no Debian root for %s in the fixtures: run make fixtures", arch)
		}
		must(t, os.MkdirAll(filepath.Join(root, "tmp", "builtins"), 0o755))
		script, err := os.ReadFile(collect)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(root, "tmp", "builtins", "collect.cjs"), script, 0o644))
		// From /, where no node_modules is either.
		out, code := chroot(t, root, nil, append([]string{"/usr/bin/node", "/tmp/builtins/collect.cjs"}, ids...)...)
		if code != 0 {
			t.Fatalf("Debian's node for %s: exit %d: %s", arch, code, out)
		}
		answers["Debian's node for "+arch] = out
	}
	judged := 0
	for node, out := range answers {
		var got nodeBuiltins
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v: %.200s", node, err, out)
		}
		release, ok := builtins.At(got.Version)
		if !ok {
			t.Fatalf("%s: the table cannot answer for node %s", node, got.Version)
		}
		if release.Recorded() {
			judged++
		} else {
			// A node newer than the table (make fixtures fetches each
			// major's latest; testdata/builtins/build.sh brings it in):
			// the table may not know, but what it says must hold.
			t.Logf("%s: node %s is past the table: only its definite answers are judged", node, got.Version)
		}
		say := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s (%s): "+format, append([]any{node, got.Version}, args...)...)
		}
		// agrees reports whether the table's answer is node's, or Unknown
		// where the table does not record the release.
		agrees := func(a builtins.Answer, has bool) bool {
			return a == builtins.Yes && has || a == builtins.No && !has || a == builtins.Unknown && !release.Recorded()
		}
		for _, id := range ids {
			m, ok := builtins.Of("node:" + id)
			if !ok {
				say("%s is listed but not found", id)
				continue
			}
			has, loads := got.Modules[id]
			if a := m.Loads(release, "node:"+id); !agrees(a, loads && has.Prefixed) {
				say("node:%s loads: %v; the table: %v", id, loads && has.Prefixed, a)
			}
			if a := m.Loads(release, id); !agrees(a, loads && has.Bare) {
				say("%s loads: %v; the table: %v", id, loads && has.Bare, a)
			}
			if !loads || id == "process" || id == "constants" {
				continue
			}
			for _, name := range m.Names() {
				if a := m.Exports(release, name); !agrees(a, slices.Contains(has.Names, name)) {
					say("node:%s exports %s: %v; the table: %v", id, name, slices.Contains(has.Names, name), a)
				}
			}
			for _, name := range has.Names {
				if !slices.Contains(m.Names(), name) && release.Recorded() {
					say("node:%s exports %s, which the table does not know", id, name)
				}
			}
		}
		for id := range got.Modules {
			if !slices.Contains(ids, id) && release.Recorded() {
				say("%s is node's, which the table does not know", id)
			}
		}
	}
	if judged == 0 {
		t.Fatal("no node the tests run is in the table")
	}
}

// What the table says between, before and after the releases it records.
func TestBuiltins_At(t *testing.T) {
	util, ok := builtins.Of("node:util")
	if !ok {
		t.Fatal("node:util is not in the table")
	}
	sqlite, _ := builtins.Of("node:sqlite")
	for _, c := range []struct {
		version string
		known   bool
		styled  builtins.Answer // node:util's styleText
		sqlite  builtins.Answer // node:sqlite
	}{
		{"v18.20.4", true, builtins.No, builtins.No},
		{"20.11.1", true, builtins.No, builtins.No},
		{"v20.12.0", true, builtins.Yes, builtins.No},
		{"22.5.0", true, builtins.Yes, builtins.No}, // behind --experimental-sqlite
		{"22.13.0", true, builtins.Yes, builtins.Yes},
		{"24.0.0", true, builtins.Yes, builtins.Yes},
		// After the table's last 20, and after its last major: what
		// node may have added or taken out since is not known.
		{"20.99.0", true, builtins.Unknown, builtins.Unknown},
		{"v99.0.0", true, builtins.Unknown, builtins.Unknown},
		{"16.20.2", false, 0, 0},
		{"18.0.0-pre", false, 0, 0},
		{"20", false, 0, 0},
		{"", false, 0, 0},
	} {
		release, ok := builtins.At(c.version)
		if ok != c.known {
			t.Errorf("At(%q): %v, want %v", c.version, ok, c.known)
			continue
		}
		if !ok {
			continue
		}
		if a := util.Exports(release, "styleText"); a != c.styled {
			t.Errorf("%s: node:util exports styleText: %v, want %v", c.version, a, c.styled)
		}
		if a := sqlite.Loads(release, "node:sqlite"); a != c.sqlite {
			t.Errorf("%s: node:sqlite loads: %v, want %v", c.version, a, c.sqlite)
		}
		if a := sqlite.Loads(release, "sqlite"); a == builtins.Yes || a == builtins.Unknown && release.Recorded() {
			t.Errorf("%s: sqlite without its scheme loads: %v", c.version, a)
		}
	}
	// What node took out before the newest release of a major the table
	// records stays out in the releases after it.
	for _, c := range []struct{ version, spec, name string }{
		{"24.99.0", "util", "isString"}, // taken out in 23
		{"v99.0.0", "node:util", "isString"},
		{"27.0.0", "_stream_readable", ""}, // taken out in 26
	} {
		release, _ := builtins.At(c.version)
		m, _ := builtins.Of(c.spec)
		a := m.Loads(release, c.spec)
		if c.name != "" {
			a = m.Exports(release, c.name)
		}
		if a != builtins.No {
			t.Errorf("%s: %s %s: %v, want No", c.version, c.spec, c.name, a)
		}
	}
	if got := util.Releases("node:util", "styleText"); !strings.HasPrefix(got, "20.12.0 and later 20.x, ") {
		t.Errorf("styleText's releases: %q", got)
	}
	if got := util.Releases("util", "isString"); !strings.HasPrefix(got, "18.0.0 to 22.x") {
		t.Errorf("isString's releases: %q", got)
	}
	if got := sqlite.Releases("node:sqlite", ""); got != "22.13.0 and later 22.x, 23.4.0 and later" {
		t.Errorf("node:sqlite's releases: %q", got)
	}
	for _, spec := range []string{"punycode/", "fs/nope", "node:", "", "sqlite", "lodash", " fs"} {
		if m, ok := builtins.Of(spec); ok {
			t.Errorf("Of(%q): %s, a module of node's", spec, m.ID)
		}
	}
}

// nodeSaying is a copy of the real node at path whose version strings say
// version instead of its own, of the same length: how a node newer than
// the launcher's table of node's modules looks to the launcher (the
// image's Alpine node gets patch releases the table has not seen), with
// node's own code inside.
func nodeSaying(t *testing.T, node, version string) string {
	t.Helper()
	own, err := exec.Command(node, "-p", "process.versions.node").Output()
	must(t, err)
	from := strings.TrimSpace(string(own))
	if len(version) != len(from) {
		t.Fatalf("node %s can be made to say a version of %d characters, not %q", from, len(from), version)
	}
	b, err := os.ReadFile(node)
	must(t, err)
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("%s does not hold its version %s", node, from)
	}
	path := filepath.Join(t.TempDir(), "node")
	must(t, os.WriteFile(path, bytes.ReplaceAll(b, []byte(from), []byte(version)), 0o755))
	if says, err := exec.Command(path, "--version").Output(); err != nil || strings.TrimSpace(string(says)) != "v"+version {
		t.Fatalf("%s --version: %q, %v; want v%s", path, says, err, version)
	}
	return path
}

// A node newer than the table: the image's Node 24 made to say 24.99.9
// (a patch release of its line the table has not seen) and 27.x (a major
// after the table's last). What node took out before them (util.isString
// in 23, util.getCallSite in 24.10) is refused, as node refuses it; what
// the table cannot know passes, and the report says how far node's own
// modules were checked. Under the real 24, whose release the table
// records, it says nothing of the kind.
func TestCheck_BuiltinsOfANodeNewerThanTheTable(t *testing.T) {
	real := npmNode(t, 24)
	own, err := exec.Command(real, "-p", "process.versions.node").Output()
	must(t, err)
	version := strings.TrimSpace(string(own))
	if release, _ := builtins.At(version); !release.Recorded() {
		t.Skipf("node %s is past the table itself (testdata/builtins/build.sh brings it in)", version)
	}
	_, last := builtins.Reach()
	patch := "24.99." + strings.Repeat("9", len(version)-len("24.99."))
	major := "27" + version[2:]
	app := func(t *testing.T, index string) string {
		app := filepath.Join(t.TempDir(), "app")
		must(t, os.MkdirAll(filepath.Join(app, "dist"), 0o755))
		must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"backend","type":"module"}`), 0o644))
		must(t, os.WriteFile(filepath.Join(app, "dist", "index.js"), []byte(index), 0o644))
		return app
	}
	cases := []struct {
		name, index string
		args        string
		hint        string // the fix of a refusal
	}{
		{name: "taken out in 23", index: "import { isString } from \"util\";\nconsole.log('MAIN', typeof isString);\n", hint: "isString from \"util\" (18.0.0 to 22.x)"},
		{name: "taken out in 24.10", index: "import { getCallSite } from \"node:util\";\nconsole.log('MAIN', typeof getCallSite);\n", hint: "getCallSite from \"node:util\" (22.9.0"},
		{name: "added before", index: "import { styleText } from \"node:util\";\nimport { DatabaseSync } from \"node:sqlite\";\nconsole.log('MAIN', typeof styleText, typeof DatabaseSync);\n"},
		{name: "under a flag", index: "import { SourceTextModule } from \"node:vm\";\nconsole.log('MAIN', typeof SourceTextModule);\n", args: "--experimental-vm-modules"},
	}
	for _, node := range []struct{ path, version, said string }{
		{real, "v" + version, ""},
		{nodeSaying(t, real, patch), "v" + patch, "node's own modules checked only for what node took out before v" + patch + ": the launcher knows those of node's releases up to " + version},
		{nodeSaying(t, real, major), "v" + major, "node's own modules checked only for what node took out before v" + major + ": the launcher knows those of node's releases up to " + last},
	} {
		t.Run(node.version, func(t *testing.T) {
			for _, c := range cases {
				app := app(t, c.index)
				env := []string{"LAUNCHER_NODE=" + node.path, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_ENTRY=dist/index.js", "LAUNCHER_NODE_ARGS=" + c.args}
				runs, out := nodeRunsApp(node.path, app, env, strings.Fields(c.args), "dist/index.js")
				code, r := runCheck(t, app, env...)
				if passes := code == 0; passes != runs {
					t.Errorf("%s: node runs the app: %v; the check: exit %d: %+v\nnode said: %s", c.name, runs, code, r.Failed(), firstLines(out, 6))
					continue
				}
				switch {
				case c.hint != "":
					expectCheck(t, r, "imports", preflight.StatusFail, []string{"does not provide an export named"}, []string{c.hint})
				case c.args != "":
					expectCheck(t, r, "imports", pass, []string{"node's own modules not checked: " + c.args + " adds to them"}, nil)
				case node.said != "":
					expectCheck(t, r, "imports", pass, []string{node.said}, nil)
				default:
					for _, check := range r.Checks {
						if check.Name == "imports" && strings.Contains(check.Detail, "node's own modules") {
							t.Errorf("%s: node %s is in the table, yet: %s", c.name, node.version, check.Detail)
						}
					}
				}
			}
		})
	}
}
