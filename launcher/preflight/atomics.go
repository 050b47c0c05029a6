package preflight

import (
	"encoding/binary"
	"fmt"
)

// An arm64 binary compiled for ARMv8.1 or later (-march=armv8.1-a, or a
// library that sets it, as mimalloc does) uses the CPU's atomic
// instructions (LSE: CAS, LDADD, SWP and the rest) inline, and dies of
// SIGILL on an ARMv8.0 CPU: the Cortex-A53 of a Raspberry Pi 3 and the
// Cortex-A72 of a Raspberry Pi 4 and of Home Assistant Yellow. Built for
// ARMv8.0, code reaches them only through a test of the CPU: GCC's and
// LLVM's outline atomics (__aarch64_cas4_acq and its kin) and Go's
// runtime load a flag the C library or the runtime set from the kernel's
// HWCAP_ATOMICS, and branch on it just before the instruction:
//
//	adrp x16, __aarch64_have_lse_atomics
//	ldrb w16, [x16, #:lo12:__aarch64_have_lse_atomics]
//	cbz  w16, 1f
//	casal x0, x1, [x2]
//
// An atomic instruction with no such test in the eight instructions before
// it is one the binary runs on every CPU. Data in a code section could
// look like one; a whole node_modules of Linux arm64 prebuilds (and Go's
// own binaries, and nodejs.org's node) shows none, and a binary built for
// ARMv8.1 shows them by the hundred.

// atomicsLookback is how many instructions before an atomic one its test
// of the CPU may be (Go's compiler schedules up to five between).
const atomicsLookback = 8

// codeWindow is how many words on each side of an atomic instruction must
// all be instructions for it to count as code. Code sections hold data
// too: OpenSSL's assembly keeps its tables there (Debian's libcrypto.so.3
// has 46 words in them that read as atomics), where a word of the A64
// encoding space left unallocated shows within a few; in code, none does.
const codeWindow = 16

// atomicsJudged is how many atomic instructions, as code, with no test of
// the CPU, make a binary one built for ARMv8.1: one, in a table a window
// happens to miss, must not refuse a module that loads. A binary built
// for ARMv8.1 has them by the dozen.
const atomicsJudged = 2

// atomicsChunk is how much of a code section is read at a time (a
// variable for the test that judges the same across its boundaries).
var atomicsChunk = 256 << 10

// isAtomic tells an ARMv8.1 atomic instruction (the A64 encoding): CAS
// and CASP of every size and ordering, and the atomic memory operations
// (LDADD, LDCLR, LDEOR, LDSET, LD{S,U}{MAX,MIN}, SWP). LDAPR shares their
// encoding class but is ARMv8.3's, and not what the test is after.
func isAtomic(w uint32) bool {
	switch {
	case w&0x3fa07c00 == 0x08a07c00: // CAS
		return true
	case w&0xbfa07c00 == 0x08207c00: // CASP
		return true
	case w&0x3f200c00 == 0x38200000: // LD<op>, SWP
		o3, opc := (w>>15)&1, (w>>12)&7
		return o3 == 0 || opc == 0
	}
	return false
}

// testsFlag tells whether the instructions before (the nearest last)
// branch on a byte just loaded: CBZ, CBNZ, TBZ or TBNZ of a register that
// an LDRB (unsigned offset) loaded up to four instructions before.
func testsFlag(before []uint32) bool {
	for i := len(before) - 1; i >= 0 && i >= len(before)-atomicsLookback; i-- {
		br := before[i]
		if br&0x7e000000 != 0x34000000 && br&0x7e000000 != 0x36000000 {
			continue
		}
		for j := i - 1; j >= 0 && j >= i-4; j-- {
			if ld := before[j]; ld&0xffc00000 == 0x39400000 && ld&31 == br&31 {
				return true
			}
		}
	}
	return false
}

// unallocated tells a word in the A64 encoding space no instruction
// takes: op0 (bits 28:25) 0001 or 0011, or 0000 (reserved) other than a
// zero word, which a linker may pad with.
func unallocated(w uint32) bool {
	op0 := (w >> 25) & 0xf
	return op0 == 1 || op0 == 3 || op0 == 0 && w != 0
}

// unguardedAtomics counts the atomic instructions of an arm64 file's code
// that no test of the CPU guards, where the words around them are code;
// zero for any other machine.
func (e *elfFile) unguardedAtomics() (n int, err error) {
	if e.h.Machine != emAARCH64 {
		return 0, nil
	}
	const before = atomicsLookback + 4 // the test's branch and its load
	keep := max(before, codeWindow)
	// One buffer for every section, no larger than the largest: a small
	// module's code is read in one piece, a large library's 256 KB at a time.
	largest := uint64(0)
	for _, s := range e.h.Sections {
		if s.Type == shtProgbits && s.Flags&shfExecinstr != 0 && s.Offset <= uint64(e.size) && s.Size <= uint64(e.size)-s.Offset {
			largest = max(largest, s.Size)
		}
	}
	chunk := int(min(uint64(atomicsChunk), largest) &^ 3)
	if chunk == 0 {
		return 0, nil
	}
	buf := make([]byte, chunk)
	words := make([]uint32, 0, keep+codeWindow+chunk/4)
	judge := func(i int) bool {
		if !isAtomic(words[i]) || testsFlag(words[max(0, i-before):i]) {
			return false
		}
		for _, w := range words[max(0, i-codeWindow):min(len(words), i+codeWindow+1)] {
			if unallocated(w) {
				return false
			}
		}
		return true
	}
	for _, s := range e.h.Sections {
		if s.Type != shtProgbits || s.Flags&shfExecinstr == 0 {
			continue
		}
		if s.Offset > uint64(e.size) || s.Size > uint64(e.size)-s.Offset {
			return n, fmt.Errorf("section %s lies outside the file", s.Name)
		}
		words = words[:0]
		next := 0 // the first word not judged yet
		for off := uint64(0); off+4 <= s.Size; {
			size := min(uint64(len(buf)), s.Size-off) &^ 3
			if _, err := e.f.ReadAt(buf[:size], int64(s.Offset+off)); err != nil {
				return n, fmt.Errorf("section %s: %w", s.Name, err)
			}
			off += size
			for i := uint64(0); i < size; i += 4 {
				words = append(words, binary.LittleEndian.Uint32(buf[i:]))
			}
			// A word is judged once the window after it is read, or
			// the section ends.
			end := len(words) - codeWindow
			if off+4 > s.Size {
				end = len(words)
			}
			for ; next < end; next++ {
				if judge(next) {
					n++
				}
			}
			if drop := next - keep; drop > 0 {
				words = append(words[:0], words[drop:]...)
				next -= drop
			}
		}
	}
	return n, nil
}
