package preflight

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/hasync/launcher/launcher/regular"
)

// The main script as node resolves it (Module._findPath for `node X` in
// the app folder): X itself, X with .js, .json or .node, then X as a folder:
// its package.json main (as a file, then as a folder's index), else its
// index.js. An absolute X is taken as it is.

var entryExtensions = []string{".js", ".json", ".node"}

// resolveEntry finds the file node would run for entry, and where it looked.
func resolveEntry(fsys *files, appDir, entry string) (string, []string, error) {
	path := entry
	if !filepath.IsAbs(path) {
		path = filepath.Join(appDir, entry)
	}
	var tried []string
	if found, err := resolveFile(fsys, path, &tried); found != "" || err != nil {
		return found, tried, err
	}
	if found, err := resolveFolder(fsys, path, &tried, 0); found != "" || err != nil {
		return found, tried, err
	}
	return path, tried, fs.ErrNotExist
}

// resolveFile tries path and path with each extension. A path that exists
// but is not a regular file is an error, not a miss, except a folder.
func resolveFile(fsys *files, path string, tried *[]string) (string, error) {
	for _, p := range append([]string{path}, withExtensions(path)...) {
		*tried = append(*tried, p)
		st, err := fsys.stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
			f, _, err := fsys.open(p) // readable, and not swapped for a FIFO
			if err != nil {
				return p, err
			}
			f.Close()
			return p, nil
		case err == nil && !st.IsDir():
			return p, &fs.PathError{Op: "open", Path: p, Err: regular.NotRegular(st.Mode())}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return p, err // unreadable folder, shortage: not a miss
		}
	}
	return "", nil
}

func withExtensions(path string) []string {
	out := make([]string, len(entryExtensions))
	for i, ext := range entryExtensions {
		out[i] = path + ext
	}
	return out
}

// resolveFolder resolves path as a folder: its package.json main, else
// its index.
func resolveFolder(fsys *files, dir string, tried *[]string, depth int) (string, error) {
	st, err := fsys.stat(dir)
	if err != nil || !st.IsDir() || depth > 4 {
		return "", nil
	}
	if pj, err := readPackageJSON(fsys, dir); err == nil && pj.Main != "" {
		main := filepath.Join(dir, pj.Main)
		if found, err := resolveFile(fsys, main, tried); found != "" || err != nil {
			return found, err
		}
		if found, err := resolveFolder(fsys, main, tried, depth+1); found != "" || err != nil {
			return found, err
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return filepath.Join(dir, "package.json"), err
	}
	return resolveFile(fsys, filepath.Join(dir, "index"), tried)
}
