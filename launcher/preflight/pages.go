package preflight

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/bytesize"
	"github.com/hasync/launcher/launcher/plural"
)

// A loadable segment is mapped from its file offset rounded down to a
// page, at its address rounded down to a page, so the two must agree
// modulo the kernel's page. Where they do not, glibc refuses the library
// ("ELF load command address/offset not page-aligned"), and musl, Alpine's
// loader, maps it anyway, its data out of place: node dies of SIGSEGV.
// The linker lays a binary out for the largest page it is told of (GNU
// ld's -z max-page-size: 64 KiB by default on arm64, 4 KiB on x86-64); one
// linked for 4 KiB pages does not load under a kernel of 16 KiB pages, the
// one a Raspberry Pi 5 boots under Raspberry Pi OS. Every Linux arm64
// prebuild in the fixtures' node_modules is laid out for 64 KiB.

// maxPage is the largest page a Linux kernel has (arm64's 64 KiB), and
// bigPage the one some arm64 machines Home Assistant runs on have.
const (
	maxPage = 64 << 10
	bigPage = 16 << 10
)

// largestPage is the largest page, up to maxPage, on which every loadable
// segment of the file maps: the lowest bit set in any segment's address
// less its offset.
func (h *elfHeaders) largestPage() uint64 {
	var diff uint64
	for _, p := range h.Progs {
		if p.Type == ptLoad {
			diff |= p.Vaddr - p.Off
		}
	}
	if low := diff & -diff; low != 0 && low < maxPage {
		return low
	}
	return maxPage
}

// pageSize is the page of the kernel node runs under: this one's, or
// PageSize; 0 for an image checked from outside, whose machine is any.
func (p *Preflight) pageSize() uint64 {
	switch {
	case p.Image != "":
		return 0
	case p.PageSize > 0:
		return uint64(p.PageSize)
	}
	return uint64(unix.Getpagesize())
}

// checkPages judges the native module, and the libraries its package
// brings, by the pages they are laid out for: a failure where this
// kernel's are larger (and, from outside, below 4 KiB, every kernel's
// least), and for arm64 a warning below 16 KiB, as the add-on is
// installed on machines of 16 KiB pages too.
func (p *Preflight) checkPages(v *verdict, code []*elfFile, libc string) {
	page := p.pageSize()
	var fails, warns []string
	least := uint64(maxPage)
	for _, f := range code {
		lp := f.h.largestPage()
		switch {
		case lp < max(page, 4<<10):
			fails = append(fails, filepath.Base(f.path))
		case f.h.Machine == emAARCH64 && lp < bigPage:
			warns = append(warns, filepath.Base(f.path))
		default:
			continue
		}
		least = min(least, lp)
	}
	laid := func(names []string) string {
		return fmt.Sprintf("%s %s laid out for memory pages of %s (the linker's -z max-page-size)",
			strings.Join(names, " and "), plural.Word(len(names), "is", "are"), bytesize.Format(int64(least)))
	}
	dies := "glibc's loader refuses it (ELF load command address/offset not page-aligned), and musl's maps it askew: node dies of SIGSEGV"
	switch libc {
	case "glibc":
		dies = "node's loader, glibc's, refuses it (ELF load command address/offset not page-aligned)"
	case "musl":
		dies = "node's loader, musl's, maps it askew, and node dies of SIGSEGV"
	}
	switch {
	case len(fails) > 0 && page > 0:
		v.add(fmt.Sprintf("%s, but this kernel's pages are %s: %s", laid(fails), bytesize.Format(int64(page)), dies), pagesHint("{pkg}", page >= bigPage))
	case len(fails) > 0:
		v.add(fmt.Sprintf("%s, less than any kernel's (4 KiB): %s", laid(fails), dies), pagesHint("{pkg}", false))
	case len(warns) > 0:
		where := "it loads here"
		if page == 0 {
			where = "it loads under a kernel of 4 KiB pages"
		}
		v.warn(fmt.Sprintf("%s: %s, but under a kernel of 16 KiB pages (a Raspberry Pi 5 under Raspberry Pi OS) %s", laid(warns), where, dies), pagesHint("{pkg}", false))
	}
}

// pagesHint is the fix for pkg's binary (pkg empty: unknown) laid out for
// smaller pages than a kernel's; big, when that kernel's are 16 KiB or
// more, names the Raspberry Pi 5's kernel of 4 KiB pages too.
func pagesHint(pkg string, big bool) string {
	name, arg := pkg, pkg
	if pkg == "" {
		name, arg = "its package", "<package>"
	}
	hint := fmt.Sprintf("Build %s from source in backend-builder (`npm rebuild %s --build-from-source`), where the linker lays it out for 64 KiB pages on arm64, or install a release of it linked so (`-Wl,-z,max-page-size=65536`), which loads under every kernel; and tell its authors.", name, arg)
	if big {
		hint += " On a Raspberry Pi 5, `kernel=kernel8.img` in the boot partition's config.txt boots a kernel of 4 KiB pages."
	}
	return hint
}

// packageOfFile is the package whose folder under node_modules holds
// path (the last node_modules in it); empty when none does.
func packageOfFile(path string) string {
	const nm = "node_modules/"
	if i := strings.LastIndex(path, nm); i >= 0 {
		if name := packageName(path[i+len(nm):]); name != "" && strings.Contains(path[i+len(nm):], "/") {
			return name
		}
	}
	return ""
}
