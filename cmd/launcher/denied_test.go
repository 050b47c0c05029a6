package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/disk/disktest"
)

// node refused by the file system, for real: run as LAUNCHER_USER, it
// writes into the add-on's data folder (root's, as the Supervisor makes
// it), writes a file root keeps, reads through a folder it cannot enter;
// as root, it starts a program that lost its execute bit, and one on a
// filesystem mounted noexec. node says "EACCES: permission denied" and
// the path; the log now says which bits refused whom, and the fix. Before,
// node's words alone.
func TestRun_DiagnosesPermissionDenied(t *testing.T) {
	// A tree of root's: the data folder, a file in a folder anyone may
	// write, a folder only root may enter.
	base, data := addonData(t)
	open := filepath.Join(base, "open")
	must(t, os.Mkdir(open, 0o777))
	must(t, os.Chmod(open, 0o777))
	kept := filepath.Join(open, "kept.json")
	must(t, os.WriteFile(kept, []byte("{}"), 0o644))
	private := filepath.Join(base, "private")
	must(t, os.Mkdir(private, 0o700))
	must(t, os.WriteFile(filepath.Join(private, "x"), nil, 0o666))
	tool := filepath.Join(base, "tool")
	must(t, os.WriteFile(tool, []byte("#!/bin/sh\necho hi\n"), 0o644))
	mem := disktest.Tmpfs(t, "size=1m")
	onTmpfs := filepath.Join(mem, "tool")
	must(t, os.WriteFile(onTmpfs, []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(t, unix.Mount("", mem, "", unix.MS_REMOUNT|unix.MS_NOEXEC, "size=1m"))

	for _, c := range []struct {
		name, script, arg string
		user              bool // as LAUNCHER_USER=65534
		said, cause, fix  string
	}{
		{"a file in the data folder", "require('fs').writeFileSync(process.argv[1], 'x')", filepath.Join(data, "hasync.db"), true,
			"EACCES: permission denied, open",
			"node: its user, nobody (uid 65534), may not create or remove files in " + data + " (root's, group 0, mode 0755)",
			data + " is mounted when the add-on starts, root's"},
		{"a folder in the data folder", "require('fs').mkdirSync(process.argv[1])", filepath.Join(data, "cache"), true,
			"EACCES: permission denied, mkdir",
			"node: its user, nobody (uid 65534), may not create or remove files in " + data,
			"set LAUNCHER_USER_DIRS=" + data + ", and the launcher gives it"},
		{"a file root keeps", "require('fs').appendFileSync(process.argv[1], 'x')", kept, true,
			"EACCES: permission denied, open",
			"node: its user, nobody (uid 65534), may not write " + kept + " (root's, group 0, mode 0644)",
			"`RUN chown nobody " + kept + "`"},
		{"a folder it cannot enter", "require('fs').readFileSync(process.argv[1])", filepath.Join(private, "x"), true,
			"EACCES: permission denied, open",
			"node: its user, nobody (uid 65534), cannot enter " + private + " (root's, group 0, mode 0700)",
			"COPY --chown=nobody"},
		{"a program without its execute bit", "require('child_process').execFileSync(process.argv[1])", tool, false,
			"spawnSync " + tool + " EACCES",
			"node: its user, root (uid 0), may not run " + tool + ": the file is not executable (root's, group 0, mode 0644)",
			"`RUN chmod +x " + tool + "`"},
		{"a program on a filesystem mounted noexec", "require('child_process').execFileSync(process.argv[1])", onTmpfs, false,
			"spawnSync " + onTmpfs + " EACCES",
			"node: a program node started, " + onTmpfs + ", cannot run: the filesystem under " + mem + " is mounted noexec",
			"not in a folder mounted noexec"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := []string{never, "LAUNCHER_OPTIONS_FILE=" + filepath.Join(data, "options.json")}
			if c.user {
				env = append(env, "LAUNCHER_USER=65534")
			}
			l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", c.script, c.arg}, env: env})
			logHas(t, l.nodeFailed(30*time.Second), c.said, c.cause, "fix=", c.fix)
		})
	}
}

// LAUNCHER_USER_DIRS gives node's user its data before node runs: the
// add-on's folder as the Supervisor mounts it (root's) and a database an
// earlier version wrote as root. Without it node, as
// LAUNCHER_USER, cannot write its database, and the log says so before
// node starts and when it fails, with the variable to set; with it node writes, and what is not the folder's to
// give stays root's: a filesystem mounted inside, a link's target (the
// link is given), a file of two hard links, the preflight's record. A folder that takes no
// change of owner (mounted read-only) is a warning, and node still runs.
func TestRun_GivesUserDirsToNodesUser(t *testing.T) {
	modules := filepath.Join(fixtures(t), "app20", "node_modules")
	base, data := addonData(t)
	db := filepath.Join(data, "hasync.db")
	prepare := exec.Command("node", "-e", openDB, db)
	prepare.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := prepare.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	must(t, os.MkdirAll(filepath.Join(data, "cache", "deep"), 0o700))
	outside := filepath.Join(base, "outside")
	must(t, os.WriteFile(outside, nil, 0o644))
	must(t, os.Symlink(outside, filepath.Join(data, "link")))
	linked := filepath.Join(base, "linked")
	must(t, os.WriteFile(linked, nil, 0o644))
	must(t, os.Link(linked, filepath.Join(data, "hardlink")))
	record := filepath.Join(data, "launcher-preflight.json")
	must(t, os.WriteFile(record, []byte("{}"), 0o600))
	inside := filepath.Join(data, "mounted")
	must(t, os.Mkdir(inside, 0o755))
	must(t, unix.Mount("tmpfs", inside, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(inside, unix.MNT_DETACH) })
	must(t, os.WriteFile(filepath.Join(inside, "x"), nil, 0o644))
	readOnly := disktest.Tmpfs(t, "size=1m")
	must(t, unix.Mount("", readOnly, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""))

	run := func(t *testing.T, env ...string) (int, string) {
		l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", writeDB, db},
			env: append([]string{"NODE_PATH=" + modules, never, "LAUNCHER_USER=65534",
				"LAUNCHER_OPTIONS_FILE=" + filepath.Join(data, "options.json"), "LAUNCHER_PREFLIGHT_RECORD=" + record}, env...)})
		code := l.wait(30 * time.Second)
		return code, l.stdout.String()
	}
	owner := func(path string) uint32 {
		var st unix.Stat_t
		must(t, unix.Lstat(path, &st))
		return st.Uid
	}

	// Without it: told before node starts, and when it fails.
	warning := "WARNING: node's user, nobody (uid 65534), may not create or remove files in " + data + " (root's, group 0, mode 0755): the app cannot write its data there"
	code, out := run(t)
	if code != 1 || !strings.Contains(out, "set LAUNCHER_USER_DIRS="+data) {
		t.Fatalf("without LAUNCHER_USER_DIRS: exit %d, want 1 and the variable named\n%s", code, out)
	}
	if w, s := strings.Index(out, warning), strings.Index(out, "started node"); w < 0 || s < w {
		t.Errorf("no warning %q before node's start:\n%s", warning, out)
	}
	code, out = run(t, "LAUNCHER_USER_DIRS="+data+","+readOnly)
	if code != 0 || strings.Contains(out, "the app cannot write its data there") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		// data, the database, cache and deep, the link (not its target).
		"INFO: gave 5 files and folders in " + data + ", " + readOnly + " to nobody (65534:65534)",
		"WARNING: could not give all of " + data + ", " + readOnly + " to nobody (65534:65534): chown " + readOnly + ": read-only file system",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if g, s := strings.Index(out, "gave 5"), strings.Index(out, "started node"); g < 0 || s < g {
		t.Errorf("not given before node's start:\n%s", out)
	}
	for path, uid := range map[string]uint32{
		data: 65534, db: 65534, filepath.Join(data, "cache", "deep"): 65534, filepath.Join(data, "link"): 65534,
		outside: 0, linked: 0, record: 0, filepath.Join(inside, "x"): 0, inside: 0,
	} {
		if got := owner(path); got != uid {
			t.Errorf("%s is uid %d's, want %d's", path, got, uid)
		}
	}
	// Given once: the next start finds nothing to give.
	if code, out := run(t, "LAUNCHER_USER_DIRS="+data); code != 0 || strings.Contains(out, "gave") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// addonData makes a folder anyone may enter, base, and in it the add-on's
// data folder as the Supervisor mounts it: root's, mode 0755.
func addonData(t *testing.T) (base, data string) {
	base = t.TempDir()
	// The test's temporary folders are root's alone: node's user reaches
	// this one.
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	must(t, os.Chmod(base, 0o755))
	data = filepath.Join(base, "data")
	must(t, os.Mkdir(data, 0o755))
	return base, data
}

// The launcher not started as root (a Dockerfile's `USER node`, `docker
// run --user`), or as root without CAP_SETUID and CAP_SETGID (a run with
// --cap-drop), may not start node as another user: LAUNCHER_USER naming
// one is a configuration error, said at once (exit 2) with the fix, where
// node's every start failed with "operation not permitted" (exit 126).
// LAUNCHER_USER naming the launcher's own user needs no switch: node runs
// as it is, where that failed the same way (setgroups).
func TestRun_LauncherUserTheLauncherCannotBecome(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("starting the launcher as another user needs root")
	}
	base, _ := addonData(t)
	bin := filepath.Join(base, "launcher")
	data, err := os.ReadFile(realLauncher(t))
	must(t, err)
	must(t, os.WriteFile(bin, data, 0o755))
	env := func(user string) []string {
		return []string{never, "LAUNCHER_USER=" + user, "LAUNCHER_OPTIONS_FILE=" + filepath.Join(base, "options.json"), "LAUNCHER_PREFLIGHT_RECORD="}
	}
	script := []string{"run", "--", "node", "-e", "console.log('node runs as', process.getuid())"}
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	withoutSetuid := []string{"setpriv", "--bounding-set", "-setuid,-setgid"}
	for _, c := range []struct {
		name  string
		under []string
		user  string
		code  int
		said  string
	}{
		{"as nobody, another user", asNobody, "daemon", 2,
			"LAUNCHER_USER=\"daemon\": the launcher runs as uid 65534 gid 65534, not root, and may not start node as uid 1 gid 1: run the container as root"},
		{"as nobody, itself", asNobody, "nobody", 0, "node runs as 65534"},
		{"as nobody, its uid", asNobody, "65534", 0, "node runs as 65534"},
		{"as root without CAP_SETUID", withoutSetuid, "nobody", 2,
			"LAUNCHER_USER=\"nobody\": the launcher lacks CAP_SETUID and CAP_SETGID (a run with --cap-drop), and may not start node as another user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := launch(t, launchOpts{binary: bin, args: script, env: env(c.user), under: c.under})
			if code := l.wait(30 * time.Second); code != c.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, c.code, l.stdout, l.stderr)
			}
			logHas(t, l.stdout.String()+l.stderr.String(), c.said)
		})
	}
}
