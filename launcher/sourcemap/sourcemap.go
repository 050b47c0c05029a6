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
	"slices"
	"strings"
)

// Map is a parsed source map: for each line of the generated file, its
// segments in column order.
type Map struct {
	sources []string // as the map names them, with its sourceRoot
	lines   [][]segment
}

// segment maps a generated column to a place in a source; src is -1 for a
// segment that maps to none.
type segment struct {
	col           int32 // 0-based, in the generated line
	src           int32
	srcLine, srcC int32 // 0-based
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
	lines, err := decodeMappings(*raw.Mappings)
	if err != nil {
		return nil, fmt.Errorf("source map: %w", err)
	}
	m.lines = lines
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
// has them) came from: the last segment of that line that starts at or
// before the column. ok is false for a place the map does not cover.
func (m *Map) Find(line, column int) (p Pos, ok bool) {
	if line < 1 || line > len(m.lines) || column < 1 {
		return p, false
	}
	segs := m.lines[line-1]
	i, found := slices.BinarySearchFunc(segs, int32(min(column-1, 1<<31-1)), func(s segment, c int32) int {
		return int(s.col) - int(c)
	})
	if !found {
		i-- // the segment before, which spans the column
	}
	if i < 0 {
		return p, false
	}
	s := segs[i]
	if s.src < 0 || int(s.src) >= len(m.sources) || s.srcLine < 0 || s.srcC < 0 {
		return p, false
	}
	return Pos{Source: m.sources[s.src], Line: int(s.srcLine) + 1, Column: int(s.srcC) + 1}, true
}

// decodeMappings decodes the "mappings" string: lines split by ';',
// segments by ',', each 1, 4 or 5 base64 VLQ fields relative to the
// segment before (the column to the line's previous one, the rest to the
// previous segment's anywhere).
func decodeMappings(s string) ([][]segment, error) {
	var lines [][]segment
	var src, srcLine, srcC int32
	var fields [5]int32
	for l, line := range strings.Split(s, ";") {
		var segs []segment
		col := int32(0)
		for seg := range strings.SplitSeq(line, ",") {
			if seg == "" {
				continue
			}
			n := 0
			for rest := seg; rest != ""; n++ {
				if n == len(fields) {
					return nil, fmt.Errorf("line %d: segment %q has more than 5 fields", l+1, seg)
				}
				v, used, err := vlq(rest)
				if err != nil {
					return nil, fmt.Errorf("line %d: segment %q: %w", l+1, seg, err)
				}
				fields[n], rest = v, rest[used:]
			}
			if n != 1 && n != 4 && n != 5 {
				return nil, fmt.Errorf("line %d: segment %q has %d fields, want 1, 4 or 5", l+1, seg, n)
			}
			col += fields[0]
			sg := segment{col: col, src: -1}
			if n >= 4 {
				src, srcLine, srcC = src+fields[1], srcLine+fields[2], srcC+fields[3]
				sg.src, sg.srcLine, sg.srcC = src, srcLine, srcC
			}
			segs = append(segs, sg)
		}
		// Compilers write a line's segments in column order; the search
		// needs them so.
		slices.SortStableFunc(segs, func(a, b segment) int { return int(a.col) - int(b.col) })
		lines = append(lines, segs)
	}
	return lines, nil
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
