package preflight

import (
	"testing"
)

// A script registers hooks that may resolve by themselves when it calls
// node's module.register, by whatever name it bound it to, with anything
// but an instrumentation SDK's hook; or registerHooks, or replaces
// require's resolution. A method of its own named register, or a require
// of its own made from node:module, registers nothing. The forms are those
// of the hooks' documentation, and of tsc's and esbuild's output.
func TestResolverCode(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"import { register } from \"node:module\";\nregister(\"./hooks.mjs\", import.meta.url);\n", true},
		{"import { register as r } from 'module';\nr('ts-node/esm', pathToFileURL('./'));\n", true},
		{"import * as mod from \"node:module\";\nmod.register(\"./hooks.mjs\", import.meta.url);\n", true},
		{"import module from \"node:module\";\nmodule.register(new URL(\"./hooks.mjs\", import.meta.url));\n", true},
		{"import mod, { createRequire } from \"node:module\";\nmod.register(hooks);\n", true},
		{"import { Module } from \"node:module\";\nModule.register(\"./hooks.mjs\", import.meta.url);\n", true},
		{"const { register } = require(\"node:module\");\nregister(\"./hooks.mjs\", pathToFileURL(__filename));\n", true},
		{"const { register: reg } = require(\"module\");\nreg(\"./hooks.mjs\", pathToFileURL(__filename));\n", true},
		{"const node_module_1 = require(\"node:module\");\n(0, node_module_1.register)(\"./hooks.mjs\", (0, node_url_1.pathToFileURL)(__filename));\n", true},
		{"const node_module_1 = __importDefault(require(\"node:module\"));\nnode_module_1.default.register(\"./hooks.mjs\", url);\n", true},
		{"require(\"node:module\").register(\"./hooks.mjs\", pathToFileURL(__filename));\n", true},
		{"const { register } = await import(\"node:module\");\nregister(\"./hooks.mjs\", import.meta.url);\n", true},
		{"import * as require$$1 from 'node:module';\nrequire$$1.register(specifier, import.meta.url);\n", true},
		{"import { register } from \"node:module\";\nvoid Promise.resolve(register(\"./hooks.mjs\", import.meta.url));\n", true},
		{"import { registerHooks } from \"node:module\";\nregisterHooks({ resolve });\n", true},
		{"Module._resolveFilename = function (request, parent) {};\n", true},
		// Instrumentation SDKs' hooks, which resolve as node does.
		{"import { register } from \"node:module\";\nregister(\"@opentelemetry/instrumentation/hook.mjs\", import.meta.url);\n", false},
		{"import * as m from \"node:module\";\nm.register('import-in-the-middle/hook.mjs', import.meta.url, { data });\n", false},
		{"import { register } from \"node:module\";\nregister(\"@sentry/node/import\", import.meta.url);\nregister(\"./mine.mjs\", import.meta.url);\n", true},
		// No hooks.
		{"import * as Sentry from \"@sentry/node\";\nSentry.init({ dsn: process.env.SENTRY_DSN });\n", false},
		{"import { createRequire } from \"node:module\";\nconst require = createRequire(import.meta.url);\nconst server = { register(plugin) { plugin(); } };\nserver.register(() => require(\"x\"));\n", false},
		{"import Fastify from \"fastify\";\nconst app = Fastify();\napp.register(cors);\n", false},
		{"import { register } from \"./metrics.js\";\nregister(\"requests\");\n", false},
		{"const module = require(\"./module\");\nmodule.register(\"x\");\n", false},
		{"// import { register } from \"node:module\";\n", false},
	} {
		if got := resolverCode([]byte(c.text)); got != c.want {
			t.Errorf("resolverCode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// Whatever a script holds, whether it registers hooks is told without a
// panic (the names it binds node:module to become expressions).
func FuzzResolverCode(f *testing.F) {
	f.Add([]byte("import { register as r } from 'module';\nr('./hooks.mjs', import.meta.url);\n"))
	f.Add([]byte("const { register: [a], Module: ( } = require(\"node:module\");\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		resolverCode(text)
	})
}
