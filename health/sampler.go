package health

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/disk"
)

// Sampler reads node's process figures with gopsutil and the container's
// memory from its cgroup; main hands it to the supervisor.
type Sampler struct {
	// Root prefixes /proc/self/cgroup and /sys/fs/cgroup; empty is /.
	// Tests point it at fixture trees.
	Root string
	// DataDir is the add-on's data folder, whose disk each sample reads;
	// empty reads none.
	DataDir string
	// The processes sampled, kept between samples; created on the first
	// sample, not at start-up, where gopsutil's first look around
	// (/proc/cpuinfo, /etc/os-release, ...) would compete with node's start.
	mu    sync.Mutex
	self  *process.Process
	child *process.Process
	// The memory controller's folder, found at the first sample: a
	// process's cgroup is its container's for its whole life, and looking
	// it up again each time read /proc/self/cgroup and stat'ed up to four
	// files, twice a sample.
	cgroup *cgroupFolder
}

// cgroupFolder is where the memory controller's files are, and whether it
// is cgroup v2; dir is empty when there is none.
type cgroupFolder struct {
	dir string
	v2  bool
}

// NewSampler samples this process as the launcher, and the disk under
// dataDir.
func NewSampler(dataDir string) *Sampler {
	// gopsutil reads the boot time for a process's creation time, which the
	// launcher does not use, on every CPU-time read: all of /proc/stat,
	// every sample. The boot time does not change; read it once.
	process.EnableBootTimeCache(true)
	return &Sampler{DataDir: dataDir}
}

// Process samples the child with pid.
func (s *Sampler) Process(pid int) (launcher.ProcessSample, error) {
	s.mu.Lock()
	if s.child == nil || s.child.Pid != int32(pid) {
		// Not process.NewProcess: its existence check goes through
		// os.FindProcess, whose pidfd is never released but by the garbage
		// collector, one descriptor per child sampled. A child that is gone
		// fails the first read of /proc anyway.
		s.child = &process.Process{Pid: int32(pid)}
	}
	p := s.child
	s.mu.Unlock()
	var out launcher.ProcessSample
	mem, err := p.MemoryInfo()
	if err != nil {
		return out, fmt.Errorf("sample %d: %w", pid, err)
	}
	out.RSS, out.VMS = mem.RSS, mem.VMS
	if t, err := p.Times(); err == nil {
		out.CPUSeconds = t.User + t.System
	}
	if n, err := p.NumFDs(); err == nil {
		out.OpenFDs = n
	}
	if n, err := p.NumThreads(); err == nil {
		out.Threads = n
	}
	return out, nil
}

// Host samples the launcher's own memory and the container's.
func (s *Sampler) Host() launcher.HostSample {
	var h launcher.HostSample
	s.mu.Lock()
	if s.self == nil {
		s.self = &process.Process{Pid: int32(os.Getpid())}
	}
	self := s.self
	s.mu.Unlock()
	if self != nil {
		if mem, err := self.MemoryInfo(); err == nil {
			h.LauncherRSS = mem.RSS
		}
	}
	h.MemoryLimit, h.MemoryUsage, _ = s.cgroupMemory()
	h.OOMKills = s.oomKills()
	if s.DataDir != "" {
		if u, err := disk.Stat(s.DataDir); err == nil {
			h.Data = &u
		}
	}
	return h
}

// noLimit: cgroup v1 writes "unlimited" as a page-rounded 2^63-1.
const noLimit = 1 << 62

// cgroupMemory reads the memory limit (0 when none), usage and OOM kills
// of this process's cgroup: v2 memory.max, memory.current, memory.events;
// or v1 memory.limit_in_bytes, memory.usage_in_bytes, memory.oom_control.
// In a container with its own cgroup namespace the path is /, so the files
// sit at the mount's top.
func (s *Sampler) cgroupMemory() (limit, usage uint64, ok bool) {
	dir, v2 := s.cgroupDir()
	limitFile, usageFile := "memory.limit_in_bytes", "memory.usage_in_bytes"
	if v2 {
		limitFile, usageFile = "memory.max", "memory.current"
	}
	l, lerr := readCgroupValue(filepath.Join(dir, limitFile))
	u, uerr := readCgroupValue(filepath.Join(dir, usageFile))
	if dir == "" || lerr != nil || uerr != nil {
		return 0, 0, false
	}
	if l >= noLimit {
		l = 0
	}
	return l, u, true
}

// OOMKills is how many processes the kernel's OOM killer has killed in
// this cgroup.
func (s *Sampler) OOMKills() uint64 { return s.oomKills() }

// oomKills is how many processes the kernel's OOM killer has killed in
// this cgroup: the oom_kill counter of memory.events (v2) or
// memory.oom_control (v1, Linux 4.13 and later).
func (s *Sampler) oomKills() uint64 {
	dir, v2 := s.cgroupDir()
	file := "memory.oom_control"
	if v2 {
		file = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if dir == "" || err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// cgroupDir is the memory controller's folder for this process, and
// whether it is cgroup v2, looked up once.
func (s *Sampler) cgroupDir() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cgroup == nil {
		dir, v2 := s.findCgroupDir()
		s.cgroup = &cgroupFolder{dir: dir, v2: v2}
	}
	return s.cgroup.dir, s.cgroup.v2
}

// findCgroupDir finds the memory controller's folder for this process, and
// whether it is cgroup v2.
func (s *Sampler) findCgroupDir() (string, bool) {
	root := s.Root
	if root == "" {
		root = "/"
	}
	v2path, v1path := "/", "/"
	if f, err := os.Open(filepath.Join(root, "proc/self/cgroup")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[0] == "0" && parts[1] == "" {
				v2path = parts[2]
			}
			for _, c := range strings.Split(parts[1], ",") {
				if c == "memory" {
					v1path = parts[2]
				}
			}
		}
		f.Close()
	}
	v2 := filepath.Join(root, "sys/fs/cgroup")
	if _, err := os.Stat(filepath.Join(v2, "cgroup.controllers")); err == nil {
		for _, d := range []string{filepath.Join(v2, v2path), v2} {
			if _, err := os.Stat(filepath.Join(d, "memory.max")); err == nil {
				return d, true
			}
		}
	}
	v1 := filepath.Join(root, "sys/fs/cgroup/memory")
	for _, d := range []string{filepath.Join(v1, v1path), v1} {
		if _, err := os.Stat(filepath.Join(d, "memory.limit_in_bytes")); err == nil {
			return d, false
		}
	}
	return "", false
}

// readCgroupValue reads a number, or "max" as no limit.
func readCgroupValue(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return noLimit, nil
	}
	return strconv.ParseUint(s, 10, 64)
}
