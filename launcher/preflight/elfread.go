package preflight

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The parts of an ELF file the preflight reads, read here by hand rather
// than through debug/elf. That package brings compress/flate, internal/zstd
// and debug/dwarf with it, for compressed and debug sections the preflight
// never opens; their initialisation ran at every start of the launcher and
// every `launcher healthcheck` (0.3 ms of its 10 here), and they were 220 KB
// of its binary. What is read here: the header, the program and section
// headers with the sections' names, symbol tables and the version needs;
// the other reads are in elf.go. FuzzInspectELF holds this to debug/elf on
// every file debug/elf reads.
//
// A compressed section keeps its size in the file: debug/elf gives the
// inflated size instead, and the preflight, checking that every section
// lies within the file, refused addons built with compressed debug
// sections (gcc -gz) as malformed.

// elfClass is the file's word size, as debug/elf names it in messages.
type elfClass uint8

const (
	elfClass32 elfClass = 1
	elfClass64 elfClass = 2
)

func (c elfClass) String() string {
	switch c {
	case elfClass32:
		return "ELFCLASS32"
	case elfClass64:
		return "ELFCLASS64"
	}
	return fmt.Sprintf("ELFCLASS(%d)", uint8(c))
}

// elfMachine is the e_machine field: the processor a file is built for.
type elfMachine uint16

const (
	em386     elfMachine = 3
	emARM     elfMachine = 40
	emX86_64  elfMachine = 62
	emPPC64   elfMachine = 21
	emS390    elfMachine = 22
	emAARCH64 elfMachine = 183
	emRISCV   elfMachine = 243
)

// String is the machine's name in the ELF specification (EM_X86_64); a
// machine not named here gets its number.
func (m elfMachine) String() string {
	switch m {
	case 2:
		return "EM_SPARC"
	case em386:
		return "EM_386"
	case 4:
		return "EM_68K"
	case 8:
		return "EM_MIPS"
	case 20:
		return "EM_PPC"
	case emPPC64:
		return "EM_PPC64"
	case emS390:
		return "EM_S390"
	case emARM:
		return "EM_ARM"
	case 43:
		return "EM_SPARCV9"
	case 50:
		return "EM_IA_64"
	case emX86_64:
		return "EM_X86_64"
	case emAARCH64:
		return "EM_AARCH64"
	case emRISCV:
		return "EM_RISCV"
	case 258:
		return "EM_LOONGARCH"
	}
	return fmt.Sprintf("EM_%d", uint16(m))
}

// The constants of the ELF format the preflight uses (the System V gABI and
// the GNU extensions).
const (
	ptLoad   = 1
	ptInterp = 3

	shtProgbits   = 1
	shtSymtab     = 2
	shtStrtab     = 3
	shtRela       = 4
	shtHash       = 5
	shtDynamic    = 6
	shtNobits     = 8
	shtDynsym     = 11
	shtGNUHash    = 0x6ffffff6
	shtGNUVerdef  = 0x6ffffffd
	shtGNUVerneed = 0x6ffffffe
	shtGNUVersym  = 0x6fffffff

	shfAlloc      = 0x2
	shfExecinstr  = 0x4
	shfCompressed = 0x800

	shnUndef  = 0
	shnXindex = 0xffff

	dtNull    = 0
	dtNeeded  = 1
	dtSoname  = 14
	dtRpath   = 15
	dtRunpath = 29

	stbGlobal    = 1
	stbWeak      = 2
	stbGNUUnique = 10
	sttObject    = 1

	rX86_64Relative  = 8
	rAARCH64Relative = 1027
)

// elfSection is one section header. Size is the bytes the section takes in
// the file (compressed sections keep their compressed size).
type elfSection struct {
	Name               string
	Type               uint32
	Flags              uint64
	Addr, Offset, Size uint64
	Link, Info         uint32
	Addralign, Entsize uint64
}

// elfProg is one program header, as much of it as the preflight reads.
type elfProg struct {
	Type               uint32
	Off, Vaddr, Filesz uint64
}

// elfHeaders are a file's header and its program and section headers.
type elfHeaders struct {
	Class    elfClass
	Machine  elfMachine
	order    binary.ByteOrder
	Progs    []elfProg
	Sections []*elfSection
}

// maxSections caps the section headers read: a linked library has a few
// dozen; only extended numbering (0xff00 and more) can claim more than
// 65,535.
const maxSections = 1 << 20

// readELFHeaders reads the headers of the ELF file r, of size bytes, with
// the checks debug/elf's NewFile makes.
func readELFHeaders(r io.ReaderAt, size int64) (*elfHeaders, error) {
	var ident [64]byte
	n, err := r.ReadAt(ident[:], 0)
	if n < 16 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if string(ident[:4]) != "\x7fELF" {
		return nil, errors.New("bad magic number")
	}
	h := &elfHeaders{Class: elfClass(ident[4])}
	switch ident[5] {
	case 1:
		h.order = binary.LittleEndian
	case 2:
		h.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("unknown ELF data encoding %d", ident[5])
	}
	if ident[6] != 1 {
		return nil, fmt.Errorf("unknown ELF version %d", ident[6])
	}
	var hdrSize, phmin, shmin int
	switch h.Class {
	case elfClass64:
		hdrSize, phmin, shmin = 64, 56, 64
	case elfClass32:
		hdrSize, phmin, shmin = 52, 32, 40
	default:
		return nil, fmt.Errorf("unknown ELF class %d", ident[4])
	}
	if n < hdrSize {
		return nil, io.ErrUnexpectedEOF
	}
	o := h.order
	h.Machine = elfMachine(o.Uint16(ident[18:]))
	if !currentVersion(o.Uint32(ident[20:])) {
		return nil, errors.New("mismatched ELF version")
	}
	// From e_entry on, the classes differ in where fields sit: three
	// addresses of the class's word size (e_entry, e_phoff, e_shoff), then
	// e_flags and six 16-bit fields, e_ehsize and the five read here.
	var phoff, shoff uint64
	counts := ident[42:52]
	if h.Class == elfClass64 {
		phoff, shoff = o.Uint64(ident[32:]), o.Uint64(ident[40:])
		counts = ident[54:64]
	} else {
		phoff, shoff = uint64(o.Uint32(ident[28:])), uint64(o.Uint32(ident[32:]))
	}
	field := func(i int) uint64 { return uint64(o.Uint16(counts[2*i:])) }
	phentsize, phnum, shentsize, shnum, shstr := field(0), field(1), field(2), field(3), field(4)
	if shoff == 0 && shnum != 0 {
		return nil, fmt.Errorf("invalid ELF shnum for shoff=0: %d", shnum)
	}
	if shnum > 0 && shstr >= shnum {
		return nil, fmt.Errorf("invalid ELF shstrndx %d", shstr)
	}
	if phnum > 0 && phentsize < uint64(phmin) {
		return nil, fmt.Errorf("invalid ELF phentsize %d", phentsize)
	}
	if phnum > 0 {
		data, err := readAt(r, size, phoff, phnum*phentsize)
		if err != nil {
			return nil, fmt.Errorf("program headers: %w", err)
		}
		h.Progs = make([]elfProg, phnum)
		for i := range h.Progs {
			b := data[uint64(i)*phentsize:]
			p := &h.Progs[i]
			p.Type = o.Uint32(b)
			if h.Class == elfClass64 {
				p.Off, p.Vaddr, p.Filesz = o.Uint64(b[8:]), o.Uint64(b[16:]), o.Uint64(b[32:])
			} else {
				p.Off, p.Vaddr, p.Filesz = uint64(o.Uint32(b[4:])), uint64(o.Uint32(b[8:])), uint64(o.Uint32(b[16:]))
			}
		}
	}
	// Extended numbering: with 0xff00 sections or more, the count (and the
	// names' index) live in the first section header.
	if shoff > 0 && shnum == 0 {
		s0, err := h.sectionHeader(r, shoff, uint64(shmin))
		if err != nil {
			return nil, err
		}
		shnum = s0.Size
		if s0.Type != 0 || shnum < 0xff00 {
			return nil, errors.New("invalid extended section numbering")
		}
		if shstr == shnXindex {
			if shstr = uint64(s0.Link); shstr < 0xff00 {
				return nil, fmt.Errorf("invalid ELF shstrndx %d in sh_link", shstr)
			}
		}
		if shstr >= shnum {
			return nil, fmt.Errorf("invalid ELF shstrndx %d", shstr)
		}
	}
	if shnum > 0 && shentsize < uint64(shmin) {
		return nil, fmt.Errorf("invalid ELF shentsize %d", shentsize)
	}
	if shnum > maxSections {
		return nil, fmt.Errorf("%d sections: too many", shnum)
	}
	if shnum == 0 {
		return h, nil
	}
	data, err := readAt(r, size, shoff, shnum*shentsize)
	if err != nil {
		return nil, fmt.Errorf("section headers: %w", err)
	}
	h.Sections = make([]*elfSection, shnum)
	nameAt := make([]uint32, shnum)
	for i := range h.Sections {
		h.Sections[i], nameAt[i] = h.parseSection(data[uint64(i)*shentsize:])
	}
	if shstr == 0 {
		return h, nil // no names
	}
	names := h.Sections[shstr]
	if names.Type != shtStrtab {
		return nil, fmt.Errorf("section names in a section of type %#x, not a string table", names.Type)
	}
	table, err := readAt(r, size, names.Offset, names.Size)
	if err != nil {
		return nil, fmt.Errorf("section names: %w", err)
	}
	for i, s := range h.Sections {
		name, ok := cString(table, uint64(nameAt[i]))
		if !ok {
			return nil, fmt.Errorf("bad section name index %d", nameAt[i])
		}
		s.Name = name
	}
	return h, nil
}

// currentVersion reports whether e_version is EV_CURRENT, judged by its
// low byte as debug/elf judged it (its Version is a byte). glibc's loader
// wants the whole field to be 1; no toolchain writes anything else, and the
// preflight refuses no more than it did.
func currentVersion(v uint32) bool { return byte(v) == 1 }

// sectionHeader reads the section header of n bytes at off alone.
func (h *elfHeaders) sectionHeader(r io.ReaderAt, off, n uint64) (*elfSection, error) {
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("first section header: %w", err)
	}
	s, _ := h.parseSection(b)
	return s, nil
}

// parseSection decodes a section header, and the offset of its name.
func (h *elfHeaders) parseSection(b []byte) (*elfSection, uint32) {
	o, s := h.order, &elfSection{}
	name := o.Uint32(b)
	s.Type = o.Uint32(b[4:])
	if h.Class == elfClass64 {
		s.Flags, s.Addr, s.Offset, s.Size = o.Uint64(b[8:]), o.Uint64(b[16:]), o.Uint64(b[24:]), o.Uint64(b[32:])
		s.Link, s.Info = o.Uint32(b[40:]), o.Uint32(b[44:])
		s.Addralign, s.Entsize = o.Uint64(b[48:]), o.Uint64(b[56:])
	} else {
		s.Flags, s.Addr, s.Offset, s.Size = uint64(o.Uint32(b[8:])), uint64(o.Uint32(b[12:])), uint64(o.Uint32(b[16:])), uint64(o.Uint32(b[20:]))
		s.Link, s.Info = o.Uint32(b[24:]), o.Uint32(b[28:])
		s.Addralign, s.Entsize = uint64(o.Uint32(b[32:])), uint64(o.Uint32(b[36:]))
	}
	return s, name
}

// section returns the first section named name, or nil.
func (h *elfHeaders) section(name string) *elfSection {
	for _, s := range h.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// firstOfType returns the first section of type t, or nil.
func (h *elfHeaders) firstOfType(t uint32) *elfSection {
	for _, s := range h.Sections {
		if s.Type == t {
			return s
		}
	}
	return nil
}

// readAt reads n bytes at off of a file of size bytes, refusing what lies
// past its end or is larger than maxSectionRead. An empty read reads
// nothing, wherever it is: an empty section's offset means nothing (as
// debug/elf reads it, and as readELF checks the sections).
func readAt(r io.ReaderAt, size int64, off, n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if off > uint64(size) || n > uint64(size)-off {
		return nil, errors.New("extends past the end of the file")
	}
	if n > maxSectionRead {
		return nil, fmt.Errorf("%d MB, over the %d MB the preflight reads whole", n>>20, maxSectionRead>>20)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	return b, nil
}

// cString is the NUL-terminated string at off in table.
func cString(table []byte, off uint64) (string, bool) {
	if off >= uint64(len(table)) {
		return "", false
	}
	for i, c := range table[off:] {
		if c == 0 {
			return string(table[off : off+uint64(i)]), true
		}
	}
	return "", false
}

// elfSymbol is one entry of a symbol table.
type elfSymbol struct {
	Name        string
	Info        uint8
	Section     uint16
	Value, Size uint64
}

func (s elfSymbol) bind() uint8 { return s.Info >> 4 }
func (s elfSymbol) kind() uint8 { return s.Info & 0xf }

// symbols reads the first symbol table of type typ (shtSymtab, shtDynsym)
// whole, without its first, null entry; nil when there is none.
func (e *elfFile) symbols(typ uint32) ([]elfSymbol, error) {
	h := e.h
	sec := h.firstOfType(typ)
	if sec == nil {
		return nil, nil
	}
	size := h.symbolSize()
	if sec.Size%size != 0 {
		return nil, errors.New("symbol table size is not a multiple of the symbol size")
	}
	if sec.Link == 0 || int(sec.Link) >= len(h.Sections) {
		return nil, errors.New("symbol table links to no string table")
	}
	data, err := readAt(e.f, e.size, sec.Offset, sec.Size)
	if err != nil {
		return nil, fmt.Errorf("symbol table: %w", err)
	}
	table, err := e.readSection(h.Sections[sec.Link])
	if err != nil {
		return nil, fmt.Errorf("symbol names: %w", err)
	}
	var out []elfSymbol
	for off := size; off+size <= uint64(len(data)); off += size {
		s, name := h.parseSymbol(data[off:])
		s.Name, _ = cString(table, uint64(name))
		out = append(out, s)
	}
	return out, nil
}

// symbolSize is the size of a symbol table's entry.
func (h *elfHeaders) symbolSize() uint64 {
	if h.Class == elfClass32 {
		return 16
	}
	return 24
}

// parseSymbol decodes a symbol table's entry, and the offset of its name.
func (h *elfHeaders) parseSymbol(b []byte) (elfSymbol, uint32) {
	o, s := h.order, elfSymbol{}
	name := o.Uint32(b)
	if h.Class == elfClass64 {
		s.Info, s.Section = b[4], o.Uint16(b[6:])
		s.Value, s.Size = o.Uint64(b[8:]), o.Uint64(b[16:])
	} else {
		s.Value, s.Size = uint64(o.Uint32(b[4:])), uint64(o.Uint32(b[8:]))
		s.Info, s.Section = b[12], o.Uint16(b[14:])
	}
	return s, name
}

// versionNeeds maps each needed library to the symbol versions required of
// it (GLIBC_2.34, GLIBCXX_3.4.30, ...), from the SHT_GNU_verneed section,
// read as debug/elf's DynamicVersionNeeds reads it: names from the dynamic
// symbols' string table, and nothing at all from a file without dynamic
// symbols or symbol versions (musl objects) or whose table is damaged.
func (e *elfFile) versionNeeds() (map[string][]string, error) {
	out := map[string][]string{}
	h := e.h
	dyn, sec := h.firstOfType(shtDynsym), h.firstOfType(shtGNUVerneed)
	if dyn == nil || dyn.Size == 0 || dyn.Link == 0 || int(dyn.Link) >= len(h.Sections) || h.firstOfType(shtGNUVersym) == nil || sec == nil {
		return out, nil
	}
	data, err := readAt(e.f, e.size, sec.Offset, sec.Size)
	if err != nil {
		return out, nil
	}
	table, err := e.readSection(h.Sections[dyn.Link])
	if err != nil {
		return out, nil
	}
	o := h.order
	// Elf_Verneed: version, cnt (uint16), file, aux, next (uint32);
	// Elf_Vernaux: hash (uint32), flags, other (uint16), name, next
	// (uint32). Offsets are relative to the entry they are in.
	for off := uint64(0); off+16 <= uint64(len(data)); {
		if o.Uint16(data[off:]) != 1 {
			return map[string][]string{}, nil // a version of the structure nobody writes: damaged
		}
		file, _ := cString(table, uint64(o.Uint32(data[off+4:])))
		aux := off + uint64(o.Uint32(data[off+8:]))
		for j := uint16(0); j < o.Uint16(data[off+2:]) && aux+16 <= uint64(len(data)); j++ {
			name, _ := cString(table, uint64(o.Uint32(data[aux+8:])))
			out[file] = append(out[file], name)
			next := uint64(o.Uint32(data[aux+12:]))
			if next == 0 {
				break
			}
			aux += next
		}
		next := uint64(o.Uint32(data[off+12:]))
		if next == 0 {
			break
		}
		off += next
	}
	return out, nil
}
