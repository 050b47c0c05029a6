package preflight

import (
	"bytes"
	"slices"
	"strings"
)

// What changes how node resolves modules, which the imports check must
// know before it refuses a module node does not find: a package that
// replaces require's resolution (an alias, a path mapping, a compiler's
// extensions), or module hooks registered by the app (module.register,
// module.registerHooks, --loader). Under one, a miss is a warning: the
// hooks may find it. Instrumentation SDKs register hooks too, to trace
// what loads; theirs resolve as node does, so under them the check still
// judges the app as node does.

// resolvers are packages that change how node resolves modules once
// loaded (an alias, a path mapping, a compiler's extensions): with one
// loaded first, a module the check does not find may be theirs to find.
var resolvers = []string{"module-alias", "tsconfig-paths", "ts-node", "tsx", "@babel/register", "esbuild-register",
	"@swc/register", "@swc-node/register", "app-module-path", "link-module-alias", "@esbuild-kit/cjs-loader", "@esbuild-kit/esm-loader"}

// instrumenters are packages whose module hooks resolve through node's own
// resolution (their resolve returns what the next hook, node's, found) and
// rewrite only the sources they trace: Sentry's SDKs (11's hooks of their
// own, earlier ones import-in-the-middle's), OpenTelemetry's, and
// import-in-the-middle itself, whose hook OpenTelemetry's re-exports. An
// import node fails on fails under them too (a name a CommonJS module
// lacks is then said in V8's words, as import-in-the-middle's wrapper is
// an ES module, and Node 20's and 22's own wording is lost under any
// module.register hooks).
var instrumenters = []string{"@sentry/", "@opentelemetry/", "import-in-the-middle"}

// instrumenter reports whether the package named is an instrumentation
// SDK's (a name, or a scope's prefix ending in "/").
func instrumenter(name string) bool {
	return slices.ContainsFunc(instrumenters, func(i string) bool {
		return name == i || strings.HasSuffix(i, "/") && strings.HasPrefix(name, i)
	})
}

// resolverCode reports whether a script's text changes how node resolves
// modules itself: it replaces require's resolution, or registers module
// hooks other than an instrumentation SDK's.
func resolverCode(text []byte) bool {
	return bytes.Contains(text, []byte("_resolveFilename")) || bytes.Contains(text, []byte("registerHooks")) || registersHooks(text)
}

// moduleBound matches what binds node:module (or module) in a script: an
// import's clause, a require's or an awaited import's binding.
var moduleBound = lazy(`(?:^|[^\w$.])(?:import\s+([^"';]*?)\s*from|(?:const|let|var)\s+([\w$]+|\{[^}]*\})\s*=\s*(?:[\w$.]+\()?(?:require|await\s+import)\()` +
	`\s*["'](?:node:)?module["']`)

// registerOfModule matches module.register called on the module itself,
// `require("node:module").register(…)`; its group is the first argument
// when a string.
var registerOfModule = lazy(`require\(\s*["'](?:node:)?module["']\s*\)\s*\.register\s*\(\s*(?:["']([^"'\n]*)["'])?`)

// memberCall matches a call of a binding's register (`m.register(…)`,
// `m.default.register(…)`, tsc's `(0, m.register)(…)`), and plainCall a
// call of a function by its name; their groups are the binding or the
// function, and the first argument when a string. Each is a call only
// where no name or dot comes before it.
var (
	memberCall = lazy(`([\w$]+)\.(?:default\.)?register\s*\)?\s*\(\s*(?:["']([^"'\n]*)["'])?`)
	plainCall  = lazy(`([\w$]+)\s*\)?\s*\(\s*(?:["']([^"'\n]*)["'])?`)
)

// registersHooks reports whether a script's text calls node's
// module.register with hooks other than an instrumentation SDK's: a first
// argument that is not a string naming an instrumenter's module counts,
// as what it registers is not known.
func registersHooks(text []byte) bool {
	if !bytes.Contains(text, []byte("register")) {
		return false
	}
	// What the script binds node:module's namespace to (`m` of `import * as
	// m`, `const m = require(…)`, `import { Module as m }`), and its
	// register function (`r` of `import { register as r }`).
	modules, registers := map[string]bool{}, map[string]bool{}
	for _, m := range moduleBound.get().FindAllSubmatch(text, -1) {
		clause := string(m[1]) + string(m[2])
		named, rest := "", clause
		if open := strings.IndexByte(clause, '{'); open >= 0 {
			named, rest = strings.Trim(clause[open:], "{} \t\n"), clause[:open]
		}
		if f := strings.Fields(strings.NewReplacer("*", " ", ",", " ").Replace(rest)); len(f) > 0 {
			modules[f[len(f)-1]] = true
		}
		for _, item := range strings.Split(named, ",") {
			// `register`, `register as r` (an import), `register: r` (a binding).
			f := strings.Fields(strings.ReplaceAll(item, ":", " as "))
			if len(f) == 0 {
				continue
			}
			switch local := f[len(f)-1]; f[0] {
			case "register":
				registers[local] = true
			case "Module", "default":
				modules[local] = true
			}
		}
	}
	othersHooks := func(spec []byte) bool { return len(spec) == 0 || !instrumenter(packageName(string(spec))) }
	for _, m := range registerOfModule.get().FindAllSubmatch(text, -1) {
		if othersHooks(m[1]) {
			return true
		}
	}
	for _, call := range []struct {
		re     *lazyRegexp
		callee map[string]bool
	}{{memberCall, modules}, {plainCall, registers}} {
		if len(call.callee) == 0 {
			continue
		}
		for _, at := range call.re.get().FindAllSubmatchIndex(text, -1) {
			if at[0] > 0 && (asciiNameByte(text[at[0]-1]) || text[at[0]-1] == '.') {
				continue // a method, or a longer name
			}
			var spec []byte
			if at[4] >= 0 {
				spec = text[at[4]:at[5]]
			}
			if call.callee[string(text[at[2]:at[3]])] && othersHooks(spec) {
				return true
			}
		}
	}
	return false
}
