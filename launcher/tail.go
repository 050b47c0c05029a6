package launcher

import (
	"bytes"
	"sync"
)

// Tail keeps the last lines written to it, for the log line that reports a
// failed exit and for /status. Lines longer than maxLine are cut.
type Tail struct {
	mu      sync.Mutex
	lines   []string
	max     int
	partial []byte
}

const maxLine = 1024

// NewTail keeps up to n lines.
func NewTail(n int) *Tail { return &Tail{max: n} }

// Write never fails; it splits p into lines.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			t.partial = appendCapped(t.partial, rest)
			break
		}
		t.push(string(appendCapped(t.partial, rest[:i])))
		t.partial = t.partial[:0]
		rest = rest[i+1:]
	}
	return len(p), nil
}

func appendCapped(dst, src []byte) []byte {
	if room := maxLine - len(dst); len(src) > room {
		src = src[:max(room, 0)]
	}
	return append(dst, src...)
}

func (t *Tail) push(line string) {
	if len(t.lines) == t.max {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:t.max-1]
	}
	t.lines = append(t.lines, line)
}

// Lines returns the kept lines, oldest first, with any unfinished last line.
func (t *Tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	return out
}
