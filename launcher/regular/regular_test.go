package regular_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/regular"
)

// What is not a regular file is refused by its kind, at once: a FIFO
// with no writer, /dev/stdin that is a pipe nobody writes to, a device, a
// folder; a socket's open fails. Each read runs with a bound, and the test fails
// rather than waits.
func TestOpen_RefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pipe := filepath.Join(dir, "stdin")
	if err := os.Symlink("/proc/self/fd/"+strconv.Itoa(int(r.Fd())), pipe); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{
		fifo:        "a FIFO",
		pipe:        "a FIFO",
		"/dev/zero": "a device",
		sock:        "", // the open itself fails: ENXIO
		dir:         "a folder",
	} {
		done := make(chan error, 1)
		go func() {
			_, err := regular.ReadFile(path, 1<<20)
			done <- err
		}()
		select {
		case err := <-done:
			if kind == "" {
				if err == nil {
					t.Errorf("%s: read, want it refused", path)
				}
				continue
			}
			nr, ok := errors.AsType[regular.NotRegularError](err)
			if !ok || !strings.HasPrefix(nr.Kind, kind) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: %v, want it refused as %s", path, err, kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still reading after 10s", path)
		}
	}
}

// A regular file is read whole up to the bound; past it, the error says
// so; a file that is not there is fs.ErrNotExist.
func TestReadFile_Bounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := regular.ReadFile(path, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile(5): %q, %v", b, err)
	}
	_, err := regular.ReadFile(path, 4)
	if tl, ok := errors.AsType[*regular.TooLargeError](err); !ok || tl.Size != 5 || tl.Max != 4 || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile(4): %v, want it too large", err)
	}
	if _, err := regular.ReadFile(path+".not", 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
