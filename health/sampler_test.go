package health

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// writeTree lays out files under a temporary root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCgroupMemory(t *testing.T) {
	for _, c := range []struct {
		name         string
		files        map[string]string
		limit, usage uint64
		ok           bool
	}{
		{"v2 in a container (namespace root)", map[string]string{
			"proc/self/cgroup":                 "0::/\n",
			"sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
			"sys/fs/cgroup/memory.max":         "1073741824\n",
			"sys/fs/cgroup/memory.current":     "181000000\n",
			"sys/fs/cgroup/memory.events":      "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n",
		}, 1 << 30, 181000000, true},
		{"v2 no limit", map[string]string{
			"proc/self/cgroup":                 "0::/\n",
			"sys/fs/cgroup/cgroup.controllers": "memory\n",
			"sys/fs/cgroup/memory.max":         "max\n",
			"sys/fs/cgroup/memory.current":     "5000\n",
		}, 0, 5000, true},
		{"v2 nested path on a host", map[string]string{
			"proc/self/cgroup":                                      "0::/system.slice/addon.scope\n",
			"sys/fs/cgroup/cgroup.controllers":                      "memory\n",
			"sys/fs/cgroup/system.slice/addon.scope/memory.max":     "536870912\n",
			"sys/fs/cgroup/system.slice/addon.scope/memory.current": "1234\n",
		}, 512 << 20, 1234, true},
		{"v1 (hybrid, as podman with runc here)", map[string]string{
			"proc/self/cgroup":                           "12:memory:/\n11:cpu,cpuacct:/\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n",
			"sys/fs/cgroup/memory/memory.usage_in_bytes": "99999\n",
			"sys/fs/cgroup/memory/memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
		}, 256 << 20, 99999, true},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup":                           "4:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
			"sys/fs/cgroup/memory/memory.usage_in_bytes": "42\n",
		}, 0, 42, true},
		{"nothing mounted", map[string]string{"proc/self/cgroup": "0::/\n"}, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Sampler{Root: writeTree(t, c.files)}
			limit, usage, ok := s.cgroupMemory()
			if limit != c.limit || usage != c.usage || ok != c.ok {
				t.Errorf("got limit %d usage %d ok %v; want %d %d %v", limit, usage, ok, c.limit, c.usage, c.ok)
			}
			want := map[string]uint64{"v2 in a container (namespace root)": 2, "v1 (hybrid, as podman with runc here)": 3}[c.name]
			if got := s.oomKills(); got != want {
				t.Errorf("oom kills %d, want %d", got, want)
			}
		})
	}
}

// The memory controller's folder is looked up at the first sample only;
// its files are read at every sample.
func TestCgroupMemory_FolderFoundOnce(t *testing.T) {
	root := writeTree(t, map[string]string{
		"proc/self/cgroup":                   "0::/addon\n",
		"sys/fs/cgroup/cgroup.controllers":   "memory\n",
		"sys/fs/cgroup/addon/memory.max":     "1073741824\n",
		"sys/fs/cgroup/addon/memory.current": "1000\n",
		"sys/fs/cgroup/addon/memory.events":  "oom_kill 1\n",
	})
	s := &Sampler{Root: root}
	if _, usage, ok := s.cgroupMemory(); !ok || usage != 1000 {
		t.Fatalf("first sample: usage %d, ok %v", usage, ok)
	}
	// What the lookup reads goes away; what each sample reads changes.
	for _, p := range []string{"proc/self/cgroup", "sys/fs/cgroup/cgroup.controllers"} {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/addon/memory.current"), []byte("2000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/addon/memory.events"), []byte("oom_kill 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if limit, usage, ok := s.cgroupMemory(); !ok || limit != 1<<30 || usage != 2000 {
		t.Errorf("second sample: limit %d usage %d ok %v; want the same folder's new figures", limit, usage, ok)
	}
	if n := s.oomKills(); n != 4 {
		t.Errorf("oom kills %d, want 4", n)
	}
}

func TestSamplerProcess(t *testing.T) {
	s := NewSampler("")
	ps, err := s.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ps.RSS == 0 || ps.VMS < ps.RSS || ps.Threads == 0 || ps.OpenFDs == 0 {
		t.Errorf("sample of this process: %+v", ps)
	}
	if _, err := s.Process(1 << 22); err == nil {
		t.Error("a pid that does not exist must be an error")
	}
	if h := s.Host(); h.LauncherRSS == 0 {
		t.Errorf("host sample: %+v", h)
	}
}

// Sampling one new child after another (a crash loop) leaves no file
// descriptor behind, not even one only the garbage collector would close.
func TestSamplerProcess_NoDescriptorPerChild(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	s := NewSampler("")
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	sample := func() {
		cmd := exec.Command("sleep", "10")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		if _, err := s.Process(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	sample() // the first sample may open what is kept for good
	before := fds()
	for i := 0; i < 20; i++ {
		sample()
	}
	if after := fds(); after > before {
		t.Errorf("20 children sampled left %d more file descriptors open", after-before)
	}
}

// BenchmarkSample is one of the supervisor's samples: a real child's
// figures, then the launcher's and the container's.
func BenchmarkSample(b *testing.B) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s := NewSampler("")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Process(cmd.Process.Pid); err != nil {
			b.Fatal(err)
		}
		_ = s.Host()
	}
}
