// Package shortage tells a failure of the moment (the process or the system
// ran short of descriptors, processes or memory) from a failure of the
// thing tried: the first says "not now", the second "never".
package shortage

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Errno reports the errors that say "not now": EMFILE, ENFILE, EAGAIN,
// ENOMEM.
func Errno(errno unix.Errno) bool {
	switch errno {
	case unix.EMFILE, unix.ENFILE, unix.EAGAIN, unix.ENOMEM:
		return true
	}
	return false
}

// Is reports whether err comes from a shortage of the moment.
func Is(err error) bool {
	var errno unix.Errno
	return errors.As(err, &errno) && Errno(errno)
}
