package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// An instrumentation SDK preloaded with --import (Sentry's and
// OpenTelemetry's documented setup for ES modules) registers module hooks
// whose resolve returns what node's own resolution found: an import node
// fails on still fails under them, so the check judges the app as node
// does, and refuses what node would fail on. Hooks that resolve by
// themselves (the app's own, registered by module.register or
// module.registerHooks from a preload of either kind) may find what node
// alone does not: the check warns of those, and never refuses. node is
// the judge, with the real SDKs (their hooks active: Sentry rewrites
// express's router as it loads) under each node they support.
func TestCheck_ImportsUnderInstrumentationAsNodeLoadsThem(t *testing.T) {
	app := func(index string, more map[string]string) map[string]string {
		files := map[string]string{
			"package.json":   `{"name":"backend","type":"module","devDependencies":{"pruned":"1.0.0"}}`,
			"dist/index.js":  index,
			"dist/db.js":     "export const db = 1;\n",
			"instrument.mjs": "import * as Sentry from \"@sentry/node\";\nSentry.init({ dsn: \"\", tracesSampleRate: 1.0 });\n",
			"instrument.cjs": "const Sentry = require(\"@sentry/node\");\nSentry.init({ dsn: \"\", tracesSampleRate: 1.0 });\n",
			"otel.mjs":       "import { register } from \"node:module\";\nregister(\"@opentelemetry/instrumentation/hook.mjs\", import.meta.url);\n",
			// The app's own resolve hook: "@app/x" is dist/x.js.
			"hooks.mjs": "export async function resolve(specifier, context, next) {\n  if (specifier.startsWith(\"@app/\")) {\n" +
				"    return next(new URL(\"./dist/\" + specifier.slice(5) + \".js\", import.meta.url).href, context);\n  }\n  return next(specifier, context);\n}\n",
		}
		for name, text := range more {
			files[name] = text
		}
		return files
	}
	const (
		sentryImport = "NODE_OPTIONS=--import ./instrument.mjs"
		otelImport   = "NODE_OPTIONS=--import ./otel.mjs"
		aliased      = "import { db } from \"@app/db\";\nconsole.log('MAIN', db);\n"
		pruned       = "import { x } from \"pruned\";\nconsole.log('MAIN', x);\n"
	)
	cases := []struct {
		name     string
		files    map[string]string
		fixture  string // sentry or hooks: its node_modules
		env      []string
		minMajor int                   // the SDK's oldest node among these (Sentry 11: 20.19; OpenTelemetry's 0.301: 22.15)
		status   preflight.CheckStatus // the imports check's, where node runs the app
		detail   string                // in the refusal, where node fails
		hint     string
	}{
		{name: "Sentry, what the app imports installed", fixture: "sentry", minMajor: 20, env: []string{sentryImport}, status: preflight.StatusPass,
			files: app("import express, { Router } from \"express\";\nimport { db } from \"./db.js\";\nconsole.log('MAIN', typeof express, typeof Router, db);\n", nil)},
		{name: "Sentry, a devDependency pruned", fixture: "sentry", minMajor: 20, env: []string{sentryImport}, files: app(pruned, nil),
			detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		{name: "Sentry, a name express does not export", fixture: "sentry", minMajor: 20, env: []string{sentryImport},
			files: app("import { Nope } from \"express\";\nconsole.log('MAIN', Nope);\n", nil), detail: "Nope"},
		{name: "Sentry's own preload, a devDependency pruned", fixture: "sentry", minMajor: 20, env: []string{"NODE_OPTIONS=--import @sentry/node/import"},
			files: app(pruned, nil), detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		{name: "Sentry required by -r, a devDependency pruned", fixture: "sentry", minMajor: 20, env: []string{"NODE_OPTIONS=-r ./instrument.cjs"},
			files: app(pruned, nil), detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		{name: "OpenTelemetry's hook, what the app imports installed", fixture: "hooks", minMajor: 22, env: []string{otelImport}, status: preflight.StatusPass,
			files: app("import { trace } from \"@opentelemetry/api\";\nimport { db } from \"./db.js\";\nconsole.log('MAIN', typeof trace, db);\n", nil)},
		{name: "OpenTelemetry's hook, a devDependency pruned", fixture: "hooks", minMajor: 22, env: []string{otelImport}, files: app(pruned, nil),
			detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		{name: "OpenTelemetry's hook, a name the package does not export", fixture: "hooks", minMajor: 22, env: []string{otelImport},
			files: app("import { nope } from \"@opentelemetry/api\";\nconsole.log('MAIN', nope);\n", nil), detail: "nope"},
		{name: "OpenTelemetry's hook as a loader, a devDependency pruned", fixture: "hooks", minMajor: 22,
			env: []string{"NODE_OPTIONS=--experimental-loader=@opentelemetry/instrumentation/hook.mjs"}, files: app(pruned, nil),
			detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		// What registers plugins and makes a require of its own registers
		// no hooks.
		{name: "a preload that registers plugins, a devDependency pruned", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=--import ./plugins.mjs"},
			files: app(pruned, map[string]string{"plugins.mjs": "import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\n" +
				"const server = { register(plugin) { plugin(); } };\nserver.register(() => require(\"node:path\"));\n"}),
			detail: `dist/index.js:1 imports "pruned"`, hint: "devDependencies"},
		// The app's own hooks resolve what node alone does not find.
		{name: "own resolve hook registered by --import", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=--import ./alias.mjs"}, status: preflight.StatusWarn,
			files: app(aliased, map[string]string{"alias.mjs": "import { register } from \"node:module\";\nregister(\"./hooks.mjs\", import.meta.url);\n"})},
		{name: "own resolve hook registered by -r", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=-r ./alias.cjs"}, status: preflight.StatusWarn,
			files: app(aliased, map[string]string{"alias.cjs": "const { register } = require(\"node:module\");\nconst { pathToFileURL } = require(\"node:url\");\n" +
				"register(\"./hooks.mjs\", pathToFileURL(__filename));\n"})},
		{name: "own resolve hook registered by what the preload imports", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=--import ./setup.mjs"}, status: preflight.StatusWarn,
			files: app(aliased, map[string]string{"setup.mjs": "import \"./alias.mjs\";\n",
				"alias.mjs": "import * as mod from \"node:module\";\nmod.register(\"./hooks.mjs\", import.meta.url);\n"})},
		{name: "own resolve hook as a loader", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=--experimental-loader ./hooks.mjs"}, status: preflight.StatusWarn,
			files: app(aliased, nil)},
		{name: "a resolver package the preload imports", fixture: "hooks", minMajor: 20, env: []string{"NODE_OPTIONS=--import ./setup.mjs"}, status: preflight.StatusWarn,
			files: app("import { db } from \"./db\";\nconsole.log('MAIN', db);\n", map[string]string{"setup.mjs": "import \"extensionless/register\";\n"})},
		{name: "own synchronous resolve hook", fixture: "hooks", minMajor: 22, env: []string{"NODE_OPTIONS=--import ./alias.mjs"}, status: preflight.StatusWarn,
			files: app(aliased, map[string]string{"alias.mjs": "import { registerHooks } from \"node:module\";\nregisterHooks({\n  resolve(specifier, context, next) {\n" +
				"    return next(specifier.startsWith(\"@app/\") ? new URL(\"./dist/\" + specifier.slice(5) + \".js\", import.meta.url).href : specifier, context);\n  },\n});\n"})},
	}
	forEachNode(t, []string{"node", npmNode(t, 22), npmNode(t, 24)}, func(t *testing.T, node string, major int) {
		t.Parallel() // node's runs and the checks are most of the time, on one core each
		for _, c := range cases {
			if major < c.minMajor {
				continue
			}
			app := layApp(t, c.files, "")
			must(t, os.Symlink(filepath.Join(fixtures(t), c.fixture, "node_modules"), filepath.Join(app, "node_modules")))
			env := append([]string{"LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_ENTRY=dist/index.js"}, c.env...)
			runs, out := nodeRunsApp(node, app, env, nil, "dist/index.js")
			code, r := runCheck(t, app, env...)
			if passes := code == 0; passes != runs {
				t.Errorf("%s: node runs the app: %v; the check: exit %d: %+v\nnode said: %s", c.name, runs, code, r.Failed(), firstLines(out, 6))
				continue
			}
			if runs {
				expectCheck(t, r, "imports", c.status, nil, nil)
			} else {
				expectCheck(t, r, "imports", preflight.StatusFail, []string{c.detail, "node would fail at every start with"}, []string{c.hint})
			}
		}
	})
}
