package preflight_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// BenchmarkPreflight times the checks `run` makes before every start, on
// the reference dependency set (bcrypt and better-sqlite3) and on a real
// backend's node_modules of some 600 packages, with and without --deep.
// Figures: docs/BENCHMARKS.md.
func BenchmarkPreflight(b *testing.B) {
	fx, _ := filepath.Abs(filepath.Join("..", "..", ".fixtures"))
	if _, err := os.Stat(filepath.Join(fx, "app20", "node_modules")); err != nil {
		b.Skipf("no native fixtures in %s: run make fixtures", fx)
	}
	for _, app := range []struct{ name, dir string }{
		{"reference", filepath.Join(fx, "app20")},
		{"600-packages", filepath.Join(fx, "big")},
	} {
		for _, deep := range []bool{false, true} {
			name := app.name + "/default"
			if deep {
				name = app.name + "/deep"
			}
			b.Run(name, func(b *testing.B) {
				p := &preflight.Preflight{AppDir: app.dir, Entry: "index.js", Node: "node",
					NativeModules: []string{"bcrypt", "better-sqlite3"}, Deep: deep}
				for i := 0; i < b.N; i++ {
					if r := p.Run(context.Background()); !r.OK {
						b.Fatalf("preflight failed: %+v", r.Checks)
					}
				}
			})
		}
	}
}
