package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/disk/disktest"
	"golang.org/x/sys/unix"
)

// Where a start's time went, told once node is ready, for real: a start
// held on a CPU, one that waits on a timer, one whose CPU other programs
// hold, one that reads a file the page cache does not have, and one that
// reads a disk that reads slowly. The line is at debug for starts under
// ten seconds, as these are.
func TestRun_TellsWhereAStartWent(t *testing.T) {
	slowFile, slowly := slowDisk(t, 4<<20, 12<<20)
	type want struct {
		share   string  // the largest share's words
		field   string  // a field of the line
		atLeast float64 // its least value
	}
	for _, tc := range []struct {
		name   string
		env    []string
		under  []string
		spinBy int // programs that never sleep, on node's CPU
		want   want
	}{
		{"on a CPU", []string{"BUSY_START_MS=1500"}, nil, 0,
			want{share: "% of it on a CPU, compiling and running the app's code before it answered", field: "cpu_ms", atLeast: 1400}},
		{"waiting on a timer", []string{"READY_AFTER_MS=1500"}, nil, 0,
			want{share: "% of it waiting off the CPU, not on a read of its own: on the network", field: "took_ms", atLeast: 1500}},
		// Three programs that never sleep share node's one CPU: its main
		// thread runs a quarter of the time, and waits the rest.
		{"waiting for a CPU", []string{"BUSY_START_MS=400"}, []string{"taskset", "-c", "0"}, 3,
			want{share: "% of it waiting for a CPU, which other programs held (at boot, Home Assistant and its add-ons start together)", field: "cpu_wait_ms", atLeast: 600}},
		{"reading the disk", []string{"READ_AT_START=" + coldFile(t, "", 64<<20)}, nil, 0,
			want{share: "", field: "read_bytes", atLeast: 64 << 20}},
		// A disk that reads 4 MiB a second, as a worn SD card does
		// (disktest.Slow): 12 MiB take three seconds.
		{"reading a slow disk", []string{"READ_AT_START=" + slowFile}, slowly, 0,
			want{share: "% of it waiting on the disk, reading what it loads: a slow disk (an SD card) reads so", field: "disk_wait_ms", atLeast: 2000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range tc.spinBy {
				spin := exec.Command("taskset", "-c", "0", "sh", "-c", "while :; do :; done")
				if err := spin.Start(); err != nil {
					t.Skipf("taskset: %v", err)
				}
				t.Cleanup(func() { _ = spin.Process.Kill(); _ = spin.Wait() })
			}
			b := runNodeAs(t, launchOpts{under: tc.under}, "server.js", tc.env...)
			b.waitFor("node's start took ")
			line := lineWith(b.stdout.String(), "node's start took ")
			t.Log(line)
			if !strings.Contains(line, "DEBUG: node's start took ") || !strings.Contains(line, tc.want.share) {
				t.Errorf("the start's line lacks %q:\n%s", tc.want.share, line)
			}
			if v := fieldOf(line, tc.want.field); v < tc.want.atLeast {
				t.Errorf("%s=%v, want at least %v:\n%s", tc.want.field, v, tc.want.atLeast, line)
			}
			// /status keeps the first start's, and `launcher status` shows it.
			_, body := b.get("/status")
			var st struct {
				Startup struct {
					NodeStart map[string]*float64 `json:"node_start"`
				} `json:"startup"`
			}
			if err := json.Unmarshal(body, &st); err != nil || st.Startup.NodeStart[tc.want.field] == nil || *st.Startup.NodeStart[tc.want.field] != fieldOf(line, tc.want.field) {
				t.Errorf("/status startup.node_start %v (%v), want %s as the log says:\n%s", st.Startup.NodeStart, err, tc.want.field, body)
			}
			if code, out := b.subcommand("status"); code != 0 || !strings.Contains(out, "  node's start of ") {
				t.Errorf("launcher status: exit %d\n%s", code, out)
			}
			b.signal(syscall.SIGTERM)
			b.wait(10 * time.Second)
		})
	}

	// Under run -- CMD, node itself tells its start; a shell that runs
	// node is not node, and its counters would tell the shell's waiting.
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node"))
	for _, cmd := range [][]string{{"/usr/bin/node", dir + "/server.js"}, {"/bin/sh", "-c", "/usr/bin/node " + dir + "/server.js"}} {
		b := runNodeAs(t, launchOpts{args: append([]string{"run", "--"}, cmd...)}, "server.js", "BUSY_START_MS=300")
		b.waitFor(" ready in ")
		// The line comes right after readiness's, from the same call.
		b.signal(syscall.SIGTERM)
		b.wait(10 * time.Second)
		if told, want := strings.Contains(b.stdout.String(), "'s start took "), cmd[0] == "/usr/bin/node"; told != want {
			t.Errorf("run -- %q: start told %v, want %v:\n%s", cmd, told, want, b.stdout)
		}
	}
}

// slowDisk is a file of size bytes, out of the page cache, on a disk that
// reads bytesPerSecond (disktest.Slow), and the command to run the
// launcher under for its reads to be so slow (node is its child).
func slowDisk(t *testing.T, bytesPerSecond int64, size int) (file string, under []string) {
	t.Helper()
	d := disktest.Ext4(t, int64(size)+32<<20)
	procs := d.Slow(t, bytesPerSecond)
	return coldFile(t, d.Dir, size), []string{"sh", "-c", `echo $$ > "$0" && exec "$@"`, procs}
}

// lineWith is the first line of out that holds s.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// fieldOf is the number in a log line's field name=…; -1 without it.
func fieldOf(line, name string) float64 {
	m := regexp.MustCompile(`\b` + name + `=([0-9.]+)`).FindStringSubmatch(line)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// coldFile is a file of size bytes in dir that the page cache does not
// hold: reading it reads the disk. Without a dir it is made where a disk
// is: a tmpfs (/tmp on some systems) keeps files in memory alone.
func coldFile(t *testing.T, dir string, size int) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type == unix.TMPFS_MAGIC || fs.Type == unix.RAMFS_MAGIC {
		wd, _ := os.Getwd()
		d, err := os.MkdirTemp(wd, "cold-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	path := filepath.Join(dir, "cold.bin")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	disktest.Cold(t, path)
	return path
}
