package launcher

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimResident shrinks the launcher's resident set to what it uses. Most of
// an idle launcher's RSS is its own binary's pages, and start-up touches
// code that never runs again (the preflight, the configuration).
// MADV_DONTNEED drops what is mapped now; the pages stay in the page cache,
// and whatever runs later faults back in. It comes back 64 KiB at a time:
// the kernel maps the cached pages around each fault ("fault-around", one
// setting for the whole machine; MADV_RANDOM does not change it), so what
// stays resident is every 64 KiB window of code and read-only data the
// running launcher touches, about 5 MB of the binary's 8 at readiness.
// Only read-only, file-backed mappings of the executable are touched.
//
// The heap goes the same way: what starting allocated (the preflight's
// reads above all) is garbage by now, so it is collected and its pages
// returned at once rather than at the scavenger's pace.
var trimResident = func() {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
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
		// The raw syscall: the region is not Go memory, so no slice over it.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
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
