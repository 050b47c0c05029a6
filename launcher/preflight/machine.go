package preflight

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// CPUInfo is where the kernel describes the machine's processors.
const CPUInfo = "/proc/cpuinfo"

// maxCPUInfo caps what is read of it: a few KB per processor.
const maxCPUInfo = 4 << 20

// CPU is what the kernel says of the machine's processor: its features
// and its model. The zero CPU is an unknown one.
type CPU struct {
	// Arch is the processor's architecture by node's names ("arm64",
	// "x64"), from the lines the kernel writes for it; empty is unknown.
	Arch string
	// Features are arm64's Features or x86's flags ("atomics", "avx2").
	Features map[string]bool
	// Part is an arm64 core's name ("Cortex-A72"), or its implementer and
	// part numbers when not one named here; Model is the board (a
	// Raspberry Pi's kernel names it) or x86's model name.
	Part, Model string
}

// armCores are the cores of ARM Ltd. (implementer 0x41) in the boards
// Home Assistant runs on, and beside them, by their part numbers.
var armCores = map[string]string{
	"0xd03": "Cortex-A53", // Raspberry Pi 3 and Zero 2 W, ODROID-C2
	"0xd04": "Cortex-A35",
	"0xd05": "Cortex-A55", // Home Assistant Green (RK3566), ODROID-M1
	"0xd07": "Cortex-A57",
	"0xd08": "Cortex-A72", // Raspberry Pi 4 and 400, CM4 (Home Assistant Yellow)
	"0xd09": "Cortex-A73", // ODROID-N2's big cores
	"0xd0a": "Cortex-A75",
	"0xd0b": "Cortex-A76", // Raspberry Pi 5
	"0xd0c": "Neoverse-N1",
	"0xd40": "Neoverse-V1",
	"0xd49": "Neoverse-N2",
}

// ParseCPUInfo reads /proc/cpuinfo's text: the first processor's block
// (the features are the same on every core the kernel runs) and the
// board's model line, which a Raspberry Pi's kernel writes last.
func ParseCPUInfo(b []byte) CPU {
	var c CPU
	var implementer, modelName string
	first := true
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxCPUInfo)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if c.Features != nil {
				first = false // a blank line ends the first block
			}
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case key == "Model" && value != "":
			c.Model = value
		case !first:
		case key == "Features" && c.Features == nil:
			c.Arch, c.Features = "arm64", fields(value)
		case key == "flags" && c.Features == nil:
			c.Arch, c.Features = "x64", fields(value)
		case key == "model name" && modelName == "":
			modelName = value
		case key == "CPU implementer":
			implementer = value
		case key == "CPU part" && c.Part == "":
			c.Part = value
			if name, ok := armCores[value]; ok && implementer == "0x41" {
				c.Part = name
			} else if implementer != "" {
				c.Part = "implementer " + implementer + " part " + value
			}
		}
	}
	// arm64's "model name", where there is one, is the architecture's.
	if c.Arch == "x64" && c.Model == "" {
		c.Model = modelName
	}
	return c
}

func fields(s string) map[string]bool {
	f := map[string]bool{}
	for _, w := range strings.Fields(s) {
		f[w] = true
	}
	return f
}

// String names the processor as a person knows it: its core, and the board
// the kernel names (a Raspberry Pi's), or x86's model name.
func (c CPU) String() string {
	switch {
	case c.Part != "" && c.Model != "":
		return c.Part + ", " + c.Model
	case c.Part != "":
		return c.Part
	case c.Model != "":
		return c.Model
	}
	return "unknown"
}

// armV80 tells an arm64 processor of ARMv8.0, without the atomics of
// ARMv8.1 (LSE): the kernel lists "atomics" among its features otherwise.
func (c CPU) armV80() bool { return c.Arch == "arm64" && !c.Features["atomics"] }

// x86Sets are the instruction sets x86 binaries are built to need
// (x86-64-v2's SSE4.2, v3's AVX and AVX2), by the kernel's flag names.
var x86Sets = []struct{ flag, name string }{{"sse4_2", "SSE4.2"}, {"avx", "AVX"}, {"avx2", "AVX2"}}

// hiddenX86 names what an x86 processor of a virtual machine lacks of
// x86Sets: the generic CPU types of QEMU and KVM hide the host's (kvm64,
// Proxmox's old default, has none of them; x86-64-v2-AES, its default
// since Proxmox 8, has SSE4.2 alone). Nothing for another CPU.
func (c CPU) hiddenX86() []string {
	if c.Arch != "x64" || !c.Features["hypervisor"] {
		return nil
	}
	var missing []string
	for _, s := range x86Sets {
		if !c.Features[s.flag] {
			missing = append(missing, s.name)
		}
	}
	return missing
}

// armV80Boards is which boards have ARMv8.0 cores, for messages.
const armV80Boards = "a Raspberry Pi 3 or 4, or Home Assistant Yellow"

func (c CPU) describe() string {
	if c.Arch == "" {
		return "this machine's CPU"
	}
	return fmt.Sprintf("this CPU (%s)", c)
}
