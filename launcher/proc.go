package launcher

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// descendants lists every live process below pid: those that escaped the
// child's process group (setsid, node's detached: true) included, since
// they are still below the launcher, re-parented to it as PID 1 or as
// subreaper.
func descendants(pid int) []int {
	var out []int
	walkDescendants(pid, func(p int) { out = append(out, p) })
	return out
}

// walkDescendants calls visit on every process below root, parents first,
// and reads a process's children only after visit has returned: a visit
// that stops the process (SIGSTOP) is shown every child it will have but
// one whose fork was already under way (the kernel turns back a fork begun
// with a signal pending, and lets one under way finish). It follows the
// kernel's children lists (/proc/<pid>/task/<tid>/children), so its cost is
// the number of descendants, not of processes on the machine; without
// those lists it falls back to reading every process's parent.
func walkDescendants(root int, visit func(pid int)) {
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		kids, ok := childrenOf(p)
		if !ok && p == root {
			for _, k := range descendantsByScan(root) {
				visit(k)
			}
			return
		}
		// Past the root, a list that cannot be read (descriptors short)
		// is passed over: the caller walks again.
		for _, k := range kids {
			visit(k)
		}
		queue = append(queue, kids...)
	}
}

// childrenOf reads the direct children of every thread of pid; ok is false
// when the kernel has no children lists (CONFIG_PROC_CHILDREN).
func childrenOf(pid int) ([]int, bool) {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, !os.IsNotExist(err) // a process gone meanwhile has no children
	}
	var kids []int
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/children")
		if os.IsNotExist(err) {
			if _, serr := os.Stat("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name()); serr == nil {
				return nil, false // the thread exists, its children list does not
			}
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, true
}

// descendantsByScan reads every process's parent from /proc.
func descendantsByScan(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := make(map[int][]int)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// parentOf reads the parent pid from /proc/<pid>/stat.
func parentOf(pid int) (int, bool) {
	fields := statFields("/proc/" + strconv.Itoa(pid) + "/stat")
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// statFields are the fields of a stat file of /proc after the command's
// name (the state first); nil when it cannot be read. The name, in
// parentheses, may hold spaces and parentheses, so they are read after the
// last ')'.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// clockTick is the unit of /proc's CPU times: USER_HZ, 100 on Linux for
// every architecture.
const clockTick = 10 * time.Millisecond

// threadLook is how a process's main thread stands: its state (R running,
// S sleeping, D waiting in the kernel without interruption, …) and the CPU
// time it has used.
type threadLook struct {
	state byte
	cpu   time.Duration
}

// mainThread looks at pid's main thread (/proc/<pid>/task/<pid>/stat).
func mainThread(pid int) (threadLook, bool) {
	p := strconv.Itoa(pid)
	fields := statFields("/proc/" + p + "/task/" + p + "/stat")
	if len(fields) < 13 || len(fields[0]) != 1 {
		return threadLook{}, false
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return threadLook{}, false
	}
	return threadLook{state: fields[0][0], cpu: time.Duration(utime+stime) * clockTick}, true
}

// ForegroundTTY reports whether stdin is this process's controlling
// terminal, so the child can be put in the terminal's foreground process
// group and one Ctrl-C reaches it once (docs/DESIGN.md, "PID 1 in Go").
func ForegroundTTY(fd int) bool {
	_, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil
}

// becomeSubreaper makes orphans below this process re-parent to it when it
// is not PID 1, so it reaps them as init would.
func becomeSubreaper() error {
	if os.Getpid() == 1 {
		return nil
	}
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// startCost is what a stretch of a process's life took from the machine:
// its main thread's time on a CPU and waiting for one, and the bytes the
// process read from storage (the page cache's hits are not counted).
type startCost struct {
	cpu     time.Duration
	cpuWait time.Duration // -1 when the kernel does not count it (no schedstat)
	read    int64         // -1 when /proc/<pid>/io cannot be read
}

// costOf reads pid's counters as they stand. The main thread's are its
// schedstat (nanoseconds on a CPU, then waiting on a run queue), else its
// stat's CPU ticks.
func costOf(pid int) (startCost, bool) {
	p := strconv.Itoa(pid)
	c := startCost{cpuWait: -1, read: readBytes(pid)}
	if b, err := os.ReadFile("/proc/" + p + "/task/" + p + "/schedstat"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 2 {
			run, err1 := strconv.ParseInt(f[0], 10, 64)
			wait, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 == nil && err2 == nil {
				c.cpu, c.cpuWait = time.Duration(run), time.Duration(wait)
			}
		}
	}
	if c.cpuWait < 0 {
		t, ok := mainThread(pid)
		if !ok {
			return startCost{}, false
		}
		c.cpu = t.cpu
	}
	return c, true
}

// readBytes is what pid has read from storage (/proc/<pid>/io's
// read_bytes: not what the page cache gave it); -1 when unknown. It is
// readable of a process of the launcher's own user, or with CAP_SYS_PTRACE,
// which a container's root lacks by default: of node run as another user
// it is unknown.
func readBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "read_bytes: "); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// since is what c took from base onwards; a counter unknown at either
// end is unknown.
func (c startCost) since(base startCost) startCost {
	d := startCost{cpu: max(c.cpu-base.cpu, 0), cpuWait: -1, read: -1}
	if c.cpuWait >= 0 && base.cpuWait >= 0 {
		d.cpuWait = max(c.cpuWait-base.cpuWait, 0)
	}
	if c.read >= 0 && base.read >= 0 {
		d.read = max(c.read-base.read, 0)
	}
	return d
}
