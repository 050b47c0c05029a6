package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/nodeopts"
)

// What node's type stripping refuses, and the proof that a file is
// TypeScript, as the scan finds them; each case's refusal measured with
// Node 22.23, 24.22 and 26.12 (TestCheck_TypeScriptAsNodeRunsIt runs the
// apps).
var tsCases = []struct {
	name, text  string
	unsupported int
	what        string
	typed       int
}{
	{name: "erasable", text: "import { db } from \"./db.ts\";\nimport type { User } from \"./types.ts\";\nconst x: number = db;\nexport interface A { b: string }\nexport type B = A | null;\nfunction f(a: string, b?: number): void {}\nconsole.log(x as number);\n", typed: 3},
	{name: "enum", text: "enum Color { Red }\n", unsupported: 1, what: "enum", typed: 1},
	{name: "exported const enum", text: "const a = 1;\nexport const enum E { A }\n", unsupported: 2, what: "enum", typed: 2},
	{name: "declared enum", text: "declare enum E { A }\ndeclare const enum F { B }\n"},
	{name: "enum as a name", text: "const o = { enum: 1 };\no.enum;\nconst s = \"enum E {\";\n// enum X {}\n/* enum Y { */\n"},
	{name: "namespace with code", text: "namespace N {\n  export const a = 1;\n}\n", unsupported: 1, what: "namespace declaration", typed: 1},
	{name: "namespace of types", text: "namespace N {\n  export type A = number;\n  export interface B {}\n}\n", typed: 2},
	{name: "declared namespace", text: "declare namespace N {\n  const a: number;\n}\n", typed: 2},
	{name: "module keyword", text: "module M {\n  export type A = number;\n}\n", unsupported: 1, what: "`module` keyword", typed: 1},
	{name: "declared module", text: "declare module \"x\" {\n  export const a: number;\n}\nmodule.exports = {};\n", typed: 2},
	{name: "parameter property", text: "class A {\n  constructor(\n    private readonly users: Users,\n  ) {}\n}\n", unsupported: 3, what: "parameter property", typed: 3},
	{name: "parameter property after a decorator", text: "class A {\n  constructor(@Inject(X) public x) {}\n}\n", unsupported: 2, what: "decorator", typed: 2},
	{name: "parameters named so", text: "class A {\n  constructor(readonly, x = this.constructor(private)) {}\n}\n"},
	{name: "import equals", text: "import fs = require(\"fs\");\n", unsupported: 1, what: "import equals declaration", typed: 1},
	{name: "export assignment", text: "const a = 1;\nexport = a;\n", unsupported: 2, what: "export assignment", typed: 2},
	{name: "decorator", text: "@Injectable()\nexport class S {}\n", unsupported: 1, what: "decorator", typed: 1},
	{name: "at in strings and comments", text: "const e = \"a@b\";\n/** @param x */\nconst r = /@/;\n"},
	{name: "plain JavaScript", text: "const { a } = require(\"a\");\nconst t = c ? d : e;\nf(g ? h : i);\nswitch (x) { case 1: break; }\nif (type in map) {}\nconst o = { type: 1, interface: 2 };\n"},
	{name: "a parameter's type", text: "const a = 1;\nfunction f(a: string) {}\n", typed: 2},
	{name: "an interface", text: "\ninterface A {\n}\n", typed: 2},
	{name: "unreadable", text: "enum E { A }\nconst s = \"no end\n"},
}

func TestScanTypeScript(t *testing.T) {
	for _, c := range tsCases {
		t.Run(c.name, func(t *testing.T) {
			got := scanTypeScript([]byte(c.text))
			if got.unsupported != c.unsupported || got.unsupportedWhat != c.what || got.typed != c.typed {
				t.Errorf("scan of\n%s= %+v, want unsupported %d %q, typed %d", c.text, got, c.unsupported, c.what, c.typed)
			}
		})
	}
}

// Whatever a TypeScript file holds, the scan ends without a panic, at
// lines the text has, and what node refuses is TypeScript's syntax too.
func FuzzScanTypeScript(f *testing.F) {
	for _, c := range tsCases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines := 1 + strings.Count(text, "\n")
		got := scanTypeScript([]byte(text))
		if got.unsupported < 0 || got.unsupported > lines || got.typed < 0 || got.typed > lines {
			t.Fatalf("scan of %q = %+v, of %d lines", text, got, lines)
		}
		if got.unsupported > 0 && (got.unsupportedWhat == "" || got.typed == 0 || got.typed > got.unsupported) {
			t.Fatalf("scan of %q = %+v: a construct node refuses, not TypeScript before it", text, got)
		}
	})
}

// TypeScript's imports of types only are erased by node, and so not
// followed; `import type from "x"` imports a default named type.
func TestTopLevelImports_TypeScriptTypesErased(t *testing.T) {
	text := "import type { A } from \"./a.ts\";\nimport type {\n  B,\n  C,\n} from \"dev-only\";\nexport type { D } from \"./d.ts\";\nimport type * as E from \"./e.ts\";\nimport type F from \"./f.ts\";\nimport { type G, h } from \"./h.ts\";\nimport type from \"./type.js\";\nimport typeorm from \"typeorm\";\n"
	var got []string
	for _, imp := range topLevelImports([]byte(text), "/app/index.ts").imports {
		got = append(got, imp.pre.Spec+":"+strings.Join(imp.names, ","))
	}
	if want := []string{"./h.ts:h", "./type.js:", "typeorm:"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("imports %q, want %q", got, want)
	}
}

// In TypeScript, a name written only as what an interface or a type alias
// declares is no export: node erases both.
func TestWritten_TypeScriptTypesAreNoExports(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool
	}{
		{"export interface User { id: number }\n", "User", false},
		{"export type User = { id: number };\n", "User", false},
		{"export  interface\tUser {}\n", "User", false},
		{"export interface User {}\nexport const User = 1;\n", "User", true},
		{"export interface User {}\nexport function load(u: User) {}\n", "User", true}, // mentioned: may be exported
		{"export class User {}\n", "User", true},
		{"export const prototype = 1;\nx.type User\n", "User", true},
		{"export const subtype User = 1;\n", "User", true},
	} {
		if got := written(namesView([]byte(c.text)), c.name, true); got != c.want {
			t.Errorf("written(%q, %q) in TypeScript = %v, want %v", c.text, c.name, got, c.want)
		}
	}
}

// nodeStrips is how Node 24 reads each file: whether its type stripping
// refuses it (module.stripTypeScriptTypes, the function node runs on a
// .ts), whether V8 then parses what is left (as an ES module or a
// script), and whether the file as written parses as JavaScript.
const nodeStrips = `
const { stripTypeScriptTypes } = require("node:module"), vm = require("node:vm"), fs = require("node:fs");
const parses = (code) => { try { new vm.SourceTextModule(code); return true; } catch { try { new vm.Script(code); return true; } catch { return false; } } };
const out = {};
for (const f of JSON.parse(fs.readFileSync(process.argv[1], "utf8"))) {
  const src = fs.readFileSync(f, "utf8"), r = { js: parses(src) };
  if (/\.[mc]?ts$/.test(f)) {
    try { r.strip = parses(stripTypeScriptTypes(src, { mode: "strip" })) ? "ok" : "unparsed"; }
    catch (e) { r.strip = e.code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX" ? "unsupported" : "invalid"; }
  }
  out[f] = r;
}
console.log(JSON.stringify(out));
`

// The scan refuses nothing node's type stripping takes, and finds
// TypeScript's syntax in no text V8 parses as JavaScript: over the cases
// above, the TypeScript sources the fixtures' packages ship (zod's,
// mongodb's, bson's, pg-protocol's, …), and the JavaScript of their 600
// packages, each asked of the fixtures' Node 24. What it misses is a miss
// of the check, not a refusal: counted.
func TestScanTypeScript_AsNodeStripsIt(t *testing.T) {
	var cases []string
	for _, c := range tsCases {
		cases = append(cases, c.text)
	}
	var verdicts map[string]struct {
		JS    bool   `json:"js"`
		Strip string `json:"strip"`
	}
	files, _ := askNode24(t, nodeStrips, ".ts", cases, []string{"exports", "commonjs", "resolvers", "tsx", "big"}, func(path string, size int64) bool {
		return isScript(path) && !strings.Contains(filepath.Base(path), ".d.") && size < 1<<20
	}, &verdicts)
	var typeScript, refused, found, javaScript int
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, v := scanTypeScript(text), verdicts[f]
		if v.JS {
			javaScript++
			if got.typed > 0 {
				t.Errorf("%s: the scan finds TypeScript's syntax on line %d; V8 parses the file as JavaScript", f, got.typed)
			}
		}
		if !isTypeScript(f) || v.Strip == "invalid" {
			continue
		}
		typeScript++
		switch {
		case got.unsupported > 0 && got.unsupportedWhat == "decorator" && v.Strip == "ok":
			t.Errorf("%s: the scan finds a decorator on line %d; node strips the file and V8 parses it", f, got.unsupported)
		case got.unsupported > 0 && got.unsupportedWhat != "decorator" && v.Strip != "unsupported":
			t.Errorf("%s: the scan finds a TypeScript %s on line %d; node strips the file (%s)", f, got.unsupportedWhat, got.unsupported, v.Strip)
		}
		if v.Strip != "ok" {
			refused++
			if got.unsupported > 0 {
				found++
			} else {
				t.Logf("%s: node refuses it (%s), the scan finds nothing", f, v.Strip)
			}
		}
	}
	if found < 5 {
		t.Errorf("the scan found %d of the %d TypeScript files node refuses", found, refused)
	}
	t.Logf("%d TypeScript files: node refuses %d, the scan finds %d, and no other; %d files V8 parses as JavaScript, none taken for TypeScript", typeScript, refused, found, javaScript)
}

// The TypeScript file an import that does not resolve means, from a
// TypeScript file: the specifier with its extension replaced or added.
func TestTypeScriptSource(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"db.ts", "lib.mts", "x.config.ts"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Preflight{fsys: noting()}
	for spec, want := range map[string]string{"./db.js": "./db.ts", "./db": "./db.ts", "./lib.mjs": "./lib.mts", "./lib": "./lib.mts",
		"./x.config": "./x.config.ts", "./db.cjs": "", "./gone.js": "", "pkg": ""} {
		if got := p.typeScriptSource(dir, nodeopts.Preload{Option: "--import", Spec: spec}); got != want {
			t.Errorf("typeScriptSource(%q) = %q, want %q", spec, got, want)
		}
	}
}
