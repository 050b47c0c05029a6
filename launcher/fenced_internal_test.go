package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher/config"
)

// The looks beside supervision (the sweep, why node failed, its stack in
// the app's sources, where a node that does not answer is) and each monitor
// are fenced: a panic in one (a bug; none is known, so the test's own
// functions panic here, where TestRun_APanicWhileSamplingLeavesNodeRunning
// has gopsutil panic for real) is told once at error with what failed, what
// the launcher does without it and the stack, and the caller goes on: the
// fence returns, and a monitor's goroutine ends, counted done.
func TestFenced_APanicIsToldAndSupervisionGoesOn(t *testing.T) {
	var buf bytes.Buffer
	s := &Supervisor{log: zerolog.New(&buf), name: "node", cfg: &config.Config{}}
	if !s.fenced("a look", "nothing is lost", func() {}) || buf.Len() != 0 {
		t.Fatalf("a look that returns: told %q", buf.String())
	}
	var m map[string]int
	if s.fenced("the diagnosis of node's failure", "its failure is told without why", func() { m["x"] = 1 }) {
		t.Error("a look that panicked is said to have run to its end")
	}
	_, cancel := context.WithCancel(context.Background())
	mon := &monitors{s: s, cancel: cancel}
	mon.run("the liveness probe of LAUNCHER_READY_URL", func() { var p *Child; _ = p.PID })
	mon.wg.Wait() // the monitor's goroutine ended, and the process with it did not

	var told []struct{ Level, Message, Stack string }
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e struct{ Level, Message, Stack string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		told = append(told, e)
	}
	want := []struct{ message, stack string }{
		{"the diagnosis of node's failure failed for a bug in the launcher or in a library it uses (assignment to entry in nil map); its failure is told without why. Please report it",
			"TestFenced_APanicIsToldAndSupervisionGoesOn.func"},
		{"the liveness probe of LAUNCHER_READY_URL failed for a bug in the launcher or in a library it uses (runtime error: invalid memory address or nil pointer dereference); node runs on without it until its next start. Please report it",
			"TestFenced_APanicIsToldAndSupervisionGoesOn.func"},
	}
	if len(told) != len(want) {
		t.Fatalf("told %d lines, want %d:\n%s", len(told), len(want), buf.String())
	}
	for i, w := range want {
		if told[i].Level != "error" || !strings.HasPrefix(told[i].Message, w.message) || !strings.Contains(told[i].Stack, w.stack) {
			t.Errorf("line %d: %+v\nwant the message %q and a stack with %q", i, told[i], w.message, w.stack)
		}
	}
}
