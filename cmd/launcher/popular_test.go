package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// What Node backends load most, beside node: the 91 packages of the
// popular fixture (web servers, clients, ORMs and drivers, validators,
// loggers, schedulers; CommonJS, ES modules and both), and a dozen or so
// of the subpaths each one's "exports" names, required, imported, and
// imported by every name node finds in them, under Node 18, 20.20,
// 22.11, 24 and 26 (22.23 loads modules as 24 does). A refusal of what node loads is the worst the check can
// do (a working add-on would never start), so node's verdict decides each
// app. What node loads alone (asked in one process) goes into one app,
// which node must run and the check pass; each of the rest is an app of
// its own, which the check must refuse where node fails, unless it is one
// of nodeFailsCheckPasses, each there with its reason.
//
// The check reads JavaScript, which is the same on every architecture:
// this runs on amd64 only.
func TestCheck_PopularPackagesAsNodeLoadsThem(t *testing.T) {
	dir := filepath.Join(fixtures(t), "popular")
	specs := popularSpecifiers(t, dir)
	if len(specs) < 200 {
		t.Fatalf("the popular fixture gives %d specifiers, want its 91 packages and their subpaths: make fixtures", len(specs))
	}
	forEachNode(t, []string{"node", npmNode(t, 18), npmNode(t, "22.11.0"), npmNode(t, 24), npmNode(t, 26)}, func(t *testing.T, node string, major int) {
		t.Parallel() // node's runs are most of the time, on one core each
		version := filepath.Base(t.Name())
		app := filepath.Join(t.TempDir(), "app")
		must(t, os.MkdirAll(app, 0o755))
		must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"popular-app","private":true}`), 0o644))
		must(t, os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(app, "node_modules")))
		env := []string{"LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES="}
		required, imported := loadsAlone(t, node, app, specs, false), loadsAlone(t, node, app, specs, true)
		for _, form := range []popularForm{requireForm, importForm, namesForm(imported)} {
			loads := required
			if form.esm {
				loads = imported
			}
			// What node loads alone, in one app; each of the rest alone.
			var together, alone []string
			for _, spec := range specs {
				if _, known := nodeFailsCheckPasses(version, form, spec); loads[spec] != nil && !known {
					together = append(together, spec)
				} else {
					alone = append(alone, spec)
				}
			}
			j := popularJudge{t: t, node: node, app: app, env: env, form: form, version: version}
			j.judge(together)
			for _, spec := range alone {
				j.judge([]string{spec})
			}
			t.Logf("%s: %d specifiers, %d loaded together, in %d runs of node", form.name, len(specs), len(together), j.runs)
		}
	})
}

// popularJudge compares the check with node on apps that load specifiers
// in one form.
type popularJudge struct {
	t                  *testing.T
	node, app, version string
	env                []string
	form               popularForm
	runs               int // of node, for the log
}

// judge lays an app that loads all of specs. Where node runs it, the
// check must pass it; where node fails, each half is judged, down to the
// one specifier node fails on, which the check must refuse (or be one of
// nodeFailsCheckPasses). A refusal of a larger app is halved likewise, to
// name what the check refuses.
func (j *popularJudge) judge(specs []string) {
	t := j.t
	if len(specs) == 0 {
		return
	}
	entry := j.form.write(t, j.app, specs...)
	j.runs++
	runs, said := nodeRunsApp(j.node, j.app, j.env, nil, entry)
	if !runs && len(specs) > 1 {
		j.judge(specs[:len(specs)/2])
		j.judge(specs[len(specs)/2:])
		return
	}
	// The launcher as it ships: the race detector would make each of some
	// hundreds of checks of large module graphs ten times slower, and the
	// check's code runs under it in every other test.
	code, r := checkReport(t, launchOpts{binary: realLauncher(t), args: []string{"check", "--json"},
		env: append(slices.Clip(j.env), "LAUNCHER_APP_DIR="+j.app, "LAUNCHER_ENTRY="+entry)})
	switch why, known := nodeFailsCheckPasses(j.version, j.form, specs[0]); {
	case runs && code != 0 && len(specs) > 1:
		j.judge(specs[:len(specs)/2])
		j.judge(specs[len(specs)/2:])
	case runs && code != 0:
		t.Errorf("%s %q: node loads it, and the check refuses it: %+v", j.form.name, specs[0], r.Failed())
	case runs && known:
		t.Errorf("%s %q: node loads it now; take it out of nodeFailsCheckPasses (%s)", j.form.name, specs[0], why.reason)
	case !runs && code == 0 && !known:
		t.Errorf("%s %q: node fails, and the check passes it: %+v\nnode said: %s", j.form.name, specs[0], r.Checks, firstLines(said, 4))
	case !runs && code == 0 && why.warns != "":
		expectCheck(t, r, "imports", preflight.StatusWarn, []string{why.warns}, nil)
	}
}

// popularSpecifiers are the popular fixture's packages and each subpath
// their "exports" name that loads code (no pattern, folder, JSON or
// source map), a dozen or so a package (date-fns names 739), in order.
func popularSpecifiers(t *testing.T, dir string) []string {
	var app struct{ Dependencies map[string]string }
	readJSON(t, filepath.Join(dir, "package.json"), &app)
	var specs []string
	for _, name := range slices.Sorted(maps.Keys(app.Dependencies)) {
		specs = append(specs, name)
		var pkg struct{ Exports json.RawMessage }
		readJSON(t, filepath.Join(dir, "node_modules", name, "package.json"), &pkg)
		var subpaths map[string]json.RawMessage
		if json.Unmarshal(pkg.Exports, &subpaths) != nil {
			continue // a string, an array or none: the package's root only
		}
		var keys []string
		for key := range subpaths {
			if strings.HasPrefix(key, "./") && !strings.Contains(key, "*") && !strings.HasSuffix(key, "/") &&
				!strings.HasSuffix(key, ".json") && !strings.HasSuffix(key, ".map") {
				keys = append(keys, key)
			}
		}
		slices.Sort(keys)
		step := max(1, len(keys)/12)
		for i := 0; i < len(keys); i += step {
			specs = append(specs, name+"/"+keys[i][2:])
		}
	}
	return specs
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// popularForm is how an app loads what it names: require() in a CommonJS
// script, or import in an ES module, bare or by name.
type popularForm struct {
	name string
	esm  bool
	load func(i int, spec string) string // the line that loads spec, the i-th in its app
}

var (
	requireForm = popularForm{name: "require", load: func(_ int, spec string) string { return fmt.Sprintf("require(%q);\n", spec) }}
	importForm  = popularForm{name: "import", esm: true, load: func(_ int, spec string) string { return fmt.Sprintf("import %q;\n", spec) }}
)

// namesForm imports by name each name node's namespace of the module has
// (names, from loadsAlone), as `import { a as n0_0 } from "spec"`: what the
// check must find in the module's text as node does.
func namesForm(names map[string][]string) popularForm {
	return popularForm{name: "import by name", esm: true, load: func(i int, spec string) string {
		if len(names[spec]) == 0 {
			return importForm.load(i, spec)
		}
		var as []string
		for k, name := range names[spec] {
			as = append(as, fmt.Sprintf("%s as n%d_%d", name, i, k))
		}
		return fmt.Sprintf("import { %s } from %q;\n", strings.Join(as, ", "), spec)
	}}
}

// loadsAlone asks node, in one process, which specifiers load from the
// app, each in its turn: require()d, or import()ed by an ES module, with
// the names of its namespace an import can name as identifiers (not
// default). A specifier node cannot load is not in the map. The answer
// only sorts the specifiers: each app's verdict is node's run of it.
func loadsAlone(t *testing.T, node, app string, specs []string, esm bool) map[string][]string {
	load, args := "loads[spec] = (require(spec), []);", []string{}
	if esm {
		load = `loads[spec] = Object.keys(await import(spec)).filter((n) => n !== "default" && /^[A-Za-z_$][\w$]*$/.test(n));`
		args = []string{"--input-type=module"}
	}
	script := fmt.Sprintf("const loads = {};\nfor (const spec of JSON.parse(process.argv[1])) {\n  try {\n    %s\n  } catch {}\n}\nconsole.log(JSON.stringify(loads));\n", load)
	list, err := json.Marshal(specs)
	must(t, err)
	cmd := exec.Command(node, append(args, "-e", script, string(list))...)
	cmd.Dir = app
	out, err := cmd.Output()
	if err != nil && len(specs) > 1 {
		// A module that fails can take node down past the catch (undici's
		// under Node 18, loaded again through cheerio): halve.
		loads := map[string][]string{}
		maps.Copy(loads, loadsAlone(t, node, app, specs[:len(specs)/2], esm))
		maps.Copy(loads, loadsAlone(t, node, app, specs[len(specs)/2:], esm))
		return loads
	}
	loads := map[string][]string{}
	if err == nil {
		must(t, json.Unmarshal(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:], &loads))
	}
	return loads
}

// write lays an entry in the app that loads specs, prints MAIN and exits
// (a server package's handles would keep node up), and returns its name,
// which names the first specifier.
func (f popularForm) write(t *testing.T, app string, specs ...string) string {
	var b strings.Builder
	for i, spec := range specs {
		b.WriteString(f.load(i, spec))
	}
	b.WriteString("console.log(\"MAIN\");\nprocess.exit(0);\n")
	ext := ".js"
	if f.esm {
		ext = ".mjs"
	}
	entry := fmt.Sprintf("%s-%s-%d%s", strings.ReplaceAll(f.name, " ", "-"), strings.NewReplacer("/", "_", "@", "", ".", "_").Replace(specs[0]), len(specs), ext)
	must(t, os.WriteFile(filepath.Join(app, entry), []byte(b.String()), 0o644))
	return entry
}

// nodeFailsCheckPasses knows the cases where node fails and the check
// passes: failures no reading of files can foresee, and packages whose
// engines.node excludes the node, of which the check warns.
func nodeFailsCheckPasses(version string, form popularForm, spec string) (struct{ reason, warns string }, bool) {
	type why = struct{ reason, warns string }
	engines := func(wants string) why {
		return why{"uses what the node lacks (the File global, the regular expression flag v)", "declares engines.node \"" + wants + "\""}
	}
	switch {
	case spec == "@nestjs/common/internal" || spec == "@nestjs/core/internal":
		return why{reason: "Reflect.getOwnMetadata is not a function: reflect-metadata must be loaded first, at run time"}, true
	case spec == "hono/bun" || spec == "hono/deno":
		return why{reason: "the adapter for another runtime: ReferenceError: Bun (Deno) is not defined, at run time"}, true
	case spec == "yargs/browser" && form.esm:
		return why{reason: "its browser shim imports an https: URL, which node's loader refuses; the check walks the app's scripts, not a package's"}, true
	case !strings.HasPrefix(version, "v18."):
		return why{}, false
	case spec == "cheerio" || spec == "undici":
		return engines(">=20.18.1"), true
	case spec == "mongoose":
		return engines(">=20.19.0"), true
	case (spec == "yargs" || strings.HasPrefix(spec, "yargs/")) && form.esm:
		return engines("^20.19.0 || ^22.12.0 || >=23"), true
	}
	return why{}, false
}
