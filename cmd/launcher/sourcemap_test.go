package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// node failing in a TypeScript app compiled with source maps (real tsc
// output, real node): the stack node prints names dist/*.js; the log adds
// it in the app's sources, as node's --enable-source-maps would print it,
// while node ran without it.
func TestRun_TellsAFailureInTheAppsSources(t *testing.T) {
	app, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node", "mapped"))
	l := launch(t, launchOpts{env: []string{never, "LAUNCHER_APP_DIR=" + app, "LAUNCHER_ENTRY=dist/index.js",
		"LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "PORT=abc"}})
	if code := l.wait(20 * time.Second); code != 1 {
		t.Fatalf("exit %d, want the app's 1\n%s", code, l.stdout)
	}
	out := l.stdout.String()
	if !strings.Contains(out, "at loadConfig ("+app+"/dist/config.js:8:15)") {
		t.Fatalf("node's own stack is not in the log:\n%s", out)
	}
	for _, want := range []string{
		"node's stack in the app's sources (by their source maps)",
		"at loadConfig (" + app + "/src/config.ts:10:11)\n",
		"at main (" + app + "/src/index.ts:8:28)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// The last exit in /status and `launcher status` carries that stack in the
// app's sources too, while the restart delay runs.
func TestStatus_TheLastExitInTheAppsSources(t *testing.T) {
	app, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "node", "mapped"))
	health := freePort(t)
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_ENTRY=dist/index.js",
		"LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "PORT=abc", "LAUNCHER_RESTART_DELAY=1h", "LAUNCHER_RESTART_DELAY_MAX=1h",
		fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health)}})
	l.waitFor("restarting node in 1h")
	b := &nodeBackend{launched: l, health: health}
	want := []string{"at loadConfig (" + app + "/src/config.ts:10:11)", "at main (" + app + "/src/index.ts:8:28)"}
	_, body := b.get("/status")
	var st struct {
		Child struct {
			LastExit struct {
				Stack []string `json:"stack_in_sources"`
			} `json:"last_exit"`
		} `json:"child"`
	}
	if err := json.Unmarshal(body, &st); err != nil || !slices.Equal(st.Child.LastExit.Stack, want) {
		t.Errorf("/status child.last_exit.stack_in_sources = %q (%v), want %q\n%s", st.Child.LastExit.Stack, err, want, body)
	}
	if code, out := b.subcommand("status"); code != 0 || !strings.Contains(out, "  in the app's sources:\n    "+want[0]+"\n    "+want[1]+"\n") {
		t.Errorf("launcher status: exit %d\n%s", code, out)
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 1 {
		t.Errorf("stopped in the restart delay: exit %d, want the last child's 1", code)
	}
}
