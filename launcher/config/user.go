package config

import (
	"errors"
	"fmt"
	"math"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Credential is the user and groups the child runs as (LAUNCHER_USER).
type Credential struct {
	UID, GID uint32
	Groups   []uint32
	Name     string // empty for a bare uid
	Home     string // empty when unknown
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
	if c == nil {
		return nil
	}
	return &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups}
}

func (c *Credential) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s (%d:%d)", c.Name, c.UID, c.GID)
	}
	return fmt.Sprintf("%d:%d", c.UID, c.GID)
}
