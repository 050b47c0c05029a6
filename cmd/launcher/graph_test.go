package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The package graph of docs/DESIGN.md: no arrow back into the program,
// the core never imports health, preflight imports neither the core nor
// the configuration.
func TestPackageGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", "../../...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	const mod = "github.com/hasync/launcher/"
	forbidden := map[string][]string{
		mod + "launcher":           {mod + "health", mod + "cmd/launcher"},
		mod + "launcher/preflight": {mod + "launcher", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/config":    {mod + "launcher", mod + "launcher/preflight", mod + "health", mod + "cmd/launcher"},
		mod + "health":             {mod + "cmd/launcher"},
	}
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		pkg, imports, ok := strings.Cut(line, ": ")
		if !ok || forbidden[pkg] == nil {
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			for _, bad := range forbidden[pkg] {
				if imp == bad {
					t.Errorf("%s imports %s", strings.TrimPrefix(pkg, mod), strings.TrimPrefix(imp, mod))
				}
			}
		}
	}
	if seen != len(forbidden) {
		t.Errorf("found %d of the %d packages in go list's output", seen, len(forbidden))
	}
}
