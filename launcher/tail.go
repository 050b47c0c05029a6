package launcher

import (
	"bytes"
	"strings"
	"sync"
)

// Tail keeps the last lines written to it, for the log line that reports a
// failed exit and for /status, and apart from them the last lines that
// name an error (namesError), for the exit's diagnosis: node prints an
// uncaught error's header first and its properties after, and an object
// among them (a TLS certificate, a request) can run past the kept lines.
// Lines longer than maxLine are cut; what node's inspector announces is
// not kept (inspectorSays).
type Tail struct {
	mu        sync.Mutex
	lines     []string
	errs      []string
	inspector []string // what node's inspector said, for the look that opens it
	max       int
	partial   []byte
}

const maxLine = 1024

// maxErrorLines is how many lines naming an error are kept: a few errors'
// headers with their causes, codes and reasons.
const maxErrorLines = 16

// maxInspectorLines is how many of the inspector's lines are kept: its
// announcements of one opening and closing, or its failure to start.
const maxInspectorLines = 8

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
	said := inspectorSays(line)
	if said || strings.HasPrefix(strings.TrimSpace(line), "Starting inspector on ") {
		t.inspector = keep(t.inspector, line, maxInspectorLines)
	}
	if said {
		return
	}
	t.lines = keep(t.lines, line, t.max)
	if namesError(line) {
		t.errs = keep(t.errs, line, maxErrorLines)
	}
}

// inspectorSays tells a line node's inspector writes as it opens, is
// attached to and closes: the launcher's look at a node that stopped
// answering opens it (stuck.go), and after the restart those lines would
// stand as node's last error lines. node's test runner sets the same
// lines apart from a test file's output (isInspectorMessage,
// kInspectMsgRegex in its sources); and node's "Debugger ending on" at exit.
func inspectorSays(line string) bool {
	line = strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "Debugger listening on ws://"), strings.HasPrefix(line, "Debugger ending on ws://"),
		strings.HasPrefix(line, "For help, see: https://nodejs.org/"),
		line == "Debugger attached.", line == "Waiting for the debugger to disconnect...":
		return true
	}
	return false
}

// keep appends line to lines, dropping the oldest past n.
func keep(lines []string, line string, n int) []string {
	if len(lines) == n {
		copy(lines, lines[1:])
		lines = lines[:n-1]
	}
	return append(lines, line)
}

// namesError tells a line in which node names an error: its header
// ("TypeError: fetch failed", "  [cause]: Error [ERR_X]: …",
// "AggregateError [ECONNREFUSED]: …") or its code and reason
// ("    code: 'CERT_HAS_EXPIRED',").
func namesError(line string) bool {
	s := strings.TrimPrefix(strings.TrimLeft(line, " \t"), "[cause]: ")
	if strings.HasPrefix(s, "code: '") || strings.HasPrefix(s, "reason: ") {
		return true
	}
	name, _, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	name, _, _ = strings.Cut(name, " [")
	return strings.HasSuffix(name, "Error") && !strings.ContainsAny(name, " \t(")
}

// Errors returns the kept lines that name an error, oldest first.
func (t *Tail) Errors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.errs...)
}

// Inspector returns the last lines in which node's inspector said where it
// listens, or that it could not start, oldest first (inspector.Listening
// reads them).
func (t *Tail) Inspector() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.inspector...)
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
