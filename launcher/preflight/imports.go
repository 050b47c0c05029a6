package preflight

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
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
	if err != nil {
		c.Detail = "not checked: the entry does not resolve (see the entry check)"
		return c
	}
	pnp := p.plugnPlay() != ""
	read := map[string]bool{entry: true}
	queue := []string{entry}
	packages := map[string]bool{}
	files := 0
	var missing, hints []string
	hinted := map[string]bool{}
	hint := func(h string) {
		if !hinted[h] {
			hinted[h] = true
			hints = append(hints, h)
		}
	}
	for len(queue) > 0 && files < appScripts {
		script := queue[0]
		queue = queue[1:]
		text, ok := readScript(p.fsys, script)
		if !ok {
			continue
		}
		files++
		for _, imp := range topLevelImports(text, script) {
			file, bare := imp.pre.Where()
			if bare != "" && (pnp || strings.HasPrefix(bare, "#")) {
				continue // Plug'n'Play's resolution, a package's own "imports" map: not followed
			}
			found, err := p.resolveFrom(filepath.Dir(script), imp.pre)
			if err != nil && p.noteShortage(err) {
				c.Status, c.Detail, c.Hint = StatusFail, fmt.Sprintf("%s: cannot be checked now: %v", p.rel(script), describeFileError(err)), shortageHint
				return c
			}
			switch {
			case err != nil:
				missing = append(missing, p.importMissing(imp, err))
				hint(p.importHint(imp, err))
			case bare != "":
				packages[packageName(bare)] = true
			case file != "" && isScript(found) && !inNodeModules(found) && !read[found]:
				read[found] = true
				queue = append(queue, found)
			}
		}
	}
	if len(missing) > 0 {
		c.Status = StatusFail
		c.Detail = strings.Join(missing, "; ")
		c.Hint = strings.Join(hints, " ")
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

// importMissing says which import does not resolve, and node's words.
func (p *Preflight) importMissing(imp appImport, err error) string {
	where := fmt.Sprintf("%s:%d", p.rel(imp.script), imp.line)
	verb := "requires"
	if imp.pre.ESM() {
		verb = "imports"
	}
	said := fmt.Sprintf("Cannot find module '%s'", imp.pre.Spec)
	switch file, bare := imp.pre.Where(); {
	case errors.Is(err, errNotAFile):
		said = "ERR_UNSUPPORTED_DIR_IMPORT, a folder"
	case imp.pre.ESM() && bare != "":
		said = fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find package '%s'", bare)
	case imp.pre.ESM():
		said = fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find module '%s'", filepath.Join(filepath.Dir(imp.script), file))
	}
	return fmt.Sprintf("%s %s %q, which does not resolve (node would fail at every start with: %s)", where, verb, imp.pre.Spec, said)
}

// importHint is the fix for an import that does not resolve.
func (p *Preflight) importHint(imp appImport, err error) string {
	file, bare := imp.pre.Where()
	if bare != "" {
		name := packageName(bare)
		if pj, perr := readPackageJSON(p.fsys, p.app); perr == nil {
			if _, dev := pj.DevDependencies[name]; dev {
				return fmt.Sprintf("%s is in package.json's devDependencies, which `npm prune --omit=dev` (or `npm ci --omit=dev`) leaves out of the image: move it to dependencies.", name)
			}
		}
		if strings.HasPrefix(bare, "@/") || strings.HasPrefix(bare, "~/") {
			return fmt.Sprintf("%s looks like a TypeScript path alias (compilerOptions.paths), which tsc does not rewrite: use a relative import, or a tool that rewrites them (tsc-alias).", bare)
		}
		return fmt.Sprintf("Install %s in the image: list it in package.json's dependencies, and copy node_modules from the builder stage (`COPY --from=backend-builder /build/node_modules/ %s/node_modules/`).", name, p.AppDir)
	}
	if imp.pre.ESM() && !errors.Is(err, errNotAFile) {
		base := filepath.Join(filepath.Dir(imp.script), file)
		var tried []string
		if found, _ := resolveFile(p.fsys, base, &tried); found != "" {
			return fmt.Sprintf("import adds no extension: name the file, %q (tsc: \"module\": \"nodenext\" requires it in the source).", "./"+filepath.Base(found))
		}
	}
	if errors.Is(err, errNotAFile) {
		return "import takes no folder: name the file, its index.js."
	}
	return fmt.Sprintf("Copy the whole compiled output into the image (`COPY --from=backend-builder /build/dist/ %s/dist/`), not some of its files.", p.AppDir)
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
