package preflight

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// platform is what a native-module loader matches binaries against.
type platform struct {
	Arch    string // node's process.arch
	Libc    string // glibc or musl, as the loader decides it
	Alpine  bool   // /etc/alpine-release exists: node-gyp-build's musl test
	LibcEnv string // LIBC, which node-gyp-build prefers to its own test
	// ABI, NAPI and Version are node's; with node set they are read from
	// it when first needed, since node --version may still be running.
	ABI     int
	NAPI    int
	Version string // without the v
	node    *NodeInfo
}

func (pf platform) abi() int {
	if pf.node != nil && pf.node.versionKnown() {
		return pf.node.ABI
	}
	return pf.ABI
}

func (pf platform) napi() int {
	if pf.node != nil && pf.node.versionKnown() {
		return pf.node.NAPI
	}
	return pf.NAPI
}

func (pf platform) version() string {
	if pf.node != nil && pf.node.versionKnown() {
		return strings.TrimPrefix(pf.node.Version, "v")
	}
	return pf.Version
}

type limitedReader struct {
	f *os.File
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("larger than 4 MiB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// resolvePackage finds the folder of package name as require() would from
// dir: dir/node_modules/name, then each parent's node_modules.
func resolvePackage(fsys *files, dir, name string) (string, []string, error) {
	var tried []string
	for d := dir; ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			p := filepath.Join(d, "node_modules", name)
			tried = append(tried, p)
			if st, err := fsys.stat(filepath.Join(p, "package.json")); err == nil && st.Mode().IsRegular() {
				if real, err := fsys.evalSymlinks(p); err == nil {
					p = real
				}
				return p, tried, nil
			}
		}
		if parent := filepath.Dir(d); parent == d {
			break
		}
	}
	return "", tried, fs.ErrNotExist
}

// pick is the binary a loader would load, and how it was chosen.
type pick struct {
	Path   string
	Then   []string // what the loader tries next, in order, when Path does not load (cmake-ts)
	Also   []string // what the package may load instead, by a choice its code makes: each must load (pkg-prebuilds)
	Loader string   // node-gyp-build, bindings, node-pre-gyp, cmake-ts, build/Release, package file, its own loader
	Looked []string // where it looked, when nothing was found
	Fix    string   // the fix when nothing was found, where the install script's is wrong
}

// pickBinary chooses the .node file that the package's loader would load
// on this platform. A package that is not native returns an empty pick.
func pickBinary(fsys *files, dir string, pj *packageJSON, entries []os.DirEntry, pf platform) pick {
	has := func(name string) bool {
		for _, e := range entries {
			if e.Name() == name {
				return true
			}
		}
		return false
	}
	switch {
	case pj.Binary != nil && pj.Binary.ModulePath != "":
		return pickNodePreGyp(fsys, dir, pj, pf)
	case pj.Dependencies["cmake-ts"] != "" && has("build"):
		return pickCmakeTs(fsys, dir, pf)
	case pj.Dependencies["node-gyp-build-optional-packages"] != "":
		return pickNodeGypBuildOptional(fsys, dir, pj, pf)
	case pj.Dependencies["pkg-prebuilds"] != "":
		return pickPkgPrebuilds(fsys, dir, pf)
	case pj.Dependencies["node-gyp-build"] == "" && has("prebuilds") && firstNode(fsys, filepath.Join(dir, "prebuilds")) != "":
		return pickFlatPrebuilds(fsys, dir, pf)
	case pj.Dependencies["node-gyp-build"] != "" || has("prebuilds"):
		return pickNodeGypBuild(fsys, dir, pf)
	case pj.Dependencies["bindings"] != "":
		return pickBindings(fsys, dir, pj, pf)
	case has("binding.gyp") || pj.Gypfile:
		p := firstNode(fsys, filepath.Join(dir, "build", "Release"))
		// A package that lists platform packages (@parcel/watcher) loads
		// its own platform's first; binding.gyp is for where none is
		// published or installed, and then build/Release is what it loads.
		if linux, here := platformVariants(pj, pf); len(linux) > 0 && (p == "" || slices.ContainsFunc(here, func(name string) bool {
			_, _, err := resolvePackage(fsys, dir, name)
			return err == nil
		})) {
			return pick{}
		}
		if p != "" {
			return pick{Path: p, Loader: "build/Release"}
		}
		return pick{Loader: "build/Release", Looked: []string{filepath.Join(dir, "build", "Release")}}
	}
	// Per-platform packages (napi-rs, @img/sharp-linux-x64, ...) ship their
	// binary at the top or in lib/; their parent loads the one whose os,
	// cpu and libc fields match, so skip the others. Those whose files are
	// tagged (node.napi.glibc.node: node-gyp-build-optional-packages')
	// hold one per libc and ABI, of which the parent's loader picks by tag.
	if platformPackage(filepath.Base(dir)) && strings.HasPrefix(firstNode(fsys, dir), filepath.Join(dir, "node.")) {
		if !matchesField(pj.OS, "linux") || !matchesField(pj.CPU, pf.Arch) {
			return pick{}
		}
		if p := pickTagged(fsys, dir, pf, pf.detectedLibc()); p != "" {
			return pick{Path: p, Loader: "package file"}
		}
		return pick{}
	}
	if p := firstNode(fsys, dir); p != "" || platformPackage(filepath.Base(dir)) {
		if p == "" {
			p = firstNode(fsys, filepath.Join(dir, "lib"))
		}
		if p == "" || !matchesField(pj.OS, "linux") || !matchesField(pj.CPU, pf.Arch) || !matchesField(pj.Libc, pf.Libc) {
			return pick{}
		}
		return pick{Path: p, Loader: "package file"}
	}
	return pick{}
}

// pickFlatPrebuilds follows a package that ships one binary per platform
// as a file of prebuilds/ and loads it itself, as better-sqlite3 13 does
// (lib/binding.js): build/Debug, then build/Release (a binary compiled on
// purpose), then prebuilds/linux-<arch>.node, or linuxmusl-<arch>.node
// when node's own loader is musl's (it reads /proc/self/maps). node-gyp-
// build's prebuilds/ holds folders, one per platform, never files.
func pickFlatPrebuilds(fsys *files, dir string, pf platform) pick {
	const loader = "its own loader"
	var looked []string
	for _, build := range []string{"Debug", "Release"} {
		d := filepath.Join(dir, "build", build)
		if p := firstNode(fsys, d); p != "" {
			return pick{Path: p, Loader: loader}
		}
		looked = append(looked, d)
	}
	target := "linux-" + pf.Arch
	if pf.Libc == "musl" {
		target = "linuxmusl-" + pf.Arch
	}
	p := filepath.Join(dir, "prebuilds", target+".node")
	if st, err := fsys.stat(p); err == nil && st.Mode().IsRegular() {
		return pick{Path: p, Loader: loader}
	}
	return pick{Loader: loader, Looked: append(looked, p), Fix: fmt.Sprintf("It ships no binary for %s in prebuilds/ and has no install script: "+
		"compile it in backend-builder, with python3, make and g++ installed: `cd node_modules/{pkg} && npx node-gyp rebuild`.", target)}
}

// pickCmakeTs follows cmake-ts's loader (zeromq 6): build/manifest.json
// maps each build's configuration, a JSON object written as its key, to
// its file under build/. The loader takes the builds for node's OS, CPU and
// libc (musl where /etc/alpine-release exists, else glibc), the highest ABI
// first and otherwise in the manifest's order, and keeps the first that
// loads: the pick is the first, and the others follow in Then.
func pickCmakeTs(fsys *files, dir string, pf platform) pick {
	const loader = "cmake-ts"
	manifest := filepath.Join(dir, "build", "manifest.json")
	fix := "Reinstall {pkg} in backend-builder (`npm ci`): its build/ folder and build/manifest.json come with the package."
	f, _, err := fsys.open(manifest)
	if err != nil {
		return pick{Loader: loader, Looked: []string{manifest}, Fix: fix}
	}
	defer f.Close()
	builds, err := parseCmakeTsManifest(&limitedReader{f, maxPackageJSON})
	if err != nil {
		return pick{Loader: loader, Looked: []string{manifest + " (" + err.Error() + ")"}, Fix: fix}
	}
	libc := "glibc"
	if pf.Alpine {
		libc = "musl"
	}
	var here []cmakeTsBuild
	for _, b := range builds {
		if b.OS == "linux" && b.Arch == pf.Arch && b.Libc == libc {
			here = append(here, b)
		}
	}
	if len(here) == 0 {
		return pick{Loader: loader, Looked: []string{fmt.Sprintf("%s (%d builds, none for linux %s %s)", manifest, len(builds), pf.Arch, libc)},
			Fix: "Use a version of {pkg} that ships a build for this platform, or compile it in backend-builder."}
	}
	sort.SliceStable(here, func(i, j int) bool { return here[i].ABI > here[j].ABI })
	paths := make([]string, len(here))
	for i, b := range here {
		paths[i] = filepath.Join(dir, "build", filepath.FromSlash(b.File))
	}
	return pick{Path: paths[0], Then: paths[1:], Loader: loader}
}

// cmakeTsBuild is one build of a cmake-ts manifest: its configuration's
// fields the loader matches, and its file, relative to build/.
type cmakeTsBuild struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
	Libc string `json:"libc"`
	ABI  int    `json:"abi"`
	File string `json:"-"`
}

// parseCmakeTsManifest reads a cmake-ts manifest in its order, which the
// loader keeps among builds of one ABI. A key that is not a configuration
// is skipped, as the loader skips it.
func parseCmakeTsManifest(r io.Reader) ([]cmakeTsBuild, error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var builds []cmakeTsBuild
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var file string
		if err := dec.Decode(&file); err != nil {
			return nil, err
		}
		var b cmakeTsBuild
		if json.Unmarshal([]byte(key.(string)), &b) != nil {
			continue
		}
		b.File = strings.ReplaceAll(file, `\`, "/")
		if !filepath.IsLocal(b.File) {
			continue // outside build/: not a file the package ships
		}
		builds = append(builds, b)
	}
	return builds, nil
}

// platformPackage recognises a per-platform package by its name:
// sharp-linux-x64, sharp-linuxmusl-x64, bcrypt-linux-x64-gnu,
// watcher-linux-arm64-musl.
func platformPackage(name string) bool {
	_, _, ok := variantPlatform(name)
	return ok
}

// matchesField applies package.json's os/cpu/libc rule: empty matches all,
// "!x" excludes x.
func matchesField(list []string, v string) bool {
	positive := false
	for _, s := range list {
		if s == "!"+v {
			return false
		}
		if !strings.HasPrefix(s, "!") {
			positive = true
			if s == v {
				return true
			}
		}
	}
	return !positive
}

// firstNode is the first *.node in dir, in name order, as node-gyp-build's
// getFirst and a plain build/Release require find it.
func firstNode(fsys *files, dir string) string {
	entries, err := fsys.readDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".node") && !e.IsDir() {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

// ngbLibc is the libc node-gyp-build matches prebuilds against: LIBC, or
// musl when /etc/alpine-release exists, else glibc, whatever node's own
// libc is (docs/NATIVE.md §2). On a musl system that is not Alpine it picks
// the glibc build, and the libc check then says so.
func (pf platform) ngbLibc() string {
	switch {
	case pf.LibcEnv != "":
		return pf.LibcEnv
	case pf.Alpine:
		return "musl"
	}
	return "glibc"
}

// detectedLibc is the libc node-gyp-build-optional-packages matches
// against: LIBC, else detect-libc's answer, which is node's own libc.
func (pf platform) detectedLibc() string {
	if pf.LibcEnv != "" {
		return pf.LibcEnv
	}
	return pf.Libc
}

// pickNodeGypBuild follows node-gyp-build 4.8: the first *.node in
// build/Release, then build/Debug, with no ABI check; then
// prebuilds/<platform>-<arch> by its tag rules.
func pickNodeGypBuild(fsys *files, dir string, pf platform) pick {
	p, looked := nodeGypBuildSearch(fsys, dir, pf, pf.ngbLibc())
	return pick{Path: p, Loader: "node-gyp-build", Looked: looked}
}

// nodeGypBuildSearch is node-gyp-build's search, matching prebuilds' libc
// tags against libc. It returns the binary, or "" and where it looked.
func nodeGypBuildSearch(fsys *files, dir string, pf platform, libc string) (string, []string) {
	looked := []string{filepath.Join(dir, "build", "Release"), filepath.Join(dir, "build", "Debug")}
	for _, d := range looked {
		if p := firstNode(fsys, d); p != "" {
			return p, nil
		}
	}
	folder := prebuildsFolder(fsys, dir, pf.Arch)
	if p := pickTagged(fsys, folder, pf, libc); p != "" {
		return p, nil
	}
	return "", append(looked, folder)
}

// pickNodeGypBuildOptional follows node-gyp-build-optional-packages 5
// (msgpackr-extract, lmdb, cbor-extract): node-gyp-build's folders and tag
// rules, with node's own libc (detect-libc's answer, or LIBC), then the
// package @<name>/<name>-linux-<arch>, its files matched by the same tags.
func pickNodeGypBuildOptional(fsys *files, dir string, pj *packageJSON, pf platform) pick {
	const loader = "node-gyp-build-optional-packages"
	libc := pf.detectedLibc()
	p, looked := nodeGypBuildSearch(fsys, dir, pf, libc)
	if p != "" {
		return pick{Path: p, Loader: loader}
	}
	name := pj.Name + "-linux-" + pf.Arch
	if !strings.HasPrefix(pj.Name, "@") {
		name = "@" + pj.Name + "/" + name
	}
	pkg, _, err := resolvePackage(fsys, dir, name)
	if err != nil {
		return pick{Loader: loader, Looked: append(looked, name+" (not installed)"),
			Fix: "Install {pkg} for the runtime's platform: `npm ci` in a builder stage of the runtime's platform and libc, or `npm install " + pf.npmFlags() + "` from another; never copy a node_modules installed for another platform."}
	}
	if p := pickTagged(fsys, pkg, pf, libc); p != "" {
		return pick{Path: p, Loader: loader}
	}
	var files []string
	entries, _ := fsys.readDir(pkg)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".node") {
			files = append(files, e.Name())
		}
	}
	return pick{Loader: loader, Looked: append(looked, fmt.Sprintf("%s (%s: none for %s, ABI %d or Node-API)", pkg, strings.Join(files, ", "), libc, pf.abi())),
		Fix: "Use a version of {pkg} whose " + name + " ships a build for " + libc + ", or compile it in backend-builder (`npm rebuild {pkg}`, with python3, make and g++ installed)."}
}

// pickPkgPrebuilds follows pkg-prebuilds 1 (node-hid 3, @julusian/midi):
// build/Debug/<name>.node, build/Release/<name>.node, then
// prebuilds/<name>-linux-<arch>/node-napi-v<N>.node, with -musl after the
// arch where /etc/alpine-release exists. The name, and so the folder, is
// the package's choice, made in its JavaScript (node-hid takes HID_hidraw
// on Linux, HID for libusb): each folder for this platform is one the app
// may load, and each must load.
func pickPkgPrebuilds(fsys *files, dir string, pf platform) pick {
	const loader = "pkg-prebuilds"
	for _, build := range []string{"Debug", "Release"} {
		if p := firstNode(fsys, filepath.Join(dir, "build", build)); p != "" {
			return pick{Path: p, Loader: loader}
		}
	}
	target := "-linux-" + pf.Arch
	if pf.Alpine {
		target += "-musl"
	}
	prebuilds := filepath.Join(dir, "prebuilds")
	entries, _ := fsys.readDir(prebuilds)
	var found []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), target)
		if !ok || name == "" || !e.IsDir() {
			continue
		}
		if p := napiVersioned(fsys, filepath.Join(prebuilds, e.Name()), pf.napi()); p != "" {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return pick{Loader: loader, Looked: []string{filepath.Join(dir, "build"), filepath.Join(prebuilds, "*"+target)},
			Fix: "It ships no prebuilt binary for linux" + strings.TrimPrefix(target, "-linux") + ": compile it in backend-builder, with python3, make, g++ and the headers of the libraries it links installed (let its install script run, or `npm rebuild {pkg}`)."}
	}
	return pick{Path: found[0], Also: found[1:], Loader: loader}
}

// napiVersioned is, of folder's node-napi-v<N>.node files, the one for the
// highest Node-API level node has, else the lowest there is.
func napiVersioned(fsys *files, folder string, napi int) string {
	entries, _ := fsys.readDir(folder)
	highest, lowest := "", ""
	hv, lv := 0, 0
	for _, e := range entries {
		n, prefixed := strings.CutPrefix(e.Name(), "node-napi-v")
		n, suffixed := strings.CutSuffix(n, ".node")
		v, err := strconv.Atoi(n)
		if !prefixed || !suffixed || err != nil {
			continue
		}
		if v <= napi && (highest == "" || v > hv) {
			highest, hv = e.Name(), v
		}
		if lowest == "" || v < lv {
			lowest, lv = e.Name(), v
		}
	}
	switch {
	case highest != "":
		return filepath.Join(folder, highest)
	case lowest != "":
		return filepath.Join(folder, lowest)
	}
	return ""
}

// prebuildsFolder is prebuilds/<platform>-<arch> as node-gyp-build finds it:
// the linux folder naming arch, one arch rather than several (linux-x64,
// linux-arm64+x64); prebuilds/linux-<arch> when there is none.
func prebuildsFolder(fsys *files, dir, arch string) string {
	prebuilds := filepath.Join(dir, "prebuilds")
	entries, _ := fsys.readDir(prebuilds)
	tuple := "linux-" + arch
	best := 1 << 30
	for _, e := range entries {
		platformName, archs, ok := strings.Cut(e.Name(), "-")
		if !ok || strings.Contains(archs, "-") || platformName != "linux" {
			continue
		}
		list := strings.Split(archs, "+")
		for _, a := range list {
			if a == arch && len(list) < best {
				tuple, best = e.Name(), len(list)
			}
		}
	}
	return filepath.Join(prebuilds, tuple)
}

// pickTagged picks, of folder's files, the one node-gyp-build's tag rules
// pick (node.abi115.glibc.node, node.napi.musl.node, …) for node's ABI and
// libc: node's runtime first, an ABI before Node-API, then the most tags.
// "" when none matches.
func pickTagged(fsys *files, folder string, pf platform, libc string) string {
	files, _ := fsys.readDir(folder)
	type tags struct {
		file                         string
		runtime, abi, uv, armv, libc string
		napi                         bool
		specificity                  int
	}
	var candidates []tags
	for _, f := range files {
		parts := strings.Split(f.Name(), ".")
		if len(parts) < 2 || parts[len(parts)-1] != "node" {
			continue
		}
		t := tags{file: f.Name()}
		for _, tag := range parts[:len(parts)-1] {
			switch {
			case tag == "node" || tag == "electron" || tag == "node-webkit":
				t.runtime = tag
			case tag == "napi":
				t.napi = true
			case strings.HasPrefix(tag, "abi"):
				t.abi = tag[3:]
			case strings.HasPrefix(tag, "uv"):
				t.uv = tag[2:]
			case strings.HasPrefix(tag, "armv"):
				t.armv = tag[4:]
			case tag == "glibc" || tag == "musl":
				t.libc = tag
			default:
				continue
			}
			t.specificity++
		}
		armv := ""
		if pf.Arch == "arm64" {
			armv = "8"
		}
		switch {
		case t.runtime != "" && t.runtime != "node" && !(t.runtime == "electron" && t.napi) && !(t.runtime == "node-webkit" && t.napi):
		case t.abi != "" && t.abi != strconv.Itoa(pf.abi()) && !t.napi:
		case t.uv != "" && t.uv != "1":
		case t.armv != "" && t.armv != armv:
		case t.libc != "" && t.libc != libc:
		default:
			candidates = append(candidates, t)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		switch {
		case a.runtime != b.runtime:
			return a.runtime == "node"
		case a.abi != b.abi:
			return a.abi != ""
		}
		return a.specificity > b.specificity
	})
	if len(candidates) == 0 {
		return ""
	}
	return filepath.Join(folder, candidates[0].file)
}

var bindingsCall = lazy(`bindings\(\s*(?:\{[^}]*?bindings\s*:\s*)?['"]([^'"]+)['"]`)

// pickBindings follows the bindings package: its fixed list of folders,
// for the file name the package asks for.
func pickBindings(fsys *files, dir string, pj *packageJSON, pf platform) pick {
	name := bindingsName(fsys, dir, pj)
	if name == "" {
		if p := firstNode(fsys, filepath.Join(dir, "build", "Release")); p != "" {
			return pick{Path: p, Loader: "bindings"}
		}
		return pick{Loader: "bindings", Looked: []string{filepath.Join(dir, "build", "Release")}}
	}
	if !strings.HasSuffix(name, ".node") {
		name += ".node"
	}
	preGyp := fmt.Sprintf("node-v%d-linux-%s", pf.abi(), pf.Arch)
	var looked []string
	for _, parts := range [][]string{
		{"build"}, {"build", "Debug"}, {"build", "Release"}, {"out", "Debug"}, {"Debug"},
		{"out", "Release"}, {"Release"}, {"build", "default"},
		{"compiled", pf.version(), "linux", pf.Arch}, {"addon-build", "release", "install-root"},
		{"addon-build", "debug", "install-root"}, {"addon-build", "default", "install-root"},
		{"lib", "binding", preGyp},
	} {
		p := filepath.Join(append(append([]string{dir}, parts...), name)...)
		looked = append(looked, p)
		if st, err := fsys.stat(p); err == nil && st.Mode().IsRegular() {
			return pick{Path: p, Loader: "bindings"}
		}
	}
	return pick{Loader: "bindings", Looked: looked}
}

// bindingsName finds the name a package passes to bindings(): it reads the
// package's main script and lib/*.js, then falls back to binding.gyp's
// first target_name.
func bindingsName(fsys *files, dir string, pj *packageJSON) string {
	files := []string{}
	if pj.Main != "" {
		files = append(files, filepath.Join(dir, pj.Main), filepath.Join(dir, pj.Main+".js"))
	}
	files = append(files, filepath.Join(dir, "index.js"))
	if lib, err := fsys.glob(filepath.Join(dir, "lib", "*.js")); err == nil {
		files = append(files, lib...)
	}
	for i, f := range files {
		if i > 40 {
			break
		}
		b, err := fsys.readFile(f, 1<<20)
		if err != nil {
			continue
		}
		if m := bindingsCall.get().FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	if b, err := fsys.readFile(filepath.Join(dir, "binding.gyp"), 1<<20); err == nil {
		if m := regexp.MustCompile(`['"]target_name['"]\s*:\s*['"]([^'"]+)['"]`).FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	return ""
}

// pickNodePreGyp evaluates package.json's binary.module_path template.
func pickNodePreGyp(fsys *files, dir string, pj *packageJSON, pf platform) pick {
	napiBuild := 0
	for _, v := range pj.Binary.NAPIVersions {
		if v <= pf.napi() && v > napiBuild {
			napiBuild = v
		}
	}
	major, _, _ := strings.Cut(pj.Version, ".")
	r := strings.NewReplacer(
		"{node_abi}", fmt.Sprintf("node-v%d", pf.abi()), "{platform}", "linux", "{arch}", pf.Arch,
		"{libc}", pf.Libc, "{napi_build_version}", strconv.Itoa(napiBuild), "{configuration}", "Release",
		"{module_name}", pj.Binary.ModuleName, "{name}", pj.Name, "{version}", pj.Version, "{major}", major,
		"{node_napi_label}", map[bool]string{true: "napi-v" + strconv.Itoa(napiBuild), false: fmt.Sprintf("node-v%d", pf.abi())}[napiBuild > 0],
	)
	p := filepath.Join(dir, r.Replace(pj.Binary.ModulePath), pj.Binary.ModuleName+".node")
	if st, err := fsys.stat(p); err == nil && st.Mode().IsRegular() {
		return pick{Path: p, Loader: "node-pre-gyp"}
	}
	return pick{Loader: "node-pre-gyp", Looked: []string{p}}
}

// platformVariants are the per-platform packages a parent lists in its
// optionalDependencies for linux, and those of them for this platform:
// napi-rs's <name>-linux-<arch>-<gnu|musl>, parcel's -glibc/-musl,
// sharp's @img/sharp-linux-<arch> and @img/sharp-linuxmusl-<arch>. Of
// this platform's, those named for the parent (<name>-linux…) come first:
// they hold its binding, where sharp's @img/sharp-libvips-linux-<arch>
// holds a library the binding links.
func platformVariants(pj *packageJSON, pf platform) (linux, here []string) {
	musl := map[string]bool{} // the CPUs the parent lists a musl package for
	for name := range pj.OptionalDependencies {
		if arch, libc, ok := variantPlatform(name); ok && libc == "musl" {
			musl[arch] = true
		}
	}
	for name := range pj.OptionalDependencies {
		arch, libc, ok := variantPlatform(name)
		if !ok {
			continue
		}
		linux = append(linux, name)
		// A name that says no libc is glibc's where the parent lists a
		// musl package beside it (sharp's -linux-arm64 and
		// -linuxmusl-arm64), else every libc's: koffi's -linux-arm64 holds
		// a folder for each, and loads on Alpine.
		if arch == pf.Arch && (libc == pf.Libc || !musl[arch] && !libcNamed(name)) {
			here = append(here, name)
		}
	}
	sort.Strings(linux)
	own := path.Base(pj.Name) + "-linux"
	sort.Slice(here, func(i, j int) bool {
		oi, oj := strings.HasPrefix(path.Base(here[i]), own), strings.HasPrefix(path.Base(here[j]), own)
		if oi != oj {
			return oi
		}
		return here[i] < here[j]
	})
	return linux, here
}

// variantPlatform reads the arch and libc a per-platform package's name
// says it is for.
func variantPlatform(name string) (arch, libc string, ok bool) {
	i := strings.LastIndex(name, "-linux")
	if i < 0 {
		return "", "", false
	}
	rest := name[i+1:] // linux-x64-gnu, linuxmusl-arm64, linux-arm-gnueabihf
	libc = "glibc"
	switch {
	case strings.HasPrefix(rest, "linuxmusl-"):
		libc, rest = "musl", strings.TrimPrefix(rest, "linuxmusl-")
	case strings.HasPrefix(rest, "linux-"):
		rest = strings.TrimPrefix(rest, "linux-")
	default:
		return "", "", false // is-linux, linuxbrew
	}
	arch, tail, _ := strings.Cut(rest, "-")
	if strings.Contains(tail, "musl") {
		libc = "musl"
	}
	return arch, libc, arch != ""
}

// libcNamed reports whether a platform package's name says its libc
// (-linux-x64-gnu, -linux-arm64-musl, -linuxmusl-x64, -linux-arm-gnueabihf),
// where variantPlatform reads a name that says none as glibc's.
func libcNamed(name string) bool {
	i := strings.LastIndex(name, "-linux")
	if i < 0 {
		return false
	}
	rest := name[i+1:]
	if strings.HasPrefix(rest, "linuxmusl-") {
		return true
	}
	_, tail, _ := strings.Cut(strings.TrimPrefix(rest, "linux-"), "-")
	return tail != ""
}

// npmFlags are the npm flags that install packages for this platform.
func (pf platform) npmFlags() string {
	return fmt.Sprintf("--os=linux --cpu=%s --libc=%s", pf.Arch, pf.Libc)
}

// plainRequire is what a package that no loader marks loads: the .node
// file anyNode finds, as the package's own code requires it; an empty
// pick when there is none.
func plainRequire(fsys *files, dir string, pf platform) pick {
	if found := anyNode(fsys, dir, pf.Arch); found != "" {
		return pick{Path: found, Loader: "a plain require"}
	}
	return pick{}
}

// anyNode is the first .node file inside a package folder that no loader
// marks (a build/Release without binding.gyp, a bundler's copy), looking a
// few levels deep and never into node_modules. Of files named for their
// platform (oracledb-26.0.0-linux-x64.node beside -darwin-arm64 and
// -win32-x64), the package's code loads the one for node's: that one.
func anyNode(fsys *files, dir, arch string) string {
	for _, sub := range []string{filepath.Join("build", "Release"), "build", "lib", "dist", "bin", "."} {
		if p := namedFor(fsys, filepath.Join(dir, sub), arch); p != "" {
			return p
		}
		if p := firstNode(fsys, filepath.Join(dir, sub)); p != "" {
			return p
		}
	}
	return ""
}

// namedFor is the .node file in dir whose name says linux and arch, as
// linux-x64 or linux_x64 ("" when none does, or arch is unknown).
func namedFor(fsys *files, dir, arch string) string {
	if arch == "" {
		return ""
	}
	entries, _ := fsys.readDir(dir)
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".node") && (strings.Contains(n, "linux-"+arch+".") || strings.Contains(n, "linux_"+arch+".") ||
			strings.Contains(n, "linux-"+arch+"-") || strings.Contains(n, "linux_"+arch+"_")) {
			return filepath.Join(dir, n)
		}
	}
	return ""
}
