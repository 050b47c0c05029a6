package preflight

import (
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher/disk"
	"github.com/hasync/launcher/launcher/network"
)

// Diagnosis explains a known failure found in node's last stderr lines.
type Diagnosis struct {
	Cause string `json:"cause"`
	Hint  string `json:"fix"`
	// Unreached: node failed for want of something on the network that
	// may come back by itself: a DNS server that did not answer, an
	// address that refused or did not answer (Home Assistant restarting,
	// a network not up yet at the machine's start). Not a name that does
	// not exist, nor the container's own loopback: those are the app's
	// settings, which no wait mends. The restart policy weighs it.
	Unreached bool `json:"-"`
}

// stderrPatterns are the messages node and the loaders print for the
// failures preflight checks statically; they catch what slipped through
// (a module loaded lazily, a check turned off).
var stderrPatterns = []struct {
	re      *lazyRegexp
	explain func(m []string, on Machine) Diagnosis
}{
	// First: a library for another CPU also misses its own libraries and
	// symbols, which musl reports before it.
	{lazy(`Error relocating ([^:]+): unsupported relocation type`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("%s is built for another CPU: musl's loader cannot relocate it", m[1]),
				Hint:  "Build or install it in the runtime stage for the image's platform; never copy node_modules or libraries built on another one.",
			}
		}},
	{lazy(`compiled against a different Node\.js version using\s+NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("a native module was built for NODE_MODULE_VERSION %s, node needs %s", m[1], m[2]),
				Hint:  "Build backend-builder FROM the same Node major as the runtime's node, then `npm ci` (or `npm rebuild`) there.",
			}
		}},
	{lazy(`Error loading shared library ([^:\s]+): No such file`),
		func(m []string, _ Machine) Diagnosis { return missingLibDiagnosis(m[1], "musl") }},
	{lazy(`([^\s:]+\.so[.\d]*): cannot open shared object file`),
		func(m []string, _ Machine) Diagnosis { return missingLibDiagnosis(m[1], "glibc") }},
	{lazy(`Error relocating ([^:]+): ([^:]+): symbol not found`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("%s needs the symbol %s, which the runtime's libraries lack", m[1], m[2]),
				Hint:  "Build backend-builder FROM node:<major>-alpine on the runtime's Alpine release, so it links against the same musl and libraries.",
			}
		}},
	{lazy("version `((?:GLIBC|GLIBCXX|CXXABI)_[\\d.]+)' not found"),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("a native module needs %s, which the runtime's libraries do not define", m[1]),
				Hint:  "Build backend-builder on the same distribution release as the runtime, or use a newer runtime base image.",
			}
		}},
	// glibc's words since 2.35, and before; musl's loader maps such a
	// library askew instead, and node dies of SIGSEGV (pages.go).
	{lazy(`(\S+): ELF load command (?:address/offset not page-aligned|address/offset not properly aligned|alignment not page-aligned)`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("%s is laid out for smaller memory pages than this kernel's (the linker's -z max-page-size)", m[1]),
				Hint:  pagesHint(packageOfFile(m[1]), true),
			}
		}},
	{lazy(`invalid ELF header|wrong ELF class|Exec format error`),
		func([]string, Machine) Diagnosis {
			return Diagnosis{
				Cause: "a native module is for another operating system or CPU",
				Hint:  "Run `npm ci` inside backend-builder for the image's platform; keep node_modules out of the build context (.dockerignore).",
			}
		}},
	{lazy(`Cannot find module '([^']+)'`),
		func(m []string, _ Machine) Diagnosis {
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
		func([]string, Machine) Diagnosis {
			return Diagnosis{
				Cause: "jemalloc, preloaded into node, is built for smaller memory pages than this kernel's",
				Hint: "A Raspberry Pi 5 under Raspberry Pi OS runs a kernel of 16 KiB pages (`getconf PAGESIZE` on the host). " +
					"Preload a jemalloc built with `--with-lg-page=16`, which runs on 4, 16 and 64 KiB pages, or remove LD_PRELOAD (the Dockerfile's ENV) and node runs on its own allocator; " +
					"on the host, `kernel=kernel8.img` in the boot partition's config.txt boots a kernel of 4 KiB pages.",
			}
		}},
	{lazy(`(?:<jemalloc>: Invalid conf pair: ([^\n]*)\n)+<jemalloc>: Abort \(abort_conf:true\)`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("jemalloc, preloaded into node, refuses its setting %s", m[1]),
				Hint:  "Correct MALLOC_CONF (the Dockerfile's ENV): comma-separated name:value pairs of jemalloc's options (`background_thread:true,dirty_decay_ms:20000`).",
			}
		}},
	// Failures of the app's own, at run time, that a Home Assistant user
	// can act on: node's JavaScript heap full, and a SQLite database
	// (better-sqlite3, sqlite3) whose file cannot be opened.
	{lazy(`Allocation failed - JavaScript heap out of memory`),
		func([]string, Machine) Diagnosis {
			return Diagnosis{
				Cause: "the JavaScript heap reached its limit (V8's --max-old-space-size, by default set from the memory node sees)",
				Hint: "A leak, or a limit too small for the app: the launcher's lines of node's memory show how it grew. " +
					"Where the machine has the memory, raise the limit in MiB with LAUNCHER_NODE_ARGS (`--max-old-space-size=512`).",
			}
		}},
	{lazy(`Cannot open database because the directory does not exist|SQLITE_CANTOPEN|unable to open database file`),
		func(m []string, on Machine) Diagnosis {
			d := Diagnosis{
				Cause: "the app's SQLite database cannot be opened",
				Hint: "Keep the database in a folder that is in the add-on and that node's user (LAUNCHER_USER) may write: " +
					"/data is in every add-on, /share and /config only when config.yaml maps them.",
			}
			if strings.HasPrefix(m[0], "Cannot open") {
				d.Cause += ": its folder does not exist"
				return d
			}
			// SQLite opens a database in WAL mode by creating its -shm
			// file beside it, which a disk read-only or full refuses.
			switch u, ok := on.disk(""); {
			case ok && u.ReadOnly:
				d.Cause += ": " + readOnly(u)
				d.Hint = failingDiskHint
			case ok && u.Full():
				full := fullDisk(u)
				d.Cause += ": " + full.Cause
				d.Hint = full.Hint
			default:
				if why, hint := on.dataRefused("its user"); why != "" {
					d.Cause += ": " + why
					d.Hint = hint
				}
			}
			return d
		}},
	// The disk under the app's files, as SQLite and node's fs report it:
	// full, mounted read-only, failing, or a database damaged. The
	// machine tells which disk and how it stands now.
	{lazy(`database or disk is full|SQLITE_FULL|ENOSPC: no space left on device(?:, \w+ '([^']*)')?`),
		func(m []string, on Machine) Diagnosis {
			u, ok := on.disk(m[1])
			switch {
			case !ok:
				return Diagnosis{Cause: "a disk node wrote to is full", Hint: fullDiskHint}
			case u.Full():
				return fullDisk(u)
			}
			return Diagnosis{Cause: "a disk node wrote to was full (" + u.String() + " now: room made since, or another disk)", Hint: fullDiskHint}
		}},
	{lazy(`attempt to write a readonly database|SQLITE_READONLY|EROFS: read-only file system(?:, \w+ '([^']*)')?`),
		func(m []string, on Machine) Diagnosis {
			d := Diagnosis{Cause: "a disk node wrote to is mounted read-only", Hint: failingDiskHint}
			u, ok := on.disk(m[1])
			switch {
			case ok && u.ReadOnly:
				d.Cause = readOnly(u)
			case ok && !strings.HasPrefix(m[0], "EROFS"):
				d.Cause = "the app's SQLite database is read-only to node: node's user may not write its file, its folder, or the -wal and -shm files beside it"
				d.Hint = "Make the database, its folder and its -wal and -shm files writable by node's user (LAUNCHER_USER): files an earlier version created as root stay root's. " +
					"LAUNCHER_USER_DIRS=/data gives the add-on's folder, and what is in it, to node's user at each start."
				if why, hint := on.dataRefused("its user"); why != "" {
					d.Cause = "the app's SQLite database is read-only to node: " + why
					d.Hint = hint
				}
			}
			return d
		}},
	{lazy(`database disk image is malformed|file is not a database|SQLITE_CORRUPT|SQLITE_NOTADB`),
		func(m []string, _ Machine) Diagnosis {
			d := Diagnosis{
				Cause: "the app's SQLite database is damaged (" + m[0] + ")",
				Hint: "Restore the add-on from a backup made before the damage (Settings > System > Backups, this add-on alone), " +
					"or stop it and save what SQLite still reads: `sqlite3 damaged.db .recover | sqlite3 recovered.db`. " +
					"A power cut while the database was written, or a failing SD card, does this.",
			}
			if strings.Contains(m[0], "NOTADB") || strings.HasPrefix(m[0], "file is") {
				d.Cause = "a file the app opens as its SQLite database is not one: damaged at its start, or another file at its path"
			}
			return d
		}},
	{lazy(`disk I/O error|SQLITE_IOERR|EIO: i/o error(?:, \w+ '([^']*)')?`),
		func(m []string, on Machine) Diagnosis {
			d := Diagnosis{Cause: "the disk failed a read or a write (an I/O error)", Hint: failingDiskHint}
			if u, ok := on.disk(m[1]); ok {
				d.Cause = fmt.Sprintf("the disk under %s failed a read or a write (an I/O error)", u.Folder)
				if u.ReadOnly {
					d.Cause += ", and is read-only now"
				}
			}
			return d
		}},
	// node refused by the file system's permissions: the bits on the way
	// to the file, as its user sees them, say which.
	{lazy(`EACCES: permission denied, (\w+) '([^']*)'(?: -> '([^']*)')?`),
		func(m []string, on Machine) Diagnosis { return on.permissionDenied(m[1], m[2], m[3]) }},
	{lazy(`spawn(?:Sync)? (\S+) EACCES`),
		func(m []string, on Machine) Diagnosis { return on.notExecutable(m[1]) }},
	// node refused the address it would listen on (net.Server's "listen"
	// error: the address, then the port, IPv6 ones unbracketed).
	{lazy(`listen EACCES: permission denied (\S*):(\d+)`),
		func(m []string, on Machine) Diagnosis { return on.portRefused(m[1], m[2]) }},
	{lazy(`listen EADDRNOTAVAIL: address not available (\S*):(\d+)`),
		func(m []string, on Machine) Diagnosis { return on.addressNotHere(m[1]) }},
	// node could not reach something: a name it could not resolve
	// (getaddrinfo for dns.lookup, which http, net and fetch use; query*
	// for dns.resolve), an address that refused or did not answer.
	{lazy(`(getaddrinfo|query[A-Z]*) (ENOTFOUND|EAI_AGAIN|EAI_FAIL|ETIMEOUT|ESERVFAIL) ([^\s'"]+)`),
		func(m []string, on Machine) Diagnosis { return on.unresolved(m[1], m[2], m[3]) }},
	{lazy(`connect (ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH) (\S+):(\d+)`),
		func(m []string, on Machine) Diagnosis { return on.unreached(m[1], m[2], m[3]) }},
	{lazy(`Connect Timeout Error \(attempted address(?:es)?: (\S+):(\d+)[,)]`),
		func(m []string, on Machine) Diagnosis { return on.unreached("UND_ERR_CONNECT_TIMEOUT", m[1], m[2]) }},
	// node refused a server's TLS certificate (tls, https, fetch): by its
	// code, which node prints with the error.
	{lazy(`(Host|IP): (\S+?)\.? is not in the cert's (?:altnames|list): ([^\n"]*)`),
		func(m []string, _ Machine) Diagnosis { return certificateName(m[1], m[2], m[3]) }},
	{lazy(`code: '(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_GET_ISSUER_CERT)'`),
		func(m []string, on Machine) Diagnosis { return on.certificateUnverified(m[1]) }},
	{lazy(`code: '(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)'`),
		func(m []string, on Machine) Diagnosis { return on.certificateDates(m[1]) }},
	{lazy(`EADDRINUSE[^\n]*?:(\d+)`),
		func(m []string, _ Machine) Diagnosis {
			return Diagnosis{
				Cause: fmt.Sprintf("port %s is already in use", m[1]),
				Hint:  "Another process listens on it (a second instance, or a host-network add-on): stop it, or change the port (PORT, config.yaml's ports).",
			}
		}},
}

// fullDiskHint is what to do about a full disk on a Home Assistant machine.
const fullDiskHint = "Make room on the machine's disk: delete old backups (Settings > System > Backups), keep less history in Home Assistant's recorder (purge_keep_days), remove add-ons you do not use; then restart the add-on."

// fullDisk says that the filesystem u tells of is full, and what to do.
func fullDisk(u disk.Usage) Diagnosis {
	if u.Memory {
		return Diagnosis{
			Cause: "a filesystem kept in memory (tmpfs) is full: " + u.String(),
			Hint:  fmt.Sprintf("%s is bounded by its own size: have the app write less there, or write its files to /data.", u.Folder),
		}
	}
	return Diagnosis{Cause: "the disk is full: " + u.String(), Hint: fullDiskHint}
}

// DiskTrouble is what will keep the app from writing under u's folder,
// told before node starts: a filesystem mounted read-only, or one full.
func DiskTrouble(u disk.Usage) (Diagnosis, bool) {
	switch {
	case u.ReadOnly:
		return Diagnosis{Cause: readOnly(u) + ": the app cannot write there", Hint: failingDiskHint}, true
	case u.Full():
		return fullDisk(u), true
	}
	return Diagnosis{}, false
}

// readOnly says that the filesystem u tells of takes no writes.
func readOnly(u disk.Usage) string {
	return fmt.Sprintf("the disk under %s is mounted read-only", u.Folder)
}

// failingDiskHint is what to do about a disk that fails its writes, which
// Linux then mounts read-only.
const failingDiskHint = "Linux mounts a disk read-only when writing to it fails: the SD card or USB disk is failing or came loose. " +
	"Look for I/O errors in the host's log (Settings > System > Logs, the Host log; or `ha host logs`), make a full backup and copy it off the machine, and move Home Assistant to a new disk."

// Machine is what a diagnosis may look at beyond node's words, each read
// only when a pattern needs it. The zero Machine looks at nothing: the
// diagnoses then say what the words alone tell.
type Machine struct {
	// Disk tells how the filesystem under a folder stands.
	Disk func(folder string) (disk.Usage, error)
	// DataDir is the add-on's own folder (/data), where its database is
	// when node's words name no file.
	DataDir string
	// User is who node runs as, and Stat reads a file's owner and mode:
	// with either nil, node's refusals are said in its words alone.
	User *User
	Stat func(path string) (fs.FileInfo, error)
	// PortFloor is the lowest port a user other than root may listen on
	// (net.ipv4.ip_unprivileged_port_start), and Addrs the addresses of
	// the network's interfaces: with either nil, a refused listen is said
	// in node's words alone.
	PortFloor func() (int, error)
	Addrs     func() ([]netip.Addr, error)
	// Node is node's file, whose capabilities may let its user listen
	// below the floor, and NoNewPrivs says node started without new
	// privileges: with Node empty, a refused listen is said without
	// node's capabilities.
	Node       string
	NoNewPrivs bool
	// Secure is how node ran in secure-execution mode, and ExtraCACerts
	// its NODE_EXTRA_CA_CERTS: a certificate node could not verify though
	// the variable names an authority's is told as the variable ignored.
	Secure       Secure
	ExtraCACerts string
	// Resolve resolves a name now as the container does, and Connect tries
	// a TCP connection to an address now: with either nil, or a look
	// called off (network.CalledOff, context.Canceled: the launcher is
	// stopping), node's failures to reach the network are said in its
	// words alone.
	Resolve func(name string) network.Answer
	Connect func(addr netip.AddrPort) error
	// Now reads the container's clock, and Built says when the launcher's
	// binary was written (the image's build; zero when unknown): with Now
	// nil, a certificate out of its dates is said in node's words alone.
	Now   func() time.Time
	Built func() time.Time
}

// disk is how the disk stands under the file node named, or under the
// data folder when node named none (SQLite's words name no file) or one
// relative to a folder unknown here.
func (on Machine) disk(named string) (disk.Usage, bool) {
	if filepath.IsAbs(named) {
		return on.under(filepath.Dir(named))
	}
	return on.under(on.DataDir)
}

// under is how the disk under folder stands.
func (on Machine) under(folder string) (disk.Usage, bool) {
	if on.Disk == nil || folder == "" {
		return disk.Usage{}, false
	}
	u, err := on.Disk(folder)
	return u, err == nil
}

// BusError explains node's death by SIGBUS, which on Linux is most often a
// page of a file node maps in memory that its filesystem could not back:
// a full disk refuses the page (SQLite maps its -shm file in WAL mode,
// and writes it through the mapping), and so does a full /dev/shm. It
// looks at the data folder's disk and at /dev/shm; with neither full it
// says nothing.
func BusError(on Machine) (Diagnosis, bool) {
	for _, folder := range []string{on.DataDir, "/dev/shm"} {
		if u, ok := on.under(folder); ok && u.Folder == filepath.Clean(folder) && u.Full() {
			d := fullDisk(u)
			d.Cause = "a file node maps in memory could not be written (SIGBUS): " + d.Cause
			return d, true
		}
	}
	return Diagnosis{}, false
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

// Diagnose matches node's last stderr lines against the known failures,
// looking at the machine they ran on where the words leave it open.
func Diagnose(lines []string, on Machine) []Diagnosis {
	text := strings.Join(lines, "\n")
	var out []Diagnosis
	for _, p := range stderrPatterns {
		if m := p.re.get().FindStringSubmatch(text); m != nil {
			out = append(out, p.explain(m, on))
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
