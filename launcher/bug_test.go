package launcher_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
)

// panicsOnce is a log writer that panics at the first line holding
// trigger, as a bug on the loop's path would (none is known: the test
// makes one), and keeps every other line.
type panicsOnce struct {
	trigger string
	before  func() // waited for at the trigger, before the panic
	mu      sync.Mutex
	done    bool
	buf     bytes.Buffer
}

func (w *panicsOnce) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && bytes.Contains(p, []byte(w.trigger)) {
		w.done = true
		w.before()
		panic("a bug at " + w.trigger)
	}
	return w.buf.Write(p)
}

func (w *panicsOnce) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A panic in the supervision loop itself (here as it logs the child's
// start) ends supervision, but not before the child got the stop's
// SIGTERM and ended: unfenced, the panic ended the launcher, PID 1, and
// the kernel killed node with it, with no chance to close its database.
// Run returns the panic as the launcher's failure (exit 1), told with its
// stack. As PID 1 of a PID namespace (the test re-run under unshare), every
// other process of the container gets the SIGTERM, a helper the child left
// in a session of its own too.
func TestSupervisor_APanicInTheLoopStopsTheChildFirst(t *testing.T) {
	t.Run("a child", func(t *testing.T) { panicInTheLoop(t, false) })
	t.Run("PID 1", func(t *testing.T) {
		if os.Getpid() == 1 {
			panicInTheLoop(t, true)
			return
		}
		if os.Geteuid() != 0 {
			t.Skip("a PID namespace needs root")
		}
		cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
			os.Args[0], "-test.run=^TestSupervisor_APanicInTheLoopStopsTheChildFirst$/^PID_1$", "-test.count=1", "-test.v")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestSupervisor_APanicInTheLoopStopsTheChildFirst/PID_1") {
			t.Fatalf("as PID 1: %v\n%s", err, out)
		}
	})
}

func panicInTheLoop(t *testing.T, pid1 bool) {
	dir := t.TempDir()
	mark, up := filepath.Join(dir, "mark"), filepath.Join(dir, "up")
	script := `trap 'echo stopped > ` + mark + `; exit 0' TERM; touch ` + up + `; while :; do sleep 0.05; done`
	ready := []string{up}
	if pid1 {
		helper := `trap 'echo stopped > ` + mark + `.helper; exit 0' TERM; touch ` + up + `.helper; while :; do sleep 0.05; done`
		script = `setsid /bin/sh -c "` + helper + `" & ` + script
		ready = append(ready, up+".helper")
	}
	cfg, spec := genericChild(t, nil, "/bin/sh", "-c", script)
	cfg.StopTimeout = 5 * time.Second
	_, reaper := runReaper(t)
	// The panic once the child (and its helper) set their traps: a SIGTERM
	// before would kill them as its default.
	w := &panicsOnce{trigger: "started /bin/sh", before: func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if slices.IndexFunc(ready, func(f string) bool { _, err := os.Stat(f); return err != nil }) < 0 {
				return
			}
		}
	}}
	sup := launcher.NewSupervisor(cfg, spec, reaper, launcher.NewStateStore("test"), zerolog.New(w))
	done := make(chan error, 1)
	go func() { _, err := sup.Run(context.Background()); done <- err }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Run did not return after the panic:\n%s", w)
	}
	if err == nil || !strings.Contains(err.Error(), "supervision failed for a bug: panic: a bug at started /bin/sh") {
		t.Errorf("Run returned %v, want the panic", err)
	}
	for _, f := range ready {
		if b, _ := os.ReadFile(filepath.Join(dir, strings.Replace(filepath.Base(f), "up", "mark", 1))); string(b) != "stopped\n" {
			t.Errorf("%s did not get the stop's SIGTERM before Run returned (%q)", filepath.Base(f), b)
		}
	}
	if !strings.Contains(w.String(), `"message":"supervision failed for a bug in the launcher or in a library it uses (a bug at started /bin/sh); sh is stopped`) ||
		!strings.Contains(w.String(), "panicInTheLoop") {
		t.Errorf("the panic is not told with its stack:\n%s", w)
	}
}
