package preflight

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A platform package's name says its CPU and libc after -linux- or
// -linuxmusl-; a name with "linux" in it otherwise is no platform package.
func TestVariantPlatform(t *testing.T) {
	for name, want := range map[string][2]string{
		"@napi-rs/nice-linux-x64-gnu":      {"x64", "glibc"},
		"@napi-rs/nice-linux-x64-musl":     {"x64", "musl"},
		"@img/sharp-linux-arm64":           {"arm64", "glibc"},
		"@img/sharp-linuxmusl-arm64":       {"arm64", "musl"},
		"@img/sharp-libvips-linuxmusl-x64": {"x64", "musl"},
		"@parcel/watcher-linux-arm-glibc":  {"arm", "glibc"},
		"lightningcss-linux-arm-gnueabihf": {"arm", "glibc"},
	} {
		arch, libc, ok := variantPlatform(name)
		if !ok || arch != want[0] || libc != want[1] {
			t.Errorf("variantPlatform(%q) = %q, %q, %v; want %q, %q", name, arch, libc, ok, want[0], want[1])
		}
	}
	for _, name := range []string{"is-linux", "linuxbrew", "@img/sharp-darwin-arm64", "sharp", "-linux-"} {
		if arch, libc, ok := variantPlatform(name); ok {
			t.Errorf("variantPlatform(%q) = %q, %q; want no platform", name, arch, libc)
		}
	}
}

// Of this platform's packages, those named for the parent come first: they
// hold its binding, and sharp's libvips package only a library.
func TestPlatformVariants_TheParentsOwnFirst(t *testing.T) {
	pj := &packageJSON{Name: "sharp", OptionalDependencies: map[string]string{
		"@img/sharp-libvips-linux-x64": "1.2.4", "@img/sharp-linux-x64": "0.34.5",
		"@img/sharp-libvips-linuxmusl-x64": "1.2.4", "@img/sharp-linuxmusl-x64": "0.34.5",
		"@img/sharp-darwin-arm64": "0.34.5", "@img/sharp-wasm32": "0.34.5",
	}}
	linux, here := platformVariants(pj, platform{Arch: "x64", Libc: "glibc"})
	if want := []string{"@img/sharp-libvips-linux-x64", "@img/sharp-libvips-linuxmusl-x64", "@img/sharp-linux-x64", "@img/sharp-linuxmusl-x64"}; !slices.Equal(linux, want) {
		t.Errorf("linux = %q, want %q", linux, want)
	}
	if want := []string{"@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64"}; !slices.Equal(here, want) {
		t.Errorf("here = %q, want %q", here, want)
	}
}

// A platform package whose name says no libc serves musl too, unless its
// parent lists a musl one for that CPU: koffi's @koromix/koffi-linux-arm64
// (a folder for each libc inside) is Alpine's as well; sharp's
// @img/sharp-linux-arm64 is not, as @img/sharp-linuxmusl-arm64 is there.
func TestPlatformVariants_AnUnmarkedNameServesMuslWithoutAMuslSibling(t *testing.T) {
	musl := platform{Arch: "arm64", Libc: "musl"}
	koffi := &packageJSON{Name: "koffi", OptionalDependencies: map[string]string{
		"@koromix/koffi-linux-arm64": "3.3.4", "@koromix/koffi-linux-x64": "3.3.4", "@koromix/koffi-darwin-arm64": "3.3.4"}}
	if _, here := platformVariants(koffi, musl); !slices.Equal(here, []string{"@koromix/koffi-linux-arm64"}) {
		t.Errorf("koffi on musl arm64: %q", here)
	}
	sharp := &packageJSON{Name: "sharp", OptionalDependencies: map[string]string{
		"@img/sharp-linux-arm64": "0.34.5", "@img/sharp-linuxmusl-arm64": "0.34.5", "@img/sharp-linux-x64": "0.34.5"}}
	if _, here := platformVariants(sharp, musl); !slices.Equal(here, []string{"@img/sharp-linuxmusl-arm64"}) {
		t.Errorf("sharp on musl arm64: %q", here)
	}
	napi := &packageJSON{Name: "@napi-rs/nice", OptionalDependencies: map[string]string{
		"@napi-rs/nice-linux-arm64-gnu": "1", "@napi-rs/nice-linux-x64-musl": "1"}}
	if _, here := platformVariants(napi, musl); len(here) != 0 {
		t.Errorf("@napi-rs/nice has no musl arm64 package, yet: %q", here)
	}
	for name, want := range map[string]bool{"@koromix/koffi-linux-arm64": false, "@img/sharp-linux-x64": false, "@img/sharp-linuxmusl-x64": true,
		"@napi-rs/nice-linux-x64-gnu": true, "@parcel/watcher-linux-arm64-glibc": true, "lightningcss-linux-arm-gnueabihf": true} {
		if libcNamed(name) != want {
			t.Errorf("libcNamed(%q) = %v", name, !want)
		}
	}
}

func FuzzVariantPlatform(f *testing.F) {
	for _, s := range []string{"@napi-rs/nice-linux-x64-gnu", "@img/sharp-linuxmusl-arm64", "is-linux", "-linux-", "a-linux--musl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		arch, libc, ok := variantPlatform(name)
		if !ok {
			return
		}
		if arch == "" || (libc != "glibc" && libc != "musl") || !strings.Contains(name, "-linux-"+arch) && !strings.Contains(name, "-linuxmusl-"+arch) {
			t.Errorf("variantPlatform(%q) = %q, %q: not what the name says", name, arch, libc)
		}
	})
}

// A file reached through the image's root, as --root names it (relative or
// not), is where the image's loader would see it.
func TestInside(t *testing.T) {
	for _, c := range []struct{ root, path, want string }{
		{"", "/app/x.node", "/app/x.node"},
		{"/", "/app/x.node", "/app/x.node"},
		{"/srv/root", "/srv/root/app/x.node", "/app/x.node"},
		{".fixtures/debian-arm64", ".fixtures/debian-arm64/tmp/app/x.node", "/tmp/app/x.node"},
		{"/srv/root", "/srv/root", "/"},
		{"/srv/root", "/srv/other/x.node", "/srv/other/x.node"},
		{"/srv/root", "/srv/root../x.node", "/srv/root../x.node"},
	} {
		p := &Preflight{Root: c.root}
		if got := p.inside(c.path); got != c.want {
			t.Errorf("root %q: inside(%q) = %q, want %q", c.root, c.path, got, c.want)
		}
	}
}

// A cmake-ts manifest is read in its order; keys that are not a build's
// configuration, and files outside build/, are skipped.
func TestParseCmakeTsManifest(t *testing.T) {
	manifest := `{"{\"os\":\"linux\",\"arch\":\"x64\",\"libc\":\"glibc\",\"abi\":115}": "linux/x64/node/glibc-115-Release/addon.node",
		"not a configuration": "x.node",
		"{\"os\":\"win32\",\"arch\":\"x64\",\"libc\":\"msvc\",\"abi\":115}": "win32\\x64\\node\\msvc-115-Release\\addon.node",
		"{\"os\":\"linux\",\"arch\":\"x64\",\"libc\":\"glibc\"}": "../../escape.node",
		"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"musl\",\"abi\":127}": "linux/arm64/node/musl-127-Release/addon.node"}`
	builds, err := parseCmakeTsManifest(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	want := []cmakeTsBuild{
		{OS: "linux", Arch: "x64", Libc: "glibc", ABI: 115, File: "linux/x64/node/glibc-115-Release/addon.node"},
		{OS: "win32", Arch: "x64", Libc: "msvc", ABI: 115, File: "win32/x64/node/msvc-115-Release/addon.node"},
		{OS: "linux", Arch: "arm64", Libc: "musl", ABI: 127, File: "linux/arm64/node/musl-127-Release/addon.node"},
	}
	if !slices.Equal(builds, want) {
		t.Errorf("builds = %+v\nwant %+v", builds, want)
	}
	for _, bad := range []string{"", "[]", `{"a": 1}`, `{"a"`, "null"} {
		if b, err := parseCmakeTsManifest(strings.NewReader(bad)); err == nil {
			t.Errorf("parseCmakeTsManifest(%q) = %+v, want an error", bad, b)
		}
	}
}

func FuzzParseCmakeTsManifest(f *testing.F) {
	f.Add(`{"{\"os\":\"linux\",\"arch\":\"x64\",\"libc\":\"glibc\",\"abi\":115}": "linux/x64/node/glibc-115-Release/addon.node"}`)
	f.Add(`{"{\"abi\":1e400}": "a.node", "{}": "/abs.node"}`)
	f.Fuzz(func(t *testing.T, manifest string) {
		builds, err := parseCmakeTsManifest(strings.NewReader(manifest))
		if err != nil {
			return
		}
		for _, b := range builds {
			if !filepath.IsLocal(b.File) || strings.Contains(b.File, `\`) {
				t.Errorf("build file %q is not a path under build/", b.File)
			}
		}
	})
}

// cmake-ts's loader takes musl's builds where /etc/alpine-release exists,
// the highest ABI first, the manifest's order among equals.
func TestPickCmakeTs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := `{` +
		`"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"musl\",\"abi\":115,\"n\":1}": "m115a.node",` +
		`"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"glibc\",\"abi\":127}": "g127.node",` +
		`"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"musl\",\"abi\":127}": "m127.node",` +
		`"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"musl\",\"abi\":115,\"n\":2}": "m115b.node",` +
		`"{\"os\":\"linux\",\"arch\":\"arm64\",\"libc\":\"musl\"}": "m0.node"}`
	if err := os.WriteFile(filepath.Join(dir, "build", "manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	at := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join(dir, "build", n)
		}
		return names
	}
	for _, c := range []struct {
		pf   platform
		want []string
	}{
		{platform{Arch: "arm64", Libc: "musl", Alpine: true}, at("m127.node", "m115a.node", "m115b.node", "m0.node")},
		{platform{Arch: "arm64", Libc: "glibc"}, at("g127.node")},
		{platform{Arch: "arm64", Libc: "musl"}, at("g127.node")}, // musl, but no /etc/alpine-release: cmake-ts says glibc
	} {
		pk := pickCmakeTs(unnoted, dir, c.pf)
		if got := append([]string{pk.Path}, pk.Then...); pk.Loader != "cmake-ts" || !slices.Equal(got, c.want) {
			t.Errorf("%+v: %s %q, want cmake-ts %q", c.pf, pk.Loader, got, c.want)
		}
	}
	if pk := pickCmakeTs(unnoted, dir, platform{Arch: "x64", Libc: "glibc"}); pk.Path != "" || len(pk.Looked) != 1 || !strings.Contains(pk.Looked[0], "5 builds, none for linux x64 glibc") {
		t.Errorf("x64: %+v, want nothing picked, and why", pk)
	}
}

// pkg-prebuilds' file: the highest Node-API level node has, else the lowest.
func TestNapiVersioned(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"node-napi-v3.node", "node-napi-v8.node", "node-napi-v10.node", "12.node", "node-napi-vx.node", "electron-napi-v4.node"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for napi, want := range map[int]string{9: "node-napi-v8.node", 10: "node-napi-v10.node", 3: "node-napi-v3.node", 2: "node-napi-v3.node"} {
		if got := napiVersioned(unnoted, dir, napi); got != filepath.Join(dir, want) {
			t.Errorf("Node-API %d: %q, want %s", napi, got, want)
		}
	}
}

// pkg-prebuilds' folders: every name's for the platform, -musl where
// /etc/alpine-release exists; node-hid 3.4 ships none for arm64 musl.
func TestPickPkgPrebuilds(t *testing.T) {
	dir := t.TempDir()
	for _, folder := range []string{"HID-linux-x64", "HID_hidraw-linux-x64", "HID-linux-x64-musl", "HID_hidraw-linux-x64-musl", "HID-linux-arm64", "HID_hidraw-linux-arm64", "-linux-x64", "HID-darwin-x64"} {
		if err := os.MkdirAll(filepath.Join(dir, "prebuilds", folder), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "prebuilds", folder, "node-napi-v4.node"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := func(folders ...string) []string {
		for i, f := range folders {
			folders[i] = filepath.Join(dir, "prebuilds", f, "node-napi-v4.node")
		}
		return folders
	}
	for _, c := range []struct {
		pf   platform
		want []string
	}{
		{platform{Arch: "x64", Libc: "glibc", NAPI: 9}, at("HID-linux-x64", "HID_hidraw-linux-x64")},
		{platform{Arch: "x64", Libc: "musl", Alpine: true, NAPI: 9}, at("HID-linux-x64-musl", "HID_hidraw-linux-x64-musl")},
		{platform{Arch: "arm64", Libc: "glibc", NAPI: 9}, at("HID-linux-arm64", "HID_hidraw-linux-arm64")},
		{platform{Arch: "arm64", Libc: "musl", Alpine: true, NAPI: 9}, nil},
	} {
		pk := pickPkgPrebuilds(unnoted, dir, c.pf)
		got := append([]string{pk.Path}, pk.Also...)
		if c.want == nil {
			if pk.Path != "" || pk.Fix == "" || !strings.Contains(pk.Fix, "linux-arm64-musl") {
				t.Errorf("%+v: %q, fix %q; want nothing, and the fix naming linux-arm64-musl", c.pf, got, pk.Fix)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.pf, got, c.want)
		}
	}
}

// A binary named for its platform, among others named for theirs.
func TestNamedFor(t *testing.T) {
	for names, want := range map[string]string{
		"oracledb-26.0.0-darwin-arm64.node oracledb-26.0.0-linux-arm64.node oracledb-26.0.0-linux-x64.node": "oracledb-26.0.0-linux-x64.node",
		"a.linux_x64_gnu.node b.node": "a.linux_x64_gnu.node",
		"a-linux-x64-musl.node":       "a-linux-x64-musl.node",
		"a-linux-x645.node a.node":    "",
		"a-linux-arm64.node":          "",
	} {
		dir := t.TempDir()
		for _, n := range strings.Fields(names) {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got := namedFor(unnoted, dir, "x64")
		if want != "" {
			want = filepath.Join(dir, want)
		}
		if got != want {
			t.Errorf("%s: %q, want %q", names, got, want)
		}
	}
	if got := namedFor(unnoted, t.TempDir(), ""); got != "" {
		t.Errorf("no arch: %q", got)
	}
}
