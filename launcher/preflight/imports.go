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
var topLevelImport = lazy(`^(?:import\s+(?:[\w$*{},\s]+?\s+from\s*)?|export\s+(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*|\}\s*from\s*)` +
	`["']([^"'\n]+)["']\s*(?:(?:with|assert)\s*\{[^}]*\}\s*)?;?\s*(?://.*)?$`)

// resolvers are packages that change how node resolves modules once
// loaded (an alias, a path mapping, a compiler's extensions): with one
// loaded first, a module the check does not find may be theirs to find.
var resolvers = []string{"module-alias", "tsconfig-paths", "ts-node", "tsx", "@babel/register", "esbuild-register",
	"@swc/register", "@swc-node/register", "app-module-path", "link-module-alias", "@esbuild-kit/cjs-loader", "@esbuild-kit/esm-loader"}

// resolverCode reports whether a script's text changes how node resolves
// modules itself: it replaces require's resolution, or registers hooks.
func resolverCode(text []byte) bool {
	return bytes.Contains(text, []byte("_resolveFilename")) || bytes.Contains(text, []byte("registerHooks"))
}

// maxMissesSaid bounds the imports a report names; the fix covers all.
const maxMissesSaid = 5

// appImport is one module a script of the app loads at its top level.
type appImport struct {
	script string // the script that loads it
	line   int
	pre    nodeopts.Preload // the specifier, and whether by require's rules (--require) or import's (--import)
}

// topLevelImports reads the modules a script loads at its top level, in
// their order. Lines inside a block comment or a template literal over
// several lines are passed over.
func topLevelImports(text []byte, script string) []appImport {
	var out []appImport
	inComment, inTemplate := false, false
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), len(text)+1)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		switch {
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
		// The expressions run only on lines that may match: most lines
		// of a script are neither.
		if !bytes.Contains(line, []byte("require(")) && line[0] != 'i' && line[0] != 'e' && line[0] != '}' {
			continue
		}
		if m := topLevelRequire.get().FindSubmatch(line); m != nil {
			out = append(out, appImport{script: script, line: n, pre: nodeopts.Preload{Option: "--require", Spec: string(m[1])}})
		} else if m := topLevelImport.get().FindSubmatch(line); m != nil {
			out = append(out, appImport{script: script, line: n, pre: nodeopts.Preload{Option: "--import", Spec: string(m[1])}})
		}
	}
	return out
}

// checkImports follows the app's top-level imports from the entry: each
// must resolve as node resolves it from the script that loads it, a
// package from the node_modules above that script.
func (p *Preflight) checkImports() Check {
	c := Check{Name: "imports", Status: StatusPass}
	entry, _, err := resolveEntry(p.fsys, p.app, p.Entry)
	switch {
	case err != nil:
		c.Detail = "not checked: the entry does not resolve (see the entry check)"
		return c
	case !isScript(entry):
		c.Detail = fmt.Sprintf("not checked: the entry, %s, is not JavaScript (.js, .cjs, .mjs): node, or a loader, reads its imports its own way", p.rel(entry))
		return c
	}
	pnp := p.plugnPlay() != ""
	resolver := p.preloadedResolver()
	self := "" // the app's own name, which its code may require it by
	if pj, err := readPackageJSON(p.fsys, p.app); err == nil && len(pj.Exports) > 0 {
		self = pj.Name
	}
	read := map[string]bool{entry: true}
	queue := []string{entry}
	packages := map[string]bool{}
	files := 0
	type miss struct {
		imp appImport
		err error
	}
	var misses []miss
	for len(queue) > 0 && files < appScripts {
		script := queue[0]
		queue = queue[1:]
		text, ok := readScript(p.fsys, script)
		if !ok {
			continue
		}
		files++
		if bytes.Contains(text, []byte("__webpack_require__")) {
			continue // a bundle: its modules run when the bundle requires them, if ever
		}
		if resolver == "" && resolverCode(text) {
			resolver = p.rel(script)
		}
		for _, imp := range topLevelImports(text, script) {
			file, bare := imp.pre.Where()
			if name := packageName(bare); resolver == "" && slices.Contains(resolvers, name) {
				resolver = name + ", which " + p.rel(script) + " loads,"
			}
			if bare != "" && (pnp || strings.HasPrefix(bare, "#") || packageName(bare) == self) {
				continue // Plug'n'Play's resolution, the app's own "imports" map or "exports": not followed
			}
			found, err := p.resolveFrom(filepath.Dir(script), imp.pre)
			if err != nil && p.noteShortage(err) {
				c.Status, c.Detail, c.Hint = StatusFail, fmt.Sprintf("%s: cannot be checked now: %v", p.rel(script), describeFileError(err)), shortageHint
				return c
			}
			switch {
			case err != nil:
				misses = append(misses, miss{imp, err})
			case bare != "":
				packages[packageName(bare)] = true
			case file != "" && isScript(found) && !inNodeModules(found) && !read[found]:
				read[found] = true
				queue = append(queue, found)
			}
		}
	}
	if len(misses) > 0 {
		// Said once the walk is over: a resolver found later makes every
		// one a warning.
		var said []string
		var fix importFixes
		for i, m := range misses {
			if i < maxMissesSaid {
				said = append(said, p.importMissing(m.imp, m.err, resolver == ""))
			}
			p.noteFix(&fix, m.imp, m.err)
		}
		if more := len(misses) - maxMissesSaid; more > 0 {
			said = append(said, fmt.Sprintf("and %d more", more))
		}
		c.Status = StatusFail
		c.Detail = strings.Join(said, "; ")
		c.Hint = p.fixText(fix)
		if resolver != "" {
			// It may find them: node's verdict is known only at the start.
			c.Status = StatusWarn
			c.Detail += fmt.Sprintf(", as node resolves modules by itself; %s changes how it resolves them, so whether node finds them is known only at its start", resolver)
			c.Hint = "If it does not find them, node ends with \"Cannot find module\" at every start. " + c.Hint
		}
		return c
	}
	names := make([]string, 0, len(packages))
	for name := range packages {
		names = append(names, name)
	}
	sort.Strings(names)
	c.Detail = fmt.Sprintf("what the app loads at its start resolves: %d %s of its own, %d %s",
		files, plural.Word(files, "script", "scripts"), len(names), plural.Word(len(names), "package", "packages"))
	if len(names) > 0 {
		c.Detail += " (" + strings.Join(names, ", ") + ")"
	}
	if pnp {
		c.Detail += "; packages not checked: node resolves them through Yarn's Plug'n'Play"
	}
	return c
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

// importMissing says which import does not resolve, and, when judged,
// node's words.
func (p *Preflight) importMissing(imp appImport, err error, judged bool) string {
	where := fmt.Sprintf("%s:%d", p.rel(imp.script), imp.line)
	verb := "requires"
	if imp.pre.ESM() {
		verb = "imports"
	}
	if !judged {
		return fmt.Sprintf("%s %s %q, not found", where, verb, imp.pre.Spec)
	}
	said := p.preloadError(filepath.Dir(imp.script), imp.pre, err)
	return fmt.Sprintf("%s %s %q, which does not resolve (node would fail at every start with: %s)", where, verb, imp.pre.Spec, said)
}

// importFixes gathers the causes of the imports that do not resolve, each
// fixed once however many imports it explains.
type importFixes struct {
	dev, absent, aliases []string // packages: in devDependencies, not installed; path aliases
	extension            []string // ES imports without their extension: the file meant
	folder, files        bool     // ES imports of a folder; relative files not found
}

// noteFix files the cause of an import that does not resolve.
func (p *Preflight) noteFix(f *importFixes, imp appImport, err error) {
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	_, bare := imp.pre.Where()
	switch {
	case bare != "" && (strings.HasPrefix(bare, "@/") || strings.HasPrefix(bare, "~/")):
		add(&f.aliases, bare)
	case bare != "":
		name := packageName(bare)
		if pj, perr := readPackageJSON(p.fsys, p.app); perr == nil && pj.DevDependencies[name] != "" {
			add(&f.dev, name)
		} else {
			add(&f.absent, name)
		}
	case errors.Is(err, errNotAFile):
		f.folder = true
	default:
		if alt := p.importExtension(filepath.Dir(imp.script), imp.pre); alt != "" {
			add(&f.extension, alt)
		} else {
			f.files = true
		}
	}
}

// fixText is the fix of every cause noted, in one text.
func (p *Preflight) fixText(f importFixes) string {
	var out []string
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
	return strings.Join(out, " ")
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

// isScript reports whether node runs path as code: .js, .cjs, .mjs.
func isScript(path string) bool {
	switch filepath.Ext(path) {
	case ".js", ".cjs", ".mjs":
		return true
	}
	return false
}

// inNodeModules reports whether path is inside a node_modules folder.
func inNodeModules(path string) bool {
	return strings.Contains(filepath.ToSlash(path), "/node_modules/")
}

// preloadedResolver names a module node preloads that changes how it
// resolves modules: ES module hooks (--import, --loader), a resolver
// package, or a file of resolverCode; "" when none is.
func (p *Preflight) preloadedResolver() string {
	for _, pre := range p.preloads() {
		if pre.err != nil {
			continue
		}
		named := fmt.Sprintf("%s %s (%s)", pre.Option, pre.Spec, pre.from)
		file, bare := pre.Where()
		if pre.Option != "--require" && pre.Option != "-r" && (file != "" || bare != "") {
			return named // an ES module preload may register resolve hooks
		}
		if slices.Contains(resolvers, packageName(bare)) {
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
