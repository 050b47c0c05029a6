package preflight

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// lookup follows the hash table's chains as the dynamic loader does; over
// real files it must find every defined global or weak symbol the whole
// symbol table holds, and no undefined or absent one: this machine's node
// (a .gnu.hash of half a megabyte), its libc, the fixtures' addons and
// libraries (x86-64, aarch64 and 32-bit ARM), and a library linked with the
// SysV hash alone.
func TestLookup_FindsWhatTheSymbolTableHolds(t *testing.T) {
	fx := fixtures()
	files := []string{"/usr/bin/node", "/lib/x86_64-linux-gnu/libc.so.6",
		filepath.Join(fx, "addons", "cxx.node"), filepath.Join(fx, "musl", "napi_musl.node"),
		filepath.Join(fx, "musl", "lib", "libstdc++.so.6"),
		filepath.Join(fx, "app20", "node_modules", "bcrypt", "prebuilds", "linux-x64", "bcrypt.glibc.node"),
		// aarch64, where most installs run, and 32-bit ARM (4-byte Bloom words).
		filepath.Join(fx, "debian-arm64", "usr", "lib", "aarch64-linux-gnu", "libnode.so.108"),
		filepath.Join(fx, "app20", "node_modules", "bcrypt", "prebuilds", "linux-arm64", "bcrypt.musl.node"),
		filepath.Join(fx, "app20", "node_modules", "bcrypt", "prebuilds", "linux-arm", "bcrypt.glibc.node")}
	if gcc, err := exec.LookPath("gcc"); err == nil {
		dir := t.TempDir()
		src, lib := filepath.Join(dir, "sysv.c"), filepath.Join(dir, "libsysv.so")
		code := "int launcher_a(void){return 1;}\nint launcher_b;\n__attribute__((weak)) int launcher_c(void){return 2;}\nextern int launcher_undefined(void);\nint launcher_d(void){return launcher_undefined();}\n"
		if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(gcc, "-shared", "-fPIC", "-Wl,--hash-style=sysv", "-o", lib, src).CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
		files = append(files, lib)
	}
	kinds := map[string]bool{}
	for _, path := range files {
		e, err := openELF(nil, path)
		if err != nil {
			t.Logf("skip %s: %v", path, err)
			continue
		}
		// debug/elf is the reference here: the preflight reads on its own.
		ef, err := elf.Open(path)
		if err != nil {
			e.Close()
			t.Fatalf("%s: %v", path, err)
		}
		syms, err := ef.DynamicSymbols()
		ef.Close()
		if err != nil {
			e.Close()
			t.Fatalf("%s: %v", path, err)
		}
		kind := "gnu"
		if e.gnuHash == nil {
			kind = "sysv"
		}
		kinds[kind] = true
		// node has some 75,000: every 37th of them is plenty.
		step := 1 + len(syms)/2000
		checked := 0
		for i, s := range syms {
			bind := elf.ST_BIND(s.Info)
			global := bind == elf.STB_GLOBAL || bind == elf.STB_WEAK || bind == elf.STB_LOOS
			if i%step != 0 || !global || s.Name == "" {
				continue
			}
			defined := s.Section != elf.SHN_UNDEF
			got, ok := e.lookup(s.Name)
			if defined && (!ok || got.Name != s.Name) {
				t.Errorf("%s (%s hash): lookup(%q) = %+v, %v; the symbol table defines it", path, kind, s.Name, got, ok)
			}
			if !defined && ok && !definedElsewhere(syms, s.Name) {
				t.Errorf("%s: lookup(%q) found %+v; the symbol table has it undefined", path, s.Name, got)
			}
			checked++
		}
		for _, absent := range []string{"launcher_no_such_symbol", "", "napi_create_objectx"} {
			if got, ok := e.lookup(absent); ok {
				t.Errorf("%s: lookup(%q) found %+v", path, absent, got)
			}
		}
		t.Logf("%s: %s hash, %d of %d symbols checked", path, kind, checked, len(syms))
		e.Close()
	}
	if !kinds["gnu"] || !kinds["sysv"] {
		t.Errorf("checked hash kinds %v; want both gnu and sysv", kinds)
	}
}

// definedElsewhere: a name can be in the table twice, undefined and defined
// (under two versions).
func definedElsewhere(syms []elf.Symbol, name string) bool {
	for _, s := range syms {
		if s.Name == name && s.Section != elf.SHN_UNDEF {
			return true
		}
	}
	return false
}

// fixtures is the repository's .fixtures folder (make fixtures), from this
// package's folder, where tests run.
func fixtures(parts ...string) string {
	p, _ := filepath.Abs(filepath.Join(append([]string{"..", "..", ".fixtures"}, parts...)...))
	return p
}

// An addon built with compressed debug sections (gcc -g -gz, or a toolchain
// that compresses them by default) is a sound file: a section's inflated
// size may exceed the file, since only its compressed bytes are in it. The
// preflight took that size for the section's extent in the file, and
// refused such an addon as malformed.
func TestOpenELF_CompressedDebugSectionsAreSound(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc")
	}
	dir := t.TempDir()
	src, lib := filepath.Join(dir, "gz.c"), filepath.Join(dir, "gz.node")
	code := "struct big { int a[64]; double b[32]; char c[128]; };\nstatic struct big g;\n" +
		"int launcher_fn(int x) { struct big l = g; for (int i = 0; i < 64; i++) l.a[i] += x; return l.a[3]; }\n" +
		"int napi_register_module_v1(void) { return launcher_fn(2); }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-g3", "-gz=zlib", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Skipf("gcc -gz: %v\n%s", err, out)
	}
	// The case at hand: a compressed section that, inflated, would reach
	// past the file's end (read with debug/elf, which inflates).
	ef, err := elf.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(lib)
	if err != nil {
		t.Fatal(err)
	}
	past := ""
	for _, s := range ef.Sections {
		if s.Flags&elf.SHF_COMPRESSED != 0 && s.Offset+s.Size > uint64(st.Size()) {
			past = s.Name
		}
	}
	ef.Close()
	if past == "" {
		t.Skip("no compressed section inflates past the file's end here")
	}
	e, err := openELF(nil, lib)
	if err != nil {
		t.Fatalf("openELF refused a sound addon (%s inflates past the end): %v", past, err)
	}
	defer e.Close()
	if _, ok := e.lookup("napi_register_module_v1"); !ok {
		t.Error("lookup(napi_register_module_v1) found nothing")
	}
}
