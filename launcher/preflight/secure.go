package preflight

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/plural"
)

// Secure is how node runs in the kernel's secure-execution mode (AT_SECURE),
// which node's file can ask for: a set-ID bit, or capabilities
// (`setcap cap_net_raw+ep`, as Bluetooth libraries ask of node). There the
// dynamic loader, glibc's and musl's alike, ignores LD_LIBRARY_PATH and
// LD_PRELOAD; and node, unless it holds cap_net_bind_service alone (the
// exception node makes since the fix of CVE-2024-21892), ignores
// NODE_OPTIONS and NODE_EXTRA_CA_CERTS (what it reads through its
// SafeGetenv). The app's own reads of process.env are untouched.
type Secure struct {
	// Why is what marks node's exec secure; "" when nothing does.
	Why string
	// IgnoresOptions says node ignores NODE_OPTIONS and
	// NODE_EXTRA_CA_CERTS, and the gate's preload with them.
	IgnoresOptions bool
}

// SecureExecution tells how node, executed from path by a process of user
// uid and group gid (without new privileges when nnp, as under Docker's
// `--security-opt no-new-privileges`), runs in secure-execution mode, by
// the kernel's rules (commoncap.c's, exec.c's):
//
//   - on a filesystem mounted nosuid, the file's set-ID bits and
//     capabilities do nothing;
//   - a set-user-ID file of another owner than uid, or a set-group-ID file
//     of another group than gid, is run with other IDs (not without new
//     privileges): secure, and node ignores its options (its IDs differ);
//   - file capabilities mark the exec of a user other than root secure when
//     the file's effective bit is set or they raise the process's
//     permitted set, which they cannot without new privileges. node then
//     holds the file's permitted set (without new privileges: what the
//     process had of it, nothing for a user other than root), and keeps
//     its options only if that is cap_net_bind_service alone. Root gains
//     nothing by them.
//
// The answer errs towards secure: an inheritable capability that the
// process may hold counts as held. A security module that marks an exec
// secure is not foreseen.
func SecureExecution(path string, uid, gid uint32, nnp bool) Secure {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return Secure{} // node's check tells why it cannot start
	}
	var fs unix.Statfs_t
	if unix.Statfs(path, &fs) == nil && fs.Flags&unix.ST_NOSUID != 0 {
		return Secure{}
	}
	switch {
	case nnp:
	case st.Mode&unix.S_ISUID != 0 && st.Uid != uid:
		return Secure{fmt.Sprintf("its file is set-user-ID to uid %d", st.Uid), true}
	case st.Mode&unix.S_ISGID != 0 && st.Gid != gid:
		return Secure{fmt.Sprintf("its file is set-group-ID to gid %d", st.Gid), true}
	}
	if uid == 0 {
		return Secure{}
	}
	caps, ok := fileCapabilities(path)
	switch {
	case !ok:
		return Secure{}
	case nnp && caps.effective:
		return Secure{fmt.Sprintf("its file has capabilities (%s), which a process without new privileges does not get", caps), true}
	case nnp:
		return Secure{} // nothing raised, nothing effective
	case !caps.effective && caps.permitted|caps.inheritable == 0:
		return Secure{}
	}
	const bind = 1 << unix.CAP_NET_BIND_SERVICE
	return Secure{
		Why:            fmt.Sprintf("its file has capabilities (%s) that raise uid %d", caps, uid),
		IgnoresOptions: caps.permitted != bind || caps.inheritable&^caps.permitted != 0,
	}
}

// bindServiceLost tells whether node's file at path asks for
// cap_net_bind_service, and, when it does, why node does not hold it (a
// process without new privileges, the file without the effective bit, a
// nosuid mount) with the fix; lost is "" when node holds it, or why it
// does not is not known. (A bounding set without it is CapsRefused's:
// node does not start at all.)
func bindServiceLost(path string, nnp bool) (asks bool, lost, fix string) {
	caps, ok := fileCapabilities(path)
	if !ok || caps.permitted&(1<<unix.CAP_NET_BIND_SERVICE) == 0 {
		return false, "", ""
	}
	var fs unix.Statfs_t
	switch {
	case nnp:
		return true, "the launcher runs without new privileges (Docker's `--security-opt no-new-privileges`), under which no file capability is granted",
			"Run the container without no-new-privileges"
	case !caps.effective:
		return true, "without the effective bit, so node holds it unused (node does not raise it itself)",
			"Set it with the effective bit: `setcap cap_net_bind_service=+ep " + path + "`"
	case unix.Statfs(path, &fs) == nil && fs.Flags&unix.ST_NOSUID != 0:
		return true, "its filesystem is mounted nosuid, where file capabilities do nothing",
			"Keep node on a filesystem mounted without nosuid (the image's own)"
	}
	return true, "", ""
}

// privileged are the capabilities a Home Assistant add-on may ask for in
// config.yaml's privileged (the Supervisor adds them to Docker's default
// set, which lacks most of them).
var privileged = map[int]bool{
	unix.CAP_BPF: true, unix.CAP_DAC_READ_SEARCH: true, unix.CAP_IPC_LOCK: true, unix.CAP_NET_ADMIN: true,
	unix.CAP_NET_RAW: true, unix.CAP_PERFMON: true, unix.CAP_SYS_ADMIN: true, unix.CAP_SYS_MODULE: true,
	unix.CAP_SYS_NICE: true, unix.CAP_SYS_PTRACE: true, unix.CAP_SYS_RAWIO: true, unix.CAP_SYS_RESOURCE: true,
	unix.CAP_SYS_TIME: true,
}

// CapsRefused explains the kernel's refusal (EPERM) to execute the file at
// path: its capabilities, with the effective bit, include some that the
// bounding set (bounded) lacks, and the kernel runs no file whose
// effective capabilities it cannot all grant, for root neither. ok is
// false when they do not explain it.
func CapsRefused(path string, bounded func(capability int) bool) (cause, fix string, ok bool) {
	caps, has := fileCapabilities(path)
	if !has || !caps.effective || bounded == nil {
		return "", "", false
	}
	var missing uint64
	var upper []string
	asked := true // every missing one is one an add-on may ask for
	for i := range 64 {
		if caps.permitted&(1<<i) != 0 && !bounded(i) {
			missing |= 1 << i
			upper = append(upper, strings.ToUpper(strings.TrimPrefix(capNames(1<<i), "cap_")))
			asked = asked && privileged[i]
		}
	}
	if missing == 0 {
		return "", "", false
	}
	n := len(upper)
	cause = fmt.Sprintf("the kernel refuses to run it (operation not permitted): its file has the capabilities %s, of which %s %s not in this container's bounding set, "+
		"and the kernel runs no file whose effective capabilities it cannot all grant, not even for root", caps, capNames(missing), plural.Word(n, "is", "are"))
	give := fmt.Sprintf("`docker run --cap-add %s`", strings.Join(upper, " --cap-add "))
	if asked {
		give = fmt.Sprintf("config.yaml's `privileged: [%s]` (Home Assistant gives an add-on only the capabilities it lists beyond Docker's defaults; %s)", strings.Join(upper, ", "), give)
	}
	fix = fmt.Sprintf("Give the container %s: %s; or take %s off node's file in the runtime stage (`setcap -r %s`, or setcap only what the container has).",
		plural.Word(n, "that capability", "those capabilities"), give, plural.Word(n, "it", "them"), path)
	return cause, fix, true
}

// Bounded reports whether this process's bounding set holds capability,
// which caps what its children's file capabilities grant.
func Bounded(capability int) bool {
	v, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(capability), 0, 0, 0)
	return err != nil || v == 1 // not known: held, as it is by default
}

// NoNewPrivs reports whether this process runs without new privileges
// (no_new_privs, which every child inherits).
func NoNewPrivs() bool {
	v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	return err == nil && v == 1
}

// fileCaps are a file's capabilities (security.capability).
type fileCaps struct {
	permitted, inheritable uint64
	effective              bool
}

// fileCapabilities reads the capabilities of the file at path; ok is false
// when it has none.
func fileCapabilities(path string) (caps fileCaps, ok bool) {
	var b [24]byte // the largest, revision 3: magic, two pairs, the namespace's root
	n, err := unix.Getxattr(path, "security.capability", b[:])
	if err != nil {
		return fileCaps{}, false // ENODATA (none), ENOTSUP (a filesystem without them)
	}
	return parseCapabilities(b[:n])
}

// parseCapabilities reads a security.capability value, struct
// vfs_cap_data of any revision: little-endian, the magic and its flags,
// then the permitted and inheritable words, 32 bits in revision 1 (12
// bytes), 64 in two halves in revisions 2 and 3 (20 and 24 bytes; 3 adds
// the user namespace's root). Shorter is a value the kernel itself would
// refuse: none.
func parseCapabilities(b []byte) (caps fileCaps, ok bool) {
	if len(b) < 12 {
		return fileCaps{}, false
	}
	le := binary.LittleEndian
	caps.effective = le.Uint32(b[0:])&1 != 0 // VFS_CAP_FLAGS_EFFECTIVE
	caps.permitted, caps.inheritable = uint64(le.Uint32(b[4:])), uint64(le.Uint32(b[8:]))
	if len(b) >= 20 {
		caps.permitted |= uint64(le.Uint32(b[12:])) << 32
		caps.inheritable |= uint64(le.Uint32(b[16:])) << 32
	}
	return caps, true
}

// String names the capabilities as setcap does: the permitted ones, then
// the inheritable ones the permitted set lacks.
func (c fileCaps) String() string {
	names := capNames(c.permitted)
	if extra := capNames(c.inheritable &^ c.permitted); extra != "" {
		if names != "" {
			names += ", "
		}
		names += "inheritable " + extra
	}
	if names == "" {
		return "none but the effective bit"
	}
	return names
}

// capabilities are the kernel's names of its capabilities, by number.
var capabilities = [...]string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
	"cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
	"cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control",
	"cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
}

// capNames names the capabilities in set, comma-separated; a number the
// table does not know as cap_<n>.
func capNames(set uint64) string {
	var names []string
	for i := range 64 {
		if set&(1<<i) == 0 {
			continue
		}
		if i < len(capabilities) {
			names = append(names, capabilities[i])
		} else {
			names = append(names, fmt.Sprintf("cap_%d", i))
		}
	}
	return strings.Join(names, ",")
}

// checkSecureExecution says that node runs in secure-execution mode, why,
// and which of the variables set for node do nothing there: a warning when
// one is set, as what it asks for (a heap limit, a preload, a library, a
// certificate authority) silently does not happen.
func (p *Preflight) checkSecureExecution() Check {
	c := Check{Name: "secure-execution", Status: StatusPass}
	var byNode, byLoader []string
	if p.secure.IgnoresOptions {
		if p.NodeOptions != "" {
			byNode = append(byNode, "NODE_OPTIONS")
		}
		if p.getenv("NODE_EXTRA_CA_CERTS") != "" {
			byNode = append(byNode, "NODE_EXTRA_CA_CERTS")
		}
	}
	if p.LDLibraryPath != "" {
		byLoader = append(byLoader, "LD_LIBRARY_PATH")
	}
	if p.LDPreload != "" {
		byLoader = append(byLoader, "LD_PRELOAD")
	}
	keeps := "node keeps its options (it holds cap_net_bind_service alone)"
	if p.secure.IgnoresOptions {
		keeps = "node ignores NODE_OPTIONS and NODE_EXTRA_CA_CERTS"
	}
	c.Detail = fmt.Sprintf("node, as %s, runs in secure-execution mode: %s; there %s, and its loader ignores LD_LIBRARY_PATH and LD_PRELOAD",
		p.RunAs, p.secure.Why, keeps)
	if len(byNode)+len(byLoader) == 0 {
		return c
	}
	c.Status = StatusWarn
	set := append(byNode, byLoader...)
	names := set[len(set)-1]
	if len(set) > 1 {
		names = strings.Join(set[:len(set)-1], ", ") + " and " + names
	}
	c.Detail += fmt.Sprintf(": so %s, set for node, %s nothing", names, plural.Word(len(set), "does", "do"))
	var fixes []string
	for _, v := range set {
		switch v {
		case "NODE_OPTIONS":
			fixes = append(fixes, "pass node's options as its arguments (LAUNCHER_NODE_ARGS), which node reads in that mode too")
		case "NODE_EXTRA_CA_CERTS":
			fixes = append(fixes, "have the app give its TLS connections the certificate authority itself (their ca option)")
		case "LD_LIBRARY_PATH":
			fixes = append(fixes, "install the libraries in a folder the loader searches on its own (/usr/lib)")
		}
	}
	fixes = append(fixes, "or let node start outside that mode: as root (LAUNCHER_USER unset), which file capabilities do not put in that mode, "+
		"or without capabilities on its file (`setcap -r`), if the app does without them")
	c.Hint = strings.ToUpper(fixes[0][:1]) + fixes[0][1:]
	if len(fixes) > 1 {
		c.Hint += "; " + strings.Join(fixes[1:], "; ")
	}
	c.Hint += "."
	return c
}

// getenv is the value of the variable name in node's environment.
func (p *Preflight) getenv(name string) string {
	v := ""
	for _, kv := range p.env() {
		if rest, ok := strings.CutPrefix(kv, name+"="); ok {
			v = rest
		}
	}
	return v
}
