package preflight

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Node's version in an image, without running node: from the image's
// package database (Alpine's apk, Debian's dpkg) for the node it installs,
// else from node's own files, which carry the release URL node reports as
// process.release.

// maxPackageDB caps a package database read; real ones are a few MB.
const maxPackageDB = 64 << 20

// parsePackageDB reads the installed packages and their versions from
// apk's lib/apk/db/installed (P: and V: lines, records separated by an
// empty line) or dpkg's var/lib/dpkg/status (Package:, Status:, Version:),
// keeping only the packages named (all when none is). dpkg packages not
// "install ok installed" are left out. A line longer than 64 KiB (a
// package's description) is skipped whole.
func parsePackageDB(r io.Reader, dpkg bool, names ...string) map[string]string {
	// Line by line through a small buffer, converting only the names and
	// versions kept: it runs beside node's start, and a Debian image's
	// status file is hundreds of kilobytes (read whole, split and
	// converted, it took 3 ms and 1.7 MB here, all of it competing with
	// node; a fresh buffer of its size alone is a page fault per 4 KiB).
	out := map[string]string{}
	var name, version, status string
	skip := false // the record is of a package not asked for
	flush := func() {
		if name != "" && version != "" && (!dpkg || status == "install ok installed") {
			out[name] = version
		}
		name, version, status, skip = "", "", "", false
	}
	wanted := func(n []byte) bool {
		if len(names) == 0 {
			return true
		}
		for _, w := range names {
			if string(n) == w {
				return true
			}
		}
		return false
	}
	br := bufio.NewReaderSize(io.LimitReader(r, maxPackageDB), 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull { // the rest of an overlong line
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				break
			}
			continue
		}
		if err != nil && len(line) == 0 {
			break
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
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
			n := bytes.TrimSpace(value)
			name, skip = "", !wanted(n)
			if !skip {
				name = string(n)
			}
		case "V", "Version":
			if !skip {
				version = string(bytes.TrimSpace(value))
			}
		case "Status":
			if !skip {
				status = string(bytes.TrimSpace(value))
			}
		}
		if err != nil {
			break
		}
	}
	flush()
	return out
}

var upstreamVersion = lazy(`^(?:\d+:)?(\d+\.\d+\.\d+)`)

// nodeFromDB is node's version by the image's package database: Alpine's
// nodejs (or nodejs-current), Debian's nodejs or libnode<ABI>.
func nodeFromDB(fsys *files, root string) (version, from string) {
	for _, db := range []struct {
		path  string
		dpkg  bool
		names []string
	}{
		{"/lib/apk/db/installed", false, []string{"nodejs", "nodejs-current"}},
		{"/var/lib/dpkg/status", true, []string{"nodejs", "libnode115", "libnode108", "libnode127", "libnode137"}},
	} {
		f, _, err := fsys.open(resolveIn(fsys, root, db.path))
		if err != nil {
			continue
		}
		pkgs := parsePackageDB(f, db.dpkg, db.names...)
		f.Close()
		for _, name := range db.names {
			if m := upstreamVersion.get().FindStringSubmatch(pkgs[name]); m != nil {
				return "v" + m[1], fmt.Sprintf("%s %s in %s", name, pkgs[name], db.path)
			}
		}
	}
	return "", ""
}

// packagedNode reports whether node at path, inside the image, is where
// apk's and dpkg's nodejs install it (/usr/bin/node, or nodejs), its links
// followed: only then is the package database's version node's. The
// official images' node is /usr/local/bin/node, which an image may hold
// beside the distribution's (`apt-get install npm` brings Debian's).
func packagedNode(fsys *files, root, path string) bool {
	real := resolveIn(fsys, root, path)
	if root != "" && root != "/" {
		real = strings.TrimPrefix(real, filepath.Clean(root))
	}
	return real == "/usr/bin/node" || real == "/usr/bin/nodejs"
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
		scanAfter(l.File.f, l.File.size, releaseURL, 32, func(after []byte) bool {
			if m := releaseVersion.get().Find(after); m != nil {
				version, from = "v"+string(m), "the release named in "+filepath.Base(l.Path)
			}
			return version != ""
		})
		if version != "" {
			return version, from
		}
	}
	return "", ""
}

// imageVersion fills node's version, ABI and Node-API level without
// running it.
func (p *Preflight) imageVersion(n *NodeInfo) error {
	var version, from string
	packaged := packagedNode(p.fsys, p.Image, n.Path)
	if packaged {
		version, from = nodeFromDB(p.fsys, p.Image)
	}
	if version == "" {
		version, from = nodeFromFiles(n.scope)
	}
	if version == "" {
		db := "no nodejs in the image's package database"
		if !packaged {
			db = "the image's package database tells the version of /usr/bin/node alone"
		}
		return fmt.Errorf("node's version could not be read without running it: %s, and no release in node's files", db)
	}
	if err := n.setVersion(version); err != nil {
		return err
	}
	if n.ABI == 0 && n.bin != nil {
		n.ABI = scanABI(n.bin.f, n.bin.size)
	}
	n.VersionFrom = from
	return nil
}
