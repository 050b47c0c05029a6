package sourcemap

import (
	"encoding/base64"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/hasync/launcher/launcher/regular"
)

// App maps stack frames in the app's own compiled files: those under Root
// (relative to the working directory; "" is the working directory), not in
// a node_modules folder. A file that cannot be read, or is larger
// than maxFile, is not mapped.
type App struct {
	Root string

	maps map[string]*loaded // by generated file; nil when it has no map
}

// maxFile bounds a generated file or map read: a large bundle with its map
// inline is a few MB.
const maxFile = 32 << 20

// loaded is a generated file's map, and the folder its sources are
// relative to.
type loaded struct {
	m   *Map
	dir string
}

// mostFiles bounds the generated files one Stack reads: a stack tail has a
// few of the app's.
const mostFiles = 32

// frame is a V8 stack frame in a file: "    at fn (/app/dist/a.js:12:15)",
// "    at /app/dist/a.js:3:1", an ES module's "file:///app/dist/a.mjs:3:1".
// Compiled at the first stack that is mapped, not at every start.
var frame = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*(at (?:.*? \()?)(?:file://)?(/[^()]*?\.[cm]?js):(\d+):(\d+)(\)?)$`)
})

// Stack returns the frames of lines that map to the app's sources, in
// order, as node prints them with its own source maps on: "at loadConfig
// (/app/backend/src/config.ts:19:11)". The rest of lines (messages, node's
// own frames, packages', the app's files without a map) are left out.
func (a *App) Stack(lines []string) []string {
	var out []string
	for _, l := range lines {
		m := frame().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		file, err := url.PathUnescape(m[2])
		if err != nil {
			file = m[2]
		}
		line, err1 := strconv.Atoi(m[3])
		col, err2 := strconv.Atoi(m[4])
		if err1 != nil || err2 != nil {
			continue
		}
		lm := a.mapOf(file)
		if lm == nil {
			continue
		}
		p, ok := lm.m.Find(line, col)
		if !ok {
			continue
		}
		src := p.Source
		if !strings.Contains(src, "://") && !filepath.IsAbs(src) {
			src = filepath.Join(lm.dir, src)
		}
		out = append(out, m[1]+src+":"+strconv.Itoa(p.Line)+":"+strconv.Itoa(p.Column)+m[5])
	}
	return out
}

// mapOf is file's map, read once; nil outside the app's own files, or
// without a map that reads.
func (a *App) mapOf(file string) *loaded {
	file = filepath.Clean(file)
	if lm, seen := a.maps[file]; seen {
		return lm
	}
	if a.maps == nil {
		a.maps = map[string]*loaded{}
	}
	if len(a.maps) >= mostFiles {
		return nil
	}
	lm := a.load(file)
	a.maps[file] = lm
	return lm
}

func (a *App) load(file string) *loaded {
	if !a.inApp(file) {
		return nil
	}
	ref, ok := mappingURLOf(file)
	if !ok {
		return nil
	}
	var err error
	var b []byte
	dir := filepath.Dir(file)
	if data, ok := strings.CutPrefix(ref, "data:"); ok {
		if b, ok = dataURL(data); !ok {
			return nil
		}
	} else {
		ref, err = url.PathUnescape(strings.TrimPrefix(ref, "file://"))
		if err != nil {
			return nil
		}
		path := ref
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if !a.inApp(path) {
			return nil
		}
		// A regular file only: Stack runs on lines node printed, on the
		// supervision loop, which a FIFO or a device must not hold.
		if b, err = regular.ReadFile(path, maxFile); err != nil {
			return nil
		}
		dir = filepath.Dir(path)
	}
	m, err := Parse(b)
	if err != nil {
		return nil
	}
	return &loaded{m: m, dir: dir}
}

// inApp says that path is under the app's folder and in no node_modules.
func (a *App) inApp(path string) bool {
	root, err := filepath.Abs(a.Root)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return false
	}
	return !strings.Contains("/"+rel+"/", "/node_modules/")
}

// tailBytes is how much of a generated file's end is read first for its
// map's URL: a bundle is megabytes, the comment its last line.
const tailBytes = 64 << 10

// mappingURLOf is the URL of file's map, from its tail; the whole file
// (up to maxFile) is read only when the comment is not there, as when the
// map is inline and larger than the tail.
func mappingURLOf(file string) (string, bool) {
	f, fi, err := regular.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if fi.Size() > maxFile {
		return "", false
	}
	off := max(0, fi.Size()-tailBytes)
	tail := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(tail, off); err != nil {
		return "", false
	}
	if ref, ok := MappingURL(tail); ok || off == 0 {
		return ref, ok
	}
	whole := make([]byte, fi.Size())
	if _, err := f.ReadAt(whole, 0); err != nil {
		return "", false
	}
	return MappingURL(whole)
}

// MappingURL is the URL of a generated file's map: its last
// `//# sourceMappingURL=` comment (`//@` in old compilers' output).
func MappingURL(js []byte) (string, bool) {
	s := string(js)
	i := max(strings.LastIndex(s, "//# sourceMappingURL="), strings.LastIndex(s, "//@ sourceMappingURL="))
	if i < 0 {
		return "", false
	}
	ref := s[i+len("//# sourceMappingURL="):]
	if end := strings.IndexAny(ref, "\r\n"); end >= 0 {
		ref = ref[:end]
	}
	ref = strings.TrimSpace(ref)
	return ref, ref != "" && !strings.ContainsAny(ref, " \t")
}

// dataURL decodes an inline map: "application/json;base64,eyJ2…" (or
// percent-encoded without ";base64").
func dataURL(s string) ([]byte, bool) {
	meta, data, ok := strings.Cut(s, ",")
	if !ok {
		return nil, false
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(data)
		}
		return b, err == nil
	}
	d, err := url.PathUnescape(data)
	return []byte(d), err == nil
}
