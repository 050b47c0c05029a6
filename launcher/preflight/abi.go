package preflight

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// nodeABI is NODE_MODULE_VERSION by node major (electron/node-abi's registry).
var nodeABI = map[int]int{
	10: 64, 11: 67, 12: 72, 13: 79, 14: 83, 15: 88, 16: 93, 17: 102,
	18: 108, 19: 111, 20: 115, 21: 120, 22: 127, 23: 131, 24: 137, 25: 141,
	26: 147,
}

// nodeMajorOfABI is the inverse of nodeABI, for hints.
func nodeMajorOfABI(abi int) int {
	for major, a := range nodeABI {
		if a == abi {
			return major
		}
	}
	return 0
}

// napiLevel is the highest Node-API version a node version supports
// (nodejs.org/api/n-api.html#node-api-version-matrix).
func napiLevel(major, minor int) int {
	switch {
	case major >= 24, major == 23 && minor >= 6, major == 22 && minor >= 14:
		return 10
	case major >= 21, major == 20 && minor >= 3, major == 18 && minor >= 17, major == 19:
		return 9
	case major >= 16, major == 14 && minor >= 17, major == 15 && minor >= 12:
		return 8
	}
	return 7
}

// NodeInfo is what preflight found out about the node that will run.
type NodeInfo struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	ABI     int    `json:"abi"`
	NAPI    int    `json:"napi"`
	Libc    string `json:"libc"`
	Arch    string `json:"arch"`
	// VersionFrom says where the version was read when node was not run
	// (`check --root`); empty when node --version answered.
	VersionFrom string `json:"version_from,omitempty"`

	major, minor int
	machine      elfMachine
	class        elfClass
	interp       string
	bin          *elfFile     // nil when node is not ELF, or not node itself
	libs         *libResolver // with node's libraries open, for the module checks; nil with bin
	// shim: LAUNCHER_NODE is an executable that exports no Node-API, so
	// not node but a program that starts it (volta's shim does): its CPU
	// and libc are node's, its symbols and libraries are not.
	shim bool
	// scope is node's part of the loader's global scope: the executable,
	// then its libraries breadth-first (libnode.so where node is built
	// shared, as Debian's is). An addon's imports resolve here first.
	scope []*loadedLib
	dyn   dynamicInfo

	versionDone chan struct{} // closed once node --version has answered
	versionErr  error
	refused     *refusal // node answers, but not with LAUNCHER_NODE_ARGS
}

// defines reports whether node's scope defines symbol name, as the dynamic
// loader would find it for an addon.
func (n *NodeInfo) defines(name string) bool {
	for _, l := range n.scope {
		if l.File == nil {
			continue
		}
		if _, ok := l.File.lookup(name); ok {
			return true
		}
	}
	return false
}

// setVersion takes node's version ("v18.20.4") and derives the Node-API
// level and the ABI from the tables; the ABI is 0 for a major the table
// does not know, which the caller reads from node's file (scanABI) or
// asks node for. Only n's version fields are touched: the version query
// calls it beside the reading of node's ELF file, which owns n.bin.
func (n *NodeInfo) setVersion(version string) error {
	var err error
	if n.major, n.minor, n.Version, err = parseNodeVersion(version); err != nil {
		return err
	}
	n.NAPI = napiLevel(n.major, n.minor)
	n.ABI = nodeABI[n.major]
	return nil
}

// versions is what preset takes: node's version, ABI and Node-API level.
func (n *NodeInfo) versions() NodeVersions {
	return NodeVersions{Version: n.Version, ABI: n.ABI, NAPI: n.NAPI}
}

// preset takes node's version, and its ABI and Node-API level where given
// (the table's otherwise).
func (n *NodeInfo) preset(v NodeVersions) error {
	if err := n.setVersion(v.Version); err != nil {
		return err
	}
	if v.ABI > 0 {
		n.ABI = v.ABI
	}
	if v.NAPI > 0 {
		n.NAPI = v.NAPI
	}
	return nil
}

// Facts are what the modules must match: "NODE_MODULE_VERSION 108, N-API 9,
// glibc, arm64".
func (n *NodeInfo) Facts() string {
	return fmt.Sprintf("NODE_MODULE_VERSION %d, N-API %d, %s, %s", n.ABI, n.NAPI, orUnknown(n.Libc), orUnknown(n.Arch))
}

// versionKnown waits for node --version and reports whether it answered.
func (n *NodeInfo) versionKnown() bool {
	if n.versionDone != nil {
		<-n.versionDone
	}
	return n.versionErr == nil && n.Version != ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// parseNodeVersion reads `node --version` output, or the version node
// reports at the gate: an optional "v", three numbers joined by dots
// ("v20.11.1"), and a prerelease's tag ("-rc.1", "-nightly20240101abc"),
// kept so that none is taken for the release (node's own modules are
// judged by release, and the bindings package looks in a folder named
// with the whole version); what follows them is not part of it.
// By hand, not by regexp: the first parse of a start may come while node
// waits at the gate, where compiling the regexp cost 0.2 to 0.3 ms.
func parseNodeVersion(out string) (major, minor int, version string, err error) {
	out = strings.TrimSpace(out)
	s := strings.TrimPrefix(out, "v")
	var nums [3]int
	end := 0
	for k := range nums {
		start := end
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		if end == start || k < 2 && (end == len(s) || s[end] != '.') {
			return 0, 0, "", fmt.Errorf("unexpected `node --version` output %q", out)
		}
		nums[k], _ = strconv.Atoi(s[start:end])
		if k < 2 {
			end++ // the dot
		}
	}
	if end+1 < len(s) && s[end] == '-' && prereleaseByte(s[end+1]) {
		end++
		for end < len(s) && prereleaseByte(s[end]) {
			end++
		}
	}
	return nums[0], nums[1], "v" + s[:end], nil
}

// prereleaseByte reports whether c may be in a semver prerelease tag.
func prereleaseByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-'
}

// fileABI is scanABI of node's file at path, read through a handle of
// its own: the version query runs beside the ELF checks, which own theirs.
func (fsys *files) fileABI(path string) int {
	f, st, err := fsys.open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	return scanABI(f, st.Size())
}

// scanABI finds NODE_MODULE_VERSION in the node binary: node_binding.cc
// builds the literal "node_register_module_v" STRINGIFY(NODE_MODULE_VERSION).
// Used only for a major missing from nodeABI.
func scanABI(r io.ReaderAt, size int64) int {
	abi := 0
	scanAfter(r, size, []byte("node_register_module_v"), 5, func(after []byte) bool {
		j := 0
		for j < len(after) && j < 4 && after[j] >= '0' && after[j] <= '9' {
			j++
		}
		if j > 0 && (j == len(after) || after[j] == 0) {
			abi, _ = strconv.Atoi(string(after[:j]))
			return true
		}
		return false
	})
	return abi
}

// scanAfter reads r (size bytes) a megabyte at a time and calls found with
// up to tail bytes after each occurrence of marker, until found says it is
// the one. The chunks overlap by the marker and its tail, and an occurrence
// counts in the chunk it starts in, so each is seen once and whole (short
// only at the end of the file).
func scanAfter(r io.ReaderAt, size int64, marker []byte, tail int, found func(after []byte) bool) {
	const step = 1 << 20
	buf := make([]byte, min(size, step)+int64(len(marker)+tail))
	for off := int64(0); off < size; off += step {
		n, _ := r.ReadAt(buf, off)
		chunk := buf[:n]
		for i := 0; i < min(n, step); {
			k := bytes.Index(chunk[i:], marker)
			if k < 0 || i+k >= step {
				break
			}
			i += k
			after := chunk[i+len(marker) : min(n, i+len(marker)+tail)]
			if found(after) {
				return
			}
			i++
		}
	}
}

// libcOfInterp names the libc family of an executable by its interpreter.
func libcOfInterp(interp string) string {
	switch {
	case strings.Contains(interp, "ld-musl"):
		return "musl"
	case strings.Contains(interp, "ld-linux"), strings.Contains(interp, "ld64.so"):
		return "glibc"
	}
	return ""
}

// libcOfNeeds names the libc family a shared object was linked against:
// libc.so.6 is glibc; Alpine's musl is libc.musl-<arch>.so.1, and cross-built
// musl objects need plain libc.so.
func libcOfNeeds(needed []string) string {
	for _, n := range needed {
		switch {
		case n == "libc.so.6":
			return "glibc"
		case strings.HasPrefix(n, "libc.musl-"), n == "libc.so":
			return "musl"
		}
	}
	return ""
}

// archOf maps an ELF machine to node's process.arch.
func archOf(m elfMachine) string {
	switch m {
	case emX86_64:
		return "x64"
	case emAARCH64:
		return "arm64"
	case emARM:
		return "arm"
	case em386:
		return "ia32"
	case emPPC64:
		return "ppc64"
	case emS390:
		return "s390x"
	case emRISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// archNames are node's process.arch values as Home Assistant's config.yaml
// and a container platform (`--platform linux/<arch>`) name them.
var archNames = map[string]struct{ ha, docker string }{
	"x64":   {"amd64", "amd64"},
	"arm64": {"aarch64", "arm64"},
	"arm":   {"armv7", "arm/v7"},
	"ia32":  {"i386", "386"},
}

// haArch names a node arch as Home Assistant does.
func haArch(arch string) string {
	if n, ok := archNames[arch]; ok {
		return n.ha
	}
	return arch
}

// archOfGo names the CPU this program runs on as node's process.arch
// does: node started from the same container runs on the same one.
func archOfGo(goarch string) string {
	for arch, n := range archNames {
		if n.docker == goarch || strings.HasPrefix(n.docker, goarch+"/") {
			return arch
		}
	}
	return goarch
}

// dockerArch names a node arch as a container platform does.
func dockerArch(arch string) string {
	if n, ok := archNames[arch]; ok {
		return n.docker
	}
	return arch
}

// Registration schemes of an addon (docs/NATIVE.md §1).
const (
	schemeNAPI = "node-api"
	schemeV8   = "v8" // NODE_MODULE_VERSION must equal node's
)

// addonABI is how an addon registers with node and what it requires.
type addonABI struct {
	Scheme      string
	ABI         int      // NODE_MODULE_VERSION for v8 addons; 0 when it could not be read
	NAPIVersion int      // declared Node-API version; 0 when not declared
	NAPIImports []string // napi_* and node_api_* functions it imports from node
	Imports     []elfSym // every undefined dynamic symbol
}

// readAddonABI reads the registration scheme of an addon:
// an exported node_register_module_vNNN (NODE_MODULE_INIT), an imported
// node_module_register with nm_version in .data (NODE_MODULE), an exported
// napi_register_module_v1 or an imported napi_module_register (Node-API).
func readAddonABI(e *elfFile) (addonABI, error) {
	var a addonABI
	syms, err := e.dynamicSymbols()
	if err != nil {
		return a, err
	}
	var constructorV8, napi bool
	var getter *elfSym
	for i, s := range syms {
		switch {
		case !s.Defined:
			a.Imports = append(a.Imports, s)
			if strings.HasPrefix(s.Name, "napi_") || strings.HasPrefix(s.Name, "node_api_") {
				a.NAPIImports = append(a.NAPIImports, s.Name)
				if s.Name == "napi_module_register" {
					napi = true
				}
			}
			if s.Name == "node_module_register" || s.Name == "_ZN4node20node_module_registerEPv" {
				constructorV8 = true
			}
		case strings.HasPrefix(s.Name, "node_register_module_v"):
			if v, err := strconv.Atoi(strings.TrimPrefix(s.Name, "node_register_module_v")); err == nil {
				a.Scheme, a.ABI = schemeV8, v
			}
		case s.Name == "napi_register_module_v1":
			napi = true
		case s.Name == "node_api_module_get_api_version_v1":
			getter = &syms[i]
		}
	}
	switch {
	case a.Scheme == schemeV8:
	case constructorV8:
		a.Scheme, a.ABI = schemeV8, readNMVersion(e)
	case napi:
		a.Scheme = schemeNAPI
		if getter != nil {
			a.NAPIVersion = readImmediateReturn(e, getter.Value)
		}
	default:
		return a, errors.New("registers no module: no node_register_module_v*, napi_register_module_v1 or module constructor")
	}
	return a, nil
}

// readNMVersion finds nm_version of a NODE_MODULE-style addon: the static
// node_module struct in .data. Unstripped, the local symbol _ZL7_module
// points at it; stripped, it is found by its relocations: nm_filename (at
// +16) points at a source file name and nm_modname (+40) is relocated too.
func readNMVersion(e *elfFile) int {
	if syms, err := e.symbols(shtSymtab); err == nil {
		for _, s := range syms {
			if s.Name == "_ZL7_module" || strings.HasSuffix(s.Name, "_module") && s.kind() == sttObject && s.Size >= 16 {
				if b, err := e.readVirtual(s.Value, 4); err == nil {
					if v := int(int32(e.h.order.Uint32(b))); v > 0 && v < 10000 {
						return v
					}
				}
			}
		}
	}
	if e.h.Class != elfClass64 {
		return 0
	}
	var relative uint32
	switch e.h.Machine {
	case emX86_64:
		relative = rX86_64Relative
	case emAARCH64:
		relative = rAARCH64Relative
	default:
		return 0
	}
	targets := map[uint64]uint64{}
	for _, s := range e.h.Sections {
		if s.Type != shtRela {
			continue
		}
		data, err := e.readSection(s)
		if err != nil {
			continue
		}
		for off := 0; off+24 <= len(data); off += 24 {
			if uint32(e.h.order.Uint64(data[off+8:])) == relative {
				targets[e.h.order.Uint64(data[off:])] = e.h.order.Uint64(data[off+16:])
			}
		}
	}
	for at, target := range targets {
		if _, ok := targets[at+24]; !ok || at < 16 {
			continue
		}
		name, err := e.readVirtual(target, 1)
		if err != nil || name[0] == 0 {
			continue
		}
		str, err := e.readVirtual(target, 64)
		if err != nil {
			str, _ = e.readVirtual(target, 16)
		}
		if i := bytes.IndexByte(str, 0); i > 0 {
			file := string(str[:i])
			if !strings.HasSuffix(file, ".cc") && !strings.HasSuffix(file, ".cpp") && !strings.HasSuffix(file, ".c") && !strings.HasSuffix(file, ".cxx") {
				continue
			}
			head, err := e.readVirtual(at-16, 16)
			if err != nil || e.h.order.Uint64(head[8:]) != 0 {
				continue
			}
			if v := int(int32(e.h.order.Uint32(head))); v > 0 && v < 10000 {
				return v
			}
		}
	}
	return 0
}

// napiExperimental is NAPI_VERSION_EXPERIMENTAL (js_native_api.h): what
// node_api_module_get_api_version_v1 returns in a module built with
// NAPI_EXPERIMENTAL. node loads it whatever its own level.
const napiExperimental = math.MaxInt32

// readImmediateReturn decodes a function that returns a constant:
// node_api_module_get_api_version_v1 is `return NAPI_VERSION;`. x86-64:
// [endbr64] [push rbp; mov rbp,rsp] mov eax,imm32; aarch64: movz w0,#imm.
func readImmediateReturn(e *elfFile, addr uint64) int {
	code, err := e.readVirtual(addr, 16)
	if err != nil {
		return 0
	}
	switch e.h.Machine {
	case emX86_64, em386:
		code = bytes.TrimPrefix(code, []byte{0xf3, 0x0f, 0x1e, 0xfa})
		code = bytes.TrimPrefix(code, []byte{0x55, 0x48, 0x89, 0xe5})
		if len(code) >= 5 && code[0] == 0xb8 {
			return int(int32(e.h.order.Uint32(code[1:])))
		}
	case emAARCH64:
		if insn := e.h.order.Uint32(code); insn&0xffe0001f == 0x52800000 {
			return int(insn >> 5 & 0xffff)
		}
	}
	return 0
}
