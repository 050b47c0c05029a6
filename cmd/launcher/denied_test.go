package main

import (
	"os"
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
	base := t.TempDir()
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	must(t, os.Chmod(base, 0o755))
	data := filepath.Join(base, "data")
	must(t, os.Mkdir(data, 0o755))
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
			"unset LAUNCHER_USER"},
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
			if code := l.wait(30 * time.Second); code != 1 {
				t.Fatalf("exit %d, want node's 1\n%s", code, l.stdout)
			}
			out := l.stdout.String()
			for _, want := range []string{c.said, c.cause, "fix=", c.fix} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
