package preflight

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hasync/launcher/launcher/bug"
	"github.com/hasync/launcher/launcher/nodeopts"
	"github.com/hasync/launcher/launcher/plural"
	"github.com/hasync/launcher/launcher/shortage"
)

// CheckStatus is the verdict of one preflight check.
type CheckStatus string

// The verdicts. A warning does not stop node from starting.
const (
	StatusPass CheckStatus = "pass"
	StatusWarn CheckStatus = "warn"
	StatusFail CheckStatus = "fail"
)

// Check is one preflight check: what was found, and when not passing, the
// concrete fix in the terms of the add-on's Dockerfile.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Hint   string      `json:"hint"`
}

// Report is the preflight's result, as `check --json` prints it and
// /status serves it.
type Report struct {
	OK         bool    `json:"ok"`
	DurationMS float64 `json:"duration_ms"`
	Checks     []Check `json:"checks"`
	// Short is set when a check could not look because the launcher ran
	// short of descriptors, processes or memory (EMFILE, ENFILE, EAGAIN,
	// ENOMEM): then a failure says nothing about the image.
	Short bool      `json:"short,omitempty"`
	Node  *NodeInfo `json:"-"`
	// Recorded, when set, is when the checks that made this report ran:
	// it was recalled from their record, nothing they read having changed.
	Recorded time.Time `json:"recorded,omitzero"`
	// Stale says why an earlier record was not used, when there was one.
	Stale string `json:"stale,omitempty"`
	// Bug, when set, is the panic that ended the checks (a bug in the
	// launcher or in a library it uses): the report is then its one
	// warning, the check "checks", and node starts unchecked, as it would
	// without the launcher; a bug of the launcher's is not the image's
	// fault, and refusing would keep the app down until the launcher is
	// mended. The caller tells its stack.
	Bug *bug.Panic `json:"-"`

	record *Record // this report with what it was made of, when it passed
}

// Transient reports a failed preflight whose failures may come from a
// shortage of the moment rather than from the image.
func (r *Report) Transient() bool { return !r.OK && r.Short }

// WriteText writes the report for a person: one line per check with its
// mark, the detail, and the hint indented under it.
func (r *Report) WriteText(w io.Writer) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	counts := map[CheckStatus]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
		fmt.Fprintf(w, "%s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Name, c.Detail)
		if c.Hint != "" {
			fmt.Fprintf(w, "      %*s  fix: %s\n", width, "", c.Hint)
		}
	}
	verdict := "passed"
	if !r.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "preflight %s in %.1f ms: %d pass, %d warn, %d fail\n", verdict, r.DurationMS, counts[StatusPass], counts[StatusWarn], counts[StatusFail])
}

// Failed lists the failing checks.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			out = append(out, c)
		}
	}
	return out
}

// Preflight proves, before node starts, that the entry script exists and
// every native module will load here, from the files alone: the only
// process it starts is `node --version` (and, for a node major it does not
// know, `node -p process.versions.modules`).
type Preflight struct {
	AppDir        string
	Entry         string
	Node          string
	NativeModules []string
	// Deep also resolves every undefined symbol of each native module
	// against node and the libraries the loader would map (ldd -r).
	Deep bool
	// LDLibraryPath is the runtime's LD_LIBRARY_PATH.
	LDLibraryPath string
	// LDPreload is node's LD_PRELOAD: the libraries the loader maps into
	// node before its own.
	LDPreload string
	// LibcEnv is the runtime's LIBC, which node-gyp-build obeys.
	LibcEnv string
	// Root prefixes every absolute path of the runtime's filesystem that
	// the loader rules read (/etc/ld.so.conf, /lib, /etc/alpine-release);
	// empty is /. Tests point it at a folder laid out like an image.
	Root string
	// Exec runs a command to its end and returns its output. Under the
	// supervisor it goes through the Reaper; nil runs it directly.
	Exec func(ctx context.Context, cmd *exec.Cmd) ([]byte, error)
	// Reported, when set, is node's own account of itself, in place of
	// `node --version`: under `run`, node is started at once, held before
	// the app by the launcher's gate, and reports process.versions from
	// there. False (node ended before it reported) falls back to
	// `node --version`.
	Reported func(ctx context.Context) (NodeVersions, bool)
	// NoNewPrivs says node starts without new privileges (the launcher's
	// no_new_privs, which node inherits): node's file's set-ID bits and
	// capabilities then give it nothing (SecureExecution).
	NoNewPrivs bool
	// Bounded reports whether the bounding set node starts with holds a
	// capability (nil: not known), to explain a node the kernel refuses
	// to start for its file's capabilities (CapsRefused).
	Bounded func(capability int) bool
	// RunAs is who node runs as (LAUNCHER_USER); nil is the launcher's
	// own user. The files node must read are checked as that user.
	RunAs *User
	// NodeOptions is node's NODE_OPTIONS and NodeArgs its arguments before
	// the entry (LAUNCHER_NODE_ARGS): node must accept NODE_OPTIONS, and
	// each module they preload (--require, --import, --loader) must
	// resolve, by require's rules or import's. A preload of Yarn's .pnp.cjs
	// changes how modules resolve.
	NodeOptions string
	NodeArgs    []string
	// Env is node's environment, which node's own runs here take (its
	// NODE_OPTIONS, LD_PRELOAD, what an option sets); nil is this
	// process's.
	Env []string
	// CPUInfo is the machine's /proc/cpuinfo, read when a native module
	// needs more of the CPU than ARMv8.0 has; empty is /proc/cpuinfo. Not
	// read of an image checked from outside (Image), whose machine is any.
	CPUInfo string
	// PageSize is the kernel's memory page, in bytes, which a native
	// module's segments must be laid out for (pages.go); 0 is this
	// kernel's. Not used of an image checked from outside (Image).
	PageSize int
	// Image, when set, is an unpacked image root of any architecture,
	// checked from outside (`launcher check --root`): every path is
	// resolved inside it (absolute symlinks too), libraries by its own
	// loader configuration, node's version read from its package database
	// or node's own files, and nothing is run.
	Image string
	// Record, when set, is an earlier passing report and what it was made
	// of (Report.Record): while the settings, node's own account of itself
	// and every file the checks read, listed or failed to find are
	// unchanged, Run returns that report without checking again.
	Record *Record

	fsys   *files                    // the current run's way to the files, noting what it reads
	app    string                    // AppDir as this process reaches it
	known  *NodeVersions             // node's answer at the previous Run
	short  atomic.Bool               // a check met a shortage of descriptors, processes or memory
	bug    atomic.Pointer[bug.Panic] // the first panic of the run's goroutines (catch)
	secure Secure                    // how node runs in secure-execution mode, where it and its loader ignore some variables
}

// noteShortage records err when it is a shortage of the moment, and
// reports whether it was.
func (p *Preflight) noteShortage(err error) bool {
	if shortage.Is(err) {
		p.short.Store(true)
		return true
	}
	return false
}

func (p *Preflight) root() string {
	if p.Root == "" {
		return "/"
	}
	return p.Root
}

// inside is where a file this process reaches at path is inside the image
// (Root): the path node and its loader would use.
func (p *Preflight) inside(path string) string {
	if p.Root == "" || p.Root == "/" {
		return path
	}
	rel, err := filepath.Rel(p.Root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return filepath.Join("/", rel)
}

// Run runs every check and reports them all.
//
// Most checks depend on node's version (which binary a loader picks, the
// ABI a module must have), and node's answer comes last: under `run` it
// comes from node itself once node's own start reached the gate. So on a
// live system the checks run at once on the version the package database
// names (or the one node gave at the previous start), while node is
// asked; if node's answer differs, they run again on it. Either way the
// report is on node's own answer.
//
// With a Record whose settings, files and node are unchanged, no check
// runs: the report is the record's (Report.Recorded says when its checks
// ran). A report of checks that passed carries its own Record.
func (p *Preflight) Run(ctx context.Context) (r *Report) {
	start := time.Now()
	p.bug.Store(nil)
	p.catch(func() { r = p.runChecks(ctx, start) })
	if b := p.bug.Load(); b != nil {
		return &Report{OK: true, Bug: b, DurationMS: float64(time.Since(start).Microseconds()) / 1000, Checks: []Check{{
			Name: "checks", Status: StatusWarn,
			Detail: fmt.Sprintf("not run to their end: they failed for a bug in the launcher or in a library it uses (%v); node starts unchecked", b.Value),
			Hint:   "Please report it, with the stack the launcher told with it. Nothing is to mend in the image for it.",
		}}}
	}
	return r
}

// catch runs f, the checks or one of the goroutines they start, and keeps
// the first panic in it for Run to report (Report.Bug).
func (p *Preflight) catch(f func()) {
	if b := bug.Catch(f); b != nil {
		p.bug.CompareAndSwap(nil, b)
	}
}

// runChecks is Run's work, begun at start.
func (p *Preflight) runChecks(ctx context.Context, start time.Time) *Report {
	p.short.Store(false)
	p.app = p.AppDir
	if p.Image != "" {
		p.Root = p.Image
		p.app = resolveIn(unnoted, p.Image, p.AppDir)
	}
	r, stale := p.recall(ctx)
	if r == nil {
		r = p.check(ctx)
		r.Stale = stale
		if r.OK && !r.Short && p.fsys != nil {
			r.record = p.recordOf(r)
		}
	}
	if r.Node != nil {
		known := r.Node.versions()
		p.known = &known
	}
	r.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return r
}

// check runs every check on node's answer, starting on a guess at it.
func (p *Preflight) check(ctx context.Context) *Report {
	guess, asked, ok := p.speculate(ctx)
	if !ok {
		return p.run(ctx, nil)
	}
	r := p.run(ctx, &guess)
	if answer := <-asked; answer.err != nil {
		r = p.run(ctx, nil) // the node check reports the failure
	} else if answer.v != guess {
		r = p.run(ctx, &answer.v)
	}
	return r
}

// errCaught stands for the result of a goroutine of the checks that
// panicked (catch): Run then reports the panic alone.
var errCaught = errors.New("the check failed for a bug")

// answer is node's answer about its version.
type answer struct {
	v   NodeVersions
	err error
}

// speculate picks the version to check against before node answers: the
// one node gave at the previous Run, else the one the package database
// names, when node is the package's (packagedNode). It asks node in the
// background.
func (p *Preflight) speculate(ctx context.Context) (NodeVersions, <-chan answer, bool) {
	if p.Image != "" {
		return NodeVersions{}, nil, false
	}
	path, err := unnoted.lookPath(p.Node)
	if err != nil {
		return NodeVersions{}, nil, false
	}
	var guess NodeVersions
	if p.known != nil {
		guess = *p.known
	} else {
		version := ""
		if packagedNode(unnoted, p.root(), path) {
			version, _ = nodeFromDB(unnoted, p.root())
		}
		var n NodeInfo
		if version == "" || n.setVersion(version) != nil || n.ABI == 0 {
			return NodeVersions{}, nil, false
		}
		guess = n.versions()
	}
	asked := make(chan answer, 1)
	go func() {
		n := &NodeInfo{Path: path}
		var err error = errCaught
		p.catch(func() { err = p.readVersion(ctx, n) })
		asked <- answer{n.versions(), err}
	}()
	return guess, asked, true
}

// run runs every check, with node's version preset or asked.
func (p *Preflight) run(ctx context.Context, preset *NodeVersions) *Report {
	r := &Report{}
	p.fsys = unnoted // an image checked from outside is never recalled
	if p.Image == "" {
		p.fsys = noting() // what this run reads makes its record
		p.fsys.short = &p.short
	}
	p.secure = p.secureExecution()
	found := make(chan []nativeCandidate, 1)
	fsys := p.fsys
	go func() {
		var f []nativeCandidate
		p.catch(func() { f = findNativePackages(fsys, p.app, p.catch) })
		found <- f
	}()
	// The app's scripts are read beside node's ELF files, not before them.
	imports := make(chan importsWalk, 1)
	go func() {
		var w importsWalk
		p.catch(func() { w = p.walkImports() })
		imports <- w
	}()
	r.Checks = append(r.Checks, p.checkEntry(), Check{}) // imports, once read
	importsAt := len(r.Checks) - 1
	node, failed := p.inspectNode(ctx, preset)
	nodeAt := len(r.Checks)
	r.Checks = append(r.Checks, Check{}) // the node check, once its version is known

	var libs *libResolver
	if node != nil && node.libs != nil {
		libs = node.libs // node's libraries stay open: the addons need most of them too
		defer libs.close()
	}
	checked := map[string]bool{} // the binaries checked, by their real path, and the packages, by name
	for _, pkg := range p.NativeModules {
		c, binary := p.checkNative(pkg, node, libs)
		checked[pkg] = true
		if real, err := p.fsys.evalSymlinks(binary); err == nil {
			checked[real] = true
		}
		r.Checks = append(r.Checks, c)
	}
	preloadFails := false
	if names := ldPreloadNames(p.LDPreload); len(names) > 0 && p.secure.Why == "" { // else the loader ignores it
		c := p.checkLDPreload(names, node, libs)
		preloadFails = c.Status == StatusFail
		r.Checks = append(r.Checks, c)
	}
	if p.secure.Why != "" {
		r.Checks = append(r.Checks, p.checkSecureExecution())
	}
	r.Checks = append(r.Checks, p.checkAppBinaries(node, libs, checked))
	r.Checks = append(r.Checks, p.scanNative(node, libs, checked, <-found))
	if node != nil {
		r.Checks[nodeAt] = p.nodeCheck(node)
		if c := &r.Checks[nodeAt]; c.Status == StatusFail && preloadFails {
			// node's own run failed for the library preloaded into it.
			c.Hint = "LD_PRELOAD stops node before its first line: see the ld-preload check."
		}
		if node.bin != nil {
			node.bin.Close()
		}
		node.bin, node.libs = nil, nil // the report outlives the files
		if !node.versionKnown() {
			node = nil
		}
	} else {
		r.Checks[nodeAt] = *failed
	}
	r.Checks[importsAt] = p.judgeImports(<-imports, node)
	r.Node = node
	engines := p.checkEngines(node)
	r.Checks = append(r.Checks[:nodeAt+1], append([]Check{engines}, r.Checks[nodeAt+1:]...)...)
	r.OK = len(r.Failed()) == 0
	r.Short = p.short.Load()
	return r
}

func (p *Preflight) checkEntry() Check {
	c := Check{Name: "entry"}
	path, tried, err := resolveEntry(p.fsys, p.app, p.Entry)
	if err != nil && p.noteShortage(err) {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s: cannot be checked now: %v", path, describeFileError(err))
		c.Hint = shortageHint
		return c
	}
	if err != nil {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s: %v (node would fail with: Cannot find module '%s'); tried %s",
			path, describeFileError(err), path, strings.Join(tried, ", "))
		c.Hint = fmt.Sprintf("The compiled entry must be at %s. In the backend-builder stage `npm run build` (tsc) writes it to tsconfig's outDir (./dist); "+
			"the runtime stage must copy that folder there: `COPY --from=backend-builder /build/dist/ %s/dist/` with LAUNCHER_ENTRY=dist/index.js. "+
			"Or point LAUNCHER_APP_DIR and LAUNCHER_ENTRY at where it is.", path, p.app)
		return c
	}
	if err := p.RunAs.canRead(p.fsys, path); err != nil {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s: %v (node, running as %s, would fail with: EACCES)", path, err, p.RunAs)
		c.Hint = fmt.Sprintf("Make it readable by %s: `RUN chown -R %s %s` or `chmod -R a+rX %s` in the Dockerfile, or run node as another LAUNCHER_USER.",
			p.RunAs, p.RunAs.owner(), p.app, p.app)
		return c
	}
	st, _ := p.fsys.stat(path)
	c.Status = StatusPass
	c.Detail = fmt.Sprintf("%s (%d bytes)", path, st.Size())
	for _, pre := range p.preloads() {
		if pre.err != nil {
			c.Status = StatusFail
			// Not the value itself: an option may set it, and options' values stay out of the log.
			c.Detail = fmt.Sprintf("node refuses its NODE_OPTIONS and does not start: %v", pre.err)
			c.Hint = "Correct NODE_OPTIONS where it is set (an option, the Dockerfile's ENV): node splits it at spaces; double quotes keep a word with spaces whole, and inside them \\\" and \\\\ stand for \" and \\."
			return c
		}
		found, err := p.resolvePreload(pre.Preload)
		if err != nil && p.noteShortage(err) {
			c.Status = StatusFail
			c.Detail = fmt.Sprintf("%s preloads %s: cannot be checked now: %v", pre.from, pre.Spec, describeFileError(err))
			c.Hint = shortageHint
			return c
		}
		if broken := (*packageConfigError)(nil); errors.As(err, &broken) {
			c.Status = StatusFail
			c.Detail = fmt.Sprintf("%s preloads %q with %s, whose %s %s (node would fail with: %s before loading the entry)",
				pre.from, pre.Spec, pre.Option, p.rel(broken.file), broken.describe(0), broken.said(0, !pre.ESM()))
			c.Hint = p.fixText(importFixes{broken: []string{p.rel(broken.file)}})
			return c
		}
		if err != nil {
			c.Status = StatusFail
			c.Detail = fmt.Sprintf("%s preloads %q with %s, which does not resolve from %s (node would fail with: %s before loading the entry)",
				pre.from, pre.Spec, pre.Option, p.app, p.preloadError(p.app, pre.Preload, err))
			var notExported *notExportedError
			var missingFile *missingFileError
			switch alt := p.importExtension(p.app, pre.Preload); {
			case errors.As(err, &notExported):
				c.Hint = fmt.Sprintf("%s: not among what the installed package exports (its package.json's \"exports\"): preload what it exports, as its documentation says, or install the version %s was written for.", pre.Spec, pre.from)
			case errors.Is(err, errNoSpecifier):
				c.Hint = fmt.Sprintf("Name the module to preload after %s in %s, or remove the %s.", pre.Option, pre.from, pre.Option)
			case errors.As(err, &missingFile):
				c.Hint = fmt.Sprintf("The package %s preloads lacks the file: reinstall it in the builder stage (`npm ci`) and copy node_modules whole, or correct %s %s in %s.", pre.from, pre.Option, pre.Spec, pre.from)
			case alt != "":
				c.Hint = fmt.Sprintf("import adds no extension and takes no folder: name the file, %s %s.", pre.Option, alt)
			case errors.Is(err, errNotAFile):
				c.Hint = fmt.Sprintf("import takes no folder: name the file to preload in %s %s.", pre.from, pre.Option)
			default:
				c.Hint = fmt.Sprintf("Install the preloaded module in the image, or remove %s %s from %s (an option or the Dockerfile's ENV sets it).", pre.Option, pre.Spec, pre.from)
			}
			return c
		}
		if found != "" {
			c.Detail += fmt.Sprintf(", preload %s", pre.Spec)
		}
	}
	return c
}

// preload is a module node loads before the entry, and where node was told
// to: NODE_OPTIONS or its arguments. err is node's refusal of NODE_OPTIONS
// itself.
type preload struct {
	nodeopts.Preload
	from string
	err  error
}

// preloads are the modules node loads before the entry, NODE_OPTIONS'
// first, as node reads them.
func (p *Preflight) preloads() []preload {
	var out []preload
	words, err := nodeopts.Split(p.nodeOptions())
	if err != nil {
		return []preload{{from: "NODE_OPTIONS", err: err}}
	}
	for _, pre := range nodeopts.Preloads(words) {
		out = append(out, preload{Preload: pre, from: "NODE_OPTIONS"})
	}
	for _, pre := range nodeopts.Preloads(p.NodeArgs) {
		out = append(out, preload{Preload: pre, from: "LAUNCHER_NODE_ARGS"})
	}
	return out
}

// errNotAFile is import's refusal of a folder.
var errNotAFile = errors.New("is a folder, which import does not load")

// errNoSpecifier is node's refusal of a preload that names nothing
// (`-r ""` in LAUNCHER_NODE_ARGS, where no splitting drops the empty word).
var errNoSpecifier = errors.New("names no module")

// resolvePreload finds the file or package a preload names, from node's
// working folder, by require's rules or import's (an exact file, no
// extension added, no folder); "" with no error for what no file holds
// (node's builtins, data: URLs).
func (p *Preflight) resolvePreload(pre nodeopts.Preload) (string, error) {
	return p.resolveFrom(p.app, pre)
}

// resolveFrom resolves what pre names from the folder dir, by require's
// rules or import's; "" for what no file holds (a builtin).
func (p *Preflight) resolveFrom(dir string, pre nodeopts.Preload) (string, error) {
	file, bare := pre.Where()
	switch {
	case pre.Spec == "":
		return "", errNoSpecifier
	case file != "" && pre.ESM():
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, file)
		}
		st, err := p.fsys.stat(path)
		if err == nil && st.IsDir() {
			return "", errNotAFile
		}
		var tried []string
		if found, err := resolveFile(p.fsys, path, &tried); err != nil || found == path {
			return found, err
		}
		return "", fs.ErrNotExist
	case file != "":
		found, _, err := resolveEntry(p.fsys, dir, file)
		return found, err
	case strings.HasPrefix(bare, "#") && pre.ESM():
		// import resolves it through the "imports" of the package.json
		// above dir; require() of a preload has no package to look in.
		user, _ := p.moduleOptions()
		return p.resolveSubpathImport(dir+string(filepath.Separator), dir, pre, conditionsFor(true, false, user), map[string]scope{})
	case bare != "":
		user, _ := p.moduleOptions()
		found, _, err := p.resolvePackageSpec(dir, pre, conditionsFor(pre.ESM(), false, user))
		return found, err
	}
	return "", nil
}

// resolvePackageSpec resolves a package specifier from dir as resolveBare
// does, then, for require, where require() looks after every node_modules
// above (resolveGlobal).
func (p *Preflight) resolvePackageSpec(dir string, pre nodeopts.Preload, conditions []string) (string, *packageJSON, error) {
	found, pj, err := p.resolveBare(dir, pre, conditions)
	if _, bare := pre.Where(); errors.Is(err, fs.ErrNotExist) && !pre.ESM() {
		found, err = p.resolveGlobal(bare)
	}
	return found, pj, err
}

// resolveGlobal finds a package where require() looks after every
// node_modules above: the folders of node's NODE_PATH, then
// $HOME/.node_modules and $HOME/.node_libraries (import looks in none).
func (p *Preflight) resolveGlobal(bare string) (string, error) {
	var home string
	var dirs []string
	for _, kv := range p.env() {
		if v, ok := strings.CutPrefix(kv, "NODE_PATH="); ok {
			dirs = append(dirs, filepath.SplitList(v)...)
		} else if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".node_modules"), filepath.Join(home, ".node_libraries"))
	}
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		found, _, err := resolveEntry(p.fsys, d, bare)
		if err == nil {
			return found, nil
		}
	}
	return "", fs.ErrNotExist
}

// preloadError is how node fails on a preload that err says does not
// resolve.
func (p *Preflight) preloadError(dir string, pre nodeopts.Preload, err error) string {
	var notExported *notExportedError
	var notDefined *importNotDefinedError
	var missingFile *missingFileError
	switch file, bare := pre.Where(); {
	case errors.As(err, &notExported):
		return notExported.Error()
	case errors.As(err, &notDefined):
		return notDefined.Error()
	case errors.As(err, &missingFile) && missingFile.path != "":
		said := fmt.Sprintf("Cannot find module '%s'", missingFile.path)
		if pre.ESM() {
			said = "ERR_MODULE_NOT_FOUND: " + said
		} else if missingFile.main {
			said += ". Please verify that the package.json has a valid \"main\" entry"
		}
		return said
	case errors.Is(err, errNotAFile):
		return "ERR_UNSUPPORTED_DIR_IMPORT, a folder"
	case errors.Is(err, errNoSpecifier) && pre.ESM():
		return fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find package '' imported from %s/", dir)
	case errors.Is(err, errNoSpecifier):
		return "ERR_INVALID_ARG_VALUE: The argument 'id' must be a non-empty string. Received ''"
	case pre.ESM() && bare != "":
		return fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find package '%s'", bare)
	case pre.ESM() && filepath.IsAbs(file):
		return fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find module '%s'", file)
	case pre.ESM():
		return fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find module '%s'", filepath.Join(dir, file))
	}
	return fmt.Sprintf("Cannot find module '%s'", pre.Spec)
}

// importExtension is the specifier an ES module preload that names no
// file meant, with the extension or the folder's index.js that require
// would have added; "" when there is none.
func (p *Preflight) importExtension(dir string, pre nodeopts.Preload) string {
	file, _ := pre.Where()
	if !pre.ESM() || file == "" {
		return ""
	}
	for _, alt := range []string{".js", ".mjs", ".cjs", "/index.js", "/index.mjs"} {
		if p.fileIn(dir, file+alt) {
			return pre.Spec + alt
		}
	}
	return ""
}

// fileIn reports whether path, relative to dir unless absolute, is a
// regular file.
func (p *Preflight) fileIn(dir, path string) bool {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	st, err := p.fsys.stat(path)
	return err == nil && st.Mode().IsRegular()
}

// shortageHint is the fix for a check that met a shortage of the moment.
const shortageHint = "The launcher ran short of file descriptors, processes or memory (not a fault of the image): " +
	"it tries again by the restart policy. Raise the container's limits (ulimit -n, pids, memory) or find what holds them."

func describeFileError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "not readable (permission denied)"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (p *Preflight) exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return p.execAs(ctx, nil, p.Env, "", name, args...)
}

// execAs is exec as the user as (nil: this process's), with the
// environment env and in the folder dir ("" for this process's).
func (p *Preflight) execAs(ctx context.Context, as *User, env []string, dir, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.Command(name, args...)
	if p.Exec == nil {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Env, cmd.Dir = env, dir
	if c := as.credential(); c != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c}
	}
	if p.Exec != nil {
		return p.Exec(ctx, cmd)
	}
	return cmd.Output()
}

// inspectNode finds node, starts `node --version` in the background, and
// reads what node's file tells (libc, arch, its own libraries): the module
// checks need node's ABI only at their end, so the 4 ms node takes overlap
// the reading of ELF files. A failure here is final.
func (p *Preflight) inspectNode(ctx context.Context, preset *NodeVersions) (*NodeInfo, *Check) {
	fail := func(detail, hint string) (*NodeInfo, *Check) {
		return nil, &Check{Name: "node", Status: StatusFail, Detail: detail, Hint: hint}
	}
	path, host, err := p.findNode()
	if err != nil {
		where := "PATH (" + os.Getenv("PATH") + ")"
		if p.Image != "" {
			where = "the image's PATH (" + imagePATH + ")"
		}
		if strings.ContainsRune(p.Node, '/') {
			where = "that path"
		}
		return fail(fmt.Sprintf("%q not found in %s (the shell would say: node: not found)", p.Node, where),
			"Install node in the runtime stage: `RUN apk add --no-cache nodejs` (Alpine's release decides its version: 3.20 has 20, 3.22 has 22, 3.24 has 24), "+
				"or set LAUNCHER_NODE to node's full path.")
	}
	n := &NodeInfo{Path: path, versionDone: make(chan struct{})}
	if preset != nil {
		_ = n.preset(*preset) // a version this package parsed or node gave
		close(n.versionDone)
	} else if p.Image == "" {
		go func() {
			defer close(n.versionDone)
			err := errCaught
			p.catch(func() { err = p.readVersion(ctx, n) })
			if r := (*refusal)(nil); errors.As(err, &r) {
				n.refused, err = r, nil // the version is known: the checks go on
			}
			n.versionErr = err
		}()
	}
	// From here on, a failure must still wait for node --version to end
	// (in an image nothing runs: the version is read at the end).
	fail = func(detail, hint string) (*NodeInfo, *Check) {
		if p.Image != "" {
			n.versionErr = errors.New("not read")
			close(n.versionDone)
		}
		<-n.versionDone
		if n.bin != nil {
			n.bin.Close()
		}
		return nil, &Check{Name: "node", Status: StatusFail, Detail: detail, Hint: hint}
	}
	if bin, err := openELF(p.fsys, host); err == nil {
		n.bin = bin
		n.class, n.machine, n.interp = bin.h.Class, bin.h.Machine, bin.interp()
		n.Libc, n.Arch = libcOfInterp(n.interp), archOf(n.machine)
		n.dyn, _ = bin.dynamic()
		if n.Libc == "" {
			n.Libc = libcOfNeeds(n.dyn.Needed)
		}
	} else if p.noteShortage(err) {
		return fail(fmt.Sprintf("%s: cannot be checked now: %v", path, err), shortageHint)
	} else if !errors.Is(err, errNotELF) {
		return fail(fmt.Sprintf("%s: %v", path, err), "Reinstall node in the runtime stage: `RUN apk add --no-cache nodejs`.")
	}

	// Node's own libraries first: without them `node --version` fails too.
	if n.bin != nil {
		libs := newLibResolver(p.fsys, p.root(), n.Libc, n.class, n.machine, p.LDLibraryPath, p.secure.Why != "")
		libs.short = &p.short
		exe := &loadedLib{Path: path, File: n.bin}
		loaded, errs := libs.loadTree(exe, nil)
		n.scope = append([]*loadedLib{exe}, loaded...)
		delete(libs.opened, path) // n.bin, closed with n
		loaderMissing := false
		if n.interp != "" {
			_, err := p.fsys.stat(resolveIn(p.fsys, p.root(), n.interp))
			loaderMissing = errors.Is(err, fs.ErrNotExist)
		}
		if len(errs) > 0 || loaderMissing {
			libs.close()
			// What node's missing libraries, or loader, mean: node for
			// another CPU, which the kernel refuses before its loader runs
			// (in an image nothing runs: its shell tells its CPU), or for
			// the other C library, whose loader the image lacks.
			if p.Image == "" {
				if detail, hint, ok := foreignNode(n); ok {
					return fail(detail, hint)
				}
			}
			if detail, hint, ok := p.foreignCPU(n, false); ok {
				return fail(detail, hint)
			}
			if loaderMissing {
				return fail(p.loaderMissing(path, n))
			}
			return fail(fmt.Sprintf("%s cannot start: %s", path, joinErrors(errs)), libraryHint(errs, n.Libc))
		}
		n.libs = libs
		// Every dynamically linked node exports Node-API for its addons
		// (napi_module_register since Node 8). A program that does not is
		// a wrapper that starts node from elsewhere: checking the addons'
		// imports against its symbols would fail what node loads.
		if n.interp != "" && !n.defines("napi_module_register") {
			n.shim = true
			libs.close()
			n.bin.Close()
			n.bin, n.libs, n.scope, n.dyn = nil, nil, nil, dynamicInfo{}
		}
	}
	if p.Image != "" {
		n.versionErr = p.imageVersion(n)
		close(n.versionDone)
	}
	return n, nil
}

// findNode finds node's file: its path in the container, and where this
// process reaches it (host).
func (p *Preflight) findNode() (path, host string, err error) {
	if p.Image != "" {
		return lookPathIn(p.fsys, p.Image, p.Node)
	}
	path, err = p.fsys.lookPath(p.Node)
	return path, path, err
}

// secureExecution is SecureExecution of the node this run checks, as the
// launcher starts it: as node's user (in an image checked from outside,
// the container's root).
func (p *Preflight) secureExecution() Secure {
	_, host, err := p.findNode()
	if err != nil {
		return Secure{} // the node check says so
	}
	return p.secureExecutionOf(host)
}

// secureExecutionOf is secureExecution of node's file at host (its path
// on this machine).
func (p *Preflight) secureExecutionOf(host string) Secure {
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if p.Image != "" {
		uid, gid = 0, 0
	}
	if u := p.RunAs; u != nil {
		uid, gid = u.UID, u.GID
	}
	return SecureExecution(host, uid, gid, p.NoNewPrivs && p.Image == "")
}

// nodeOptions is NODE_OPTIONS as node reads it: nothing in
// secure-execution mode, where node ignores it.
func (p *Preflight) nodeOptions() string {
	if p.secure.IgnoresOptions {
		return ""
	}
	return p.NodeOptions
}

// readVersion takes node's own report when the gate gave one; else it runs
// node --version and derives the ABI and Node-API level: from the ABI
// table, else the binary's node_register_module_v<ABI> literal, else by
// asking node (70 ms).
//
// node --version is given node's arguments too, as node will be started
// (`node --version ARGS ENTRY`, in the app's folder, as node's user): node reads every
// option, and the files some name (--env-file), before it answers
// --version, and runs nothing of the app. So node's refusal of its command
// line (an option it does not know, an --env-file not there, a V8 flag's
// value it cannot read) is known before the start it would end at every
// time: node, asked again without them, then answers, and readVersion
// returns a *refusal with the version set.
func (p *Preflight) readVersion(ctx context.Context, n *NodeInfo) error {
	if p.Reported != nil {
		if v, ok := p.Reported(ctx); ok && n.preset(v) == nil {
			return nil
		}
	}
	args := p.versionArgs()
	var out []byte
	var err error
	if len(args) == 1 {
		out, err = p.exec(ctx, n.Path, args...)
	} else {
		// As node will start: a start that fails here (no right to
		// switch users, say) is asked again plainly, below.
		out, err = p.execAs(ctx, p.RunAs, p.Env, p.app, n.Path, args...)
	}
	var refused *refusal
	if err != nil && len(args) > 1 {
		// A refusal is an exit with a code: node killed by a signal
		// (a crash, the emulator's) said nothing of its arguments.
		said := stderrOf(err)
		refuses := exitCode(err) > 0
		if out, err = p.exec(ctx, n.Path, "--version"); err == nil && refuses {
			refused = p.refusal(firstLine(said))
		}
	}
	if err != nil && p.LDPreload != "" && !shortage.Is(err) {
		// What LD_PRELOAD maps into node runs before node's first line: a
		// library that stops node there (jemalloc built for smaller pages
		// than the kernel's) fails its every start, and node answers
		// without it. Unless node, as the launcher starts it, runs in
		// secure-execution mode, where its loader maps no preload: the
		// query, this process's exec of node, is not in that mode.
		failed := err
		if plain, perr := p.execAs(ctx, nil, withoutVar(p.env(), "LD_PRELOAD"), "", n.Path, "--version"); perr == nil {
			out, err = plain, nil
			if p.secureExecutionOf(n.Path).Why == "" {
				refused = p.preloadRefusal(failed)
			}
		}
	}
	if err != nil {
		p.noteShortage(err)
		return &versionError{path: n.Path, err: err, said: firstLine(stderrOf(err))}
	}
	if err := n.setVersion(string(out)); err != nil {
		return err
	}
	if n.ABI == 0 {
		// Unnoted: the ELF checks note node's file, and a speculated
		// run's query may outlast the run whose record p.fsys is.
		n.ABI = unnoted.fileABI(n.Path)
	}
	if n.ABI == 0 {
		// Without NODE_OPTIONS: what it preloads is the app's, and runs
		// under -p.
		if out, err := p.execAs(ctx, nil, withoutVar(p.env(), "NODE_OPTIONS"), "", n.Path, "-p", "process.versions.modules"); err == nil {
			n.ABI, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		}
	}
	if refused != nil {
		return refused
	}
	return nil
}

// versionArgs are node's arguments for its version query: --version
// first, so that it wins over every option that would run something, then
// LAUNCHER_NODE_ARGS and the entry as node is started. Not under --run,
// which node obeys before --version: it runs a package.json script.
func (p *Preflight) versionArgs() []string {
	if len(p.NodeArgs) == 0 {
		return []string{"--version"}
	}
	for _, a := range p.NodeArgs {
		if a == "--run" || strings.HasPrefix(a, "--run=") {
			return []string{"--version"}
		}
	}
	return append(append([]string{"--version"}, p.NodeArgs...), p.Entry)
}

// env is node's environment: Env, else this process's.
func (p *Preflight) env() []string {
	if p.Env != nil {
		return p.Env
	}
	return os.Environ()
}

// withoutVar is env without the variable name.
func withoutVar(env []string, name string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// refusal is node refusing its command line (LAUNCHER_NODE_ARGS) before
// its first line, while it answers --version without it: node would exit
// so at every start.
type refusal struct {
	detail, hint string
}

func (e *refusal) Error() string { return e.detail }

// refusal describes node's refusal of LAUNCHER_NODE_ARGS, saying said, and
// its fix.
func (p *Preflight) refusal(said string) *refusal {
	args := strings.Join(p.NodeArgs, " ")
	r := &refusal{detail: fmt.Sprintf("node refuses LAUNCHER_NODE_ARGS (%s) and would exit before its first line at every start, saying: %s", args, said)}
	envFile := false
	for _, a := range p.NodeArgs {
		envFile = envFile || strings.HasPrefix(a, "--env-file")
	}
	switch {
	case envFile && strings.HasSuffix(said, "not found"):
		r.hint = fmt.Sprintf("--env-file in LAUNCHER_NODE_ARGS names a file node reads before its first line, from LAUNCHER_APP_DIR (%s) when relative: "+
			"copy it into the image, or name it with --env-file-if-exists (Node 22.9 and later) where it may be absent.", p.AppDir)
	case strings.Contains(said, "illegal value for flag"):
		r.hint = "Correct LAUNCHER_NODE_ARGS: V8's flags take plain numbers, sizes in MiB without a unit (--max-old-space-size=256)."
	default:
		r.hint = "Correct LAUNCHER_NODE_ARGS (the Dockerfile's ENV): `node --help` lists the options this node takes."
	}
	return r
}

// preloadRefusal describes LD_PRELOAD stopping node before its first line,
// where node ended with err, and its fix: what node's last words tell
// (Diagnose), else to remove the library.
func (p *Preflight) preloadRefusal(err error) *refusal {
	said := stderrOf(err)
	r := &refusal{
		detail: fmt.Sprintf("LD_PRELOAD=%s stops node before its first line, as it would at every start (node answers without it): %v", p.LDPreload, err),
		hint:   "Remove the library from LD_PRELOAD (the Dockerfile's ENV), or mend it: node starts without it.",
	}
	if first := firstLine(said); first != "" {
		r.detail += ", saying: " + first
	}
	if d := Diagnose(strings.Split(string(said), "\n"), Machine{}); len(d) > 0 {
		r.detail += " (" + d[0].Cause + ")"
		r.hint = d[0].Hint
	}
	return r
}

// NodeVersions is what node says of itself: process.version, and
// process.versions' modules (the ABI) and napi.
type NodeVersions struct {
	Version   string
	ABI, NAPI int
}

// versionError is a `node --version` that failed, with its cause kept:
// the fix depends on it.
type versionError struct {
	path string
	err  error
	said string // the first line node, or its loader, wrote to stderr
}

func (e *versionError) Error() string {
	if e.said != "" {
		return fmt.Sprintf("`%s --version` failed: %v, saying: %s", e.path, e.err, e.said)
	}
	return fmt.Sprintf("`%s --version` failed: %v", e.path, e.err)
}

func (e *versionError) Unwrap() error { return e.err }

// hint is the fix for the cause: a missing /dev/null (a bare root or
// chroot), a shortage of the moment, or else node itself.
func (e *versionError) hint() string {
	var pe *fs.PathError
	switch {
	case errors.As(e.err, &pe) && pe.Path == os.DevNull:
		return "/dev/null is missing, so no process can be started with its input closed: every container runtime provides /dev; " +
			"in a chroot or a bare root, mount it (`mount --bind /dev ROOT/dev`) or create it (`mknod -m 666 ROOT/dev/null c 1 3`)."
	case shortage.Is(e.err):
		return shortageHint
	case strings.Contains(e.said, "NODE_OPTIONS"):
		return "node refuses its NODE_OPTIONS before its first line: correct NODE_OPTIONS where it is set (an option, the Dockerfile's ENV)."
	}
	return "Reinstall node in the runtime stage: `RUN apk add --no-cache nodejs`; LAUNCHER_NODE must be node itself, not a wrapper."
}

// stderrOf is what a failed command wrote to its standard error, where its
// error kept it: exec.ExitError's Stderr, or the supervisor's Reaper's.
func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	var said interface{ Stderr() []byte }
	if errors.As(err, &said) {
		return said.Stderr()
	}
	return nil
}

// exitCode is the exit code of the command err ended, -1 when a signal
// killed it or it did not end.
func exitCode(err error) int {
	var code interface{ ExitCode() int }
	if errors.As(err, &code) {
		return code.ExitCode()
	}
	return -1
}

// firstLine is the first line of b with text, cut to a length a log line
// holds, and how many more lines b has.
func firstLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	first := strings.TrimSpace(lines[0])
	if len(first) > 300 {
		first = strings.ToValidUTF8(first[:300], "") + "…"
	}
	if more := len(lines) - 1; more > 0 && first != "" {
		first += fmt.Sprintf(" (and %d more lines)", more)
	}
	return first
}

// foreignNode waits for node's version and says, when the kernel refused
// to run node (`node --version` failed with ENOEXEC, "exec format error")
// and node's ELF is for another CPU than the one this launcher runs on,
// which; ok is false otherwise. Such a node was copied from a stage of
// another platform, or downloaded for one: on a Raspberry Pi, an amd64
// build.
func foreignNode(n *NodeInfo) (detail, hint string, ok bool) {
	here := archOfGo(runtime.GOARCH)
	if n.versionKnown() || !errors.Is(n.versionErr, syscall.ENOEXEC) || n.Arch == "" || n.Arch == here {
		return "", "", false
	}
	detail = fmt.Sprintf("%s is built for %s (%s, %s), but this machine is %s (%s): the kernel does not run it (node would fail at every start with: exec format error)",
		n.Path, n.Arch, haArch(n.Arch), n.class, here, haArch(here))
	return detail, foreignHint(here), true
}

// loaderMissing says that node's program loader (its ELF interpreter) is
// not in the image: the kernel then fails node's exec with "no such file
// or directory" (a shell says "node: not found") though node is there,
// and its libraries go unread. It is node built for the other C library:
// a glibc build (a Debian-based stage's, nodejs.org's) on Alpine, or
// Alpine's musl build on a glibc image.
func (p *Preflight) loaderMissing(path string, n *NodeInfo) (detail, hint string) {
	libc := "glibc"
	if p.platformOf(nil).Alpine {
		libc = "musl (Alpine)"
	}
	detail = fmt.Sprintf("%s is built for %s: its loader %s is not in the image, whose C library is %s (node would fail at every start with: no such file or directory; a shell says: node: not found)",
		path, cmp.Or(n.Libc, "another C library"), n.interp, libc)
	switch {
	case n.Libc == "glibc" && libc != "glibc":
		hint = "Use node built for musl on Alpine: Alpine's (`RUN apk add --no-cache nodejs`) or the official node:<version>-alpine image's /usr/local/bin/node. " +
			"A node from a Debian-based stage (node:<version>, -slim, -bookworm) or from nodejs.org's Linux download is built for glibc."
	case n.Libc == "musl" && libc == "glibc":
		hint = "Use node built for glibc on this image: its distribution's (`apt-get install nodejs`) or the official node:<version>-slim image's /usr/local/bin/node. " +
			"A node from an Alpine stage (node:<version>-alpine) is built for musl."
	default:
		hint = fmt.Sprintf("Install node built for the image's C library, or the loader %s.", n.interp)
	}
	return detail, hint
}

// foreignCPU says which of node and this launcher is built for another
// CPU than the image's programs, and, where the image's CPU is unknown,
// that node and the launcher differ; ok is false when they fit. An image's
// programs are for one CPU. A machine that also runs the other's runs such
// a mix: by emulation, as a cross-platform build does (`docker buildx
// build --platform linux/arm64` on an amd64 machine, where `RUN launcher
// check` runs the build machine's programs natively and the image's under
// qemu); a machine of the image's CPU does not. From outside (Image) the
// launcher is not the image's: node alone is judged; a node whose CPU is
// not known (a script) leaves the launcher alone judged. runs is whether
// node ran here.
func (p *Preflight) foreignCPU(n *NodeInfo, runs bool) (detail, hint string, ok bool) {
	image, launcher := p.imageArch(), ""
	if p.Image == "" {
		launcher = archOfGo(runtime.GOARCH)
	}
	if image == "" {
		// Without the image's CPU, node and the launcher must agree.
		if n.Arch == "" || launcher == "" || launcher == n.Arch || compatArch(launcher, n.Arch) || compatArch(n.Arch, launcher) {
			return "", "", false
		}
		detail = fmt.Sprintf("%s is built for %s (%s, %s), but this launcher for %s (%s): an image's programs are for one CPU, so one of the two comes from a stage of another platform, and a machine of either CPU does not run the other (exec format error)",
			n.Path, n.Arch, haArch(n.Arch), n.class, launcher, haArch(launcher))
		hint = "Take node and the launcher for the image's platform: node from the runtime stage (`RUN apk add --no-cache nodejs`), the launcher built with `GOARCH=$TARGETARCH` (`ARG TARGETARCH`, no default); copy no program from a `FROM --platform=$BUILDPLATFORM` stage."
		return detail, hint, true
	}
	fits := func(arch string) bool { return arch == "" || arch == image || compatArch(image, arch) } // "": not known, or not the image's (the launcher, from outside)
	switch nodeFits, launcherFits := fits(n.Arch), fits(launcher); {
	case nodeFits && launcherFits:
		return "", "", false
	case launcherFits:
		also, here := "", ""
		if launcher != "" {
			also = " and this launcher"
		}
		if runs {
			here = runsHere(n.Arch) + ", and "
		}
		detail = fmt.Sprintf("%s is built for %s (%s, %s), but the image's programs%s are for %s (%s): %sa machine of the image's CPU does not run this node (it would fail at every start with: exec format error)",
			n.Path, n.Arch, haArch(n.Arch), n.class, also, image, haArch(image), here)
		hint = foreignHint(image)
	case nodeFits:
		with := ""
		if n.Arch != "" {
			with = fmt.Sprintf("node (%s) and ", n.Path)
		}
		detail = fmt.Sprintf("this launcher is built for %s (%s), but %sthe image's programs are for %s (%s): %s, and on a machine of the image's CPU the container would not start (exec format error)",
			launcher, haArch(launcher), with, image, haArch(image), runsHere(launcher))
		hint = launcherHint(image)
	default:
		detail = fmt.Sprintf("%s is built for %s (%s) and this launcher for %s (%s), but the image's programs are for %s (%s): a machine of the image's CPU runs neither (exec format error)",
			n.Path, n.Arch, haArch(n.Arch), launcher, haArch(launcher), image, haArch(image))
		hint = foreignHint(image) + " " + launcherHint(image)
	}
	return detail, hint, true
}

// runsHere says why a program for CPU arch, not the image's, runs here.
func runsHere(arch string) string {
	return fmt.Sprintf("it runs here only because this machine runs %s programs too (its own, or emulated, as a cross-platform build does)", arch)
}

// launcherHint is the fix for a launcher built for another CPU than arch,
// the image's.
func launcherHint(arch string) string {
	return fmt.Sprintf("Build the launcher for the image's platform, %s: in a `FROM --platform=$BUILDPLATFORM` Go stage, declare `ARG TARGETARCH` with no default "+
		"(BuildKit sets it from --platform; a default wins over it) and build with `CGO_ENABLED=0 GOARCH=$TARGETARCH go build`, or copy the launcher released for %s.", haArch(arch), haArch(arch))
}

// foreignHint is the fix for a node built for another CPU than arch, the
// machine's.
func foreignHint(arch string) string {
	return fmt.Sprintf("Install node for %s in the runtime stage (`RUN apk add --no-cache nodejs`, or the node of a base image built for this machine), "+
		"and copy no program from a stage of another platform (`FROM --platform=$BUILDPLATFORM` runs on the build machine's CPU). "+
		"The Supervisor builds the add-on on the machine it runs on, for its CPU.", haArch(arch))
}

// compatArch reports whether a machine of CPU arch also runs programs of
// CPU other natively: x64 runs ia32, and arm64 (most of it) arm.
func compatArch(arch, other string) bool {
	return arch == "x64" && other == "ia32" || arch == "arm64" && other == "arm"
}

// imageArch is the CPU the image's programs (the root's: the container's
// own, or Image) are built for: its shell's (busybox on Alpine, dash on
// Debian), else its dynamic loaders', when they agree; "" when it has none
// of them.
func (p *Preflight) imageArch() string {
	root := p.root()
	candidates := []string{resolveIn(p.fsys, root, "/bin/sh")}
	if _, _, err := lookPathIn(p.fsys, root, "/bin/sh"); err != nil {
		candidates = nil
		for _, dir := range []string{"/lib", "/lib64"} {
			entries, _ := p.fsys.readDir(resolveIn(p.fsys, root, dir))
			for _, e := range entries {
				if ok, _ := filepath.Match("ld-*.so.*", e.Name()); ok {
					candidates = append(candidates, resolveIn(p.fsys, root, path.Join(dir, e.Name()))) // its links as the image's
				}
			}
		}
	}
	arch := ""
	for _, c := range candidates {
		bin, err := openELF(p.fsys, c)
		if err != nil {
			continue
		}
		a := archOf(bin.h.Machine)
		bin.Close()
		if arch != "" && a != arch {
			return "" // loaders of two CPUs: a multiarch image
		}
		arch = a
	}
	return arch
}

// nodeCheck waits for node's version and reports the node check.
func (p *Preflight) nodeCheck(n *NodeInfo) Check {
	c := Check{Name: "node"}
	if detail, hint, ok := foreignNode(n); ok {
		c.Status, c.Detail, c.Hint = StatusFail, detail, hint
		return c
	}
	if detail, hint, ok := p.foreignCPU(n, n.versionKnown()); ok {
		c.Status, c.Detail, c.Hint = StatusFail, detail, hint
		return c
	}
	if !n.versionKnown() {
		c.Status, c.Detail = StatusFail, n.versionErr.Error()
		c.Hint = "Reinstall node in the runtime stage: `RUN apk add --no-cache nodejs`; LAUNCHER_NODE must be node itself, not a wrapper."
		var ve *versionError
		if errors.As(n.versionErr, &ve) {
			c.Hint = ve.hint()
		}
		if errors.Is(n.versionErr, syscall.EPERM) {
			if _, host, err := p.findNode(); err == nil {
				if cause, fix, ok := CapsRefused(host, p.Bounded); ok {
					c.Detail, c.Hint = fmt.Sprintf("%s cannot start: %s", n.Path, cause), fix
				}
			}
		}
		return c
	}
	if n.refused != nil {
		c.Status, c.Detail, c.Hint = StatusFail, fmt.Sprintf("%s at %s: %s", n.Version, n.Path, n.refused.detail), n.refused.hint
		return c
	}
	c.Status = StatusPass
	c.Detail = fmt.Sprintf("%s at %s: %s", n.Version, n.Path, n.Facts())
	if n.VersionFrom != "" {
		c.Detail += fmt.Sprintf(" (version from %s; node was not run)", n.VersionFrom)
	}
	switch {
	case n.shim:
		c.Status = StatusWarn
		c.Detail += " (not node itself: it exports no Node-API, so it starts node from elsewhere, as volta's shim does; native modules checked for its CPU and libc and node's version, not against node's own files)"
	case n.bin == nil:
		c.Status = StatusWarn
		c.Detail += " (not an ELF binary: libc and architecture unknown, native modules checked less)"
	}
	if c.Status == StatusWarn {
		c.Hint = "Point LAUNCHER_NODE at the node executable itself rather than a wrapper: " +
			"`" + n.Path + " -p process.execPath` prints its path (`volta which node` and `asdf which node` too)."
	}
	return c
}

func (p *Preflight) checkEngines(node *NodeInfo) Check {
	c := Check{Name: "engines", Status: StatusPass}
	pj, err := readPackageJSON(p.fsys, p.app)
	var broken *packageConfigError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Detail = "no package.json in " + p.app
		return c
	case errors.As(err, &broken):
		// It is there: whether node fails on it is the imports check's to
		// say (it reads it to load each .js file under it).
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("%s %s", broken.file, broken.describe(0))
		c.Hint = "Make package.json valid JSON (a trailing comma, a comment or a missing quote breaks it)."
		return c
	case err != nil:
		c.Status, c.Detail = StatusWarn, err.Error()
		c.Hint = "Copy the backend's package.json into the runtime stage next to the entry."
		return c
	case pj.Engines.Node == "":
		c.Detail = "package.json sets no engines.node"
		return c
	case node == nil:
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("engines.node %q not checked: node unknown", pj.Engines.Node)
		return c
	}
	ok, err := satisfies(node.Version, pj.Engines.Node)
	switch {
	case err != nil:
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("engines.node %q: %v", pj.Engines.Node, err)
		c.Hint = "Write engines.node as an npm range, such as \">=18\"."
	case !ok:
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("package.json's engines.node is %q, but node here is %s", pj.Engines.Node, node.Version)
		c.Hint = "Give the runtime stage a node inside that range (the Alpine release decides `apk add nodejs`: 3.20 has 20, 3.22 has 22, 3.24 has 24), " +
			"with the backend-builder stage on the same Node major, or change engines.node."
	default:
		c.Detail = fmt.Sprintf("node %s satisfies engines.node %q", node.Version, pj.Engines.Node)
	}
	return c
}

// platformOf is what native-module loaders match against on this node.
func (p *Preflight) platformOf(node *NodeInfo) platform {
	pf := platform{Arch: "x64", Libc: "glibc", node: node}
	_, err := p.fsys.stat(filepath.Join(p.root(), "etc", "alpine-release"))
	pf.Alpine, pf.LibcEnv = err == nil, p.LibcEnv
	if node != nil {
		pf.Arch = node.Arch
		if node.Libc != "" {
			pf.Libc = node.Libc
		} else if pf.Alpine {
			pf.Libc = "musl"
		}
		// node behind a script runs on the image's CPU: the launcher's
		// (the node check refuses a launcher of another), from outside the
		// image's programs' (imageArch), when they tell it.
		if pf.Arch == "" && p.Image == "" {
			pf.Arch = archOfGo(runtime.GOARCH)
		} else if pf.Arch == "" {
			pf.Arch = p.imageArch()
		}
	}
	return pf
}

// checkNative proves that package pkg resolves from the app and that the
// binary its loader would pick will load here. It returns the binary's path.
func (p *Preflight) checkNative(pkg string, node *NodeInfo, libs *libResolver) (Check, string) {
	c := Check{Name: "native:" + pkg}
	dir, tried, err := resolvePackage(p.fsys, p.app, pkg)
	if pnp := p.plugnPlay(); err != nil && pnp != "" {
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("%s is not in node_modules: node resolves it through Yarn's Plug'n'Play (%s, preloaded), which the check does not follow: not checked", pkg, pnp)
		c.Hint = "For the check to see the modules, install them with `nodeLinker: node-modules` in .yarnrc.yml."
		return c, ""
	}
	if err != nil {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s does not resolve from %s (node would fail with: Cannot find module '%s'); looked in %s", pkg, p.app, pkg, strings.Join(tried, ", "))
		c.Hint = fmt.Sprintf("Keep %s in package.json's \"dependencies\" (not devDependencies), so `npm prune --omit=dev` in backend-builder keeps it, "+
			"and copy node_modules into the runtime stage: `COPY --from=backend-builder /build/node_modules %s/node_modules`. "+
			"If the app no longer uses it, drop it from LAUNCHER_NATIVE_MODULES.", pkg, p.app)
		return c, ""
	}
	return p.checkNativeAt(c, pkg, dir, node, libs, 0)
}

// checkNativeAt checks package pkg, found at dir: as checkNative, and
// through the native dependency that holds its binary, depth packages down
// (@duckdb/node-api's is @duckdb/node-bindings).
func (p *Preflight) checkNativeAt(c Check, pkg, dir string, node *NodeInfo, libs *libResolver, depth int) (Check, string) {
	pj, err := readPackageJSON(p.fsys, dir)
	if err != nil {
		c.Status, c.Detail = StatusFail, err.Error()
		c.Hint = fmt.Sprintf("Reinstall it in backend-builder: `npm ci` (or `npm install %s`).", pkg)
		return c, ""
	}
	entries, _ := p.fsys.readDir(dir)
	pf := p.platformOf(node)
	pk := pickBinary(p.fsys, dir, pj, entries, pf)
	if pk.Loader == "" {
		if linux, here := platformVariants(pj, pf); len(linux) > 0 {
			return p.checkVariant(c, pkg, dir, pj, linux, here, node, libs)
		}
		pk = plainRequire(p.fsys, dir, pf)
	}
	if pk.Loader == "" && depth < 2 {
		if dep, depDir := p.nativeDependency(dir, pj, pf); dep != "" {
			dc, path := p.checkNativeAt(c, dep, depDir, node, libs, depth+1)
			dc.Detail = fmt.Sprintf("%s %s, through its dependency %s: %s", pkg, pj.Version, dep, dc.Detail)
			return dc, path
		}
	}
	switch {
	case pk.Loader == "":
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("%s %s at %s has no native binary (binding.gyp, prebuilds or build/)", pkg, pj.Version, dir)
		c.Hint = fmt.Sprintf("If it is pure JavaScript now, drop %s from LAUNCHER_NATIVE_MODULES.", pkg)
		return c, ""
	case pk.Path == "" && pf.Arch == "":
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("%s %s: which binary %s would load depends on node's CPU, unknown here (see the node check)", pkg, pj.Version, pk.Loader)
		c.Hint = "Point LAUNCHER_NODE at the node executable itself."
		return c, ""
	case pk.Path == "":
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s: no binary that %s would load on linux-%s (%s); looked in %s", pkg, pj.Version, pk.Loader, pf.Arch, pf.Libc, strings.Join(rel(dir, pk.Looked), ", "))
		c.Hint = fmt.Sprintf("Its install script did not build or fetch it. npm 11 skips dependencies' install scripts unless package.json's \"allowScripts\" names the package, "+
			"and `npm ci --ignore-scripts` skips them all. In backend-builder, with python3, make and g++ installed, run `npm rebuild %s` after `npm ci`.", pkg)
		if pk.Fix != "" {
			c.Hint = strings.ReplaceAll(pk.Fix, "{pkg}", pkg)
		}
		return c, ""
	}
	v, path, passed := p.checkPick(pk, node, libs, p.Deep)
	shown := rel(dir, []string{path})[0]
	if len(v.problems) > 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s: %s (picked by %s): %s", pkg, pj.Version, shown, pk.Loader, v.details())
		if len(pk.Then) > 0 {
			c.Detail = fmt.Sprintf("%s %s: none of the %d builds %s would try here would load: %s", pkg, pj.Version, len(pk.Then)+1, pk.Loader, v.details())
		}
		c.Hint = v.hints(pkg)
		return c, path
	}
	c.Status = StatusPass
	after := ""
	if len(passed) > 0 {
		after = fmt.Sprintf(", after %d that would not load: %s", len(passed), strings.Join(rel(dir, passed), ", "))
	}
	if len(pk.Also) > 0 {
		after = fmt.Sprintf(", as %s, which its code may choose instead", strings.Join(rel(dir, pk.Also), ", "))
	}
	c.Detail = fmt.Sprintf("%s %s: %s (picked by %s%s): %s", pkg, pj.Version, shown, pk.Loader, after, v.summary)
	v.caveatOn(&c, pkg)
	p.checkPackageEngines(&c, pkg, pj, node)
	return c, path
}

// plugnPlay is the .pnp.cjs (Yarn's Plug'n'Play runtime) that node
// preloads, from NODE_OPTIONS or its arguments, as it resolves from the
// app; "" when node preloads none.
func (p *Preflight) plugnPlay() string {
	for _, pre := range p.preloads() {
		if path.Base(pre.Spec) != ".pnp.cjs" {
			continue
		}
		if found, err := p.resolvePreload(pre.Preload); err == nil {
			return found
		}
	}
	return ""
}

// nativeDependency is the first of pj's dependencies, in name order, that
// holds a binary or loads a platform package, and where it resolves from
// dir; "" when none does.
func (p *Preflight) nativeDependency(dir string, pj *packageJSON, pf platform) (string, string) {
	for _, dep := range slices.Sorted(maps.Keys(pj.Dependencies)) {
		depDir, _, err := resolvePackage(p.fsys, dir, dep)
		if err != nil {
			continue
		}
		dpj, err := readPackageJSON(p.fsys, depDir)
		if err != nil {
			continue
		}
		entries, _ := p.fsys.readDir(depDir)
		if linux, _ := platformVariants(dpj, pf); len(linux) > 0 || pickBinary(p.fsys, depDir, dpj, entries, pf).Loader != "" {
			return dep, depDir
		}
	}
	return "", ""
}

// checkPick checks the binary pk names; while it would not load, the ones
// its loader tries next (pick.Then); and with it, each one the package may
// choose instead (pick.Also). It returns the verdict on the one that would
// load and the ones passed over; else, and when one of pick.Also would
// not load, a verdict holding each one's problems, on pk.Path.
func (p *Preflight) checkPick(pk pick, node *NodeInfo, libs *libResolver, deep bool) (v verdict, path string, passed []string) {
	var all verdict
	collect := func(candidate string, v verdict) {
		if all.summary == "" {
			all.summary = v.summary
		}
		for _, pr := range v.problems {
			all.add(filepath.Join(filepath.Base(filepath.Dir(candidate)), filepath.Base(candidate))+": "+pr.detail, pr.hint)
		}
		if all.caveat == nil {
			all.caveat = v.caveat
		}
	}
	if len(pk.Also) > 0 {
		for _, candidate := range append([]string{pk.Path}, pk.Also...) {
			collect(candidate, p.checkBinary(candidate, node, libs, deep))
		}
		return all, pk.Path, nil
	}
	for i, candidate := range append([]string{pk.Path}, pk.Then...) {
		v = p.checkBinary(candidate, node, libs, deep)
		if len(v.problems) == 0 || len(pk.Then) == 0 {
			return v, candidate, slices.Concat([]string{pk.Path}, pk.Then)[:i]
		}
		collect(candidate, v)
	}
	return all, pk.Path, nil
}

// checkVariant checks a package of napi-rs's scheme: plain JavaScript that
// loads, at run time, the optional dependency built for its platform.
func (p *Preflight) checkVariant(c Check, pkg, dir string, pj *packageJSON, linux, here []string, node *NodeInfo, libs *libResolver) (Check, string) {
	pf := p.platformOf(node)
	fix := fmt.Sprintf("Install it for the runtime's platform: run `npm ci` in a builder stage of the runtime's platform and libc "+
		"(FROM node:<major>-alpine on the runtime's Alpine release for musl), or, from another platform, `npm install %s`; "+
		"never copy a node_modules installed for another platform.", pf.npmFlags())
	if len(here) == 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s publishes no build for linux-%s (%s); it has %s (node would fail with: Cannot find module)", pkg, pj.Version, pf.Arch, pf.Libc, strings.Join(linux, ", "))
		c.Hint = "Use a version of " + pkg + " that supports this platform, or run the add-on on a platform it supports."
		return c, ""
	}
	// The first installed package of this platform that holds a .node
	// file: sharp's libvips package, also of this platform, holds only the
	// library its binding links.
	var variantDir, found, missing, bare string
	var then []string
	for _, name := range here {
		d, _, err := resolvePackage(p.fsys, dir, name)
		if err != nil {
			if missing == "" {
				missing = name
			}
			continue
		}
		if found = firstNode(p.fsys, d); found == "" {
			found = anyNode(p.fsys, d, pf.Arch)
		}
		if found == "" {
			found, then = libcFolders(p.fsys, d, pf.Libc)
		}
		if found != "" {
			variantDir = d
			break
		}
		if bare == "" {
			bare = d
		}
	}
	switch {
	case variantDir == "" && missing != "":
		var installed []string
		for _, name := range linux {
			if _, _, err := resolvePackage(p.fsys, dir, name); err == nil {
				installed = append(installed, name)
			}
		}
		what := "none of its platform packages is installed"
		if len(installed) > 0 {
			what = "only " + strings.Join(installed, ", ") + " " + plural.Word(len(installed), "is", "are") + " installed"
		}
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s loads %s on linux-%s (%s), which is not installed: %s (node would fail with: Cannot find module '%s')",
			pkg, pj.Version, missing, pf.Arch, pf.Libc, what, missing)
		c.Hint = fix
		return c, ""
	case variantDir == "":
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s: %s has no .node file", pkg, pj.Version, filepath.Base(bare))
		c.Hint = fix
		return c, ""
	}
	vpj, err := readPackageJSON(p.fsys, variantDir)
	if err != nil {
		c.Status, c.Detail, c.Hint = StatusFail, err.Error(), fix
		return c, ""
	}
	v, found, _ := p.checkPick(pick{Path: found, Then: then}, node, libs, p.Deep)
	inside, _ := filepath.Rel(variantDir, found)
	shown := vpj.Name + "/" + filepath.ToSlash(inside)
	if len(v.problems) > 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s %s: %s (its platform package): %s", pkg, pj.Version, shown, v.details())
		c.Hint = v.hints(pkg)
		return c, found
	}
	c.Status = StatusPass
	c.Detail = fmt.Sprintf("%s %s: %s (its platform package): %s", pkg, pj.Version, shown, v.summary)
	v.caveatOn(&c, pkg)
	p.checkPackageEngines(&c, pkg, pj, node)
	return c, found
}

// libcFolders finds a platform package's binaries one folder down, one per
// libc (koffi's @koromix/koffi-linux-x64: linux_x64/koffi.node and
// musl_x64/koffi.node). Its loader takes the one for node's libc, and tries
// the others when that one does not load: the first returned is the one
// for libc, by its folder's name (musl, or not), the others follow.
func libcFolders(fsys *files, dir, libc string) (first string, then []string) {
	entries, _ := fsys.readDir(dir)
	var mine, others []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "node_modules" {
			continue
		}
		f := firstNode(fsys, filepath.Join(dir, e.Name()))
		switch {
		case f == "":
		case strings.Contains(e.Name(), "musl") == (libc == "musl"):
			mine = append(mine, f)
		default:
			others = append(others, f)
		}
	}
	all := append(mine, others...)
	if len(all) == 0 {
		return "", nil
	}
	return all[0], all[1:]
}

// checkPackageEngines warns when a native package's own engines.node
// excludes the running node: unsupported even where it happens to load.
func (p *Preflight) checkPackageEngines(c *Check, pkg string, pj *packageJSON, node *NodeInfo) {
	if !enginesExclude(pj, node) {
		return
	}
	c.Status = StatusWarn
	c.Detail += fmt.Sprintf("; but %s %s declares engines.node %q, which excludes node %s", pkg, pj.Version, pj.Engines.Node, node.Version)
	c.Hint = fmt.Sprintf("Install a version of %s whose engines include node %s (`npm install %s@<version>`; better-sqlite3 11 for Node 18), "+
		"or give the runtime a node that %s %s supports.", pkg, node.Version, pkg, pkg, pj.Version)
}

// enginesExclude reports whether a package's own engines.node excludes
// node's version; false when either is not known.
func enginesExclude(pj *packageJSON, node *NodeInfo) bool {
	if pj.Engines.Node == "" || node == nil || !node.versionKnown() {
		return false
	}
	ok, err := satisfies(node.Version, pj.Engines.Node)
	return err == nil && !ok
}

func rel(dir string, paths []string) []string {
	const modules = "/node_modules/"
	out := make([]string, len(paths))
	for i, p := range paths {
		switch r, err := filepath.Rel(dir, p); {
		case err == nil && !strings.HasPrefix(r, ".."):
			out[i] = r
		case strings.Contains(p, modules):
			// Another package (a platform package, beside dir's or in
			// pnpm's store): by its name.
			out[i] = p[strings.LastIndex(p, modules)+len(modules):]
		default:
			out[i] = p
		}
	}
	return out
}

// verdict is what checking one binary found.
type verdict struct {
	summary  string
	problems []problem
	caveat   *problem // loads, but with a risk the check names (a warning)
}

type problem struct {
	detail, hint string
}

func (v *verdict) add(detail, hint string) { v.problems = append(v.problems, problem{detail, hint}) }

// caveatOn makes a passing check a warning when the binary loads with a
// risk the check names.
func (v *verdict) caveatOn(c *Check, pkg string) {
	if v.caveat != nil {
		c.Status = StatusWarn
		c.Detail += "; " + v.caveat.detail
		c.Hint = strings.ReplaceAll(v.caveat.hint, "{pkg}", pkg)
	}
}

// warn adds a risk the binary loads with.
func (v *verdict) warn(detail, hint string) {
	if v.caveat == nil {
		v.caveat = &problem{detail, hint}
		return
	}
	v.caveat.detail += "; " + detail
	v.caveat.hint += " " + hint
}

// checkAtomics judges the arm64 code of a native module, and of the
// libraries its package brings, that runs ARMv8.1's atomic instructions
// on every CPU (atomics.go): a failure on an ARMv8.0 CPU, and elsewhere a
// warning, for the add-on is installed on such CPUs too. A file whose code
// cannot be read is left to the other checks.
func (p *Preflight) checkAtomics(v *verdict, code []*elfFile) {
	var names []string
	total := 0
	for _, f := range code {
		if n, err := f.unguardedAtomics(); err == nil && n >= atomicsJudged {
			names = append(names, filepath.Base(f.path))
			total += n
		}
	}
	if total == 0 {
		return
	}
	detail := fmt.Sprintf("built for ARMv8.1 or later: %s %s %d of ARMv8.1's atomic %s (LSE) on any CPU, without asking whether it has them",
		strings.Join(names, " and "), plural.Word(len(names), "runs", "run"), total, plural.Word(total, "instruction", "instructions"))
	hint := "Install a release of {pkg} built for ARMv8.0 (armv8-a): pin an earlier one (package.json's \"overrides\" pins a dependency's), or build it from source for armv8-a; and tell its authors."
	var cpu CPU // unknown from outside: the image runs on many
	if p.Image == "" {
		cpu, _ = p.fsys.cpu(cmp.Or(p.CPUInfo, CPUInfo))
	}
	if cpu.armV80() {
		v.add(fmt.Sprintf("%s; %s is ARMv8.0, without them: node dies of SIGILL (Illegal instruction) where it runs one", detail, cpu.describe()), hint)
		return
	}
	where := "it runs here, but"
	if cpu.Arch != "arm64" {
		where = "where the CPU is ARMv8.1 or later it runs, but"
	}
	v.warn(fmt.Sprintf("%s: %s node dies of SIGILL (Illegal instruction) on an ARMv8.0 CPU (%s)", detail, where, armV80Boards), hint)
}

func (v *verdict) details() string {
	d := make([]string, len(v.problems))
	for i, p := range v.problems {
		d[i] = p.detail
	}
	return strings.Join(d, "; ")
}

func (v *verdict) hints(pkg string) string {
	var h []string
	seen := map[string]bool{}
	for _, p := range v.problems {
		hint := strings.ReplaceAll(p.hint, "{pkg}", pkg)
		if hint != "" && !seen[hint] {
			seen[hint] = true
			h = append(h, hint)
		}
	}
	return strings.Join(h, " ")
}

// checkBinary decides whether node could load the binary at path here:
// architecture and class, libc family, registration ABI, Node-API
// functions, libraries, symbol versions, and with deep every symbol.
func (p *Preflight) checkBinary(path string, node *NodeInfo, libs *libResolver, deep bool) verdict {
	var v verdict
	if err := p.RunAs.canRead(p.fsys, path); err != nil {
		v.add(fmt.Sprintf("%v (node runs as %s)", err, p.RunAs),
			fmt.Sprintf("Make node_modules readable by %s: `RUN chmod -R a+rX node_modules` in the runtime stage.", p.RunAs))
		return v
	}
	e, err := openELF(p.fsys, path)
	if errors.Is(err, errNotELF) {
		v.add("not a Linux binary (from another operating system?)",
			"The node_modules came from another machine: run `npm ci` inside backend-builder and keep node_modules out of the build context (.dockerignore).")
		return v
	}
	if err != nil && p.noteShortage(err) {
		v.add(fmt.Sprintf("cannot be checked now: %v", err), shortageHint)
		return v
	}
	if err != nil {
		v.add(fmt.Sprintf("unreadable: %v", err), "Rebuild it in backend-builder: `npm rebuild {pkg}`.")
		return v
	}
	defer e.Close()
	if node == nil {
		v.summary = fmt.Sprintf("%s %s; node unknown, not checked further", archOf(e.h.Machine), e.h.Class)
		return v
	}
	// Behind a script node's CPU and libc are unknown; behind a shim they
	// are the shim's, but node's own files (its symbols, its libraries) are
	// not at hand. The ABI is checked either way: it is node's version's.
	if node.machine != 0 && (e.h.Machine != node.machine || e.h.Class != node.class) {
		v.add(builtForAnother(e.h.Machine, e.h.Class, node),
			"The backend-builder stage ran for another platform than the runtime: build the image per platform (`docker buildx build --platform linux/"+dockerArch(node.Arch)+"`), "+
				"never copy a node_modules built elsewhere, and keep --platform=$BUILDPLATFORM off the stage that compiles native modules.")
		return v
	}
	dyn, err := e.dynamic()
	if err != nil {
		v.add(err.Error(), "Rebuild it in backend-builder: `npm rebuild {pkg}`.")
		return v
	}
	addonLibc := libcOfNeeds(dyn.Needed)
	// A glibc build under musl: musl's loader takes glibc's libraries'
	// names as its own and ignores symbol versions, so the build loads
	// when every symbol it imports resolves (a C addon that uses only
	// what musl's libc has does; bufferutil's linux-x64 prebuild, here,
	// under the real loader). That is resolved below, whatever Deep says.
	glibcOnMusl := addonLibc == "glibc" && node.Libc == "musl" && node.bin != nil
	var libcProblem problem
	if addonLibc != "" && node.Libc != "" && addonLibc != node.Libc {
		hint := "It was compiled against glibc (a Debian or Ubuntu build stage) but the runtime is Alpine (musl): build the backend-builder stage FROM node:<major>-alpine on the runtime's Alpine release, so `npm ci` compiles it for musl."
		if strings.Contains(path, string(filepath.Separator)+"prebuilds"+string(filepath.Separator)) {
			hint = "node-gyp-build picked the glibc prebuild: it picks the musl one only when /etc/alpine-release exists or LIBC=musl is set. On a musl runtime that is not Alpine, set LIBC=musl in the Dockerfile's ENV."
			if p.platformOf(node).ngbLibc() == "musl" {
				// It looked for musl's and found none: the prebuild says no libc.
				hint = fmt.Sprintf("{pkg} ships no musl prebuild for linux-%s, and node-gyp-build took the one that names no libc, built for glibc: "+
					"compile it in backend-builder (FROM node:<major>-alpine on the runtime's Alpine release, with python3, make and g++): `npm rebuild {pkg} --build-from-source`.", node.Arch)
			}
		}
		if addonLibc == "musl" {
			hint = "It was compiled for musl (Alpine) but node here uses glibc: build the backend-builder stage on the same distribution as the runtime."
		}
		libcProblem = problem{fmt.Sprintf("linked against %s, but node here uses %s", addonLibc, node.Libc), hint}
		if !glibcOnMusl {
			v.add(libcProblem.detail, libcProblem.hint)
		}
	}

	abi, err := readAddonABI(e)
	if err != nil {
		v.add(err.Error(), "It is not a node addon, or it is damaged: reinstall {pkg} in backend-builder.")
		return v
	}
	code := []*elfFile{e} // what runs of its package's own
	if node.bin != nil {
		// Where the loader sees it: its RPATH's $ORIGIN is a folder inside
		// the image, as the libraries' paths are.
		self := &loadedLib{Path: p.inside(path), File: e}
		exe := &loadedLib{Path: node.Path, File: node.bin}
		loaded, errs := libs.loadTree(self, exe)
		delete(libs.opened, self.Path)
		for _, l := range loaded {
			if l.File != nil && strings.HasPrefix(l.Path, p.inside(p.app)+"/") {
				code = append(code, l.File)
			}
		}
		if len(errs) > 0 {
			v.add(joinErrors(errs), libraryHint(errs, node.Libc))
		}
		if node.Libc == "glibc" {
			p.checkVersions(&v, e, loaded)
		}
		switch {
		case glibcOnMusl && len(errs) == 0:
			before := len(v.problems)
			p.checkSymbols(&v, abi, node, loaded, libs)
			if len(v.problems) > before {
				v.problems = append(v.problems[:before], append([]problem{libcProblem}, v.problems[before:]...)...)
			} else {
				v.warn(fmt.Sprintf("linked against glibc, but node here uses musl, whose loader resolves all %d of its symbols: node loads it, "+
					"though glibc and musl may differ in what it calls", len(abi.Imports)), libcProblem.hint)
			}
		case glibcOnMusl:
			v.add(libcProblem.detail, libcProblem.hint)
		case deep && len(errs) == 0:
			p.checkSymbols(&v, abi, node, loaded, libs)
		}
	}
	p.checkAtomics(&v, code)
	p.checkPages(&v, code, node.Libc)
	// The ABI last: it waits for node --version, which ran meanwhile.
	v.summary = fmt.Sprintf("%s, %s %s", abiText(abi), orUnknown(addonLibc), archOf(e.h.Machine))
	if node.versionKnown() {
		switch abi.Scheme {
		case schemeV8:
			if abi.ABI == 0 {
				v.add("its NODE_MODULE_VERSION could not be read", "Rebuild it with the runtime's node in backend-builder: `npm rebuild {pkg}`.")
			} else if abi.ABI != node.ABI {
				built := "an unknown Node"
				if m := nodeMajorOfABI(abi.ABI); m > 0 {
					built = fmt.Sprintf("Node %d", m)
				}
				v.add(fmt.Sprintf("compiled for NODE_MODULE_VERSION %d (%s), but node here is %s (NODE_MODULE_VERSION %d)", abi.ABI, built, node.Version, node.ABI),
					fmt.Sprintf("Compile it with the runtime's Node major: the backend-builder stage must be FROM node:%d-alpine (the runtime's `apk add nodejs` gives %s), then `npm ci`, or `npm rebuild {pkg}` there.", node.major, node.Version))
			}
		case schemeNAPI:
			var missing []string
			for _, name := range abi.NAPIImports {
				if node.bin != nil && !node.defines(name) {
					missing = append(missing, name)
				}
			}
			if len(missing) > 0 {
				v.add(fmt.Sprintf("imports Node-API functions node %s lacks: %s", node.Version, strings.Join(first(missing, 5), ", ")),
					"It needs a newer node: raise the runtime's node (a newer Alpine release), or install a version of {pkg} built for an older Node-API.")
			}
			// NAPI_VERSION_EXPERIMENTAL (koffi) is no level: node loads
			// such a module, which may use what node has of the next one.
			if abi.NAPIVersion > node.NAPI && abi.NAPIVersion != napiExperimental {
				v.add(fmt.Sprintf("requires Node-API %d, node %s supports %d", abi.NAPIVersion, node.Version, node.NAPI),
					"It needs a newer node: raise the runtime's node, or install a version of {pkg} built for an older Node-API.")
			}
		}
	}
	switch {
	case len(v.problems) > 0:
	case node.machine == 0:
		v.summary += "; node's CPU and libc unknown (node is behind a script): libraries and symbols not checked further"
	case node.bin == nil:
		v.summary += "; its libraries and symbols not checked further (node is behind a wrapper)"
	default:
		v.summary += fmt.Sprintf(", %d %s found", len(dyn.Needed), plural.Word(len(dyn.Needed), "library", "libraries"))
		if deep {
			v.summary += fmt.Sprintf(", all %d symbols resolve", len(abi.Imports))
		}
	}
	return v
}

func abiText(a addonABI) string {
	if a.Scheme == schemeNAPI {
		if a.NAPIVersion == napiExperimental {
			return "Node-API (experimental)"
		}
		if a.NAPIVersion > 0 {
			return fmt.Sprintf("Node-API %d", a.NAPIVersion)
		}
		return "Node-API"
	}
	return fmt.Sprintf("NODE_MODULE_VERSION %d", a.ABI)
}

func first(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(list[:n:n], fmt.Sprintf("and %d more", len(list)-n))
}

// checkVersions compares the symbol versions the addon needs (GLIBC_*,
// GLIBCXX_*, CXXABI_*) with those its libraries define.
func (p *Preflight) checkVersions(v *verdict, e *elfFile, loaded []*loadedLib) {
	needs, err := e.versionNeeds()
	if err != nil || len(needs) == 0 {
		return
	}
	byName := map[string]*loadedLib{}
	for _, l := range loaded {
		byName[l.Name] = l
	}
	libNames := make([]string, 0, len(needs))
	for lib := range needs {
		libNames = append(libNames, lib)
	}
	sort.Strings(libNames)
	for _, lib := range libNames {
		l := byName[lib]
		if l == nil || l.File == nil {
			continue
		}
		defs, err := l.File.versionDefs()
		if err != nil || len(defs) == 0 {
			continue
		}
		var missing []string
		for _, ver := range needs[lib] {
			if !defs[ver] {
				missing = append(missing, ver)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			v.add(fmt.Sprintf("needs %s from %s, which %s does not define", strings.Join(missing, ", "), lib, l.Path),
				"The runtime's "+lib+" is older than the one it was built against: build backend-builder on the same distribution release as the runtime (same Alpine or Debian version), or use a newer runtime base image.")
		}
	}
}

// checkSymbols resolves every non-weak undefined symbol of the addon in the
// loader's scope: node and its libraries, then the addon's own libraries.
func (p *Preflight) checkSymbols(v *verdict, abi addonABI, node *NodeInfo, loaded []*loadedLib, libs *libResolver) {
	var scope []*elfFile
	var muslLoader *elfFile
	for _, l := range append(append([]*loadedLib(nil), node.scope...), loaded...) {
		if l.File != nil {
			scope = append(scope, l.File)
		} else if muslLoader == nil && node.interp != "" {
			if ld, err := libs.open("ld-musl", node.interp); err == nil {
				muslLoader = ld.File
				scope = append(scope, ld.File)
			}
		}
	}
	var missing []string
	for _, s := range abi.Imports {
		if s.Weak {
			continue
		}
		found := false
		for _, f := range scope {
			if _, ok := f.lookup(s.Name); ok {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		fails := "node would fail with: Error relocating ... symbol not found"
		if node.Libc == "musl" {
			// musl leaves a function it cannot find unbound under node's
			// RTLD_LAZY: the load succeeds, the first call crashes.
			fails = "node would fail with: Error relocating ... symbol not found, or die of SIGSEGV when it calls one"
		}
		v.add(fmt.Sprintf("%d undefined %s resolve nowhere (%s): %s", len(missing), plural.Of(len(missing), "symbol"), fails, strings.Join(first(missing, 5), ", ")),
			"The builder's libraries are newer than the runtime's: build backend-builder FROM node:<major>-alpine<same release as the runtime> so it compiles against the runtime's musl and libraries.")
	}
}

// libraryHint names the packages that provide the missing libraries.
func libraryHint(errs []error, libc string) string {
	var apk, deb, other, ignored []string
	for _, err := range errs {
		var m *missingLibError
		if !errors.As(err, &m) {
			continue
		}
		if errors.As(m.Err, new(*ignoredPathError)) {
			ignored = append(ignored, m.Name)
			continue
		}
		if pkg := apkPackage(m.Name); pkg != "" && libc == "musl" {
			apk = append(apk, pkg)
		} else if pkg := debPackage(m.Name); pkg != "" && libc == "glibc" {
			deb = append(deb, pkg)
		} else {
			other = append(other, m.Name)
		}
	}
	switch {
	case len(ignored) > 0:
		return fmt.Sprintf("node runs in secure-execution mode (see the secure-execution check), where %s is found only through LD_LIBRARY_PATH, which the loader ignores: "+
			"install it in a folder the loader searches on its own (/usr/lib), or let node start outside that mode.", strings.Join(ignored, ", "))
	case len(apk) > 0:
		return fmt.Sprintf("Install it in the runtime stage: `RUN apk add --no-cache %s`.", strings.Join(apk, " "))
	case len(deb) > 0:
		return fmt.Sprintf("Install it in the runtime stage: `RUN apt-get install -y --no-install-recommends %s`.", strings.Join(deb, " "))
	}
	return fmt.Sprintf("Install the package that provides %s in the runtime stage, or put its folder in LD_LIBRARY_PATH.", strings.Join(other, ", "))
}

func joinErrors(errs []error) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// nativeCandidate is a package folder with a native marker: binding.gyp,
// CMakeLists.txt, prebuilds/, build/Release/, a top-level .node, or a
// per-platform package name.
type nativeCandidate struct {
	dir     string
	entries []os.DirEntry
}

// scanWorkers is how many package folders are read at once: the walk is
// all directory reads, which overlap well even on two cores.
const scanWorkers = 4

// findNativePackages walks each node_modules the app's require() looks
// in, its own and each one above it (where npm, Yarn and pnpm workspaces
// hoist dependencies), for package folders (scoped ones and nested
// node_modules included), reading each folder once and not descending into
// packages. Above the app, a package that is a link to the app itself or a
// folder around it (npm's link to a workspace) is not walked again. It
// runs while node --version does.
func findNativePackages(fsys *files, app string, catch func(func())) []nativeCandidate {
	var (
		mu  sync.Mutex
		out []nativeCandidate
		wg  sync.WaitGroup
		sem = make(chan struct{}, scanWorkers)
	)
	realApp, err := fsys.evalSymlinks(app)
	if err != nil {
		realApp = app
	}
	var visitModules func(nm string, depth int, above bool)
	visitPackage := func(dir string, depth int) {
		entries, err := fsys.readDir(dir)
		if err != nil {
			return
		}
		native := platformPackage(filepath.Base(dir))
		for _, e := range entries {
			n := e.Name()
			switch {
			case n == "node_modules" && e.IsDir():
				visitModules(filepath.Join(dir, n), depth+1, false)
			case n == "binding.gyp", n == "prebuilds", strings.HasSuffix(n, ".node"):
				native = true
			case n == "CMakeLists.txt":
				native = true // cmake-js's and cmake-ts's builds (zeromq)
			case n == "build" && e.IsDir() && !native:
				// A binary in build/Release with no other marker (oracledb's,
				// one for each platform): a stat, for the packages with a
				// build folder only.
				if st, err := fsys.stat(filepath.Join(dir, n, "Release")); err == nil && st.IsDir() {
					native = true
				}
			}
		}
		if native {
			mu.Lock()
			out = append(out, nativeCandidate{dir, entries})
			mu.Unlock()
		}
	}
	spawn := func(dir string, depth int, link bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			catch(func() {
				if link {
					if real, err := fsys.evalSymlinks(dir); err == nil && (real == realApp || strings.HasPrefix(realApp, real+string(filepath.Separator))) {
						return // the app, walked from its own node_modules
					}
				}
				visitPackage(dir, depth)
			})
		}()
	}
	visitModules = func(nm string, depth int, above bool) {
		if depth > 8 {
			return
		}
		entries, err := fsys.readDir(nm)
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || !e.IsDir() && e.Type()&os.ModeSymlink == 0 {
				continue
			}
			if strings.HasPrefix(name, "@") {
				scoped, _ := fsys.readDir(filepath.Join(nm, name))
				for _, s := range scoped {
					spawn(filepath.Join(nm, name, s.Name()), depth, above && s.Type()&os.ModeSymlink != 0)
				}
				continue
			}
			spawn(filepath.Join(nm, name), depth, above && e.Type()&os.ModeSymlink != 0)
		}
	}
	// The folders require() looks in, as resolvePackage walks them.
	for d := app; ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			visitModules(filepath.Join(d, "node_modules"), 0, d != app)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

// variantParent is the package that lists the platform package name in its
// optionalDependencies, named as the platform package is without its
// platform: @napi-rs/nice for @napi-rs/nice-linux-x64-musl, and sharp, of
// no scope, for @img/sharp-linuxmusl-x64. "" when there is none.
func (p *Preflight) variantParent(name string) string {
	stem := variantStem(name)
	if stem == "" {
		return ""
	}
	for _, parent := range []string{stem, path.Base(stem)} {
		dir, _, err := resolvePackage(p.fsys, p.app, parent)
		if err != nil {
			continue
		}
		if pj, err := readPackageJSON(p.fsys, dir); err == nil && pj.OptionalDependencies[name] != "" {
			return parent
		}
	}
	return ""
}

// variantStem is a platform package's name without its platform:
// @img/sharp for @img/sharp-linuxmusl-x64; "" for another name.
func variantStem(name string) string {
	if i := strings.LastIndex(name, "-linux"); i > 0 {
		return name[:i]
	}
	return ""
}

// scanNative warns about any other .node in node_modules that its loader
// would pick and that would not load.
func (p *Preflight) scanNative(node *NodeInfo, libs *libResolver, checked map[string]bool, candidates []nativeCandidate) Check {
	c := Check{Name: "native-scan", Status: StatusPass}
	pf := p.platformOf(node)
	var bad, hints []string
	count := 0
	parents, stems := map[string]bool{}, map[string]bool{}
	for _, cand := range candidates {
		pj, err := readPackageJSON(p.fsys, cand.dir)
		if err != nil {
			continue
		}
		pk := pickBinary(p.fsys, cand.dir, pj, cand.entries, pf)
		if pk.Loader == "" && !platformPackage(filepath.Base(cand.dir)) && len(pj.OS)+len(pj.CPU)+len(pj.Libc) == 0 {
			// No loader marks it (oracledb's build/Release): what its code
			// requires, as a named package is checked. Not a package for
			// some platform, whose parent picks it or not.
			pk = plainRequire(p.fsys, cand.dir, pf)
		}
		if pk.Path == "" {
			// A platform package for another platform: does its parent
			// have the one for this platform? Looked for once per name
			// without the platform, as a parent lists one for each; a
			// parent named in LAUNCHER_NATIVE_MODULES is checked on its own.
			stem := variantStem(pj.Name)
			if stem == "" || stems[stem] {
				continue
			}
			stems[stem] = true
			if parent := p.variantParent(pj.Name); parent != "" && !parents[parent] && !checked[parent] {
				parents[parent] = true
				if c, _ := p.checkNative(parent, node, libs); c.Status == StatusFail {
					count++
					bad = append(bad, c.Detail)
					hints = append(hints, c.Hint)
				}
			}
			continue
		}
		if slices.ContainsFunc(slices.Concat([]string{pk.Path}, pk.Then, pk.Also), func(path string) bool {
			real, err := p.fsys.evalSymlinks(path)
			return err == nil && checked[real]
		}) {
			continue // a required module, checked on its own
		}
		count++
		if node == nil || libs == nil {
			continue
		}
		if v, path, _ := p.checkPick(pk, node, libs, false); len(v.problems) > 0 {
			name := pj.Name
			if name == "" {
				name = filepath.Base(cand.dir)
			}
			bad = append(bad, fmt.Sprintf("%s (%s): %s", name, rel(cand.dir, []string{path})[0], v.details()))
			hints = append(hints, v.hints(name))
		}
	}
	if len(bad) > 0 {
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("%d of %d other native %s would not load: %s", len(bad), count, plural.Of(count, "module"), strings.Join(bad, "; "))
		c.Hint = strings.Join(hints, " ")
		return c
	}
	c.Detail = fmt.Sprintf("%d other native %s in node_modules, all would load", count, plural.Of(count, "module"))
	return c
}
