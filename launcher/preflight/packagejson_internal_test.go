package preflight

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// What the reader of Node 22 and later makes of a package.json, as node
// was seen to (requiring a package with each, importing it, and loading a
// .js file under each as the app's own): Node 22.11, 22.23, 24 and 26
// for every document, Node 21.7, 22.4, 22.12, 22.17 and 23.5 for those of
// a kind. A fault between the top-level fields, or one that leaves a
// string or a bracket open, fails there; one inside a value node skips
// does not; the UTF-8 of the whole text, the strings' control characters,
// and the fields node reads ("name", "type", "exports", "imports",
// "scripts") are its own.
func TestReadPackageConfig(t *testing.T) {
	for _, c := range []struct {
		doc     string
		eras    era  // that fail on it: 0 when read
		syntax  bool // with eras, a fault of JSON's syntax
		fault   string
		exports bool // "exports" is not JSON
		imports bool // "imports" is not JSON
	}{
		{doc: `{"name":"p","dependencies":{"a":"1",}}`},
		{doc: `{"name":"p","x":[1,,2]}`},
		{doc: `{"name":"p","x":tru}`},
		{doc: `{"name":"p","x":01}`},
		{doc: `{"name":"p","x":NaN}`},
		{doc: `{"name":"p","scripts":{"a":"b" "c":"d"}}`},
		{doc: `{"name":"p","b":{"c":1]}`},
		{doc: `{"name":"p","b":"\q"}`},
		{doc: `{"name":"p"}{"x":1}`},
		{doc: `{"name":"p"}}`},
		{doc: `{"name":"p"} x}`},
		{doc: `{"main":"nope.js","main":"index.js"}`},
		{doc: `{"n\u0061me":1}`},
		{doc: "{\"a\":1\x01}"},
		{doc: "{\"a\":\"\x7f\"}"},
		{doc: `{"name":"\ud800\udc00"}`},
		{doc: `{"description":"\ud800","\ud800":1,"main":"\ud800index.js","version":"\udc00"}`},
		{doc: `{"exports":{".":"./index.js","./x":"\ud800"},"imports":{"#x":"\ud800"},"scripts":{"a":"\ud800"}}`},
		{doc: `{"main":NaN,"exports":1}`},
		{doc: `{"main":'./index.js'}`},
		{doc: `{"name":"p","exports":{".":"./index.js",}}`, exports: true},
		{doc: `{"name":"p","imports":{"#x":"./index.js",}}`, imports: true},
		{doc: `{"name":"p","scripts":{"a":"b",}}`},
		{doc: `{"exports":NaN}`, eras: kindlessEras, syntax: true, fault: `line 1, column 12: "exports" begins as no JSON value does`},
		{doc: `{"imports":NaN}`, eras: kindlessEras, syntax: true},
		{doc: `{"scripts":'x'}`, eras: kindlessEras, syntax: true},
		{doc: `{"exports":'./index.js',"name":1}`, eras: readerEras, fault: `"name" is 1, not a string`},
		{doc: `{"name":"p",}`, eras: readerEras, syntax: true, fault: "line 1, column 13: a key (a string in double quotes) was expected"},
		{doc: "{\n  \"name\": \"p\",\n  \"main\": \"index.js\",\n}\n", eras: readerEras, syntax: true, fault: "line 4, column 1: a key"},
		{doc: `{"name":"p" "x":1}`, eras: readerEras, syntax: true},
		{doc: `{'name':'p'}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p","x":"a`, eras: readerEras, syntax: true, fault: "line 1, column 17: a string that does not end"},
		{doc: `{"name":"p","x":{"y":1}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p","a":}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p","a" 1}`, eras: readerEras, syntax: true},
		{doc: `{,"name":"p"}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p",,"b":2}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p","b":[1,2}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p","b":[}`, eras: readerEras, syntax: true},
		{doc: `{"name":"p"} 1`, eras: readerEras, syntax: true, fault: "it does not end with the object's closing brace"},
		{doc: `{"main":"index.js"} x`, eras: readerEras, syntax: true},
		{doc: "", eras: readerEras, syntax: true, fault: "it is empty"},
		{doc: " \n", eras: readerEras, syntax: true},
		{doc: `[]`, eras: readerEras, fault: "the top level is an array, not an object"},
		{doc: `"x"`, eras: readerEras},
		{doc: `1`, eras: readerEras},
		{doc: `true`, eras: readerEras},
		{doc: `null`, eras: readerEras, fault: "the top level is null, not an object"},
		{doc: "{\"name\":\"a\",\"description\":\"J\xfcrgen\"}", eras: readerEras, fault: "line 1, column 29: a byte that is not UTF-8"},
		{doc: "{\"a\xff\":1}", eras: readerEras},
		{doc: "{\"a\":\"\xc0\xaf\"}", eras: readerEras},
		{doc: "{\"a\":\"\xed\xa0\x80\"}", eras: readerEras},
		{doc: "{\"a\":\"\xf4\x90\x80\x80\"}", eras: readerEras},
		{doc: "{\"description\":\"a\tb\"}", eras: readerEras, syntax: true, fault: "line 1, column 18: a control character (U+0009) inside a string"},
		{doc: "{\"a\x01\":1}", eras: readerEras, syntax: true},
		{doc: "{\"a\":\"\x00\"}", eras: readerEras, syntax: true},
		{doc: `{"name":"\ud800"}`, eras: readerEras, fault: `line 1, column 9: "name" holds "\\ud800", half of a UTF-16 surrogate pair`},
		{doc: `{"name":"\udc00"}`, eras: readerEras},
		{doc: `{"name":"\ud800\u0041"}`, eras: readerEras},
		{doc: `{"type":"\ud800"}`, eras: readerEras},
		{doc: `{"exports":"./\ud800index.js"}`, eras: readerEras},
		{doc: `{"name":"a\x"}`, eras: readerEras, fault: `"name" holds "\\x", an escape JSON does not have`},
		{doc: `{"name":1}`, eras: readerEras, fault: `line 1, column 9: "name" is 1, not a string`},
		{doc: `{"name":null}`, eras: readerEras},
		{doc: `{"type":null}`, eras: readerEras},
		{doc: `{"type":1}`, eras: readerEras},
		{doc: `{"type":'module'}`, eras: readerEras},
	} {
		got := readPackageConfig([]byte(c.doc))
		if got.eras != c.eras || (c.eras != 0 && got.syntax != c.syntax) || !strings.Contains(got.fault, c.fault) || got.exportsNotJSON != c.exports || got.importsNotJSON != c.imports || (got.eras == 0) != (got.fault == "") {
			t.Errorf("readPackageConfig(%q) = %+v; want eras %b, syntax %v, %q, exports not JSON %v, imports %v", c.doc, got, c.eras, c.syntax, c.fault, c.exports, c.imports)
		}
	}
}

// A package.json is read as node reads it: a byte-order mark skipped, a
// mistyped field left out; one node fails on is an error that says where,
// and in which eras, or, where JSON.parse reads it, a note of the eras
// whose reader refuses it on what was read.
func TestParsePackageJSON(t *testing.T) {
	for _, c := range []struct {
		doc       string
		name      string // read
		fault     string // in the error, or in what refused says
		eras      era
		resolving era // when not eras
	}{
		{doc: "\xef\xbb\xbf{\"name\":\"p\",\"type\":\"module\"}", name: "p"},
		{doc: `{"name":"p","main":false,"engines":["node >= 6"]}`, name: "p"},
		{doc: "{\n  \"name\": \"p\",\n}\n", fault: "line 3, column 1: invalid character '}'", eras: allEras},
		{doc: "{\n  \"name\": \"p\",\n  \"dependencies\": { \"a\": \"1\", }\n}\n", fault: "line 3, column 31: invalid character '}'", eras: parserEras},
		{doc: `{"name":"p","exports":{".":"./index.js",}}`, fault: "line 1, column 41: invalid character '}'", eras: parserEras, resolving: allEras},
		{doc: "{\"name\":\"p\"}\n{\"x\":1}\n", fault: "line 2, column 1: invalid character '{' after top-level value", eras: parserEras},
		{doc: "", fault: "unexpected end of JSON input", eras: allEras},
		{doc: " null\n", fault: nullFault, eras: allEras},
		{doc: "{\"name\":\"p\",\"type\":\"module\",\"author\":\"J\xfcrgen\"}", name: "p", fault: "a byte that is not UTF-8", eras: readerEras},
		{doc: `{"name":1,"type":"module"}`, fault: `"name" is 1, not a string`, eras: readerEras},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if c.resolving == 0 {
			c.resolving = c.eras
		}
		pj, err := parsePackageJSON(noting(), dir)
		var broken *packageConfigError
		if err == nil && pj.refused != nil {
			broken = pj.refused
		}
		switch {
		case c.eras&parserEras == 0 && (err != nil || pj.Type != "module" && c.fault != "" || pj.Name != c.name):
			t.Errorf("%q: %+v, %v; want it read, the name %q", c.doc, pj, err, c.name)
		case c.eras&parserEras != 0 && !errors.As(err, &broken):
			t.Errorf("%q: %+v, %v; want an error", c.doc, pj, err)
		case c.fault == "" && broken != nil:
			t.Errorf("%q: refused (%+v); want it read", c.doc, broken)
		case c.fault != "" && (broken == nil || !strings.Contains(broken.describe(0), c.fault) || broken.eras != c.eras || broken.resolving("exports") != c.resolving):
			t.Errorf("%q: %+v; want %q in eras %b, resolving in %b", c.doc, broken, c.fault, c.eras, c.resolving)
		}
	}
}

// Whatever a package.json holds, what node's reader makes of it is told
// without a panic, and a JSON object saved as UTF-8 whose fields node
// reads are strings (or absent) always is read.
func FuzzReadPackageConfig(f *testing.F) {
	f.Add([]byte(`{"name":"p","dependencies":{"a":"1",}}`))
	f.Add([]byte(`{"a":"\"}","b":[{"c":"]"}]}`))
	f.Add([]byte(`{"name":"\ud800\udc00","type":"module","exports":{".":"./i.js"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		read := readPackageConfig(doc)
		var object map[string]json.RawMessage
		if json.Unmarshal(doc, &object) != nil || object == nil || !utf8.Valid(doc) {
			return
		}
		// Each field as written, a key given twice included.
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.Token() // the object's opening brace
		for dec.More() {
			key, _ := dec.Token()
			var value json.RawMessage
			if dec.Decode(&value) != nil {
				return
			}
			var s string
			switch key {
			case "name", "type":
			case "exports", "imports", "scripts":
				if value[0] != '"' {
					continue
				}
			default:
				continue
			}
			if json.Unmarshal(value, &s) != nil || strings.ContainsRune(s, utf8.RuneError) {
				return // not a string, or one with half a surrogate pair
			}
		}
		if read.fault != "" || read.exportsNotJSON || read.importsNotJSON {
			t.Fatalf("%q is a JSON object node reads, and refused: %+v", doc, read)
		}
	})
}
