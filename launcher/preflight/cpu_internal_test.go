package preflight

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// foreignCPU's verdicts, each combination of the image's CPU (by its
// loaders: Debian's roots for amd64 and arm64, and a root with none), node's
// and this launcher's, run here and from outside (Image). The real cases
// (a cross-platform build's mixes, run under emulation) are in
// cmd/launcher's TestCheck_ImageOfTwoCPUs; these cover what no machine here
// runs: a CPU's older sibling (ia32 on x64, arm on arm64), a node behind a
// script, an image whose CPU is not known.
func TestForeignCPU(t *testing.T) {
	here, other, older := "x64", "arm64", "ia32"
	if runtime.GOARCH == "arm64" {
		here, other, older = "arm64", "x64", "arm"
	}
	roots := map[string]string{"x64": fixtures("debian-amd64"), "arm64": fixtures("debian-arm64"), "": t.TempDir()}
	for arch, root := range roots {
		if _, err := os.Stat(root); err != nil && arch != "" {
			t.Skipf("%s is missing: run make fixtures", root)
		}
	}
	for _, c := range []struct {
		name          string
		image, node   string
		outside, runs bool
		want          []string // "" for a pass
	}{
		{name: "all of one CPU", image: here, node: here},
		{name: "node of the CPU's older sibling", image: here, node: older},
		{name: "node for another CPU, not run", image: here, node: other,
			want: []string{"is built for " + other, "but the image's programs and this launcher are for " + here, "does not run this node"}},
		{name: "node for another CPU, run by emulation", image: here, node: other, runs: true,
			want: []string{"but the image's programs and this launcher are for " + here, "it runs here only because this machine runs " + other + " programs too"}},
		{name: "the launcher for another CPU", image: other, node: other, runs: true,
			want: []string{"this launcher is built for " + here, "but node (/usr/bin/node) and the image's programs are for " + other, "the container would not start"}},
		{name: "the launcher for another CPU, node behind a script", image: other, node: "",
			want: []string{"this launcher is built for " + here, "but the image's programs are for " + other}},
		{name: "both for another CPU", image: other, node: here,
			want: []string{"/usr/bin/node is built for " + here, "and this launcher for " + here, "but the image's programs are for " + other, "runs neither"}},
		{name: "node behind a script", image: here, node: ""},
		{name: "the image's CPU unknown, node and launcher agree", image: "", node: here},
		{name: "the image's CPU unknown, node of the older sibling", image: "", node: older},
		{name: "the image's CPU unknown, node for another CPU", image: "", node: other,
			want: []string{"is built for " + other, "but this launcher for " + here, "one of the two comes from a stage of another platform"}},
		{name: "from outside, node of the image's CPU", image: other, node: other, outside: true},
		{name: "from outside, node for another CPU", image: other, node: here, outside: true,
			want: []string{"is built for " + here, "but the image's programs are for " + other + " (", "does not run this node"}},
		{name: "from outside, the image's CPU unknown", image: "", node: here, outside: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Preflight{Root: roots[c.image], fsys: unnoted}
			if c.outside {
				p.Image = p.Root
			}
			n := &NodeInfo{Path: "/usr/bin/node", Arch: c.node, class: elfClass64}
			detail, hint, failed := p.foreignCPU(n, c.runs)
			if failed != (c.want != nil) {
				t.Fatalf("failed %v, want %v: %s", failed, c.want != nil, detail)
			}
			for _, w := range c.want {
				if !strings.Contains(detail, w) {
					t.Errorf("detail lacks %q: %s", w, detail)
				}
			}
			if failed && hint == "" {
				t.Errorf("no fix for: %s", detail)
			}
		})
	}
}
