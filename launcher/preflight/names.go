package preflight

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/hasync/launcher/launcher/nodeopts"
)

// An ES module's named import from a CommonJS module (`import { get }
// from "lodash"`) is linked before any code runs, against the names node
// finds in the CommonJS module's text with cjs-module-lexer: `exports.x
// =`, `exports["x"] =`, `Object.defineProperty(exports, "x", …)`, the
// keys of `module.exports = { … }` up to its first property that is not
// an identifier, and the same of the modules it re-exports
// (`module.exports = require("y")`, tsc's `__exportStar(require("y"),
// exports)`, Babel's `Object.keys(_y).forEach(…)`). What the module
// assigns otherwise (`module.exports = new PG()`, lodash's
// `freeModule.exports = _`) node cannot name, and the import fails at
// every start, in every version of node: "SyntaxError: Named export 'get'
// not found. The requested module 'lodash' is a CommonJS module, which may
// not support all module.exports as named exports."
//
// The scan below is not the lexer: it finds every name the lexer would
// and more (a superset: any `exports.x` whether assigned or not, in a
// comment or not, every key of such a literal), so that an import it
// refuses is one node refuses. Where it cannot be sure of that (a
// re-export it does not find, too many files), it judges nothing.
//
// An ES module's import from an ES module is linked the same way, against
// the names that module exports, which it must write (`export const a`,
// `export { b as a }`), itself or in a module it re-exports whole (`export
// * from "y"`): a name written nowhere is one it does not export ("The
// requested module './types.js' does not provide an export named 'User'":
// a TypeScript interface that esbuild or swc, compiling each file alone,
// kept as an import). A name written anywhere but in a comment line
// passes.

// commonJSNames is what a scan of a CommonJS module found.
type commonJSNames struct {
	names     map[string]bool
	reexports []string // the specifiers of the modules it re-exports
	open      bool     // a re-export's specifier with an escape: not bounded
}

// add takes a name found: not an empty one, nor one with an escape,
// which the lexer does not read.
func (c *commonJSNames) add(name []byte) {
	if len(name) > 0 && !bytes.ContainsRune(name, '\\') {
		c.names[string(name)] = true
	}
}

// scanCommonJS finds every name node's lexer could give a CommonJS
// module's exports, and the modules it re-exports. It reads by hand, from
// each occurrence of the few words that matter: regular expressions over a
// whole module took 50 ms on lodash's 540 KB.
func scanCommonJS(text []byte) commonJSNames {
	out := commonJSNames{names: map[string]bool{}}
	if !bytes.Contains(text, []byte("export")) {
		return out // none of exports, __export or __exportStar
	}
	reexport := func(spec []byte) {
		if bytes.ContainsRune(spec, '\\') {
			out.open = true
			return
		}
		out.reexports = append(out.reexports, string(spec))
	}
	// exports.x, exports["x"], module.exports = { … }, module.exports =
	// require("y").
	for _, at := range after(text, "exports", 1) {
		rest := skipGap(text[at:])
		switch {
		case len(rest) == 0:
		case rest[0] == '.':
			out.add(jsNameAt(skipGap(rest[1:])))
		case rest[0] == '[':
			s, _ := jsStringAt(skipGap(rest[1:]))
			out.add(s)
		case rest[0] == '=' && (len(rest) == 1 || rest[1] != '='):
			rest = skipGap(rest[1:])
			if len(rest) > 0 && rest[0] == '{' {
				scanLiteral(rest[1:], &out, reexport)
			} else if spec, n := requireAt(rest); n > 0 {
				reexport(spec)
			}
		}
	}
	// Object.defineProperty(exports, "x", and module.exports alike.
	for _, at := range after(text, "defineProperty", 6) {
		rest := skipGap(text[at:])
		if len(rest) == 0 || rest[0] != '(' {
			continue
		}
		rest = skipGap(rest[1:])
		if r, ok := bytes.CutPrefix(rest, []byte("module")); ok {
			if r = skipGap(r); len(r) > 0 && r[0] == '.' {
				rest = skipGap(r[1:])
			}
		}
		if r, ok := bytes.CutPrefix(rest, []byte("exports")); ok {
			if r = skipGap(r); len(r) > 0 && r[0] == ',' {
				s, _ := jsStringAt(skipGap(r[1:]))
				out.add(s)
			}
		}
	}
	// tsc's __export(require("y")) and __exportStar(require("y"), exports).
	for _, at := range after(text, "__export", 3) {
		rest := text[at:]
		rest, _ = bytes.CutPrefix(rest, []byte("Star"))
		if rest = skipGap(rest); len(rest) > 0 && rest[0] == '(' {
			if spec, n := requireAt(skipGap(rest[1:])); n > 0 {
				reexport(spec)
			}
		}
	}
	// Babel's `var _y = require("y");` that `Object.keys(_y).forEach(…)`
	// re-exports: every require assigned to a variable, when there is one.
	if bytes.Contains(text, []byte("Object.keys")) {
		for _, at := range after(text, "require", 2) {
			at -= len("require")
			spec, n := requireAt(text[at:])
			if n > 0 && assignedBefore.get().Match(text[max(0, at-200):at]) {
				reexport(spec)
			}
		}
	}
	return out
}

// assignedBefore matches the text before a require that assigns it to a
// variable, through a helper or not (_interopRequireWildcard), comments
// between (Babel's /*#__PURE__*/).
var assignedBefore = lazy(`(?:var|let|const)` + gapRE + `[\w$]+` + gapRE + `=` + gapRE + `(?:[\w$.]+` + gapRE + `\(` + gapRE + `)?$`)

// gapRE matches what skipGap skips: spaces and comments.
const gapRE = `(?:\s|/\*(?:[^*]|\*+[^*/])*\*+/|//[^\n]*\n)*`

// after is the offset just after each occurrence of word in text. It
// looks for word from its byte at skip on, rarer in code than its first:
// bytes.Index goes from one match of the first byte to the next, and the
// e of exports took a millisecond over lodash's 540 KB.
func after(text []byte, word string, skip int) []int {
	var out []int
	tail := []byte(word[skip:])
	for i := 0; ; {
		j := bytes.Index(text[i:], tail)
		if j < 0 {
			return out
		}
		start := i + j - skip
		i += j + len(tail)
		if start >= 0 && string(text[start:start+skip]) == word[:skip] {
			out = append(out, i)
		}
	}
}

// skipGap skips what may stand between two tokens: spaces, line ends and
// comments.
func skipGap(text []byte) []byte {
	for len(text) > 0 {
		switch c := text[0]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			text = text[1:]
		case c == '/' && len(text) > 1 && text[1] == '/':
			i := bytes.IndexByte(text, '\n')
			if i < 0 {
				return nil
			}
			text = text[i+1:]
		case c == '/' && len(text) > 1 && text[1] == '*':
			i := bytes.Index(text[2:], []byte("*/"))
			if i < 0 {
				return nil
			}
			text = text[i+4:]
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(text)
			if !unicode.IsSpace(r) && r != '\uFEFF' {
				return text
			}
			text = text[n:]
		default:
			return text
		}
	}
	return text
}

// jsNameAt is the identifier text starts with, or more: ASCII word
// characters, $, and any character beyond ASCII but spaces; nil when none.
func jsNameAt(text []byte) []byte {
	i := 0
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if !asciiNameByte(c) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		if unicode.IsSpace(r) || r == '\uFEFF' {
			break
		}
		i += n
	}
	if i == 0 {
		return nil
	}
	return text[:i]
}

// asciiNameByte reports whether c is an ASCII letter, digit, _ or $.
func asciiNameByte(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// jsStringAt is the content of the quoted string text starts with, and
// its length with the quotes; false when it starts with none, or the
// string does not end on its line.
func jsStringAt(text []byte) ([]byte, int) {
	if len(text) == 0 || text[0] != '"' && text[0] != '\'' {
		return nil, 0
	}
	for i := 1; i < len(text); i++ {
		switch text[i] {
		case text[0]:
			return text[1:i], i + 1
		case '\\':
			i++
		case '\n':
			return nil, 0
		}
	}
	return nil, 0
}

// requireAt is the specifier of the require("y") text starts with, and
// the call's length; 0 when text starts with none.
func requireAt(text []byte) ([]byte, int) {
	rest, ok := bytes.CutPrefix(text, []byte("require"))
	if !ok {
		return nil, 0
	}
	if rest = skipGap(rest); len(rest) == 0 || rest[0] != '(' {
		return nil, 0
	}
	rest = skipGap(rest[1:])
	spec, n := jsStringAt(rest)
	if n == 0 {
		return nil, 0
	}
	if rest = skipGap(rest[n:]); len(rest) == 0 || rest[0] != ')' {
		return nil, 0
	}
	return spec, len(text) - len(rest) + 1
}

// scanLiteral reads an object literal's properties from just after its
// brace, as the lexer does, and takes every key: a shorthand or
// `key: value` identifier, a quoted key, a spread require re-exported. It
// stops where the lexer gives up, at the first token of no such property,
// having taken every key the lexer took and perhaps one more.
func scanLiteral(text []byte, out *commonJSNames, reexport func([]byte)) {
	for {
		text = skipGap(text)
		switch {
		case len(text) == 0 || text[0] == '}':
			return
		case bytes.HasPrefix(text, []byte("...")):
			text = skipGap(text[3:])
			if spec, n := requireAt(text); n > 0 {
				reexport(spec)
				text = text[n:]
			} else if n := jsNameAt(text); n != nil {
				text = text[len(n):]
			} else {
				return
			}
		default:
			if n := jsNameAt(text); n != nil {
				out.add(n)
				text = text[len(n):]
			} else if s, n := jsStringAt(text); n > 0 {
				out.add(s)
				text = text[n:]
			} else {
				return
			}
			if text = skipGap(text); len(text) > 0 && text[0] == ':' {
				text = skipGap(text[1:])
				n := jsNameAt(text)
				if n == nil {
					return
				}
				text = text[len(n):]
			}
		}
		if text = skipGap(text); len(text) == 0 || text[0] != ',' {
			return
		}
		text = text[1:]
	}
}

// cjsFilesAtMost bounds the files one CommonJS module's names are read
// from, its re-exports' included; past it, its names are not judged.
const cjsFilesAtMost = 64

// exportNames is every name node could find in the CommonJS module at
// path, its re-exports' included, each resolved as node's require does
// from the module's folder; ok is false when the scan cannot bound them
// (a re-export it does not find, a file it cannot read, too many).
func (p *Preflight) exportNames(path string, user []string, cache moduleTexts) (names map[string]bool, ok bool) {
	names = map[string]bool{}
	seen := map[string]bool{}
	queue := []string{path}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		if seen[file] {
			continue
		}
		if seen[file] = true; len(seen) > cjsFilesAtMost {
			return nil, false
		}
		m, read := cache.read(p, file)
		if !read {
			return nil, false
		}
		found := m.commonJS()
		if found.open {
			return nil, false
		}
		for n := range found.names {
			names[n] = true
		}
		for _, spec := range found.reexports {
			next, ok := p.reexported(file, spec, false, user)
			switch {
			case !ok:
				return nil, false // node skips what it does not find; this scan may not find what node does
			case next == "":
				continue // a builtin: node takes no names from it
			}
			if ext := filepath.Ext(next); ext != ".json" && ext != ".node" {
				queue = append(queue, next)
			}
		}
	}
	return names, true
}

// reexported resolves a module that file re-exports, from file's folder as
// node's require (esm false) or import does: the file found, "" for a
// builtin or a URL. ok is false when the check cannot say what node finds:
// not found here, or a package whose "module-sync" condition makes it
// depend on node's version.
func (p *Preflight) reexported(file, spec string, esm bool, user []string) (found string, ok bool) {
	pre := nodeopts.Preload{Option: "--require", Spec: spec}
	if esm {
		pre.Option = "--import"
	}
	var err error
	switch f, bare := pre.Where(); {
	case f == "" && bare == "":
		return "", true
	case bare != "":
		var pj *packageJSON
		found, pj, err = p.resolveBare(filepath.Dir(file), pre, conditionsFor(esm, false, user))
		if pj != nil && bytes.Contains(pj.Exports, []byte(`"module-sync"`)) {
			return "", false
		}
	default:
		found, err = p.resolveFrom(filepath.Dir(file), pre)
	}
	return found, err == nil && found != ""
}

// mayBeESM reports whether text may hold an import or export statement,
// indented or not: a script under no "type" that has one may be an ES
// module, whose names are not the lexer's.
func mayBeESM(text []byte) bool {
	for _, word := range []string{"import", "export"} {
		for _, at := range after(text, word, 1) {
			line := at - len(word) - 1
			for line >= 0 && (text[line] == ' ' || text[line] == '\t') {
				line--
			}
			if line >= 0 && text[line] != '\n' && text[line] != '\r' {
				continue
			}
			rest := text[at:]
			spaced := skipGap(rest)
			switch {
			case len(spaced) == 0:
			case len(spaced) < len(rest) && jsNameAt(spaced) != nil,
				spaced[0] == '{' || spaced[0] == '*',
				word == "import" && (spaced[0] == '"' || spaced[0] == '\''):
				return true
			}
		}
	}
	return false
}

// moduleText is a module's text, read once per walk, and what was
// learned of it.
type moduleText struct {
	text    []byte
	esmLike bool           // it may hold an import or export statement
	cjs     *commonJSNames // its scan as CommonJS, once asked for
	esmScan *esmScan       // its scan as an ES module, once asked for
	names   []byte         // what its names are looked for in (namesView), once asked for
}

// namesView is what a module's names are looked for in, made once.
func (m *moduleText) namesView() []byte {
	if m.names == nil {
		m.names = namesView(m.text)
	}
	return m.names
}

// namesView is text with its comment lines blanked (uncommented) and,
// when it has escapes (`\u0061`), a copy after it with them read as what
// they stand for.
func namesView(text []byte) []byte {
	view := uncommented(text)
	if bytes.Contains(view, []byte(`\u`)) {
		view = append(append(view, '\n'), unescaped(view)...)
	}
	return view
}

// uncommented is text with what is certainly a comment blanked: a line
// that starts with //, and a block that starts a line with /* and whose
// lines after it start with * (JSDoc), to its */. Neither can hold an
// export statement wherever it stands: in code it is a comment, and in a
// template literal over several lines it is the literal's text, unless a
// backtick ends the literal on it, or in a string continued from the line
// before (a \ ends that line), unless a quote ends it. So a line with a
// backtick, or after a line ending in \, is kept, and a block with a line
// that does not start with *.
func uncommented(text []byte) []byte {
	out := bytes.Clone(text)
	blank := func(b []byte) {
		for i := range b {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	lines := bytes.SplitAfter(out, []byte("\n"))
	continued := func(i int) bool { // the line before i ends in a backslash
		return i > 0 && bytes.HasSuffix(bytes.TrimRight(lines[i-1], "\r\n"), []byte("\\"))
	}
	for i := 0; i < len(lines); i++ {
		body := bytes.TrimLeft(lines[i], " \t")
		if continued(i) || bytes.ContainsRune(body, '`') {
			continue
		}
		switch {
		case bytes.HasPrefix(body, []byte("//")):
			blank(body)
		case bytes.HasPrefix(body, []byte("/*")):
			if end := bytes.Index(body[2:], []byte("*/")); end >= 0 {
				blank(body[:end+4]) // the rest of the line is code
				continue
			}
			last := -1
			for j := i + 1; j < len(lines); j++ {
				next := bytes.TrimLeft(lines[j], " \t")
				if !bytes.HasPrefix(next, []byte("*")) || bytes.ContainsRune(next, '`') {
					break
				}
				if bytes.Contains(next, []byte("*/")) {
					last = j
					break
				}
			}
			if last < 0 {
				continue
			}
			blank(body)
			for j := i + 1; j < last; j++ {
				blank(lines[j])
			}
			end := bytes.TrimLeft(lines[last], " \t")
			blank(end[:bytes.Index(end, []byte("*/"))+2])
			i = last
		}
	}
	return out
}

// commonJS is the module's scan as CommonJS.
func (m *moduleText) commonJS() commonJSNames {
	if m.cjs == nil {
		found := scanCommonJS(m.text)
		m.cjs = &found
	}
	return *m.cjs
}

// esm is the module's scan as an ES module.
func (m *moduleText) esm() esmScan {
	if m.esmScan == nil {
		found := scanESM(m.text)
		m.esmScan = &found
	}
	return *m.esmScan
}

// moduleTexts are the modules read in one walk, by file.
type moduleTexts map[string]*moduleText

// read is the module at path, read at its first ask; false when it
// cannot be read.
func (c moduleTexts) read(p *Preflight, path string) (*moduleText, bool) {
	if m, ok := c[path]; ok {
		return m, m != nil
	}
	text, ok := readScript(p.fsys, path)
	if !ok {
		c[path] = nil
		return nil, false
	}
	m := &moduleText{text: text, esmLike: mayBeESM(text)}
	c[path] = m
	return m, true
}

// namesMissing is which of the names an ES module imports the module at
// path cannot export by any reading of node's: for a CommonJS module,
// names node's lexer cannot find in it; for an ES module, or a script
// that may be one, names not in its text. None when it cannot be sure.
func (p *Preflight) namesMissing(path string, wanted, user []string, flagged bool, scopes map[string]scope, cache moduleTexts) *namedExportError {
	if len(wanted) == 0 || !isScript(path) {
		return nil
	}
	esm, ok := p.readAsESM(path, flagged, scopes, cache)
	if !ok {
		return nil
	}
	e := &namedExportError{commonJS: !esm}
	if esm {
		e.names = p.namesNotWritten(path, wanted, user, flagged, scopes, cache)
	} else if names, ok := p.exportNames(path, user, cache); ok {
		for _, n := range wanted {
			if !names[n] && n != "module.exports" {
				e.names = append(e.names, n)
			}
		}
	}
	if len(e.names) == 0 {
		return nil
	}
	return e
}

// readAsESM reports whether node may read the script at path as an ES
// module: by its extension or its package's "type"; under no "type",
// Node 20.19 and 22.7 on if it has the syntax of one, and any node with
// --experimental-default-type=module. False, not ok, when it cannot be
// read.
func (p *Preflight) readAsESM(path string, flagged bool, scopes map[string]scope, cache moduleTexts) (esm, ok bool) {
	switch format, _ := p.scriptFormat(path, scopes); format {
	case formatESM:
		return true, true
	case formatTypeless:
		m, ok := cache.read(p, path)
		return ok && (m.esmLike || flagged), ok
	}
	return false, true
}

// namesNotWritten is which of the names wanted are written nowhere in the
// ES module at path nor in what it re-exports whole (`export * from
// "y"`): no ES module exports a name without writing it (`export const
// a`, `export { b as a }`, `export { a } from "y"`), and a CommonJS one it
// re-exports has the names node's lexer finds. A name the module mentions
// without exporting passes, unless only in comment lines (uncommented);
// when what it re-exports cannot be followed (a
// builtin, a package's "module-sync", a file not found, too many files),
// none is missing.
func (p *Preflight) namesNotWritten(path string, wanted, user []string, flagged bool, scopes map[string]scope, cache moduleTexts) []string {
	missing := slices.Clone(wanted)
	seen := map[string]bool{}
	queue := []string{path}
	for len(queue) > 0 && len(missing) > 0 {
		file := queue[0]
		queue = queue[1:]
		if seen[file] {
			continue
		}
		if seen[file] = true; len(seen) > cjsFilesAtMost {
			return nil
		}
		esm, ok := p.readAsESM(file, flagged, scopes, cache)
		if !ok {
			return nil
		}
		if !esm {
			names, ok := p.exportNames(file, user, cache)
			if !ok {
				return nil
			}
			missing = slices.DeleteFunc(missing, func(n string) bool { return names[n] })
			continue
		}
		m, _ := cache.read(p, file)
		typeScript := isTypeScript(file)
		missing = slices.DeleteFunc(missing, func(n string) bool { return written(m.namesView(), n, typeScript) })
		for _, spec := range starExports(m.text) {
			next, ok := p.reexported(file, spec, true, user)
			if !ok || next == "" || !isScript(next) {
				return nil // not found here, or a builtin's names, or a URL's
			}
			queue = append(queue, next)
		}
	}
	return missing
}

// written reports whether name may be written in view (namesView): as a
// word not part of a longer one, or, for a name that is no identifier,
// anywhere (`export { a as "a-b" }`). In TypeScript (typeScript), not as
// the name an interface or a type alias declares: node erases those, and
// what is written only so is no export.
func written(view []byte, name string, typeScript bool) bool {
	if n := jsNameAt([]byte(name)); len(n) != len(name) {
		return bytes.Contains(view, []byte(name))
	}
	for _, at := range after(view, name, 0) {
		// Only an ASCII letter, digit, _ or $ beside it makes a longer
		// name: a character beyond ASCII may be anything, and counts as
		// written.
		start := at - len(name)
		if start > 0 && asciiNameByte(view[start-1]) || at < len(view) && asciiNameByte(view[at]) {
			continue
		}
		if typeScript && declaresType(view[:start]) {
			continue
		}
		return true
	}
	return false
}

// declaresType reports whether before ends with the word interface or
// type and a gap: what follows is the name of a type.
func declaresType(before []byte) bool {
	trimmed := bytes.TrimRight(before, " \t")
	if len(trimmed) == len(before) {
		return false
	}
	for _, word := range []string{"interface", "type"} {
		if w, ok := bytes.CutSuffix(trimmed, []byte(word)); ok && (len(w) == 0 || !asciiNameByte(w[len(w)-1]) && w[len(w)-1] != '.') {
			return true
		}
	}
	return false
}

// unescaped is text with its \uXXXX and \u{X…} escapes read.
func unescaped(text []byte) []byte {
	var out []byte
	for {
		i := bytes.Index(text, []byte(`\u`))
		if i < 0 {
			return append(out, text...)
		}
		out, text = append(out, text[:i]...), text[i+2:]
		var hex []byte
		n := 0 // the escape's length after \u
		if len(text) > 0 && text[0] == '{' {
			if end := bytes.IndexByte(text, '}'); end > 1 && end <= 7 {
				hex, n = text[1:end], end+1
			}
		} else if len(text) >= 4 {
			hex, n = text[:4], 4
		}
		r, err := strconv.ParseUint(string(hex), 16, 32)
		if n == 0 || err != nil {
			out = append(out, `\u`...)
			continue
		}
		out, text = utf8.AppendRune(out, rune(r)), text[n:]
	}
}

// starExports are the specifiers an ES module re-exports whole: `export *
// from "y"`, not `export * as ns from "y"`, whose one name is written.
func starExports(text []byte) []string {
	var out []string
	for _, at := range after(text, "export", 1) {
		rest := skipGap(text[at:])
		if len(rest) == 0 || rest[0] != '*' {
			continue
		}
		rest, ok := bytes.CutPrefix(skipGap(rest[1:]), []byte("from"))
		if !ok {
			continue
		}
		if spec, n := jsStringAt(skipGap(rest)); n > 0 {
			out = append(out, string(spec))
		}
	}
	return out
}

// namedExportError is node's refusal of an ES module that imports by name
// what the module it imports does not export.
type namedExportError struct {
	names    []string // every name missing; node says one
	spec     string
	commonJS bool // the module is CommonJS, whose names node's lexer finds
}

func (e *namedExportError) Error() string {
	if e.commonJS {
		return fmt.Sprintf("SyntaxError: Named export '%s' not found. The requested module '%s' is a CommonJS module, which may not support all module.exports as named exports.", e.names[0], e.spec)
	}
	return fmt.Sprintf("SyntaxError: The requested module '%s' does not provide an export named '%s'", e.spec, e.names[0])
}
