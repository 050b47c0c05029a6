package preflight

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/nodeopts"
	"github.com/hasync/launcher/launcher/plural"
)

// The app's imports: what node loads at every start, before the app can
// serve, of the app's own scripts and of node_modules. From the entry,
// each module that a script of the app requires or imports by a statement
// of its own at the top level is loaded unconditionally when that script
// runs; the scripts of the app so loaded are read in turn. A package
// missing from the image (not copied from the builder, or removed by
// `npm prune --omit=dev` as a devDependency) or a compiled file not copied
// ends node at its start with "Cannot find module", at every start.
//
// Only such statements count, each a line of its own at column 0: what
// tsc, Babel and esbuild emit for a module's imports (`const x =
// __importDefault(require("x"));`, `import x from "x";`) and what
// formatted code holds at its top level. A require inside a function, a
// condition or a try (indented), a dynamic import(), or a minified bundle's
// one long line is not judged: the app may load it later, or never. What
// node_modules' own code requires is its package's business, not read.

// topLevelRequire matches a CommonJS statement that requires one module:
// a declaration (`const x = require("x");`, wrapped by a helper, a
// property read after it: esbuild's `__toESM(require("x"), 1)`), a bare
// call, a re-export (tsc's `__exportStar(require("x"), exports);`) or
// `module.exports =`.
var topLevelRequire = lazy(`^(?:(?:const|let|var)\s+(?:[\w$]+|\{[^}]*\}|\[[^\]]*\])\s*=\s*|\}\s*=\s*|module\.exports\s*=\s*)?` +
	`(?:[\w$.]+\()*require\(\s*["']([^"'\n]+)["']\s*\)(?:\s*,\s*(?:exports|\d+))?\)*(?:\.[\w$]+)*\s*;?\s*(?://.*)?$`)

// topLevelImport matches an ES module's static import or re-export of one
// module, on one line or as the last line of one over several lines
// (`} from "x";`).
var topLevelImport = lazy(`^(?:import\s+(?:(?:[\w$*,\s]|\{[^}]*\})+?\s+from\s*)?|export\s+(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*|\}\s*from\s*)` +
	`["']([^"'\n]+)["']\s*(?:(with|assert)\s*\{([^}]*)\}\s*)?;?\s*(?://.*)?$`)

// maxMissesSaid bounds the imports a report names; the fix covers all.
const maxMissesSaid = 5

// appImport is one module a script of the app loads at its top level,
// or one node preloads.
type appImport struct {
	script string // the script that loads it; "" for a preload
	line   int
	from   string           // for a preload, where node was told to: NODE_OPTIONS or LAUNCHER_NODE_ARGS
	pre    nodeopts.Preload // the specifier, and whether by require's rules (--require) or import's (--import)
	// An ES import's attributes: `with { type: "json" }`, or the
	// assertion (`assert { … }`) that Node 22 removed.
	assertion  bool
	attributes string
	// An ES import's or re-export's names in braces, as the module
	// exports them (`a` of `a as b`), default left out.
	names []string
}

// esmSyntax matches the start of an import or export statement, which a
// script node reads as CommonJS refuses; not import() or import.meta.
var esmSyntax = lazy(`^(?:import(?:\s+[\w$]|\s*[{*"'])|export(?:\s+[\w$]|\s*[{*]))`)

// cjsSyntax matches CommonJS's exports at the top level, which an ES module
// does not have; the word is what node says is not defined.
var cjsSyntax = lazy(`^(?:Object\.defineProperty\((exports)\b|(exports)\.[\w$]+\s*=|(module)\.exports\b)`)

// scripted is what a script holds at its top level: the modules it loads,
// and the first statement of each module system's own.
type scripted struct {
	imports []appImport
	esmLine int    // the first import or export statement; 0 when none
	esmWord string // import or export
	cjsLine int    // the first use of require, exports or module; 0 when none
	cjsWord string // which of them
	// The first use of each of moduleGlobals by a statement of its own at
	// the top level, which an ES module does not have, in line order; and
	// the text, for whether the script declares the name itself (asked
	// only of a script node reads as an ES module).
	globals []globalUse
	text    []byte
}

// globalUse is a line that reads one of moduleGlobals.
type globalUse struct {
	line int
	word string
}

// global is the first use of moduleGlobals in the script that it does not
// declare or import itself; line 0 when none.
func (s scripted) global() globalUse {
	for _, g := range s.globals {
		if !declaresGlobal(s.text, g.word) {
			return g
		}
	}
	return globalUse{}
}

// topLevelImports reads the modules a script loads at its top level, in
// their order, and its first statements of ES module and of CommonJS
// syntax. Lines inside a block comment or a template literal over several
// lines are passed over.
func topLevelImports(text []byte, script string) scripted {
	out := scripted{text: text}
	// An ES module may make its own require.
	ownRequire := bytes.Contains(text, []byte("createRequire")) || bytes.Contains(text, []byte("require ="))
	inComment, inTemplate := false, false
	var clause []byte // the names in braces of an import over several lines, so far
	inClause := false
	inTypes := false // in a TypeScript `import type {` over several lines, which node erases
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), len(text)+1)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		var closed []byte // the names in braces that this line's `}` closes
		if inClause {
			i := bytes.IndexByte(line, '}')
			if i < 0 {
				if c := bytes.Index(line, []byte("//")); c >= 0 {
					line = line[:c]
				}
				clause = append(append(clause, line...), ',')
				continue
			}
			closed, clause, inClause = append(clause, line[:i]...), nil, false
		}
		switch {
		case inTypes:
			inTypes = !bytes.Contains(line, []byte("}"))
			continue
		case inComment:
			inComment = !bytes.Contains(line, []byte("*/"))
			continue
		case inTemplate:
			inTemplate = bytes.Count(line, []byte("`"))%2 == 0
			continue
		}
		if bytes.HasPrefix(line, []byte("/*")) && !bytes.Contains(line[2:], []byte("*/")) {
			inComment = true
			continue
		}
		if bytes.Count(line, []byte("`"))%2 == 1 {
			inTemplate = true
			continue
		}
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if word := moduleGlobal(line); word != "" && !slices.ContainsFunc(out.globals, func(g globalUse) bool { return g.word == word }) {
			out.globals = append(out.globals, globalUse{n, word})
		}
		// The expressions run only on lines that may match: most lines
		// of a script are none.
		if !bytes.Contains(line, []byte("require(")) && !strings.ContainsRune("ie}Om", rune(line[0])) {
			continue
		}
		if m := typeOnly.get().FindSubmatch(line); m != nil && string(m[2]) != "from" {
			// `import type { A } from "./a"`: TypeScript's, erased with
			// what it names by node's type stripping, and by tsc.
			inTypes = string(m[1]) == "{" && !bytes.Contains(line, []byte("}"))
			continue
		}
		if out.esmLine == 0 && esmSyntax.get().Match(line) {
			out.esmLine, out.esmWord = n, string(line[:6])
		}
		if m := cjsSyntax.get().FindSubmatch(line); m != nil && out.cjsLine == 0 {
			out.cjsLine, out.cjsWord = n, string(bytes.Join(m[1:], nil))
		}
		if open := importClauseOpen.get().FindSubmatchIndex(line); open != nil {
			clause, inClause = append([]byte(nil), line[open[1]:]...), true
			continue
		}
		if m := topLevelRequire.get().FindSubmatch(line); m != nil {
			out.imports = append(out.imports, appImport{script: script, line: n, pre: nodeopts.Preload{Option: "--require", Spec: string(m[1])}})
			if out.cjsLine == 0 && !ownRequire {
				out.cjsLine, out.cjsWord = n, "require"
			}
		} else if m := topLevelImport.get().FindSubmatch(line); m != nil {
			imp := appImport{script: script, line: n, pre: nodeopts.Preload{Option: "--import", Spec: string(m[1])},
				assertion: string(m[2]) == "assert", attributes: string(m[3])}
			if line[0] == '}' {
				imp.names = importedNames(closed)
			} else if c := importClause.get().FindSubmatch(line); c != nil {
				imp.names = importedNames(c[1])
			}
			out.imports = append(out.imports, imp)
		}
	}
	return out
}

// importClause matches the names in braces of an import or re-export on
// one line; importClauseOpen the start of one whose names go on over the
// lines after it (type-only imports, which tsc removes, left out).
var (
	importClause     = lazy(`^(?:import\s+(?:[\w$]+\s*,\s*)?|export\s*)\{([^}]*)\}`)
	importClauseOpen = lazy(`^(?:import\s+(?:[\w$]+\s*,\s*)?|export\s*)\{[^}"'` + "`" + `]*$`)
)

// moduleGlobals are the names CommonJS gives each module, which an ES
// module does not have (exports is CommonJS's own syntax, cjsSyntax).
var moduleGlobals = []string{"__dirname", "__filename", "require", "module"}

// moduleGlobal is one of moduleGlobals where a line at the top level
// reads it as the statement runs: not in a string or after a comment, not
// a property's name, not in a function, an arrow, a class, or braces (an
// object's method, a block that may not run) before it on the line, not
// after typeof; "" when none.
func moduleGlobal(line []byte) string {
	if !bytes.Contains(line, []byte("__")) && !bytes.Contains(line, []byte("require")) && !bytes.Contains(line, []byte("module")) ||
		bytes.Contains(line, []byte("typeof")) {
		return ""
	}
	switch {
	case bytes.IndexByte([]byte("})]*/.,`"), line[0]) >= 0:
		return "" // the end or continuation of a statement or a template begun above, or a comment
	case bytes.HasPrefix(line, []byte("import")):
		return "" // TypeScript's `import fs = require("fs")`, which is its own failure
	}
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '/' && i+1 < len(line) && (line[i+1] == '/' || line[i+1] == '*'):
			return ""
		case c == '{' || c == '=' && i+1 < len(line) && line[i+1] == '>':
			return ""
		case (c == '_' || c == 'r' || c == 'm') && (i == 0 || !asciiNameByte(line[i-1]) && line[i-1] != '.' && line[i-1] != '/'):
			for _, word := range moduleGlobals {
				end := i + len(word)
				if bytes.HasPrefix(line[i:], []byte(word)) && (end == len(line) || !asciiNameByte(line[end])) {
					if rest := bytes.TrimLeft(line[end:], " \t"); len(rest) > 0 && rest[0] == ':' {
						return "" // a label, or a key
					}
					return word
				}
			}
		case asciiNameByte(c) && (i == 0 || !asciiNameByte(line[i-1])):
			// A word: function and class open a body the name may be read
			// in later, if ever.
			for _, word := range []string{"function", "class"} {
				if bytes.HasPrefix(line[i:], []byte(word)) && (i+len(word) == len(line) || !asciiNameByte(line[i+len(word)])) {
					return ""
				}
			}
		}
	}
	return ""
}

// declaresGlobal reports whether a script declares, imports or assigns
// the name itself (`const __dirname = path.dirname(…)`, `import {
// __dirname } from "./paths.js"`, `globalThis.__dirname = …`).
func declaresGlobal(text []byte, word string) bool {
	return bytes.Contains(text, []byte("."+word+" =")) || bytes.Contains(text, []byte("."+word+"=")) ||
		declaredGlobal.get().Match(bytes.ReplaceAll(text, []byte(word), []byte("__name__")))
}

// declaredGlobal matches a declaration or an import of __name__.
var declaredGlobal = lazy(`(?:\b(?:const|let|var|function|class|import)\s+|\bas\s+|\b(?:const|let|var|import)\s*\{[^}]*)\b__name__\b`)

// typeOnly matches the start of a TypeScript import or re-export of types
// only; its groups are the brace or star after type, or the word (from:
// `import type from "x"` imports a default named type).
var typeOnly = lazy(`^(?:import|export)\s+type(?:\s*(\{|\*)|\s+([\w$]+))`)

// importedNames is the names an import's braces take from the module:
// `a` of `a as b`, "a-b" of `"a-b" as c`; not default, not a type.
func importedNames(clause []byte) []string {
	var names []string
	for _, item := range strings.Split(commentless.get().ReplaceAllString(string(clause), " "), ",") {
		fields := strings.Fields(item)
		if len(fields) == 0 || fields[0] == "type" && len(fields) > 1 && fields[1] != "as" {
			continue
		}
		name := fields[0]
		if len(name) >= 2 && (name[0] == '"' || name[0] == '\'') && name[len(name)-1] == name[0] {
			name = name[1 : len(name)-1]
		}
		if name != "default" {
			names = append(names, name)
		}
	}
	return names
}

// commentless matches a block comment inside an import's braces.
var commentless = lazy(`/\*(?:[^*]|\*+[^*/])*\*+/`)

// miss is an import node would fail on, or a script it would not run, and
// the eras of node in which it would.
type miss struct {
	imp  appImport // for a script's own failure, its first line of the other syntax, no specifier
	err  error
	eras era
}

// importsWalk is what the walk of the app's imports found, before node's
// version is known: the check when it is already decided, or what is
// judged once the version is.
type importsWalk struct {
	done     *Check
	misses   []miss
	resolver string // a resolver the app or node loads first; "" when none
	flagged  bool   // a module flag is among node's options: only what fails in every era is judged
	builtins []builtinImport
	// A flag among node's options that adds to node's own modules: those
	// are not judged.
	addsBuiltins string
	pnp          bool
	files        int
	packages     map[string]*packageJSON // the packages loaded, by name: their package.json, read beside node's files
}

// walkImports follows the app's top-level imports from the modules node
// preloads and the entry: each must resolve as node resolves it from the
// script that loads it, a package from the node_modules above that
// script, and be read by the module system node reads it with.
func (p *Preflight) walkImports() importsWalk {
	w := importsWalk{packages: map[string]*packageJSON{}}
	entry, _, err := resolveEntry(p.fsys, p.app, p.Entry)
	switch {
	case err != nil:
		w.done = &Check{Name: "imports", Status: StatusPass, Detail: "not checked: the entry does not resolve (see the entry check)"}
		return w
	case !isScript(entry):
		w.done = &Check{Name: "imports", Status: StatusPass, Detail: fmt.Sprintf("not checked: the entry, %s, is not JavaScript (.js, .cjs, .mjs) or TypeScript (.ts, .mts, .cts, .tsx): node, or a loader, reads its imports its own way", p.rel(entry))}
		return w
	}
	w.pnp = p.plugnPlay() != ""
	w.resolver = p.preloadedResolver()
	k := importWalker{p: p, w: &w, scopes: map[string]scope{}, modules: moduleTexts{}, read: map[string]bool{}, loadedBy: map[string]bool{}, broken: map[string]bool{}}
	if pj, err := readPackageJSON(p.fsys, p.app); err == nil && len(pj.Exports) > 0 && pj.Name != "" {
		k.own = pj
	}
	k.user, w.flagged = p.moduleOptions()
	w.addsBuiltins = addsBuiltins(p.nodeWords())
	// node loads its preloads before the entry, each as require() or
	// import loads a module from its working folder. One that does not
	// resolve is the entry check's to refuse.
	for _, pre := range p.preloads() {
		if pre.err != nil {
			continue
		}
		if _, err := p.resolvePreload(pre.Preload); err != nil {
			continue
		}
		if !k.follow(appImport{from: pre.from, pre: pre.Preload}, p.app) {
			return w
		}
	}
	if !k.read[entry] {
		k.read[entry] = true
		k.queue = append(k.queue, entry)
		if isTypeScript(entry) || isTSX(entry) {
			// node's main loads the entry as an ES module where its
			// package.json says "type": "module", whatever its extension.
			k.loadedBy[entry] = p.scopeOf(filepath.Dir(entry), k.scopes).typ == "module"
		}
	}
	for len(k.queue) > 0 && w.files < appScripts {
		script := k.queue[0]
		k.queue = k.queue[1:]
		text, ok := readScript(p.fsys, script)
		if !ok {
			continue
		}
		w.files++
		if ext := filepath.Ext(script); ext == ".js" || ext == ".ts" {
			// node reads the package.json above a .js or .ts file for its
			// "type" before it reads the file: where it fails on it, in
			// every era, the script is not read at all.
			if sc := p.scopeOf(filepath.Dir(script), k.scopes); sc.broken != nil {
				if !k.broken[sc.packageJSON] {
					k.broken[sc.packageJSON] = true
					w.misses = append(w.misses, miss{appImport{script: script}, sc.broken, sc.broken.eras})
				}
				if sc.broken.eras == allEras {
					continue // no node reads the script
				}
			}
		}
		if bytes.Contains(text, []byte("__webpack_require__")) {
			continue // a bundle: its modules run when the bundle requires them, if ever
		}
		if w.resolver == "" && resolverCode(text) {
			w.resolver = p.rel(script)
		}
		found := topLevelImports(text, script)
		from := len(w.misses)
		more := k.judgeScript(script, found)
		if isTypeScript(script) || isTSX(script) {
			k.judgeTypeScript(script, text, found, from)
		}
		if !more {
			return w
		}
	}
	return w
}

// judgeScript judges how node reads a script of the app and what it loads;
// false when the walk must end.
func (k *importWalker) judgeScript(script string, found scripted) bool {
	misread := k.p.misread(script, found, k.scopes)
	k.w.misses = append(k.w.misses, misread...)
	if last := len(misread) - 1; last >= 0 && misread[last].err.(*formatError).esm && !misread[last].err.(*formatError).global {
		// node stops at its first use of require or exports, in every
		// era; __dirname read, it has linked what the module imports.
		return true
	}
	for _, imp := range found.imports {
		if !k.follow(imp, filepath.Dir(script)) {
			return false
		}
	}
	return true
}

// judgeTypeScript narrows what was found in a TypeScript file, the misses
// from on, to the nodes that run it (those that strip types), adds what
// their stripping refuses, and, where node first reaches it from
// JavaScript (or as the entry), what the nodes that run no TypeScript do
// with it.
func (k *importWalker) judgeTypeScript(script string, text []byte, found scripted, from int) {
	w := k.w
	runs := eraStrips // the nodes that run it
	if isTSX(script) {
		runs = 0
	}
	kept := w.misses[:from]
	for _, m := range w.misses[from:] {
		if m.eras &= runs; m.eras != 0 {
			kept = append(kept, m)
		}
	}
	w.misses = kept
	ts := scanTypeScript(text)
	if ts.unsupported > 0 && runs != 0 {
		w.misses = append(w.misses, miss{appImport{script: script, line: ts.unsupported}, &typeSyntaxError{script: script, what: ts.unsupportedWhat}, runs})
	}
	esm, first := k.loadedBy[script]
	if !first {
		return // loaded by TypeScript: where node runs none, that failed first
	}
	unrun := allEras &^ runs
	at := appImport{script: script, line: 1}
	switch {
	case esm:
		w.misses = append(w.misses, miss{at, &typeScriptUnrunError{file: script, extension: true}, unrun})
	case ts.typed > 0 && (found.esmLine == 0 || ts.typed < found.esmLine):
		at.line = ts.typed
		w.misses = append(w.misses, miss{at, &typeScriptUnrunError{file: script, line: ts.typed}, unrun})
	case found.esmLine > 0:
		// Read as CommonJS, an import statement ends it; the nodes that
		// tell an ES module by its syntax load it as one, and refuse .ts.
		at.line = found.esmLine
		w.misses = append(w.misses, miss{at, &typeScriptUnrunError{file: script, line: found.esmLine, statement: found.esmWord}, unrun & undetected})
		w.misses = append(w.misses, miss{at, &typeScriptUnrunError{file: script, extension: true}, unrun &^ undetected})
	}
}

// importWalker is a walk of the app's imports under way: what it has read
// and has yet to, and what every import is judged with.
type importWalker struct {
	p       *Preflight
	w       *importsWalk
	user    []string     // the conditions node's options add
	own     *packageJSON // the app's, when its "exports" let its code require it by its name; else nil
	scopes  map[string]scope
	modules moduleTexts     // the modules whose names the app imports, read once
	read    map[string]bool // the app's scripts queued, so each is read once
	queue   []string
	// loadedBy is how node first loads each of the app's TypeScript files
	// that it reaches from JavaScript or as the entry: true as an ES
	// module, false as require() does.
	loadedBy map[string]bool
	broken   map[string]bool // the package.json files that are not JSON, each said once
}

// follow judges one import made from the folder dir, and queues the app's
// own script it loads; false when the walk must end (a shortage of the
// launcher's own, in w.done).
func (k *importWalker) follow(imp appImport, dir string) bool {
	p, w := k.p, k.w
	file, bare := imp.pre.Where()
	if name := packageName(bare); w.resolver == "" && slices.Contains(resolvers, name) {
		w.resolver = name + ", which " + p.importer(imp) + " loads,"
	}
	subpathImport := strings.HasPrefix(bare, "#") // the package's own "imports" map
	// The app by its own name, through its "exports", from a script whose
	// package.json is the app's; from under another, node looks in
	// node_modules, as for any package.
	selfReference := bare != "" && k.own != nil && packageName(bare) == k.own.Name &&
		p.scopeOf(dir, k.scopes).packageJSON == filepath.Join(p.app, "package.json")
	if bare != "" && w.pnp {
		return true // Plug'n'Play's resolution: not followed
	}
	if imp.assertion {
		w.misses = append(w.misses, miss{imp, &attributeError{assertion: true}, noAssert})
	}
	if s := imp.pre.Scheme(); s != "" && s != "file" && s != "data" && s != "node" {
		// node's loader fetches nothing (https:, http:): refused by every
		// release, unless Node 18 to 21 are told to fetch.
		if !slices.Contains(p.nodeWords(), "--experimental-network-imports") {
			w.misses = append(w.misses, miss{imp, &urlSchemeError{scheme: s}, allEras})
		}
		return true
	}
	if file == "" && bare == "" {
		if m, ok := builtins.Of(imp.pre.Spec); ok || builtins.Scheme(imp.pre.Spec) {
			packaged := false
			if !builtins.Scheme(imp.pre.Spec) {
				_, _, err := p.resolveBare(dir, imp.pre, conditionsFor(imp.pre.ESM(), false, k.user))
				packaged = err == nil
			}
			w.builtins = append(w.builtins, builtinImport{imp, m, packaged})
			return true
		}
	}
	// What each era finds: a package's "exports" may hold a "module-sync"
	// condition, matched only where require() loads ES modules.
	type finding struct {
		found string
		err   error
		eras  era
	}
	var findings []finding
	var pj *packageJSON // a package's, as found
	switch {
	case bare == "":
		found, err := p.resolveFrom(dir, imp.pre)
		findings = append(findings, finding{found, err, allEras})
	case subpathImport:
		found, err := p.resolveSubpathImport(imp.script, dir, imp.pre, conditionsFor(imp.pre.ESM(), false, k.user), k.scopes)
		if found == "" && err == nil {
			return true // a package's name, or a map node refuses: not judged
		}
		eras := allEras
		if ext := filepath.Ext(imp.script); errors.As(err, new(*packageConfigError)) && (ext == ".js" || ext == ".ts") {
			eras = readerEras // the eras before fail as they read the script's scope, said once for the file
		}
		findings = append(findings, finding{found, err, eras})
	case selfReference:
		found, err := p.resolveSubpath(p.app, k.own, "."+strings.TrimPrefix(bare, k.own.Name), imp.pre.ESM(), conditionsFor(imp.pre.ESM(), false, k.user))
		if found == p.app && err == nil {
			return true // "exports" node refuses: not judged
		}
		findings = append(findings, finding{found, err, allEras})
	default:
		found, pkgJSON, err := p.resolvePackageSpec(dir, imp.pre, conditionsFor(imp.pre.ESM(), false, k.user))
		if err == nil && pkgJSON == nil {
			// found is the package's folder when its package.json was not
			// read: node fails on one it cannot read as it resolves it.
			var broken *packageConfigError
			if _, readErr := readPackageJSON(p.fsys, found); errors.As(readErr, &broken) {
				findings = append(findings, finding{"", broken, broken.resolving("exports")})
				break
			}
		}
		findings = append(findings, finding{found, err, allEras})
		if pj = pkgJSON; pj == nil {
			pj = &packageJSON{}
		}
		if err == nil && bytes.Contains(pj.Exports, []byte(`"module-sync"`)) {
			syncFound, _, syncErr := p.resolveBare(dir, imp.pre, conditionsFor(imp.pre.ESM(), true, k.user))
			findings = []finding{{found, err, allEras &^ requiresESM}, {syncFound, syncErr, requiresESM}}
		}
		if refused := pj.refused; err == nil && refused != nil {
			// JSON.parse reads it, node 22's reader does not: each era
			// finds what it finds.
			for i := range findings {
				findings[i].eras &^= refused.eras
			}
			findings = append(findings, finding{"", refused, refused.eras})
		}
	}
	for _, f := range findings {
		if f.err != nil && p.noteShortage(f.err) {
			w.done = &Check{Name: "imports", Status: StatusFail, Detail: fmt.Sprintf("%s: cannot be checked now: %v", p.importer(imp), describeFileError(f.err)), Hint: shortageHint}
			return false
		}
		switch {
		case f.err != nil:
			w.misses = append(w.misses, miss{imp, f.err, f.eras})
			continue
		case bare != "" && !subpathImport && !selfReference && w.packages[packageName(bare)] == nil:
			w.packages[packageName(bare)] = pj
		}
		if imp.pre.ESM() && filepath.Ext(f.found) == ".json" && !strings.Contains(imp.attributes, "json") {
			w.misses = append(w.misses, miss{imp, &attributeError{url: "file://" + f.found}, f.eras})
		}
		if named := p.namesMissing(f.found, imp.names, k.user, w.flagged, k.scopes, k.modules); named != nil {
			named.spec = imp.pre.Spec
			w.misses = append(w.misses, miss{imp, named, f.eras})
		}
		if isTypeScript(f.found) && inNodeModules(f.found) {
			// A package's TypeScript: node strips no types under
			// node_modules, and where it strips none, import refuses
			// the extension.
			if f.eras&eraStrips != 0 {
				w.misses = append(w.misses, miss{imp, &strippedInNodeModulesError{file: f.found}, f.eras & eraStrips})
			}
			if imp.pre.ESM() && f.eras&^eraStrips != 0 {
				w.misses = append(w.misses, miss{imp, &typeScriptUnrunError{file: f.found, extension: true}, f.eras &^ eraStrips})
			}
			continue
		}
		if !imp.pre.ESM() && p.esModule(f.found, k.scopes) {
			if refuse := f.eras &^ requiresESM; refuse != 0 {
				w.misses = append(w.misses, miss{imp, &requiredESMError{file: f.found, from: imp.script}, refuse})
			}
			if loads := f.eras & requiresESM; loads != 0 {
				if awaits, line := p.awaitingModule(f.found, k.user, k.scopes, k.modules); awaits != "" {
					w.misses = append(w.misses, miss{imp, &requiredAsyncError{file: f.found, awaits: awaits, line: line}, loads})
				}
			}
		}
	}
	if found, name := findings[0].found, packageName(bare); w.resolver == "" && bare != "" && !subpathImport && !selfReference && findings[0].err == nil &&
		isScript(found) && !instrumenter(name) {
		// A package that registers hooks where it loads (extensionless's
		// register): its entry's own text, as for the app's scripts.
		if m, ok := k.modules.read(p, found); ok && resolverCode(m.text) {
			w.resolver = name + ", which " + p.importer(imp) + " loads,"
		}
	}
	if found := findings[0].found; (file != "" || subpathImport || selfReference) && findings[0].err == nil && isScript(found) && !inNodeModules(found) && !k.read[found] {
		k.read[found] = true
		k.queue = append(k.queue, found)
		if (isTypeScript(found) || isTSX(found)) && !isTypeScript(imp.script) && !isTSX(imp.script) {
			k.loadedBy[found] = imp.pre.ESM()
		}
	}
	return true
}

// judgeImports is the imports check once node's version is known: the
// misses of its era, or, with the version unknown or a module flag set,
// those of every era.
func (p *Preflight) judgeImports(w importsWalk, node *NodeInfo) Check {
	if w.done != nil {
		return *w.done
	}
	c := Check{Name: "imports", Status: StatusPass}
	var now era
	if node != nil && node.versionKnown() && !w.flagged {
		now = eraOf(node.major, node.minor)
	}
	all := w.misses
	if w.resolver != "" {
		all = p.compiledByLoader(all)
	}
	var misses []miss
	for _, m := range all {
		if m.eras == allEras || m.eras&now != 0 {
			misses = append(misses, m)
		}
	}
	if node != nil && node.versionKnown() && w.addsBuiltins == "" {
		misses = append(misses, builtinMisses(w.builtins, node.Version)...)
	}
	if len(misses) > 0 {
		// Said once the walk is over: a resolver found later makes every
		// one a warning.
		var said []string
		fix := importFixes{node: "here"}
		if node != nil {
			fix.node = node.Version
		}
		for i, m := range misses {
			if i < maxMissesSaid {
				said = append(said, p.importMissing(m, now, w.resolver == ""))
			}
			p.noteFix(&fix, m)
		}
		if more := len(misses) - maxMissesSaid; more > 0 {
			said = append(said, fmt.Sprintf("and %d more", more))
		}
		c.Status = StatusFail
		c.Detail = strings.Join(said, "; ")
		c.Hint = p.fixText(fix)
		if w.resolver != "" {
			// It may find them: node's verdict is known only at the start.
			c.Status = StatusWarn
			c.Detail += fmt.Sprintf(", as node resolves and loads modules by itself; %s changes how it does, so whether node fails on them is known only at its start", w.resolver)
			c.Hint = "Unless it finds and loads them, node ends at every start with the errors said. " + c.Hint
		}
		return c
	}
	names := make([]string, 0, len(w.packages))
	for name := range w.packages {
		names = append(names, name)
	}
	sort.Strings(names)
	c.Detail = fmt.Sprintf("what the app loads at its start resolves: %d %s of its own, %d %s",
		w.files, plural.Word(w.files, "script", "scripts"), len(names), plural.Word(len(names), "package", "packages"))
	if len(names) > 0 {
		c.Detail += " (" + strings.Join(names, ", ") + ")"
	}
	if w.pnp {
		c.Detail += "; packages not checked: node resolves them through Yarn's Plug'n'Play"
	}
	if unjudged := builtinsUnjudged(w, node); unjudged != "" {
		c.Detail += "; " + unjudged
	}
	p.warnOfEngines(&c, w, names, node)
	return c
}

// warnOfEngines warns of the packages loaded whose own engines.node
// excludes node: unsupported, and some fail at their start (undici 7 and
// yargs 18 under Node 18), though npm only warned when it installed them
// under the builder's node.
func (p *Preflight) warnOfEngines(c *Check, w importsWalk, names []string, node *NodeInfo) {
	var excluding []string
	for _, name := range names {
		if pj := w.packages[name]; enginesExclude(pj, node) {
			excluding = append(excluding, fmt.Sprintf("%s %s declares engines.node %q", name, pj.Version, pj.Engines.Node))
		}
	}
	if len(excluding) == 0 {
		return
	}
	c.Status = StatusWarn
	c.Detail += fmt.Sprintf("; but %s, which %s node %s", strings.Join(excluding, ", "), plural.Word(len(excluding), "excludes", "exclude"), node.Version)
	c.Hint = fmt.Sprintf("Install versions whose engines include node %s (npm warns EBADENGINE when the builder stage runs that node), "+
		"or give the runtime a node they support, with the backend-builder stage on the same Node major.", node.Version)
}

// readScript reads a script of the app; false for what is too large to be
// the app's own code, or unreadable (the entry check, or node, says so).
func readScript(fsys *files, path string) ([]byte, bool) {
	f, st, err := fsys.open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if st.Size() > appScriptBytes {
		return nil, false
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, false
	}
	return b, true
}

// importMissing says which import node would fail on, or which script it
// would not run, and, when judged, node's words in era now.
func (p *Preflight) importMissing(m miss, now era, judged bool) string {
	where := p.importer(m.imp)
	if m.imp.from != "" {
		where += " (" + m.imp.pre.Option + ")"
	} else {
		where += fmt.Sprintf(":%d", m.imp.line)
	}
	var format *formatError
	var stripped *typeSyntaxError
	var unrun *typeScriptUnrunError
	var broken *packageConfigError
	switch {
	case errors.As(m.err, &broken) && m.imp.pre.Spec == "":
		return fmt.Sprintf("%s, which node reads to load %s, %s (node would fail at every start with: %s)", p.rel(broken.file), p.rel(m.imp.script), broken.describe(now), broken.said(now, true))
	case errors.As(m.err, &format):
		return fmt.Sprintf("%s %s (node would fail at every start with: %v)", where, p.misreadText(format), format)
	case errors.As(m.err, &stripped):
		return fmt.Sprintf("%s is a TypeScript %s, which node's type stripping does not compile (node would fail at every start with: %v)", where, stripped.what, stripped)
	case errors.As(m.err, &unrun) && m.imp.pre.Spec == "" && isTSX(unrun.file) && unrun.extension:
		return fmt.Sprintf("%s is TypeScript with JSX, which no node runs (node would fail at every start with: %v)", p.rel(unrun.file), unrun)
	case errors.As(m.err, &unrun) && m.imp.pre.Spec == "" && isTSX(unrun.file):
		return fmt.Sprintf("%s is TypeScript with JSX, which no node runs; node reads it as JavaScript, which its line %d is not (node would fail at every start with: %v)", p.rel(unrun.file), unrun.line, unrun)
	case errors.As(m.err, &unrun) && m.imp.pre.Spec == "" && unrun.extension:
		return fmt.Sprintf("%s is TypeScript, which node runs only from 22.18 and 23.6 on (node would fail at every start with: %v)", p.rel(unrun.file), unrun)
	case errors.As(m.err, &unrun) && m.imp.pre.Spec == "":
		return fmt.Sprintf("%s is TypeScript, which node runs only from 22.18 and 23.6 on; node reads it as JavaScript, which its line %d is not (node would fail at every start with: %v)", p.rel(unrun.file), unrun.line, unrun)
	}
	verb := "requires"
	switch {
	case m.imp.from != "":
		verb = "preloads"
	case m.imp.pre.ESM():
		verb = "imports"
	}
	var required *requiredESMError
	var async *requiredAsyncError
	var attribute *attributeError
	var scheme *urlSchemeError
	var named *namedExportError
	var builtin *builtinError
	var inPackage *strippedInNodeModulesError
	switch {
	case errors.As(m.err, &broken):
		return fmt.Sprintf("%s %s %q, whose %s %s (node would fail at every start with: %s)", where, verb, m.imp.pre.Spec, p.rel(broken.file), broken.describe(now), broken.said(now, !m.imp.pre.ESM()))
	case errors.As(m.err, &builtin) && len(builtin.names) > 0:
		return fmt.Sprintf("%s imports %s from %q, which node %s's %s does not export (node would fail at every start with: %v)",
			where, strings.Join(builtin.names, ", "), m.imp.pre.Spec, builtin.node, builtin.module.ID, builtin)
	case errors.As(m.err, &builtin):
		return fmt.Sprintf("%s %s %q, a module of node's that node %s does not have (node would fail at every start with: %v)",
			where, verb, m.imp.pre.Spec, builtin.node, builtin)
	case errors.As(m.err, &attribute):
		return fmt.Sprintf("%s %s %q (node would fail at every start with: %s)", where, verb, m.imp.pre.Spec, attribute.said(now))
	case errors.As(m.err, &scheme):
		return fmt.Sprintf("%s %s %q, a URL node's loader does not fetch (node would fail at every start with: %s)", where, verb, m.imp.pre.Spec, scheme.said(now))
	case errors.As(m.err, &named) && named.commonJS:
		return fmt.Sprintf("%s imports %s from %q, a CommonJS module in which node finds no such %s (node would fail at every start with: %v)",
			where, strings.Join(named.names, ", "), m.imp.pre.Spec, plural.Word(len(named.names), "export", "exports"), named)
	case errors.As(m.err, &named):
		return fmt.Sprintf("%s imports %s from %q, an ES module that exports no such %s (node would fail at every start with: %v)",
			where, strings.Join(named.names, ", "), m.imp.pre.Spec, plural.Word(len(named.names), "name", "names"), named)
	case errors.As(m.err, &required):
		return fmt.Sprintf("%s %s %q, an ES module (node would fail at every start with: %v)", where, verb, m.imp.pre.Spec, required)
	case errors.As(m.err, &async):
		return fmt.Sprintf("%s %s %q, an ES module whose graph awaits at its top level (%s:%d) (node would fail at every start with: %v)",
			where, verb, m.imp.pre.Spec, p.rel(async.awaits), async.line, async)
	case errors.As(m.err, &unrun), errors.As(m.err, &inPackage):
		return fmt.Sprintf("%s %s %q, a package's TypeScript (node would fail at every start with: %v)", where, verb, m.imp.pre.Spec, m.err)
	case !judged:
		return fmt.Sprintf("%s %s %q, not found", where, verb, m.imp.pre.Spec)
	}
	said := p.preloadError(p.importDir(m.imp), m.imp.pre, m.err)
	return fmt.Sprintf("%s %s %q, which does not resolve (node would fail at every start with: %s)", where, verb, m.imp.pre.Spec, said)
}

// importFixes gathers the causes of the imports node would fail on, each
// fixed once however many imports it explains.
type importFixes struct {
	dev, absent, aliases []string // packages: in devDependencies, not installed; path aliases
	extension            []string // ES imports without their extension: the file meant
	folder, files        bool     // ES imports of a folder; relative files not found
	notExported          []string // specifiers a package's "exports" does not map, with the package's version
	incomplete           []string // packages without a file their package.json names, or the app requires
	esm                  []string // ES modules required, packages with their version
	async                []string // ES modules required whose graph awaits at its top level, likewise
	preloadedESM         []string // ES modules preloaded by --require: the option as written, and where
	subpathImports       []string // "#…" specifiers the app's "imports" does not map to a file in the image
	selfHidden           []string // folders whose nearer package.json hides the app's own name from their scripts
	cjsUnderModule       []string // what makes node read the app's CommonJS as ES modules
	esmAsCommonJS        []string // what makes node read the app's ES modules as CommonJS
	mixed                []string // scripts that hold both import and require
	esmPaths             []string // __dirname, __filename read at an ES module's top level, and where
	esmRequire           []string // require or module read so (require.main === module), likewise
	detects              bool     // newer nodes would tell the app's ES modules by themselves
	named                []string // names imported from CommonJS modules that node cannot find in them
	unexported           []string // names imported from ES modules that do not export them
	builtins             []string // node's modules and names the release at hand lacks, with the releases that have them
	noBuiltins           []string // node's modules and names no release has
	assertion, json      bool     // import assertions; JSON modules imported without their attribute
	fetched              []string // URLs imported that node's loader does not fetch
	unrun                []string // TypeScript files node would run, where it runs no TypeScript
	tsx                  []string // .tsx files node would run: no node does
	stripOnly            []string // TypeScript node's type stripping does not compile: what, where
	tsPackages           []string // packages whose TypeScript node would load from node_modules
	tsSources            []string // the .ts a TypeScript file's import or require means
	tsAliases            []string // path aliases in TypeScript node runs, which reads no tsconfig.json
	broken               []string // package.json files that are not JSON
	node                 string   // node's version
}

// noteFix files the cause of a miss.
func (p *Preflight) noteFix(f *importFixes, m miss) {
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	var (
		format      *formatError
		required    *requiredESMError
		async       *requiredAsyncError
		notExported *notExportedError
		missingFile *missingFileError
	)
	var attribute *attributeError
	var scheme *urlSchemeError
	var named *namedExportError
	var builtin *builtinError
	var stripped *typeSyntaxError
	var unrun *typeScriptUnrunError
	var inPackage *strippedInNodeModulesError
	var broken *packageConfigError
	_, bare := m.imp.pre.Where()
	dir := p.importDir(m.imp)
	switch {
	case errors.As(m.err, &broken):
		add(&f.broken, p.rel(broken.file))
	case errors.As(m.err, &stripped):
		add(&f.stripOnly, fmt.Sprintf("the %s at %s:%d", stripped.what, p.rel(m.imp.script), m.imp.line))
	case bare != "" && (errors.As(m.err, &unrun) || errors.As(m.err, &inPackage)):
		add(&f.tsPackages, p.packageLabel(dir, packageName(bare)))
	case errors.As(m.err, &unrun) && isTSX(unrun.file):
		add(&f.tsx, p.rel(unrun.file))
	case errors.As(m.err, &unrun):
		add(&f.unrun, p.rel(unrun.file))
	case m.imp.from != "" && (errors.As(m.err, &required) || errors.As(m.err, &async)):
		add(&f.preloadedESM, fmt.Sprintf("%s %s in %s", m.imp.pre.Option, m.imp.pre.Spec, m.imp.from))
	case errors.As(m.err, &builtin):
		elsewhere, nowhere := builtin.lacking()
		for _, s := range elsewhere {
			add(&f.builtins, s)
		}
		for _, s := range nowhere {
			add(&f.noBuiltins, s)
		}
	case errors.As(m.err, &attribute) && attribute.assertion:
		f.assertion = true
	case errors.As(m.err, &attribute):
		f.json = true
	case errors.As(m.err, &scheme), strings.HasPrefix(bare, "https://"), strings.HasPrefix(bare, "http://"):
		add(&f.fetched, m.imp.pre.Spec) // required, a URL is a package's name node does not find
	case errors.As(m.err, &named) && named.commonJS:
		add(&f.named, fmt.Sprintf("%s from %q", strings.Join(named.names, ", "), m.imp.pre.Spec))
	case errors.As(m.err, &named):
		add(&f.unexported, fmt.Sprintf("%s from %q", strings.Join(named.names, ", "), m.imp.pre.Spec))
	case errors.As(m.err, &format) && format.global && strings.HasPrefix(format.word, "__"):
		add(&f.esmPaths, fmt.Sprintf("%s at %s:%d", format.word, p.rel(format.script), m.imp.line))
	case errors.As(m.err, &format) && format.global:
		add(&f.esmRequire, fmt.Sprintf("%s at %s:%d", format.word, p.rel(format.script), m.imp.line))
	case errors.As(m.err, &format) && format.mixed:
		add(&f.mixed, p.rel(format.script))
	case errors.As(m.err, &format) && format.esm:
		add(&f.cjsUnderModule, p.scopeText(format))
	case errors.As(m.err, &format):
		add(&f.esmAsCommonJS, p.scopeText(format))
		f.detects = f.detects || format.typeless
	case errors.As(m.err, &required) && bare != "":
		add(&f.esm, p.packageLabel(dir, packageName(bare)))
	case errors.As(m.err, &required):
		add(&f.esm, p.rel(required.file))
	case errors.As(m.err, &async) && bare != "":
		add(&f.async, p.packageLabel(dir, packageName(bare)))
	case errors.As(m.err, &async):
		add(&f.async, p.rel(async.file))
	case strings.HasPrefix(bare, "#"):
		add(&f.subpathImports, bare)
	case errors.As(m.err, &notExported):
		add(&f.notExported, fmt.Sprintf("%q (%s)", bare, p.packageLabel(dir, packageName(bare))))
	case errors.As(m.err, &missingFile):
		add(&f.incomplete, p.packageLabel(dir, packageName(bare)))
	case bare != "" && (strings.HasPrefix(bare, "@/") || strings.HasPrefix(bare, "~/")) && isTypeScript(m.imp.script):
		add(&f.tsAliases, bare)
	case bare != "" && (strings.HasPrefix(bare, "@/") || strings.HasPrefix(bare, "~/")):
		add(&f.aliases, bare)
	case bare != "":
		name := packageName(bare)
		pj, perr := readPackageJSON(p.fsys, p.app)
		switch {
		case perr == nil && pj.Name == name && len(pj.Exports) > 0:
			add(&f.selfHidden, p.rel(filepath.Dir(p.scopeOf(dir, map[string]scope{}).packageJSON)))
		case perr == nil && pj.DevDependencies[name] != "":
			add(&f.dev, name)
		default:
			add(&f.absent, name)
		}
	case errors.Is(m.err, errNotAFile):
		f.folder = true
	case isTypeScript(m.imp.script) && p.typeScriptSource(dir, m.imp.pre) != "":
		add(&f.tsSources, p.typeScriptSource(dir, m.imp.pre))
	default:
		if alt := p.importExtension(dir, m.imp.pre); alt != "" {
			add(&f.extension, alt)
		} else {
			f.files = true
		}
	}
}

// fixText is the fix of every cause noted, in one text.
func (p *Preflight) fixText(f importFixes) string {
	var out []string
	if len(f.broken) > 0 {
		mend := "Make %s valid JSON, saved as UTF-8 (a trailing comma, a comment, a missing quote, a tab inside a string or another encoding breaks it): node reads %s before it loads anything under %s."
		if slices.ContainsFunc(f.broken, func(file string) bool { return inNodeModules("/" + file) }) { // relative to the app, or absolute
			mend = "Install the packages again (`npm ci` in the builder stage) and make %s valid JSON, saved as UTF-8 (a trailing comma, a comment, a missing quote, a tab inside a string or another encoding breaks it): node reads %s before it loads anything under %s."
		}
		out = append(out, fmt.Sprintf(mend, strings.Join(f.broken, ", "), plural.Word(len(f.broken), "it", "each"), plural.Word(len(f.broken), "it", "one")))
	}
	if len(f.dev) > 0 {
		out = append(out, fmt.Sprintf("%s %s in package.json's devDependencies, which `npm prune --omit=dev` (or `npm ci --omit=dev`) leaves out of the image: move %s to dependencies.",
			strings.Join(f.dev, ", "), plural.Word(len(f.dev), "is", "are"), plural.Word(len(f.dev), "it", "them")))
	}
	if len(f.absent) > 0 {
		out = append(out, fmt.Sprintf("Install %s in the image: list %s in package.json's dependencies, and copy node_modules from the builder stage (`COPY --from=backend-builder /build/node_modules/ %s/node_modules/`).",
			strings.Join(f.absent, ", "), plural.Word(len(f.absent), "it", "them"), p.AppDir))
	}
	if len(f.aliases) > 0 {
		out = append(out, fmt.Sprintf("%s %s a TypeScript path alias (compilerOptions.paths), which tsc does not rewrite: import by a relative path, or rewrite them at build (tsc-alias).",
			strings.Join(f.aliases, ", "), plural.Word(len(f.aliases), "looks like", "look like")))
	}
	if len(f.extension) > 0 {
		out = append(out, fmt.Sprintf("import adds no extension: name the file, %s (tsc: \"module\": \"nodenext\" requires it in the source).", strings.Join(f.extension, ", ")))
	}
	if f.folder {
		out = append(out, "import takes no folder: name the file, its index.js.")
	}
	if f.files {
		out = append(out, fmt.Sprintf("Copy the whole compiled output into the image (`COPY --from=backend-builder /build/dist/ %s/dist/`), not some of its files.", p.AppDir))
	}
	if len(f.selfHidden) > 0 {
		out = append(out, fmt.Sprintf("The app requires itself by its name from under %s, whose package.json is nearer than the app's: node resolves the name through the app's \"exports\" only from scripts under the app's own package.json. Require the file by a relative path there.",
			strings.Join(f.selfHidden, ", ")))
	}
	if len(f.subpathImports) > 0 {
		out = append(out, fmt.Sprintf("%s: package.json's \"imports\" must map %s to a file in the image: add what is missing, map to what the compiler emits (./dist/…/*.js, not the sources in ./src), and copy package.json and the compiled output whole.",
			strings.Join(f.subpathImports, ", "), plural.Word(len(f.subpathImports), "it", "each")))
	}
	if len(f.notExported) > 0 {
		out = append(out, fmt.Sprintf("%s: not among what the installed package exports (its package.json's \"exports\"): load what it exports, as its documentation says, or install the version the code was written for.",
			strings.Join(f.notExported, ", ")))
	}
	if len(f.incomplete) > 0 {
		out = append(out, fmt.Sprintf("%s %s a file the app loads, or one its package.json names: reinstall it in the builder stage (`npm ci`) and copy node_modules whole; if the code was written for another version of it, install that one.",
			strings.Join(f.incomplete, ", "), plural.Word(len(f.incomplete), "lacks", "lack")))
	}
	if len(f.esm) > 0 {
		out = append(out, fmt.Sprintf("%s %s, which require() loads only from Node 20.19 and 22.12 on, not in node %s: load %s with import(), install the last version that is CommonJS, or run a newer node.",
			strings.Join(f.esm, ", "), plural.Word(len(f.esm), "is an ES module", "are ES modules"), f.node, plural.Word(len(f.esm), "it", "them")))
	}
	if len(f.async) > 0 {
		out = append(out, fmt.Sprintf("%s %s at the top level of %s ES module graph, which require() cannot wait for: load %s with `await import()` in an async function, install a version that does not (the last CommonJS one), or make the app an ES module (tsc's \"module\": \"nodenext\" and \"type\": \"module\").",
			strings.Join(f.async, ", "), plural.Word(len(f.async), "awaits", "await"), plural.Word(len(f.async), "its", "their"), plural.Word(len(f.async), "it", "them")))
	}
	if len(f.preloadedESM) > 0 {
		out = append(out, fmt.Sprintf("node preloads an ES module with require() (%s): preload it with --import instead, which loads an ES module in every node and waits for its top-level await.",
			strings.Join(f.preloadedESM, ", ")))
	}
	if len(f.cjsUnderModule) > 0 {
		out = append(out, fmt.Sprintf("%s: node reads the app's CommonJS (tsc's \"module\": \"commonjs\") as ES modules; remove \"type\": \"module\" from package.json, or have tsc emit ES modules (\"module\": \"nodenext\"), or name the CommonJS files .cjs.",
			strings.Join(f.cjsUnderModule, ", ")))
	}
	if len(f.esmAsCommonJS) > 0 {
		fix := fmt.Sprintf("%s: node reads the app's ES modules (import, export) as CommonJS; set \"type\": \"module\" in package.json, or have tsc emit CommonJS (\"module\": \"commonjs\"), or name the ES module files .mjs.",
			strings.Join(f.esmAsCommonJS, ", "))
		if f.detects {
			fix += " (Node 20.19, 22.7 and later tell an ES module by its syntax where package.json has no \"type\".)"
		}
		out = append(out, fix)
	}
	if len(f.esmPaths) > 0 {
		out = append(out, fmt.Sprintf("An ES module has no __dirname or __filename (%s), though tsc passes them (@types/node declares them for every module): use import.meta.dirname and import.meta.filename (Node 20.11 and later), or `const __dirname = path.dirname(fileURLToPath(import.meta.url));` above the first use.",
			strings.Join(f.esmPaths, ", ")))
	}
	if len(f.esmRequire) > 0 {
		out = append(out, fmt.Sprintf("An ES module has no require or module (%s): import what it requires, or make a require with `const require = createRequire(import.meta.url);` (node:module); for `require.main === module`, compare import.meta.filename with process.argv[1].",
			strings.Join(f.esmRequire, ", ")))
	}
	if len(f.mixed) > 0 {
		out = append(out, fmt.Sprintf("%s %s both import and require (or exports): write %s in one module system; node reads a script under no \"type\" that holds import or export as an ES module, where require and exports are not defined.",
			strings.Join(f.mixed, ", "), plural.Word(len(f.mixed), "holds", "hold"), plural.Word(len(f.mixed), "it", "each")))
	}
	if len(f.named) > 0 {
		out = append(out, fmt.Sprintf("Take %s out of its module's default export (`import pkg from \"x\"; const { a } = pkg;`), or import the package's ES module build if it has one: node names a CommonJS module's exports before any of its code runs, from its text alone (exports.a = …, module.exports = { a }), and cannot name these.",
			strings.Join(f.named, "; ")))
	}
	if len(f.unexported) > 0 {
		out = append(out, fmt.Sprintf("Import only what each module exports (%s: not exported). A TypeScript type or interface is no export once compiled: import it with `import type` (esbuild, swc and tsx compile each file alone and keep an import they cannot tell is a type's), or install the version of the package the code was written for.",
			strings.Join(f.unexported, "; ")))
	}
	if len(f.builtins) > 0 {
		out = append(out, fmt.Sprintf("Node %s lacks %s: the code was written for another node. Give the runtime stage a node that has %s (its base image, whose nodejs package sets the version), or keep the code to what node %s has.",
			f.node, strings.Join(f.builtins, ", "), plural.Word(len(f.builtins), "it", "them"), f.node))
	}
	if len(f.noBuiltins) > 0 {
		out = append(out, fmt.Sprintf("No release of node has %s: correct the import (a misspelt name, or a package's name after node:).",
			strings.Join(f.noBuiltins, ", ")))
	}
	if f.assertion {
		out = append(out, "Node 22 and later refuse import assertions: write `with { type: \"json\" }` where the source says `assert { type: \"json\" }` (tsc emits what the source says).")
	}
	if f.json {
		out = append(out, "import loads a JSON file only with its attribute: `import data from \"./data.json\" with { type: \"json\" };`.")
	}
	if len(f.fetched) > 0 {
		out = append(out, fmt.Sprintf("Node loads modules from files only, and fetches none from the network (%s): install the package from npm and import it by its name, or copy the file into the image and import it by its path.",
			strings.Join(f.fetched, ", ")))
	}
	if len(f.unrun) > 0 {
		out = append(out, fmt.Sprintf("Node %s runs no TypeScript (%s): node strips types only from 22.18 and 23.6 on. Run what tsc compiles (copy dist/ into the image, and make the entry dist/index.js), or give the runtime stage node 22.18 or later.",
			f.node, strings.Join(f.unrun, ", ")))
	}
	if len(f.tsx) > 0 {
		out = append(out, fmt.Sprintf("No node runs TypeScript with JSX (%s): node strips types from .ts, .mts and .cts only. Run what tsc compiles (copy dist/ into the image, and make the entry dist/index.js), or name the file .ts if it holds no JSX.",
			strings.Join(f.tsx, ", ")))
	}
	if len(f.stripOnly) > 0 {
		out = append(out, fmt.Sprintf("node strips TypeScript's types and compiles nothing (%s): write only what erasing the types leaves as JavaScript (an object `as const` for an enum, fields assigned in the constructor for parameter properties, modules for namespaces, import and export for `import =` and `export =`; tsc's \"erasableSyntaxOnly\" points at each), or run what tsc compiles, which a decorator needs.",
			strings.Join(f.stripOnly, ", ")))
	}
	if len(f.tsPackages) > 0 {
		out = append(out, fmt.Sprintf("%s %s TypeScript, whose types node strips nowhere under node_modules: install a version that ships JavaScript, or load its compiled build.",
			strings.Join(f.tsPackages, ", "), plural.Word(len(f.tsPackages), "ships", "ship")))
	}
	if len(f.tsAliases) > 0 {
		out = append(out, fmt.Sprintf("%s %s a TypeScript path alias (compilerOptions.paths), and node reads no tsconfig.json: import by a relative path, or map the alias in package.json's \"imports\" (\"#src/*\": \"./src/*\") and import \"#src/…\", which node resolves.",
			strings.Join(f.tsAliases, ", "), plural.Word(len(f.tsAliases), "looks like", "look like")))
	}
	if len(f.tsSources) > 0 {
		out = append(out, fmt.Sprintf("node runs the TypeScript as written, and neither require nor import looks for a .ts in place of what a specifier names: name the file, %s (tsc's \"allowImportingTsExtensions\", and \"rewriteRelativeImportExtensions\" to compile it back to .js).",
			strings.Join(f.tsSources, ", ")))
	}
	return strings.Join(out, " ")
}

// typeScriptSource is the specifier of the TypeScript file a specifier
// that does not resolve means, from a TypeScript file: ./db.ts for ./db.js
// or ./db; "" when there is none.
func (p *Preflight) typeScriptSource(dir string, pre nodeopts.Preload) string {
	file, _ := pre.Where()
	if file == "" {
		return ""
	}
	stem, spec, alts := file, pre.Spec, []string{".ts", ".mts", ".cts"}
	switch ext := filepath.Ext(file); ext {
	case ".js", ".mjs", ".cjs":
		stem, spec = strings.TrimSuffix(file, ext), strings.TrimSuffix(spec, ext)
		alts = []string{strings.Replace(ext, "j", "t", 1)}
	}
	for _, alt := range alts {
		if p.fileIn(dir, stem+alt) {
			return spec + alt
		}
	}
	return ""
}

// packageLabel is a package as found from dir: its name and version.
func (p *Preflight) packageLabel(dir, name string) string {
	if pkg, _, err := resolvePackage(p.fsys, dir, name); err == nil {
		if pj, err := readPackageJSON(p.fsys, pkg); err == nil && pj.Version != "" {
			return name + "@" + pj.Version
		}
	}
	return name
}

// importer is what loads imp, for the report: the script, or where node
// was told to preload it.
func (p *Preflight) importer(imp appImport) string {
	if imp.from != "" {
		return imp.from
	}
	return p.rel(imp.script)
}

// importDir is the folder imp is resolved from: its script's, or node's
// working folder, the app's, for a preload.
func (p *Preflight) importDir(imp appImport) string {
	if imp.from != "" {
		return p.app
	}
	return filepath.Dir(imp.script)
}

// rel is path relative to the app folder, for the report.
func (p *Preflight) rel(path string) string {
	if r, err := filepath.Rel(p.app, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// packageName is the package a bare specifier names: its first part, or
// its first two for a scoped one.
func packageName(bare string) string {
	parts := strings.SplitN(bare, "/", 3)
	if strings.HasPrefix(bare, "@") && len(parts) >= 2 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// isScript reports whether node runs path as code: .js, .cjs, .mjs, and
// the TypeScript it strips the types of, .ts, .mts, .cts; and .tsx, which
// it may be told to run and never does.
func isScript(path string) bool {
	switch filepath.Ext(path) {
	case ".js", ".cjs", ".mjs":
		return true
	}
	return isTypeScript(path) || isTSX(path)
}

// inNodeModules reports whether path is inside a node_modules folder.
func inNodeModules(path string) bool {
	return strings.Contains(filepath.ToSlash(path), "/node_modules/")
}

// preloadedResolver names a module node preloads that changes how it
// resolves modules: module hooks (--loader), a resolver package, a
// package's ES module (which may register hooks: its files are not read),
// or a file of resolverCode; "" when none is. An instrumentation SDK's
// preload is none, nor is the app's own ES module that registers no hooks
// (Sentry's and OpenTelemetry's instrument.mjs): what the preload loads is
// judged by the walk as the app's other scripts are.
func (p *Preflight) preloadedResolver() string {
	for _, pre := range p.preloads() {
		if pre.err != nil {
			continue
		}
		named := fmt.Sprintf("%s %s (%s)", pre.Option, pre.Spec, pre.from)
		_, bare := pre.Where()
		switch name := packageName(bare); {
		case bare != "" && instrumenter(name):
			continue
		case slices.Contains(resolvers, name), pre.Hooks(), pre.ESM() && bare != "":
			return named
		}
		if found, err := p.resolvePreload(pre.Preload); err == nil && found != "" && isScript(found) {
			if text, ok := readScript(p.fsys, found); ok && resolverCode(text) {
				return named
			}
		}
	}
	return ""
}
