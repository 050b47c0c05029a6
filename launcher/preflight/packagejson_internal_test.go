package preflight

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What node 22 and later read of a package.json that is not JSON, as they
// were seen to (Node 22, 24 and 26 requiring a package with each): a
// fault between the top-level fields, or one that leaves a string or a
// bracket open, fails there too; one inside a field's value does not.
// Node 18 and 20 (JSON.parse) failed on every one.
func TestTopLevelReadable(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`{"name":"p","dependencies":{"a":"1",}}`, true},
		{`{"name":"p","x":[1,,2]}`, true},
		{`{"name":"p","x":tru}`, true},
		{`{"name":"p","x":01}`, true},
		{`{"name":"p","x":NaN}`, true},
		{`{"name":"p","scripts":{"a":"b" "c":"d"}}`, true},
		{`{"name":"p","b":{"c":1]}`, true},
		{`{"name":"p","b":"\q"}`, true},
		{`{"name":"p"}{"x":1}`, true},
		{`{"name":"p",}`, false},
		{"{\n  \"name\": \"p\",\n  \"main\": \"index.js\",\n}\n", false},
		{`{"name":"p" "x":1}`, false},
		{`{'name':'p'}`, false},
		{`{"name":"p","x":"a`, false},
		{`{"name":"p","x":{"y":1}`, false},
		{`{"name":"p","a":}`, false},
		{`{"name":"p","a" 1}`, false},
		{`{,"name":"p"}`, false},
		{`{"name":"p",,"b":2}`, false},
		{`{"name":"p","b":[1,2}`, false},
		{`{"name":"p","b":[}`, false},
		{"", false},
		{" \n", false},
	} {
		if got := topLevelReadable([]byte(c.doc)); got != c.want {
			t.Errorf("topLevelReadable(%q) = %v, want %v", c.doc, got, c.want)
		}
	}
}

// A package.json is read as node reads it: a byte-order mark skipped, a
// mistyped field left out; one that is not JSON is an error that says
// where, and in which eras node fails on it.
func TestParsePackageJSON(t *testing.T) {
	for _, c := range []struct {
		doc   string
		name  string // read, when no error
		fault string // in the error
		eras  era
	}{
		{doc: "\xef\xbb\xbf{\"name\":\"p\",\"type\":\"module\"}", name: "p"},
		{doc: `{"name":"p","main":false,"engines":["node >= 6"]}`, name: "p"},
		{doc: "{\n  \"name\": \"p\",\n}\n", fault: "line 3, column 1: invalid character '}'", eras: allEras},
		{doc: "{\n  \"name\": \"p\",\n  \"dependencies\": { \"a\": \"1\", }\n}\n", fault: "line 3, column 31: invalid character '}'", eras: era18 | era20},
		{doc: "", fault: "it ends too early", eras: allEras},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		pj, err := parsePackageJSON(noting(), dir)
		var broken *packageConfigError
		switch {
		case c.fault == "" && (err != nil || pj.Name != c.name):
			t.Errorf("%q: %+v, %v; want the name %q", c.doc, pj, err, c.name)
		case c.fault != "" && (!errors.As(err, &broken) || !strings.Contains(broken.fault, c.fault) || broken.eras != c.eras):
			t.Errorf("%q: %v (%+v); want %q in eras %b", c.doc, err, broken, c.fault, c.eras)
		}
	}
}

// Whatever a package.json holds, whether node 22 reads it is told without
// a panic, and a valid JSON object always is.
func FuzzTopLevelReadable(f *testing.F) {
	f.Add([]byte(`{"name":"p","dependencies":{"a":"1",}}`))
	f.Add([]byte(`{"a":"\"}","b":[{"c":"]"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		readable := topLevelReadable(doc)
		var object map[string]json.RawMessage
		if json.Unmarshal(doc, &object) == nil && object != nil && !readable {
			t.Fatalf("%q is a JSON object, and not read", doc)
		}
	})
}
