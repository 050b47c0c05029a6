package preflight

import (
	"bytes"
	"debug/elf"
	"errors"
	"reflect"
	"testing"
)

// FuzzInspectELF runs every read preflight makes of a .node file over
// hostile bytes: truncated and bit-flipped real addons (the committed seed
// corpus in testdata/fuzz/FuzzInspectELF), and whatever the fuzzer makes of
// them. Any result is fine but a panic or a hang; and where debug/elf reads
// the file, the preflight's own reader (elfread.go) must read the same.
// The bytes are read in memory, through readELF as an open file is: written
// to a file and opened at each input, the target ran 18,000 inputs a
// minute here instead of 660,000.
func FuzzInspectELF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsDebugELF(t, data)
		e, err := readELF(inMemory{bytes.NewReader(data)}, int64(len(data)), "x.node")
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
		_, _ = e.unguardedAtomics()
	})
}

// sameAsDebugELF holds readELFHeaders, symbols and versionNeeds to debug/elf
// on a file debug/elf reads: the same headers, the same symbols, the same
// version needs. Files with compressed sections are left out: debug/elf
// inflates them, the preflight reads none of them.
func sameAsDebugELF(t *testing.T, data []byte) {
	t.Helper()
	ref, err := refELF(func() (*elf.File, error) { return elf.NewFile(bytes.NewReader(data)) })
	if err != nil {
		return
	}
	for _, s := range ref.Sections {
		if s.Flags&elf.SHF_COMPRESSED != 0 {
			return // debug/elf inflates it (the section names too), the preflight reads it as it is
		}
	}
	h, err := readELFHeaders(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("debug/elf reads the headers; readELFHeaders: %v", err)
	}
	if h.Class != elfClass(ref.Class) || h.Machine != elfMachine(ref.Machine) || h.order != ref.ByteOrder {
		t.Fatalf("header: %v %v %v, debug/elf %v %v %v", h.Class, h.Machine, h.order, ref.Class, ref.Machine, ref.ByteOrder)
	}
	if h.Class.String() != ref.Class.String() {
		t.Fatalf("class %q, debug/elf %q", h.Class, ref.Class)
	}
	if len(h.Progs) != len(ref.Progs) {
		t.Fatalf("%d program headers, debug/elf %d", len(h.Progs), len(ref.Progs))
	}
	for i, p := range ref.Progs {
		if want := (elfProg{Type: uint32(p.Type), Off: p.Off, Vaddr: p.Vaddr, Filesz: p.Filesz}); h.Progs[i] != want {
			t.Fatalf("program header %d: %+v, debug/elf %+v", i, h.Progs[i], want)
		}
	}
	if len(h.Sections) != len(ref.Sections) {
		t.Fatalf("%d sections, debug/elf %d", len(h.Sections), len(ref.Sections))
	}
	for i, s := range ref.Sections {
		want := elfSection{Name: s.Name, Type: uint32(s.Type), Flags: uint64(s.Flags), Addr: s.Addr, Offset: s.Offset,
			Size: s.FileSize, Link: s.Link, Info: s.Info, Addralign: s.Addralign, Entsize: s.Entsize}
		got := *h.Sections[i]
		got.Flags &= 0xffffffff // debug/elf keeps the 32 bits the gABI defines flags in
		if got != want {
			t.Fatalf("section %d: %+v, debug/elf %+v", i, got, want)
		}
	}
	e := &elfFile{path: "x.node", f: inMemory{bytes.NewReader(data)}, h: h, size: int64(len(data))}
	for _, c := range []struct {
		typ  uint32
		read func() ([]elf.Symbol, error)
	}{{shtDynsym, ref.DynamicSymbols}, {shtSymtab, ref.Symbols}} {
		want, err := refELF(c.read)
		if err != nil {
			continue
		}
		got, err := e.symbols(c.typ)
		if err != nil {
			t.Fatalf("debug/elf reads the symbols of type %d; symbols: %v", c.typ, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d symbols of type %d, debug/elf %d", len(got), c.typ, len(want))
		}
		for i, w := range want {
			if g := got[i]; g.Name != w.Name || g.Info != w.Info || g.Section != uint16(w.Section) || g.Value != w.Value || g.Size != w.Size {
				t.Fatalf("symbol %d of type %d: %+v, debug/elf %+v", i, c.typ, g, w)
			}
		}
	}
	needs, err := refELF(ref.DynamicVersionNeeds)
	if err != nil {
		return
	}
	want := map[string][]string{}
	for _, n := range needs {
		for _, d := range n.Needs {
			want[n.Name] = append(want[n.Name], d.Dep)
		}
	}
	if got, _ := e.versionNeeds(); !reflect.DeepEqual(got, want) {
		t.Fatalf("version needs %v, debug/elf %v", got, want)
	}
}

// inMemory is an elfSource of bytes.
type inMemory struct{ *bytes.Reader }

func (inMemory) Close() error { return nil }

// refELF calls debug/elf, whose panics on a damaged file count as errors.
func refELF[T any](read func() (T, error)) (v T, err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("debug/elf panicked")
		}
	}()
	return read()
}
