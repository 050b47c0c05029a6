// Package disktest makes disks for tests, for real, as the add-on meets
// them on a Raspberry Pi: ext4 on a loop device, mounted with
// errors=remount-ro as an SD card's data partition is, which the test may
// fill, have the kernel fail, or have read slowly; and filesystems in
// memory (tmpfs). It needs root, loop devices and e2fsprogs: where they
// are missing a test skips, but not under CI, which must run it.
package disktest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Disk is an ext4 filesystem in a file, mounted through a loop device for
// the test's length.
type Disk struct {
	Dir  string // where it is mounted
	name string // the loop device's name: loop3
}

// Ext4 makes a disk of size bytes.
func Ext4(t testing.TB, size int64) *Disk {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput()
	need(t, "mkfs.ext4", err, out)
	out, err = exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	need(t, "losetup", err, out)
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	d := &Disk{Dir: t.TempDir(), name: filepath.Base(dev)}
	out, err = exec.Command("mount", "-o", "errors=remount-ro", dev, d.Dir).CombinedOutput()
	need(t, "mount", err, out)
	t.Cleanup(func() { _ = unix.Unmount(d.Dir, unix.MNT_DETACH) })
	return d
}

// Freeze holds every write to the disk until the test thaws it or ends,
// as a card whose writes hang holds them: a writer sleeps in the kernel,
// uninterruptibly, where the write asks to change the disk (fsfreeze's
// FIFREEZE). Reads go on.
func (d *Disk) Freeze(t testing.TB) (thaw func()) {
	t.Helper()
	f, err := os.Open(d.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), fifreeze, 0); err != nil {
		f.Close()
		t.Fatalf("freeze %s: %v", d.Dir, err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			_ = unix.IoctlSetInt(int(f.Fd()), fithaw, 0)
			f.Close()
		})
	}
	t.Cleanup(thaw) // before the unmount, registered earlier
	return thaw
}

// fsfreeze's ioctls, _IOWR('X', 119, int) and _IOWR('X', 120, int), the
// same on every architecture Linux runs the add-on on; x/sys/unix does not
// name them.
const (
	fifreeze = 0xc0045877
	fithaw   = 0xc0045878
)

// Device is the disk's block device: /dev/loop3.
func (d *Disk) Device() string { return "/dev/" + d.name }

// Fail makes the kernel take an error on the disk, as it does when a
// failing card refuses a write: ext4 reports it and, under
// errors=remount-ro, writes the disk no more.
func (d *Disk) Fail(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("/sys/fs/ext4", d.name, "trigger_fs_error"), []byte("a test fails the disk"), 0o200); err != nil {
		t.Fatal(err)
	}
}

// Fill writes a file on the disk until it takes no more, as root: the
// blocks ext4 keeps for root too.
func (d *Disk) Fill(t testing.TB) {
	t.Helper()
	f, err := os.Create(filepath.Join(d.Dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// What delayed allocation still holds goes to the disk, or fails here.
	_ = f.Sync()
}

// Slow has reads of the disk take time, as a worn SD card's do: the
// processes put in the cgroup whose procs file it returns read it at
// bytesPerSecond at most, by the kernel's block throttle (cgroup v1's
// blkio, or v2's io). The test puts a process there before it starts what
// should read slowly: its children are born in it. Where the throttle is
// not at hand the test skips, under CI too: how a machine mounts its
// cgroups is the machine's, not the project's.
func (d *Disk) Slow(t testing.TB, bytesPerSecond int64) (procs string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(d.Device(), &st); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	name := fmt.Sprintf("disktest-%d-%s", os.Getpid(), d.name)
	try := func(root, file, line string) (string, error) {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", err
		}
		t.Cleanup(func() { _ = os.Remove(dir) })
		if err := os.WriteFile(filepath.Join(dir, file), []byte(line), 0o644); err != nil {
			return "", err
		}
		return filepath.Join(dir, "cgroup.procs"), nil
	}
	v1, err1 := try("/sys/fs/cgroup/blkio", "blkio.throttle.read_bps_device", fmt.Sprintf("%s %d", dev, bytesPerSecond))
	if err1 == nil {
		return v1
	}
	// v2: the root's children get the io controller only when asked.
	_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+io"), 0o644)
	v2, err2 := try("/sys/fs/cgroup", "io.max", fmt.Sprintf("%s rbps=%d", dev, bytesPerSecond))
	if err2 == nil {
		return v2
	}
	t.Skipf("the kernel's block throttle is not at hand: cgroup v1 blkio: %v; v2 io: %v", err1, err2)
	return ""
}

// Cold puts the file at path out of the page cache, written back first
// (the kernel drops clean pages alone): its next read reads the disk.
func Cold(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// Tmpfs mounts a filesystem in memory for the test, with tmpfs's options
// ("size=1m,nr_inodes=4").
func Tmpfs(t testing.TB, options string) string {
	t.Helper()
	dir := t.TempDir()
	err := unix.Mount("tmpfs", dir, "tmpfs", 0, options)
	need(t, "mount tmpfs", err, nil)
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// need skips a test that cannot make its disk here, or fails it under CI.
func need(t testing.TB, what string, err error, out []byte) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: %v: %s", what, err, out)
	}
	t.Skipf("%s: %v: %s (needs root, loop devices and e2fsprogs)", what, err, out)
}
