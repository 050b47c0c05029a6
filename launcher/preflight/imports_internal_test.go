package preflight

import (
	"bytes"
	"strings"
	"testing"
)

// The statements that load a module at a script's top level, as compilers
// emit them and formatted code holds them; and the lines that only look
// like one.
func TestTopLevelImports(t *testing.T) {
	cases := []struct {
		line string
		spec string // "" when the line loads nothing at the top level
		esm  bool
	}{
		{`const fs = require("fs");`, "fs", false},
		{`const node_fs_1 = __importDefault(require("node:fs"));`, "node:fs", false},
		{`var _express = _interopRequireDefault(require('express'));`, "express", false},
		{`var import_x = __toESM(require("x"), 1);`, "x", false},
		{`const { a, b } = require("./lib");`, "./lib", false},
		{`const x = require("x").default;`, "x", false},
		{`require("./side-effect");`, "./side-effect", false},
		{`__exportStar(require("./routes"), exports);`, "./routes", false},
		{`module.exports = require("./impl");`, "./impl", false},
		{`} = require("@scope/pkg/sub");`, "@scope/pkg/sub", false},
		{`const x = require("x"); // why`, "x", false},
		{`  const x = require("x");`, "", false},
		{`if (a) require("x");`, "", false},
		{`const x = cond ? require("a") : require("b");`, "", false},
		{`const x = require(name);`, "", false},
		{`import fs from "node:fs";`, "node:fs", true},
		{`import { a, b } from './a.js';`, "./a.js", true},
		{`import * as ns from "ns";`, "ns", true},
		{`import "./polyfill.js";`, "./polyfill.js", true},
		{`import data from "./data.json" with { type: "json" };`, "./data.json", true},
		{`import data from "./data.json" assert { type: "json" };`, "./data.json", true},
		{`} from "pkg";`, "pkg", true},
		{`export * from "./all.js";`, "./all.js", true},
		{`export { a as b } from "./a.js";`, "./a.js", true},
		{`const m = await import("./m.js");`, "", false},
		{`export const x = 1;`, "", false},
	}
	for _, c := range cases {
		got := topLevelImports([]byte(c.line+"\n"), "s.js").imports
		switch {
		case c.spec == "" && len(got) > 0:
			t.Errorf("%s: loads %q", c.line, got[0].pre.Spec)
		case c.spec != "" && len(got) != 1:
			t.Errorf("%s: loads %d modules, want %q", c.line, len(got), c.spec)
		case c.spec != "" && (got[0].pre.Spec != c.spec || got[0].pre.ESM() != c.esm || got[0].line != 1):
			t.Errorf("%s: %+v, want %q (ESM %v) on line 1", c.line, got[0], c.spec, c.esm)
		}
	}

	// Lines in a block comment or a template literal over several lines.
	text := "/*\nconst a = require(\"a\");\n*/\nconst doc = `\nrequire(\"b\");\n`;\nconst c = require(\"c\");\n/* one line */\nconst d = require(\"d\");\n"
	var specs []string
	for _, imp := range topLevelImports([]byte(text), "s.js").imports {
		specs = append(specs, imp.pre.Spec)
	}
	if strings.Join(specs, " ") != "c d" {
		t.Errorf("loads %v, want [c d]", specs)
	}
}

// The first statement of each module system's own syntax: what node
// refuses in a script it reads with the other.
func TestTopLevelSyntax(t *testing.T) {
	cases := []struct {
		text     string
		esm, cjs string // the word found, "" when none
	}{
		{"import fs from \"fs\";\n", "import", ""},
		{"import {\n  a\n} from \"a\";\n", "import", ""},
		{"import \"./polyfill.js\";\n", "import", ""},
		{"export const x = 1;\n", "export", ""},
		{"export default function () {}\n", "export", ""},
		{"export { a };\n", "export", ""},
		{"const m = await import(\"./m.js\");\nconsole.log(import.meta.url);\n", "", ""},
		{"importantThing();\nexports.x = 1;\n", "", "exports"},
		{"\"use strict\";\nObject.defineProperty(exports, \"__esModule\", { value: true });\n", "", "exports"},
		{"module.exports = { a: 1 };\n", "", "module"},
		{"const fs = require(\"fs\");\n", "", "require"},
		// An ES module that makes its own require.
		{"import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\nconst fs = require(\"fs\");\n", "import", ""},
		{"  exports.x = 1;\n", "", ""},
	}
	for _, c := range cases {
		got := topLevelImports([]byte(c.text), "s.js")
		if got.esmWord != c.esm || got.cjsWord != c.cjs {
			t.Errorf("%q: ES module %q, CommonJS %q; want %q, %q", c.text, got.esmWord, got.cjsWord, c.esm, c.cjs)
		}
	}
}

// Whatever a script holds, its imports are read without a panic, each with
// a specifier and on a line the script has.
func FuzzTopLevelImports(f *testing.F) {
	f.Add([]byte("const a = require(\"a\");\nimport b from './b.js';\n"))
	f.Add([]byte("/*\n`\nrequire(\"x\");\n*/\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		lines := bytes.Count(text, []byte("\n")) + 1
		found := topLevelImports(text, "s.js")
		for _, imp := range found.imports {
			if imp.pre.Spec == "" || imp.line < 1 || imp.line > lines {
				t.Fatalf("%+v in a script of %d lines", imp, lines)
			}
		}
		if found.esmLine > lines || found.cjsLine > lines || (found.esmLine > 0) != (found.esmWord != "") || (found.cjsLine > 0) != (found.cjsWord != "") {
			t.Fatalf("%+v in a script of %d lines", found, lines)
		}
	})
}

// __dirname and __filename as a statement at the top level reads them:
// what an ES module does not have.
func TestModuleGlobal(t *testing.T) {
	for _, c := range []struct {
		line, want string
	}{
		{"const root = path.join(__dirname, \"..\");", "__dirname"},
		{"console.log(__filename);", "__filename"},
		{"app.use(express.static(path.join(__dirname, \"public\")));", "__dirname"},
		{"if (!importLocal(__filename)) {", "__filename"},
		{"export const root = () => __dirname;", ""},
		{"export function root() { return __dirname; }", ""},
		{"export default { dir() { return __dirname; } };", ""},
		{"const d = typeof __dirname === \"undefined\" ? \".\" : __dirname;", ""},
		{"console.log(\"__dirname\", '__filename', `__dirname`);", ""},
		{"console.log(globalThis.__dirname);", ""},
		{"const re = /__dirname/;", ""},
		{"const x = 1; // __dirname", ""},
		{"__dirname: for (;;) break __dirname;", ""},
		{"class A { static d = __dirname; }", ""},
		{"}, __dirname);", ""},
		{"`,`  const p = path.resolve(__dirname);", ""},
		{"const my__dirname = 1, __dirnames = 2;", ""},
		{"if (require.main === module) {", "require"},
		{"const p = require.resolve(\"x\");", "require"},
		{"export default module;", "module"},
		{"import { createRequire } from \"node:module\";", ""},
		{"const modules = [], required = 1, x = my.module, y = obj.require;", ""},
		{"if (typeof require !== \"undefined\") {", ""},
		{"import fs = require(\"fs\");", ""},
	} {
		if got := moduleGlobal([]byte(c.line)); got != c.want {
			t.Errorf("moduleGlobal(%q) = %q, want %q", c.line, got, c.want)
		}
	}
	for _, c := range []struct {
		text, word string
		want       bool
	}{
		{"const __dirname = path.dirname(fileURLToPath(import.meta.url));\n", "__dirname", true},
		{"import { fileURLToPath } from \"node:url\";\nimport {\n  root,\n  __dirname,\n} from \"./paths.js\";\n", "__dirname", true},
		{"import { dirname as __dirname } from \"./paths.js\";\n", "__dirname", true},
		{"globalThis.__dirname = import.meta.dirname;\n", "__dirname", true},
		{"const root = path.join(__dirname, \"..\");\n", "__dirname", false},
		{"const { a } = x;\nconst b = __dirname;\n", "__dirname", false},
		{"import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\n", "require", true},
		{"import module from \"node:module\";\n", "module", true},
		{"if (require.main === module) {}\n", "require", false},
	} {
		if got := declaresGlobal([]byte(c.text), c.word); got != c.want {
			t.Errorf("declaresGlobal(%q, %q) = %v, want %v", c.text, c.word, got, c.want)
		}
	}
}
