package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/builtins"
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
