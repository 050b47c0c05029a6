package preflight

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The image's files are outside input to `check --root`: its package
// databases and its loader configuration give an answer or nothing, never
// a panic, and what they give is what the file says.

func FuzzPackageDB(f *testing.F) {
	f.Add([]byte("C:Q1abc=\nP:nodejs\nV:24.11.1-r0\nA:aarch64\n\nP:musl\nV:1.2.5-r10\n"), false)
	f.Add([]byte("Package: nodejs\nStatus: install ok installed\nArchitecture: arm64\nVersion: 18.20.4+dfsg-1~deb12u3\n\n"), true)
	f.Add([]byte("Package: libnode108\nStatus: deinstall ok config-files\nVersion: 18.19.0\n"), true)
	f.Add([]byte("P:\nV:\n\n\n\nP:x"), false)
	f.Add([]byte("Package: a\r\nVersion: 1:2.3.4-5\r\nStatus: install ok installed\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, dpkg bool) {
		pkgs := parsePackageDB(bytes.NewReader(data), dpkg)
		for name, version := range pkgs {
			if name == "" || version == "" {
				t.Fatalf("an empty name or version: %q=%q", name, version)
			}
			if !strings.Contains(string(data), name) || !strings.Contains(string(data), version) {
				t.Fatalf("%q=%q is not in the file", name, version)
			}
		}
	})
}

func FuzzLoaderConfig(f *testing.F) {
	f.Add([]byte("# libc default configuration\n/usr/local/lib\ninclude /etc/ld.so.conf.d/*.conf\n"))
	f.Add([]byte("include\ninclude   \n includes/x\n/lib # trailing comment\n\tinclude\tx.conf"))
	f.Add([]byte("/lib:/usr/local/lib:/usr/lib\n/opt/lib"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dirs, includes := parseLdSoConf(data)
		for _, d := range append(dirs, includes...) {
			if d == "" || strings.ContainsAny(d, "\n#") || d != strings.TrimSpace(d) {
				t.Fatalf("a folder or pattern %q that the file does not name as such", d)
			}
		}
		for _, d := range parseMuslPath(data) {
			if d == "" || strings.ContainsAny(d, ":\n") {
				t.Fatalf("a musl path entry %q", d)
			}
		}
	})
}

// resolveIn keeps every path inside the root, whatever the links say.
func FuzzResolveIn(f *testing.F) {
	f.Add("/usr/bin/node", "/opt/node/bin/node")
	f.Add("../../../../etc/passwd", "../../..")
	f.Add("/a/b/c", "/a")
	root := f.TempDir()
	_ = os.MkdirAll(filepath.Join(root, "a"), 0o755)
	link := filepath.Join(root, "a", "link")
	f.Fuzz(func(t *testing.T, path, target string) {
		if strings.ContainsRune(path+target, 0) {
			return
		}
		_ = os.Remove(link)
		_ = os.Symlink(target, link)
		for _, p := range []string{path, "/a/link", "/a/link/" + path} {
			got := resolveIn(nil, root, p)
			if got != root && !strings.HasPrefix(got, root+string(filepath.Separator)) {
				t.Fatalf("resolveIn(nil, %q) = %q, outside the root %q (link -> %q)", p, got, root, target)
			}
		}
	})
}

// Node's version from its own files, without a package database: the
// release named in Debian's libnode.
func TestNodeFromFiles(t *testing.T) {
	lib := fixtures("debian-arm64", "usr", "lib", "aarch64-linux-gnu", "libnode.so.108")
	e, err := openELF(nil, lib)
	if err != nil {
		t.Skipf("no Debian arm64 fixture (make fixtures): %v", err)
	}
	defer e.Close()
	v, from := nodeFromFiles([]*loadedLib{{Path: "/usr/lib/aarch64-linux-gnu/libnode.so.108", File: e}})
	if v != "v18.20.4" || !strings.Contains(from, "libnode.so.108") {
		t.Errorf("nodeFromFiles = %q from %q", v, from)
	}
}

// Only the packages asked for are kept, in either database's order of
// fields, and a description line longer than the read buffer is skipped
// whole, not mistaken for fields.
func TestParsePackageDB_KeepsWhatIsAskedFor(t *testing.T) {
	// The buffer ends right before "Version": read as a line of its own,
	// that would be a second version.
	long := "Description: " + strings.Repeat("x", 64<<10-len("Description: ")) + "Version: 9.9.9\n"
	for _, c := range []struct {
		db   string
		dpkg bool
		want map[string]string
	}{
		{"P:musl\nV:1.2.5-r10\n\nC:Q1abc=\nP:nodejs\nV:24.11.1-r0\n", false, map[string]string{"nodejs": "24.11.1-r0"}},
		{"Version: 18.20.4+dfsg-1\nStatus: install ok installed\nPackage: nodejs\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36\n", true,
			map[string]string{"nodejs": "18.20.4+dfsg-1"}},
		{"Package: nodejs\nStatus: deinstall ok config-files\nVersion: 18.19.0\n\nPackage: libnode108\nStatus: install ok installed\nVersion: 18.20.4\n", true,
			map[string]string{"libnode108": "18.20.4"}},
		{"Package: nodejs\nStatus: install ok installed\nVersion: 20.1.0\n" + long, true, map[string]string{"nodejs": "20.1.0"}},
	} {
		got := parsePackageDB(strings.NewReader(c.db), c.dpkg, "nodejs", "libnode108")
		if len(got) != len(c.want) {
			t.Errorf("%.60q: got %v, want %v", c.db, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%.60q: got %v, want %v", c.db, got, c.want)
			}
		}
	}
}
