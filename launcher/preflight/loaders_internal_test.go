package preflight

import (
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
