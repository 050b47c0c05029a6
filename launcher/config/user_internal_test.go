package config

import (
	"strings"
	"testing"
)

// Whom a launcher can start node as: anyone when it may switch users; its
// own user (kept as it is, no switch) when it may not; another user then
// is refused, with why and the fix, for a launcher not root and for root
// without the capabilities.
func TestStartableBy(t *testing.T) {
	nobody := func() *Credential { return &Credential{UID: 65534, GID: 65534, Name: "nobody"} }
	for _, c := range []struct {
		name string
		by   starter
		keep bool
		err  string
	}{
		{"root", starter{uid: 0, gid: 0, switches: true}, false, ""},
		{"another user with the capabilities", starter{uid: 1000, gid: 1000, switches: true}, false, ""},
		{"itself", starter{uid: 65534, gid: 65534}, true, ""},
		{"another user", starter{uid: 1000, gid: 1000}, false, "the launcher runs as uid 1000 gid 1000, not root, and may not start node as uid 65534 gid 65534"},
		{"its uid in another group", starter{uid: 65534, gid: 100}, false, "the launcher runs as uid 65534 gid 100, not root, and may not start node as uid 65534 gid 65534"},
		{"root without the capabilities", starter{uid: 0, gid: 0}, false, "lacks CAP_SETUID and CAP_SETGID"},
	} {
		cred := nobody()
		err := cred.startableBy(c.by)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
		if cred.Keep != c.keep || (cred.Syscall() == nil) != c.keep {
			t.Errorf("%s: kept %v (credential %v), want kept %v", c.name, cred.Keep, cred.Syscall(), c.keep)
		}
	}
}
