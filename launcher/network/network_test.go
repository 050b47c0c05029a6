package network_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/hasync/launcher/launcher/network"
	"github.com/hasync/launcher/launcher/network/nettest"
)

// resolverOf is a Resolver over the files given, asking the DNS servers
// the resolv.conf names on port.
func resolverOf(t testing.TB, hosts, resolvConf string, port uint16) network.Resolver {
	dir := t.TempDir()
	r := network.Resolver{Hosts: filepath.Join(dir, "hosts"), ResolvConf: filepath.Join(dir, "resolv.conf"), Port: int(port)}
	for path, s := range map[string]string{r.Hosts: hosts, r.ResolvConf: resolvConf} {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestResolve(t *testing.T) {
	dns := nettest.ServeDNS(t, "127.0.0.1:0")
	dns.Set("homeassistant", "172.30.32.1")
	dns.Set("api.example.com", "192.0.2.7", "2001:db8::7")
	dns.Mute("slow.example.com")
	hosts := "127.0.0.1 localhost\n# the Supervisor's names\n172.30.32.2\tSupervisor hassio # comment\n"
	r := resolverOf(t, hosts, "nameserver 127.0.0.1 # ours\n", dns.Addr.Port())

	for _, c := range []struct {
		name    string
		outcome network.Outcome
		addrs   []string
		inHosts bool
	}{
		{"supervisor", network.Resolved, []string{"172.30.32.2"}, true},
		{"HASSIO", network.Resolved, []string{"172.30.32.2"}, true},
		{"homeassistant", network.Resolved, []string{"172.30.32.1"}, false},
		{"api.example.com", network.Resolved, []string{"192.0.2.7", "2001:db8::7"}, false},
		{"api.exmaple.com", network.NotFound, nil, false},
		{"slow.example.com", network.Silent, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := r.Resolve(t.Context(), c.name)
			var got []string
			for _, x := range a.Addrs {
				got = append(got, x.String())
			}
			slices.Sort(got)
			if a.Outcome != c.outcome || !slices.Equal(got, c.addrs) || a.InHosts != c.inHosts {
				t.Fatalf("Resolve(%s) = %+v, want outcome %d, addresses %v, in hosts %v", c.name, a, c.outcome, c.addrs, c.inHosts)
			}
			if !c.inHosts && (!slices.Equal(a.Servers, []string{"127.0.0.1"}) || a.By != "127.0.0.1") {
				t.Fatalf("Resolve(%s) asked %v, by %q; want 127.0.0.1", c.name, a.Servers, a.By)
			}
		})
	}
}

// A silent first server leaves the answer to the next one.
func TestResolve_NextServer(t *testing.T) {
	dns := nettest.ServeDNS(t, "127.0.0.1:0")
	dns.Set("homeassistant", "172.30.32.1")
	// 127.0.0.9 has nothing on the port: refused, at once.
	r := resolverOf(t, "", "nameserver 127.0.0.9\nnameserver 127.0.0.1\n", dns.Addr.Port())
	if a := r.Resolve(t.Context(), "homeassistant"); a.Outcome != network.Resolved || a.By != "127.0.0.1" {
		t.Fatalf("Resolve = %+v, want resolved by the second server", a)
	}
	// With only the refusing one: a failure, said.
	r = resolverOf(t, "", "nameserver 127.0.0.9\n", dns.Addr.Port())
	if a := r.Resolve(t.Context(), "homeassistant"); a.Outcome != network.Failed || a.Err == "" {
		t.Fatalf("Resolve = %+v, want a failure with its words", a)
	}
}

// A look called off (the launcher asked to stop) ends then, not at
// Patience: while the DNS server keeps silent, and before it is asked. A
// name of the hosts file is still told: that look needs no network.
func TestResolve_CalledOff(t *testing.T) {
	dns := nettest.ServeDNS(t, "127.0.0.1:0")
	dns.Mute("slow.example.com")
	r := resolverOf(t, "172.30.32.2 supervisor\n", "nameserver 127.0.0.1\n", dns.Addr.Port())
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-dns.Heard("slow.example.com"); cancel() }()
	if a := r.Resolve(ctx, "slow.example.com"); a.Outcome != network.CalledOff {
		t.Fatalf("Resolve called off while the server is silent = %+v, want CalledOff", a)
	}
	if a := r.Resolve(ctx, "api.example.com"); a.Outcome != network.CalledOff {
		t.Fatalf("Resolve after it was called off = %+v, want CalledOff", a)
	}
	if a := r.Resolve(ctx, "supervisor"); a.Outcome != network.Resolved || !a.InHosts {
		t.Fatalf("Resolve of a hosts file's name, called off = %+v, want it resolved by the file", a)
	}
}

func TestConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(l.Addr().String())
	if err := network.Connect(t.Context(), addr); err != nil {
		t.Fatalf("Connect to a listener: %v", err)
	}
	l.Close()
	if err := network.Connect(t.Context(), addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Connect to a closed port: %v, want ECONNREFUSED", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := network.Connect(ctx, addr); !errors.Is(err, context.Canceled) {
		t.Fatalf("Connect called off: %v, want context.Canceled", err)
	}
}

func TestParseHosts(t *testing.T) {
	got := network.ParseHosts([]byte("127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n\n# x\nbogus line\n::ffff:10.0.0.1 mapped\n172.30.32.2 supervisor hassio#c\n"))
	want := map[string][]netip.Addr{
		"localhost":     {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"ip6-localhost": {netip.MustParseAddr("::1")},
		"mapped":        {netip.MustParseAddr("10.0.0.1")},
		"supervisor":    {netip.MustParseAddr("172.30.32.2")},
		"hassio":        {netip.MustParseAddr("172.30.32.2")},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseHosts = %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Fatalf("ParseHosts[%s] = %v, want %v", k, got[k], v)
		}
	}
}

func TestParseResolvConf(t *testing.T) {
	got := network.ParseResolvConf([]byte("# Docker's\nsearch local\nnameserver 172.30.32.3\nnameserver fe80::1%eth0 ; zone\nnameserver not-an-address\noptions ndots:0\n"))
	if want := []string{"172.30.32.3", "fe80::1%eth0"}; !slices.Equal(got, want) {
		t.Fatalf("ParseResolvConf = %v, want %v", got, want)
	}
}

func FuzzParseHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1 localhost\n172.30.32.2 supervisor hassio\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, addrs := range network.ParseHosts(b) {
			if name == "" || len(addrs) == 0 {
				t.Fatalf("ParseHosts gave %q: %v", name, addrs)
			}
		}
	})
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 172.30.32.3\noptions timeout:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range network.ParseResolvConf(b) {
			if _, err := netip.ParseAddr(s); err != nil {
				t.Fatalf("ParseResolvConf gave %q: %v", s, err)
			}
		}
	})
}

// What a look costs the exit it follows: a name from a DNS server on
// loopback, and a connection refused.
func BenchmarkResolve(b *testing.B) {
	dns := nettest.ServeDNS(b, "127.0.0.1:0")
	dns.Set("homeassistant", "172.30.32.1")
	r := resolverOf(b, "127.0.0.1 localhost\n", "nameserver 127.0.0.1\n", dns.Addr.Port())
	for b.Loop() {
		if a := r.Resolve(b.Context(), "homeassistant"); a.Outcome != network.Resolved {
			b.Fatalf("%+v", a)
		}
	}
}

func BenchmarkConnect_Refused(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	for b.Loop() {
		if err := network.Connect(b.Context(), addr); !errors.Is(err, syscall.ECONNREFUSED) {
			b.Fatal(err)
		}
	}
}
