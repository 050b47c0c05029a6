package preflight

import (
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// User is who node runs as, for checking that it can read what it must.
type User struct {
	UID, GID uint32
	Groups   []uint32
	Name     string // empty for a bare uid
}

func (u *User) String() string {
	if u == nil {
		return "the launcher's user"
	}
	if u.Name != "" {
		return fmt.Sprintf("%s (uid %d)", u.Name, u.UID)
	}
	return fmt.Sprintf("uid %d", u.UID)
}

// credential is u for a process to run as; nil for the launcher's own.
func (u *User) credential() *syscall.Credential {
	if u == nil {
		return nil
	}
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}
}

func (u *User) owner() string {
	if u.Name != "" {
		return u.Name
	}
	return fmt.Sprintf("%d:%d", u.UID, u.GID)
}

// canRead reports whether u may read path, as the kernel's permission
// check would decide it for u: every folder above searchable, the file
// readable. Root, and the launcher's own user (nil), may.
func (u *User) canRead(fsys *files, path string) error {
	if u == nil || u.UID == 0 {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for dir := range foldersAbove(abs) {
		if !u.may(fsys, dir, 1) {
			return fmt.Errorf("%s cannot enter %s", u, dir)
		}
	}
	if !u.may(fsys, abs, 4) {
		return fmt.Errorf("not readable by %s", u)
	}
	return nil
}

// foldersAbove yields the folders a path's lookup enters, from the top:
// /app, /app/backend for /app/backend/index.js.
func foldersAbove(path string) iter.Seq[string] {
	return func(yield func(string) bool) {
		dir := string(filepath.Separator)
		for p := range strings.SplitSeq(filepath.Dir(path), string(filepath.Separator)) {
			if p == "" {
				continue
			}
			dir = filepath.Join(dir, p)
			if !yield(dir) {
				return
			}
		}
	}
}

// may reports whether u has permission bit want (4 read, 1 execute or
// search) on path by its owner, group and other bits.
func (u *User) may(fsys *files, path string, want uint32) bool {
	fi, err := fsys.stat(path)
	if err != nil {
		return os.IsNotExist(err) // a missing file is another check's to report
	}
	return u.allows(fi, want)
}

// allows reports whether fi's owner, group and other bits give u the
// permission bits want (4 read, 2 write, 1 execute or search). Root
// passes every bit but execute, which one of the three must have.
func (u *User) allows(fi fs.FileInfo, want uint32) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // bits unknown: not theirs to refuse
	}
	mode := uint32(st.Mode)
	switch {
	case u.UID == 0:
		return want&1 == 0 || mode&0o111 != 0 || fi.IsDir()
	case st.Uid == u.UID:
		return mode>>6&want == want
	case u.inGroup(st.Gid):
		return mode>>3&want == want
	}
	return mode&want == want
}

func (u *User) inGroup(gid uint32) bool {
	if gid == u.GID {
		return true
	}
	for _, g := range u.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
