package preflight

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hasync/launcher/launcher/nodeopts"
	"github.com/hasync/launcher/launcher/regular"
)

// How node reads a package specifier (`require("pkg/sub")`, `import "pkg"`)
// once it has found the package's folder: through the package's "exports"
// when its package.json has one, under the conditions of the statement
// (require or import) and of the node; else through "main" or the file the
// subpath names. The app's own "#x" go through its package.json's
// "imports" the same way. And which module system reads the file found:
// CommonJS, or ES modules, which require() loads only from Node 20.19 and
// 22.12 on.
//
// Non-goals: the user's loaders and hooks, a "#x" mapped to a package, and
// a package's own code: what it requires is its business.

// era is a span of node versions alike in how they load modules, as a bit
// so that a verdict can name the spans it holds in.
type era uint8

const (
	// era18: before Node 20.19 (18, 20.0 to 20.18, 21): require()
	// refuses an ES module and a .js file under no "type" is CommonJS,
	// whatever it holds.
	era18 era = 1 << iota
	// era20: Node 20.19 and later 20s require() an ES module, match
	// "module-sync" in "exports", and tell an ES module under no "type" by
	// its syntax.
	era20
	// era22: Node 22.0 to 22.6 load modules as era18 does, and refuse
	// import assertions (`assert { type: "json" }`).
	era22
	// era22Detect: Node 22.7 to 22.11 also tell an ES module by its syntax;
	// require() still refuses one.
	era22Detect
	// eraNow: Node 22.12 to 22.17 and 23.0 to 23.5 load modules as era20
	// does, and refuse import assertions.
	eraNow
	// eraStrips: Node 22.18, 23.6 and later load modules as eraNow does,
	// and run TypeScript: they strip its types from a .ts, .mts or .cts.
	eraStrips

	allEras = era18 | era20 | era22 | era22Detect | eraNow | eraStrips
	// requiresESM are the eras whose require() loads an ES module (and
	// "exports" match "module-sync").
	requiresESM = era20 | eraNow | eraStrips
	// undetected are the eras that read a .js file under no "type" as
	// CommonJS whatever it holds.
	undetected = era18 | era22
	// noAssert are the eras that refuse import assertions.
	noAssert = era22 | era22Detect | eraNow | eraStrips
)

// eraOf is the era of node major.minor.
func eraOf(major, minor int) era {
	switch {
	case major >= 24, major == 23 && minor >= 6, major == 22 && minor >= 18:
		return eraStrips
	case major >= 23, major == 22 && minor >= 12:
		return eraNow
	case major == 22 && minor >= 7:
		return era22Detect
	case major == 22:
		return era22
	case major == 20 && minor >= 19:
		return era20
	}
	return era18
}

// moduleFlags are node's options that change how it loads modules against
// its version's defaults; with one set, only what holds in every era is
// judged.
var moduleFlags = []string{"--experimental-require-module", "--no-experimental-require-module",
	"--experimental-detect-module", "--no-experimental-detect-module", "--experimental-default-type",
	"--experimental-strip-types", "--no-experimental-strip-types", "--experimental-transform-types", "--no-experimental-transform-types"}

// moduleOptions reads node's options (NODE_OPTIONS, then its arguments) for
// the conditions added to every package's "exports" (--conditions, -C) and
// whether a module flag is set.
func (p *Preflight) moduleOptions() (conditions []string, flagged bool) {
	words := p.nodeWords()
	for i := 0; i < len(words); i++ {
		name, value, hasValue := strings.Cut(words[i], "=")
		switch {
		case slices.Contains(moduleFlags, name):
			flagged = true
		case name == "--conditions" || name == "-C":
			if !hasValue && i+1 < len(words) {
				i++
				value = words[i]
			}
			conditions = append(conditions, value)
		}
	}
	return conditions, flagged
}

// nodeWords are node's options: NODE_OPTIONS' words, then the
// arguments before the entry.
func (p *Preflight) nodeWords() []string {
	words, _ := nodeopts.Split(p.nodeOptions()) // a refusal is the entry check's
	return append(words, p.NodeArgs...)
}

// conditionsFor are the conditions a statement's "exports" are matched
// under: node's defaults for require or import, "module-sync" in the era
// that requires ES modules, then the user's.
func conditionsFor(esm, moduleSync bool, user []string) []string {
	out := []string{"require", "node", "node-addons", "default"}
	if esm {
		out[0] = "import"
	}
	if moduleSync {
		out = append(out, "module-sync")
	}
	return append(out, user...)
}

// notExportedError is node's ERR_PACKAGE_PATH_NOT_EXPORTED: the package's
// "exports" map no file to the subpath under the statement's conditions.
type notExportedError struct {
	subpath     string // "." or "./x"
	packageJSON string
}

func (e *notExportedError) Error() string {
	if e.subpath == "." {
		return fmt.Sprintf("ERR_PACKAGE_PATH_NOT_EXPORTED: No \"exports\" main defined in %s", e.packageJSON)
	}
	return fmt.Sprintf("ERR_PACKAGE_PATH_NOT_EXPORTED: Package subpath '%s' is not defined by \"exports\" in %s", e.subpath, e.packageJSON)
}

// missingFileError is a file a package's package.json names ("exports",
// "main"), or a subpath of the package, that is not in it.
type missingFileError struct {
	path string // the file node looked for; "" for a subpath not found by require's extensions
	main bool   // named by "main"
}

func (e *missingFileError) Error() string { return e.path + " is not in the package" }

// resolveBare resolves a package specifier from dir as node does for a
// statement of pre's kind, with conditions matched against the package's
// "exports", and gives the package's package.json with it (nil when the
// package is not found or its package.json not read). A package whose
// "exports" node would refuse as malformed is found at its folder: node's
// error there is not judged.
func (p *Preflight) resolveBare(dir string, pre nodeopts.Preload, conditions []string) (string, *packageJSON, error) {
	_, bare := pre.Where()
	name := packageName(bare)
	pkg, _, err := resolvePackage(p.fsys, dir, name)
	if err != nil {
		return "", nil, err
	}
	subpath := "." + strings.TrimPrefix(bare, name)
	pj, err := readPackageJSON(p.fsys, pkg)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pkg, nil, nil // node's own error, not judged
	}
	found, err := p.resolveSubpath(pkg, pj, subpath, pre.ESM(), conditions)
	return found, pj, err
}

// resolveSubpath resolves subpath ("." or "./x") of the package in folder
// pkg, whose package.json is pj (nil when it has none).
func (p *Preflight) resolveSubpath(pkg string, pj *packageJSON, subpath string, esm bool, conditions []string) (string, error) {
	if pj != nil && len(pj.Exports) > 0 && !bytes.Equal(bytes.TrimSpace(pj.Exports), []byte("null")) {
		target, state := exportsTarget(pj.Exports, subpath, conditions)
		switch state {
		case exportsUnjudged:
			return pkg, nil
		case exportsNone:
			return "", &notExportedError{subpath: subpath, packageJSON: filepath.Join(pkg, "package.json")}
		}
		return p.exactFile(filepath.Join(pkg, filepath.FromSlash(target)))
	}
	var tried []string
	switch {
	case subpath == ".":
		// require's and import's legacy lookup alike: main, with the
		// extensions, its index, then the package's index.
		found, err := resolveFolder(p.fsys, pkg, &tried, 0)
		if found == "" && err == nil {
			e := &missingFileError{path: filepath.Join(pkg, "index.js")}
			if pj != nil && pj.Main != "" {
				e.path, e.main = filepath.Join(pkg, pj.Main), true
			}
			return "", e
		}
		return found, err
	case esm:
		return p.exactFile(filepath.Join(pkg, filepath.FromSlash(subpath)))
	}
	found, _, err := resolveEntry(p.fsys, pkg, subpath)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &missingFileError{}
	}
	return found, err
}

// exactFile is path, which node loads as named, with no extension added:
// a folder is import's refusal, a file not there a missingFileError; a
// file that cannot be read, its error.
func (p *Preflight) exactFile(path string) (string, error) {
	st, err := p.fsys.stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &missingFileError{path: path}
	case err != nil:
		return path, err
	case st.IsDir():
		return "", errNotAFile
	case !st.Mode().IsRegular():
		return path, &fs.PathError{Op: "open", Path: path, Err: regular.NotRegular(st.Mode())}
	}
	return path, nil
}

// exportsState is what a package's "exports" say of a subpath.
type exportsState int

const (
	exportsFile     exportsState = iota // a file, relative to the package
	exportsNone                         // nothing under these conditions: not exported
	exportsUnjudged                     // a map node refuses as malformed, or a target it refuses
)

// exportsTarget is the file exports map subpath ("." or "./x") to under
// conditions, as node's PACKAGE_EXPORTS_RESOLVE reads them: keys in their
// order, the first condition that matches (or "default") taken, an array's
// first valid target, a pattern's "*" by the longest prefix.
func exportsTarget(exports json.RawMessage, subpath string, conditions []string) (string, exportsState) {
	dec := json.NewDecoder(bytes.NewReader(exports))
	root, err := decodeOrdered(dec, 0)
	if err != nil {
		return "", exportsUnjudged
	}
	obj, isObject := root.(jsonObject)
	dots := 0
	for _, m := range obj {
		if strings.HasPrefix(m.key, ".") {
			dots++
		}
	}
	switch {
	case isObject && dots > 0 && dots < len(obj):
		return "", exportsUnjudged // node: ERR_INVALID_PACKAGE_CONFIG
	case !isObject || dots == 0:
		// Sugar: the exports are the package's main export.
		if subpath != "." {
			return "", exportsNone
		}
		obj = jsonObject{{key: ".", val: root}}
	}
	return mapTarget(obj, subpath, conditions)
}

// importsTarget is the file a package's "imports" map the specifier
// ("#x") to under conditions, as node's PACKAGE_IMPORTS_RESOLVE reads
// them; a target that is a package's name is not judged.
func importsTarget(imports json.RawMessage, spec string, conditions []string) (string, exportsState) {
	dec := json.NewDecoder(bytes.NewReader(imports))
	root, err := decodeOrdered(dec, 0)
	if err != nil {
		return "", exportsUnjudged
	}
	obj, isObject := root.(jsonObject)
	if !isObject {
		return "", exportsNone
	}
	for _, m := range obj {
		if !strings.HasPrefix(m.key, "#") {
			return "", exportsUnjudged // node: ERR_INVALID_PACKAGE_CONFIG
		}
	}
	return mapTarget(obj, spec, conditions)
}

// mapTarget is what the key ("./x" of "exports", "#x" of "imports") maps
// to in obj: its own entry, else the pattern ("*") whose prefix matches
// longest, each target read under conditions.
func mapTarget(obj jsonObject, key string, conditions []string) (string, exportsState) {
	if v, ok := obj.get(key); ok && !strings.Contains(key, "*") {
		target, s, _ := resolveTarget(v, "", conditions, 0)
		return target, s
	}
	best, match := -1, ""
	for i, m := range obj {
		prefix, suffix, ok := strings.Cut(m.key, "*")
		if !ok || strings.Contains(suffix, "*") || !strings.HasPrefix(key, prefix) || key == prefix ||
			!strings.HasSuffix(key, suffix) || len(key) < len(m.key) {
			continue
		}
		if best >= 0 && !patternBefore(m.key, obj[best].key) {
			continue
		}
		best, match = i, key[len(prefix):len(key)-len(suffix)]
	}
	if best < 0 {
		return "", exportsNone
	}
	target, s, _ := resolveTarget(obj[best].val, match, conditions, 0)
	return target, s
}

// importNotDefinedError is node's ERR_PACKAGE_IMPORT_NOT_DEFINED: a "#…"
// specifier the package's "imports" does not map.
type importNotDefinedError struct {
	spec, packageJSON, from string
}

func (e *importNotDefinedError) Error() string {
	if e.packageJSON == "" {
		return fmt.Sprintf("ERR_PACKAGE_IMPORT_NOT_DEFINED: Package import specifier %q is not defined imported from %s", e.spec, e.from)
	}
	return fmt.Sprintf("ERR_PACKAGE_IMPORT_NOT_DEFINED: Package import specifier %q is not defined in package %s imported from %s", e.spec, e.packageJSON, e.from)
}

// resolveSubpathImport resolves a "#…" specifier from the script in dir as
// node does: through the "imports" of the package.json nearest above
// (its scope), to a file of that package; "" with no error for what is
// not judged (a target that names a package, a map node refuses).
func (p *Preflight) resolveSubpathImport(script, dir string, pre nodeopts.Preload, conditions []string, scopes map[string]scope) (string, error) {
	var pj *packageJSON
	sc := p.scopeOf(dir, scopes)
	if sc.packageJSON != "" {
		var err error
		var broken *packageConfigError
		if pj, err = readPackageJSON(p.fsys, filepath.Dir(sc.packageJSON)); errors.As(err, &broken) && broken.read.importsNotJSON {
			return "", broken // every node fails on it: later ones as they parse "imports"
		} else if err != nil {
			return "", nil // node's own error, not judged
		}
	}
	if pj == nil || len(pj.Imports) == 0 || bytes.Equal(bytes.TrimSpace(pj.Imports), []byte("null")) {
		if !pre.ESM() {
			return "", fs.ErrNotExist // require() looks for it in node_modules then: "Cannot find module '#x'"
		}
		return "", &importNotDefinedError{spec: pre.Spec, packageJSON: sc.packageJSON, from: script}
	}
	file, state := importsTarget(pj.Imports, pre.Spec, conditions)
	switch state {
	case exportsUnjudged:
		return "", nil
	case exportsNone:
		return "", &importNotDefinedError{spec: pre.Spec, packageJSON: sc.packageJSON, from: script}
	}
	return p.exactFile(filepath.Join(filepath.Dir(sc.packageJSON), filepath.FromSlash(file)))
}

// patternBefore is node's PATTERN_KEY_COMPARE: the longer prefix before
// "*" wins, then the longer key.
func patternBefore(a, b string) bool {
	pa, pb := strings.Index(a, "*"), strings.Index(b, "*")
	if pa != pb {
		return pa > pb
	}
	return len(a) > len(b)
}

// resolveTarget reads one target of "exports": a path, an array of
// fallbacks, or conditions. A path must start with "./" and stay in the
// package. exportsNone with null false is JavaScript's undefined (no
// condition matched: the next one is tried); with null true, null, which
// excludes.
func resolveTarget(v any, match string, conditions []string, depth int) (target string, s exportsState, null bool) {
	if depth > 32 {
		return "", exportsUnjudged, false
	}
	switch t := v.(type) {
	case string:
		if !strings.HasPrefix(t, "./") {
			return "", exportsUnjudged, false
		}
		if invalidSegment(t[2:]) || invalidSegment(match) {
			return "", exportsUnjudged, false
		}
		return strings.ReplaceAll(t, "*", match), exportsFile, false
	case nil:
		return "", exportsNone, true
	case []any:
		s, null := exportsNone, false
		for _, alt := range t {
			target, as, anull := resolveTarget(alt, match, conditions, depth+1)
			switch {
			case as == exportsFile:
				return target, as, false
			case as == exportsUnjudged:
				s, null = as, false // node throws the last invalid target
			case anull:
				s, null = exportsNone, true
			}
		}
		return "", s, null
	case jsonObject:
		for _, m := range t {
			if m.key != "default" && !slices.Contains(conditions, m.key) {
				continue
			}
			target, s, null := resolveTarget(m.val, match, conditions, depth+1)
			if s == exportsNone && !null {
				continue
			}
			return target, s, null
		}
		return "", exportsNone, false
	}
	return "", exportsUnjudged, false
}

// invalidSegment reports whether a path has a segment node refuses in a
// target of "exports", or in what a pattern's "*" stands for: ".", "..",
// node_modules, or an empty one.
func invalidSegment(path string) bool {
	if path == "" {
		return false
	}
	for _, seg := range strings.Split(strings.ReplaceAll(path, "\\", "/"), "/") {
		if seg == "" || seg == "." || seg == ".." || strings.EqualFold(seg, "node_modules") {
			return true
		}
	}
	return false
}

// jsonObject is a JSON object with its keys in their order, which
// "exports" conditions depend on.
type jsonObject []jsonMember

type jsonMember struct {
	key string
	val any
}

// get is the value of key; the last one, as JavaScript keeps it.
func (o jsonObject) get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			return o[i].val, true
		}
	}
	return nil, false
}

// decodeOrdered decodes one JSON value, objects as jsonObject.
func decodeOrdered(dec *json.Decoder, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var obj jsonObject
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := k.(string)
			v, err := decodeOrdered(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, jsonMember{key, v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return tok, nil
}

// moduleFormat is the module system node reads a script with.
type moduleFormat int

const (
	formatCommonJS moduleFormat = iota // .cjs or .cts, or .js or .ts under "type": "commonjs"
	formatTypeless                     // .js or .ts under no "type": CommonJS, unless node detects an ES module
	formatESM                          // .mjs or .mts, or .js or .ts under "type": "module"
)

// scope is the package.json that decides the format of a folder's .js
// files: the nearest above them.
type scope struct {
	packageJSON string // "" when none is above
	typ         string
	broken      *packageConfigError // the package.json above when it is not JSON, and the eras that fail on it
}

// scriptFormat is the format node reads path with, and the package.json
// that decides it ("" when the extension does).
func (p *Preflight) scriptFormat(path string, scopes map[string]scope) (moduleFormat, string) {
	switch filepath.Ext(path) {
	case ".mjs", ".mts":
		return formatESM, ""
	case ".cjs", ".cts":
		return formatCommonJS, ""
	case ".js", ".ts":
	default:
		return formatCommonJS, "" // require reads any other extension as CommonJS
	}
	sc := p.scopeOf(filepath.Dir(path), scopes)
	switch sc.typ {
	case "module":
		return formatESM, sc.packageJSON
	case "commonjs":
		return formatCommonJS, sc.packageJSON
	}
	return formatTypeless, sc.packageJSON
}

// scopeOf finds the package.json nearest above dir, as node looks for it:
// not past a node_modules folder.
func (p *Preflight) scopeOf(dir string, scopes map[string]scope) scope {
	if sc, ok := scopes[dir]; ok {
		return sc
	}
	var sc scope
	switch pj, err := readPackageJSON(p.fsys, dir); {
	case err == nil:
		sc = scope{packageJSON: filepath.Join(dir, "package.json"), typ: pj.Type, broken: pj.refused}
	case errors.Is(err, fs.ErrNotExist) && filepath.Base(dir) != "node_modules" && filepath.Dir(dir) != dir:
		sc = p.scopeOf(filepath.Dir(dir), scopes)
	case errors.As(err, &sc.broken):
		sc.packageJSON = filepath.Join(dir, "package.json")
	}
	scopes[dir] = sc
	return sc
}

// esModule reports whether node reads a file it found as an ES module by
// its extension or its package's "type".
func (p *Preflight) esModule(path string, scopes map[string]scope) bool {
	f, _ := p.scriptFormat(path, scopes)
	return f == formatESM
}

// requiredESMError is node's ERR_REQUIRE_ESM: require() of an ES module in
// an era before it loads them.
type requiredESMError struct {
	file, from string
}

func (e *requiredESMError) Error() string {
	if e.from == "" { // a preload's
		return fmt.Sprintf("ERR_REQUIRE_ESM: require() of ES Module %s not supported", e.file)
	}
	return fmt.Sprintf("ERR_REQUIRE_ESM: require() of ES Module %s from %s not supported", e.file, e.from)
}

// formatError is a script of the app in the syntax of one module system
// that node reads with the other.
type formatError struct {
	script      string
	esm         bool   // read as an ES module, written as CommonJS
	word        string // what node stops at: require, exports, module; import, export
	typeless    bool   // under no "type": newer nodes detect the ES module
	detected    string // with esm: the statement, import or export, by which node told the ES module
	mixed       bool   // holds both import or export and require or exports: wrong in either system
	global      bool   // with esm: word is __dirname or __filename, which an ES module does not have
	packageJSON string // what decides the format; "" for the extension
}

func (e *formatError) Error() string {
	switch {
	case e.esm:
		return fmt.Sprintf("ReferenceError: %s is not defined in ES module scope", e.word)
	case e.word == "export":
		return "SyntaxError: Unexpected token 'export'"
	}
	return "SyntaxError: Cannot use import statement outside a module"
}

// misread is the failure of a script written for one module system that
// node reads with the other, in the eras it fails in; none when node reads
// it as written.
func (p *Preflight) misread(path string, s scripted, scopes map[string]scope) []miss {
	format, pj := p.scriptFormat(path, scopes)
	if len(s.globals) > 0 && s.cjsLine == 0 && (format == formatESM || format == formatTypeless && s.esmLine > 0) {
		// __dirname in an ES module, as CommonJS has it: a ReferenceError
		// where node reads the script as one.
		if g := s.global(); g.line > 0 {
			e := &formatError{script: path, packageJSON: pj, esm: true, word: g.word, global: true}
			if format == formatESM {
				return []miss{{imp: appImport{script: path, line: g.line}, err: e, eras: allEras}}
			}
			e.typeless, e.detected = true, s.esmWord
			return append(p.misreadSyntax(path, s, format, pj), miss{imp: appImport{script: path, line: g.line}, err: e, eras: allEras &^ undetected})
		}
	}
	return p.misreadSyntax(path, s, format, pj)
}

// misreadSyntax is misread's verdict on the script's statements of either
// module system.
func (p *Preflight) misreadSyntax(path string, s scripted, format moduleFormat, pj string) []miss {
	switch {
	case format == formatESM && s.cjsLine > 0:
		e := &formatError{script: path, packageJSON: pj, esm: true, word: s.cjsWord}
		return []miss{{imp: appImport{script: path, line: s.cjsLine}, err: e, eras: allEras}}
	case format == formatCommonJS && s.esmLine > 0:
		e := &formatError{script: path, packageJSON: pj, word: s.esmWord}
		return []miss{{imp: appImport{script: path, line: s.esmLine}, err: e, eras: allEras}}
	case format == formatTypeless && s.esmLine > 0:
		// Node 20.19 and 22.7 on tell the ES module by its syntax,
		// required or imported; where it also uses require or exports,
		// those are then not defined.
		e := &formatError{script: path, packageJSON: pj, word: s.esmWord, typeless: true, mixed: s.cjsLine > 0}
		out := []miss{{imp: appImport{script: path, line: s.esmLine}, err: e, eras: undetected}}
		if s.cjsLine > 0 {
			mixed := &formatError{script: path, packageJSON: pj, esm: true, word: s.cjsWord, typeless: true, detected: s.esmWord, mixed: true}
			out = append(out, miss{imp: appImport{script: path, line: s.cjsLine}, err: mixed, eras: allEras &^ undetected})
		}
		return out
	}
	return nil
}

// misreadText says what node does not read as written, for the report.
func (p *Preflight) misreadText(e *formatError) string {
	if e.esm {
		return fmt.Sprintf("uses %s, which an ES module does not have, and node reads %s as an ES module (%s)", e.word, p.rel(e.script), p.scopeText(e))
	}
	return fmt.Sprintf("is an %s statement, and node reads %s as CommonJS (%s)", e.word, p.rel(e.script), p.scopeText(e))
}

// scopeText says what decides how node reads a script.
func (p *Preflight) scopeText(e *formatError) string {
	switch {
	case e.detected != "" && e.packageJSON == "":
		return "its " + e.detected + " statement, where no package.json above it sets \"type\""
	case e.detected != "":
		return "its " + e.detected + " statement, where " + p.rel(e.packageJSON) + " sets no \"type\""
	case e.typeless && e.packageJSON == "":
		return "no package.json above it sets \"type\""
	case e.packageJSON == "":
		return "its extension, " + filepath.Ext(e.script)
	case e.esm:
		return p.rel(e.packageJSON) + "'s \"type\": \"module\""
	case e.typeless:
		return p.rel(e.packageJSON) + ", which sets no \"type\""
	}
	return p.rel(e.packageJSON) + "'s \"type\": \"commonjs\""
}

// urlSchemeError is an ES import of a URL node's loader does not load: it
// loads file:, data: and node: URLs, and fetches none (https:, http:).
type urlSchemeError struct {
	scheme string // in lower case, without its colon
}

func (e *urlSchemeError) Error() string { return e.said(eraNow) }

// said is node's error in era now: Node 22 and later no longer name node:
// among the schemes, though they load it.
func (e *urlSchemeError) said(now era) string {
	schemes := "file and data"
	if now&(era18|era20) != 0 {
		schemes = "file, data, and node"
	}
	return fmt.Sprintf("Error [ERR_UNSUPPORTED_ESM_URL_SCHEME]: Only URLs with a scheme in: %s are supported by the default ESM loader. Received protocol '%s:'", schemes, e.scheme)
}

// attributeError is an ES import node refuses for its attributes: an
// import assertion (`assert { … }`), which Node 22 removed, or a JSON file
// imported without `with { type: "json" }`.
type attributeError struct {
	assertion bool
	url       string // the JSON file's
}

func (e *attributeError) Error() string { return e.said(eraNow) }

// said is node's error in era now (the newest when not known).
func (e *attributeError) said(now era) string {
	switch {
	case e.assertion:
		return "SyntaxError: Unexpected identifier 'assert'"
	case now&(era18|era20) != 0:
		return fmt.Sprintf("TypeError [ERR_IMPORT_ASSERTION_TYPE_MISSING]: Module %q needs an import attribute of type \"json\"", e.url)
	}
	return fmt.Sprintf("TypeError [ERR_IMPORT_ATTRIBUTE_MISSING]: Module %q needs an import attribute of \"type: json\"", e.url)
}
