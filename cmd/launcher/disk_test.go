package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/disk/disktest"
)

// Scripts of an app's writes, run by node with better-sqlite3, the
// database's path their first argument.
const (
	// openDB opens its database as the reference backend does, in WAL mode.
	openDB = `const db = new (require('better-sqlite3'))(process.argv[1]);
db.pragma('journal_mode = WAL');
db.exec('create table if not exists t (x blob)');`
	// fillDB writes to its database until SQLite refuses.
	fillDB = openDB + `
const insert = db.prepare('insert into t values (?)');
for (;;) insert.run(Buffer.alloc(4096, 1));`
	// writeDB writes a row to its database.
	writeDB = `const db = new (require('better-sqlite3'))(process.argv[1]);
db.exec('create table if not exists t (x blob)');
db.prepare('insert into t values (?)').run(Buffer.alloc(64, 1));`
	// writeDBOnSignal opens its database, says so, and writes once more
	// at SIGUSR2.
	writeDBOnSignal = openDB + `
const insert = db.prepare('insert into t values (?)');
insert.run(Buffer.alloc(64, 1));
process.on('SIGUSR2', () => { for (let i = 0; i < 64; i++) insert.run(Buffer.alloc(65536, 2)); });
console.log('database', 'open'); // words the command line logged does not hold
setInterval(() => {}, 1000);`
)

// The disk under the app's data, as a Raspberry Pi's SD card fails it:
// full, failing (and then read-only), a database damaged; and a database
// node's user may not write, a filesystem in memory full. Each for real:
// ext4 on a loop device, the kernel's own error path, tmpfs; node and
// better-sqlite3 say what they say, and the launcher's log tells which
// disk, how it stands, and what to do. Before the launcher looked, these
// ended in node's words alone ("database or disk is full").
func TestRun_DiagnosesTheDisk(t *testing.T) {
	modules := filepath.Join(fixtures(t), "app20", "node_modules")
	// run supervises node running script on the database at db, the
	// add-on's data folder being data.
	run := func(t *testing.T, data, script, db string, env ...string) *launched {
		return launch(t, launchOpts{args: []string{"run", "--", "node", "-e", script, db},
			env: append([]string{"NODE_PATH=" + modules, never, "LAUNCHER_OPTIONS_FILE=" + filepath.Join(data, "options.json")}, env...)})
	}
	const startWarning = "WARNING: the disk"
	// prepare runs script on db, unsupervised, as root.
	prepare := func(t *testing.T, script, db string) {
		t.Helper()
		cmd := exec.Command("node", "-e", script, db)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}

	t.Run("full", func(t *testing.T) {
		d := disktest.Ext4(t, 8<<20)
		out := run(t, d.Dir, fillDB, filepath.Join(d.Dir, "hasync.db")).nodeFailed(60 * time.Second)
		logHas(t, out, "SQLITE_FULL", "node: the disk is full: "+d.Dir+" has 0B free of ", "Settings > System > Backups")
		if strings.Contains(out, startWarning) {
			t.Errorf("a warning at start, when the disk had room:\n%s", out)
		}
		// The next start, on the disk left full, says so before node runs.
		l := run(t, d.Dir, "", "")
		if code := l.wait(30 * time.Second); code != 0 {
			t.Fatalf("exit %d\n%s", code, l.stdout)
		}
		out = l.stdout.String()
		logHas(t, out, "WARNING: the disk is full: "+d.Dir+" has 0B free of ")
		if w, s := strings.Index(out, startWarning), strings.Index(out, "started node"); w < 0 || s < w {
			t.Errorf("the warning is not before node's start:\n%s", out)
		}
	})

	t.Run("a file mapped in memory on the full disk", func(t *testing.T) {
		// As SQLite maps its -shm file: a page of the mapping the disk
		// cannot back ends the process with SIGBUS, not an error. Python's
		// mmap makes it happen at once; node has no mmap of its own (the
		// add-on's backend met it through SQLite: the arm64 e2e).
		d := disktest.Ext4(t, 8<<20)
		d.Fill(t)
		mapper := "import mmap, sys\nf = open(sys.argv[1], 'w+b')\nf.truncate(1 << 20)\nm = mmap.mmap(f.fileno(), 1 << 20)\nm[:] = b'x' * (1 << 20)"
		l := launch(t, launchOpts{args: []string{"run", "--", "python3", "-c", mapper, filepath.Join(d.Dir, "hasync.db-shm")},
			env: []string{never, "LAUNCHER_OPTIONS_FILE=" + filepath.Join(d.Dir, "options.json")}})
		if code := l.wait(30 * time.Second); code != 135 {
			t.Fatalf("exit %d, want 135 (SIGBUS)\n%s", code, l.stdout)
		}
		logHas(t, l.stdout.String(), "killed by SIGBUS (135)", "a file node maps in memory could not be written (SIGBUS): the disk is full: "+d.Dir+" has 0B free of ",
			"Settings > System > Backups")
	})

	t.Run("failing, then read-only", func(t *testing.T) {
		d := disktest.Ext4(t, 8<<20)
		db := filepath.Join(d.Dir, "hasync.db")
		// A database in WAL mode closed whole, its -wal and -shm files gone.
		closed := filepath.Join(d.Dir, "closed.db")
		prepare(t, openDB+"\ndb.close();", closed)
		l := run(t, d.Dir, writeDBOnSignal, db)
		l.waitFor("database open")
		d.Fail(t)
		l.signal(syscall.SIGUSR2)
		logHas(t, l.nodeFailed(60*time.Second), "SQLITE_IOERR", "node: the disk under "+d.Dir+" failed a read or a write (an I/O error), and is read-only now",
			"Look for I/O errors in the host's log")

		// Restarted on it, the app finds its database read-only: the
		// mount does not say so (ext4's emergency_ro), the disk does.
		out := run(t, d.Dir, writeDB, db).nodeFailed(60 * time.Second)
		logHas(t, out, "WARNING: the disk under "+d.Dir+" is mounted read-only: the app cannot write there",
			"SQLITE_READONLY", "node: the disk under "+d.Dir+" is mounted read-only", "move Home Assistant to a new disk")
		// Opened as the backend opens its database, in WAL mode, one closed
		// whole cannot be: SQLite creates its -shm file first.
		logHas(t, run(t, d.Dir, openDB, closed).nodeFailed(60*time.Second), "SQLITE_CANTOPEN",
			"node: the app's SQLite database cannot be opened: the disk under "+d.Dir+" is mounted read-only", "move Home Assistant to a new disk")
	})

	t.Run("read-only to node's user", func(t *testing.T) {
		data := t.TempDir()
		// node's user reaches the folder: the test's temporary folders
		// are root's alone.
		must(t, os.Chmod(filepath.Dir(data), 0o755))
		must(t, os.Chmod(data, 0o755))
		db := filepath.Join(data, "hasync.db")
		prepare(t, writeDB, db)
		out := run(t, data, writeDB, db, "LAUNCHER_USER=65534:65534").nodeFailed(60 * time.Second)
		logHas(t, out, "SQLITE_READONLY", "node: the app's SQLite database is read-only to node: its user, nobody (uid 65534), may not create or remove files in "+data+" (root's, group 0, mode 0755)",
			"set LAUNCHER_USER_DIRS="+data)
		if strings.Contains(out, startWarning) || strings.Contains(out, "mounted read-only") {
			t.Errorf("a writable disk told as read-only:\n%s", out)
		}
	})

	t.Run("a database damaged", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			at     int64 // where the damage starts: page 2, or the header
			said   string
			reason string
		}{
			{"a page", 4096, "SQLITE_CORRUPT", "node: the app's SQLite database is damaged (database disk image is malformed)"},
			{"its header", 0, "SQLITE_NOTADB", "node: a file the app opens as its SQLite database is not one"},
		} {
			t.Run(c.name, func(t *testing.T) {
				data := t.TempDir()
				db := filepath.Join(data, "hasync.db")
				prepare(t, writeDB+"\nfor (let i = 0; i < 200; i++) db.prepare('insert into t values (?)').run(Buffer.alloc(100, 3));", db)
				f, err := os.OpenFile(db, os.O_WRONLY, 0)
				must(t, err)
				_, err = f.WriteAt([]byte(strings.Repeat("a torn write ", 316)), c.at)
				must(t, err)
				must(t, f.Close())
				logHas(t, run(t, data, writeDB, db).nodeFailed(60*time.Second), c.said, c.reason, "Settings > System > Backups", ".recover")
			})
		}
	})

	t.Run("in memory", func(t *testing.T) {
		// Full under the data folder; and with no room for a new file
		// where node names the file it opens, the data folder on another
		// disk.
		mem := disktest.Tmpfs(t, "size=1m")
		logHas(t, run(t, mem, fillDB, filepath.Join(mem, "hasync.db")).nodeFailed(60*time.Second), "SQLITE_FULL",
			"node: a filesystem kept in memory (tmpfs) is full: "+mem+" has ", "of 1MiB", "write its files to /data")
		few := disktest.Tmpfs(t, "size=1m,nr_inodes=4")
		out := run(t, t.TempDir(), "for (let i = 0; ; i++) require('fs').writeFileSync(process.argv[1] + '/cache' + i, 'x')", few).nodeFailed(60 * time.Second)
		logHas(t, out, "ENOSPC: no space left on device, open '"+few+"/cache",
			"node: a filesystem kept in memory (tmpfs) is full: "+few+" has no room for a new file (all 4 inodes taken; ")
	})
}

// The disk under the data folder as it runs full, has room again and turns
// read-only while node runs: the log tells each turn once, from the
// samples, and /status, /metrics and `launcher status` show how it stands.
func TestRun_TellsTheDiskAsItTurns(t *testing.T) {
	mem := disktest.Tmpfs(t, "size=4m")
	health := freePort(t)
	addr := fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health)
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", "setInterval(() => {}, 1000)"}, env: []string{
		never, addr, "LAUNCHER_SAMPLE_INTERVAL=50ms", "LAUNCHER_OPTIONS_FILE=" + filepath.Join(mem, "options.json")}})
	data := func() *launcher.DiskState {
		if s := getStatus(t, health); s != nil {
			return s.Container.Data
		}
		return nil
	}
	eventually(t, 20*time.Second, "/status never showed the data folder's disk", func() bool { return data() != nil })
	if d := data(); d.Path != mem || d.SizeBytes != 4<<20 || d.FreeBytes < 3<<20 || d.ReadOnly {
		t.Errorf("/status: %+v, want %s of 4MiB, nearly all free", d, mem)
	}

	fill := filepath.Join(mem, "backup.tar")
	if err := os.WriteFile(fill, make([]byte, 4<<20), 0o644); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	l.waitFor("WARNING: a filesystem kept in memory (tmpfs) is full: " + mem + " has ")
	if d := data(); d.FreeBytes >= 64<<10 {
		t.Errorf("/status of the full disk: %+v", d)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", health))
	must(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"launcher_data_disk_size_bytes 4194304\n", "launcher_data_disk_free_bytes "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	must(t, os.Remove(fill))
	l.waitFor("INFO: the disk takes writes again: " + mem + " has ")

	must(t, unix.Mount("", mem, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""))
	l.waitFor("WARNING: the disk under " + mem + " is mounted read-only: the app cannot write there")
	st := launch(t, launchOpts{args: []string{"status"}, env: []string{addr}})
	if code := st.wait(10 * time.Second); code != 0 || !strings.Contains(st.stdout.String(), "\ndisk\n  "+mem) ||
		!strings.Contains(st.stdout.String(), "free of 4MiB, mounted read-only\n") {
		t.Errorf("launcher status: exit %d\n%s", code, st.stdout)
	}

	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, l.stdout)
	}
	// Each turn once; none at the start, when the disk had room.
	out := l.stdout.String()
	for _, line := range []string{"is full", "takes writes again", "mounted read-only"} {
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", line, n, out)
		}
	}
}

// A disk the kernel stops writing while node runs (ext4 under
// errors=remount-ro, as an SD card's partition fails), node not writing
// and so not failing: the samples tell it, though its mount still says
// rw, and /status shows it.
func TestRun_TellsTheDiskFailingAsNodeRuns(t *testing.T) {
	d := disktest.Ext4(t, 8<<20)
	health := freePort(t)
	l := launch(t, launchOpts{args: []string{"run", "--", "node", "-e", "setInterval(() => {}, 1000)"}, env: []string{
		never, fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health), "LAUNCHER_SAMPLE_INTERVAL=50ms",
		"LAUNCHER_OPTIONS_FILE=" + filepath.Join(d.Dir, "options.json")}})
	eventually(t, 20*time.Second, "/status never showed the data folder's disk", func() bool {
		s := getStatus(t, health)
		return s != nil && s.Container.Data != nil
	})
	d.Fail(t)
	l.waitFor("WARNING: the disk under " + d.Dir + " is mounted read-only: the app cannot write there")
	if s := getStatus(t, health); s == nil || s.Container.Data == nil || !s.Container.Data.ReadOnly {
		t.Errorf("/status does not say read-only: %+v", s)
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, l.stdout)
	}
}
