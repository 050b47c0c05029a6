package preflight_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// BenchmarkPreflight times the checks `run` makes before every start, on
// the reference dependency set (bcrypt and better-sqlite3) and on a real
// backend's node_modules of some 600 packages, with and without --deep,
// and what a start that recalls their record costs instead: reading it
// back (as the launcher keeps it, JSON) and looking at every file again.
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
		b.Run(app.name+"/recalled", func(b *testing.B) {
			p := &preflight.Preflight{AppDir: app.dir, Entry: "index.js", Node: "node",
				NativeModules: []string{"bcrypt", "better-sqlite3"}}
			r := p.Run(context.Background())
			kept, err := json.Marshal(r.Record())
			if err != nil {
				b.Fatal(err)
			}
			// Node's answer as the gate gives it, at once: what is timed
			// is the record's part alone.
			v := preflight.NodeVersions{Version: r.Node.Version, ABI: r.Node.ABI, NAPI: r.Node.NAPI}
			p.Reported = func(context.Context) (preflight.NodeVersions, bool) { return v, true }
			b.ReportMetric(float64(len(kept)), "record-bytes")
			for i := 0; i < b.N; i++ {
				if p.Record, err = preflight.ParseRecord(kept); err != nil {
					b.Fatal(err)
				}
				if r := p.Run(context.Background()); r.Recorded.IsZero() {
					b.Fatalf("not recalled: %s", r.Stale)
				}
			}
		})
	}
}
