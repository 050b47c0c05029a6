package preflight

import (
	"fmt"
	"strings"
)

// Diagnosis explains a known failure found in node's last stderr lines.
type Diagnosis struct {
	Cause string
	Hint  string
}

// stderrPatterns are the messages node and the loaders print for the
// failures preflight checks statically; they catch what slipped through
// (a module loaded lazily, a check turned off).
var stderrPatterns = []struct {
	re      *lazyRegexp
	explain func(m []string) Diagnosis
}{
	// First: a library for another CPU also misses its own libraries and
	// symbols, which musl reports before it.
	{lazy(`Error relocating ([^:]+): unsupported relocation type`),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("%s is built for another CPU: musl's loader cannot relocate it", m[1]),
				Hint:  "Build or install it in the runtime stage for the image's platform; never copy node_modules or libraries built on another one.",
			}
		}},
	{lazy(`compiled against a different Node\.js version using\s+NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)`),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("a native module was built for NODE_MODULE_VERSION %s, node needs %s", m[1], m[2]),
				Hint:  "Build backend-builder FROM the same Node major as the runtime's node, then `npm ci` (or `npm rebuild`) there.",
			}
		}},
	{lazy(`Error loading shared library ([^:\s]+): No such file`),
		func(m []string) Diagnosis { return missingLibDiagnosis(m[1], "musl") }},
	{lazy(`([^\s:]+\.so[.\d]*): cannot open shared object file`),
		func(m []string) Diagnosis { return missingLibDiagnosis(m[1], "glibc") }},
	{lazy(`Error relocating ([^:]+): ([^:]+): symbol not found`),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("%s needs the symbol %s, which the runtime's libraries lack", m[1], m[2]),
				Hint:  "Build backend-builder FROM node:<major>-alpine on the runtime's Alpine release, so it links against the same musl and libraries.",
			}
		}},
	{lazy("version `((?:GLIBC|GLIBCXX|CXXABI)_[\\d.]+)' not found"),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("a native module needs %s, which the runtime's libraries do not define", m[1]),
				Hint:  "Build backend-builder on the same distribution release as the runtime, or use a newer runtime base image.",
			}
		}},
	{lazy(`invalid ELF header|wrong ELF class|Exec format error`),
		func([]string) Diagnosis {
			return Diagnosis{
				Cause: "a native module is for another operating system or CPU",
				Hint:  "Run `npm ci` inside backend-builder for the image's platform; keep node_modules out of the build context (.dockerignore).",
			}
		}},
	{lazy(`Cannot find module '([^']+)'`),
		func(m []string) Diagnosis {
			if strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], ".") {
				return Diagnosis{
					Cause: fmt.Sprintf("the script %s does not exist", m[1]),
					Hint:  "Copy tsc's outDir (./dist) into the runtime stage at LAUNCHER_APP_DIR, or fix LAUNCHER_ENTRY.",
				}
			}
			return Diagnosis{
				Cause: fmt.Sprintf("the package %s is not installed", m[1]),
				Hint:  fmt.Sprintf("Keep %s in \"dependencies\" (not devDependencies) and COPY node_modules from backend-builder into the runtime stage.", m[1]),
			}
		}},
	// jemalloc, as LD_PRELOAD maps it into node, ends node before its
	// first line on a kernel of larger pages than it was built for, and
	// on settings it refuses when told to abort on them.
	{lazy(`<jemalloc>: Unsupported system page size`),
		func([]string) Diagnosis {
			return Diagnosis{
				Cause: "jemalloc, preloaded into node, is built for smaller memory pages than this kernel's",
				Hint: "A Raspberry Pi 5 under Raspberry Pi OS runs a kernel of 16 KiB pages (`getconf PAGESIZE` on the host). " +
					"Preload a jemalloc built with `--with-lg-page=16`, which runs on 4, 16 and 64 KiB pages, or remove LD_PRELOAD (the Dockerfile's ENV) and node runs on its own allocator; " +
					"on the host, `kernel=kernel8.img` in the boot partition's config.txt boots a kernel of 4 KiB pages.",
			}
		}},
	{lazy(`(?:<jemalloc>: Invalid conf pair: ([^\n]*)\n)+<jemalloc>: Abort \(abort_conf:true\)`),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("jemalloc, preloaded into node, refuses its setting %s", m[1]),
				Hint:  "Correct MALLOC_CONF (the Dockerfile's ENV): comma-separated name:value pairs of jemalloc's options (`background_thread:true,dirty_decay_ms:20000`).",
			}
		}},
	// Failures of the app's own, at run time, that a Home Assistant user
	// can act on: node's JavaScript heap full, and a SQLite database
	// (better-sqlite3, sqlite3) whose file cannot be opened.
	{lazy(`Allocation failed - JavaScript heap out of memory`),
		func([]string) Diagnosis {
			return Diagnosis{
				Cause: "the JavaScript heap reached its limit (V8's --max-old-space-size, by default set from the memory node sees)",
				Hint: "A leak, or a limit too small for the app: the launcher's lines of node's memory show how it grew. " +
					"Where the machine has the memory, raise the limit in MiB with LAUNCHER_NODE_ARGS (`--max-old-space-size=512`).",
			}
		}},
	{lazy(`Cannot open database because the directory does not exist|SQLITE_CANTOPEN|unable to open database file`),
		func(m []string) Diagnosis {
			d := Diagnosis{
				Cause: "the app's SQLite database cannot be opened",
				Hint: "Keep the database in a folder that is in the add-on and that node's user (LAUNCHER_USER) may write: " +
					"/data is in every add-on, /share and /config only when config.yaml maps them.",
			}
			if strings.HasPrefix(m[0], "Cannot open") {
				d.Cause += ": its folder does not exist"
			}
			return d
		}},
	{lazy(`EADDRINUSE[^\n]*?:(\d+)`),
		func(m []string) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("port %s is already in use", m[1]),
				Hint:  "Another process listens on it (a second instance, or a host-network add-on): stop it, or change the port (PORT, config.yaml's ports).",
			}
		}},
}

func missingLibDiagnosis(lib, libc string) Diagnosis {
	hint := fmt.Sprintf("Install the package that provides %s in the runtime stage.", lib)
	if pkg := apkPackage(lib); pkg != "" && libc == "musl" {
		hint = fmt.Sprintf("Install it in the runtime stage: `RUN apk add --no-cache %s`.", pkg)
	} else if pkg := debPackage(lib); pkg != "" && libc == "glibc" {
		hint = fmt.Sprintf("Install it in the runtime stage: `RUN apt-get install -y %s`.", pkg)
	}
	return Diagnosis{Cause: fmt.Sprintf("the shared library %s is missing", lib), Hint: hint}
}

// Diagnose matches node's last stderr lines against the known failures.
func Diagnose(lines []string) []Diagnosis {
	text := strings.Join(lines, "\n")
	var out []Diagnosis
	for _, p := range stderrPatterns {
		if m := p.re.get().FindStringSubmatch(text); m != nil {
			out = append(out, p.explain(m))
		}
	}
	return out
}

// IllegalInstruction explains node's death by SIGILL: an instruction the
// CPU does not have, run by node or a native module built for a newer
// one. Its lines come first: V8 ends node with an illegal instruction on
// purpose after its own fatal errors ("# Fatal error in …"), which are no
// fault of the CPU's.
func IllegalInstruction(lines []string, cpu CPU) (Diagnosis, bool) {
	text := strings.Join(lines, "\n")
	if strings.Contains(text, "# Fatal error in") || strings.Contains(text, "FATAL ERROR:") {
		return Diagnosis{}, false
	}
	d := Diagnosis{
		Cause: fmt.Sprintf("an instruction %s does not have (SIGILL)", cpu.describe()),
		Hint: "A binary (node, a native module) is built for a newer CPU than this one (-march=native on the build machine, or a prebuild for a later CPU): " +
			"install builds for this CPU's generation.",
	}
	switch {
	case cpu.armV80():
		d.Cause = fmt.Sprintf("an instruction of ARMv8.1 or later (SIGILL), which %s lacks: it is ARMv8.0", cpu.describe())
		d.Hint = "A native module built for ARMv8.1 or later runs its atomics on every CPU: `launcher check` in the image names the one it finds; " +
			"install a release of it built for ARMv8.0 (armv8-a)."
	case len(cpu.hiddenX86()) > 0:
		d.Cause += fmt.Sprintf(": a virtual machine whose CPU type hides the host's instruction sets (it has no %s)", strings.Join(cpu.hiddenX86(), ", "))
		d.Hint = "Give the virtual machine the host's CPU type: in Proxmox, the VM's Hardware, Processors, Type `host`; " +
			"in virt-manager or libvirt, `host-passthrough`."
	}
	return d, true
}
