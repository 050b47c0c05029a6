package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ldPreloadNames splits node's LD_PRELOAD as both loaders do, on blanks and
// colons.
func ldPreloadNames(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ':' || r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
	})
}

// ldPreloadSkipped is the hint for a preload the loader skips.
const ldPreloadSkipped = "Point LD_PRELOAD at a library that is in the image (jemalloc on Home Assistant's base image: /usr/local/lib/libjemalloc.so.2), " +
	"install it in the runtime stage, or remove LD_PRELOAD from the Dockerfile's ENV."

// checkLDPreload checks the libraries LD_PRELOAD has the loader map into
// node before node's own, as Home Assistant's base images suggest for
// jemalloc: each must be there, for node's CPU and libc, with every library
// it needs. The loaders differ on one that is not (measured, docs/NATIVE.md
// §7): glibc's skips a missing file, a file that is not a library and one
// built for another CPU, printing an error line at every start of node;
// musl's skips a missing file silently but cannot relocate one for another
// CPU. A library of the other libc, or one whose own libraries are missing,
// stops node before its first line with exit 127 under both. What is
// skipped is a warning (node runs, without it); what stops node fails.
func (p *Preflight) checkLDPreload(names []string, node *NodeInfo, libs *libResolver) Check {
	c := Check{Name: "ld-preload", Status: StatusPass}
	list := strings.Join(names, ":")
	if node == nil || node.bin == nil || libs == nil {
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("LD_PRELOAD=%s not checked: node's binary is unknown", list)
		return c
	}
	if node.interp == "" {
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("LD_PRELOAD=%s does nothing: node is statically linked, so no loader runs to preload it", list)
		c.Hint = "Remove LD_PRELOAD from the Dockerfile's ENV, or run a dynamically linked node (Alpine's `apk add nodejs`)."
		return c
	}
	// Failures first, then what is skipped, then what was found.
	byStatus := map[CheckStatus][]problem{}
	for _, name := range names {
		status, pr := p.checkPreloaded(name, node, libs)
		byStatus[status] = append(byStatus[status], pr)
	}
	var shown verdict
	for _, status := range []CheckStatus{StatusFail, StatusWarn, StatusPass} {
		if len(byStatus[status]) > 0 && c.Status == StatusPass {
			c.Status = status
		}
		shown.problems = append(shown.problems, byStatus[status]...)
	}
	c.Detail, c.Hint = shown.details(), shown.hints("")
	return c
}

// checkPreloaded checks one entry of LD_PRELOAD: a path, or a name the
// loader looks up in its search path as it would a needed library.
func (p *Preflight) checkPreloaded(name string, node *NodeInfo, libs *libResolver) (CheckStatus, problem) {
	// skipped is a library the loader skips: what (name, or where it was
	// found) and why.
	skipped := func(what, why string) (CheckStatus, problem) {
		said := "musl's loader skips it without a word"
		if node.Libc == "glibc" {
			said = fmt.Sprintf("glibc's loader skips it, printing `ERROR: ld.so: object '%s' from LD_PRELOAD cannot be preloaded (…): ignored.` at every start", name)
		}
		return StatusWarn, problem{fmt.Sprintf("%s %s: %s, and node runs without it", what, why, said), ldPreloadSkipped}
	}
	exe := node.scope[0]
	var lib *loadedLib
	var err error
	if strings.ContainsRune(name, '/') {
		lib, err = libs.open(name, name)
	} else {
		lib, err = libs.resolve(name, []*loadedLib{exe})
	}
	var foreign *foreignLibError
	switch {
	case err == nil:
	case p.noteShortage(err):
		return StatusFail, problem{fmt.Sprintf("%s cannot be checked now: %v", name, err), shortageHint}
	case errors.As(err, &foreign) && node.Libc == "musl":
		return StatusFail, problem{
			fmt.Sprintf("%s is %s: musl's loader cannot relocate it, and node would exit 127 before its first line", name, builtForAnother(foreign.machine, foreign.class, node)),
			"Install the library in the runtime stage, for the image's platform (`RUN apk add --no-cache jemalloc`), rather than copying one built elsewhere."}
	case errors.As(err, &foreign):
		return skipped(name, "is "+builtForAnother(foreign.machine, foreign.class, node))
	case errors.Is(err, errNotELF):
		return skipped(name, "is not a shared library")
	case errors.Is(err, fs.ErrNotExist):
		return skipped(name, "does not exist")
	case !strings.ContainsRune(name, '/'):
		return skipped(name, fmt.Sprintf("is not found (%v)", err))
	default:
		return skipped(name, fmt.Sprintf("cannot be read (%v)", err))
	}
	if lib.File == nil {
		return StatusPass, problem{detail: name + " is musl's own libc, which node loads anyway"}
	}
	where := lib.Path
	if name != lib.Path {
		where = name + " at " + lib.Path
	}
	// The loader opens it as node's user.
	if err := p.RunAs.canRead(p.fsys, libs.host(lib.Path)); err != nil {
		return skipped(where, fmt.Sprintf("cannot be read as node runs: %v", err))
	}
	dyn, err := lib.File.dynamic()
	if err != nil {
		return StatusFail, problem{fmt.Sprintf("%s: %v", where, err), "Reinstall the library in the runtime stage, or remove LD_PRELOAD from the Dockerfile's ENV."}
	}
	if libc := libcOfNeeds(dyn.Needed); libc != "" && node.Libc != "" && libc != node.Libc {
		return StatusFail, problem{
			fmt.Sprintf("%s is linked against %s, but node here uses %s: node would exit 127 before its first line", where, libc, node.Libc),
			"Install the build of it for node's libc in the runtime stage (on Alpine: `RUN apk add --no-cache jemalloc`), rather than one from a " + libc + " system."}
	}
	loaded, errs := libs.loadTree(lib, exe)
	if len(errs) > 0 {
		return StatusFail, problem{
			fmt.Sprintf("%s needs %s: node would exit 127 before its first line", where, joinErrors(errs)),
			libraryHint(errs, node.Libc)}
	}
	needs := "needs no other library"
	if len(loaded) > 0 {
		needs = fmt.Sprintf("%d libraries found", len(loaded))
	}
	return StatusPass, problem{detail: fmt.Sprintf("%s: %s %s, %s", where, archOf(lib.File.h.Machine), node.Libc, needs)}
}
