// Package nettest gives tests a network to fail in, for real: a DNS
// server that answers, says a name does not exist, or stays silent, as
// the test tells it; a network namespace of the test's own, with
// loopback up, its own /etc/hosts and /etc/resolv.conf (`ip netns exec`
// mounts them over the system's for what it runs), the DNS server
// listening inside it on port 53, networks that never answer, and a
// machine beside it that can be switched off; and TLS
// servers with certificates of a test's authority, self-signed, for
// another name or out of their dates. The namespace needs root and
// iproute2: where they are missing a test skips, but not under CI, which
// must run it.
package nettest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// DNS is a DNS server on UDP. Names it knows get their addresses, names
// it is told to keep silent on get no answer, and any other name does not
// exist.
type DNS struct {
	Addr netip.AddrPort // where it listens

	conn *net.UDPConn
	mu   sync.Mutex
	recs map[string][]netip.Addr
	mute map[string]bool           // names never answered
	late map[string]netip.AddrPort // names not answered to their first asker: its socket
	// heard are closed at the first question for their name.
	heard map[string]chan struct{}
}

// ServeDNS starts a DNS server on addr (127.0.0.1:0 for any port), until
// the test ends.
func ServeDNS(t testing.TB, addr string) *DNS {
	t.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("DNS server on %s: %v", addr, err)
	}
	return serve(t, c.(*net.UDPConn))
}

func serve(t testing.TB, c *net.UDPConn) *DNS {
	d := &DNS{Addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), conn: c,
		recs: map[string][]netip.Addr{}, mute: map[string]bool{}, late: map[string]netip.AddrPort{},
		heard: map[string]chan struct{}{}}
	done := make(chan struct{})
	go func() { defer close(done); d.loop() }()
	t.Cleanup(func() { c.Close(); <-done })
	return d
}

// Set gives name its addresses.
func (d *DNS) Set(name string, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range addrs {
		d.recs[strings.ToLower(name)] = append(d.recs[strings.ToLower(name)], netip.MustParseAddr(a))
	}
}

// Mute leaves every query for name unanswered.
func (d *DNS) Mute(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mute[strings.ToLower(name)] = true
}

// Late leaves the queries for name of its first asker unanswered, and
// answers any other: a DNS server that was not up yet when a program
// asked, and is now. An asker is a socket: the C library asks a name's
// addresses, and asks again, from one.
func (d *DNS) Late(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.late[strings.ToLower(name)] = netip.AddrPort{}
}

// Heard is closed once the server has been asked for name, from then
// on: a test can act while its asker waits for the answer.
func (d *DNS) Heard(name string) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.heardLocked(strings.ToLower(name))
}

func (d *DNS) heardLocked(name string) chan struct{} {
	c, ok := d.heard[name]
	if !ok {
		c = make(chan struct{})
		d.heard[name] = c
	}
	return c
}

func (d *DNS) loop() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if out, ok := d.answer(buf[:n], from); ok {
			d.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

// answer is the reply to one query; false leaves it unanswered.
func (d *DNS) answer(q []byte, from netip.AddrPort) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, false
	}
	question, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(strings.TrimSuffix(question.Name.String(), "."))
	d.mu.Lock()
	if c := d.heardLocked(name); !closed(c) {
		close(c)
	}
	first, late := d.late[name]
	if late && !first.IsValid() {
		first = from
		d.late[name] = from
	}
	silent := d.mute[name] || late && from == first
	recs, known := d.recs[name]
	d.mu.Unlock()
	if silent {
		return nil, false
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	if !known {
		b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: dnsmessage.RCodeNameError})
	}
	b.StartQuestions()
	b.Question(question)
	b.StartAnswers()
	for _, a := range recs {
		rh := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 0}
		switch {
		case a.Is4() && question.Type == dnsmessage.TypeA:
			b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case a.Is6() && question.Type == dnsmessage.TypeAAAA:
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// made counts the namespaces made, for their names.
var made atomic.Int64

// Netns is a network namespace of the test's own.
type Netns struct {
	Name string
	DNS  *DNS // its DNS server, on 127.0.0.2:53, the only one its resolv.conf names
	dir  string
}

// NewNetns makes a network namespace with loopback up, hosts as its
// /etc/hosts, a DNS server inside it and a resolv.conf that names it,
// asking once with a second's timeout as the C library does when told so.
func NewNetns(t testing.TB, hosts string) *Netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		skip(t, "iproute2's ip is not installed")
	}
	n := &Netns{Name: fmt.Sprintf("launcher-test-%d-%d", os.Getpid(), made.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		skip(t, fmt.Sprintf("ip netns add: %v: %s", err, out))
	}
	n.dir = filepath.Join("/etc/netns", n.Name)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "delete", n.Name).Run()
		os.RemoveAll(n.dir)
	})
	n.Run(t, "ip", "link", "set", "lo", "up")
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(n.dir, "hosts"), hosts)
	write(t, filepath.Join(n.dir, "resolv.conf"), "nameserver 127.0.0.2\noptions timeout:1 attempts:1\n")
	c, err := n.listen("127.0.0.2:53")
	if err != nil {
		t.Fatalf("DNS server in %s: %v", n.Name, err)
	}
	n.DNS = serve(t, c)
	return n
}

// ResolvConf replaces the namespace's resolv.conf, for the commands run
// in it from now on.
func (n *Netns) ResolvConf(t testing.TB, s string) {
	t.Helper()
	write(t, filepath.Join(n.dir, "resolv.conf"), s)
}

// Unanswered makes prefix (10.1.0.0/24) a network whose addresses take
// connections and never answer, as behind a firewall that drops them: its
// route goes through a gateway whose hardware address is written down
// (no neighbour is looked for) to a veth pair's other end, which drops
// frames for an address not its own.
func (n *Netns) Unanswered(t testing.TB, prefix string) {
	t.Helper()
	n.Run(t, "ip", "link", "add", "silent0", "type", "veth", "peer", "name", "silent1")
	n.Run(t, "ip", "link", "set", "silent0", "up")
	n.Run(t, "ip", "link", "set", "silent1", "up")
	n.Run(t, "ip", "neigh", "add", "169.254.9.9", "lladdr", "02:00:00:00:09:09", "dev", "silent0", "nud", "permanent")
	n.Run(t, "ip", "route", "add", prefix, "via", "169.254.9.9", "dev", "silent0", "onlink")
}

// Peer is a machine on the namespace's network, as Home Assistant or a
// broker is on an add-on's: a namespace of its own, at Addr (10.3.0.1),
// which the test's reaches through a veth pair (10.3.0.2 on its end).
type Peer struct {
	*Netns
	Addr string
}

// Peer adds a machine to the namespace's network.
func (n *Netns) Peer(t testing.TB) *Peer {
	t.Helper()
	p := &Peer{Netns: NewNetns(t, "127.0.0.1 localhost\n"), Addr: "10.3.0.1"}
	n.Run(t, "ip", "link", "add", "peer0", "type", "veth", "peer", "name", "peer1", "netns", p.Name)
	n.Run(t, "ip", "addr", "add", "10.3.0.2/24", "dev", "peer0")
	n.Run(t, "ip", "link", "set", "peer0", "up")
	p.Run(t, "ip", "addr", "add", p.Addr+"/24", "dev", "peer1")
	p.Run(t, "ip", "link", "set", "peer1", "up")
	return p
}

// Off switches the machine off, as its power or its network goes: it
// answers nothing more and closes nothing (its end of the pair is down,
// and what reaches the pair is dropped), so a connection to it stays
// established, and what is sent on it is sent again, unacknowledged. It
// returns its failure rather than failing the test: a test may switch the
// machine off from a goroutine of its own, once connected to.
func (p *Peer) Off() error {
	if out, err := exec.Command("ip", "netns", "exec", p.Name, "ip", "link", "set", "peer1", "down").CombinedOutput(); err != nil {
		return fmt.Errorf("switching %s off: %v: %s", p.Name, err, out)
	}
	return nil
}

// OffOnceConnected switches the machine off once something connected to
// l, a listener of its own, so that the connection stays established. The
// channel gives Off's failure, or the accept's: nothing connected within
// 20 s, or l closed.
func (p *Peer) OffOnceConnected(l net.Listener) <-chan error {
	off := make(chan error, 1)
	if tl, ok := l.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(20 * time.Second)) // nothing connecting fails, not hangs
	}
	go func() {
		conn, err := l.Accept()
		if err != nil {
			off <- fmt.Errorf("nothing connected to the machine: %w", err)
			return
		}
		defer conn.Close()
		off <- p.Off()
	}()
	return off
}

// Run runs a command in the namespace, failing the test if it fails.
func (n *Netns) Run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("in %s, %s: %v: %s", n.Name, strings.Join(args, " "), err, out)
	}
}

// Exec is the prefix that runs a command in the namespace, with its files.
func (n *Netns) Exec() []string { return []string{"ip", "netns", "exec", n.Name} }

// Listen opens a TCP listener inside the namespace, until the test ends.
func (n *Netns) Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	err := n.in(func() (err error) { l, err = net.Listen("tcp", addr); return err })
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// Dial connects to addr from inside the namespace, until the test ends.
func (n *Netns) Dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	err := n.in(func() (err error) { c, err = net.Dial("tcp", addr); return err })
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// listen opens the DNS server's socket inside the namespace: a socket
// stays in the namespace it was made in, whatever thread then reads it.
func (n *Netns) listen(addr string) (*net.UDPConn, error) {
	var c net.PacketConn
	err := n.in(func() (err error) { c, err = net.ListenPacket("udp", addr); return err })
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// in runs f on a thread moved into the namespace; the thread is thrown
// away after (not unlocked), so no other goroutine runs in the namespace.
func (n *Netns) in(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(filepath.Join("/run/netns", n.Name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the network namespace tests: %s", why)
	}
	t.Skip(why)
}
