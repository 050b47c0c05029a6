// Package regular opens and reads regular files without waiting on what
// is not one. Opening a FIFO for reading waits for a writer, and a device
// (or /dev/stdin, a pipe nobody writes to) may never answer: a path the
// launcher reads that a user, an app or its output names (the options
// file, the preflight's record, node's --env-file, a source map) must not
// hold the launcher, which is PID 1, on such a file. O_NONBLOCK makes the
// open itself return at once, and changes nothing for a regular file; what
// is not one is refused by its kind.
//
// It is not a filesystem abstraction: the preflight notes its reads
// (preflight/files.go) through it, and other readers keep their own
// bounds and messages.
package regular

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is a path that is a folder, FIFO, device or socket where
// a regular file is read.
type NotRegularError struct {
	Kind string // "a FIFO: reading it would wait for a writer"
}

func (e NotRegularError) Error() string { return "not a regular file (" + e.Kind + ")" }

// NotRegular is the error of a file of mode m read as a regular file: a
// NotRegularError naming its kind.
func NotRegular(m fs.FileMode) error {
	kind := "special file"
	switch {
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO: reading it would wait for a writer"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return NotRegularError{kind}
}

// Open opens path for reading when it is a regular file. Its info is
// returned with any error after the open: a stat that failed leaves it
// nil; a file that is not regular gives a *fs.PathError around a
// NotRegularError, and its info.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, st, &fs.PathError{Op: "open", Path: path, Err: NotRegular(st.Mode())}
	}
	return f, st, nil
}

// TooLargeError is a file larger than its reader takes.
type TooLargeError struct {
	Path      string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d bytes", e.Path, e.Max)
}

// ReadFile reads the regular file at path whole, at most max bytes: a
// larger one is a *TooLargeError.
func ReadFile(path string, max int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, st, max)
}

// Read reads f, opened by Open with its info st, whole, at most max bytes:
// a larger one is a *TooLargeError. A file that shrinks while it is read
// gives what was there.
func Read(f *os.File, st fs.FileInfo, max int64) ([]byte, error) {
	if st.Size() > max {
		return nil, &TooLargeError{Path: f.Name(), Size: st.Size(), Max: max}
	}
	b := make([]byte, st.Size())
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	return b[:n], err
}
