package launcher_test

import (
	"bufio"
	"fmt"
	"io"
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
// where the output was full, then a note of how many were dropped, in
// their place, then any lines handed over once the writer had taken the
// lines before the note (none, when it was still blocked in its write as
// the last line came; on a busy machine where it ran late, some, and
// perhaps another note of more lines dropped): the lines read, with those
// noted, make all, each in its place. Before, a
// line handed over as the writer took the lines before the note came
// before the note, and one shorter than the last dropped one was held
// after it, both where lines before them had been dropped.
func TestLogOutput_DropsWhatAStalledReaderCannotTakeAndSaysSo(t *testing.T) {
	r, w := onePagePipe(t)
	o := launcher.NewLogOutput(w)
	notes := make(chan time.Duration, 1)
	o.Start(func(note io.Writer, lines int, waited time.Duration) {
		fmt.Fprintf(note, "dropped %d\n", lines)
		notes <- waited
	})
	const total = 5000
	for i := range total {
		// Lines of two lengths: one that does not fit may be followed by
		// one that would.
		fmt.Fprintf(o, "line %d %s\n", i, strings.Repeat("x", 40+i%2*40))
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
	next, notesRead := 0, 0
	for _, l := range lines {
		var dropped int
		if n, err := fmt.Sscanf(l, "dropped %d", &dropped); err == nil && n == 1 {
			notesRead++
			next += dropped // the lines it stands for
			continue
		}
		f := strings.Fields(l)
		if n, err := strconv.Atoi(f[1]); f[0] != "line" || err != nil || n != next {
			t.Fatalf("line %q where line %d belongs: want every line, or the note of it, in its place", l, next)
		}
		next++
	}
	if notesRead == 0 || next != total {
		t.Errorf("%d notes; the lines read and those noted end at %d, want a note and %d", notesRead, next, total)
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
