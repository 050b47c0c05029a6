package preflight

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspectELF runs every read preflight makes of a .node file over
// hostile bytes: truncated and bit-flipped real addons (the committed seed
// corpus in testdata/fuzz/FuzzInspectELF), and whatever the fuzzer makes of
// them. Any result is fine but a panic or a hang.
func FuzzInspectELF(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "x.node")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := openELF(nil, path)
		if err != nil {
			return
		}
		defer e.Close()
		_ = e.interp()
		_, _ = e.dynamic()
		if abi, err := readAddonABI(e); err == nil {
			for _, name := range abi.NAPIImports {
				e.lookup(name)
			}
		}
		e.lookup("napi_create_object")
		e.lookup("node_register_module_v115")
		_, _ = e.versionNeeds()
		_, _ = e.versionDefs()
		_ = readNMVersion(e)
		_ = scanABI(e.f, e.size)
	})
}
