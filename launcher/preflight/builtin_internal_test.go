package preflight

import (
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/builtins"
	"github.com/hasync/launcher/launcher/nodeopts"
)

// Node's own modules are judged by the exact release: a prerelease is none
// (24.0.0-rc.1 is not 24.0.0, and is not judged), and a release after the
// table is judged for what node took out before it. The report says how
// far they were judged, as node reported its version.
func TestBuiltinMisses_ByRelease(t *testing.T) {
	util, ok := builtins.Of("util")
	if !ok {
		t.Fatal("util is not in the table")
	}
	w := importsWalk{builtins: []builtinImport{{
		imp:    appImport{script: "/app/index.js", line: 1, pre: nodeopts.Preload{Option: "--import", Spec: "util"}, names: []string{"isString"}},
		module: util,
	}}}
	for _, c := range []struct {
		version  string // as node says it
		refused  bool   // isString from "util"
		unjudged string // what the report says, if anything
	}{
		{"v22.11.0", false, ""},
		{"v24.0.0", true, ""},
		{"v24.0.0-rc.1", false, "node's own modules not checked: the launcher knows those of node's releases 18.0.0 to "},
		{"v25.0.0-nightly20250101abcdef", false, "not of v25.0.0-nightly20250101abcdef"},
		{"v24.99.9", true, "checked only for what node took out before v24.99.9: the launcher knows those of node's releases up to 24."},
		{"v16.20.2", false, "not of v16.20.2"},
	} {
		n := &NodeInfo{}
		if err := n.setVersion(c.version); err != nil {
			t.Fatalf("%s: %v", c.version, err)
		}
		if n.Version != c.version {
			t.Errorf("node said %s; the launcher read %s", c.version, n.Version)
		}
		if refused := len(builtinMisses(w.builtins, n.Version)) > 0; refused != c.refused {
			t.Errorf("%s: isString from \"util\" refused: %v, want %v", c.version, refused, c.refused)
		}
		said := builtinsUnjudged(w, n)
		if c.unjudged == "" && said != "" || !strings.Contains(said, c.unjudged) {
			t.Errorf("%s: the report says %q, want %q", c.version, said, c.unjudged)
		}
	}
	w.addsBuiltins = "--experimental_vm_modules"
	n := &NodeInfo{}
	if err := n.setVersion("v24.0.0"); err != nil {
		t.Fatal(err)
	}
	if said := builtinsUnjudged(w, n); said != "node's own modules not checked: --experimental_vm_modules adds to them" {
		t.Errorf("under a flag: %q", said)
	}
}
