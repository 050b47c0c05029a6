package launcher

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// A signal for node that finds none is told, by where the launcher is:
// before the app loads (the preflight, node held at the gate), in a
// restart's delay (with when node starts again), or between (the sweep
// after an exit); SIGWINCH at debug, as its forwards are.
// TestRun_ASignalWhileNoNodeRunsIsToldNotForwarded sends real signals in
// a real delay; the other two places last a few milliseconds.
func TestPass_ASignalWithNoNodeIsTold(t *testing.T) {
	var buf bytes.Buffer
	store := NewStateStore("test")
	s := &Supervisor{log: zerolog.New(&buf).Level(zerolog.InfoLevel), name: "node", store: store}
	next := time.Date(2026, 12, 7, 15, 4, 5, 0, time.Local)
	for _, c := range []struct {
		state string
		next  *time.Time
		want  string
	}{
		{StateStarting, nil, "SIGUSR1 not forwarded: node has not started yet"},
		{StateRestarting, &next, "SIGUSR1 not forwarded: no node runs (it starts again at 15:04:05)"},
		{StateRunning, nil, "SIGUSR1 not forwarded: no node runs"},
	} {
		store.Update(func(st *Snapshot) { st.State, st.Child.NextStartAt = c.state, c.next })
		buf.Reset()
		s.pass(unix.SIGWINCH)
		s.pass(unix.SIGUSR1)
		out := buf.String()
		if !strings.Contains(out, `"message":"`+c.want+`"`) || !strings.Contains(out, `"signal":"SIGUSR1"`) || strings.Contains(out, "SIGWINCH") {
			t.Errorf("in state %s told %q, want only %q at info", c.state, out, c.want)
		}
	}
	if n := store.Load().SignalsForwarded["SIGUSR1"]; n != 0 {
		t.Errorf("signals_forwarded counts %d SIGUSR1, want 0", n)
	}
}
