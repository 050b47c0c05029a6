package preflight

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hasync/launcher/launcher/shortage"
)

// A package.json as node reads it. Node 18 and 20 parse the whole file
// with JSON.parse; Node 22 and later (21 too, which the check counts with
// 18) read it with their own reader, simdjson's on-demand parser: it checks
// the text's UTF-8 and strings, the top-level object's keys, colons and
// commas, and the fields node uses ("name", "type", "exports", "imports",
// "scripts"), and skips every other value by its strings and brackets. So
// each refuses files the other reads: a trailing comma inside
// "dependencies" fails only JSON.parse; a file saved in Latin-1, a top
// level that is not an object, or a "name" that is not a string fails only
// the reader. Measured under Node 18.20, 20.20, 21.7, 22.4, 22.11, 22.12,
// 22.17, 22.23, 23.5, 24.22 and 26.12.

const (
	// parserEras read a package.json with JSON.parse.
	parserEras = era18 | era20
	// readerEras read it with node's own reader.
	readerEras = era22 | era22Detect | eraNow | eraStrips
	// kindlessEras are those whose reader refuses an "exports", "imports"
	// or "scripts" that begins as no JSON value does (NaN, 'single
	// quotes'), by asking its kind: 22.17 and 23.5 did, 22.23 and 24 do
	// not.
	kindlessEras = era22 | era22Detect | eraNow
)

// packageJSON holds the fields of package.json that preflight reads.
type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Main    string `json:"main"`
	// Type is "module" when node reads the package's .js files as ES
	// modules, "commonjs" or "" otherwise.
	Type         string            `json:"type"`
	Dependencies map[string]string `json:"dependencies"`
	// DevDependencies are left out of an image by `npm prune --omit=dev`.
	DevDependencies map[string]string `json:"devDependencies"`
	// Exports lets the package's own code require it by its name.
	Exports json.RawMessage `json:"exports"`
	// Imports maps the package's own "#…" specifiers (subpath imports).
	Imports json.RawMessage `json:"imports"`
	// OptionalDependencies carries the per-platform packages of napi-rs's
	// scheme (and sharp's, parcel's): the parent loads the one for the
	// platform it runs on.
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	Engines              struct {
		Node string `json:"node"`
	} `json:"engines"`
	Binary *struct {
		ModuleName   string `json:"module_name"`
		ModulePath   string `json:"module_path"`
		NAPIVersions []int  `json:"napi_versions"`
	} `json:"binary"`
	Gypfile bool     `json:"gypfile"`
	OS      []string `json:"os"`
	CPU     []string `json:"cpu"`
	Libc    []string `json:"libc"`

	// refused is what the reader of Node 22 and later stops at in a file
	// JSON.parse reads (Node 18's and 20's): nil when every node reads it.
	refused *packageConfigError
}

// maxPackageJSON caps a package.json read; real ones are a few KiB.
const maxPackageJSON = 4 << 20

// readPackageJSON reads dir's package.json, once in a run that notes its
// reads (what it returns is shared: read it, never change it).
func readPackageJSON(fsys *files, dir string) (*packageJSON, error) {
	if fsys == nil {
		return parsePackageJSON(fsys, dir)
	}
	fsys.mu.Lock()
	read, ok := fsys.packages[dir]
	fsys.mu.Unlock()
	if ok {
		return read.pj, read.err
	}
	pj, err := parsePackageJSON(fsys, dir)
	if err != nil && shortage.Is(err) {
		return pj, err // a shortage of the moment: asked again, it may pass
	}
	fsys.mu.Lock()
	if fsys.packages == nil {
		fsys.packages = map[string]packageRead{}
	}
	fsys.packages[dir] = packageRead{pj, err}
	fsys.mu.Unlock()
	return pj, err
}

func parsePackageJSON(fsys *files, dir string) (*packageJSON, error) {
	path := filepath.Join(dir, "package.json")
	f, _, err := fsys.open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(&limitedReader{f, maxPackageJSON})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a byte-order mark, which every node skips (Windows editors write one)
	var p packageJSON
	broken := &packageConfigError{file: path}
	var mistyped *json.UnmarshalTypeError
	// Unmarshal, not a Decoder: JSON.parse refuses whatever follows the
	// object. A field of a type node ignores ("main": false as
	// dunder-proto writes it, old packages' "engines" array) is left
	// empty and the rest read, as node reads them.
	switch err := json.Unmarshal(b, &p); {
	case err != nil && !errors.As(err, &mistyped):
		broken.parsed, broken.eras = describeJSONFault(b, err), parserEras
	case bytes.Equal(bytes.Trim(b, " \t\r\n"), []byte("null")):
		broken.parsed, broken.eras = nullFault, parserEras // node reads its fields: a TypeError
	}
	broken.read = readPackageConfig(b)
	broken.eras |= broken.read.eras
	switch {
	case broken.parsed != "":
		return nil, broken
	case broken.read.fault != "":
		p.refused = broken // JSON.parse reads it: Node 18 and 20 run what it says
	}
	return &p, nil
}

// nullFault is a package.json that is null: JSON.parse reads it, and node
// then fails to read its fields.
const nullFault = "it is null, not an object"

// packageConfigError is a package.json node fails on where it reads it (to
// resolve the package, or to load a .js file under it by its "type"), in
// the eras whose reader refuses it.
type packageConfigError struct {
	file   string
	eras   era       // the eras that fail on it wherever they read it
	parsed string    // what JSON.parse (Node 18 and 20) stops at, and where; "" when it reads the file
	read   readFault // what the reader of Node 22 and later makes of it
}

func (e *packageConfigError) Error() string { return "Invalid package config " + e.file + "." }

// resolving are the eras that fail on it as they resolve through its
// field, "exports" (the package by its name) or "imports" (a "#…"
// specifier): eras, and every later one where that field is not JSON.
func (e *packageConfigError) resolving(field string) era {
	if field == "exports" && e.read.exportsNotJSON || field == "imports" && e.read.importsNotJSON {
		return e.eras | readerEras
	}
	return e.eras
}

// describe says what is wrong with it, as the node of era now finds it
// (with now unknown, as JSON.parse does when it fails).
func (e *packageConfigError) describe(now era) string {
	if e.read.fault != "" && (now&readerEras != 0 || e.parsed == "") {
		if e.read.syntax {
			return "is not JSON (" + e.read.fault + ")"
		}
		return "is not a package.json that Node 22 and later read (" + e.read.fault + ")"
	}
	if e.parsed == nullFault {
		return "is not a package.json node reads (" + e.parsed + ")"
	}
	return "is not JSON (" + e.parsed + ")"
}

// said is node's words for it in era now: Node 18's and 20's require()
// reads a package.json with JSON.parse, and says so; later nodes parse
// "exports" and "imports" only as they resolve through them.
func (e *packageConfigError) said(now era, required bool) string {
	switch {
	case now&parserEras != 0 && e.parsed == nullFault:
		return "TypeError: Cannot convert undefined or null to object"
	case now&parserEras != 0 && required:
		return "SyntaxError: Error parsing " + e.file
	case now&readerEras != 0 && e.read.fault == "":
		return `SyntaxError, as it parses the "exports" or "imports" it resolves through`
	}
	return e.Error()
}

// readFault is what the reader of Node 22 and later stops at in a
// package.json.
type readFault struct {
	fault  string // where, and what; "" when it reads the file
	eras   era    // the eras that stop there
	syntax bool   // a fault of JSON's syntax, not of the encoding or a field's kind
	// "exports" or "imports" is an object or an array JSON.parse refuses,
	// which the reader takes as written and node parses as it resolves
	// through the field.
	exportsNotJSON, importsNotJSON bool
}

// readPackageConfig models the reader of Node 22 and later (see the top of
// this file). A fault only the readers up to 22.17 and 23.5 stop at is
// kept while the walk looks on for one every one of them stops at. What
// follows the object up to a last closing brace, and brackets of the other
// kind inside a value, are taken as read, as that reader takes them. (Not
// jsonscan's Object, which holds to encoding/json: it refuses what this
// reader reads, a key given twice, a scalar JSON does not write, an
// unknown escape in a field node does not read.)
func readPackageConfig(b []byte) readFault {
	at := func(i int, what string, syntax bool) readFault {
		return readFault{fault: jsonPlace(b, i) + ": " + what, eras: readerEras, syntax: syntax}
	}
	// Its first stage reads the whole text before any field: its UTF-8,
	// and its strings, each of which must end and hold no control
	// character.
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return at(i, "a byte that is not UTF-8 (the file was saved in another encoding)", false)
		}
		i += n
	}
	open := -1
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case open < 0:
			if c == '"' {
				open = i
			}
		case c == '\\':
			i++
		case c == '"':
			open = -1
		case c < 0x20:
			return at(i, fmt.Sprintf("a control character (%U) inside a string, where JSON writes an escape (\\t, \\n, \\u00XX)", c), true)
		}
	}
	if open >= 0 {
		return at(open, "a string that does not end", true)
	}
	i := skipJSONSpace(b, 0)
	if i == len(b) {
		return readFault{fault: "it is empty", eras: readerEras, syntax: true}
	}
	if b[i] != '{' {
		kind, ok := jsonKinds[b[i]]
		if !ok {
			return at(i, "it does not begin with an object's opening brace", true)
		}
		return at(i, "the top level is "+kind+", not an object", false)
	}
	if end := len(bytes.TrimRight(b, " \t\r\n")) - 1; b[end] != '}' {
		return at(end, "it does not end with the object's closing brace", true)
	}
	var kindless readFault
	notJSON := map[string]bool{}
	if i = skipJSONSpace(b, i+1); b[i] == '}' {
		return kindless
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return at(i, "a key (a string in double quotes) was expected", true) // not a trailing comma, not 'single quotes'
		}
		j, _ := skipJSONString(b, i) // it ends: the first stage saw to that
		key := string(b[i+1 : j-1])  // as written: node matches keys unescaped
		if i = skipJSONSpace(b, j); i >= len(b) || b[i] != ':' {
			return at(i, "a colon was expected after the key", true)
		}
		v := skipJSONSpace(b, i+1)
		end, ok := skipJSONValue(b, v)
		if !ok {
			return at(v, "a value was expected", true)
		}
		value := b[v:end]
		switch key {
		case "name", "type":
			if what := jsonStringFault(value); what != "" {
				return at(v, fmt.Sprintf("%q %s", key, what), false)
			}
		case "exports", "imports", "scripts":
			_, known := jsonKinds[value[0]]
			switch {
			case !known && kindless.fault == "":
				kindless = at(v, fmt.Sprintf("%q begins as no JSON value does", key), true)
				kindless.eras = kindlessEras
			case value[0] == '"' && key != "scripts":
				if what := jsonStringFault(value); what != "" {
					return at(v, fmt.Sprintf("%q %s", key, what), false)
				}
			case key != "scripts" && (value[0] == '{' || value[0] == '[') && !json.Valid(value):
				notJSON[key] = true
			}
		}
		if i = skipJSONSpace(b, end); i >= len(b) {
			return at(i, "the object does not end", true)
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case '}':
			kindless.exportsNotJSON, kindless.importsNotJSON = notJSON["exports"], notJSON["imports"]
			return kindless
		default:
			return at(i, "a comma or the object's closing brace was expected", true)
		}
	}
}

// jsonKinds names the kind of JSON value each first byte begins.
var jsonKinds = func() map[byte]string {
	m := map[byte]string{'{': "an object", '[': "an array", '"': "a string", 't': "a boolean", 'f': "a boolean", 'n': "null", '-': "a number"}
	for c := byte('0'); c <= '9'; c++ {
		m[c] = "a number"
	}
	return m
}()

// jsonStringFault is what node's reader finds wrong in a value it reads
// as a string ("name", "type", an "exports" string): not a string, or an
// escape it cannot turn into text; "" when it reads it.
func jsonStringFault(value []byte) string {
	if value[0] != '"' {
		if len(value) > 20 {
			value = append(value[:20:20], "…"...)
		}
		return fmt.Sprintf("is %s, not a string", value)
	}
	s := value[1 : len(value)-1]
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if i < len(s) && strings.IndexByte(`"\\/bfnrt`, s[i]) >= 0 {
			continue
		}
		if i >= len(s) || s[i] != 'u' || i+5 > len(s) {
			return fmt.Sprintf("holds %q, an escape JSON does not have", s[i-1:min(i+1, len(s))])
		}
		hex := s[i+1 : i+5]
		u, err := strconv.ParseUint(string(hex), 16, 16)
		switch {
		case err != nil:
			return fmt.Sprintf("holds %q, an escape JSON does not have", s[i-1:i+5])
		case u >= 0xdc00 && u <= 0xdfff:
			return fmt.Sprintf("holds %q, half of a UTF-16 surrogate pair", s[i-1:i+5])
		case u >= 0xd800 && u <= 0xdbff:
			low := s[i+5:]
			if len(low) < 6 || low[0] != '\\' || low[1] != 'u' {
				return fmt.Sprintf("holds %q, half of a UTF-16 surrogate pair", s[i-1:i+5])
			}
			if l, err := strconv.ParseUint(string(low[2:6]), 16, 16); err != nil || l < 0xdc00 || l > 0xdfff {
				return fmt.Sprintf("holds %q, half of a UTF-16 surrogate pair", s[i-1:i+5])
			}
			i += 6
		}
		i += 4
	}
	return ""
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSONString skips the string that starts at b[i]; false when it does
// not end.
func skipJSONString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// skipJSONValue skips a value by its strings and brackets, as node 22's
// reader skips what it does not read; false when the value does not end.
func skipJSONValue(b []byte, i int) (int, bool) {
	depth := 0
	for start := i; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			var ok bool
			if i, ok = skipJSONString(b, i); !ok {
				return i, false
			}
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i, i > start
			}
			depth--
			i++
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return i, i > start
		default:
			i++
		}
		if depth == 0 && i > start && (b[i-1] == '"' || b[i-1] == '}' || b[i-1] == ']') {
			return i, true
		}
	}
	return i, false
}

// describeJSONFault says where a JSON document goes wrong, by line and
// column, in encoding/json's words.
func describeJSONFault(b []byte, err error) string {
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return "it ends too early"
	}
	// Offset counts the bytes read, the wrong one among them.
	return fmt.Sprintf("%s: %v", jsonPlace(b, int(syntax.Offset)-1), syntax)
}

// jsonPlace is byte i of b as line and column.
func jsonPlace(b []byte, i int) string {
	i = min(max(i, 0), len(b))
	return fmt.Sprintf("line %d, column %d", 1+bytes.Count(b[:i], []byte("\n")), i-bytes.LastIndexByte(b[:i], '\n'))
}
