package launcher

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// trimResident shrinks the launcher's resident set to what it uses. Most of
// an idle launcher's RSS is its own binary's pages, and start-up touches
// code that never runs again (the preflight, the configuration).
// MADV_DONTNEED drops what is mapped now; the pages stay in the page cache,
// and whatever runs later faults back in.
//
// By default a page comes back with up to 64 KiB around it: the kernel maps
// the cached pages around each fault ("fault-around", one setting for the
// whole machine; MADV_RANDOM does not change it), so an idle launcher
// touching a few hundred scattered pages of code and read-only data kept
// about 3.7 MB of the binary resident. Fault-around never crosses a
// mapping's edge, so the binary's read-only mappings are first cut into
// mappings of a page each (splitIntoPages), and what comes back is the pages
// that run: 1.9 MB less at idle, for a stop after the settle 1.5 to 2.5 ms
// longer (the way out faults its code back a page at a time). Only
// read-only, file-backed mappings of the executable are touched.
//
// The heap goes the same way: what starting allocated (the preflight's
// reads above all) is garbage by now, so it is collected and its pages
// returned at once rather than at the scavenger's pace.
var trimResident = func() {
	debug.FreeOSMemory()
	ranges, err := splitExecutable()
	if err != nil {
		return
	}
	for _, r := range ranges {
		madvise(r[0], r[1], unix.MADV_DONTNEED)
	}
}

// splitExecutable cuts the executable's read-only mappings into pages, once:
// they stay cut for the process's life, and a restart's trim only drops
// pages. Reading /proc/self/maps again would cost milliseconds once the
// mappings are cut: the kernel writes a line, path included, for each.
var splitExecutable = sync.OnceValues(func() ([][2]uintptr, error) {
	ranges, err := executableRanges()
	for _, r := range ranges {
		splitIntoPages(r[0], r[1])
	}
	return ranges, err
})

// executableRanges returns the launcher's read-only mappings of its own
// executable, from /proc/self/maps.
func executableRanges() ([][2]uintptr, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	return readOnlyRanges(string(maps), exe), nil
}

// readOnlyRanges picks from a maps file the read-only mappings of path,
// adjacent ones joined. A line is "start-end perms offset dev inode path";
// the path may hold spaces, and ends in " (deleted)" for both the link and
// the mapping once the file is replaced.
func readOnlyRanges(maps, path string) [][2]uintptr {
	var ranges [][2]uintptr
	for line := range strings.Lines(maps) {
		fields := strings.Fields(line)
		if len(fields) < 6 || strings.Join(fields[5:], " ") != path || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if n := len(ranges); n > 0 && ranges[n-1][1] == uintptr(start) {
			ranges[n-1][1] = uintptr(end)
			continue
		}
		ranges = append(ranges, [2]uintptr{uintptr(start), uintptr(end)})
	}
	return ranges
}

// splitIntoPages cuts the mapping [start, end) into mappings of one page
// each. The kernel merges neighbouring mappings whose flags are equal, so
// every other page gets a flag of its own: MADV_DONTDUMP, which changes only
// what a core dump holds, and a core dump leaves file-backed private
// mappings out by default anyway (coredump_filter). The first page, which
// holds the ELF header a dump does include, keeps its flags. A mapping is
// about 200 bytes of kernel memory: some 1,100 of them, a quarter megabyte,
// for the launcher's 4 MB or so of code and read-only data, against the 1.9 MB
// of pages they keep out. Under qemu-user, which takes the advice as a hint
// and ignores it, nothing is cut.
func splitIntoPages(start, end uintptr) {
	page := uintptr(os.Getpagesize())
	if page >= 64<<10 {
		return // the kernel's 64 KiB around a fault is then the page alone
	}
	for a := start + page; a < end; a += 2 * page {
		madvise(a, min(a+page, end), unix.MADV_DONTDUMP)
	}
}

// madvise is the raw system call: the region is not Go memory, so no slice
// over it.
func madvise(start, end uintptr, advice int) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, end-start, uintptr(advice))
}

// The collector's pace (GOGC) for each phase. Go never lets the heap goal
// fall below 4 MB × GOGC/100, and an idle launcher keeps about 0.5 MB
// live: at the default of 100 the heap fills to 4 MB between collections
// and the scavenger keeps those pages, so a launcher that samples and
// probes for hours settles near 7 MB of anonymous memory; at 25 the goal
// is 1 MB and it settles near 4 MB, the collector running about four
// times as often over the same half megabyte (tenths of a millisecond,
// every minute or two at the default sampling). A start keeps Go's
// default: the preflight allocates a megabyte or more in a few tens of
// milliseconds, 16 ms at 100 against 20 ms at 25 (BenchmarkPreflight).
const (
	startGCPercent = 100
	idleGCPercent  = 25
)

// gogcChosen is whether GOGC was set when the process started, when the
// runtime read it: whoever set it has chosen the pace, and paceGC leaves it.
var gogcChosen = os.Getenv("GOGC") != ""

// paceGC sets the collector's pace to percent, unless GOGC was chosen.
func paceGC(percent int) {
	if !gogcChosen {
		debug.SetGCPercent(percent)
	}
}

// heapSlack is how much free heap, not yet returned to the system, the
// launcher keeps at idle.
const heapSlack = 256 << 10

// giveBackHeap keeps an idle launcher's heap near what it holds live. At
// GOGC=25 (paceGC) the heap's goal is 1 MB, and the runtime keeps what a
// collection freed up to about that goal for the next allocations: a
// launcher that samples and probes for an hour held 3.8 MB of anonymous
// memory, 1.4 to 1.6 MB of it heap at half use. Called at each sample once
// the launcher has settled; when more than heapSlack is free it collects
// and returns the free pages (debug.FreeOSMemory), beside the caller, so the
// supervision loop never waits for a collection. At the default 5 s sampling
// that is one more collection, a few tenths of a millisecond, for each the
// runtime runs on its own, every minute or two. GOGC set at the start has
// chosen the collector's pace, forced collections included: then nothing.
var giveBackHeap = func() {
	if gogcChosen || !givingBack.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer givingBack.Store(false)
		returnFreeHeap()
	}()
}

// givingBack is whether a giveBackHeap is under way.
var givingBack atomic.Bool

// returnFreeHeap returns the heap's free pages when more than heapSlack of
// them are held.
func returnFreeHeap() {
	if freeHeap() >= heapSlack {
		debug.FreeOSMemory()
	}
}

// freeHeap is the heap the runtime holds free and has not returned. It
// stops the world for some microseconds; runtime/metrics would not, but its
// package's initialisation costs a millisecond at every start.
func freeHeap() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapIdle - ms.HeapReleased
}
