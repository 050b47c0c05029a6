package listeners

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
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
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	cmd := exec.Command(py, "-c", "import socket,sys\ns=socket.socket(socket.AF_INET6)\ns.bind(('::1',0))\ns.listen()\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()")
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	buf := make([]byte, 16)
	n, _ := out.Read(buf)
	port := strings.TrimSpace(string(buf[:n]))

	addrs, exact, err := Of([]int{cmd.Process.Pid})
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

func TestParseTable(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1 0000000067bd1ecb 100 0 0 10 0
   1: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 218 1 0000000067bd1ecb 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 219 1 0000000067bd1ecb 100 0 0 10 0
`
	got, err := ParseTable([]byte(tcp))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{217: "127.0.0.1:8080", 218: "0.0.0.0:3000"}
	if len(got) != len(want) {
		t.Errorf("ParseTable = %v, want %v (the connection in state 01 is no listener)", got, want)
	}
	for inode, a := range want {
		if got[inode].String() != a {
			t.Errorf("inode %d: %v, want %s", inode, got[inode], a)
		}
	}
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 300 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:1F94 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 301 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F95 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 302 1 0 100 0 0 10 0
`
	got, err = ParseTable([]byte(tcp6))
	if err != nil {
		t.Fatal(err)
	}
	for inode, a := range map[uint64]string{300: "[::]:8083", 301: "[::1]:8084", 302: "127.0.0.1:8085"} {
		if got[inode].String() != a {
			t.Errorf("inode %d: %v, want %s", inode, got[inode], a)
		}
	}
	for _, bad := range []string{
		"header\n   0: 0100007F 00000000:0000 0A 0 0 0 0 0 217\n",
		"header\n   0: 0100007Z:1F90 00000000:0000 0A 0 0 0 0 0 217\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 x\n",
		"header\n   0: 0100007F:1F90 00000000:0000 0A\n",
	} {
		if _, err := ParseTable([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("ParseTable(%q) = %v, want an error naming line 2", bad, err)
		}
	}
}

// FuzzParseTable: any table is read or refused with an error, never a
// panic, and what it reads prints as an address and a port.
func FuzzParseTable(f *testing.F) {
	f.Add([]byte("  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1\n"))
	f.Add([]byte("h\n 0: 00000000000000000000000001000000:1F94 0:0 0A 0 0 0 0 0 301\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		t2, err := ParseTable(b)
		if err != nil {
			return
		}
		for _, a := range t2 {
			if _, err := netip.ParseAddrPort(a.String()); err != nil {
				t.Errorf("%v does not print as an address: %v", a, err)
			}
		}
	})
}
