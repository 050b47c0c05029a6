package preflight

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The A64 encodings isAtomic and testsFlag read, as objdump shows them in
// the binaries below.
func TestAtomicEncodings(t *testing.T) {
	for w, want := range map[uint32]bool{
		0x88fbfc41: true,  // casal w27, w1, [x2]
		0x88a07c41: true,  // cas w0, w1, [x2]
		0xc8a9fd6a: true,  // casl x9, x10, [x11]
		0x48207c82: true,  // casp x0, x1, x2, x3, [x4]
		0xf8e30081: true,  // ldaddal x3, x1, [x4]
		0xb8a08020: true,  // swpa w0, w0, [x1]
		0xb8bfc020: false, // ldapr w0, [x1]: ARMv8.3, not LSE
		0xc8dffd08: false, // ldar x8, [x8]
		0xc85f7c20: false, // ldxr x0, [x1]
		0x34000070: false, // cbz w16
	} {
		if got := isAtomic(w); got != want {
			t.Errorf("isAtomic(%#08x) = %t, want %t", w, got, want)
		}
	}
	guard := []uint32{0xd0000490, 0x3941c210, 0x34000070} // adrp x16; ldrb w16, [x16, #112]; cbz w16
	if !testsFlag(guard) {
		t.Error("GCC's outline atomic's test of the CPU not seen")
	}
	// Go's: ldrb w5; two more; tbz w5, #0.
	if !testsFlag([]uint32{0xf0004e9b, 0x39664365, 0xb94027e6, 0x710014df, 0x36000085}) {
		t.Error("Go's test of the CPU not seen")
	}
	// mimalloc's null test of what ldar loaded is no test of the CPU.
	if testsFlag([]uint32{0x91010008, 0xc8dffd08, 0xb4000128, 0xf940050a}) {
		t.Error("a null test taken for a test of the CPU")
	}
	// A test of another register than the byte loaded.
	if testsFlag([]uint32{0x3941c210, 0x34000071}) {
		t.Error("cbz w17 after ldrb w16 taken for a test of the CPU")
	}
}

// Real arm64 code: a program compiled by GCC for ARMv8.0 (its atomics
// outlined behind GCC's test) and for ARMv8.1 (inline), @node-rs/bcrypt
// 1.10.8's binary (built for ARMv8.1: SIGILL on a Raspberry Pi 4) and
// 1.10.7's, and every Linux arm64 ELF file of the fixtures (prebuilds of
// the popular native packages, Debian's and Alpine's libraries, Debian's
// libnode), of which none may be taken for one built for ARMv8.1.
func TestUnguardedAtomics(t *testing.T) {
	count := func(t *testing.T, path string) int {
		t.Helper()
		e, err := openELF(noting(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		n, err := e.unguardedAtomics()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("gcc", func(t *testing.T) {
		cc, err := exec.LookPath("aarch64-linux-gnu-gcc")
		if err != nil {
			t.Skip("no aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)")
		}
		dir := t.TempDir()
		src := filepath.Join(dir, "cas.c")
		if err := os.WriteFile(src, []byte("#include <stdatomic.h>\n_Atomic long v;\n"+
			"int main(void){ long e = 0; return !atomic_compare_exchange_strong(&v, &e, 5) + (int)atomic_fetch_add(&v, 1) + (int)atomic_exchange(&v, 2); }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for march, want := range map[string]bool{"armv8-a": false, "armv8.1-a": true} {
			bin := filepath.Join(dir, march)
			if out, err := exec.Command(cc, "-O2", "-march="+march, "-o", bin, src).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cc, err, out)
			}
			if n := count(t, bin); (n >= atomicsJudged) != want || !want && n > 0 {
				t.Errorf("-march=%s: %d unguarded atomics", march, n)
			}
		}
	})
	t.Run("fixtures", func(t *testing.T) {
		if _, err := os.Stat(fixtures("bcrypt-rs-arm64", ".done")); err != nil {
			t.Skip("no @node-rs/bcrypt fixture: run make fixtures")
		}
		v81 := fixtures("bcrypt-rs-arm64", "node_modules", "@node-rs", "bcrypt-linux-arm64-gnu", "bcrypt.linux-arm64-gnu.node")
		n := count(t, v81)
		if n < 100 {
			t.Errorf("@node-rs/bcrypt 1.10.8: %d unguarded atomics, want its hundreds", n)
		}
		// Its code (350 KB) read in chunks of other sizes: the windows
		// across their boundaries judge the same.
		chunk := atomicsChunk
		for _, size := range []int{4 << 10, 1<<10 + 4, 64} {
			atomicsChunk = size
			if got := count(t, v81); got != n {
				t.Errorf("read %d bytes at a time: %d, not %d", size, got, n)
			}
		}
		atomicsChunk = chunk
		checked := 0
		filepath.WalkDir(fixtures(), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == "tmp" {
				return filepath.SkipDir // the roots' scratch, where tests copy apps
			}
			if err != nil || d.IsDir() || !d.Type().IsRegular() || path == v81 ||
				!strings.HasSuffix(path, ".node") && !strings.Contains(d.Name(), ".so") {
				return nil
			}
			e, err := openELF(noting(), path)
			if err != nil {
				return nil // not ELF, or not Linux's
			}
			defer e.Close()
			if e.h.Machine != emAARCH64 {
				return nil
			}
			checked++
			if n, err := e.unguardedAtomics(); err != nil || n > 0 {
				t.Errorf("%s: %d unguarded atomics (%v)", path, n, err)
			}
			return nil
		})
		if checked < 100 {
			t.Errorf("%d arm64 files in the fixtures, want hundreds: make fixtures", checked)
		}
		t.Logf("%d arm64 files built for ARMv8.0", checked)
	})
}

// What the scan costs per binary: @node-rs/bcrypt's (350 KB of code) and
// the libvips sharp's arm64 binding loads from its package (12 MB), as
// the checks read them under `run` without a record.
func BenchmarkUnguardedAtomics(b *testing.B) {
	for name, path := range map[string]string{
		"bcrypt-rs": fixtures("bcrypt-rs-arm64", "node_modules", "@node-rs", "bcrypt-linux-arm64-gnu", "bcrypt.linux-arm64-gnu.node"),
		"libvips":   fixtures("sharp-arm64", "node_modules", "@img", "sharp-libvips-linux-arm64", "lib", "libvips-cpp.so.8.17.3"),
	} {
		b.Run(name, func(b *testing.B) {
			e, err := openELF(noting(), path)
			if err != nil {
				b.Skipf("%v: make fixtures", err)
			}
			defer e.Close()
			var code int64
			for _, s := range e.h.Sections {
				if s.Type == shtProgbits && s.Flags&shfExecinstr != 0 {
					code += int64(s.Size)
				}
			}
			b.SetBytes(code)
			for b.Loop() {
				if _, err := e.unguardedAtomics(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
