package launcher_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
)

// A node that neither reports at the gate nor ends (a runtime that ignores
// NODE_OPTIONS, a wrapper that waits on something else) held the start
// in "starting" for ever: the preflight waited for its report without a
// bound. Now the gate waits a while; then node is asked its version as
// without a gate, the silent process is killed, nothing of it having been
// let through, and node is started after the preflight.
func TestGate_ANodeThatNeverReportsIsStartedAgain(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	defer launcher.GateReportWait(300 * time.Millisecond)()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	app := filepath.Join(dir, "app")
	must(t, os.Mkdir(app, 0o755))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("setInterval(() => {}, 1000);\n"), 0o644))
	// Gated, it stays silent; else it is node.
	wrapper := filepath.Join(dir, "node")
	must(t, os.WriteFile(wrapper, []byte("#!/bin/sh\n[ -n \"$LAUNCHER_GATE_FD\" ] && exec sleep 600\nexec "+node+" \"$@\"\n"), 0o755))

	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_APP_DIR": app, "LAUNCHER_NODE": wrapper, "LAUNCHER_NATIVE_MODULES": "",
		"LAUNCHER_READY_URL": "", "LAUNCHER_HEALTH_ADDR": "off", "LAUNCHER_PREFLIGHT_RECORD": ""}, nil)
	must(t, err)
	spec, err := launcher.NewChildSpec(&cfg, os.Environ())
	must(t, err)
	store := launcher.NewStateStore("test")
	w := &snapshotAtEachLine{store: store, wrote: make(chan struct{}, 1)}
	_, reaper := runReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := launcher.NewSupervisor(&cfg, spec, reaper, store, zerolog.New(w).Level(zerolog.DebugLevel))
	sup.Preflight = &preflight.Preflight{AppDir: cfg.AppDir, Entry: cfg.Entry, Node: cfg.Node}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sup.Run(ctx) }()
	defer func() { cancel(); <-done }()

	gated := w.waitFor(t, "node started behind the gate")
	again := w.waitFor(t, "node was not let through the gate")
	if !strings.Contains(again.msg, "it did not report within 300ms") {
		t.Errorf("the log says %q; want why node was started again", again.msg)
	}
	started := w.waitFor(t, "started "+wrapper)
	if started.pid == gated.pid {
		t.Errorf("the silent node (pid %d) was let through", gated.pid)
	}
	if err := syscall.Kill(gated.pid, 0); err == nil {
		t.Errorf("the silent node (pid %d) is still alive", gated.pid)
	}
	// The launcher logs the start once the wrapper runs; the wrapper then
	// execs node, and during that exec the cmdline reads empty (a one in
	// five failure beside two busy CPUs): the question is what it becomes.
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(started.pid) + "/cmdline")
	for deadline := time.Now().Add(10 * time.Second); err == nil && !strings.Contains(string(cmdline), "index.js") && time.Now().Before(deadline); {
		cmdline, err = os.ReadFile("/proc/" + strconv.Itoa(started.pid) + "/cmdline")
	}
	if err != nil || !strings.Contains(string(cmdline), "index.js") {
		t.Errorf("the node started after the preflight is not running the app: %q, %v", cmdline, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
