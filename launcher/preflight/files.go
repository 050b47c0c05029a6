package preflight

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hasync/launcher/launcher/regular"
	"github.com/hasync/launcher/launcher/shortage"
)

// resolveIn is where this process reaches path p of the image rooted at
// root: each component in turn, a symlink's target resolved inside the root
// too (an absolute target starts again from the root, never from this
// machine's /), as the container would see it. With root "" or "/", p.
func resolveIn(fsys *files, root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	parts := strings.Split(filepath.Clean("/"+p), "/")
	cur := "/"
	for hops := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, part)
		target, err := fsys.readlink(filepath.Join(root, next))
		if err != nil { // not a link, or not there: taken as it is
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return filepath.Join(root, next) // a loop: let the open fail
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		parts = append(strings.Split(filepath.Clean(target), "/"), parts...)
		cur = "/"
	}
	return filepath.Join(root, cur)
}

// imagePATH is where node is looked for in an image: the PATH of the node
// and Home Assistant base images.
const imagePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPathIn finds name as the image's shell would: a path as it is, else
// in the image's PATH. It returns the path inside the image and where this
// process reaches it.
func lookPathIn(fsys *files, root, name string) (path, host string, err error) {
	var candidates []string
	if strings.ContainsRune(name, '/') {
		candidates = []string{name}
	} else {
		for _, d := range strings.Split(imagePATH, ":") {
			candidates = append(candidates, filepath.Join(d, name))
		}
	}
	for _, c := range candidates {
		h := resolveIn(fsys, root, c)
		if st, err := fsys.stat(h); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c, h, nil
		}
	}
	return "", "", fs.ErrNotExist
}

// files is the checks' one way to the filesystem: every open, listing,
// lookup (a failed one too), symlink and PATH search goes through it, and
// nothing else in the package touches a file (TestFiles_TheOnlyWayToTheDisk
// holds that). When noting, it keeps what each access saw, so that a later
// start can tell whether anything the report was made of has changed
// (record.go). A nil *files reads without noting.
type files struct {
	mu   sync.Mutex
	seen map[access]string
	// moved is set when one access saw a path two ways in one run: it
	// changed while the checks read it, and the report may hold both.
	moved bool
	// short, when set, is marked by an access that failed for a shortage
	// of descriptors, processes or memory.
	short *atomic.Bool
	// packages are the package.json files read in this run, parsed, by
	// folder: the imports walk, the ES module graphs it follows and the
	// native checks ask for the same ones again and again.
	packages map[string]packageRead
}

// packageRead is a package.json as read once: what it holds, or why not.
type packageRead struct {
	pj  *packageJSON
	err error
}

// access is one way the checks looked at a path. Each op is observed again
// by a cheap call that changes whenever what the checks learned could have:
//
//	stat         the file's identity, or the error (a failed lookup)
//	file         read: the identity of what was opened (content changes ctime)
//	dir          listed: the folder's identity (an entry added, removed or
//	             renamed changes its mtime)
//	link, real   a symlink's target; a path with every symlink resolved
//	glob, path   a pattern's matches; a command's place in PATH
//	cpu          the machine's processor (/proc/cpuinfo), as far as the
//	             checks judge it: its architecture and ARMv8.1's atomics
type access struct{ Op, Path string }

func noting() *files { return &files{seen: map[access]string{}} }

// unnoted reads what makes no record: the guess at node's version (the
// report is always on node's answer), an image checked from outside
// (never recalled), and a record's reads looked at again.
var unnoted *files

func (fsys *files) note(op, path, seen string, err error) {
	if fsys == nil {
		return
	}
	// Whatever check meets a shortage of the moment, and whether it fails
	// on it or goes on without the file, the report may be wrong for it:
	// the run is marked short.
	if err != nil && fsys.short != nil && shortage.Is(err) {
		fsys.short.Store(true)
	}
	a := access{op, path}
	fsys.mu.Lock()
	if before, ok := fsys.seen[a]; ok && before != seen {
		fsys.moved = true
	}
	fsys.seen[a] = seen
	fsys.mu.Unlock()
}

// identity is what a file's metadata says of its content: the inode, size,
// mode and owner, and the modification and change times, which the kernel
// moves on every write, rename, chmod or chown. Not the device: overlayfs
// gives each container's mount its own, and the inode is the layer's file's.
func identity(st fs.FileInfo) string {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "?" // never seen again: not recalled
	}
	return identityOf(s)
}

// identityOf is identity's text. It is made with strconv, not fmt: a
// recall makes one per read (a thousand for a backend of 600 packages).
func identityOf(s *syscall.Stat_t) string {
	b := make([]byte, 0, 112)
	b = append(b, "mode "...)
	b = strconv.AppendUint(b, uint64(s.Mode), 8)
	b = append(b, " ino "...)
	b = strconv.AppendUint(b, s.Ino, 10)
	b = append(b, " size "...)
	b = strconv.AppendInt(b, s.Size, 10)
	b = append(b, " uid "...)
	b = strconv.AppendUint(b, uint64(s.Uid), 10)
	b = append(b, " gid "...)
	b = strconv.AppendUint(b, uint64(s.Gid), 10)
	b = appendTime(append(b, " m "...), s.Mtim)
	b = appendTime(append(b, " c "...), s.Ctim)
	return string(b)
}

// appendTime appends t as seconds, a point and nine digits of nanoseconds.
func appendTime(b []byte, t syscall.Timespec) []byte {
	b = strconv.AppendInt(b, t.Sec, 10)
	ns := strconv.AppendInt(make([]byte, 0, 9), t.Nsec, 10)
	b = append(b, '.')
	for range 9 - len(ns) {
		b = append(b, '0')
	}
	return append(b, ns...)
}

// failure is what a failed access saw, by its errno alone (the message
// names the path, which the access already does).
func failure(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return "error " + errno.Error()
	}
	return "error " + err.Error()
}

func statSeen(st fs.FileInfo, err error) string {
	if err != nil {
		return failure(err)
	}
	return identity(st)
}

func (fsys *files) stat(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	fsys.note("stat", path, statSeen(st, err), err)
	return st, err
}

// open opens a file the checks read, refusing without blocking anything
// that is not a regular file (package regular), and notes what it saw.
func (fsys *files) open(path string) (*os.File, fs.FileInfo, error) {
	f, st, err := regular.Open(path)
	if st != nil {
		fsys.note("file", path, identity(st), nil)
	} else {
		fsys.note("file", path, failure(err), err)
	}
	return f, st, err
}

// readFile reads a whole file, at most max bytes (larger is an error).
func (fsys *files) readFile(path string, max int64) ([]byte, error) {
	f, st, err := fsys.open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return regular.Read(f, st, max)
}

// readDir lists a folder in name order. The folder's identity is taken
// before the listing, so an entry added meanwhile shows as a change later.
// O_DIRECTORY: what is not a folder is refused by the open itself (ENOTDIR),
// before a FIFO's open would wait for a writer (a package folder, or a
// symlink to one, that is a FIFO held the check for ever).
func (fsys *files) readDir(path string) ([]os.DirEntry, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if errors.Is(err, syscall.ENOTDIR) {
		// Noted as a later start observes it: by what a stat sees.
		st, serr := os.Stat(path)
		fsys.note("dir", path, statSeen(st, serr), serr)
		return nil, err
	}
	if err != nil {
		fsys.note("dir", path, failure(err), err)
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	fsys.note("dir", path, statSeen(st, err), err)
	if err != nil {
		return nil, err
	}
	list, err := f.ReadDir(-1)
	sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
	return list, err
}

func (fsys *files) readlink(path string) (string, error) {
	target, err := os.Readlink(path)
	fsys.note("link", path, result(target, err), err)
	return target, err
}

func (fsys *files) evalSymlinks(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	fsys.note("real", path, result(real, err), err)
	return real, err
}

func (fsys *files) glob(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	fsys.note("glob", pattern, result(strings.Join(matches, "\x00"), err), err)
	return matches, err
}

func (fsys *files) lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	fsys.note("path", name, result(path, err), err)
	return path, err
}

func result(s string, err error) string {
	if err != nil {
		return failure(err)
	}
	return "= " + s
}

// observe looks at an access again, without noting, and returns what it
// sees now, in the form the access noted; false for an op it does not know.
func observe(a access) (string, bool) {
	switch a.Op {
	case "stat", "file", "dir":
		var st syscall.Stat_t // not os.Stat: no FileInfo to allocate per read
		for {
			err := syscall.Stat(a.Path, &st)
			switch {
			case err == syscall.EINTR:
				continue
			case err != nil:
				return failure(err), true
			}
			return identityOf(&st), true
		}
	case "link":
		return result(unnoted.readlink(a.Path)), true
	case "real":
		return result(unnoted.evalSymlinks(a.Path)), true
	case "glob":
		m, err := unnoted.glob(a.Path)
		return result(strings.Join(m, "\x00"), err), true
	case "path":
		return result(unnoted.lookPath(a.Path)), true
	case "cpu":
		c, err := ReadCPU(a.Path)
		return cpuSeen(c, err), true
	}
	return "", false
}

// ReadCPU reads and parses the machine's /proc/cpuinfo at path.
func ReadCPU(path string) (CPU, error) {
	f, err := os.Open(path)
	if err != nil {
		return CPU{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCPUInfo))
	if err != nil {
		return CPU{}, err
	}
	return ParseCPUInfo(b), nil
}

// cpu reads the machine's processor from path (/proc/cpuinfo).
func (fsys *files) cpu(path string) (CPU, error) {
	c, err := ReadCPU(path)
	fsys.note("cpu", path, cpuSeen(c, err), err)
	return c, err
}

func cpuSeen(c CPU, err error) string {
	if err != nil {
		return failure(err)
	}
	return fmt.Sprintf("arch %q atomics %t", c.Arch, c.Features["atomics"])
}
