package sourcemap

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mapped is a TypeScript app compiled by tsc 5.9 (the backend's): dist/
// with .js.map files beside, dist-inline/ with the maps inline as data
// URLs, esm/dist/ as ES modules (.mjs). `tsc -p .`, `tsc -p
// tsconfig.inline.json` and `tsc -p esm` in that folder make them again.
var mapped, _ = filepath.Abs(filepath.Join("..", "..", "testdata", "node", "mapped"))

// failed runs the app's entry with PORT=abc, which ends it with a stack
// on stderr, and returns stderr's lines.
func failed(t *testing.T, entry string, nodeArgs ...string) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	cmd := exec.Command(node, append(nodeArgs, filepath.Join(mapped, entry))...)
	cmd.Env = append(os.Environ(), "PORT=abc", "NODE_OPTIONS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("node %v ended 0, want its failure", cmd.Args)
	}
	return strings.Split(strings.TrimSpace(stderr.String()), "\n")
}

// where is a frame's place: "/app/src/config.ts:10:11".
var where = regexp.MustCompile(`(/[^ ()]+:\d+:\d+)\)?$`)

// The frames of a real stack in tsc's output, mapped by the launcher, are
// those node itself prints with --enable-source-maps, with maps in files
// and inline; an ES module's, at the same places (node names a nameless
// frame "<anonymous>").
func TestStack_AsNodeMapsIt(t *testing.T) {
	for _, entry := range []string{"dist/index.js", "dist-inline/index.js", "esm/dist/main.mjs"} {
		t.Run(entry, func(t *testing.T) {
			var want []string
			for _, l := range failed(t, entry, "--enable-source-maps") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "at ") && strings.Contains(l, "ts:") {
					want = append(want, l)
				}
			}
			if len(want) < 2 {
				t.Fatalf("node with its source maps printed %d frames in the sources, want 2 or more: %q", len(want), want)
			}
			plain := failed(t, entry)
			if dist := filepath.Dir(entry); !strings.Contains(strings.Join(plain, "\n"), "/"+dist+"/") {
				t.Fatalf("node without source maps does not name %s: %q", dist, plain)
			}
			a := &App{Root: mapped}
			got := a.Stack(plain)
			places := func(frames []string) (out []string) {
				for _, f := range frames {
					out = append(out, where.FindString(strings.TrimSuffix(f, ")")))
				}
				return out
			}
			if !slices.Equal(places(got), places(want)) || strings.HasSuffix(entry, ".js") && !slices.Equal(got, want) {
				t.Errorf("mapped\n%s\nwant, as node maps them,\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Only the app's own files are mapped: not a package's in node_modules,
// not a file outside the app's folder, not a map outside it; an ES
// module's file:// frame is.
func TestStack_TheAppsOwnFiles(t *testing.T) {
	root := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// One line, its first column from src/a.ts line 3 column 5 (0-based 2, 4).
	const aMap = `{"version":3,"sources":["../src/a.ts"],"names":[],"mappings":"AAEI"}`
	write("app/dist/a.mjs", "x\n//# sourceMappingURL=a.mjs.map\n")
	write("app/dist/a.mjs.map", aMap)
	write("app/node_modules/p/a.js", "x\n//# sourceMappingURL=a.js.map\n")
	write("app/node_modules/p/a.js.map", aMap)
	write("app/dist/out.js", "x\n//# sourceMappingURL=../../elsewhere/out.js.map\n")
	write("elsewhere/out.js.map", aMap)
	write("elsewhere/b.js", "x\n//# sourceMappingURL=b.js.map\n")
	// An inline map longer than the tail read first: the comment starts
	// before it.
	big := `{"version":3,"sources":["../src/big.ts"],"sourcesContent":["` + strings.Repeat("x", 100<<10) + `"],"mappings":"AAEI"}`
	write("app/dist/big.js", strings.Repeat("\n", 70<<10)+"//# sourceMappingURL=data:application/json;base64,"+base64.StdEncoding.EncodeToString([]byte(big))+"\n")
	write("elsewhere/b.js.map", aMap)
	a := &App{Root: filepath.Join(root, "app")}
	got := a.Stack([]string{
		"Error: no",
		"    at file://" + root + "/app/dist/a.mjs:1:1",
		"    at async run (file://" + root + "/app/dist/a.mjs:1:7)",
		"    at dep (" + root + "/app/node_modules/p/a.js:1:1)",
		"    at out (" + root + "/app/dist/out.js:1:1)",
		"    at big (" + root + "/app/dist/big.js:1:1)",
		"    at b (" + root + "/elsewhere/b.js:1:1)",
		"    at Module._compile (node:internal/modules/cjs/loader:1521:14)",
	})
	want := []string{
		"at " + root + "/app/src/a.ts:3:5",
		"at async run (" + root + "/app/src/a.ts:3:5)",
		"at big (" + root + "/app/src/big.ts:3:5)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mapped\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The app's folder relative to the working directory, as
	// LAUNCHER_APP_DIR may be; "" is the working directory (run -- CMD).
	file := filepath.Join(root, "app", "dist", "a.mjs")
	for dir, appDir := range map[string]string{root: "app", filepath.Join(root, "app"): ""} {
		t.Chdir(dir)
		a := &App{Root: appDir}
		if got := a.Stack([]string{"    at file://" + file + ":1:1"}); len(got) != 1 {
			t.Errorf("the app's folder %q from %s: mapped %q", appDir, dir, got)
		}
	}
}

func TestVLQ(t *testing.T) {
	for s, want := range map[string]int32{"A": 0, "C": 1, "D": -1, "gB": 16, "2H": 123, "3H": -123, "+/////D": 1<<30 - 1 + 1<<30} {
		v, used, err := vlq(s)
		if err != nil || v != want || used != len(s) {
			t.Errorf("vlq(%q) = %d, %d, %v; want %d", s, v, used, err, want)
		}
	}
	for _, s := range []string{"", "g", "!", "gggggggB", "+/////P"} {
		if v, _, err := vlq(s); err == nil {
			t.Errorf("vlq(%q) = %d, want an error", s, v)
		}
	}
}

// Find takes the last segment at or before the column; a column before a
// line's first segment, a segment without a source, a line past the end
// are not found. Broken maps are refused with a reason.
func TestParseAndFind(t *testing.T) {
	// Line 1: col 0 → s0 1:1, col 4 → s0 2:3, col 10 → nothing.
	// Line 2: empty. Line 3: col 2 → s1 (root/b.ts) 5:1.
	m, err := Parse([]byte(`{"version":3,"sourceRoot":"root/","sources":["a.ts","b.ts"],"names":["f"],"mappings":"AAAA,IACE,M;;ECGF"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, col int
		want      Pos
		ok        bool
	}{
		{1, 1, Pos{"root/a.ts", 1, 1}, true},
		{1, 4, Pos{"root/a.ts", 1, 1}, true},
		{1, 5, Pos{"root/a.ts", 2, 3}, true},
		{1, 11, Pos{}, false},
		{2, 1, Pos{}, false},
		{3, 2, Pos{}, false},
		{3, 3, Pos{"root/b.ts", 5, 1}, true},
		{4, 1, Pos{}, false},
		{0, 1, Pos{}, false},
	} {
		if p, ok := m.Find(tc.line, tc.col); p != tc.want || ok != tc.ok {
			t.Errorf("Find(%d, %d) = %v, %v; want %v, %v", tc.line, tc.col, p, ok, tc.want, tc.ok)
		}
	}
	for in, why := range map[string]string{
		`{"version":2,"sources":[],"mappings":""}`:          "version 2",
		`{"version":3,"sections":[]}`:                       "index map",
		`{"version":3,"sources":[]}`:                        "no mappings",
		`{"version":3,"sources":["a"],"mappings":"AA"}`:     "2 fields",
		`{"version":3,"sources":["a"],"mappings":"AAAAAA"}`: "more than 5",
		`{"version":3,"sources":["a"],"mappings":"A!"}`:     "not base64",
		`not json`: "source map",
	} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("Parse(%s) = %v, want an error with %q", in, err, why)
		}
	}
}

func TestMappingURL(t *testing.T) {
	for js, want := range map[string]string{
		"x\n//# sourceMappingURL=a.js.map\n":                              "a.js.map",
		"x\n//# sourceMappingURL=a.js.map":                                "a.js.map",
		"//# sourceMappingURL=old.map\nx\n//@ sourceMappingURL=b.map\r\n": "b.map",
		"x\n":                        "",
		"x\n//# sourceMappingURL=\n": "",
	} {
		if got, ok := MappingURL([]byte(js)); got != want || ok != (want != "") {
			t.Errorf("MappingURL(%q) = %q, %v; want %q", js, got, ok, want)
		}
	}
}

// A map from outside (the app's files) never panics Parse or Find, and
// what Find returns is a place.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"dist/config.js.map", "dist/index.js.map"} {
		b, err := os.ReadFile(filepath.Join(mapped, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 5, 10)
	}
	f.Add([]byte(`{"version":3,"sources":["a.ts"],"mappings":"AAAA,IACE,M;;ECGF"}`), 3, 3)
	f.Fuzz(func(t *testing.T, b []byte, line, col int) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if p, ok := m.Find(line, col); ok && (p.Line < 1 || p.Column < 1) {
			t.Errorf("Find(%d, %d) = %v", line, col, p)
		}
	})
}

// Lines from outside (node's stderr) never panic Stack.
func FuzzStack(f *testing.F) {
	f.Add("    at loadConfig (" + mapped + "/dist/config.js:8:15)")
	f.Add("    at file://" + mapped + "/dist/index.js:9:44")
	f.Add("    at x (/etc/passwd.js:1:1)")
	f.Fuzz(func(t *testing.T, s string) {
		a := &App{Root: mapped}
		for _, l := range a.Stack(strings.Split(s, "\n")) {
			if !strings.HasPrefix(l, "at ") {
				t.Errorf("a mapped frame %q", l)
			}
		}
	})
}

// A large real map (meriyah's, 1.7 MB, as Sentry vendors it), parsed and
// asked once: what a failed exit of a bundled app costs the loop.
func BenchmarkParse(b *testing.B) {
	path := filepath.Join("..", "..", ".fixtures", "sentry", "node_modules", "@sentry", "server-utils", "build", "cjs", "vendored", "meriyah", "dist", "meriyah.js.map")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no large map (make fixtures): %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := m.Find(len(m.lines)/2, 10); !ok {
			b.Fatal("not found")
		}
	}
}

// Stack runs on the supervision loop, on lines node's stderr gave: a
// generated file or a map that is a FIFO (or a symlink to one, or to a
// device) must not hold it, as opening a FIFO for reading waits for a
// writer. Neither is mapped; the regular file beside them is.
func TestStack_NeverWaitsOnAFIFO(t *testing.T) {
	root := t.TempDir()
	dist := filepath.Join(root, "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	const aMap = `{"version":3,"sources":["../src/a.ts"],"names":[],"mappings":"AAEI"}`
	for name, s := range map[string]string{
		"a.js": "x\n//# sourceMappingURL=a.js.map\n", "a.js.map": aMap,
		"b.js": "x\n//# sourceMappingURL=b.js.map\n",
		"c.js": "x\n//# sourceMappingURL=c.js.map\n",
	} {
		if err := os.WriteFile(filepath.Join(dist, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, fifo := range []string{"fifo.js", "b.js.map"} {
		if err := syscall.Mkfifo(filepath.Join(dist, fifo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/stdin", filepath.Join(dist, "c.js.map")); err != nil {
		t.Fatal(err)
	}
	// stdin a pipe nobody writes to, as docker run -i leaves it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	stdin, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(stdin)
	if err := syscall.Dup2(int(r.Fd()), 0); err != nil {
		t.Fatal(err)
	}
	defer syscall.Dup2(stdin, 0)
	mapped := make(chan []string, 1)
	go func() {
		a := &App{Root: root}
		mapped <- a.Stack([]string{
			"    at f (" + dist + "/fifo.js:1:1)",
			"    at b (" + dist + "/b.js:1:1)",
			"    at c (" + dist + "/c.js:1:1)",
			"    at a (" + dist + "/a.js:1:1)",
		})
	}()
	select {
	case got := <-mapped:
		if want := []string{"at a (" + root + "/src/a.ts:3:5)"}; !slices.Equal(got, want) {
			t.Errorf("mapped %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stack still waits after 10s: it opened a FIFO, or stdin, for reading")
	}
}
