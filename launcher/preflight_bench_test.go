package launcher_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hasync/launcher/launcher"
)

// BenchmarkPreflight times the checks `run` makes before every start, on
// the reference dependency set (bcrypt and better-sqlite3) and on a real
// backend's node_modules of some 600 packages, with and without --deep.
// Figures: docs/BENCHMARKS.md.
func BenchmarkPreflight(b *testing.B) {
	fx := fixtures(b)
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
				p := &launcher.Preflight{AppDir: app.dir, Entry: "index.js", Node: "node",
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
