// Package disk tells how the filesystem under a folder stands: its size,
// the room left in it, and whether it is mounted read-only. The add-on's
// database lives on the machine's disk, often an SD card, and a full, a
// read-only or a failing disk is how an add-on on a Raspberry Pi most
// often breaks for good; the launcher says so with figures.
//
// Non-goals: quotas, which file fills the disk, and the disk's health
// (the host's kernel log tells it; a container does not see it).
package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/bytesize"
)

// Usage is how the filesystem under Folder stands, as statfs(2) tells.
type Usage struct {
	// Folder is the folder asked about, or its nearest existing parent:
	// a file that was never created is still written to that filesystem.
	Folder string
	// Size and Avail are bytes: Avail is what a writer other than root
	// may still take (df's "Avail"; root may also take what ext4 reserves).
	Size, Avail uint64
	// Files is how many files the filesystem can hold (0 when it sets no
	// bound, as btrfs does) and FilesFree how many more it takes.
	Files, FilesFree uint64
	// ReadOnly tells a filesystem that takes no writes: by the mount's
	// flag (Stat), or by its own answer (Probe).
	ReadOnly bool
	// Memory tells a filesystem kept in memory (tmpfs): bounded by its
	// own size, not the disk's.
	Memory bool
	// NoExec tells a filesystem mounted noexec: no program on it runs.
	NoExec bool
}

// low is the room under which a disk counts as full, or a hundredth of
// it on a disk smaller than 6.4GiB: the last few MiB go to whoever asks
// first, and an app that writes steadily fails soon after.
const low = 64 << 20

// Stat tells how the filesystem under folder stands, as statfs(2) and the
// kernel's table of mounts tell: ReadOnly is the mount's flag, or its
// filesystem's options. It writes nothing: for sampling.
func Stat(folder string) (Usage, error) {
	dir, dev, err := existing(folder)
	if err != nil {
		return Usage{}, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Usage{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := uint64(st.Bsize)
	if st.Frsize > 0 {
		bs = uint64(st.Frsize)
	}
	return Usage{
		Folder: dir,
		Size:   st.Blocks * bs, Avail: st.Bavail * bs,
		Files: st.Files, FilesFree: st.Ffree,
		ReadOnly: st.Flags&unix.ST_RDONLY != 0 || mountedReadOnly(dev),
		Memory:   st.Type == unix.TMPFS_MAGIC,
		NoExec:   st.Flags&unix.ST_NOEXEC != 0,
	}, nil
}

// mountedReadOnly tells, from /proc/self/mountinfo, the filesystem of
// device dev whose own options say it takes no writes: "ro", or ext4's
// "emergency_ro" for a disk it stopped writing after an error, which
// statfs does not show.
func mountedReadOnly(dev uint64) bool {
	table, err := os.ReadFile("/proc/self/mountinfo")
	return err == nil && superReadOnly(table, unix.Major(dev), unix.Minor(dev))
}

// superReadOnly reads a mountinfo table (proc_pid_mountinfo(5)): whether a
// line of the filesystem major:minor has "ro" or "emergency_ro" among its
// filesystem's options, the fields after the " - " separator: type,
// source, options. A mount's own flags come before it, and statfs gives
// those.
func superReadOnly(table []byte, major, minor uint32) bool {
	id := fmt.Sprintf("%d:%d", major, minor)
	for line := range strings.SplitSeq(string(table), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != id {
			continue
		}
		_, after, ok := strings.Cut(line, " - ")
		if tail := strings.Fields(after); ok && len(tail) >= 3 {
			for opt := range strings.SplitSeq(tail[2], ",") {
				if opt == "ro" || opt == "emergency_ro" {
					return true
				}
			}
		}
	}
	return false
}

// Probe is Stat, and asks the filesystem itself whether it takes a new
// file, for what neither statfs nor the mounts' table says: for a
// diagnosis and the start, not for sampling (on ext4 a file made and
// dropped is a write to the journal).
func Probe(folder string) (Usage, error) {
	u, err := Stat(folder)
	if err == nil && !u.ReadOnly {
		u.ReadOnly = refusesFiles(u.Folder)
	}
	return u, err
}

// refusesFiles tells a filesystem that refuses a new file as read-only.
// A disk that Linux stopped writing after an error can be read-only
// without its mount saying so: ext4 under errors=remount-ro marks it
// emergency_ro (since 2025's kernels, stable releases included), which
// statfs does not show and the mounts' table does only where ext4 lists
// it (the same year's change). A file opened without a name (O_TMPFILE)
// and closed at once asks the filesystem itself and leaves nothing behind;
// a filesystem that has no such files (EOPNOTSUPP), or a folder the
// launcher may not write, says nothing either way.
func refusesFiles(dir string) bool {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err == nil {
		unix.Close(fd)
	}
	return err == unix.EROFS
}

// existing is folder, or the nearest parent of it that exists, and the
// device of the filesystem it is on.
func existing(folder string) (string, uint64, error) {
	if folder == "" {
		return "", 0, errors.New("no folder")
	}
	dir := filepath.Clean(folder)
	for {
		var st unix.Stat_t
		err := unix.Stat(dir, &st)
		if err == nil {
			return dir, st.Dev, nil
		} else if err != unix.ENOENT {
			return "", 0, &os.PathError{Op: "stat", Path: dir, Err: err}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", 0, fmt.Errorf("%s: no part of it exists", folder)
		}
		dir = parent
	}
}

// NoFiles tells a filesystem that has room for bytes but none for a new
// file: every inode taken, which df -h does not show.
func (u Usage) NoFiles() bool { return u.Files > 0 && u.FilesFree == 0 }

// Full tells a filesystem with less than low left (a hundredth of a small
// one), or no room for a file.
func (u Usage) Full() bool { return u.Avail < min(low, u.Size/100) || u.NoFiles() }

// String says how much room is left: "/data has 1.2GiB free of 29.0GiB",
// or that no file fits.
func (u Usage) String() string {
	if u.NoFiles() {
		return fmt.Sprintf("%s has no room for a new file (all %d inodes taken; %s free)", u.Folder, u.Files, bytesize.Format(int64(u.Avail)))
	}
	return fmt.Sprintf("%s has %s free of %s", u.Folder, bytesize.Format(int64(u.Avail)), bytesize.Format(int64(u.Size)))
}
