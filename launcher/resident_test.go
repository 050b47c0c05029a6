package launcher

import (
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GOGC set at the start is the pace, whatever the phase.
func TestPaceGC_LeavesAChosenGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer ChooseGOGC(true)()
	paceGC(idleGCPercent)
	if got := GCPercent(); got != 100 {
		t.Fatalf("GC percent with GOGC=100 set = %d, want 100 (untouched)", got)
	}
	gogcChosen = false
	paceGC(idleGCPercent)
	if got := GCPercent(); got != idleGCPercent {
		t.Fatalf("GC percent without GOGC = %d, want %d", got, idleGCPercent)
	}
}

// GOGC set at the start has chosen the collector's pace, forced
// collections included: the give-back returns free heap only when GOGC was
// not set.
func TestGiveBackHeap_LeavesAChosenGOGC(t *testing.T) {
	forced := func() uint32 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.NumForcedGC
	}
	freed := func() {
		t.Helper()
		garbage := make([][]byte, 64)
		for i := range garbage {
			garbage[i] = make([]byte, 64<<10)
		}
		runtime.KeepAlive(garbage)
		garbage = nil
		runtime.GC() // the 4 MB are free heap now, held for the next allocations
		if free := freeHeap(); free < heapSlack {
			t.Skipf("only %d bytes of free heap held after a collection: nothing to give back", free)
		}
	}
	defer ChooseGOGC(true)()
	freed()
	before := forced()
	giveBackHeap()
	if givingBack.Load() || forced() != before {
		t.Fatal("with GOGC set, the give-back collected")
	}
	gogcChosen = false
	freed()
	before = forced()
	giveBackHeap()
	for givingBack.Load() {
		runtime.Gosched() // until the give-back's goroutine is done
	}
	if forced() == before {
		t.Fatalf("without GOGC, the give-back did not collect with %d bytes of free heap", freeHeap())
	}
}

// After a trim, a page of the binary comes back alone, not with the 64 KiB
// around it: fault-around stops at a mapping's edge, and the trim has cut
// the binary's read-only mappings into pages. Each probe touches one page
// the trim dropped (through write(2), a real fault on the address) and
// counts the pages of its 64 KiB window the fault mapped besides it.
func TestTrimResident_FaultsBackAPageAtATime(t *testing.T) {
	page := uintptr(os.Getpagesize())
	const window = 64 << 10 // the kernel's default fault_around_bytes
	if window/page < 2 {
		t.Skipf("pages of %d bytes: fault-around maps one page anyway", page)
	}
	if !dontDumpSplits(t, page) {
		t.Skip("MADV_DONTDUMP does not cut mappings here: an emulator (qemu-user takes it as a hint and ignores it)")
	}
	// The binary in the page cache, so that fault-around has pages to map.
	if _, err := os.ReadFile("/proc/self/exe"); err != nil {
		t.Fatal(err)
	}
	trimResident()
	ranges, err := splitExecutable()
	if err != nil || len(ranges) == 0 {
		t.Fatalf("the executable's mappings: %v %v", ranges, err)
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer pagemap.Close()
	present := func(from, to uintptr) []bool {
		buf := make([]byte, (to-from)/page*8)
		if _, err := pagemap.ReadAt(buf, int64(from/page*8)); err != nil {
			t.Fatal(err)
		}
		out := make([]bool, len(buf)/8)
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(buf[i*8:])>>63 == 1
		}
		return out
	}
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	drain := make([]byte, 1)

	probes, faulted, extra := 0, 0, 0
	for _, r := range ranges {
		for w := (r[0] + window - 1) &^ (window - 1); w+window <= r[1] && probes < 64; w += 4 * window {
			probes++
			addr := w + window/2
			before := present(w, w+window)
			if before[(addr-w)/page] {
				continue // running code has it already
			}
			if _, _, e := unix.Syscall(unix.SYS_WRITE, uintptr(p[1]), addr, 1); e != 0 {
				t.Fatalf("write from %#x: %v", addr, e)
			}
			if _, err := unix.Read(p[0], drain); err != nil {
				t.Fatal(err)
			}
			faulted++
			after := present(w, w+window)
			for i := range after {
				if after[i] && !before[i] && uintptr(i) != (addr-w)/page {
					extra++
				}
			}
		}
	}
	if faulted < 8 {
		t.Fatalf("only %d of %d probed pages were out after the trim", faulted, probes)
	}
	// Without the cut, each fault maps the window's other 15 pages.
	if extra > faulted {
		t.Fatalf("%d faults mapped %d pages besides their own, want about none (fault-around not held to the page)", faulted, extra)
	}
	t.Logf("%d faults, %d pages mapped besides", faulted, extra)
}

func TestReadOnlyRanges(t *testing.T) {
	const maps = `00400000-0060a000 r-xp 00000000 fd:01 1234                               /usr/bin/my launcher
0060a000-00840000 r--p 0020a000 fd:01 1234                               /usr/bin/my launcher
00840000-00864000 rw-p 00440000 fd:01 1234                               /usr/bin/my launcher
00864000-0089c000 rw-p 00000000 00:00 0
7f0000000000-7f0000001000 r--p 00000000 fd:01 99                         /usr/bin/my
7f0000002000-7f0000003000 r--p 00001000 fd:01 1234                       /usr/bin/my launcher
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
zz-00400000 r--p 00000000 fd:01 1234                                     /usr/bin/my launcher
`
	got := readOnlyRanges(maps, "/usr/bin/my launcher")
	want := [][2]uintptr{{0x400000, 0x840000}, {0x7f0000002000, 0x7f0000003000}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("readOnlyRanges = %#x, want %#x (text and read-only data joined; not the writable data, another file, or a bad line)", got, want)
	}
	deleted := "00400000-0060a000 r-xp 00000000 fd:01 1234 /usr/bin/launcher (deleted)\n"
	if got := readOnlyRanges(deleted, "/usr/bin/launcher (deleted)"); len(got) != 1 {
		t.Fatalf("a replaced binary's mapping: %#x, want one range", got)
	}
}

// dontDumpSplits is whether MADV_DONTDUMP on the middle page of a mapping of
// three cuts it in three, as every Linux since 3.4 does.
func dontDumpSplits(t *testing.T, page uintptr) bool {
	m, err := unix.Mmap(-1, 0, int(3*page), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	if err := unix.Madvise(m[page:2*page], unix.MADV_DONTDUMP); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	base := uintptr(unsafe.Pointer(&m[0]))
	n := 0
	for line := range strings.Lines(string(maps)) {
		lo, _, _ := strings.Cut(line, "-")
		if a, err := strconv.ParseUint(lo, 16, 64); err == nil && uintptr(a) >= base && uintptr(a) < base+3*page {
			n++
		}
	}
	return n == 3
}

// What a collection freed goes back to the system. In a process of its
// own: goroutines that earlier tests left ending (a reaper, a probe, a
// logger) free memory of theirs between the return and the reading; under
// a busy machine that held the reading above heapSlack one run in four.
func TestReturnFreeHeap(t *testing.T) {
	if os.Getenv("LAUNCHER_TEST_ALONE") != "TestReturnFreeHeap" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReturnFreeHeap$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LAUNCHER_TEST_ALONE=TestReturnFreeHeap")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	// With the collector off, the heap's goal has no end, so the runtime's
	// background scavenger, which returns free heap above that goal at its
	// own pace, returns none: under a busy machine it had returned the
	// garbage before the first reading (1 run in about 50 beside other
	// tests). runtime.GC still collects.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	debug.FreeOSMemory()
	garbage := make([][]byte, 0, 2048)
	for range 2048 {
		garbage = append(garbage, make([]byte, 8<<10))
	}
	sink = garbage
	sink = nil
	runtime.GC()
	before := freeHeap()
	if before < 8<<20 {
		t.Fatalf("16 MB of garbage collected left %d bytes of free heap, want at least 8 MB to return", before)
	}
	// Most of it, not all: the runtime (the race detector's, a goroutine
	// whose grown stack goes back to the heap as it ends) frees a few
	// hundred KB of its own at any moment.
	returnFreeHeap()
	if free := freeHeap(); free > before/4 {
		t.Fatalf("free heap after returnFreeHeap = %d bytes of %d, want most of it returned", free, before)
	}
}

var sink [][]byte
