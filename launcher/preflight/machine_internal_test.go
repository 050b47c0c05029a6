package preflight

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The processors the atomics check and the SIGILL diagnosis tell apart, by
// what their kernels write in /proc/cpuinfo (testdata/cpuinfo): QEMU's
// Cortex-A72 and Cortex-A76, as QEMU 8 and later emulate the file for them
// (QEMU_CPU=cortex-a72); a Raspberry Pi 4's, with the board's lines its
// kernel adds; this machine's; and a virtual machine's of KVM's generic CPU
// type, as its kernel would write it (no such VM runs here: the text is
// the kernel's format, written by hand).
func TestParseCPUInfo(t *testing.T) {
	for _, c := range []struct {
		file              string
		arch, part, model string
		armV80            bool
		hidden            string
		named             string
	}{
		{"qemu-cortex-a72.txt", "arm64", "Cortex-A72", "", true, "", "Cortex-A72"},
		{"qemu-cortex-a76.txt", "arm64", "Cortex-A76", "", false, "", "Cortex-A76"},
		{"raspberry-pi-4.txt", "arm64", "Cortex-A72", "Raspberry Pi 4 Model B Rev 1.4", true, "", "Cortex-A72, Raspberry Pi 4 Model B Rev 1.4"},
		{"amd-epyc.txt", "x64", "", "AMD EPYC", false, "", "AMD EPYC"},
		{"kvm64.txt", "x64", "", "Common KVM processor", false, "SSE4.2 AVX AVX2", "Common KVM processor"},
	} {
		t.Run(c.file, func(t *testing.T) {
			cpu := cpuinfoFile(t, c.file)
			if cpu.Arch != c.arch || cpu.Part != c.part || cpu.Model != c.model || cpu.armV80() != c.armV80 || strings.Join(cpu.hiddenX86(), " ") != c.hidden || cpu.String() != c.named {
				t.Errorf("got %+v (%q, ARMv8.0 %t, hidden of x86 %q)", cpu, cpu, cpu.armV80(), cpu.hiddenX86())
			}
		})
	}
	if cpu := ParseCPUInfo(nil); cpu.Arch != "" || cpu.armV80() || cpu.hiddenX86() != nil || cpu.String() != "unknown" || cpu.describe() != "this machine's CPU" {
		t.Errorf("nothing read as %+v", cpu)
	}
	// This machine's own, read as the launcher reads it.
	cpu, err := ReadCPU(CPUInfo)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]; want != "" && cpu.Arch != want {
		t.Errorf("this %s machine read as %+v", runtime.GOARCH, cpu)
	}
}

// cpuinfoFile parses the /proc/cpuinfo text kept in testdata/cpuinfo/file.
func cpuinfoFile(t *testing.T, file string) CPU {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cpuinfo", file))
	if err != nil {
		t.Fatal(err)
	}
	return ParseCPUInfo(b)
}

// What the log says of node's death by SIGILL, by the CPU.
func TestIllegalInstruction(t *testing.T) {
	for _, c := range []struct {
		cpu         CPU
		cause, hint []string
	}{
		{cpuinfoFile(t, "raspberry-pi-4.txt"), []string{"ARMv8.1 or later", "this CPU (Cortex-A72, Raspberry Pi 4 Model B Rev 1.4) lacks: it is ARMv8.0"}, []string{"`launcher check`", "built for ARMv8.0"}},
		{cpuinfoFile(t, "kvm64.txt"), []string{"an instruction this CPU (Common KVM processor) does not have (SIGILL)", "virtual machine whose CPU type hides the host's instruction sets (it has no SSE4.2, AVX, AVX2)"}, []string{"Proxmox", "`host`", "host-passthrough"}},
		// Proxmox 8's default type, x86-64-v2-AES: SSE4.2, no AVX.
		{CPU{Arch: "x64", Model: "QEMU Virtual CPU version 2.5+", Features: map[string]bool{"hypervisor": true, "sse4_2": true, "aes": true}},
			[]string{"(it has no AVX, AVX2)"}, []string{"Proxmox"}},
		{cpuinfoFile(t, "amd-epyc.txt"), []string{"this CPU (AMD EPYC) does not have"}, []string{"built for a newer CPU", "-march=native"}},
		{cpuinfoFile(t, "qemu-cortex-a76.txt"), []string{"this CPU (Cortex-A76) does not have"}, []string{"built for a newer CPU"}},
		{CPU{}, []string{"this machine's CPU does not have"}, []string{"built for a newer CPU"}},
	} {
		d, ok := IllegalInstruction([]string{"some line"}, c.cpu)
		if !ok {
			t.Fatalf("%v: no diagnosis", c.cpu)
		}
		for _, w := range c.cause {
			if !strings.Contains(d.Cause, w) {
				t.Errorf("%v: cause %q lacks %q", c.cpu, d.Cause, w)
			}
		}
		for _, w := range c.hint {
			if !strings.Contains(d.Hint, w) {
				t.Errorf("%v: hint %q lacks %q", c.cpu, d.Hint, w)
			}
		}
	}
	// V8 ends node with an illegal instruction after its own fatal error.
	if d, ok := IllegalInstruction([]string{"", "#", "# Fatal error in , line 0", "# Check failed: !IsDead()."}, cpuinfoFile(t, "kvm64.txt")); ok {
		t.Errorf("V8's fatal error blamed on the CPU: %+v", d)
	}
}

func FuzzParseCPUInfo(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cpuinfo", "*.txt"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Features\t:\nCPU part\t: 0xd08\n"))
	f.Add([]byte("flags: hypervisor\n\nModel: x\nflags: avx2"))
	f.Add([]byte(":::\n\n\n:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := ParseCPUInfo(b)
		if (c.Arch == "") != (c.Features == nil) {
			t.Fatalf("arch %q with features %v", c.Arch, c.Features)
		}
		if c.armV80() && c.hiddenX86() != nil || c.String() == "" {
			t.Fatalf("%+v: ARMv8.0 %t, hidden of x86 %q, named %q", c, c.armV80(), c.hiddenX86(), c)
		}
		if _, ok := IllegalInstruction(nil, c); !ok {
			t.Fatal("no diagnosis without V8's fatal error")
		}
	})
}
