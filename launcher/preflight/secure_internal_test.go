package preflight

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// How node's file puts it in secure-execution mode, and whether node then
// ignores its options. The capabilities are written as setcap writes them,
// in both revisions of struct vfs_cap_data the kernel takes (it reads
// revision 1, 32 bits, and no longer writes it); uid 0 and 65534 are root
// and nobody, and the file is root's.
func TestSecureExecution(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("writing security.capability and another owner need root")
	}
	const bind, raw = 1 << unix.CAP_NET_BIND_SERVICE, 1 << unix.CAP_NET_RAW
	const nobody = 65534
	for _, c := range []struct {
		name          string
		mode          os.FileMode
		owner         int // the file's uid and gid
		caps          []byte
		uid           uint32
		nnp           bool
		secure, drops bool   // AT_SECURE; node ignores its options
		why           string // in Why, when secure
	}{
		{name: "plain, nobody", mode: 0o755, uid: nobody},
		{name: "set-user-ID root's, root", mode: 0o755 | os.ModeSetuid, uid: 0},
		{name: "set-user-ID root's, nobody", mode: 0o755 | os.ModeSetuid, uid: nobody, secure: true, drops: true, why: "set-user-ID to uid 0"},
		{name: "set-user-ID nobody's, root", mode: 0o755 | os.ModeSetuid, owner: nobody, uid: 0, secure: true, drops: true, why: "set-user-ID to uid 65534"},
		{name: "set-user-ID nobody's, nobody", mode: 0o755 | os.ModeSetuid, owner: nobody, uid: nobody},
		{name: "set-group-ID root's, nobody", mode: 0o755 | os.ModeSetgid, uid: nobody, secure: true, drops: true, why: "set-group-ID to gid 0"},
		{name: "set-user-ID root's, nobody without new privileges", mode: 0o755 | os.ModeSetuid, uid: nobody, nnp: true},
		{name: "cap_net_raw, root", mode: 0o755, caps: capValue(2, true, raw, 0, 0, 0), uid: 0},
		{name: "cap_net_raw, nobody", mode: 0o755, caps: capValue(2, true, raw, 0, 0, 0), uid: nobody, secure: true, drops: true,
			why: "its file has capabilities (cap_net_raw) that raise uid 65534"},
		{name: "cap_net_bind_service, nobody", mode: 0o755, caps: capValue(2, true, bind, 0, 0, 0), uid: nobody, secure: true,
			why: "(cap_net_bind_service) that raise"},
		{name: "cap_net_bind_service, nobody without new privileges", mode: 0o755, caps: capValue(2, true, bind, 0, 0, 0), uid: nobody, nnp: true, secure: true, drops: true,
			why: "its file has capabilities (cap_net_bind_service), which a process without new privileges does not get"},
		{name: "cap_net_raw without the effective bit, nobody without new privileges", mode: 0o755, caps: capValue(2, false, raw, 0, 0, 0), uid: nobody, nnp: true},
		{name: "cap_net_bind_service without the effective bit, nobody", mode: 0o755, caps: capValue(2, false, bind, 0, 0, 0), uid: nobody, secure: true},
		{name: "cap_net_bind_service and an inheritable cap_net_raw, nobody", mode: 0o755, caps: capValue(2, true, bind, raw, 0, 0), uid: nobody, secure: true, drops: true,
			why: "(cap_net_bind_service, inheritable cap_net_raw)"},
		{name: "cap_net_bind_service and cap_bpf (the upper word), nobody", mode: 0o755, caps: capValue(2, true, bind, 0, 1<<(unix.CAP_BPF-32), 0), uid: nobody, secure: true, drops: true,
			why: "(cap_net_bind_service,cap_bpf)"},
		{name: "revision 3 (a user namespace's), cap_net_raw, nobody", mode: 0o755, caps: capValue(3, true, raw, 0, 0, 0, 0), uid: nobody, secure: true, drops: true},
		{name: "revision 3, cap_net_bind_service, nobody", mode: 0o755, caps: capValue(3, true, bind, 0, 0, 0, 0), uid: nobody, secure: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "node")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(path, c.owner, c.owner); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.mode); err != nil { // after chown, which clears the set-ID bits
				t.Fatal(err)
			}
			if c.caps != nil {
				if err := unix.Setxattr(path, "security.capability", c.caps, 0); err != nil {
					t.Fatalf("set security.capability %x: %v", c.caps, err)
				}
			}
			got := SecureExecution(path, c.uid, c.uid, c.nnp)
			if (got.Why != "") != c.secure || got.IgnoresOptions != c.drops || !strings.Contains(got.Why, c.why) {
				t.Errorf("SecureExecution = %+v, want secure %v, options ignored %v, why with %q", got, c.secure, c.drops, c.why)
			}
		})
	}
	if got := SecureExecution(filepath.Join(t.TempDir(), "missing"), nobody, nobody, false); got != (Secure{}) {
		t.Errorf("a missing node: %+v, want none (node's check tells)", got)
	}
	// On a filesystem mounted nosuid, neither the set-ID bits nor the
	// capabilities do anything.
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID, ""); err != nil {
		t.Fatalf("mount a nosuid tmpfs: %v", err)
	}
	defer func() { _ = unix.Unmount(dir, 0) }()
	path := filepath.Join(dir, "node")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(path, "security.capability", capValue(2, true, raw, 0, 0, 0), 0); err != nil {
		t.Fatalf("set security.capability on tmpfs: %v", err)
	}
	if got := SecureExecution(path, nobody, nobody, false); got != (Secure{}) {
		t.Errorf("on a nosuid mount: %+v, want none", got)
	}
}

// The kernel refuses to run a file whose effective capabilities the
// bounding set does not hold (cmd/launcher's test runs it); which are
// missing, and whether an add-on may ask for them in config.yaml.
func TestCapsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("writing security.capability needs root")
	}
	file := func(effective bool, permitted uint32) string {
		path := filepath.Join(t.TempDir(), "node")
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Setxattr(path, "security.capability", capValue(2, effective, permitted, 0, 0, 0), 0); err != nil {
			t.Fatal(err)
		}
		return path
	}
	without := func(caps ...int) func(int) bool {
		return func(c int) bool { return !slices.Contains(caps, c) }
	}
	const admin, raw, boot = 1 << unix.CAP_NET_ADMIN, 1 << unix.CAP_NET_RAW, 1 << unix.CAP_SYS_BOOT
	for _, c := range []struct {
		name       string
		path       string
		bounded    func(int) bool
		ok         bool
		cause, fix []string
	}{
		{"two an add-on may ask for", file(true, admin|raw), without(unix.CAP_NET_ADMIN, unix.CAP_NET_RAW), true,
			[]string{"capabilities cap_net_admin,cap_net_raw, of which cap_net_admin,cap_net_raw are not in this container's bounding set"},
			[]string{"Give the container those capabilities: config.yaml's `privileged: [NET_ADMIN, NET_RAW]`", "--cap-add NET_ADMIN --cap-add NET_RAW", "take them off"}},
		{"one of two missing", file(true, admin|raw), without(unix.CAP_NET_ADMIN), true,
			[]string{"capabilities cap_net_admin,cap_net_raw, of which cap_net_admin is not"}, []string{"`privileged: [NET_ADMIN]`", "take it off"}},
		{"one no add-on may ask for", file(true, admin|boot), without(unix.CAP_NET_ADMIN, unix.CAP_SYS_BOOT), true,
			[]string{"of which cap_net_admin,cap_sys_boot are not"}, []string{"Give the container those capabilities: `docker run --cap-add NET_ADMIN --cap-add SYS_BOOT`"}},
		{"all held", file(true, admin), without(), false, nil, nil},
		{"without the effective bit", file(false, admin), without(unix.CAP_NET_ADMIN), false, nil, nil},
		{"the bounding set not known", file(true, admin), nil, false, nil, nil},
	} {
		cause, fix, ok := CapsRefused(c.path, c.bounded)
		if ok != c.ok {
			t.Errorf("%s: ok %v, want %v (%q, %q)", c.name, ok, c.ok, cause, fix)
		}
		for _, w := range c.cause {
			if !strings.Contains(cause, w) {
				t.Errorf("%s: cause %q lacks %q", c.name, cause, w)
			}
		}
		for _, w := range c.fix {
			if !strings.Contains(fix, w) {
				t.Errorf("%s: fix %q lacks %q", c.name, fix, w)
			}
		}
		if strings.Contains(fix, "privileged") && slices.Contains([]string{"one no add-on may ask for"}, c.name) {
			t.Errorf("%s: fix %q names config.yaml's privileged, which does not take SYS_BOOT", c.name, fix)
		}
	}
}

// A security.capability value of any length, as a file may carry one the
// kernel did not write (an image's layer): read without a panic, none when
// shorter than revision 1's, only 32 bits from revision 1's, and the
// names of what it holds.
func FuzzParseCapabilities(f *testing.F) {
	f.Add(capValue(2, true, 1<<unix.CAP_NET_RAW, 0, 0, 0))
	f.Add(capValue(2, true, 1<<unix.CAP_NET_BIND_SERVICE, 1<<unix.CAP_NET_RAW, 1<<(unix.CAP_BPF-32), 0))
	f.Add(capValue(3, false, 1<<unix.CAP_NET_ADMIN, 0, 0, 0, 0))
	f.Add(capValue(1, true, 1<<unix.CAP_SYS_ADMIN, 0))
	f.Add([]byte{0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		caps, ok := parseCapabilities(b)
		if ok != (len(b) >= 12) {
			t.Fatalf("%x: ok %v", b, ok)
		}
		if ok && len(b) < 20 && (caps.permitted|caps.inheritable)>>32 != 0 {
			t.Fatalf("%x: upper bits from a 32-bit value: %+v", b, caps)
		}
		if names := caps.String(); ok && names == "" {
			t.Fatalf("%x: no names for %+v", b, caps)
		}
	})
}

// capValue is a security.capability value as the kernel writes it:
// struct vfs_cap_data of the revision, with the effective bit or not, then
// words (permitted, inheritable, each in two halves from revision 2).
func capValue(revision uint32, effective bool, words ...uint32) []byte {
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
