package preflight

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// The names node's lexer finds (cjs-module-lexer's own examples, and what
// tsc, Babel and esbuild emit) are all found; what it does not find may
// be found too (the scan is a superset), but not what the module never
// names.
func TestScanCommonJS(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // at least these
		not        []string // none of these
		reexports  []string
	}{
		{name: "members", text: "module.exports.a = 'a';\n(function () {\n  exports.b = 'b';\n})();\nexports['c'] = 1;\nexports /* x */ . d = 2;\n",
			want: []string{"a", "b", "c", "d"}},
		{name: "defineProperty", text: "Object.defineProperty(exports, 'a', {\n  enumerable: true,\n  get: function () {\n    return q.p;\n  }\n});\nObject.defineProperty(module.exports, \"__esModule\", { value: true });\n",
			want: []string{"a", "__esModule"}},
		{name: "literal", text: "module.exports = {\n  a, // one\n  'b': b,\n  c: c,\n  ...d,\n  e: require('c'),\n  f\n};\n",
			want: []string{"a", "b", "c", "e"}, not: []string{"f"}},
		{name: "literal spreads", text: "module.exports = {\n  ...require('./a'),\n  ...require(\"b\"),\n};\n", reexports: []string{"./a", "b"}},
		{name: "reexport", text: "if (maybe) module.exports = require('./dep1.js');\n", reexports: []string{"./dep1.js"}},
		{name: "tsc", text: "\"use strict\";\nexports.b = exports.a = void 0;\n__exportStar(require(\"./x\"), exports);\ntslib_1.__exportStar(require(\"./y\"), exports);\n__export(require(\"z\"));\n",
			want: []string{"a", "b"}, reexports: []string{"./x", "./y", "z"}},
		{name: "Babel", text: "var _external = _interopRequireWildcard(require(\"external\"));\nvar _other = require('./other');\nconst fs = require('fs');\nObject.keys(_external).forEach(function (key) {\n  exports[key] = _external[key];\n});\nfoo(require('./not'));\n",
			reexports: []string{"external", "./other", "fs"}},
		{name: "Babel's pure annotations", text: "var _a = /*#__PURE__*/_interopRequireWildcard(require(\"./a\"));\nObject.keys(_a).forEach(function (key) {\n  exports[key] = _a[key];\n});\n", reexports: []string{"./a"}},
		{name: "tsc's __export alone", text: "__export(require(\"./b\"));\n", reexports: []string{"./b"}},
		{name: "Babel's requires without Object.keys", text: "var _a = require('./a');\nexports.x = _a;\n", want: []string{"x"}},
		{name: "esbuild", text: "var src_exports = {};\n__export(src_exports, { a: () => a });\nmodule.exports = __toCommonJS(src_exports);\n0 && (module.exports = {\n  a,\n  b\n});\n",
			want: []string{"a", "b"}},
		{name: "unicode", text: "exports.café = 1;\nexports.ünï = 2;\n", want: []string{"café", "ünï"}},
		{name: "escapes", text: "exports['\\u0061'] = 1;\n", not: []string{"\\u0061", "a"}},
		{name: "not exports", text: "module.exports = new PG(Client);\nfreeModule.exports = _;\nif (exports === undefined) {}\n", not: []string{"Client", "_", "PG"}},
		{name: "unterminated", text: "module.exports = { a, /* b", want: []string{"a"}},
		{name: "nothing", text: "console.log('hi');\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := scanCommonJS([]byte(c.text))
			for _, n := range c.want {
				if !got.names[n] {
					t.Errorf("%q not found in %v", n, slices.Sorted(maps.Keys(got.names)))
				}
			}
			for _, n := range c.not {
				if got.names[n] {
					t.Errorf("%q found in %v", n, slices.Sorted(maps.Keys(got.names)))
				}
			}
			if !slices.Equal(got.reexports, c.reexports) {
				t.Errorf("re-exports %q, want %q", got.reexports, c.reexports)
			}
		})
	}
	if got := scanCommonJS([]byte("module.exports = require('./\\x61');\n")); !got.open {
		t.Errorf("a re-export with an escape is not open: %+v", got)
	}
}

// A script that may hold an import or export statement, indented or not,
// is not read as CommonJS; import(), import.meta and words that begin with
// import or export do not make one.
func TestMayBeESM(t *testing.T) {
	for text, want := range map[string]bool{
		"import x from 'x';\n":                 true,
		"  export const a = 1;\n":              true,
		"const a = 1;\nexport { a };\n":        true,
		"import 'side-effect';\n":              true,
		"\texport * from './x.js';\n":          true,
		"exports.a = 1;\nmodule.exports = {};": false,
		"import('x').then(() => {});\n":        false,
		"const u = import.meta.url;\n":         false,
		"const imports = 1;\n":                 false,
		"// the export of x\n":                 false,
		"foo(); import x from 'x';\n":          false,
	} {
		if got := mayBeESM([]byte(text)); got != want {
			t.Errorf("mayBeESM(%q) = %v, want %v", text, got, want)
		}
	}
}

// An import's names in braces are what the module must export: `a` of `a
// as b`, quoted names unquoted; default and types left out.
func TestImportedNames(t *testing.T) {
	for text, want := range map[string][]string{
		"import { a, b as c } from 'x';\n":                       {"a", "b"},
		"import d, { e } from 'x';\n":                            {"e"},
		"export { f, g as h } from 'x';\n":                       {"f", "g"},
		"import {\n  i, // the first\n  j as k,\n} from 'x';\n":  {"i", "j"},
		"import { default as l, 'm-n' as o, type P } from 'x';":  {"m-n"},
		"import * as ns from 'x';\n":                             nil,
		"import q from 'x';\n":                                   nil,
		"import type {\n  R,\n} from 'x';\nimport s from 'y';\n": nil,
		"export {\n  t,\n};\nimport u from 'x';\n":               nil,
	} {
		var got []string
		for _, imp := range topLevelImports([]byte(text), "s.js").imports {
			got = append(got, imp.names...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: names %q, want %q", text, got, want)
		}
	}
}

// A name is written in an ES module as a word of its own, escaped or not;
// not as part of a longer one.
func TestWritten(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool
	}{
		{"export const helper = 1;\n", "helper", true},
		{"export { a as helper };\n", "helper", true},
		{"export const helpers = 1, _helper = 2, helper$ = 3;\n", "helper", false},
		{"export const \\u0068elper = 1;\n", "helper", true},
		{"export const \\u{68}elper = 1;\n", "helper", true},
		{"export { a as \"a-b\" };\n", "a-b", true},
		{"export {};\n", "User", false},
		{"export const éUser = 1;\n", "User", true}, // beyond ASCII beside it: may be a boundary
		{"\\u", "x", false},
		{"\\u{}x \\u12", "x", true},
	} {
		if got := written(namesView([]byte(c.text)), c.name, false); got != c.want {
			t.Errorf("written(%q, %q) = %v, want %v", c.text, c.name, got, c.want)
		}
	}
	if got := starExports([]byte("export * from \"./a.js\";\nexport * as ns from './b.js';\nexport*from'c'\nexport { x } from 'd';\n")); !slices.Equal(got, []string{"./a.js", "c"}) {
		t.Errorf("starExports = %q", got)
	}
}

// Comment lines and JSDoc blocks are blanked, and nothing else: not a
// block whose lines do not all start with * (it may be a template
// literal's text, with code after it), nor code after a comment's end.
func TestUncommented(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool // written once comments are blanked
	}{
		{"// the User\nexport const getUser = 1;\n", "User", false},
		{"/**\n * Returns the User.\n */\nexport function getUser() {}\n", "User", false},
		{"/* the User */ export const User = 1;\n", "User", true},
		{"/**\n * x\n */ export const User = 1;\n", "User", true},
		{"const t = `\n/* not a comment\n`;\nexport const User = 1;\n// */\n", "User", true},
		{"const t = `\n// not a comment either`; export const User = 1;\n", "User", true},
		{"const s = 'a\\\n// continued'; export const User = 1;\n", "User", true},
		{"const t = `\n/*\n * x ` + 1; export const User = 1; /*\n */\n", "User", true},
		{"const u = 'http://x'; export const User = 1;\n", "User", true},
	} {
		if got := written(namesView([]byte(c.text)), c.name, false); got != c.want {
			t.Errorf("%q: %q written: %v, want %v", c.text, c.name, got, c.want)
		}
	}
}

// The scan never panics or runs away on any text, finds no empty name,
// and only grows as text is added: a name it found stays found, and one
// assigned after it is found.
func FuzzScanCommonJS(f *testing.F) {
	f.Add([]byte("exports.a = 1;\nmodule.exports = { b, 'c': d, ...require('./e') };\n"))
	f.Add([]byte("Object.defineProperty(exports, \"f\", { enumerable: true, get: function () { return g.h; } });\n__exportStar(require(\"./i\"), exports);\n"))
	f.Add([]byte("var _j = require('j');\nObject.keys(_j).forEach(function (k) {});\nexports = /* x"))
	f.Fuzz(func(t *testing.T, text []byte) {
		got := scanCommonJS(text)
		for n := range got.names {
			if n == "" || strings.ContainsRune(n, '\\') {
				t.Fatalf("name %q", n)
			}
		}
		more := scanCommonJS(append(bytes.Clone(text), "\nexports.fuzzed = 1;\n"...))
		if !more.names["fuzzed"] {
			t.Fatalf("exports.fuzzed not found after %q", text)
		}
		for n := range got.names {
			if !more.names[n] {
				t.Fatalf("%q found in %q, not once more was added", n, text)
			}
		}
		_ = mayBeESM(text)
		if !written(namesView(append(bytes.Clone(text), "\n*/\nexport const fuzzed = 1;\n"...)), "fuzzed", false) {
			t.Fatalf("export const fuzzed not written after %q", text)
		}
		_ = starExports(text)
	})
}

// BenchmarkScanCommonJS times the scan of real CommonJS modules: lodash's
// one file of 540 KB, express's and pg's entries, and the look for an
// import or export statement that comes first under no "type". Figures:
// docs/BENCHMARKS.md.
func BenchmarkScanCommonJS(b *testing.B) {
	for _, f := range []string{"lodash/lodash.js", "express/lib/express.js", "pg/lib/index.js"} {
		text, err := os.ReadFile(fixtures("commonjs", "node_modules", f))
		if err != nil {
			b.Skipf("%v: run make fixtures", err)
		}
		b.Run(f, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				scanCommonJS(text)
				mayBeESM(text)
			}
		})
	}
}
