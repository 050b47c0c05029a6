package main

import (
	"cmp"
	"os/exec"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
)

// TypeScript run by node itself (`node src/index.ts`), beside the check,
// under every node the fixtures hold: 18.20, 20.20 and 22.11 run none;
// 22.23, 24.22 and 26 strip types and compile nothing. The check refuses
// exactly what node fails on, with the fix for the cause.
func TestCheck_TypeScriptAsNodeRunsIt(t *testing.T) {
	esm := func(files ...string) map[string]string {
		out := map[string]string{"package.json": `{"name":"backend","type":"module","dependencies":{"present":"1.0.0"},"devDependencies":{"pruned":"1.0.0"}}`,
			"node_modules/present/package.json": `{"name":"present","version":"1.0.0","main":"index.js"}`,
			"node_modules/present/index.js":     "exports.name = 'present';\n"}
		for i := 0; i+1 < len(files); i += 2 {
			out[files[i]] = files[i+1]
		}
		return out
	}
	cjs := func(files ...string) map[string]string {
		out := esm(files...)
		out["package.json"] = `{"name":"backend","type":"commonjs"}`
		return out
	}
	typeless := func(files ...string) map[string]string {
		out := esm(files...)
		out["package.json"] = `{"name":"backend"}`
		return out
	}
	const unrun = "runs no TypeScript"
	nest := "import { present } from \"./present.ts\";\n\nclass Users {\n  find(): string[] { return []; }\n}\n\nexport class UsersService {\n  constructor(\n    private readonly users: Users,\n  ) {}\n}\n\nconsole.log(\"MAIN\", present, UsersService);\n"
	cases := []struct {
		name     string
		files    map[string]string
		entry    string   // src/index.ts unless set
		env      []string // for node and the check
		fixture  string   // a fixture whose node_modules the app gets
		unrun    bool     // node fails where it runs no TypeScript
		stripped string   // in the fix where node strips types and fails; "" when it runs the app
		minMajor int
	}{
		{name: "an ES module", files: esm("src/index.ts", "import { db } from \"./db.ts\";\nimport { name } from \"present\";\nimport type { User } from \"./types.ts\";\nconst u: User = { id: db };\nconsole.log(\"MAIN\", u, name);\n",
			"src/db.ts", "export const db: number = 1;\n", "src/types.ts", "export interface User { id: number }\n"), unrun: true},
		{name: "CommonJS", files: cjs("src/index.ts", "const { db } = require(\"./db.ts\");\nconst x: number = db;\nconsole.log(\"MAIN\", x);\n", "src/db.ts", "exports.db = 1 as number;\n"), unrun: true},
		{name: "an ES module under no type", files: typeless("src/index.ts", "import { db } from \"./db.ts\";\nconsole.log(\"MAIN\", db);\n", "src/db.ts", "export const db: number = 1;\n"), unrun: true},
		{name: "plain JavaScript named .ts", files: typeless("src/index.ts", "const { name } = require(\"present\");\nconsole.log(\"MAIN\", name);\n")},
		{name: ".mts under no type", files: typeless("src/index.mts", "const a: number = 1;\nconsole.log(\"MAIN\", a);\n"), entry: "src/index.mts", unrun: true},
		{name: ".cts under type module", files: esm("src/index.cts", "const a: number = 1;\nconsole.log(\"MAIN\", a);\n"), entry: "src/index.cts", unrun: true},
		{name: "TSX", files: cjs("src/index.tsx", "const a: number = 1;\nconsole.log(\"MAIN\", a);\n"), entry: "src/index.tsx", unrun: true, stripped: "No node runs TypeScript with JSX"},
		{name: "TSX as an ES module", files: esm("src/index.tsx", "const a: number = 1;\nconsole.log(\"MAIN\", a);\n"), entry: "src/index.tsx", unrun: true, stripped: "No node runs TypeScript with JSX"},
		{name: "an enum", files: esm("src/index.ts", "import { Color } from \"./color.ts\";\nconsole.log(\"MAIN\", Color.Red);\n", "src/color.ts", "export enum Color {\n  Red,\n}\n"), unrun: true, stripped: "the enum at src/color.ts:1"},
		{name: "declared, and types only", files: esm("src/index.ts", "declare enum E { A }\ndeclare namespace D {\n  const a: number;\n}\nnamespace N {\n  export type A = number;\n}\nconst a: N.A = 1;\nconsole.log(\"MAIN\", a);\n"), unrun: true},
		{name: "a namespace with code", files: esm("src/index.ts", "namespace N {\n  export const a = 1;\n}\nconsole.log(\"MAIN\", N.a);\n"), unrun: true, stripped: "namespace declaration"},
		{name: "parameter properties", files: esm("src/index.ts", nest, "src/present.ts", "export const present = 1;\n"), unrun: true, stripped: "parameter property at src/index.ts:9"},
		{name: "a decorator", files: esm("src/index.ts", "function Injectable() { return (c: unknown) => c; }\n\n@Injectable()\nexport class S {}\nconsole.log(\"MAIN\", S);\n"), unrun: true, stripped: "decorator"},
		{name: "import equals", files: cjs("src/index.ts", "import fs = require(\"fs\");\nconsole.log(\"MAIN\", typeof fs);\n"), unrun: true, stripped: "import equals"},
		{name: "export assignment", files: cjs("src/index.ts", "const a = 1;\nexport = a;\nconsole.log(\"MAIN\", a);\n"), unrun: true, stripped: "export assignment"},
		{name: "imported as .js", files: esm("src/index.ts", "import { db } from \"./db.js\";\nconsole.log(\"MAIN\", db);\n", "src/db.ts", "export const db = 1;\n"), unrun: true, stripped: "name the file, ./db.ts"},
		{name: "required without extension", files: cjs("src/index.ts", "const { db } = require(\"./db\");\nconsole.log(\"MAIN\", db as number);\n", "src/db.ts", "exports.db = 1;\n"), unrun: true, stripped: "name the file, ./db.ts"},
		{name: "an interface imported as a value", files: esm("src/index.ts", "import { User, db } from \"./types.ts\";\nconst u: User = { id: db };\nconsole.log(\"MAIN\", u);\n",
			"src/types.ts", "export interface User { id: number }\nexport const db = 1;\n"), unrun: true, stripped: "import it with `import type`"},
		{name: "types imported as types", files: esm("src/index.ts", "import { type User, db } from \"./types.ts\";\nimport type { T } from \"./gone.ts\";\nimport type {\n  P,\n} from \"pruned\";\nconst u: User = { id: db };\nconsole.log(\"MAIN\", u);\n",
			"src/types.ts", "export interface User { id: number }\nexport const db = 1;\n"), unrun: true},
		{name: "__dirname in an ES module", files: esm("src/index.ts", "import path from \"node:path\";\nconst root: string = path.join(__dirname, \"..\");\nconsole.log(\"MAIN\", root);\n"), unrun: true, stripped: "import.meta.dirname"},
		{name: "a path alias", files: esm("src/index.ts", "import { db } from \"@/db.ts\";\nconsole.log(\"MAIN\", db);\n", "src/db.ts", "export const db = 1;\n",
			"tsconfig.json", `{"compilerOptions":{"baseUrl":".","paths":{"@/*":["./src/*"]}}}`), unrun: true, stripped: "node reads no tsconfig.json"},
		{name: "a package pruned", files: esm("src/index.ts", "import { x } from \"pruned\";\nconsole.log(\"MAIN\", x);\n"), unrun: true, stripped: "devDependencies"},
		{name: "a package's TypeScript", files: esm("src/index.ts", "import { x } from \"tspkg\";\nconsole.log(\"MAIN\", x);\n",
			"node_modules/tspkg/package.json", `{"name":"tspkg","version":"0.1.0","type":"module","exports":"./index.ts"}`, "node_modules/tspkg/index.ts", "export const x: number = 1;\n"),
			unrun: true, stripped: "tspkg@0.1.0 ships TypeScript"},
		{name: "JavaScript importing TypeScript", files: esm("dist/index.js", "import { db } from \"../src/db.ts\";\nconsole.log(\"MAIN\", db);\n", "src/db.ts", "export const db: number = 1;\n"), entry: "dist/index.js", unrun: true},
		// A loader that compiles TypeScript for any node: what node's own
		// stripping refuses runs.
		{name: "compiled by tsx", files: esm("src/index.ts", "import { Color } from \"./color.js\";\nimport { name } from \"present\";\nclass S {\n  constructor(private readonly c: Color) {}\n}\nconsole.log(\"MAIN\", new S(Color.Red), name);\n",
			"src/color.ts", "export enum Color {\n  Red,\n}\n"), fixture: "tsx", env: []string{"LAUNCHER_NODE_ARGS=--import tsx"}},
		{name: "stripping turned on", files: esm("src/index.ts", "const a: number = 1;\nconsole.log(\"MAIN\", a);\n"), env: []string{"NODE_OPTIONS=--experimental-strip-types"}, minMajor: 22},
	}
	forEachNode(t, []string{"node", npmNode(t, 18), npmNode(t, "22.11.0"), npmNode(t, 22), npmNode(t, 24), npmNode(t, 26)}, func(t *testing.T, node string, major int) {
		t.Parallel() // node's runs and the checks are most of the time, on one core each
		version, err := exec.Command(node, "--version").Output()
		must(t, err)
		strips := !strings.HasPrefix(string(version), "v18.") && !strings.HasPrefix(string(version), "v20.") && string(version) != "v22.11.0\n"
		for _, c := range cases {
			if major < c.minMajor {
				continue
			}
			app := layApp(t, c.files, c.fixture)
			entry := cmp.Or(c.entry, "src/index.ts")
			// TMPDIR: tsx keeps its cache in the temporary folder
			// (tsx-<uid>), which the tests leave as they found it.
			env := append([]string{"LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_ENTRY=" + entry, "TMPDIR=" + t.TempDir()}, c.env...)
			var args []string
			for _, kv := range c.env {
				if a, ok := strings.CutPrefix(kv, "LAUNCHER_NODE_ARGS="); ok {
					args, _ = config.SplitArgs(a)
				}
			}
			runs, out := nodeRunsApp(node, app, env, args, entry)
			code, r := runCheck(t, app, env...)
			if passes := code == 0; passes != runs {
				t.Errorf("%s: node runs the app: %v; the check: exit %d: %+v\nnode said: %s", c.name, runs, code, r.Failed(), firstLines(out, 6))
				continue
			}
			switch {
			case runs:
				// Nor a warning of what node's stripping would refuse,
				// where it runs the app (tsx compiles it).
				for _, check := range r.Checks {
					if check.Name == "imports" && (strings.Contains(check.Detail, "TypeScript") || strings.Contains(check.Hint, "TypeScript")) {
						t.Errorf("%s: node runs the app, and the check says: %s\nfix: %s", c.name, check.Detail, check.Hint)
					}
				}
			case strings.HasSuffix(entry, ".tsx"):
				expectCheck(t, r, "imports", preflight.StatusFail, []string{"node would fail at every start with"}, []string{c.stripped})
			case !strips && c.unrun:
				expectCheck(t, r, "imports", preflight.StatusFail, []string{"node would fail at every start with"}, []string{unrun})
			case strips && c.stripped != "":
				expectCheck(t, r, "imports", preflight.StatusFail, []string{"node would fail at every start with"}, []string{c.stripped})
			}
		}
	})
}
