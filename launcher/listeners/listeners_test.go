package listeners

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/listeners/listenerstest"
	"github.com/hasync/launcher/launcher/network/nettest"
)

// The kernel's own tables: a listener this test opens on loopback, one on
// every IPv6 address, and a connected socket (not listening) are told as
// they are.
func TestOf_TheKernelsTables(t *testing.T) {
	lo, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	all, err := net.Listen("tcp6", "[::]:0")
	if err != nil {
		t.Skipf("no IPv6 here: %v", err)
	}
	defer all.Close()
	conn, err := net.Dial("tcp4", lo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	addrs, exact, err := Of([]int{os.Getpid()})
	if err != nil || !exact {
		t.Fatalf("Of: %v, exact %v", err, exact)
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort(lo.Addr().String()),
		netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(all.Addr().(*net.TCPAddr).Port)),
	}
	for _, w := range want {
		if !slices.Contains(addrs, w) {
			t.Errorf("Of = %v, lacks %v", addrs, w)
		}
	}
	if len(addrs) != 2 {
		t.Errorf("Of = %v, want the 2 listeners alone (the dialed connection is not one)", addrs)
	}
	if LoopbackOnly(addrs) {
		t.Errorf("LoopbackOnly(%v) = true", addrs)
	}
	if !LoopbackOnly(want[:1]) || LoopbackOnly(nil) {
		t.Errorf("LoopbackOnly wrong for %v or for none", want[:1])
	}
}

// A child's listener is found through its descriptors; the caller's own
// are not the child's.
func TestOf_AChildsListener(t *testing.T) {
	mine, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	pid, port := listenerstest.Node(t, nil, listenerstest.OnLoopback6)
	addrs, exact, err := Of([]int{pid})
	if err != nil || !exact {
		t.Fatalf("Of: %v, exact %v", err, exact)
	}
	if got, want := Ports(addrs), "[::1]:"+port; got != want {
		t.Errorf("Of(child) = %s, want %s", got, want)
	}
	if !LoopbackOnly(addrs) {
		t.Errorf("LoopbackOnly(%v) = false", addrs)
	}
}

// As in a Docker container: the launcher root without CAP_SYS_PTRACE, and
// node another user, whose descriptors it may not read. Its user tells its
// listeners then; root's own (the caller's, and this machine's services)
// are not counted.
func TestOf_AnotherUsersChildWithoutPtrace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a child as another user")
	}
	mine, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	pid, port := listenerstest.Node(t, &syscall.Credential{Uid: 65534, Gid: 65534}, listenerstest.OnLoopback6)
	type result struct {
		addrs []netip.AddrPort
		exact bool
		err   error
	}
	done := make(chan result)
	go func() {
		// Capabilities are a thread's: this one drops CAP_SYS_PTRACE, and
		// ends with the goroutine (locked, never unlocked).
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- result{err: err}
			return
		}
		data[0].Effective &^= 1 << unix.CAP_SYS_PTRACE
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- result{err: err}
			return
		}
		if _, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid)); err == nil {
			done <- result{err: fmt.Errorf("the child's descriptors are readable without CAP_SYS_PTRACE")}
			return
		}
		addrs, exact, err := Of([]int{pid})
		done <- result{addrs, exact, err}
	}()
	r := <-done
	if r.err != nil || r.exact {
		t.Fatalf("Of: %v, exact %v", r.err, r.exact)
	}
	if got, want := Ports(r.addrs), "[::1]:"+port; got != want {
		t.Errorf("Of(another user's child) = %s, want %s", got, want)
	}
}

func TestParseTable(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1 0000000067bd1ecb 100 0 0 10 0
   1: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 218 1 0000000067bd1ecb 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 219 1 0000000067bd1ecb 100 0 0 10 0
`
	got, err := ParseTable(strings.NewReader(tcp))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{217: "127.0.0.1:8080", 218: "0.0.0.0:3000"}
	if got[218].UID != 1000 || got[217].UID != 0 {
		t.Errorf("the sockets' users: %d and %d, want 0 and 1000", got[217].UID, got[218].UID)
	}
	if len(got) != len(want) {
		t.Errorf("ParseTable = %v, want %v (the connection in state 01 is no listener)", got, want)
	}
	for inode, a := range want {
		if got[inode].Addr.String() != a {
			t.Errorf("inode %d: %v, want %s", inode, got[inode], a)
		}
	}
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 300 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:1F94 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 301 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F95 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 302 1 0 100 0 0 10 0
`
	got, err = ParseTable(strings.NewReader(tcp6))
	if err != nil {
		t.Fatal(err)
	}
	for inode, a := range map[uint64]string{300: "[::]:8083", 301: "[::1]:8084", 302: "127.0.0.1:8085"} {
		if got[inode].Addr.String() != a {
			t.Errorf("inode %d: %v, want %s", inode, got[inode], a)
		}
	}
	for _, bad := range []string{
		"header\n   0: 0100007F 00000000:0000 0A 0 0 0 0 0 217\n",
		"header\n   0: 0100007Z:1F90 00000000:0000 0A 0 0 0 0 0 217\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 x\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 u 0 217\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A\n",
	} {
		if _, err := ParseTable(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("ParseTable(%q) = %v, want an error naming line 2", bad, err)
		}
	}
}

// A table is a line per socket of the network, connections and TIME_WAIT
// included: thousands on a busy host, or where something polls /status
// over new connections. Reading it allocates for its listeners, not for
// every line: reading all lines whole raised the launcher's memory by
// 2.5 MB over a thousand restarts polled through /status with 10,000
// sockets in the table (TestFault_ThousandRestartsLeakNothing, in CI).
func TestParseTable_ConnectionsCostNothing(t *testing.T) {
	var table strings.Builder
	table.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	table.WriteString("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1 0000000067bd1ecb 100 0 0 10 0\n")
	for i := range 10000 {
		fmt.Fprintf(&table, "%4d: 0100007F:%04X 0100007F:1F90 06 00000000:00000000 03:00001234 00000000     0        0 0 3 00000000f41236ff\n", i+1, 30000+i%30000)
	}
	b := []byte(table.String())
	var got map[uint64]Socket
	allocs := testing.AllocsPerRun(3, func() {
		var err error
		if got, err = ParseTable(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	})
	if len(got) != 1 {
		t.Fatalf("ParseTable = %v, want the one listener", got)
	}
	if allocs > 50 {
		t.Errorf("%.0f allocations to read a table of 10,001 sockets with one listener, want a few", allocs)
	}
}

// FuzzParseTable: any table is read or refused with an error, never a
// panic, and what it reads prints as an address and a port.
func FuzzParseTable(f *testing.F) {
	f.Add([]byte("  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1\n"))
	f.Add([]byte("h\n 0: 00000000000000000000000001000000:1F94 0:0 0A 0 0 0 0 0 301\n"))
	f.Add([]byte("h\n 1: 0100007F:A1B2 0900010A:0050 02 00000000:00000000 01:00000123 00000003     0        0 400 1\n 2: 0100007F:A1B3 0200007F:0035 01 0 0 0 0 0 401\n"))
	f.Add([]byte("h\n 3: 0100000A:B7C2 0100030A:1FBB 01 000001A4:00000000 01:000004B0 00000005     0        0 220 1\n 4: 0100000A:B7C3 0100030A:1FBB 01 FFFFFFFFF 0 1 0 0 221\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func(io.Reader) (map[uint64]Socket, error){ParseTable, ParseWaits} {
			t2, err := parse(bytes.NewReader(b))
			if err != nil {
				continue
			}
			for _, s := range t2 {
				for _, a := range []netip.AddrPort{s.Addr, s.Remote} {
					if _, err := netip.ParseAddrPort(a.String()); err != nil {
						t.Errorf("%v does not print as an address: %v", a, err)
					}
				}
				if s.Tries < 0 || s.Unacked < 0 {
					t.Errorf("%d tries, %d bytes unacknowledged", s.Tries, s.Unacked)
				}
			}
		}
	})
}

// The sockets that wait on the network: a connection sent and not
// answered (SYN_SENT, sent again 3 times), a connection established whose
// 0x1a4 bytes were sent again 5 times unacknowledged, a UDP socket
// connected to a DNS server; not a connection answered and acknowledged
// (nor one with bytes in flight not sent again yet), nor a listener, nor a
// UDP socket connected elsewhere.
func TestParseWaits(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1 0000000067bd1ecb 100 0 0 10 0
   1: 0100000A:A1B2 0900010A:0050 02 00000001:00000000 01:00000123 00000003  1000        0 218 1 0000000067bd1ecb 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 219 1 0000000067bd1ecb 100 0 0 10 0
   3: 0100000A:B7C2 0100030A:1FBB 01 000001A4:00000000 01:000004B0 00000005     0        0 220 1 0000000067bd1ecb 100 0 0 10 0
   4: 0100000A:B7C3 0100030A:1FBB 01 00000040:00000000 01:00000014 00000000     0        0 221 1 0000000067bd1ecb 100 0 0 10 0
`
	udp := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 0100007F:C350 0200007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 300 2 0000000000000000 0
  101: 0100007F:C351 0200007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 301 2 0000000000000000 0
  102: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 302 2 0000000000000000 0
`
	got, err := ParseWaits(strings.NewReader(tcp))
	if err != nil {
		t.Fatal(err)
	}
	if s := got[218]; len(got) != 2 || s.Remote.String() != "10.1.0.9:80" || s.Addr.String() != "10.0.0.1:41394" || s.Tries != 3 || s.UID != 1000 || s.Unacked != 0 {
		t.Errorf("ParseWaits(tcp) = %+v, want the connection sent to 10.1.0.9:80, 3 tries, uid 1000's", got)
	}
	if s := got[220]; s.Remote.String() != "10.3.0.1:8123" || s.Tries != 5 || s.Unacked != 0x1a4 {
		t.Errorf("ParseWaits(tcp)[220] = %+v, want the connection to 10.3.0.1:8123, 420 bytes unacknowledged, 5 tries", s)
	}
	got, err = ParseWaits(strings.NewReader(udp))
	if err != nil {
		t.Fatal(err)
	}
	if s := got[300]; len(got) != 1 || s.Remote.String() != "127.0.0.2:53" {
		t.Errorf("ParseWaits(udp) = %+v, want the socket connected to 127.0.0.2:53", got)
	}
}

// A real node waiting on the network, in a namespace of the test's own: a
// connection to an address that never answers, and a DNS lookup its DNS
// server does not answer. Waits tells both, by node's descriptors.
func TestWaits_RealNode(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	ns.Unanswered(t, "10.1.0.0/24")
	ns.DNS.Mute("down.example.com")
	ns.ResolvConf(t, "nameserver 127.0.0.2\noptions timeout:30 attempts:1\n")
	cmd := exec.Command("ip", "netns", "exec", ns.Name, "node", "-e",
		"require('net').connect(80, '10.1.0.9').on('error', () => {}); require('dns').lookup('down.example.com', () => {}); setInterval(() => {}, 1e6)")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	want := []Wait{{Remote: netip.MustParseAddrPort("127.0.0.2:53"), DNS: true}, {Remote: netip.MustParseAddrPort("10.1.0.9:80")}}
	var got []Wait
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var exact bool
		var err error
		if got, exact, err = Waits([]int{cmd.Process.Pid}); err != nil || !exact {
			t.Fatalf("Waits = %v, exact %v, %v", got, exact, err)
		}
		for i := range got {
			got[i].Tries = 0 // the kernel's count, by the time
		}
		if slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("Waits = %+v, want %+v", got, want)
}

// A real node whose connection's other end went away without closing it:
// a machine beside its namespace, connected to, then switched off, while
// node goes on writing. Waits tells the connection, established, with
// what node sent and the kernel sent again, unacknowledged; not the
// machine's connection to node's own server, which node writes to as well
// and which is as unacknowledged: node does not wait on a client.
func TestWaits_RealNodeWhosePeerWentAway(t *testing.T) {
	ns := nettest.NewNetns(t, "127.0.0.1 localhost\n")
	peer := ns.Peer(t)
	l := peer.Listen(t, peer.Addr+":8123")
	if err := l.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second)); err != nil { // node never connecting fails, not hangs
		t.Fatal(err)
	}
	const write = "setInterval(() => s.write('x'.repeat(100)), 50)"
	cmd := exec.Command("ip", "netns", "exec", ns.Name, "node", "-e",
		"require('net').createServer(s => { s.on('error', () => {}); "+write+" }).listen(9000, () => {"+
			"const s = require('net').connect(8123, '10.3.0.1').on('error', () => {}); s.on('connect', () => "+write+") })")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := l.Accept() // node listens by now
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer.Dial(t, "10.3.0.2:9000")
	if err := peer.Off(); err != nil {
		t.Fatal(err)
	}
	var got []Wait
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _, err = Waits([]int{cmd.Process.Pid}); err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].Remote.String() == "10.3.0.1:8123" && !got[0].DNS && got[0].Tries > 0 && got[0].Unacked >= 100 &&
			unackedServed(t, cmd.Process.Pid, 9000) {
			t.Logf("%+v", got[0])
			return
		}
	}
	t.Fatalf("Waits = %+v, want the connection to 10.3.0.1:8123 alone, its data sent again", got)
}

// unackedServed says that the tables of pid's namespace have a connection
// accepted on port, its data sent again unacknowledged (node's server on
// every address is IPv6's, and takes IPv4 clients there: tcp6).
func unackedServed(t *testing.T, pid int, port uint16) bool {
	t.Helper()
	for _, name := range []string{"tcp", "tcp6"} {
		table, err := readTable(fmt.Sprintf("/proc/%d/net/%s", pid, name), ParseWaits)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range table {
			if s.Addr.Port() == port && s.Unacked > 0 && s.Tries > 0 {
				return true
			}
		}
	}
	return false
}

// The network's floor for users' ports and its addresses, as the kernel
// tells them: loopback's address is among them.
func TestPortFloorAndAddresses(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		t.Skipf("no ip_unprivileged_port_start: %v", err)
	}
	if floor, err := PortFloor(); err != nil || fmt.Sprint(floor) != strings.TrimSpace(string(b)) {
		t.Errorf("PortFloor = %d, %v; the kernel says %s", floor, err, b)
	}
	addrs, err := Addresses()
	if err != nil || !slices.Contains(addrs, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("Addresses = %v, %v; want 127.0.0.1 among them", addrs, err)
	}
}

// BenchmarkOf: one look at where a process listens (a node server, as the
// launcher looks once its first start settles, and at a start not ready).
func BenchmarkOf(b *testing.B) {
	pid, _ := listenerstest.Node(b, nil, listenerstest.OnLoopback6)
	for b.Loop() {
		if _, _, err := Of([]int{pid}); err != nil {
			b.Fatal(err)
		}
	}
}
