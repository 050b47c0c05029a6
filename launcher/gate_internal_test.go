package launcher

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/preflight"
)

// The preload's line as every supported node writes it (napi is empty in
// a node without Node-API), and what is not such a line.
func TestParseGateReport(t *testing.T) {
	for line, want := range map[string]preflight.NodeVersions{
		"v20.11.1 115 9\n": {Version: "v20.11.1", ABI: 115, NAPI: 9},
		"v18.20.4 108 9\n": {Version: "v18.20.4", ABI: 108, NAPI: 9},
		"v8.17.0 57 \n":    {Version: "v8.17.0", ABI: 57},
	} {
		got, err := parseGateReport(line)
		if err != nil || got != want {
			t.Errorf("parseGateReport(%q) = %+v, %v; want %+v", line, got, err, want)
		}
	}
	for _, line := range []string{"", "\n", "v20.11.1\n", "v20.11.1 x 9\n", "v20.11.1 115 y\n", "v20 115 9 1\n",
		`{"version":"v20.11.1","modules":"115","napi":"9"}` + "\n"} {
		if v, err := parseGateReport(line); err == nil {
			t.Errorf("parseGateReport(%q) = %+v, want an error", line, v)
		}
	}
}

// An env file's text sets NODE_OPTIONS as this pattern says: a line of its
// own, `export` before it or not, spaces around.
var setsNodeOptionsPattern = regexp.MustCompile(`(?m)^[ \t\f\r]*(export[ \t\f\r]+)?NODE_OPTIONS[ \t\f\r]*=`)

func TestSetsNodeOptions(t *testing.T) {
	for text, want := range map[string]bool{
		"NODE_OPTIONS=--max-old-space-size=256\n":         true,
		"A=1\nexport NODE_OPTIONS=\"--require ./x.js\"\n": true,
		"  NODE_OPTIONS = x":                              true,
		"export\tNODE_OPTIONS=x":                          true,
		"A=1\n":                                           false,
		"# NODE_OPTIONS=x\n":                              false,
		"NODE_OPTIONS_X=1\n":                              false,
		"exportNODE_OPTIONS=x\n":                          false,
		"MY_NODE_OPTIONS=x\n":                             false,
		"A=\"NODE_OPTIONS\"\n":                            false,
		"":                                                false,
	} {
		if got := setsNodeOptions(text); got != want || setsNodeOptionsPattern.MatchString(text) != want {
			t.Errorf("setsNodeOptions(%q) = %v, the pattern %v; want %v", text, got, setsNodeOptionsPattern.MatchString(text), want)
		}
	}
}

func FuzzSetsNodeOptions(f *testing.F) {
	f.Add("NODE_OPTIONS=--max-old-space-size=256\n")
	f.Add("A=1\nexport NODE_OPTIONS=\"--require ./x.js\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := setsNodeOptions(text), setsNodeOptionsPattern.MatchString(text); got != want {
			t.Errorf("setsNodeOptions(%q) = %v, the pattern says %v", text, got, want)
		}
	})
}

// Which node files the gate steps aside for: those node would start from
// in secure-execution mode, ignoring NODE_OPTIONS. The capabilities are
// written as setcap writes them, in both revisions of struct vfs_cap_data
// the kernel takes (it reads revision 1, 32 bits, and no longer writes
// it); uid 0 and 65534 are root and nobody.
func TestSecureExec(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("writing security.capability needs root")
	}
	caps := func(revision uint32, effective bool, words ...uint32) []byte {
		magic := revision << 24
		if effective {
			magic |= 1
		}
		b := binary.LittleEndian.AppendUint32(nil, magic)
		for _, w := range words {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	const bind, raw = 1 << unix.CAP_NET_BIND_SERVICE, 1 << unix.CAP_NET_RAW
	for _, c := range []struct {
		name   string
		mode   os.FileMode
		caps   []byte
		uid    uint32
		secure bool
	}{
		{name: "plain, nobody", mode: 0o755, uid: 65534},
		{name: "set-user-ID, root", mode: 0o755 | os.ModeSetuid, uid: 0, secure: true},
		{name: "set-group-ID, nobody", mode: 0o755 | os.ModeSetgid, uid: 65534, secure: true},
		{name: "cap_net_raw, root", mode: 0o755, caps: caps(2, true, raw, 0, 0, 0), uid: 0},
		{name: "cap_net_raw, nobody", mode: 0o755, caps: caps(2, true, raw, 0, 0, 0), uid: 65534, secure: true},
		{name: "cap_net_bind_service, nobody", mode: 0o755, caps: caps(2, true, bind, 0, 0, 0), uid: 65534},
		{name: "cap_net_bind_service without the effective bit, nobody", mode: 0o755, caps: caps(2, false, bind, 0, 0, 0), uid: 65534},
		{name: "cap_net_bind_service and an inheritable cap_net_raw, nobody", mode: 0o755, caps: caps(2, true, bind, raw, 0, 0), uid: 65534, secure: true},
		{name: "cap_net_bind_service and cap_bpf (the upper word), nobody", mode: 0o755, caps: caps(2, true, bind, 0, 1<<(unix.CAP_BPF-32), 0), uid: 65534, secure: true},
		{name: "revision 3 (a user namespace's), cap_net_raw, nobody", mode: 0o755, caps: caps(3, true, raw, 0, 0, 0, 0), uid: 65534, secure: true},
		{name: "revision 3, cap_net_bind_service, nobody", mode: 0o755, caps: caps(3, true, bind, 0, 0, 0, 0), uid: 65534},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "node")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.mode); err != nil {
				t.Fatal(err)
			}
			if c.caps != nil {
				if err := unix.Setxattr(path, "security.capability", c.caps, 0); err != nil {
					t.Fatalf("set security.capability %x: %v", c.caps, err)
				}
			}
			if why := secureExec(path, c.uid); (why != "") != c.secure {
				t.Errorf("secureExec = %q, want secure %v", why, c.secure)
			}
		})
	}
	if why := secureExec(filepath.Join(t.TempDir(), "missing"), 65534); why != "" {
		t.Errorf("a missing node: %q, want \"\" (node's check tells)", why)
	}
}
