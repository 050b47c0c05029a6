package health

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/hasync/launcher/launcher"
)

// Sampler reads node's process figures with gopsutil and the container's
// memory from its cgroup; main hands it to the supervisor.
type Sampler struct {
	// Root prefixes /proc/self/cgroup and /sys/fs/cgroup; empty is /.
	// Tests point it at fixture trees.
	Root string
	self *process.Process
}

// NewSampler samples this process as the launcher.
func NewSampler() *Sampler {
	self, _ := process.NewProcess(int32(os.Getpid()))
	return &Sampler{self: self}
}

// Process samples the child with pid.
func (s *Sampler) Process(pid int) (launcher.ProcessSample, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return launcher.ProcessSample{}, err
	}
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
	if s.self != nil {
		if mem, err := s.self.MemoryInfo(); err == nil {
			h.LauncherRSS = mem.RSS
		}
	}
	h.MemoryLimit, h.MemoryUsage, _ = s.cgroupMemory()
	return h
}

// noLimit: cgroup v1 writes "unlimited" as a page-rounded 2^63-1.
const noLimit = 1 << 62

// cgroupMemory reads the memory limit (0 when none) and usage of this
// process's cgroup: v2 memory.max and memory.current, or v1
// memory.limit_in_bytes and memory.usage_in_bytes. In a container with its
// own cgroup namespace the path is /, so the files sit at the mount's top.
func (s *Sampler) cgroupMemory() (limit, usage uint64, ok bool) {
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
	try := func(dirs []string, limitFile, usageFile string) bool {
		for _, d := range dirs {
			l, lerr := readCgroupValue(filepath.Join(d, limitFile))
			u, uerr := readCgroupValue(filepath.Join(d, usageFile))
			if lerr == nil && uerr == nil {
				if l >= noLimit {
					l = 0
				}
				limit, usage, ok = l, u, true
				return true
			}
		}
		return false
	}
	v2 := filepath.Join(root, "sys/fs/cgroup")
	if _, err := os.Stat(filepath.Join(v2, "cgroup.controllers")); err == nil {
		if try([]string{filepath.Join(v2, v2path), v2}, "memory.max", "memory.current") {
			return
		}
	}
	v1 := filepath.Join(root, "sys/fs/cgroup/memory")
	try([]string{filepath.Join(v1, v1path), v1}, "memory.limit_in_bytes", "memory.usage_in_bytes")
	return
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
