package disk

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/disk/disktest"
)

// A file not written yet goes to its nearest existing folder's disk.
func TestStat_NearestExistingFolder(t *testing.T) {
	dir := t.TempDir()
	u, err := Stat(filepath.Join(dir, "not", "yet", "there"))
	if err != nil || u.Folder != dir || u.Size == 0 || u.Avail > u.Size {
		t.Fatalf("Stat = %+v, %v; want the disk of %s", u, err, dir)
	}
	if u.ReadOnly {
		t.Errorf("the test's folder told as read-only: %+v", u)
	}
	if _, err := Stat(""); err == nil {
		t.Error("Stat(\"\") did not fail")
	}
}

// A filesystem mounted read-only, and one in memory, for real.
func TestStat_ReadOnlyNoExecAndInMemory(t *testing.T) {
	dir := disktest.Tmpfs(t, "size=1m")
	u, err := Stat(dir)
	if err != nil || !u.Memory || u.ReadOnly || u.NoExec || u.Size != 1<<20 {
		t.Fatalf("Stat = %+v, %v; want 1MiB in memory, writable", u, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOEXEC, ""); err != nil {
		t.Fatal(err)
	}
	if u, err := Stat(dir); err != nil || !u.ReadOnly || !u.NoExec {
		t.Fatalf("Stat = %+v, %v; want read-only and noexec", u, err)
	}
}

// A disk the kernel failed, ext4 under errors=remount-ro: statfs's flag
// may not say so (ext4's emergency_ro), the mounts' table and the
// filesystem itself do.
func TestStatAndProbe_AFailedDisk(t *testing.T) {
	d := disktest.Ext4(t, 8<<20)
	for _, look := range []func(string) (Usage, error){Stat, Probe} {
		if u, err := look(d.Dir); err != nil || u.ReadOnly {
			t.Fatalf("%+v, %v; want writable", u, err)
		}
	}
	d.Fail(t)
	for name, look := range map[string]func(string) (Usage, error){"Stat": Stat, "Probe": Probe} {
		if u, err := look(d.Dir); err != nil || !u.ReadOnly {
			t.Errorf("%s = %+v, %v; want read-only", name, u, err)
		}
	}
	var st unix.Statfs_t
	must(t, unix.Statfs(d.Dir, &st))
	t.Logf("statfs's flag says read-only: %v", st.Flags&unix.ST_RDONLY != 0)
}

// Lines of a container's /proc/self/mountinfo: its root, the add-on's
// /data (a bind mount of the host's SD card partition, 179:2) after ext4
// stopped writing it, a mount of it read-only, tmpfs, and lines cut short.
const mountinfo = `1021 944 0:97 / / rw,relatime master:410 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
1022 1021 0:100 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1030 1021 179:2 /supervisor/addons/data/local_hasync /data rw,relatime - ext4 /dev/mmcblk0p2 rw,commit=30,errors=remount-ro,emergency_ro
1031 1021 179:3 /share /share ro,relatime - ext4 /dev/mmcblk0p3 rw
1032 1021 0:104 / /dev/shm rw,nosuid,nodev - tmpfs shm ro,size=65536k
1033 1021 7:1 / /x rw - ext4
1034 1021 8:1
`

func TestSuperReadOnly(t *testing.T) {
	for _, c := range []struct {
		major, minor uint32
		want         bool
	}{
		{179, 2, true},  // emergency_ro
		{179, 3, false}, // the mount read-only, its filesystem not: statfs tells that one
		{0, 104, true},  // ro among the filesystem's options
		{0, 97, false},
		{7, 1, false}, // no options
		{8, 1, false}, // cut short
		{9, 9, false}, // not there
	} {
		if got := superReadOnly([]byte(mountinfo), c.major, c.minor); got != c.want {
			t.Errorf("%d:%d: %v, want %v", c.major, c.minor, got, c.want)
		}
	}
}

// Whatever the table holds, reading it ends, and a filesystem is read-only
// only by a line of its own.
func FuzzSuperReadOnly(f *testing.F) {
	f.Add([]byte(mountinfo), uint32(179), uint32(2))
	f.Add([]byte("1 1 1:1 / / rw - ext4 /dev/x ro\n"), uint32(1), uint32(1))
	f.Add([]byte(" - - - \n\n -"), uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, table []byte, major, minor uint32) {
		ro := superReadOnly(table, major, minor)
		if ro && !strings.Contains(string(table), fmt.Sprintf("%d:%d", major, minor)) {
			t.Errorf("read-only by no line of %d:%d", major, minor)
		}
		other := append(append([]byte{}, table...), fmt.Sprintf("\n9 9 %d:%d / /o rw - ext4 /dev/o ro\n", major+1, minor)...)
		if superReadOnly(other, major, minor) != ro {
			t.Errorf("another filesystem's line changed the answer for %d:%d", major, minor)
		}
	})
}

func TestUsage(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		name string
		u    Usage
		full bool
		says string
	}{
		{"room", Usage{Folder: "/data", Size: 29 * gib, Avail: 12 * gib / 10, Files: 1e6, FilesFree: 9e5}, false, "/data has 1.2GiB free of 29GiB"},
		{"under 64MiB on a large disk", Usage{Folder: "/data", Size: 29 * gib, Avail: 63 << 20, Files: 1e6, FilesFree: 9e5}, true, "/data has 63MiB free of 29GiB"},
		{"a hundredth of a small disk", Usage{Folder: "/d", Size: 100 << 20, Avail: 2 << 20}, false, "/d has 2MiB free of 100MiB"},
		{"under it", Usage{Folder: "/d", Size: 100 << 20, Avail: 1 << 19}, true, "/d has 512KiB free of 100MiB"},
		{"no inodes", Usage{Folder: "/d", Size: 29 * gib, Avail: 9 * gib, Files: 2048, FilesFree: 0}, true, "/d has no room for a new file (all 2048 inodes taken; 9GiB free)"},
		{"no bound on files (btrfs)", Usage{Folder: "/d", Size: 29 * gib, Avail: 9 * gib}, false, "/d has 9GiB free of 29GiB"},
		{"empty", Usage{Folder: "/d", Size: 8 << 20}, true, "/d has 0B free of 8MiB"},
	} {
		if got := c.u.Full(); got != c.full {
			t.Errorf("%s: Full() = %v, want %v", c.name, got, c.full)
		}
		if got := c.u.String(); !strings.Contains(got, c.says) {
			t.Errorf("%s: String() = %q, want %q", c.name, got, c.says)
		}
	}
}

// What a look at the disk costs: Stat each sample, Probe at the start and
// at a diagnosis (on ext4 its unnamed file goes through the journal).
func BenchmarkDisk(b *testing.B) {
	for _, fs := range []struct {
		name string
		dir  func() string
	}{
		{"ext4", func() string { return disktest.Ext4(b, 64<<20).Dir }},
		{"tmpfs", func() string { return disktest.Tmpfs(b, "size=4m") }},
	} {
		dir := fs.dir()
		b.Run("Stat/"+fs.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Stat(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Probe/"+fs.name, func(b *testing.B) {
			for b.Loop() {
				if u, err := Probe(dir); err != nil || u.ReadOnly {
					b.Fatal(u, err)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
