package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/config"
)

// GiveUserDirs gives each folder of dirs (LAUNCHER_USER_DIRS), and what is
// in it, to node's user c, before node runs. The Supervisor mounts an
// add-on's /data, and the folders its config.yaml maps, root's, and what
// an earlier version of the add-on wrote there as root stays root's:
// node running as LAUNCHER_USER could not write its own data, and only
// root can give it. An image whose entrypoint is a script does it there
// (s6-overlay's add-ons in a cont-init script); the launcher has none.
//
// It changes owners only, never modes, of the folder (made when missing)
// and of each file and folder under it on the same filesystem, without
// following links: a filesystem mounted inside is not the folder's to
// give, a link's target neither, and a file of several hard links may be
// one outside (left as it is). keep (the preflight's record, the
// launcher's own file) stays as it is. It returns how many it gave, and
// each folder's first failure, having given what it could.
func GiveUserDirs(dirs []string, c *config.Credential, keep string) (given int, err error) {
	if k, err := filepath.EvalSymlinks(keep); err == nil {
		keep = k
	}
	var failures []string
	for _, dir := range dirs {
		n, err := giveDir(dir, c, keep)
		given += n
		if err != nil {
			failures = append(failures, err.Error())
		}
	}
	if len(failures) > 0 {
		// One line for the log: errors.Join would break it.
		return given, errors.New(strings.Join(failures, "; "))
	}
	return given, nil
}

// giveDir gives dir and what is under it on its filesystem to c, but keep;
// a failure is kept and the walk goes on.
//
// It walks by descriptors, as chown -R does with fts: each folder is
// opened from its parent's descriptor without following a link, and each
// entry is read and given relative to it. A path walked again from the
// top for each file (lchown) follows a link that replaced a folder on the
// way since it was read, and gives the link's target: anyone who may
// write under dir (node's user, once given it) could aim it anywhere.
func giveDir(dir string, c *config.Credential, keep string) (given int, first error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	// The folder itself may be a link (to the disk the data is on):
	// followed once, at the top.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0, err
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(fd)
	var top unix.Stat_t
	if err := unix.Fstat(fd, &top); err != nil {
		return 0, &os.PathError{Op: "stat", Path: root, Err: err}
	}
	w := &giving{c: c, keep: keep, dev: top.Dev}
	if w.owes(&top) {
		w.give(unix.Fchown(fd, int(c.UID), int(c.GID)), root)
	}
	w.walk(fd, root)
	return w.given, w.first
}

// giving is one folder's walk: to whom, what stays, on which filesystem,
// and what it gave and first failed.
type giving struct {
	c     *config.Credential
	keep  string
	dev   uint64
	given int
	first error
}

// owes tells a file of the folder's filesystem not yet c's, and not kept:
// a file of several hard links may be one outside the folder.
func (w *giving) owes(st *unix.Stat_t) bool {
	return st.Dev == w.dev && (st.Uid != w.c.UID || st.Gid != w.c.GID) &&
		!(st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1)
}

// give counts a change of owner at path, or keeps its failure.
func (w *giving) give(err error, path string) {
	switch {
	case err == nil:
		w.given++
	case w.first == nil:
		w.first = &os.PathError{Op: "chown", Path: path, Err: err}
	}
}

// failed keeps a failure to read path.
func (w *giving) failed(op, path string, err error) {
	if w.first == nil {
		w.first = &os.PathError{Op: op, Path: path, Err: err}
	}
}

// walk gives what is in the folder open at fd, at path, and descends into
// its folders of the same filesystem.
func (w *giving) walk(fd int, path string) {
	// ReadDir on a second descriptor: the os.File closes its own.
	dup, err := unix.Dup(fd)
	if err != nil {
		w.failed("dup", path, err)
		return
	}
	f := os.NewFile(uintptr(dup), path)
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		w.failed("readdir", path, err)
	}
	for _, e := range entries {
		name, at := e.Name(), filepath.Join(path, e.Name())
		if at == w.keep {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			w.failed("lstat", at, err)
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if w.owes(&st) {
				w.give(unix.Fchownat(fd, name, int(w.c.UID), int(w.c.GID), unix.AT_SYMLINK_NOFOLLOW), at)
			}
			continue
		}
		if st.Dev != w.dev {
			continue // a filesystem mounted here: not the folder's to give
		}
		child, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			w.failed("open", at, err)
			continue
		}
		// The folder opened is the one read, not one put in its place.
		var opened unix.Stat_t
		if err := unix.Fstat(child, &opened); err != nil || opened.Dev != st.Dev || opened.Ino != st.Ino {
			unix.Close(child)
			continue
		}
		if w.owes(&opened) {
			w.give(unix.Fchown(child, int(w.c.UID), int(w.c.GID)), at)
		}
		w.walk(child, at)
		unix.Close(child)
	}
}
