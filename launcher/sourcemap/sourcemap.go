// Package sourcemap maps the frames of a node stack trace in compiled
// JavaScript (TypeScript's dist/*.js, a bundle) back to the app's sources,
// by the source maps the compiler wrote beside them (Source Map revision 3:
// a file's `//# sourceMappingURL=` comment, a .map file or an inline data
// URL). The launcher uses it when node ends in failure: the stack node
// printed names dist/config.js:12:15, the log adds src/config.ts:19:11.
//
// It runs after node has exited, on the launcher's side, so the app pays
// nothing for it: node's own --enable-source-maps maps every Error.stack
// the app reads, at a cost the node project itself warns of, and is off by
// default.
//
// Non-goals: index maps (a map of "sections"), frames of packages in
// node_modules (their maps often name sources that are not shipped), code
// frames (the sources are seldom in the image), names from the map's
// "names" (V8's function name is kept).
package sourcemap

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Map is a parsed source map. Its mappings stay encoded: a failed exit
// asks a few places of a map that can be megabytes (a bundle's), so only
// where each generated line starts is kept, with the state of the
// relative fields there, and a line is decoded when asked.
type Map struct {
	sources  []string // as the map names them, with its sourceRoot
	mappings string
	lines    []lineStart
}

// lineStart is where a generated line's segments begin in the mappings,
// and the source fields' running values before its first segment.
type lineStart struct {
	off                int
	src, srcLine, srcC int32
}

// Pos is a place in a source: 1-based line and column, as stack traces
// count them.
type Pos struct {
	Source       string
	Line, Column int
}

// Parse reads a revision 3 source map.
func Parse(b []byte) (*Map, error) {
	var raw struct {
		Version    int             `json:"version"`
		SourceRoot string          `json:"sourceRoot"`
		Sources    []*string       `json:"sources"`
		Mappings   *string         `json:"mappings"`
		Sections   json.RawMessage `json:"sections"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("source map: %w", err)
	}
	switch {
	case raw.Version != 3:
		return nil, fmt.Errorf("source map: version %d, want 3", raw.Version)
	case raw.Sections != nil:
		return nil, errors.New("source map: an index map (sections), which is not read")
	case raw.Mappings == nil:
		return nil, errors.New("source map: no mappings")
	}
	m := &Map{sources: make([]string, len(raw.Sources))}
	for i, s := range raw.Sources {
		if s != nil {
			m.sources[i] = joinRoot(raw.SourceRoot, *s)
		}
	}
	m.mappings = *raw.Mappings
	if err := m.index(); err != nil {
		return nil, fmt.Errorf("source map: %w", err)
	}
	return m, nil
}

// joinRoot puts the map's sourceRoot before a source's name.
func joinRoot(root, source string) string {
	if root == "" || strings.HasPrefix(source, "/") || strings.Contains(source, "://") {
		return source
	}
	return strings.TrimSuffix(root, "/") + "/" + source
}

// Find is where the generated line and column (1-based, as a stack frame
// has them) came from: the segment of that line that starts last at or
// before the column. ok is false for a place the map does not cover.
func (m *Map) Find(line, column int) (p Pos, ok bool) {
	if line < 1 || line > len(m.lines) || column < 1 {
		return p, false
	}
	ls := m.lines[line-1]
	end := len(m.mappings)
	if line < len(m.lines) {
		end = m.lines[line].off - 1 // its ';'
	}
	st := state{src: ls.src, srcLine: ls.srcLine, srcC: ls.srcC}
	best, found := segment{}, false
	want := int64(column - 1)
	for seg := range strings.SplitSeq(m.mappings[ls.off:end], ",") {
		sg, err := st.next(seg)
		if err != nil || !sg.ok {
			continue // indexed: a segment that decodes has no error here
		}
		// Compilers write a line's segments in column order; the last one
		// at or before the column wins either way.
		if int64(sg.col) <= want && (!found || sg.col >= best.col) {
			best, found = sg, true
		}
	}
	if !found || best.src < 0 || int(best.src) >= len(m.sources) || best.srcLine < 0 || best.srcC < 0 {
		return p, false
	}
	return Pos{Source: m.sources[best.src], Line: int(best.srcLine) + 1, Column: int(best.srcC) + 1}, true
}

// segment maps a generated column to a place in a source; src is -1 for a
// segment that maps to none, ok false for an empty one.
type segment struct {
	col                int32 // 0-based, in the generated line
	src, srcLine, srcC int32 // 0-based
	ok                 bool
}

// state is the running value of a line's fields: the column from the
// line's start, the others from the mappings' start.
type state struct {
	col, src, srcLine, srcC int32
}

// next decodes one segment: 1, 4 or 5 base64 VLQ fields, each relative to
// the segment before.
func (st *state) next(seg string) (segment, error) {
	if seg == "" {
		return segment{}, nil
	}
	var fields [5]int32
	n := 0
	for rest := seg; rest != ""; n++ {
		if n == len(fields) {
			return segment{}, fmt.Errorf("segment %q has more than 5 fields", seg)
		}
		v, used, err := vlq(rest)
		if err != nil {
			return segment{}, fmt.Errorf("segment %q: %w", seg, err)
		}
		fields[n], rest = v, rest[used:]
	}
	if n != 1 && n != 4 && n != 5 {
		return segment{}, fmt.Errorf("segment %q has %d fields, want 1, 4 or 5", seg, n)
	}
	st.col += fields[0]
	sg := segment{col: st.col, src: -1, ok: true}
	if n >= 4 {
		st.src, st.srcLine, st.srcC = st.src+fields[1], st.srcLine+fields[2], st.srcC+fields[3]
		sg.src, sg.srcLine, sg.srcC = st.src, st.srcLine, st.srcC
	}
	return sg, nil
}

// index decodes the mappings once, to check them and to note where each
// line starts: lines split by ';', segments by ','.
func (m *Map) index() error {
	var st state
	off := 0
	for l, line := range strings.Split(m.mappings, ";") {
		st.col = 0
		m.lines = append(m.lines, lineStart{off: off, src: st.src, srcLine: st.srcLine, srcC: st.srcC})
		for seg := range strings.SplitSeq(line, ",") {
			if _, err := st.next(seg); err != nil {
				return fmt.Errorf("line %d: %w", l+1, err)
			}
		}
		off += len(line) + 1
	}
	return nil
}

// vlq decodes one base64 VLQ value from the start of s: 5 bits a digit,
// least significant first, 0x20 saying more follow; the lowest bit of the
// value is its sign. used is how many bytes it took.
func vlq(s string) (v int32, used int, err error) {
	var u uint64
	for shift := uint(0); ; shift += 5 {
		if used == len(s) {
			return 0, 0, errors.New("a value ends mid-way")
		}
		d := base64Digit(s[used])
		used++
		if d < 0 {
			return 0, 0, fmt.Errorf("%q is not base64", s[used-1])
		}
		if shift > 30 {
			return 0, 0, errors.New("a value beyond 32 bits")
		}
		u |= uint64(d&0x1f) << shift
		if d&0x20 == 0 {
			break
		}
	}
	if u>>1 > math.MaxInt32 {
		return 0, 0, errors.New("a value beyond 32 bits")
	}
	if u&1 != 0 {
		return -int32(u >> 1), used, nil
	}
	return int32(u >> 1), used, nil
}

func base64Digit(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}
