package disk

import (
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
func TestStat_ReadOnlyAndInMemory(t *testing.T) {
	dir := disktest.Tmpfs(t, "size=1m")
	u, err := Stat(dir)
	if err != nil || !u.Memory || u.ReadOnly || u.Size != 1<<20 {
		t.Fatalf("Stat = %+v, %v; want 1MiB in memory, writable", u, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if u, err := Stat(dir); err != nil || !u.ReadOnly {
		t.Fatalf("Stat = %+v, %v; want read-only", u, err)
	}
}

// A disk the kernel failed, ext4 under errors=remount-ro: its mount may
// not say so (statfs's ST_RDONLY stays clear under emergency_ro), the
// filesystem does.
func TestProbe_AFailedDisk(t *testing.T) {
	d := disktest.Ext4(t, 8<<20)
	if u, err := Probe(d.Dir); err != nil || u.ReadOnly {
		t.Fatalf("Probe = %+v, %v; want writable", u, err)
	}
	d.Fail(t)
	if u, err := Probe(d.Dir); err != nil || !u.ReadOnly {
		t.Fatalf("Probe = %+v, %v; want read-only", u, err)
	}
	u, _ := Stat(d.Dir)
	t.Logf("statfs's flag says read-only: %v", u.ReadOnly)
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
