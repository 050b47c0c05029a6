package preflight

import "bytes"

// Top-level await under require(): from Node 20.19 and 22.12 on, require()
// loads an ES module, but only one whose graph (the module and what it
// imports, transitively) awaits nowhere at its top level: require() cannot
// wait. Otherwise it throws ERR_REQUIRE_ASYNC_MODULE before any of the
// graph runs, at every start (temp-dir 3, and tempy 3 through it, required
// by tsc's CommonJS). V8 knows it from its parse; the check reads the
// module's text with the scan below, a tokenizer small enough to be sure of
// what it finds: an await outside every function, method and class body,
// and outside an arrow's expression body (ended by a semicolon, a comma, or
// a new line that cannot go on with it). Where it cannot be sure (a
// regular expression it may misread, brackets that do not balance), it
// finds nothing: a miss rather than a refusal. TestTopLevelAwait_AsV8ParsesIt
// holds it to V8's answer on thousands of real scripts.

// tlaFrame is a bracket the scan is inside.
type tlaFrame struct {
	close  byte   // ) ] or }
	body   bool   // a function's, method's or class's body: what it awaits is not the module's
	object bool   // an object literal's braces, where `if() {` is a method's name and body
	opener []byte // for (: the token before it (if, for, a function's name)
	inTmpl bool   // ${ … } in a template literal
}

// tlaScan reads an ES module's text as JavaScript's tokens, as far as the
// top-level await needs them.
type tlaScan struct {
	text  []byte
	i     int
	line  int
	stack []tlaFrame
	// bodies counts the frames in stack that are bodies.
	bodies int
	// arrows are the depths (len(stack)) of the arrows' expression bodies
	// the scan is in: `async () => await x` awaits in the arrow.
	arrows []int
	// prev is the last token, in the text: an identifier or keyword, or a
	// punctuator; prevKind tells which.
	prev     []byte
	prevKind byte // 'i' identifier or keyword, 'v' a value (number, string, template, regex), 'p' punctuator, 0 none
	// closed is the opener of the ( that the last ) closed.
	closed []byte
	// newLine is whether a line ends between the last token and the one
	// being read: what automatic semicolon insertion goes by.
	newLine bool
	// imports are the specifiers of the module's static imports and
	// re-exports: a string after from, or after import, at the top level.
	imports []string
}

// esmScan is what the scan of an ES module found: the line of its first
// await at the top level (0 for none, or when it cannot be sure), and
// the specifiers it imports and re-exports statically.
type esmScan struct {
	awaits  int
	imports []string
}

// blockOpeners are the words a ( follows whose ) a block follows, not a
// function's body: `if (a) { await b; }` awaits at the top level.
var blockOpeners = map[string]bool{"if": true, "for": true, "while": true, "switch": true, "catch": true, "with": true, "await": true}

// blockWords are the words a block or an object literal follows, not a
// function's or class's body.
var blockWords = map[string]bool{"else": true, "try": true, "finally": true, "do": true, "catch": true, "return": true, "case": true,
	"default": true, "in": true, "of": true, "typeof": true, "void": true, "delete": true, "throw": true, "instanceof": true, "yield": true, "await": true}

// objectWords are the words a { follows that opens an object literal.
var objectWords = map[string]bool{"return": true, "default": true, "in": true, "of": true, "typeof": true, "void": true, "delete": true,
	"throw": true, "instanceof": true, "yield": true, "await": true, "case": true}

// regexWords are the words after which a / starts a regular expression.
var regexWords = map[string]bool{"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true, "delete": true,
	"void": true, "throw": true, "case": true, "do": true, "else": true, "await": true, "yield": true}

// scanESM reads an ES module's text once for its await at the top level
// and its static imports; of a text it cannot read to its end, neither.
func scanESM(text []byte) esmScan {
	s := newTLAScan(text)
	found := 0
	for {
		at, ok := s.next()
		if !ok {
			return esmScan{}
		}
		if at < 0 {
			break
		}
		if found == 0 && at > 0 {
			found = at
		}
	}
	if len(s.stack) != 0 {
		return esmScan{}
	}
	return esmScan{awaits: found, imports: s.imports}
}

// newTLAScan is a scan of text from its start, past a #! line.
func newTLAScan(text []byte) *tlaScan {
	s := &tlaScan{text: text, line: 1}
	if len(text) > 1 && text[0] == '#' && text[1] == '!' {
		s.skipLine()
	}
	return s
}

func (s *tlaScan) skipLine() {
	for s.i < len(s.text) && s.text[s.i] != '\n' {
		s.i++
	}
}

func tlaIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '\\' || c >= 0x80
}

// regexAllowed reports whether a / here starts a regular expression
// rather than dividing.
func (s *tlaScan) regexAllowed() bool {
	switch s.prevKind {
	case 0:
		return true
	case 'i':
		return regexWords[string(s.prev)]
	case 'v':
		return false
	}
	switch string(s.prev) {
	case ")":
		// if (a) /b/.test(c); but await (a) / b divides.
		return blockOpeners[string(s.closed)] && string(s.closed) != "await"
	case "]", "}", "++", "--":
		return false
	}
	return true
}

// next reads one token: the line of an await at the top level, 0 for any
// other token, -1 at the end; false when the text cannot be read so.
func (s *tlaScan) next() (int, bool) {
	t := s.text
	line := s.line // where the last token ended
	for s.i < len(t) {
		c := t[s.i]
		switch {
		case c == '\n':
			s.line++
			s.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.i++
		case c == '/' && s.i+1 < len(t) && t[s.i+1] == '/':
			s.skipLine()
		case c == '/' && s.i+1 < len(t) && t[s.i+1] == '*':
			end := bytes.Index(t[s.i+2:], []byte("*/"))
			if end < 0 {
				return 0, false
			}
			s.countLines(s.i, s.i+end+4)
			s.i += end + 4
		default:
			s.newLine = s.line != line
			return s.token()
		}
	}
	return -1, true
}

func (s *tlaScan) countLines(from, to int) {
	for _, c := range s.text[from:to] {
		if c == '\n' {
			s.line++
		}
	}
}

func (s *tlaScan) token() (int, bool) {
	t := s.text
	c := t[s.i]
	switch {
	case c == '"' || c == '\'':
		start := s.i
		if !s.quoted(c) {
			return 0, false
		}
		if len(s.stack) == 0 && s.prevKind == 'i' && (string(s.prev) == "from" || string(s.prev) == "import") {
			if spec := s.text[start+1 : s.i-1]; bytes.IndexByte(spec, '\\') < 0 {
				s.imports = append(s.imports, string(spec))
			}
		}
		s.prev, s.prevKind = nil, 'v'
	case c == '`':
		s.i++
		if !s.template() {
			return 0, false
		}
	case c >= '0' && c <= '9' || c == '.' && s.i+1 < len(t) && t[s.i+1] >= '0' && t[s.i+1] <= '9':
		for s.i < len(t) && (tlaIdentByte(t[s.i]) || t[s.i] == '.') {
			s.i++
		}
		s.prev, s.prevKind = nil, 'v'
	case tlaIdentByte(c) || c == '#':
		start := s.i
		s.i++
		for s.i < len(t) && tlaIdentByte(t[s.i]) {
			s.i++
		}
		if len(s.arrows) > 0 && s.newLine && s.expressionEnded() && !continuesExpression(t[start:s.i]) {
			// After a whole expression, a word on a new line cannot go on
			// with it (but in and instanceof): a semicolon is inserted
			// before it, and an arrow's expression body ends there
			// (`const f = async () => 1`, then `await 0`).
			s.endArrows()
		}
		at := 0
		if string(t[start:s.i]) == "await" && s.awaitsHere() {
			at = s.line
		}
		s.prev, s.prevKind = t[start:s.i], 'i'
		return at, true
	case c == '/' && s.regexAllowed():
		if !s.regex() {
			return 0, false
		}
		s.prev, s.prevKind = nil, 'v'
	default:
		return 0, s.punctuator()
	}
	return 0, true
}

// awaitsHere reports whether an await just read is the operator at the
// module's top level: not in a body, not in an arrow's expression body,
// not a property's name (x.await, { await: 1 }), not an exported name
// (`export { a as await }`).
func (s *tlaScan) awaitsHere() bool {
	if s.bodies > 0 || len(s.arrows) > 0 {
		return false
	}
	if s.prevKind == 'p' && (string(s.prev) == "." || string(s.prev) == "?.") || s.prevKind == 'i' && string(s.prev) == "as" {
		return false
	}
	rest := s.text[s.i:]
	rest = skipGap(rest)
	if len(rest) > 0 && rest[0] == ':' {
		return false
	}
	if len(rest) >= 2 && rest[0] == 'a' && rest[1] == 's' && (len(rest) == 2 || !tlaIdentByte(rest[2])) {
		return false
	}
	if len(rest) > 0 && rest[0] == '(' && !(s.prevKind == 'i' && string(s.prev) == "for") {
		// A method's name (`{ await() { … } }`), or await's operand in
		// parentheses.
		depth := 0
		for i, c := range rest {
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				if after := skipGap(rest[i+1:]); len(after) > 0 && after[0] == '{' {
					return false
				}
				break
			}
		}
	}
	return true
}

// quoted reads a string literal from its opening quote q.
func (s *tlaScan) quoted(q byte) bool {
	t := s.text
	for s.i++; s.i < len(t); s.i++ {
		switch t[s.i] {
		case '\\':
			s.i++
			if s.i < len(t) && t[s.i] == '\n' {
				s.line++
			}
		case '\n':
			return false
		case q:
			s.i++
			return true
		}
	}
	return false
}

// template reads a template literal from after its ` (or after the } of
// a substitution) to its end, or into its next ${, which it enters.
func (s *tlaScan) template() bool {
	t := s.text
	for ; s.i < len(t); s.i++ {
		switch t[s.i] {
		case '\\':
			s.i++
			if s.i < len(t) && t[s.i] == '\n' {
				s.line++
			}
		case '\n':
			s.line++
		case '`':
			s.i++
			s.prev, s.prevKind = nil, 'v'
			return true
		case '$':
			if s.i+1 < len(t) && t[s.i+1] == '{' {
				s.i += 2
				s.push(tlaFrame{close: '}', inTmpl: true})
				s.prev, s.prevKind = t[s.i-2:s.i], 'p'
				return true
			}
		}
	}
	return false
}

// regex reads a regular expression literal from its /.
func (s *tlaScan) regex() bool {
	t := s.text
	class := false
	for s.i++; s.i < len(t); s.i++ {
		switch c := t[s.i]; {
		case c == '\\':
			s.i++
		case c == '\n':
			return false
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			s.i++
			for s.i < len(t) && tlaIdentByte(t[s.i]) {
				s.i++
			}
			return true
		}
	}
	return false
}

func (s *tlaScan) push(f tlaFrame) {
	s.stack = append(s.stack, f)
	if f.body {
		s.bodies++
	}
}

// pop leaves the innermost bracket, which close must close.
func (s *tlaScan) pop(close byte) (tlaFrame, bool) {
	if len(s.stack) == 0 || s.stack[len(s.stack)-1].close != close {
		return tlaFrame{}, false
	}
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if f.body {
		s.bodies--
	}
	for len(s.arrows) > 0 && s.arrows[len(s.arrows)-1] > len(s.stack) {
		s.arrows = s.arrows[:len(s.arrows)-1]
	}
	return f, true
}

// punctuator reads one, and the brackets and arrows it opens or closes.
func (s *tlaScan) punctuator() bool {
	t := s.text
	n := 1 // the punctuators the scan tells apart: ... => ?. ++ --, and single ones
	if s.i+1 < len(t) {
		switch c, d := t[s.i], t[s.i+1]; {
		case c == '.' && d == '.' && s.i+2 < len(t) && t[s.i+2] == '.':
			n = 3
		case c == '=' && d == '>', c == '+' && d == '+', c == '-' && d == '-':
			n = 2
		case c == '?' && d == '.' && !(s.i+2 < len(t) && t[s.i+2] >= '0' && t[s.i+2] <= '9'): // not ?.5
			n = 2
		}
	}
	p := t[s.i : s.i+n]
	s.i += n
	switch string(p) {
	case "(":
		opener := s.prev
		if s.prevKind != 'i' && s.prevKind != 'p' {
			opener = nil
		}
		s.push(tlaFrame{close: ')', opener: opener})
	case "[":
		s.push(tlaFrame{close: ']'})
	case "{":
		body := s.bodyFollows()
		s.push(tlaFrame{close: '}', body: body, object: !body && s.objectFollows()})
	case ")":
		f, ok := s.pop(')')
		if !ok {
			return false
		}
		s.closed = f.opener
	case "]":
		if _, ok := s.pop(']'); !ok {
			return false
		}
	case "}":
		f, ok := s.pop('}')
		if !ok {
			return false
		}
		if f.inTmpl {
			return s.template()
		}
	case ";", ",":
		// An arrow's expression body is an assignment expression: a
		// comma at its depth ends it, as a semicolon does.
		s.endArrows()
	case "=>":
		if rest := skipGap(t[s.i:]); len(rest) == 0 || rest[0] != '{' {
			s.arrows = append(s.arrows, len(s.stack))
		}
	}
	s.prev, s.prevKind = p, 'p'
	return true
}

// endArrows ends the expression bodies of the arrows at the depth the
// scan is at.
func (s *tlaScan) endArrows() {
	for len(s.arrows) > 0 && s.arrows[len(s.arrows)-1] >= len(s.stack) {
		s.arrows = s.arrows[:len(s.arrows)-1]
	}
}

// continuesExpression reports whether a word after a whole expression
// goes on with it: the operators in and instanceof.
func continuesExpression(word []byte) bool {
	return string(word) == "in" || string(word) == "instanceof"
}

// expressionEnded reports whether the last token may end an expression:
// a value, a name, a closing bracket, a postfix ++ or --; not an operator
// or a word that takes an operand (typeof, await, return).
func (s *tlaScan) expressionEnded() bool {
	switch s.prevKind {
	case 'v':
		return true
	case 'i':
		return !regexWords[string(s.prev)]
	case 'p':
		switch string(s.prev) {
		case ")", "]", "}", "++", "--":
			return true
		}
	}
	return false
}

// bodyFollows reports whether a { here opens a function's, method's or
// class's body, going by the token before it; when it may, it does.
func (s *tlaScan) bodyFollows() bool {
	switch s.prevKind {
	case 0:
		return false
	case 'i':
		return !blockWords[string(s.prev)]
	case 'v':
		return true
	}
	switch string(s.prev) {
	case "=>", "]":
		return true
	case ")":
		// `if (a) {`, but in an object literal `if() {` is a method.
		return !blockOpeners[string(s.closed)] || s.inObject()
	}
	return false
}

// objectFollows reports whether a { here, not a body's, opens an object
// literal rather than a block.
func (s *tlaScan) objectFollows() bool {
	switch s.prevKind {
	case 0:
		return false
	case 'i':
		return objectWords[string(s.prev)]
	}
	switch string(s.prev) {
	case ";", "{", "}", ")":
		return false
	case ":":
		return s.inObject() // a property's value; else a label's or a case's block
	}
	return true
}

// inObject reports whether the innermost bracket is an object literal's.
func (s *tlaScan) inObject() bool {
	return len(s.stack) > 0 && s.stack[len(s.stack)-1].object
}

// awaitingModule follows the ES module graph that require() of file
// links: the first module of it found awaiting at its top level, and the
// line; "" when none is. It follows the static imports and re-exports of
// each ES module (by extension or package "type"), as import resolves
// them, up to cjsFilesAtMost modules.
func (p *Preflight) awaitingModule(file string, user []string, scopes map[string]scope, cache moduleTexts) (string, int) {
	seen := map[string]bool{}
	queue := []string{file}
	for len(queue) > 0 && len(seen) < cjsFilesAtMost {
		f := queue[0]
		queue = queue[1:]
		if seen[f] {
			continue
		}
		seen[f] = true
		m, ok := cache.read(p, f)
		if !ok {
			continue
		}
		scan := m.esm()
		if scan.awaits > 0 {
			return f, scan.awaits
		}
		for _, spec := range scan.imports {
			if next, ok := p.reexported(f, spec, true, user); ok && next != "" && isScript(next) && p.esModule(next, scopes) {
				queue = append(queue, next)
			}
		}
	}
	return "", 0
}

// requiredAsyncError is node's ERR_REQUIRE_ASYNC_MODULE: require() of an
// ES module whose graph awaits at its top level, in an era whose require()
// loads ES modules.
type requiredAsyncError struct {
	file   string // the module required
	awaits string // the module of its graph that awaits
	line   int
}

func (e *requiredAsyncError) Error() string {
	return "ERR_REQUIRE_ASYNC_MODULE: require() cannot be used on an ESM graph with top-level await. Use import() instead."
}
