package preflight

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/hasync/launcher/launcher/shortage"
)

// maxLoaderConf caps a loader configuration file read; real ones are a
// few lines.
const maxLoaderConf = 1 << 20

// libResolver finds shared libraries the way the runtime's dynamic loader
// will (docs/NATIVE.md §4), for node's libc family. Paths are inside the
// container; root prefixes them on this filesystem (tests build one).
type libResolver struct {
	fsys          *files
	root          string
	libc          string // musl or glibc
	class         elfClass
	machine       elfMachine
	ldLibraryPath []string
	ignoredPath   []string // LD_LIBRARY_PATH when the loader ignores it (secure-execution mode): looked in only to say so
	system        []string // musl's ld-musl-<arch>.path or defaults; glibc's ld.so.conf dirs then defaults
	opened        map[string]*elfFile
	short         *atomic.Bool // set when an open failed for a shortage of descriptors or memory; may be nil
}

// newLibResolver finds libraries for node's loader, which searches
// ldLibraryPath unless secure (node in secure-execution mode).
func newLibResolver(fsys *files, root, libc string, class elfClass, machine elfMachine, ldLibraryPath string, secure bool) *libResolver {
	r := &libResolver{fsys: fsys, root: root, libc: libc, class: class, machine: machine, opened: map[string]*elfFile{}}
	for _, d := range strings.Split(ldLibraryPath, ":") {
		if d != "" {
			r.ldLibraryPath = append(r.ldLibraryPath, d)
		}
	}
	if secure {
		r.ldLibraryPath, r.ignoredPath = nil, r.ldLibraryPath
	}
	if libc == "musl" {
		r.system = r.muslPath()
	} else {
		r.system = append(r.ldSoConf("/etc/ld.so.conf", 0), glibcDefaults(machine)...)
	}
	return r
}

// host is where this process reaches the container's path p: inside the
// root, symlinks resolved inside it too.
func (r *libResolver) host(p string) string { return resolveIn(r.fsys, r.root, p) }

// muslArch is the <arch> of /etc/ld-musl-<arch>.path and ld-musl-<arch>.so.1.
func muslArch(m elfMachine) string {
	switch m {
	case emX86_64:
		return "x86_64"
	case emAARCH64:
		return "aarch64"
	case emARM:
		return "armhf"
	case em386:
		return "i386"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

func (r *libResolver) muslPath() []string {
	b, err := r.fsys.readFile(r.host("/etc/ld-musl-"+muslArch(r.machine)+".path"), maxLoaderConf)
	if err != nil {
		if os.IsNotExist(err) {
			return []string{"/lib", "/usr/local/lib", "/usr/lib"}
		}
		return nil // exists but unreadable: an empty path, as musl does
	}
	return parseMuslPath(b)
}

func glibcDefaults(m elfMachine) []string {
	triplet := map[elfMachine]string{
		emX86_64: "x86_64-linux-gnu", emAARCH64: "aarch64-linux-gnu",
		emARM: "arm-linux-gnueabihf", em386: "i386-linux-gnu",
	}[m]
	dirs := []string{}
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// ldSoConf expands ld.so.conf and its include lines into directories.
func (r *libResolver) ldSoConf(path string, depth int) []string {
	b, err := r.fsys.readFile(r.host(path), maxLoaderConf)
	if err != nil || depth > 8 {
		return nil
	}
	lines, includes := parseLdSoConf(b)
	dirs := append([]string(nil), lines...)
	for _, pattern := range includes {
		if !strings.HasPrefix(pattern, "/") {
			pattern = filepath.Join(filepath.Dir(path), pattern)
		}
		matches, _ := r.fsys.glob(r.host(pattern))
		for _, m := range matches {
			rel, _ := filepath.Rel(r.root, m)
			dirs = append(dirs, r.ldSoConf("/"+rel, depth+1)...)
		}
	}
	return dirs
}

// parseLdSoConf reads one ld.so.conf file: its folders, and the patterns
// of its include lines. Comments (#) and blank lines are skipped.
func parseLdSoConf(b []byte) (dirs, includes []string) {
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "include") && (len(line) == 7 || line[7] == ' ' || line[7] == '\t'):
			if pattern := strings.TrimSpace(line[7:]); pattern != "" {
				includes = append(includes, pattern)
			}
		default:
			dirs = append(dirs, line)
		}
	}
	return dirs, includes
}

// parseMuslPath reads /etc/ld-musl-<arch>.path: folders split on ':' or
// newlines.
func parseMuslPath(b []byte) []string {
	return strings.FieldsFunc(string(b), func(c rune) bool { return c == ':' || c == '\n' })
}

// muslReserved reports names musl's loader maps to itself: libc, libpthread,
// librt, libm, libdl, libutil, libxnet (ldso/dynlink.c).
func muslReserved(name string) bool {
	for _, prefix := range []string{"libc.", "libpthread.", "librt.", "libm.", "libdl.", "libutil.", "libxnet."} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// loadedLib is a library the loader would map.
type loadedLib struct {
	Name string
	Path string // inside the container; empty for musl's reserved names
	File *elfFile
}

// resolve finds library name, needed by the objects in chain (the
// requester last; the executable first). A musl reserved name resolves to
// the loader itself (Path empty).
func (r *libResolver) resolve(name string, chain []*loadedLib) (*loadedLib, error) {
	if r.libc == "musl" && muslReserved(name) {
		return &loadedLib{Name: name}, nil
	}
	var dirs []string
	if strings.ContainsRune(name, '/') {
		return r.open(name, name)
	}
	requester := chain[len(chain)-1]
	origin := func(p, obj string) string {
		dir := filepath.Dir(obj)
		p = strings.ReplaceAll(p, "${ORIGIN}", dir)
		return strings.ReplaceAll(p, "$ORIGIN", dir)
	}
	if r.libc == "musl" {
		dirs = append(dirs, r.ldLibraryPath...)
		for i := len(chain) - 1; i >= 0; i-- {
			obj := chain[i]
			dyn, _ := obj.File.dynamic()
			paths := dyn.RunPath
			if len(paths) == 0 {
				paths = dyn.RPath
			}
			for _, p := range paths {
				if p = origin(p, obj.Path); !strings.Contains(p, "$") {
					dirs = append(dirs, p)
				}
			}
		}
	} else {
		dyn, _ := requester.File.dynamic()
		if len(dyn.RunPath) == 0 {
			for i := len(chain) - 1; i >= 0; i-- {
				d, _ := chain[i].File.dynamic()
				for _, p := range d.RPath {
					dirs = append(dirs, origin(p, chain[i].Path))
				}
			}
		}
		dirs = append(dirs, r.ldLibraryPath...)
		for _, p := range dyn.RunPath {
			dirs = append(dirs, origin(p, requester.Path))
		}
	}
	dirs = append(dirs, r.system...)
	var skipped []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if _, err := r.fsys.stat(r.host(p)); err != nil {
			continue
		}
		lib, err := r.open(name, p)
		if err != nil && shortage.Is(err) {
			// Not missing: the launcher could not open it now.
			if r.short != nil {
				r.short.Store(true)
			}
			return nil, fmt.Errorf("cannot open %s now: %w", p, err)
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s (%v)", p, err))
			continue
		}
		return lib, nil
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%s not found for %s %s; skipped %s", name, archOf(r.machine), r.libc, strings.Join(skipped, ", "))
	}
	for _, d := range r.ignoredPath {
		if _, err := r.fsys.stat(r.host(filepath.Join(d, name))); err == nil {
			return nil, &ignoredPathError{dir: d}
		}
	}
	return nil, fmt.Errorf("%s not found in %s", name, strings.Join(dirs, ":"))
}

// ignoredPathError is a library found only in a folder of LD_LIBRARY_PATH,
// which the loader ignores in secure-execution mode.
type ignoredPathError struct{ dir string }

func (e *ignoredPathError) Error() string {
	return fmt.Sprintf("only in %s, which LD_LIBRARY_PATH names, but the loader ignores LD_LIBRARY_PATH in secure-execution mode", e.dir)
}

// open reads the library at p (inside the container), once per resolver,
// and checks its class and machine, as glibc's loader skips others.
func (r *libResolver) open(name, p string) (*loadedLib, error) {
	e, ok := r.opened[p]
	if !ok {
		var err error
		if e, err = openELF(r.fsys, r.host(p)); err != nil {
			return nil, err
		}
		r.opened[p] = e
	}
	if e.h.Class != r.class || e.h.Machine != r.machine {
		return nil, &foreignLibError{e.h.Machine, e.h.Class}
	}
	return &loadedLib{Name: name, Path: p, File: e}, nil
}

// foreignLibError is a library built for another CPU or word size than
// node's.
type foreignLibError struct {
	machine elfMachine
	class   elfClass
}

func (e *foreignLibError) Error() string {
	return fmt.Sprintf("built for %s %s", archOf(e.machine), e.class)
}

// builtForAnother says that a binary for machine and class is not for
// node's CPU, in Home Assistant's names too.
func builtForAnother(machine elfMachine, class elfClass, node *NodeInfo) string {
	return fmt.Sprintf("built for %s (%s, %s), but node here is %s (%s)", archOf(machine), haArch(archOf(machine)), class, node.Arch, haArch(node.Arch))
}

// loadTree resolves every library obj needs, breadth first, as the loader
// maps them. It returns the libraries found and one error per library not.
func (r *libResolver) loadTree(obj *loadedLib, exe *loadedLib) ([]*loadedLib, []error) {
	type item struct {
		lib   *loadedLib
		chain []*loadedLib
	}
	base := []*loadedLib{}
	if exe != nil {
		base = append(base, exe)
	}
	queue := []item{{obj, append(base, obj)}}
	seen := map[string]bool{}
	var libs []*loadedLib
	var errs []error
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if it.lib.File == nil {
			continue
		}
		dyn, err := it.lib.File.dynamic()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.lib.Path, err))
			continue
		}
		for _, n := range dyn.Needed {
			if seen[n] {
				continue
			}
			seen[n] = true
			lib, err := r.resolve(n, it.chain)
			if err != nil {
				errs = append(errs, &missingLibError{Name: n, NeededBy: it.lib.Path, Err: err})
				continue
			}
			libs = append(libs, lib)
			queue = append(queue, item{lib, append(append([]*loadedLib(nil), it.chain...), lib)})
		}
	}
	return libs, errs
}

// missingLibError is a DT_NEEDED library the loader would not find.
type missingLibError struct {
	Name, NeededBy string
	Err            error
}

func (e *missingLibError) Error() string {
	if shortage.Is(e.Err) {
		return fmt.Sprintf("%s (needed by %s): %v", e.Name, e.NeededBy, e.Err)
	}
	if ignored := (*ignoredPathError)(nil); errors.As(e.Err, &ignored) {
		return fmt.Sprintf("%s (needed by %s) not found where the loader looks: %v", e.Name, e.NeededBy, ignored)
	}
	return fmt.Sprintf("%s (needed by %s) not found", e.Name, e.NeededBy)
}

func (e *missingLibError) Unwrap() error { return e.Err }

func (r *libResolver) close() {
	for _, e := range r.opened {
		e.Close()
	}
}

// apkPackage names the Alpine package that provides a library, and
// debPackage the Debian one, for hints.
func apkPackage(lib string) string {
	for prefix, pkg := range map[string]string{
		"libstdc++.so": "libstdc++", "libgcc_s.so": "libgcc", "libsqlite3.so": "sqlite-libs",
		"libssl.so": "libssl3", "libcrypto.so": "libcrypto3", "libz.so": "zlib", "libuv.so": "libuv",
		"libbrotli": "brotli-libs", "libcares.so": "c-ares", "libnghttp2.so": "nghttp2-libs",
		"libicu": "icu-libs", "libvips": "vips", "libpng": "libpng", "libjpeg": "libjpeg-turbo",
		"libffi.so": "libffi", "libsodium.so": "libsodium", "libusb": "libusb", "libudev.so": "eudev-libs",
	} {
		if strings.HasPrefix(lib, prefix) {
			return pkg
		}
	}
	return ""
}

func debPackage(lib string) string {
	for prefix, pkg := range map[string]string{
		"libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1", "libsqlite3.so.0": "libsqlite3-0",
		"libssl.so.3": "libssl3", "libcrypto.so.3": "libssl3", "libz.so.1": "zlib1g", "libuv.so.1": "libuv1",
	} {
		if strings.HasPrefix(lib, prefix) {
			return pkg
		}
	}
	return ""
}
