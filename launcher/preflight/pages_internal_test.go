package preflight

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The preflight's judgement under kernels of larger pages than this
// machine's (a Raspberry Pi 5's 16 KiB under Raspberry Pi OS, the 64 KiB
// of some arm64 servers), which cannot run here: QEMU's user mode keeps
// the host's 4 KiB. The binaries are real, linked by the arm64 cross
// linker for each page (cmd/launcher's
// TestCheck_AModuleLaidOutForSmallerPagesThanTheKernels loads them under
// real loaders where the pages here allow).
func TestCheckPages_UnderAKernelOf16KiBPages(t *testing.T) {
	cc, err := exec.LookPath("aarch64-linux-gnu-gcc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("aarch64-linux-gnu-gcc is not installed")
		}
		t.Skip("aarch64-linux-gnu-gcc is not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "paged.c")
	if err := os.WriteFile(src, []byte("int table[64] = {1};\nint napi_register_module_v1(void) { return ++table[1]; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built := map[int]*elfFile{}
	for _, page := range []int{4 << 10, 16 << 10, 64 << 10} {
		out := filepath.Join(dir, strconv.Itoa(page)+".node")
		size := strconv.Itoa(page)
		if b, err := exec.Command(cc, "-shared", "-fPIC", "-nostdlib", "-o", out, src,
			"-Wl,-z,max-page-size="+size, "-Wl,-z,common-page-size="+size, "-Wl,-z,separate-code").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		e, err := openELF(nil, out)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if got := e.h.largestPage(); got != uint64(page) {
			t.Fatalf("linked for %d-byte pages, read as laid out for %d", page, got)
		}
		built[page] = e
	}
	for _, c := range []struct {
		kernel, linked int
		fails, warns   []string
	}{
		{16 << 10, 4 << 10, []string{"laid out for memory pages of 4KiB", "this kernel's pages are 16KiB", "musl's, maps it askew"}, nil},
		{16 << 10, 16 << 10, nil, nil},
		{16 << 10, 64 << 10, nil, nil},
		{64 << 10, 16 << 10, []string{"laid out for memory pages of 16KiB", "this kernel's pages are 64KiB"}, nil},
		{4 << 10, 4 << 10, nil, []string{"it loads here, but under a kernel of 16 KiB pages"}},
	} {
		p := &Preflight{PageSize: c.kernel}
		var v verdict
		p.checkPages(&v, []*elfFile{built[c.linked]}, "musl")
		name := strconv.Itoa(c.linked>>10) + " KiB linked, " + strconv.Itoa(c.kernel>>10) + " KiB kernel"
		if (len(v.problems) > 0) != (c.fails != nil) || (v.caveat != nil) != (c.warns != nil) {
			t.Errorf("%s: problems %+v, caveat %+v", name, v.problems, v.caveat)
			continue
		}
		for _, w := range c.fails {
			if !strings.Contains(v.details(), w) {
				t.Errorf("%s: the failure does not say %q: %s", name, w, v.details())
			}
		}
		if c.fails != nil && c.kernel == 16<<10 && !strings.Contains(v.hints("x"), "kernel=kernel8.img") {
			t.Errorf("%s: the fix does not name the Raspberry Pi 5's kernel of 4 KiB pages: %s", name, v.hints("x"))
		}
		for _, w := range c.warns {
			if !strings.Contains(v.caveat.detail, w) {
				t.Errorf("%s: the warning does not say %q: %s", name, w, v.caveat.detail)
			}
		}
	}
}

// What node printed, loading the module for 1 KiB pages of
// TestCheck_AModuleLaidOutForSmallerPagesThanTheKernels (glibc 2.36), and
// glibc's words before 2.35, from a lazily loaded module the checks did
// not see: the module named, with its package's fix.
func TestDiagnose_ALibraryLaidOutForSmallerPages(t *testing.T) {
	for said, pkg := range map[string]string{
		"Error: /app/node_modules/@scope/small/build/Release/paged.node: ELF load command address/offset not page-aligned": "@scope/small",
		"Error: /opt/plugins/paged.node: ELF load command address/offset not properly aligned":                             "<package>",
	} {
		ds := Diagnose([]string{said}, Machine{})
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, "paged.node is laid out for smaller memory pages than this kernel's") ||
			!strings.Contains(ds[0].Hint, "npm rebuild "+pkg+" --build-from-source") || !strings.Contains(ds[0].Hint, "kernel8.img") {
			t.Errorf("%s: %+v", said, ds)
		}
	}
}
