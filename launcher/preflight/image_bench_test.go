package preflight

import (
	"bytes"
	"os"
	"testing"
)

// The package database is read at every start, beside node's own start:
// this machine's dpkg status file (Debian's is hundreds of kilobytes).
// docs/BENCHMARKS.md has the figures.
func BenchmarkPackageDB_ThisMachinesDpkgStatus(b *testing.B) {
	data, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		parsePackageDB(bytes.NewReader(data), true, "nodejs", "libnode115", "libnode108", "libnode127", "libnode137")
	}
}
