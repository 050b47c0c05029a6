// Package listeners tells which TCP addresses a process tree listens on,
// and which answers it waits on from the network (a TCP connection not
// answered yet, data sent on one and not acknowledged, a DNS lookup in
// flight), as the kernel's socket tables of
// its network namespace (/proc/<pid>/net/tcp, tcp6, udp and udp6) and the
// processes' descriptors tell. The launcher uses it to say why node is not
// ready (it listens on another port than the probe's, or on none yet), that
// node listening on loopback alone cannot be reached from outside its
// container (by Home Assistant's ingress, or a mapped port), and what on
// the network a node whose event loop is free waits on.
//
// Non-goals: Unix sockets, connections whose data was acknowledged (idle,
// or waiting for the other end's reply: the kernel cannot tell a slow
// server from a silent one), and network namespaces other than the first
// process's own.
package listeners

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The tables' "st" column: TCP_LISTEN, TCP_SYN_SENT, and TCP_ESTABLISHED,
// which a UDP socket connected to one address has too.
const (
	stateListen      = "0A"
	stateSynSent     = "02"
	stateEstablished = "01"
)

// dnsPort is the DNS servers' port.
const dnsPort = 53

// Socket is a socket of a table: where it listens or connects from, where
// it connects to, the user who made it, how many times the kernel sent
// again what was not answered, and, of a TCP connection established, the
// bytes it sent that the other end has not acknowledged yet.
type Socket struct {
	Addr    netip.AddrPort
	Remote  netip.AddrPort
	UID     uint32
	Tries   int
	Unacked int
}

// ParseTable reads a /proc/net/tcp or tcp6 table: the listening sockets in
// it, by inode. A line it cannot read is an error naming the line. The
// table has a line for every socket of the network, connections and
// TIME_WAIT included (thousands on a busy host): it is read a line at a
// time, and only a listener's line costs an allocation.
func ParseTable(r io.Reader) (map[uint64]Socket, error) {
	return scanTable(r, func(state, _, _ []byte) bool { return string(state) == stateListen })
}

// ParseWaits reads a /proc/net/tcp, tcp6, udp or udp6 table: the sockets
// that wait on an answer from the network, by inode: a TCP connection
// sent and not answered yet (SYN_SENT); a socket connected to a DNS
// server's port (a lookup in flight: the C library and c-ares connect
// their UDP socket to the server they ask); and a TCP connection
// established whose data the kernel has sent again, unacknowledged (the
// other end gone without closing it: a machine switched off, a network
// that went away). A UDP socket's retransmits are always 0.
func ParseWaits(r io.Reader) (map[uint64]Socket, error) {
	return scanTable(r, func(state, remote, tries []byte) bool {
		if string(state) == stateSynSent {
			return true
		}
		return string(state) == stateEstablished && (bytes.HasSuffix(remote, []byte(":0035")) || !allZero(tries))
	})
}

// allZero says that a table's hex number is 0.
func allZero(hex []byte) bool {
	return len(bytes.Trim(hex, "0")) == 0
}

// scanTable reads the sockets of a table that keep takes, by their state,
// remote address and retransmits as the table writes them.
func scanTable(r io.Reader, keep func(state, remote, tries []byte) bool) (map[uint64]Socket, error) {
	out := map[uint64]Socket{}
	sc := bufio.NewScanner(r)
	var f [10][]byte
	for i := 1; sc.Scan(); i++ {
		n := fields(sc.Bytes(), f[:])
		if i == 1 || n == 0 {
			continue // the header, and an empty line
		}
		if n < len(f) {
			return nil, fmt.Errorf("line %d: %d fields, want 10 or more", i, n)
		}
		if !keep(f[3], f[2], f[6]) {
			continue
		}
		addr, err := parseAddr(string(f[1]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		remote, err := parseAddr(string(f[2]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		tries, err := strconv.ParseUint(string(f[6]), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: retransmits %q: %w", i, f[6], err)
		}
		uid, err := strconv.ParseUint(string(f[7]), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: uid %q: %w", i, f[7], err)
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: inode %q: %w", i, f[9], err)
		}
		sock := Socket{Addr: addr, Remote: remote, UID: uint32(uid), Tries: int(tries)}
		if string(f[3]) == stateEstablished && tries > 0 {
			// tx_queue, of a TCP connection: what it sent, not acknowledged.
			tx, _, _ := bytes.Cut(f[4], []byte(":"))
			unacked, err := strconv.ParseUint(string(tx), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: tx_queue %q: %w", i, f[4], err)
			}
			sock.Unacked = int(unacked)
		}
		out[inode] = sock
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// fields puts the space-separated fields of line into f, as many as fit,
// and returns how many line has.
func fields(line []byte, f [][]byte) int {
	n := 0
	for {
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 {
			return n
		}
		end := bytes.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		if n < len(f) {
			f[n] = line[:end]
		}
		n++
		line = line[end:]
	}
}

// parseAddr reads "0100007F:1F90": the address as the kernel's 32-bit words
// printed in hexadecimal in the machine's byte order, then the port.
func parseAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: port: %w", s, err)
	}
	raw, err := hex.DecodeString(host)
	if err != nil || len(raw) != 4 && len(raw) != 16 {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hexadecimal digits", s)
	}
	for w := 0; w < len(raw); w += 4 {
		binary.NativeEndian.PutUint32(raw[w:], binary.BigEndian.Uint32(raw[w:]))
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// Of returns the TCP addresses the processes pids listen on, sorted, from
// the tables of the first one's network namespace. When a process's
// descriptors cannot be read (the launcher as root without CAP_SYS_PTRACE,
// as in a Docker container, and node run as another user), its user tells
// its listeners instead: each of the namespace's made by that user, but the
// caller's own; exact is false then.
func Of(pids []int) (addrs []netip.AddrPort, exact bool, err error) {
	sockets, exact, err := heldBy(pids, ParseTable, "tcp", "tcp6")
	for _, s := range sockets {
		addrs = append(addrs, s.Addr)
	}
	slices.SortFunc(addrs, func(a, b netip.AddrPort) int {
		return cmp.Or(cmp.Compare(a.Port(), b.Port()), a.Addr().Compare(b.Addr()))
	})
	return slices.Compact(addrs), exact, err
}

// Wait is an answer a process tree waits on from the network: a TCP
// connection's (its SYN sent Tries times more; or, established, Unacked
// bytes of its data sent Tries times more), or a DNS server's.
type Wait struct {
	Remote  netip.AddrPort
	DNS     bool
	Tries   int
	Unacked int
}

// Waits returns the answers the processes pids wait on from the network
// (ParseWaits), from the tables of the first one's network namespace;
// exact as for Of. The DNS servers' come first, then the connections, each
// by address. A connection the processes accepted (its local port one
// they listen on) is not one they wait on: a client that went away with
// data of theirs unacknowledged (a phone off the WiFi) holds nothing.
func Waits(pids []int) (waits []Wait, exact bool, err error) {
	sockets, exact, err := heldBy(pids, ParseWaits, "tcp", "tcp6", "udp", "udp6")
	if err != nil {
		return nil, exact, err
	}
	unacked := func(s Socket) bool { return s.Unacked > 0 }
	if slices.ContainsFunc(sockets, unacked) {
		listening, _, err := heldBy(pids, ParseTable, "tcp", "tcp6")
		if err != nil {
			return nil, exact, err
		}
		sockets = slices.DeleteFunc(sockets, func(s Socket) bool {
			return unacked(s) && slices.ContainsFunc(listening, func(l Socket) bool { return l.Addr.Port() == s.Addr.Port() })
		})
	}
	for _, s := range sockets {
		waits = append(waits, Wait{Remote: s.Remote, DNS: s.Remote.Port() == dnsPort, Tries: s.Tries, Unacked: s.Unacked})
	}
	slices.SortFunc(waits, func(a, b Wait) int {
		if a.DNS != b.DNS {
			if a.DNS {
				return -1
			}
			return 1
		}
		return cmp.Or(a.Remote.Addr().Compare(b.Remote.Addr()), cmp.Compare(a.Remote.Port(), b.Remote.Port()))
	})
	return slices.Compact(waits), exact, err
}

// heldBy reads the named tables of the first process's network namespace
// with parse, and returns the sockets the processes pids hold. When a
// process's descriptors cannot be read (the launcher as root without
// CAP_SYS_PTRACE, as in a Docker container, and node run as another user),
// its user tells its sockets instead: each of the namespace's made by that
// user, but the caller's own; exact is false then.
func heldBy(pids []int, parse func(io.Reader) (map[uint64]Socket, error), tables ...string) (sockets []Socket, exact bool, err error) {
	if len(pids) == 0 {
		return nil, true, nil
	}
	table := map[uint64]Socket{}
	for _, name := range tables {
		t, err := readTable(fmt.Sprintf("/proc/%d/net/%s", pids[0], name), parse)
		if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(name, "6") {
			continue // a kernel without IPv6
		}
		if err != nil {
			return nil, false, err
		}
		maps.Copy(table, t)
	}
	exact = true
	held, users := map[uint64]bool{}, map[uint32]bool{}
	for _, pid := range pids {
		if socketsOf(strconv.Itoa(pid), held) {
			continue
		}
		uid, err := userOf(pid)
		if err != nil {
			continue // gone meanwhile
		}
		users[uid], exact = true, false
	}
	own := map[uint64]bool{}
	if !exact {
		socketsOf("self", own)
	}
	for inode, s := range table {
		if held[inode] || users[s.UID] && !own[inode] {
			sockets = append(sockets, s)
		}
	}
	return sockets, exact, nil
}

// readTable reads the table at path with parse, as the kernel writes it,
// a page at a time.
func readTable(path string, parse func(io.Reader) (map[uint64]Socket, error)) (map[uint64]Socket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// userOf is the user process pid runs as (its effective uid), which any
// process may read.
func userOf(pid int) (uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				uid, err := strconv.ParseUint(f[1], 10, 32)
				return uint32(uid), err
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no Uid line", pid)
}

// socketsOf adds the inodes of the sockets process pid holds to held; false
// when its descriptors cannot be read. A process gone meanwhile holds none.
func socketsOf(pid string, held map[uint64]bool) bool {
	dir := "/proc/" + pid + "/fd/"
	fds, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	for _, fd := range fds {
		// Root lists the folder by CAP_DAC_OVERRIDE; each link asks for
		// the right to trace the process.
		link, err := os.Readlink(dir + fd.Name())
		if errors.Is(err, os.ErrPermission) {
			return false
		}
		if err != nil {
			continue // closed meanwhile
		}
		if s, ok := strings.CutPrefix(link, "socket:["); ok {
			if inode, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				held[inode] = true
			}
		}
	}
	return true
}

// LoopbackOnly tells that addrs, all of them, are loopback addresses
// (127.0.0.0/8, ::1): none reachable from outside the network namespace.
func LoopbackOnly(addrs []netip.AddrPort) bool {
	for _, a := range addrs {
		if !a.Addr().IsLoopback() {
			return false
		}
	}
	return len(addrs) > 0
}

// Ports lists addrs for a log line: "0.0.0.0:3000, [::1]:3001".
func Ports(addrs []netip.AddrPort) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// PortFloor is the lowest port a user other than root may listen on in the
// caller's network namespace (net.ipv4.ip_unprivileged_port_start; it
// holds for IPv6 too).
func PortFloor() (int, error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Addresses are the addresses of the network namespace's interfaces.
func Addresses() ([]netip.Addr, error) {
	nets, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	return out, nil
}
