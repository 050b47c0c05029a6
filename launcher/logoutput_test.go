package launcher_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher"
)

// onePagePipe is a pipe that holds 4 KiB, so that a test fills it fast.
func onePagePipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	raw, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sizeErr error
	if err := raw.Control(func(fd uintptr) { _, sizeErr = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 4096) }); err != nil || sizeErr != nil {
		t.Fatal(err, sizeErr)
	}
	return r, w
}

// A reader that takes nothing while the launcher logs 5,000 lines (about
// 260 KB): every Write returns (none waits on the reader: the test would
// hang), and once the reader reads, it gets the lines in order up to
// where the output was full, then a note of how many were dropped, then
// any lines handed over once the writer had taken the note's place (none,
// when it was still blocked in its write as the last line came; some, on
// a busy machine where it ran late: a line handed over just as the writer
// takes the lines before the note may come before it): the lines read,
// with those dropped, make all.
func TestLogOutput_DropsWhatAStalledReaderCannotTakeAndSaysSo(t *testing.T) {
	r, w := onePagePipe(t)
	o := launcher.NewLogOutput(w)
	notes := make(chan time.Duration, 1)
	o.Start(func(lines int, waited time.Duration) {
		fmt.Fprintf(o, "dropped %d\n", lines)
		notes <- waited
	})
	const total = 5000
	for i := range total {
		fmt.Fprintf(o, "line %d %s\n", i, strings.Repeat("x", 40))
	}
	read := make(chan []string)
	go func() {
		var lines []string
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		read <- lines
	}()
	if waited := <-notes; waited < 0 {
		t.Errorf("the note says the write before the drops waited %s", waited)
	}
	o.Close(10 * time.Second)
	w.Close()
	lines := <-read
	last, dropped, notes2 := -1, 0, 0
	for _, l := range lines {
		if n, err := fmt.Sscanf(l, "dropped %d", &dropped); err == nil && n == 1 {
			notes2++
			continue
		}
		f := strings.Fields(l)
		n, err := strconv.Atoi(f[1])
		if f[0] != "line" || err != nil || n <= last {
			t.Fatalf("line %q after line %d: want the lines in order", l, last)
		}
		last = n
	}
	if notes2 != 1 || dropped == 0 {
		t.Fatalf("%d notes, the last of %d lines dropped; want one note of some:\n%s", notes2, dropped, strings.Join(lines[max(0, len(lines)-5):], "\n"))
	}
	if got := len(lines) - 1 + dropped; got != total {
		t.Errorf("%d lines read and %d dropped make %d, want %d", len(lines)-1, dropped, got, total)
	}
}

// Close waits for the lines handed over while the reader takes them, and
// gives up on a reader that takes nothing.
func TestLogOutput_Close(t *testing.T) {
	t.Run("a reader that reads gets every line", func(t *testing.T) {
		r, w := onePagePipe(t)
		o := launcher.NewLogOutput(w)
		o.Start(nil)
		read := make(chan int)
		go func() {
			n := 0
			for sc := bufio.NewScanner(r); sc.Scan(); n++ {
			}
			read <- n
		}()
		for i := range 500 {
			fmt.Fprintf(o, "line %d %s\n", i, strings.Repeat("x", 100))
		}
		o.Close(10 * time.Second)
		w.Close()
		if n := <-read; n != 500 {
			t.Errorf("read %d lines, want 500", n)
		}
	})
	t.Run("a reader that takes nothing", func(t *testing.T) {
		_, w := onePagePipe(t)
		o := launcher.NewLogOutput(w)
		o.Start(nil)
		for i := range 500 {
			fmt.Fprintf(o, "line %d %s\n", i, strings.Repeat("x", 100))
		}
		closed := make(chan struct{})
		go func() { o.Close(100 * time.Millisecond); close(closed) }()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatal("Close waits on a reader that takes nothing")
		}
	})
}
