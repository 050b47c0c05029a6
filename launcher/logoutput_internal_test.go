package launcher

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// sharedPipe is a pipe of 4 KiB whose write end the test's process writes
// as the launcher writes its stdout (a blocking file, not the runtime's
// poller's), and which another process sharing it has made non-blocking,
// as node does to the stdout it inherits.
func sharedPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	if err := unix.SetNonblock(fds[1], true); err != nil { // node's doing
		t.Fatal(err)
	}
	return r, w
}

func readAll(r io.Reader) <-chan []byte {
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	return got
}

// A write to a full pipe that node made non-blocking fails with EAGAIN
// (the premise); writeAll waits for the reader instead, and all arrives.
func TestWriteAll_WaitsOnAPipeMadeNonBlocking(t *testing.T) {
	r, w := sharedPipe(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
	n, err := w.Write(data)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("a plain write of %d bytes: %d, %v; want EAGAIN", len(data), n, err)
	}
	got := readAll(r)
	if err := writeAll(w, data[n:]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("read %d bytes, want the %d written", len(b), len(data))
	}
}

// The child's stderr relayed to a stderr that is node's stdout too (`2>&1`)
// and full: the relay waits for the reader where it stopped relaying at the
// first EAGAIN, and every byte arrives.
func TestRelayStderr_IntoAPipeMadeNonBlocking(t *testing.T) {
	r, w := sharedPipe(t)
	data := bytes.Repeat([]byte("a line of the child's stderr\n"), 10000)
	got := readAll(r)
	relayStderr(bytes.NewReader(data), w, NewTail(stderrTailLines))
	w.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("relayed %d bytes of %d", len(b), len(data))
	}
}
