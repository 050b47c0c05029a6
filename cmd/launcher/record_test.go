package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher/disk/disktest"
	"github.com/hasync/launcher/launcher/preflight"
)

// The preflight's record across starts, as the add-on keeps it in /data:
// the first start checks and keeps it, the next recalls it, and an image
// broken since is checked again and refused, nothing of the app run.
func TestPreflightRecord_RecalledUntilTheImageChanges(t *testing.T) {
	app, record := recordApp(t)
	start := func(want int) string { t.Helper(); return startRecording(t, app, record, want) }

	out := start(0)
	if !strings.Contains(out, "preflight record kept") || strings.Contains(out, "recalled") ||
		!strings.Contains(out, "checks, beside node's own start)") {
		t.Fatalf("the first start must check, beside node's start behind the gate, and keep its record:\n%s", out)
	}
	st, err := os.Stat(record)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("record %v, mode %v: want the launcher's own file, 0600", err, st)
	}

	out = start(0)
	if !strings.Contains(out, "beside node's own start, recalled: nothing they read changed since") || strings.Contains(out, "preflight record kept") {
		t.Fatalf("the second start must recall the record:\n%s", out)
	}

	// better-sqlite3 built for node 18 in place of node 20's: node would refuse it.
	mod := filepath.Join(app, "node_modules", "better-sqlite3")
	must(t, os.Remove(mod))
	must(t, os.Symlink(appPackages(t, "app18")["better-sqlite3"], mod))
	out = start(3)
	for _, want := range []string{"preflight record not used: ", "preflight native:better-sqlite3 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("after the image changed, the log lacks %q:\n%s", want, out)
		}
	}
}

// The recalled line says when the checks ran in the log's own time zone,
// as its timestamps and `launcher status` do: a Home Assistant user in
// India reads the start of the day as 05:30, not as 00:00Z.
func TestPreflightRecord_RecalledTimeInTheLogsZone(t *testing.T) {
	if _, err := os.Stat("/usr/share/zoneinfo/Asia/Kolkata"); err != nil {
		t.Skip("no zoneinfo on this machine")
	}
	app, record := recordApp(t)
	start := func() string {
		t.Helper()
		l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_PREFLIGHT_RECORD=" + record, "TZ=Asia/Kolkata"}})
		if code := l.wait(30 * time.Second); code != 0 {
			t.Fatalf("exit %d\n%s", code, l.stdout)
		}
		return l.stdout.String()
	}
	first := start()
	checked := regexp.MustCompile(`(?m)^\[(\d\d:\d\d):\d\d\] INFO: .*preflight passed`).FindStringSubmatch(first)
	if checked == nil {
		t.Fatalf("the first start's log has no stamped \"preflight passed\":\n%s", first)
	}
	again := start()
	m := regexp.MustCompile(`recalled: nothing they read changed since they ran at (\S+ (\d\d:\d\d):\d\d)\)`).FindStringSubmatch(again)
	if m == nil {
		t.Fatalf("the second start does not say when the checks ran, as a date and a time:\n%s", again)
	}
	// The minute may turn between the check and its line.
	at, err := time.Parse("15:04", m[2])
	must(t, err)
	was, err := time.Parse("15:04", checked[1])
	must(t, err)
	if d := at.Sub(was); d < -time.Minute || d > time.Minute {
		t.Errorf("the checks ran at %s by the recalled line, and the log stamped them %s: not the log's zone", m[1], checked[1])
	}
}

// A record that is not one (a torn write, another program's file) costs
// only the full preflight: the start goes on, and the record is written
// again.
func TestPreflightRecord_UnreadableIsReplaced(t *testing.T) {
	for name, lay := range map[string]func(path string) error{
		"torn": func(path string) error { return os.WriteFile(path, []byte(`{"format":1,"reads":[`), 0o600) },
		// Opened for reading, a FIFO would wait for a writer.
		"a FIFO": func(path string) error { return syscall.Mkfifo(path, 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			app, record := recordApp(t)
			must(t, lay(record))
			out := startRecording(t, app, record, 0)
			for _, want := range []string{"preflight record unreadable", "preflight record kept"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// A record on a disk that takes no writes (full, or read-only after an
// error) is not kept, and the log says why without sending the user to
// LAUNCHER_PREFLIGHT_RECORD: the disk is what to mend, as the start's
// warning says.
func TestPreflightRecord_ADiskThatTakesNoWrites(t *testing.T) {
	for name, disk := range map[string]func(t *testing.T) string{
		"read-only": func(t *testing.T) string {
			dir := disktest.Tmpfs(t, "size=1m")
			must(t, unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""))
			return dir
		},
		"full": func(t *testing.T) string {
			d := disktest.Ext4(t, 8<<20)
			d.Fill(t)
			return d.Dir
		},
	} {
		t.Run(name, func(t *testing.T) {
			app, _ := recordApp(t)
			out := startRecording(t, app, filepath.Join(disk(t), "preflight.json"), 0)
			if !strings.Contains(out, "preflight record not kept: the disk under it takes no writes") || strings.Contains(out, "set LAUNCHER_PREFLIGHT_RECORD") {
				t.Errorf("the log does not say the disk is why:\n%s", out)
			}
		})
	}
}

// A node that ends at once, its record's write held by the disk: the
// launcher ends only once the record is written, whole, and leaves no
// half-written file beside it. The launcher kept the record beside the
// app's start and ended without waiting for it: a stop just after the
// start lost it, and left the write's temporary file in /data.
func TestPreflightRecord_KeptBeforeTheLauncherEnds(t *testing.T) {
	app, _ := recordApp(t)
	d := disktest.Ext4(t, 8<<20)
	record := filepath.Join(d.Dir, "preflight.json")
	thaw := d.Freeze(t)
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_PREFLIGHT_RECORD=" + record}})
	l.waitFor("node exited with code 0")
	waitInDiskSleep(t, l.pid())
	thaw()
	if code := l.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, l.stdout)
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("no record kept: %v\n%s", err, l.stdout)
	}
	if _, err := preflight.ParseRecord(b); err != nil {
		t.Errorf("the record kept is not whole: %v", err)
	}
	ents, err := os.ReadDir(d.Dir)
	must(t, err)
	for _, e := range ents {
		if e.Name() != "preflight.json" && e.Name() != "lost+found" {
			t.Errorf("%s left beside the record", e.Name())
		}
	}
}

// waitInDiskSleep waits until one of pid's threads sleeps in the kernel
// uninterruptibly (state D), as a writer to a frozen disk does.
func waitInDiskSleep(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			// The state follows the command's closing parenthesis.
			if i := bytes.LastIndexByte(b, ')'); err == nil && i >= 0 && bytes.HasPrefix(b[i:], []byte(") D ")) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no thread of %d waits on the disk after 20s", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recordApp is the reference app with an entry that ends at once, and
// where its record is to be kept.
func recordApp(t *testing.T) (app, record string) {
	t.Helper()
	app = newApp(t, ">=18", appPackages(t, "app20"))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("// ends at once\n"), 0o644))
	return app, filepath.Join(t.TempDir(), "preflight.json")
}

// startRecording runs the launcher on app, its record kept in record, to
// its end with exit code want, and returns its log.
func startRecording(t *testing.T, app, record string, want int) string {
	t.Helper()
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_PREFLIGHT_RECORD=" + record}})
	if code := l.wait(30 * time.Second); code != want {
		t.Fatalf("exit %d, want %d\n%s", code, want, l.stdout)
	}
	return l.stdout.String()
}
