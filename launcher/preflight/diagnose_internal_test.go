package preflight

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/disk"
	"github.com/hasync/launcher/launcher/network"
)

// Which disk a diagnosis looks at: the folder of the file node named when
// its path is absolute, else the add-on's data folder; and what it says by
// how that disk stands. The disks here are values: cmd/launcher's
// TestRun_DiagnosesTheDisk makes them for real.
func TestDiagnose_LooksAtTheDisk(t *testing.T) {
	stood := map[string]disk.Usage{
		"/data":      {Folder: "/data", Size: 29 << 30, Avail: 0, Files: 1e6, FilesFree: 1e5},
		"/tmp":       {Folder: "/tmp", Size: 1 << 20, Files: 100, FilesFree: 0, Memory: true},
		"/share/ro":  {Folder: "/share/ro", Size: 29 << 30, Avail: 9 << 30, ReadOnly: true},
		"/share/bad": {Folder: "/share/bad", Size: 29 << 30, Avail: 9 << 30},
	}
	var asked []string
	on := func(data string) Machine {
		return Machine{DataDir: data, Disk: func(folder string) (disk.Usage, error) {
			asked = append(asked, folder)
			if u, ok := stood[folder]; ok {
				return u, nil
			}
			return disk.Usage{}, errors.New("no such disk")
		}}
	}
	for _, c := range []struct {
		said, data, asked, cause string
	}{
		{"SqliteError: database or disk is full", "/data", "/data", "the disk is full: /data has 0B free of 29GiB"},
		{"Error: ENOSPC: no space left on device, open '/tmp/cache/x'", "/data", "/tmp/cache", "no such disk"},
		{"Error: ENOSPC: no space left on device, open '/tmp/x'", "/data", "/tmp", "a filesystem kept in memory (tmpfs) is full: /tmp has no room for a new file (all 100 inodes taken"},
		// A relative path is relative to a folder unknown here.
		{"Error: ENOSPC: no space left on device, open 'cache/x'", "/data", "/data", "the disk is full: /data"},
		{"Error: EROFS: read-only file system, open '/share/ro/x.db'", "/data", "/share/ro", "the disk under /share/ro is mounted read-only"},
		{"SqliteError: attempt to write a readonly database", "/share/bad", "/share/bad", "read-only to node: node's user may not write"},
		{"SqliteError: disk I/O error", "/share/ro", "/share/ro", "the disk under /share/ro failed a read or a write (an I/O error), and is read-only now"},
		{"SqliteError: disk I/O error", "/share/bad", "/share/bad", "the disk under /share/bad failed a read or a write (an I/O error)"},
		{"SqliteError: unable to open database file", "/share/ro", "/share/ro", "cannot be opened: the disk under /share/ro is mounted read-only"},
		{"SqliteError: unable to open database file", "/data", "/data", "cannot be opened: the disk is full: /data has 0B"},
		{"SqliteError: unable to open database file", "/share/bad", "/share/bad", "the app's SQLite database cannot be opened"},
		// The words tell it all: the disk is not looked at.
		{"TypeError: Cannot open database because the directory does not exist", "/data", "", "cannot be opened: its folder does not exist"},
	} {
		asked = nil
		ds := Diagnose([]string{c.said}, on(c.data))
		if c.asked == "" && len(asked) != 0 {
			t.Errorf("%q: looked at %q, want no look", c.said, asked)
		} else if c.asked != "" && (len(asked) != 1 || asked[0] != c.asked) {
			t.Errorf("%q: looked at %q, want %q", c.said, asked, c.asked)
		}
		if c.cause == "no such disk" {
			if len(ds) != 1 || ds[0].Cause != "a disk node wrote to is full" {
				t.Errorf("%q with no disk to look at: %+v", c.said, ds)
			}
			continue
		}
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, c.cause) {
			t.Errorf("%q: %+v, want %q", c.said, ds, c.cause)
		}
	}
	// The words alone, the machine not looked at (the node check's use),
	// and a disk with room now.
	for _, c := range []struct{ said, cause, hint string }{
		{"SqliteError: database or disk is full", "a disk node wrote to is full", "Settings > System > Backups"},
		{"Error: EROFS: read-only file system, open '/data/x'", "a disk node wrote to is mounted read-only", "host's log"},
		{"SqliteError: database disk image is malformed", "damaged (database disk image is malformed)", ".recover"},
		{"SqliteError: file is not a database", "is not one", ".recover"},
		{"Error: EIO: i/o error, read", "the disk failed a read or a write", "host's log"},
	} {
		if ds := Diagnose([]string{c.said}, Machine{}); len(ds) != 1 || !strings.Contains(ds[0].Cause, c.cause) || !strings.Contains(ds[0].Hint, c.hint) {
			t.Errorf("%q: %+v, want %q, %q", c.said, ds, c.cause, c.hint)
		}
	}
	roomy := Machine{DataDir: "/data", Disk: func(string) (disk.Usage, error) {
		return disk.Usage{Folder: "/data", Size: 29 << 30, Avail: 9 << 30}, nil
	}}
	if ds := Diagnose([]string{"SqliteError: database or disk is full"}, roomy); len(ds) != 1 || !strings.Contains(ds[0].Cause, "was full (/data has 9GiB free of 29GiB now") {
		t.Errorf("a disk with room now: %+v", ds)
	}
}

// Node's last lines are the app's and its libraries' words: whatever they
// say, Diagnose ends, and looks at no disk but the data folder and the
// folders of absolute paths it read, cleaned, once per diagnosis at most.
func FuzzDiagnose(f *testing.F) {
	for _, seed := range []string{
		"SqliteError: database or disk is full\n  code: 'SQLITE_FULL'",
		"Error: ENOSPC: no space left on device, open '/data/cache/x'",
		"Error: ENOSPC: no space left on device, open '/data/../../etc/x'",
		"Error: ENOSPC: no space left on device, open 'relative/x'",
		"Error: ENOSPC: no space left on device, open ''",
		"Error: EROFS: read-only file system, open '/share/x'",
		"SqliteError: attempt to write a readonly database",
		"SqliteError: disk I/O error\n  code: 'SQLITE_IOERR_WRITE'",
		"Error: EIO: i/o error, read",
		"SqliteError: database disk image is malformed",
		"SqliteError: file is not a database",
		"SqliteError: unable to open database file",
		"Error: listen EADDRINUSE: address already in use 0.0.0.0:8099",
		"Error: Cannot find module '/app/index.js'",
		"Error: /app/node_modules/x/build/Release/x.node: ELF load command address/offset not page-aligned",
		"Error: node_modules/: ELF load command alignment not page-aligned",
		"<jemalloc>: Invalid conf pair: a\n<jemalloc>: Abort (abort_conf:true)",
		"Error: EACCES: permission denied, open '/etc/shadow'",
		"Error: EACCES: permission denied, rename '/tmp/a' -> '/root/b'",
		"Error: EACCES: permission denied, symlink '/x' -> 'y'",
		"Error: spawnSync /bin EACCES",
		"Error: spawn /etc/hostname EACCES",
		"Error: listen EACCES: permission denied 0.0.0.0:80",
		"Error: listen EACCES: permission denied :::443",
		"Error: listen EADDRNOTAVAIL: address not available ::1:8099",
		"Error: listen EADDRNOTAVAIL: address not available hasync.local:8099",
		"  [cause]: Error: getaddrinfo EAI_AGAIN api.example.com\n    code: 'EAI_AGAIN',",
		"Error: getaddrinfo ENOTFOUND supervisor",
		"Error: queryA ETIMEOUT homeassistant",
		"Error: connect ECONNREFUSED 127.0.0.1:1883",
		"Error: connect ETIMEDOUT ::1:8123",
		"ConnectTimeoutError: Connect Timeout Error (attempted addresses: [::1]:443, 127.0.0.1:443, timeout: 10000ms)",
		"ConnectTimeoutError: Connect Timeout Error (attempted address: nas.lan:443, timeout: 10000ms)",
		"Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: homeassistant. is not in the cert's altnames: DNS:myhome.duckdns.org",
		"  [cause]: Error: self-signed certificate\n    code: 'DEPTH_ZERO_SELF_SIGNED_CERT'",
		"Error: certificate is not yet valid\n    code: 'CERT_NOT_YET_VALID'",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, said string) {
		var asked []string
		on := Machine{DataDir: "/data", Disk: func(folder string) (disk.Usage, error) {
			asked = append(asked, folder)
			return disk.Usage{Folder: folder, Size: 1 << 30, Avail: 1 << 20, ReadOnly: len(asked)%2 == 0, NoExec: true}, nil
		}, User: &User{UID: 65534, GID: 65534}, Stat: os.Stat,
			PortFloor: func() (int, error) { return 1024, nil },
			Addrs:     func() ([]netip.Addr, error) { return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil },
			Resolve: func(name string) network.Answer {
				return network.Answer{Name: name, Outcome: network.Outcome(len(name) % 4)}
			},
			Now: func() time.Time { return time.Unix(0, 0) }, Built: func() time.Time { return time.Unix(1, 0) },
			Connect: func(addr netip.AddrPort) error {
				if !addr.IsValid() {
					t.Errorf("connect to %v", addr)
				}
				return syscall.ECONNREFUSED
			}}
		ds := Diagnose(strings.Split(said, "\n"), on)
		if len(asked) > len(ds) {
			t.Errorf("%d disks looked at for %d diagnoses", len(asked), len(ds))
		}
		for _, folder := range asked {
			if folder != "/data" && (!strings.HasPrefix(folder, "/") || folder != filepath.Clean(folder)) {
				t.Errorf("looked at %q", folder)
			}
		}
		for _, d := range ds {
			if d.Cause == "" || d.Hint == "" {
				t.Errorf("a diagnosis without its cause or fix: %+v", d)
			}
		}
	})
}

// node's death by SIGBUS is told by a full disk under the data folder, or
// a full /dev/shm, and by nothing else.
func TestBusError(t *testing.T) {
	with := func(full ...string) Machine {
		return Machine{DataDir: "/data", Disk: func(folder string) (disk.Usage, error) {
			u := disk.Usage{Folder: folder, Size: 29 << 30, Avail: 9 << 30}
			for _, f := range full {
				if f == folder {
					u.Avail, u.Memory = 0, f == "/dev/shm"
				}
			}
			return u, nil
		}}
	}
	for _, c := range []struct {
		full  []string
		cause string
	}{
		{[]string{"/data"}, "a file node maps in memory could not be written (SIGBUS): the disk is full: /data has 0B free of 29GiB"},
		{[]string{"/dev/shm"}, "a file node maps in memory could not be written (SIGBUS): a filesystem kept in memory (tmpfs) is full: /dev/shm has 0B"},
		{nil, ""},
	} {
		d, ok := BusError(with(c.full...))
		if ok != (c.cause != "") || !strings.Contains(d.Cause, c.cause) {
			t.Errorf("full %q: %+v, %v; want %q", c.full, d, ok, c.cause)
		}
	}
	if _, ok := BusError(Machine{}); ok {
		t.Error("a diagnosis without looking at a disk")
	}
}

// node's "permission denied", told by the bits on the way as its user
// sees them: the files are real (root's, as the tests run), the users
// given. What the kernel refuses root (a network share, a security
// profile) cannot be made here: the words and a root user stand in.
func TestDiagnose_PermissionDenied(t *testing.T) {
	base := t.TempDir()
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	must(t, os.Chmod(base, 0o755))
	data := filepath.Join(base, "data")
	must(t, os.Mkdir(data, 0o755))
	open := filepath.Join(base, "open")
	must(t, os.Mkdir(open, 0o777))
	must(t, os.Chmod(open, 0o777))
	shared := filepath.Join(open, "shared")
	must(t, os.WriteFile(shared, nil, 0o666))
	must(t, os.Chmod(shared, 0o666))
	nobody := &User{UID: 65534, GID: 65534, Name: "nobody"}
	root := &User{UID: 0, GID: 0, Name: "root"}
	on := func(u *User) Machine { return Machine{DataDir: data, User: u, Stat: os.Stat} }
	for _, c := range []struct {
		said        string
		as          *User
		cause, hint string
	}{
		// A rename needs both folders: the first that refuses is named.
		{"Error: EACCES: permission denied, rename '" + shared + "' -> '" + data + "/x'", nobody,
			"its user, nobody (uid 65534), may not create or remove files in " + data + " (root's, group 0, mode 0755)", "unset LAUNCHER_USER"},
		{"Error: EACCES: permission denied, copyfile '" + shared + "' -> '" + open + "/y'", nobody,
			"which the permission bits allow nobody (uid 65534) now", "no_root_squash"},
		{"Error: EACCES: permission denied, open '" + shared + "'", nobody,
			"which the permission bits allow", "AppArmor"},
		{"Error: EACCES: permission denied, open '" + data + "/x.db'", root,
			"node, running as root, was refused open of " + data + "/x.db", "no_root_squash"},
		{"Error: EACCES: permission denied, scandir '" + data + "'", &User{UID: 1000, GID: 1000},
			"", ""},
		// A path relative to a folder unknown here: the words alone.
		{"Error: EACCES: permission denied, open 'x.db'", nobody, "node was refused open of x.db (permission denied)", "LAUNCHER_USER"},
		{"Error: spawn ffmpeg EACCES", nobody, "a program node started, ffmpeg, may not be run", "chmod +x"},
		{"Error: spawnSync " + open + " EACCES", root, "a program node started, " + open + ", is a folder", "file's path"},
		{"SqliteError: unable to open database file", nobody,
			"cannot be opened: its user, nobody (uid 65534), may not create or remove files in " + data, "unset LAUNCHER_USER"},
		{"SqliteError: unable to open database file", root, "the app's SQLite database cannot be opened", "node's user"},
	} {
		ds := Diagnose([]string{c.said}, on(c.as))
		if c.cause == "" { // a folder listed: readable by all
			if len(ds) != 1 || !strings.Contains(ds[0].Cause, "which the permission bits allow uid 1000 now") {
				t.Errorf("%q: %+v", c.said, ds)
			}
			continue
		}
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, c.cause) || !strings.Contains(ds[0].Hint, c.hint) {
			t.Errorf("%q as %s:\n%+v\nwant %q, %q", c.said, c.as, ds, c.cause, c.hint)
		}
	}
	// The words alone where the machine is not looked at.
	if ds := Diagnose([]string{"Error: EACCES: permission denied, open '" + data + "/x'"}, Machine{}); len(ds) != 1 || !strings.HasPrefix(ds[0].Cause, "node was refused open of ") {
		t.Errorf("%+v", ds)
	}
}

// node's refused listen: a port below the floor to a user, the same port
// to root or above the floor (a security profile's refusal), an address
// not the network's, ::1 where IPv6 is off; and without the machine,
// node's words alone.
func TestDiagnose_ListenRefused(t *testing.T) {
	nobody := &User{UID: 65534, GID: 65534, Name: "nobody"}
	v4 := func() ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("172.30.33.4")}, nil
	}
	floor := func(n int) func() (int, error) { return func() (int, error) { return n, nil } }
	for _, c := range []struct {
		name, said string
		on         Machine
		cause, fix string
	}{
		{"below the floor", "Error: listen EACCES: permission denied 0.0.0.0:80", Machine{User: nobody, PortFloor: floor(1024)},
			"its user, nobody (uid 65534), may not listen on port 80: ports below 1024 are root's on this network", "from 1024 up"},
		{"IPv6, below the floor", "Error: listen EACCES: permission denied :::443", Machine{User: nobody, PortFloor: floor(1024)},
			"may not listen on port 443: ports below 1024", "unset LAUNCHER_USER"},
		{"above the floor", "Error: listen EACCES: permission denied 0.0.0.0:80", Machine{User: nobody, PortFloor: floor(0)},
			"it may not listen on 0.0.0.0:80 (permission denied), though its user, nobody (uid 65534), may listen on port 80 here", "AppArmor"},
		{"root refused", "Error: listen EACCES: permission denied :::80", Machine{User: &User{Name: "root"}, PortFloor: floor(1024)},
			"it may not listen on [::]:80 (permission denied), though its user, root (uid 0), may", "AppArmor"},
		{"no machine", "Error: listen EACCES: permission denied 0.0.0.0:80", Machine{},
			"it may not listen on port 80 (permission denied)", "below 1024"},
		{"not the network's", "Error: listen EADDRNOTAVAIL: address not available 192.168.1.10:8099", Machine{Addrs: v4},
			"it may not listen on 192.168.1.10: no network interface here has that address (127.0.0.1, 172.30.33.4)", "0.0.0.0 or ::"},
		{"IPv6 off", "Error: listen EADDRNOTAVAIL: address not available ::1:8099", Machine{Addrs: v4},
			"it may not listen on ::1: no network interface here has that address (127.0.0.1, 172.30.33.4): IPv6 is off in this network", "127.0.0.1 rather than localhost"},
	} {
		ds := Diagnose([]string{c.said}, c.on)
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, c.cause) || !strings.Contains(ds[0].Hint, c.fix) {
			t.Errorf("%s: %+v, want the cause %q and the fix saying %q", c.name, ds, c.cause, c.fix)
		}
	}
}

// node's failures to reach the network, told with what a look now finds.
// The looks are the Machine's (the network package's, tested on a real
// DNS server and real sockets there, and end to end in cmd/launcher).
func TestDiagnose_Unreached(t *testing.T) {
	answer := func(o network.Outcome, addrs ...string) func(string) network.Answer {
		return func(name string) network.Answer {
			a := network.Answer{Name: name, Outcome: o, Servers: []string{"172.30.32.3"}, By: "172.30.32.3", Err: "server misbehaving"}
			for _, x := range addrs {
				a.Addrs = append(a.Addrs, netip.MustParseAddr(x))
			}
			return a
		}
	}
	connect := func(err error) func(netip.AddrPort) error { return func(netip.AddrPort) error { return err } }
	timeout := &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}
	for _, c := range []struct {
		name, said string
		on         Machine
		cause, fix string
	}{
		{"no machine", "Error: getaddrinfo EAI_AGAIN api.example.com", Machine{},
			"it could not resolve the name api.example.com (EAI_AGAIN: the DNS server did not answer)", "Check the name"},
		{"resolves now", "  [cause]: Error: getaddrinfo EAI_AGAIN api.example.com\n      at GetAddrInfoReqWrap", Machine{Resolve: answer(network.Resolved, "192.0.2.7")},
			"it could not resolve the name api.example.com (EAI_AGAIN: the DNS server did not answer), which resolves now (to 192.0.2.7, by 172.30.32.3): the name was not resolvable for a while", "The restart reaches it"},
		{"silent", "Error: getaddrinfo EAI_AGAIN api.example.com", Machine{Resolve: answer(network.Silent)},
			"api.example.com (EAI_AGAIN: the DNS server did not answer): the DNS server 172.30.32.3 (/etc/resolv.conf) does not answer (asked again now, for 2s)", "ha dns logs"},
		{"failing", "Error: queryA ESERVFAIL api.example.com", Machine{Resolve: answer(network.Failed)},
			"(ESERVFAIL: the DNS server failed): the DNS server 172.30.32.3 (/etc/resolv.conf) fails to answer (asked again now: server misbehaving)", "ha dns restart"},
		{"misspelt", "Error: getaddrinfo ENOTFOUND api.exmaple.com", Machine{Resolve: answer(network.NotFound)},
			"api.exmaple.com (ENOTFOUND: it does not exist): the DNS server 172.30.32.3 (/etc/resolv.conf) says it does not exist (asked again now)", "a typing error"},
		{"not an add-on", "Error: getaddrinfo ENOTFOUND supervisor", Machine{Resolve: answer(network.NotFound)},
			"the Supervisor writes supervisor into the /etc/hosts of each add-on it starts, and this container's has no such line", "--add-host supervisor:"},
		{"not an add-on, the DNS server silent", "Error: getaddrinfo EAI_AGAIN supervisor", Machine{Resolve: answer(network.Silent)},
			"the Supervisor writes supervisor into the /etc/hosts of each add-on it starts, and this container's has no such line", "--add-host supervisor:"},
		{"not on the add-ons' network", "Error: getaddrinfo ENOTFOUND homeassistant", Machine{Resolve: answer(network.NotFound)},
			"the Supervisor's DNS plugin answers it on the network of the add-ons it starts, and this container is not on it", "--add-host homeassistant:"},
		{"a name inside the Supervisor's", "Error: getaddrinfo ENOTFOUND visor", Machine{Resolve: answer(network.NotFound)},
			"visor (ENOTFOUND: it does not exist): the DNS server 172.30.32.3 (/etc/resolv.conf) says it does not exist", "a typing error"},
		{"dns.resolve of a name /etc/hosts has", "Error: queryA ENOTFOUND supervisor", Machine{Resolve: func(n string) network.Answer {
			return network.Answer{Name: n, Outcome: network.Resolved, InHosts: true, Addrs: []netip.Addr{netip.MustParseAddr("172.30.32.2")}}
		}}, "it could not resolve the name supervisor (ENOTFOUND: it does not exist), which /etc/hosts names (172.30.32.2): node's dns.resolve asks the DNS servers alone", "with dns.lookup"},
		{"in hosts now", "Error: getaddrinfo ENOTFOUND hasync-db", Machine{Resolve: func(n string) network.Answer {
			return network.Answer{Name: n, Outcome: network.Resolved, InHosts: true, Addrs: []netip.Addr{netip.MustParseAddr("172.30.33.9")}}
		}}, "which /etc/hosts names now (172.30.33.9)", "The restart reaches it"},
		{"loopback", "Error: connect ECONNREFUSED 127.0.0.1:1883", Machine{Connect: connect(syscall.ECONNREFUSED)},
			"it could not connect to 127.0.0.1:1883 (ECONNREFUSED: nothing listened there); it refuses connections now too; 127.0.0.1 (localhost) is this container itself", "core-mosquitto:1883"},
		{"IPv6 loopback", "Error: connect ECONNREFUSED ::1:8123", Machine{},
			"it could not connect to [::1]:8123 (ECONNREFUSED: nothing listened there); ::1 (localhost) is this container itself", "homeassistant:8123"},
		{"Home Assistant restarting", "Error: connect ECONNREFUSED 172.30.32.1:8123", Machine{Connect: connect(nil)},
			"it could not connect to 172.30.32.1:8123 (ECONNREFUSED: nothing listened there), and it accepts connections now: it was down for a while", "The restart reaches it"},
		{"Home Assistant stopped", "Error: connect ECONNREFUSED 172.30.32.1:8123", Machine{Connect: connect(syscall.ECONNREFUSED)},
			"it could not connect to 172.30.32.1:8123 (ECONNREFUSED: nothing listened there); it refuses connections now too", "Port 8123 is Home Assistant's"},
		{"gone", "Error: connect ETIMEDOUT 192.168.1.50:1883", Machine{Connect: connect(timeout)},
			"(ETIMEDOUT: no answer); it does not answer now either (tried for 2s): the machine is off or gone", "Check the address and port"},
		{"fetch's connect timeout, by name", "  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: nas.lan:443, timeout: 10000ms)",
			Machine{Resolve: answer(network.Resolved, "192.168.1.50"), Connect: func(p netip.AddrPort) error {
				if p.String() != "192.168.1.50:443" {
					t.Errorf("connected to %s, want where nas.lan resolves", p)
				}
				return timeout
			}},
			"it could not connect to nas.lan:443 (UND_ERR_CONNECT_TIMEOUT: no answer within fetch's connect timeout); it does not answer now either (tried for 2s)", "Check the address and port"},
		{"fetch's connect timeout, by addresses", "ConnectTimeoutError: Connect Timeout Error (attempted addresses: [2001:db8::5]:443, 192.0.2.5:443, timeout: 10000ms)", Machine{Connect: connect(syscall.ENETUNREACH)},
			"it could not connect to [2001:db8::5]:443 (UND_ERR_CONNECT_TIMEOUT: no answer within fetch's connect timeout); it is unreachable now too", "Check the address and port"},
		{"fetch's connect timeout on localhost", "ConnectTimeoutError: Connect Timeout Error (attempted address: localhost:1883, timeout: 10000ms)",
			Machine{Resolve: answer(network.Resolved, "127.0.0.1"), Connect: connect(syscall.ECONNREFUSED)},
			"it could not connect to localhost:1883 (UND_ERR_CONNECT_TIMEOUT: no answer within fetch's connect timeout); it refuses connections now too; localhost (127.0.0.1) is this container itself", "core-mosquitto:1883"},
		{"no route", "Error: connect EHOSTUNREACH 10.9.9.9:80", Machine{Connect: connect(syscall.EHOSTUNREACH)},
			"(EHOSTUNREACH: no route to the host); it is unreachable now too (no route)", "Check the address and port"},
		// Looks called off by a stop: node's words alone, nothing said of now.
		{"lookup called off", "Error: getaddrinfo EAI_AGAIN api.example.com", Machine{Resolve: answer(network.CalledOff)},
			"it could not resolve the name api.example.com (EAI_AGAIN: the DNS server did not answer)$", "Check the name"},
		{"connection called off", "Error: connect ECONNREFUSED 172.30.32.1:8123", Machine{Connect: connect(&net.OpError{Op: "dial", Err: context.Canceled})},
			"it could not connect to 172.30.32.1:8123 (ECONNREFUSED: nothing listened there)$", "Port 8123 is Home Assistant's"},
	} {
		ds := Diagnose(strings.Split(c.said, "\n"), c.on)
		cause, whole := strings.CutSuffix(c.cause, "$")
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, cause) || whole && !strings.HasSuffix(ds[0].Cause, cause) || !strings.Contains(ds[0].Hint, c.fix) {
			t.Errorf("%s: %+v, want the cause %q and the fix saying %q", c.name, ds, c.cause, c.fix)
			continue
		}
		want, ok := unreached[c.name]
		if !ok {
			t.Fatalf("%s: whether the network may come back is not said (unreached)", c.name)
		}
		if ds[0].Unreached != want {
			t.Errorf("%s: Unreached = %v, want %v: %s", c.name, ds[0].Unreached, want, ds[0].Cause)
		}
	}
}

// unreached says, for each case of TestDiagnose_Unreached, whether node
// failed for want of a network that may come back (so the restart policy
// does not count it), or for a setting no wait mends: a name that does
// not exist, the Supervisor's or Home Assistant's names outside Home
// Assistant, dns.resolve of a name only /etc/hosts has, the container's
// own loopback.
var unreached = map[string]bool{
	"no machine": true, "resolves now": true, "silent": true, "failing": true,
	"misspelt": false, "not an add-on": false, "not an add-on, the DNS server silent": false, "not on the add-ons' network": false, "a name inside the Supervisor's": false,
	"dns.resolve of a name /etc/hosts has": false, "in hosts now": true,
	"loopback": false, "IPv6 loopback": false,
	"Home Assistant restarting": true, "Home Assistant stopped": true, "gone": true,
	"fetch's connect timeout, by name": true, "fetch's connect timeout, by addresses": true, "fetch's connect timeout on localhost": false,
	"no route":          true,
	"lookup called off": true, "connection called off": true,
}

// node's refusals of a server's TLS certificate, in its words (node 20's
// fetch, its cause's code), and a certificate out of its dates by the
// clock: one behind the launcher's own build is said to be behind.
// cmd/launcher's TestRun_TellsARefusedCertificate meets them for real.
func TestDiagnose_Certificates(t *testing.T) {
	built := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func(now time.Time) Machine {
		return Machine{Now: func() time.Time { return now }, Built: func() time.Time { return built }}
	}
	for _, c := range []struct {
		name, said string
		on         Machine
		cause, fix string
	}{
		{"another name", "  [cause]: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: homeassistant. is not in the cert's altnames: DNS:myhome.duckdns.org\n    code: 'ERR_TLS_CERT_ALTNAME_INVALID',", Machine{},
			"it refused the TLS certificate of homeassistant: the certificate is for DNS:myhome.duckdns.org, not for that name (ERR_TLS_CERT_ALTNAME_INVALID)", "http://supervisor/core/api"},
		{"another address", "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 172.30.32.1 is not in the cert's list: \n    reason: \"IP: 172.30.32.1 is not in the cert's list: \",", Machine{},
			"it refused the TLS certificate of 172.30.32.1: the certificate is for no address (ERR_TLS_CERT_ALTNAME_INVALID)", "Connect by a name the certificate is for"},
		{"self-signed", "TypeError: fetch failed\n  [cause]: Error: self-signed certificate\n    code: 'DEPTH_ZERO_SELF_SIGNED_CERT'", Machine{},
			"it refused a TLS certificate it cannot verify: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)", "NODE_EXTRA_CA_CERTS"},
		{"no authorities", "Error: unable to get local issuer certificate\n    code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'", Machine{},
			"it cannot verify: unable to get local issuer certificate (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)", "install ca-certificates in the runtime stage"},
		{"expired", "Error: certificate has expired\n    code: 'CERT_HAS_EXPIRED'", clock(time.Date(2027, 3, 4, 5, 6, 0, 0, time.UTC)),
			"it refused a TLS certificate that has expired (CERT_HAS_EXPIRED), by the container's clock: 2027-03-04 05:06 UTC", "must renew it"},
		{"a clock behind", "Error: certificate is not yet valid\n    code: 'CERT_NOT_YET_VALID'", clock(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
			"not valid yet (CERT_NOT_YET_VALID), by the container's clock: 2020-01-01 00:00 UTC, before the launcher itself was built (2026-12-01): the clock is behind", "sets the time from the network (NTP)"},
		{"a certificate ahead", "Error: certificate is not yet valid\n    code: 'CERT_NOT_YET_VALID'", clock(time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)),
			"not valid yet (CERT_NOT_YET_VALID), by the container's clock: 2026-12-06 04:00 UTC", "starts later than now"},
		{"no clock", "Error: certificate has expired\n    code: 'CERT_HAS_EXPIRED'", Machine{},
			"it refused a TLS certificate that has expired (CERT_HAS_EXPIRED)", "Check the machine's date and time"},
	} {
		ds := Diagnose(strings.Split(c.said, "\n"), c.on)
		if len(ds) != 1 || !strings.Contains(ds[0].Cause, c.cause) || !strings.Contains(ds[0].Hint, c.fix) {
			t.Errorf("%s: %+v, want the cause %q and the fix saying %q", c.name, ds, c.cause, c.fix)
		}
	}
}
