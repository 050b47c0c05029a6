package preflight

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
)

// Node's version in an image, without running node: from the image's
// package database (Alpine's apk, Debian's dpkg), else from node's own
// files, which carry the release URL node reports as process.release.

// maxPackageDB caps a package database read; real ones are a few MB.
const maxPackageDB = 64 << 20

// parsePackageDB reads the installed packages and their versions from
// apk's lib/apk/db/installed (P: and V: lines, records separated by an
// empty line) or dpkg's var/lib/dpkg/status (Package:, Status:, Version:).
// dpkg packages not "install ok installed" are left out.
func parsePackageDB(data []byte, dpkg bool) map[string]string {
	// Line by line over the bytes, converting only the names and versions
	// kept: it runs beside node's start, and a Debian image's status file
	// is hundreds of kilobytes (splitting it and converting every line
	// took 3 ms and 1.7 MB here, all of it competing with node).
	out := map[string]string{}
	var name, version, status []byte
	flush := func() {
		if len(name) > 0 && len(version) > 0 && (!dpkg || string(status) == "install ok installed") {
			out[string(name)] = string(version)
		}
		name, version, status = nil, nil, nil
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			flush() // a blank line ends a record
			continue
		}
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(key) {
		case "P", "Package":
			name = bytes.TrimSpace(value)
		case "V", "Version":
			version = bytes.TrimSpace(value)
		case "Status":
			status = bytes.TrimSpace(value)
		}
	}
	flush()
	return out
}

var upstreamVersion = lazy(`^(?:\d+:)?(\d+\.\d+\.\d+)`)

// nodeFromDB is node's version by the image's package database: Alpine's
// nodejs (or nodejs-current), Debian's nodejs or libnode<ABI>.
func nodeFromDB(root string) (version, from string) {
	for _, db := range []struct {
		path  string
		dpkg  bool
		names []string
	}{
		{"/lib/apk/db/installed", false, []string{"nodejs", "nodejs-current"}},
		{"/var/lib/dpkg/status", true, []string{"nodejs", "libnode115", "libnode108", "libnode127", "libnode137"}},
	} {
		f, st, err := openRegular(resolveIn(root, db.path))
		if err != nil {
			continue
		}
		data := make([]byte, min(st.Size(), maxPackageDB))
		_, err = f.ReadAt(data, 0)
		f.Close()
		if err != nil && int64(len(data)) != st.Size() {
			continue
		}
		pkgs := parsePackageDB(data, db.dpkg)
		for _, name := range db.names {
			if m := upstreamVersion.get().FindStringSubmatch(pkgs[name]); m != nil {
				return "v" + m[1], fmt.Sprintf("%s %s in %s", name, pkgs[name], db.path)
			}
		}
	}
	return "", ""
}

var (
	releaseURL     = []byte("/download/release/v")
	releaseVersion = lazy(`^\d+\.\d+\.\d+`)
)

// nodeFromFiles finds the release node reports in process.release, in the
// files of node's scope (the executable, or libnode).
func nodeFromFiles(scope []*loadedLib) (version, from string) {
	for _, l := range scope {
		if l.File == nil {
			continue
		}
		buf := make([]byte, 1<<20+64)
		for off := int64(0); off < l.File.size; off += 1 << 20 {
			n, _ := l.File.f.ReadAt(buf, off)
			chunk := buf[:n]
			if i := bytes.Index(chunk, releaseURL); i >= 0 {
				rest := chunk[i+len(releaseURL):]
				if m := releaseVersion.get().Find(rest); m != nil {
					return "v" + string(m), "the release named in " + filepath.Base(l.Path)
				}
			}
		}
	}
	return "", ""
}

// imageVersion fills node's version, ABI and Node-API level without
// running it.
func (p *Preflight) imageVersion(n *NodeInfo) error {
	version, from := nodeFromDB(p.Image)
	if version == "" {
		version, from = nodeFromFiles(n.scope)
	}
	if version == "" {
		return errors.New("node's version could not be read without running it: no nodejs in the image's package database, and no release in node's files")
	}
	if err := n.setVersion(version); err != nil {
		return err
	}
	n.VersionFrom = from
	return nil
}
