package launcher_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// logged is one line of the launcher's log and what /status held while it
// was written.
type logged struct {
	msg  string
	pid  int
	snap *launcher.Snapshot
}

// snapshotAtEachLine is a log writer that keeps, with each line, the
// snapshot published when the line was written.
type snapshotAtEachLine struct {
	store *launcher.StateStore
	mu    sync.Mutex
	lines []logged
	wrote chan struct{}
}

func (w *snapshotAtEachLine) Write(p []byte) (int, error) {
	var v struct {
		Message string `json:"message"`
		PID     int    `json:"pid"`
	}
	_ = json.Unmarshal(p, &v)
	w.mu.Lock()
	w.lines = append(w.lines, logged{v.Message, v.PID, w.store.Load()})
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitFor returns the first line whose message has prefix.
func (w *snapshotAtEachLine) waitFor(t *testing.T, prefix string) logged {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		for _, l := range w.lines {
			if strings.HasPrefix(l.msg, prefix) {
				w.mu.Unlock()
				return l
			}
		}
		w.mu.Unlock()
		select {
		case <-w.wrote:
		case <-deadline:
			t.Fatalf("no log line %q", prefix)
		}
	}
}

// superviseLogged runs a Supervisor of spec until the test ends or stops
// it (as a SIGTERM does), its log kept with the snapshot at each line.
func superviseLogged(t *testing.T, cfg *config.Config, spec launcher.ChildSpec) (w *snapshotAtEachLine, stop func()) {
	store := launcher.NewStateStore("test")
	w = &snapshotAtEachLine{store: store, wrote: make(chan struct{}, 1)}
	_, reaper := runReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := launcher.NewSupervisor(cfg, spec, reaper, store, zerolog.New(w))
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sup.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, cancel
}

// Whoever reads a line of the log and then asks the health server (a
// person, a test, the Supervisor's watchdog) finds what the line told:
// each transition is published before it is logged. "started" was logged
// before the state "running" and the child's pid were published, and a
// /healthz right after the line could still answer 503 "starting".
func TestLog_EachTransitionIsPublishedBeforeItIsLogged(t *testing.T) {
	cfg, spec := genericChild(t, nil, "sleep", "30")
	cfg.ReadyURL = answering(t)
	cfg.RestartDelay, cfg.RestartDelayMax = time.Hour, time.Hour
	w, _ := superviseLogged(t, cfg, spec)

	started := w.waitFor(t, "started sleep")
	if s := started.snap; s.State != launcher.StateRunning || s.Child.PID == nil || *s.Child.PID != started.pid {
		t.Errorf("while %q was logged: state %q, child pid %v; want %q and pid %d", started.msg, s.State, s.Child.PID, launcher.StateRunning, started.pid)
	}
	ready := w.waitFor(t, "sleep ready in")
	if s := ready.snap; s.State != launcher.StateReady || !s.Child.Ready {
		t.Errorf("while %q was logged: state %q, ready %v; want %q", ready.msg, s.State, s.Child.Ready, launcher.StateReady)
	}
	if err := syscall.Kill(started.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exited := w.waitFor(t, "sleep killed by SIGKILL")
	if s := exited.snap; s.Child.PID != nil || s.Child.LastExit == nil || s.Child.LastExit.Signal != "SIGKILL" {
		t.Errorf("while %q was logged: child pid %v, last exit %+v; want no pid and the SIGKILL", exited.msg, s.Child.PID, s.Child.LastExit)
	}
	restarting := w.waitFor(t, "restarting sleep in")
	if s := restarting.snap; s.State != launcher.StateRestarting || s.Child.Restarts != 1 || s.Child.NextStartAt == nil {
		t.Errorf("while %q was logged: state %q, restarts %d, next start %v; want %q, 1 and when", restarting.msg, s.State, s.Child.Restarts, s.Child.NextStartAt, launcher.StateRestarting)
	}
}

// Where node's first start went is in /status when its line is logged
// (real node, ready by URL). It was published after the line: a test that
// read the line, then asked /status, now and then found nothing there.
func TestLog_TheStartsStoryIsPublishedBeforeItIsLogged(t *testing.T) {
	cfg, spec := genericChild(t, nil, "node", "-e", "setInterval(() => {}, 1e6)")
	cfg.ReadyURL = answering(t)
	w, _ := superviseLogged(t, cfg, spec)

	told := w.waitFor(t, "node's start took ")
	if s := told.snap; s.Startup.NodeStart == nil {
		t.Errorf("while %q was logged: /status had no startup.node_start", told.msg)
	}
}

// The end of supervision is published before its line, as every
// transition is: "not restarting" and "stopped during the restart delay"
// were logged while /status still said restarting, the final state
// published only as Run returned.
func TestLog_TheEndIsPublishedBeforeItIsLogged(t *testing.T) {
	t.Run("not restarting", func(t *testing.T) {
		cfg, spec := genericChild(t, nil, "sh", "-c", "exit 3")
		cfg.Restart = config.RestartNever
		w, _ := superviseLogged(t, cfg, spec)
		end := w.waitFor(t, "not restarting sh")
		if s := end.snap; s.State != launcher.StateFailed {
			t.Errorf("while %q was logged: state %q, want %q", end.msg, s.State, launcher.StateFailed)
		}
	})
	t.Run("stopped during the restart delay", func(t *testing.T) {
		cfg, spec := genericChild(t, nil, "true")
		cfg.Restart = config.RestartAlways
		cfg.RestartDelay, cfg.RestartDelayMax = time.Hour, time.Hour
		w, stop := superviseLogged(t, cfg, spec)
		w.waitFor(t, "restarting true in")
		stop()
		end := w.waitFor(t, "stopped during the restart delay")
		if s := end.snap; s.State != launcher.StateStopped || s.Child.NextStartAt != nil {
			t.Errorf("while %q was logged: state %q, next start %v; want %q and none", end.msg, s.State, s.Child.NextStartAt, launcher.StateStopped)
		}
	})
}
