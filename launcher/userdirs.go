package launcher

import (
	"errors"
	"io/fs"
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
func giveDir(dir string, c *config.Credential, keep string) (given int, first error) {
	failed := func(err error) {
		if first == nil {
			first = err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	// The folder itself may be a link (to the disk the data is on):
	// followed once, at the top.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0, err
	}
	var top unix.Stat_t
	if err := unix.Stat(root, &top); err != nil {
		return 0, &os.PathError{Op: "stat", Path: root, Err: err}
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		var st unix.Stat_t
		if err == nil {
			if e := unix.Lstat(path, &st); e != nil {
				err = &os.PathError{Op: "lstat", Path: path, Err: e}
			}
		}
		if err != nil {
			failed(err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case st.Dev != top.Dev:
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case path == keep, st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1:
			return nil
		case st.Uid == c.UID && st.Gid == c.GID:
			return nil
		}
		if err := unix.Lchown(path, int(c.UID), int(c.GID)); err != nil {
			failed(&os.PathError{Op: "chown", Path: path, Err: err})
			return nil
		}
		given++
		return nil
	})
	return given, first
}
