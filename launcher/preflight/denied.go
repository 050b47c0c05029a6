package preflight

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
)

// node's "permission denied" (EACCES), told by who node runs as and the
// permission bits on the way to the file: which folder its user cannot
// enter, which file it may not read or write, which folder it may not
// create files in, which program is not executable. The kernel's answer
// is the judge; this only names the bits that gave it, read after node
// ended, so a file chmod-ed since is told as it is now.

// check is a permission node needed: the bits want (4 read, 2 write, 1
// execute or search) on path, said as verb.
type check struct {
	path string
	want uint32
	verb string
}

// needs is what node needed of the file system for op (node's name of
// the call) on path, and on dest where the call names two paths: the
// folder of a file to create or remove, the file itself to read or
// write. Calls it cannot tell (a chmod, a stat) need only the folders
// above, which every check walks.
func (on Machine) needs(op, path, dest string) []check {
	inFolder := func(p string) check { return check{filepath.Dir(p), 3, "create or remove files in"} }
	switch op {
	case "open", "access":
		if _, err := on.Stat(path); err != nil {
			return []check{inFolder(path)}
		}
		// node's words do not say whether it read or wrote: the first bit
		// its user lacks is the one refused.
		return []check{{path, 4, "read"}, {path, 2, "write"}}
	case "scandir", "opendir":
		return []check{{path, 4, "list"}}
	case "mkdir", "rmdir", "unlink":
		return []check{inFolder(path)}
	case "rename":
		return []check{inFolder(path), inFolder(dest)}
	case "symlink", "link":
		return []check{inFolder(dest)}
	case "copyfile", "cp":
		return []check{{path, 4, "read"}, inFolder(dest)}
	}
	return []check{{path, 0, ""}}
}

// refusal is why u may not have c, by the permission bits on the way, and
// the file or folder that refuses: a folder above it u cannot enter, or
// c's own bits; "" when they allow it. who is how the words name u's
// role: "its user" after node's name, "node's user" alone.
func (on Machine) refusal(who string, u *User, c check) (why, at string) {
	for dir := range foldersAbove(c.path) {
		if fi, err := on.Stat(dir); err == nil && !u.allows(fi, 1) {
			return fmt.Sprintf("%s, %s, cannot enter %s (%s)", who, u, dir, ownership(fi)), dir
		}
	}
	if fi, err := on.Stat(c.path); err == nil && c.want != 0 && !u.allows(fi, c.want) {
		return fmt.Sprintf("%s, %s, may not %s %s (%s)", who, u, c.verb, c.path, ownership(fi)), c.path
	}
	return "", ""
}

// ownership says whose a file is and its mode: "root's, group 0, mode
// 0755".
func ownership(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "mode " + fi.Mode().String()
	}
	owner := fmt.Sprintf("uid %d's", st.Uid)
	if st.Uid == 0 {
		owner = "root's"
	}
	return fmt.Sprintf("%s, group %d, mode %04o", owner, st.Gid, st.Mode&0o7777)
}

// permissionDenied explains node's EACCES on op of path (and dest).
func (on Machine) permissionDenied(op, path, dest string) Diagnosis {
	d := Diagnosis{
		Cause: fmt.Sprintf("node was refused %s of %s (permission denied)", op, path),
		Hint:  "Give node's user (LAUNCHER_USER) the file or folder, or write elsewhere.",
	}
	u := on.User
	if on.Stat == nil || u == nil || !filepath.IsAbs(path) || dest != "" && !filepath.IsAbs(dest) {
		return d
	}
	if u.UID == 0 {
		d.Cause = fmt.Sprintf("node, running as root, was refused %s of %s (permission denied)", op, path)
		d.Hint = rootRefusedHint
		return d
	}
	for _, c := range on.needs(op, path, dest) {
		if why, at := on.refusal("its user", u, c); why != "" {
			d.Cause = why
			d.Hint = on.ownHint(u, at)
			return d
		}
	}
	d.Cause += fmt.Sprintf(", which the permission bits allow %s now", u)
	d.Hint = "They changed since, or the refusal is not theirs: " + rootRefusedHint
	return d
}

// rootRefusedHint is where a refusal comes from that permission bits do
// not explain.
const rootRefusedHint = "Root passes every permission bit, so the refusal is not the file's mode: a network share refuses it " +
	"(an NFS server maps root to nobody unless the export has no_root_squash; a CIFS share by its user's rights), " +
	"or a security profile (the add-on's AppArmor profile, apparmor.txt)."

// addonFolders are the folders the Supervisor mounts into an add-on (the
// data folder, and those config.yaml's map names), made root's.
var addonFolders = []string{"/share", "/config", "/addon_configs", "/homeassistant", "/media", "/ssl", "/backup", "/addons"}

// ownHint is how to give node's user u what it was refused at path: the
// image's files in the Dockerfile, the add-on's mounted folders not there.
func (on Machine) ownHint(u *User, path string) string {
	for _, folder := range append([]string{on.DataDir}, addonFolders...) {
		if folder != "" && (path == folder || strings.HasPrefix(path, folder+"/")) {
			return fmt.Sprintf("%s is mounted when the add-on starts, root's, and what an earlier version wrote there as root stays root's: "+
				"set LAUNCHER_USER_DIRS=%s, and the launcher gives it, and what is in it, to node's user (%s) at each start, before node runs; "+
				"or run node as root (unset LAUNCHER_USER).", folder, folder, u.owner())
		}
	}
	return fmt.Sprintf("Give it to node's user in the Dockerfile's runtime stage: `COPY --chown=%s …`, or `RUN chown %s %s` (or `chmod` its mode).", u.owner(), u.owner(), path)
}

// dataRefused is why node's user (who) may not create files in the data
// folder, where the app's database is when node's words name no file, and
// the fix; "" when its bits allow it, node runs as root, or the machine is
// not looked at.
func (on Machine) dataRefused(who string) (why, hint string) {
	u := on.User
	if on.Stat == nil || u == nil || u.UID == 0 || on.DataDir == "" {
		return "", ""
	}
	why, at := on.refusal(who, u, check{on.DataDir, 3, "create or remove files in"})
	if why == "" {
		return "", ""
	}
	return why, on.ownHint(u, at)
}

// DataRefused is what will keep the app from writing its data, told
// before node starts: node's user may not create files in the data folder.
func DataRefused(on Machine) (Diagnosis, bool) {
	why, hint := on.dataRefused("node's user")
	if why == "" {
		return Diagnosis{}, false
	}
	return Diagnosis{Cause: why + ": the app cannot write its data there", Hint: hint}, true
}

// notExecutable explains node's EACCES starting the program path
// (child_process): a file without its execute bit, a folder, or a file on
// a filesystem mounted noexec.
func (on Machine) notExecutable(path string) Diagnosis {
	d := Diagnosis{
		Cause: fmt.Sprintf("a program node started, %s, may not be run: it is not executable, or is a folder", path),
		Hint:  "Keep its execute bit in the image: `RUN chmod +x` it in the runtime stage, or `COPY --chmod=755`; a checkout on Windows, or an archive unpacked without its modes, drops it.",
	}
	u := on.User
	if on.Stat == nil || u == nil || !filepath.IsAbs(path) {
		return d
	}
	if why, at := on.refusal("its user", u, check{path, 0, ""}); why != "" {
		d.Cause = why
		d.Hint = on.ownHint(u, at)
		return d
	}
	fi, err := on.Stat(path)
	switch {
	case err != nil:
		return d
	case fi.IsDir():
		d.Cause = fmt.Sprintf("a program node started, %s, is a folder", path)
		d.Hint = "Start the program by its file's path (the command given to child_process)."
	case !u.allows(fi, 1):
		d.Cause = fmt.Sprintf("its user, %s, may not run %s: the file is not executable (%s)", u, path, ownership(fi))
		d.Hint = strings.Replace(d.Hint, "`RUN chmod +x` it", "`RUN chmod +x "+path+"`", 1)
	default:
		if f, ok := on.under(filepath.Dir(path)); ok && f.NoExec {
			d.Cause = fmt.Sprintf("a program node started, %s, cannot run: the filesystem under %s is mounted noexec", path, f.Folder)
			d.Hint = "Keep programs in the image (/app, /usr/local/bin), not in a folder mounted noexec (/tmp, /dev/shm, a tmpfs): a program written there at run time does not run."
		}
	}
	return d
}
