package main

import (
	"path/filepath"
	"strings"
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
