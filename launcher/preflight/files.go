package preflight

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// resolveIn is where this process reaches path p of the image rooted at
// root: each component in turn, a symlink's target resolved inside the root
// too (an absolute target starts again from the root, never from this
// machine's /), as the container would see it. With root "" or "/", p.
func resolveIn(root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	parts := strings.Split(filepath.Clean("/"+p), "/")
	cur := "/"
	for hops := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, part)
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil { // not a link, or not there: taken as it is
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return filepath.Join(root, next) // a loop: let the open fail
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		parts = append(strings.Split(filepath.Clean(target), "/"), parts...)
		cur = "/"
	}
	return filepath.Join(root, cur)
}

// imagePATH is where node is looked for in an image: the PATH of the node
// and Home Assistant base images.
const imagePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPathIn finds name as the image's shell would: a path as it is, else
// in the image's PATH. It returns the path inside the image and where this
// process reaches it.
func lookPathIn(root, name string) (path, host string, err error) {
	var candidates []string
	if strings.ContainsRune(name, '/') {
		candidates = []string{name}
	} else {
		for _, d := range strings.Split(imagePATH, ":") {
			candidates = append(candidates, filepath.Join(d, name))
		}
	}
	for _, c := range candidates {
		h := resolveIn(root, c)
		if st, err := os.Stat(h); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c, h, nil
		}
	}
	return "", "", fs.ErrNotExist
}
