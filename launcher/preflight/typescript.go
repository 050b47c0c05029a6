package preflight

import (
	"errors"
	"fmt"
	"path/filepath"
)

// TypeScript run by node itself: `node src/index.ts`. Node 22.18, 23.6 and
// later (eraStrips) strip the types from a .ts, .mts or .cts and run what is
// left; they do not compile: an enum, a namespace that holds code, a
// constructor's parameter properties, `import x = require()`, `export =`
// and a decorator end node with a SyntaxError at every start, as does a
// .ts under node_modules. An older node, or one started with
// --no-experimental-strip-types, runs no TypeScript: it refuses the
// extension where it loads the file as an ES module
// (ERR_UNKNOWN_FILE_EXTENSION) and elsewhere reads it as JavaScript, which
// fails at its first type annotation or import statement.
//
// The scan below reads a script's tokens with the top-level await's
// tokenizer (strings, comments, templates and regular expressions passed
// over), for the constructs node refuses and for proof that a file is
// TypeScript. It finds what it is sure of; a text it cannot read to its
// end, nothing. TestScanTypeScript_AsNodeStripsIt holds it to node's own
// stripping and V8's parse on the TypeScript and JavaScript packages ship.
//
// A loader node preloads (tsx, ts-node) compiles TypeScript in any node:
// under one, nothing of node's own stripping is judged (compiledByLoader).
//
// Non-goals: type checking, tsconfig.json (node reads none: its paths and
// its module settings do not apply), what a .tsx holds (no node runs it:
// only that node would load one is judged), and the flags
// that change what node strips (--experimental-transform-types compiles
// enums and namespaces): with one set, only what fails in every node is
// judged.

// isTSX reports whether path is TypeScript with JSX, which no node runs:
// it strips no types from a .tsx, and reads one as JavaScript or refuses
// its extension.
func isTSX(path string) bool { return filepath.Ext(path) == ".tsx" }

// isTypeScript reports whether node strips types from path, where it does.
func isTypeScript(path string) bool {
	switch filepath.Ext(path) {
	case ".ts", ".mts", ".cts":
		return true
	}
	return false
}

// typeScriptScan is what the scan of a TypeScript file found: the first
// construct node refuses to strip, and the first line only TypeScript has.
type typeScriptScan struct {
	unsupported     int    // its line; 0 for none
	unsupportedWhat string // node's name for it: "enum", "parameter property", …
	typed           int    // the first line of TypeScript's own syntax, 0 for none found
}

// tsModifiers are the words that make a constructor's parameter a
// parameter property.
var tsModifiers = map[string]bool{"public": true, "private": true, "protected": true, "readonly": true, "override": true}

// tsToken is one token the TypeScript scan has read.
type tsToken struct {
	text  string
	kind  byte // as tlaScan.prevKind
	depth int  // brackets open after it
	line  int
}

// scanTypeScript reads a TypeScript file's text for what node's type
// stripping refuses and for syntax only TypeScript has.
func scanTypeScript(text []byte) typeScriptScan {
	var out typeScriptScan
	s := newTLAScan(text)
	var h [4]tsToken // h[0] the token just read, h[1] the one before, …
	ctor := -1       // the depth inside a constructor's parameters; -1 outside
	ns := -1         // the depth inside a namespace's body; -1 outside
	nsLine := 0
	unsupported := func(line int, what string) {
		if out.unsupported == 0 {
			out.unsupported, out.unsupportedWhat = line, what
		}
	}
	typed := func(line int) {
		if out.typed == 0 || line < out.typed {
			out.typed = line
		}
	}
	for {
		at, ok := s.next()
		if !ok {
			return typeScriptScan{}
		}
		if at < 0 {
			break
		}
		copy(h[1:], h[:3])
		h[0] = tsToken{text: string(s.prev), kind: s.prevKind, depth: len(s.stack), line: s.line}
		if h[0].kind == 'v' {
			h[0].text = ""
		}
		if ctor >= 0 && h[0].depth < ctor {
			ctor = -1
		}
		if ns >= 0 && h[0].depth < ns {
			ns = -1
		}
		word := func(i int, w string) bool { return h[i].kind == 'i' && h[i].text == w }
		ident := func(i int) bool { return h[i].kind == 'i' }
		punct := func(i int, p string) bool { return h[i].kind == 'p' && h[i].text == p }
		property := punct(2, ".") || punct(2, "?.") // x.enum, x.module: a property's name
		sameLine := h[0].line == h[1].line
		switch {
		case word(1, "enum") && ident(0) && sameLine && !property && !word(2, "declare") && !(word(2, "const") && word(3, "declare")):
			unsupported(h[1].line, "enum")
		case (word(2, "namespace") || word(2, "module")) && ident(1) && punct(0, "{") && h[1].line == h[2].line &&
			!(punct(3, ".") || punct(3, "?.")) && !word(3, "declare"):
			if h[2].text == "module" {
				unsupported(h[2].line, "`module` keyword")
			} else if ns < 0 {
				ns, nsLine = h[0].depth, h[2].line
			}
		case ns >= 0 && h[0].depth == ns && ident(0) && !word(1, "declare") && !punct(1, ".") &&
			(word(0, "const") || word(0, "let") || word(0, "var") || word(0, "function") || word(0, "class") || word(0, "enum")):
			unsupported(nsLine, "namespace declaration") // a namespace with code; one of types only is stripped
		case word(2, "import") && ident(1) && !word(1, "type") && punct(0, "=") && !(punct(3, ".") || punct(3, "?.")):
			unsupported(h[2].line, "import equals declaration")
		case word(1, "export") && punct(0, "=") && !property:
			unsupported(h[1].line, "export assignment")
		case punct(0, "(") && word(1, "constructor") && !property:
			ctor = h[0].depth
		case ctor >= 0 && h[1].depth == ctor && ident(0) && h[1].kind == 'i' && tsModifiers[h[1].text] &&
			(punct(2, "(") || punct(2, ",") || punct(2, ")")):
			unsupported(h[1].line, "parameter property")
		case punct(0, "@"):
			// V8 has no decorators: `@Injectable()` is a token it cannot read.
			unsupported(h[0].line, "decorator")
		}
		// What only TypeScript writes: a declaration's type, a parameter's,
		// an interface, a type alias, a cast.
		switch {
		case (word(2, "const") || word(2, "let") || word(2, "var")) && ident(1) && punct(0, ":"):
			typed(h[0].line)
		case ident(1) && punct(0, ":") && (punct(2, "(") || punct(2, ",")) && len(s.stack) > 0 && s.stack[len(s.stack)-1].close == ')':
			typed(h[0].line) // (a: string: no JavaScript has a colon there
		case (word(2, "interface") || word(2, "type")) && ident(1) && h[1].line == h[2].line && !(punct(3, ".") || punct(3, "?.")) &&
			(h[3].kind != 'i' || word(3, "export") || word(3, "declare")) &&
			(punct(0, "=") || punct(0, "<") || punct(0, "{") || word(0, "extends")):
			typed(h[2].line) // type A = …, interface B {
		case word(1, "as") && ident(0) && h[0].line == h[2].line && (h[2].kind == 'v' || punct(2, ")") || punct(2, "]") || ident(2) && !regexWords[h[2].text]) &&
			(len(s.stack) == 0 || s.stack[len(s.stack)-1].close != '}'):
			typed(h[1].line) // x as T: JavaScript has as only in import's and export's braces, and after *
		}
	}
	if len(s.stack) != 0 {
		return typeScriptScan{}
	}
	if out.unsupported > 0 {
		typed(out.unsupported)
	}
	return out
}

// typeSyntaxError is node's refusal of what its type stripping does not
// compile.
type typeSyntaxError struct {
	script string
	what   string
}

func (e *typeSyntaxError) Error() string {
	switch e.what {
	case "decorator":
		return "SyntaxError: Invalid or unexpected token (a decorator, which node's JavaScript does not have)"
	case "`module` keyword":
		return "SyntaxError [ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX]: `module` keyword is not supported. Use `namespace` instead."
	}
	return fmt.Sprintf("SyntaxError [ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX]: TypeScript %s is not supported in strip-only mode", e.what)
}

// typeScriptUnrunError is a TypeScript file loaded by a node that runs no
// TypeScript: refused for its extension where node loads it as an ES
// module, else read as JavaScript, which it is not.
type typeScriptUnrunError struct {
	file      string
	extension bool // ERR_UNKNOWN_FILE_EXTENSION; else a SyntaxError at its line
	line      int
	statement string // the import or export statement the SyntaxError is at; "" for TypeScript's syntax
}

func (e *typeScriptUnrunError) Error() string {
	switch {
	case e.extension:
		return fmt.Sprintf("TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension %q for %s", filepath.Ext(e.file), e.file)
	case e.statement == "import":
		return "SyntaxError: Cannot use import statement outside a module"
	case e.statement != "":
		return "SyntaxError: Unexpected token 'export'"
	}
	return fmt.Sprintf("SyntaxError at %s:%d, where TypeScript's syntax is not JavaScript's", e.file, e.line)
}

// strippedInNodeModulesError is node's refusal to strip the types of a
// package's file.
type strippedInNodeModulesError struct {
	file string
}

func (e *strippedInNodeModulesError) Error() string {
	return fmt.Sprintf("Error [ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING]: Stripping types is currently unsupported for files under node_modules, for \"file://%s\"", e.file)
}

// compiledByLoader is what may still fail of misses where a loader node
// preloads (tsx, ts-node) may compile the app's TypeScript: not what node's
// own type stripping does or refuses, nor a TypeScript file's import of
// ./db.js or ./db that means ./db.ts, which such loaders resolve as tsc
// does; and what a TypeScript file loads, in any node, as the loader runs
// it in any.
func (p *Preflight) compiledByLoader(misses []miss) []miss {
	var out []miss
	for _, m := range misses {
		var stripped *typeSyntaxError
		var unrun *typeScriptUnrunError
		var inPackage *strippedInNodeModulesError
		if errors.As(m.err, &stripped) || errors.As(m.err, &unrun) || errors.As(m.err, &inPackage) {
			continue
		}
		if isTypeScript(m.imp.script) {
			if p.typeScriptSource(p.importDir(m.imp), m.imp.pre) != "" {
				continue
			}
			m.eras = allEras
		}
		out = append(out, m)
	}
	return out
}
