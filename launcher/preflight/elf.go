package preflight

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxELFSize caps what preflight reads: node is about 100 MB; anything far
// larger in node_modules is not an addon.
const maxELFSize = 512 << 20

// maxSectionRead caps a section read whole into memory (symbol tables,
// version tables, relocations of an addon).
const maxSectionRead = 64 << 20

// elfFile reads what preflight needs from one ELF file. The files come from
// node_modules, that is from outside, so every read is bounds-checked, and
// a panic while reading one is recovered all the same (docs/NATIVE.md §6).
// Large files (node itself) are never read whole: symbols are looked up
// through the hash tables, as the dynamic loader does.
type elfFile struct {
	path string
	f    elfSource
	h    *elfHeaders
	size int64

	dynsym, dynstr, gnuHash, sysvHash *elfSection

	hash    *symbolHash // the hash section's header, read at the first lookup
	hashErr error
	defs    map[string]bool // version definitions, read once
}

// errNotELF marks a file that is not ELF at all (a script, a Mach-O, a DLL).
var errNotELF = errors.New("not an ELF file")

// elfSource is what an elfFile reads: an open file in the preflight, bytes
// in memory in the fuzz target.
type elfSource interface {
	io.ReaderAt
	io.Closer
}

func openELF(fsys *files, path string) (*elfFile, error) {
	f, st, err := fsys.open(path)
	if err != nil {
		return nil, err
	}
	e, err := readELF(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// readELF reads the headers of the ELF file of size bytes in f, named path
// in messages; the elfFile returned owns f.
func readELF(f elfSource, size int64, path string) (e *elfFile, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("malformed ELF file (%v)", r)
		}
	}()
	if size > maxELFSize {
		return nil, fmt.Errorf("%d MB: too large for a native module", size>>20)
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "\x7fELF" {
		return nil, errNotELF
	}
	h, err := readELFHeaders(f, size)
	if err != nil {
		return nil, fmt.Errorf("malformed ELF file: %w", err)
	}
	e = &elfFile{path: path, f: f, h: h, size: size}
	for _, s := range h.Sections {
		if s.Type != shtNobits && s.Size > 0 && (s.Offset > uint64(e.size) || s.Size > uint64(e.size)-s.Offset) {
			return nil, fmt.Errorf("malformed ELF file: section %q extends past the end of the file", s.Name)
		}
		switch s.Type {
		case shtDynsym:
			e.dynsym = s
		case shtGNUHash:
			e.gnuHash = s
		case shtHash:
			e.sysvHash = s
		}
	}
	if e.dynsym != nil {
		if int(e.dynsym.Link) >= len(h.Sections) {
			return nil, errors.New("malformed ELF file: .dynsym links to no string table")
		}
		e.dynstr = h.Sections[e.dynsym.Link]
	}
	for _, s := range []*elfSection{e.dynsym, e.dynstr, e.gnuHash, e.sysvHash} {
		if s != nil && s.Flags&shfCompressed != 0 {
			return nil, fmt.Errorf("malformed ELF file: compressed %s section", s.Name)
		}
	}
	return e, nil
}

func (e *elfFile) Close() error { return e.f.Close() }

// readSection reads a whole (small) section; one with no data in the file
// (none, or SHT_NOBITS) reads as empty.
func (e *elfFile) readSection(s *elfSection) ([]byte, error) {
	if s == nil || s.Type == shtNobits {
		return nil, nil
	}
	b, err := readAt(e.f, e.size, s.Offset, s.Size)
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", s.Name, err)
	}
	return b, nil
}

// stringAt reads the NUL-terminated string at off in section s.
func (e *elfFile) stringAt(s *elfSection, off uint64) (string, error) {
	if s == nil || off >= s.Size || s.Type == shtNobits {
		return "", errors.New("string offset out of range")
	}
	var out []byte
	buf := make([]byte, 128)
	pos := int64(s.Offset + off)
	end := int64(s.Offset + s.Size)
	for len(out) < 4096 && pos < end {
		n, err := e.f.ReadAt(buf[:min(int64(len(buf)), end-pos)], pos)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		pos += int64(n)
		if err != nil || n == 0 {
			break // EOF inside a table that claims more: a damaged file
		}
	}
	return "", errors.New("unterminated string")
}

// interp is the program interpreter (PT_INTERP) of an executable.
func (e *elfFile) interp() string {
	for _, p := range e.h.Progs {
		if p.Type != ptInterp || p.Filesz > 4096 {
			continue
		}
		if b, err := readAt(e.f, e.size, p.Off, p.Filesz); err == nil && len(b) > 0 {
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// dynamicInfo is what the dynamic section says about loading.
type dynamicInfo struct {
	Needed  []string
	RPath   []string
	RunPath []string
	Soname  string
}

// dynamic reads the dynamic section: DT_NEEDED, DT_RPATH, DT_RUNPATH,
// DT_SONAME. It reads only the strings it needs, not the whole table.
func (e *elfFile) dynamic() (dynamicInfo, error) {
	var info dynamicInfo
	ds := e.h.section(".dynamic")
	if ds == nil {
		for _, s := range e.h.Sections {
			if s.Type == shtDynamic {
				ds = s
			}
		}
	}
	if ds == nil {
		return info, nil // static: needs nothing
	}
	data, err := e.readSection(ds)
	if err != nil {
		return info, err
	}
	strtab := e.dynstr
	if int(ds.Link) < len(e.h.Sections) && ds.Link != 0 {
		strtab = e.h.Sections[ds.Link]
	}
	entry := 16
	if e.h.Class == elfClass32 {
		entry = 8
	}
	for off := 0; off+entry <= len(data); off += entry {
		var tag, val uint64
		if entry == 16 {
			tag, val = e.h.order.Uint64(data[off:]), e.h.order.Uint64(data[off+8:])
		} else {
			tag, val = uint64(e.h.order.Uint32(data[off:])), uint64(e.h.order.Uint32(data[off+4:]))
		}
		if tag == dtNull {
			break
		}
		switch tag {
		case dtNeeded, dtRpath, dtRunpath, dtSoname:
		default:
			continue
		}
		s, err := e.stringAt(strtab, val)
		if err != nil {
			return info, fmt.Errorf("dynamic section: %w", err)
		}
		switch tag {
		case dtNeeded:
			info.Needed = append(info.Needed, s)
		case dtRpath:
			info.RPath = append(info.RPath, strings.Split(s, ":")...)
		case dtRunpath:
			info.RunPath = append(info.RunPath, strings.Split(s, ":")...)
		case dtSoname:
			info.Soname = s
		}
	}
	return info, nil
}

// elfSym is one dynamic symbol.
type elfSym struct {
	Name    string
	Defined bool
	Weak    bool
	Value   uint64
}

// dynamicSymbols reads the whole dynamic symbol table; for addons and
// libraries of ordinary size, not for node (use lookup).
func (e *elfFile) dynamicSymbols() ([]elfSym, error) {
	syms, err := e.symbols(shtDynsym)
	if err != nil {
		return nil, err
	}
	var out []elfSym
	for _, s := range syms {
		bind := s.bind()
		if bind != stbGlobal && bind != stbWeak && bind != stbGNUUnique {
			continue
		}
		out = append(out, elfSym{Name: s.Name, Defined: s.Section != shnUndef, Weak: bind == stbWeak, Value: s.Value})
	}
	return out, nil
}

// lookup finds a defined dynamic symbol by name through .gnu.hash (or the
// SysV .hash), as the dynamic loader does: a GNU table's Bloom filter
// first, then the bucket and the entries on its chain, each read where it
// is. node's .gnu.hash is half a megabyte, and the preflight looks up a few
// dozen Node-API functions in it while node starts: read whole, into fresh
// memory, it was the largest part of the preflight's time there.
func (e *elfFile) lookup(name string) (elfSym, bool) {
	if e.dynsym == nil || e.dynstr == nil {
		return elfSym{}, false
	}
	if e.hash == nil && e.hashErr == nil {
		e.hash, e.hashErr = e.readHashHeader()
	}
	if e.hashErr != nil {
		return e.lookupLinear(name)
	}
	if e.hash.gnu {
		return e.lookupGNU(name)
	}
	return e.lookupSysV(name)
}

// symbolHash is the header of a symbol hash section and where its parts
// are, as offsets into the section.
type symbolHash struct {
	sec *elfSection
	gnu bool
	// GNU: nbuckets, symoffset, the Bloom filter's words (of word bytes)
	// and shift. SysV: nbuckets and nchain.
	nbuckets, symoffset, nchain uint64
	bloomWords, word            uint64
	bloomShift                  uint32
	bucketsAt, chainAt          uint64
}

func (e *elfFile) readHashHeader() (*symbolHash, error) {
	h := &symbolHash{sec: e.gnuHash, gnu: e.gnuHash != nil}
	if !h.gnu {
		h.sec = e.sysvHash
	}
	if h.sec == nil {
		return nil, errors.New("no hash table")
	}
	if h.gnu {
		b, err := e.hashBytes(h, 0, 16)
		if err != nil {
			return nil, err
		}
		h.nbuckets, h.symoffset = uint64(e.h.order.Uint32(b)), uint64(e.h.order.Uint32(b[4:]))
		h.bloomWords, h.bloomShift = uint64(e.h.order.Uint32(b[8:])), e.h.order.Uint32(b[12:])
		h.word = 8
		if e.h.Class == elfClass32 {
			h.word = 4
		}
		h.bucketsAt = 16 + h.bloomWords*h.word
		h.chainAt = h.bucketsAt + h.nbuckets*4
	} else {
		b, err := e.hashBytes(h, 0, 8)
		if err != nil {
			return nil, err
		}
		h.nbuckets, h.nchain = uint64(e.h.order.Uint32(b)), uint64(e.h.order.Uint32(b[4:]))
		h.bucketsAt = 8
		h.chainAt = 8 + h.nbuckets*4
	}
	if h.nbuckets == 0 || h.bloomWords > h.sec.Size || h.nchain > h.sec.Size || h.chainAt > h.sec.Size {
		return nil, errors.New("malformed hash table")
	}
	return h, nil
}

// hashBytes reads n bytes at off in the hash section, bounds-checked.
func (e *elfFile) hashBytes(h *symbolHash, off, n uint64) ([]byte, error) {
	if off > h.sec.Size || n > h.sec.Size-off {
		return nil, errors.New("read past the end of the hash table")
	}
	b := make([]byte, n)
	if _, err := e.f.ReadAt(b, int64(h.sec.Offset+off)); err != nil {
		return nil, err
	}
	return b, nil
}

// hashWord reads the 32-bit entry at off in the hash section.
func (e *elfFile) hashWord(h *symbolHash, off uint64) (uint32, bool) {
	b, err := e.hashBytes(h, off, 4)
	if err != nil {
		return 0, false
	}
	return e.h.order.Uint32(b), true
}

// chainRead is how many chain entries a GNU lookup reads at once: chains
// are short, and consecutive.
const chainRead = 16

func (e *elfFile) lookupGNU(name string) (elfSym, bool) {
	h := e.hash
	hv := uint32(5381)
	for i := 0; i < len(name); i++ {
		hv = hv*33 + uint32(name[i])
	}
	if h.bloomWords > 0 {
		bits := uint32(h.word * 8)
		// The word's index is masked, as the loaders mask it: the count is a
		// power of two.
		b, err := e.hashBytes(h, 16+uint64(hv/bits)&(h.bloomWords-1)*h.word, h.word)
		if err != nil {
			return elfSym{}, false
		}
		w := uint64(e.h.order.Uint32(b))
		if h.word == 8 {
			w = e.h.order.Uint64(b)
		}
		mask := uint64(1)<<(hv%bits) | uint64(1)<<((hv>>(h.bloomShift%32))%bits)
		if w&mask != mask {
			return elfSym{}, false // the filter says it is not here, and the loader would believe it
		}
	}
	first, ok := e.hashWord(h, h.bucketsAt+uint64(hv)%h.nbuckets*4)
	if !ok || uint64(first) < h.symoffset {
		return elfSym{}, false
	}
	idx := uint64(first)
	for n := 0; n < 1<<20; {
		at := h.chainAt + (idx-h.symoffset)*4
		if at >= h.sec.Size {
			return elfSym{}, false
		}
		b, err := e.hashBytes(h, at, min(chainRead*4, (h.sec.Size-at)/4*4))
		if err != nil || len(b) == 0 {
			return elfSym{}, false
		}
		for ; len(b) >= 4; b, idx, n = b[4:], idx+1, n+1 {
			ch := e.h.order.Uint32(b)
			if ch|1 == hv|1 {
				if s, ok := e.symAt(idx); ok && s.Name == name && s.Defined {
					return s, true
				}
			}
			if ch&1 != 0 {
				return elfSym{}, false
			}
		}
	}
	return elfSym{}, false
}

func (e *elfFile) lookupSysV(name string) (elfSym, bool) {
	h := e.hash
	var hv uint32
	for i := 0; i < len(name); i++ {
		hv = hv<<4 + uint32(name[i])
		g := hv & 0xf0000000
		hv ^= g >> 24
		hv &^= g
	}
	next, ok := e.hashWord(h, h.bucketsAt+uint64(hv)%h.nbuckets*4)
	for n := uint64(0); ok && next != 0 && uint64(next) < h.nchain && n < h.nchain; n++ {
		idx := uint64(next)
		if s, found := e.symAt(idx); found && s.Name == name && s.Defined {
			return s, true
		}
		next, ok = e.hashWord(h, h.chainAt+idx*4)
	}
	return elfSym{}, false
}

func (e *elfFile) lookupLinear(name string) (elfSym, bool) {
	syms, err := e.dynamicSymbols()
	if err != nil {
		return elfSym{}, false
	}
	for _, s := range syms {
		if s.Name == name && s.Defined {
			return s, true
		}
	}
	return elfSym{}, false
}

// symAt reads dynamic symbol number idx.
func (e *elfFile) symAt(idx uint64) (elfSym, bool) {
	size := e.h.symbolSize()
	if (idx+1)*size > e.dynsym.Size {
		return elfSym{}, false
	}
	var b [24]byte
	if _, err := e.f.ReadAt(b[:size], int64(e.dynsym.Offset+idx*size)); err != nil {
		return elfSym{}, false
	}
	s, nameOff := e.h.parseSymbol(b[:size])
	name, err := e.stringAt(e.dynstr, uint64(nameOff))
	if err != nil {
		return elfSym{}, false
	}
	return elfSym{Name: name, Defined: s.Section != shnUndef, Weak: s.bind() == stbWeak, Value: s.Value}, true
}

// readVirtual reads n bytes at virtual address addr from the section that
// holds it.
func (e *elfFile) readVirtual(addr uint64, n int) ([]byte, error) {
	for _, s := range e.h.Sections {
		if s.Type == shtNobits || s.Flags&shfAlloc == 0 || addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		if uint64(n) > s.Size-(addr-s.Addr) {
			return nil, errors.New("read past the end of a section")
		}
		buf := make([]byte, n)
		if _, err := e.f.ReadAt(buf, int64(s.Offset+addr-s.Addr)); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return nil, fmt.Errorf("address %#x is in no section", addr)
}

// versionDefs lists the symbol versions a library defines, from its
// SHT_GNU_verdef section alone (debug/elf's DynamicVersions reads every
// dynamic symbol too: half of the preflight's time). Read once per file.
func (e *elfFile) versionDefs() (map[string]bool, error) {
	if e.defs != nil {
		return e.defs, nil
	}
	e.defs = map[string]bool{}
	var sec *elfSection
	for _, s := range e.h.Sections {
		if s.Type == shtGNUVerdef {
			sec = s
		}
	}
	if sec == nil || int(sec.Link) >= len(e.h.Sections) {
		return e.defs, nil
	}
	strtab := e.h.Sections[sec.Link]
	data, err := e.readSection(sec)
	if err != nil {
		return e.defs, err
	}
	// Elf_Verdef: version, flags, ndx, cnt (uint16), hash, aux, next
	// (uint32); Elf_Verdaux: name, next (uint32). Offsets are relative.
	for off, n := 0, 0; off+20 <= len(data) && n < 4096; n++ {
		aux := off + int(e.h.order.Uint32(data[off+12:]))
		if aux >= 0 && aux+8 <= len(data) {
			if name, err := e.stringAt(strtab, uint64(e.h.order.Uint32(data[aux:]))); err == nil {
				e.defs[name] = true
			}
		}
		next := int(e.h.order.Uint32(data[off+16:]))
		if next <= 0 {
			break
		}
		off += next
	}
	return e.defs, nil
}
