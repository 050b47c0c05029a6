package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Credential is the user and groups the child runs as (LAUNCHER_USER).
type Credential struct {
	UID, GID uint32
	Groups   []uint32
	Name     string // empty for a bare uid
	Home     string // empty when unknown
	// Keep says the child runs as the launcher's own user, which
	// LAUNCHER_USER names, without a switch: a launcher that may not
	// switch users (not root) starts it as it is.
	Keep bool
}

// LookupCredential resolves LAUNCHER_USER: a name, a uid, or uid:gid.
// A name must exist in /etc/passwd; a bare uid need not (as with
// docker run --user), and then runs with gid = uid unless the passwd entry
// says otherwise.
func LookupCredential(spec string) (*Credential, error) {
	name, group, hasGroup := strings.Cut(strings.TrimSpace(spec), ":")
	if name == "" || (hasGroup && group == "") {
		return nil, errors.New("want a user name, a uid, or uid:gid")
	}
	cred := &Credential{}
	// 4294967295 is (uid_t)-1, which the kernel reads as "leave unchanged":
	// setuid refuses it.
	if id, err := strconv.ParseUint(name, 10, 64); err == nil && id >= math.MaxUint32 {
		return nil, fmt.Errorf("uid %d does not fit: want 0 to %d", id, uint32(math.MaxUint32-1))
	}
	if id, err := strconv.ParseUint(group, 10, 64); hasGroup && err == nil && id >= math.MaxUint32 {
		return nil, fmt.Errorf("gid %d does not fit: want 0 to %d", id, uint32(math.MaxUint32-1))
	}
	if uid, err := strconv.ParseUint(name, 10, 32); err == nil {
		cred.UID, cred.GID = uint32(uid), uint32(uid)
		if u, err := user.LookupId(name); err == nil {
			cred.fill(u)
		}
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("no such user in /etc/passwd; create it in the Dockerfile (adduser -D -H %s) or use a uid", name)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		cred.UID = uint32(uid)
		cred.fill(u)
	}
	if hasGroup {
		gid, err := strconv.ParseUint(group, 10, 32)
		if err != nil {
			g, lerr := user.LookupGroup(group)
			if lerr != nil {
				return nil, fmt.Errorf("no such group %q in /etc/group", group)
			}
			gid, _ = strconv.ParseUint(g.Gid, 10, 32)
		}
		cred.GID = uint32(gid)
		cred.Groups = nil
	}
	return cred, nil
}

func (c *Credential) fill(u *user.User) {
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	c.GID = uint32(gid)
	c.Name, c.Home = u.Username, u.HomeDir
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				c.Groups = append(c.Groups, uint32(g))
			}
		}
	}
}

func (c *Credential) Syscall() *syscall.Credential {
	if c == nil || c.Keep {
		return nil
	}
	return &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups}
}

// starter is the launcher's own user, and whether it may start a process
// as another (CAP_SETUID and CAP_SETGID in its effective set: root's,
// unless a run dropped them).
type starter struct {
	uid, gid uint32
	switches bool
}

// launcherItself is the running launcher as a starter.
func launcherItself() starter {
	s := starter{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData // version 3: two 32-bit halves
	if unix.Capget(&hdr, &caps[0]) == nil {
		const both = 1<<unix.CAP_SETUID | 1<<unix.CAP_SETGID
		s.switches = caps[0].Effective&both == both
	}
	return s
}

// startableBy tells whether s can start the child as c: any user when s
// may switch users, else only its own (then c is kept as it is, Keep).
// Without it, every start of node would fail with "operation not
// permitted".
func (c *Credential) startableBy(s starter) error {
	switch {
	case s.switches:
		return nil
	case c.UID == s.uid && c.GID == s.gid:
		c.Keep = true
		return nil
	case s.uid != 0:
		return fmt.Errorf("the launcher runs as uid %d gid %d, not root, and may not start node as uid %d gid %d: run the container as root "+
			"(no USER in the Dockerfile's runtime stage, no `docker run --user`) and let LAUNCHER_USER choose node's user, or unset LAUNCHER_USER", s.uid, s.gid, c.UID, c.GID)
	}
	return errors.New("the launcher lacks CAP_SETUID and CAP_SETGID (a run with --cap-drop), and may not start node as another user: " +
		"give them back (`--cap-add SETUID --cap-add SETGID`), or unset LAUNCHER_USER")
}

func (c *Credential) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s (%d:%d)", c.Name, c.UID, c.GID)
	}
	return fmt.Sprintf("%d:%d", c.UID, c.GID)
}
