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
		mod + "launcher/http1":     {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/disk":      {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/listeners": {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/network":   {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/sourcemap": {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/inspector": {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/bytesize":  {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "launcher/disk", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/jsonscan":  {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "launcher/http1", mod + "health", mod + "cmd/launcher"},
		mod + "launcher/bug":       {mod + "launcher", mod + "launcher/preflight", mod + "launcher/config", mod + "launcher/http1", mod + "health", mod + "cmd/launcher"},
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

// The binary leaves out net/http and what its client and server bring
// (crypto/tls, x509, HTTP/2, Go's FIPS 140 module): 3.7 MB of the 8.1 MB the launcher was, and
// a start slower with every MB (docs/BENCHMARKS.md, "A smaller binary").
// launcher/http1 speaks what the launcher needs. Tests may use net/http.
func TestBinaryLeavesOutNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps found %d packages", len(deps))
	}
	for _, dep := range deps {
		switch dep {
		// Go's FIPS 140 module comes with any of crypto's hashes (200 KB):
		// the WebSocket handshake's SHA-1 is launcher/inspector's own.
		case "net/http", "crypto/tls", "crypto/x509", "crypto/internal/fips140":
			t.Errorf("the launcher's binary links %s", dep)
		}
	}
}
