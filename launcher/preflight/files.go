package preflight

import (
	"io/fs"
	"os"
	"syscall"
)

// openRegular opens a file the checks read, refusing without blocking
// anything that is not a regular file: opening a FIFO for reading waits for
// a writer, and a device may never answer. O_NONBLOCK makes the open itself
// return at once; for a regular file it changes nothing.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
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
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: notRegular(st.Mode())}
	}
	return f, st, nil
}

// notRegularError is a path that is a folder, FIFO, device or socket where
// a file must be.
type notRegularError struct{ kind string }

func (e notRegularError) Error() string { return "not a regular file (" + e.kind + ")" }

func notRegular(m fs.FileMode) error {
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
	return notRegularError{kind}
}
