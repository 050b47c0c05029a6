package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// No secret the launcher knows appears in anything it serves or prints:
// its log at trace level, /status, /metrics, `launcher status`. The
// secrets: option values node printed on stderr (republished in the exit
// log and /status), and the ready URL's password and token (in liveness
// failures).
func TestSecretsNeverRepublished(t *testing.T) {
	secrets := []string{"hunter2-secret-pw", "tok-9f8e7d6c", "PW-url-secret", "URL-T0KEN"}
	var hits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) > 1 {
			w.WriteHeader(http.StatusInternalServerError) // ready once, then failing liveness
		}
	}))
	defer app.Close()
	readyURL := strings.Replace(app.URL, "http://", "http://admin:PW-url-secret@", 1) + "/api/health?token=URL-T0KEN"
	opts := filepath.Join(t.TempDir(), "options.json")
	must(t, os.WriteFile(opts, []byte(`{"admin_password": "hunter2-secret-pw", "api_token": "tok-9f8e7d6c", "log_level": "trace"}`), 0o644))
	addr := freeAddr(t)
	l := launch(t, launchOpts{args: child("leak"), env: []string{"LAUNCHER_OPTIONS_FILE=" + opts, "LAUNCHER_LOG_LEVEL=trace",
		"LAUNCHER_HEALTH_ADDR=" + addr, "LAUNCHER_READY_URL=" + readyURL, "LAUNCHER_LIVENESS_INTERVAL=100ms",
		"LAUNCHER_LIVENESS_FAILURES=2", "LAUNCHER_RESTART=always", "LAUNCHER_RESTART_DELAY=30s", "LAUNCHER_RESTART_DELAY_MAX=30s"}})
	l.waitFor("restarting launcher.test in 30s")

	var served []string
	for _, path := range []string{"/status", "/metrics", "/healthz", "/readyz"} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		served = append(served, path+":\n"+string(b))
	}
	cmd := exec.Command(os.Args[0], "status")
	cmd.Env = append(os.Environ(), "LAUNCHER_TEST_ROLE=launcher", "LAUNCHER_HEALTH_ADDR="+addr, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("launcher status: %v\n%s", err, out)
	}
	served = append(served, "launcher status:\n"+string(out))
	l.signal(syscall.SIGTERM)
	l.wait(15 * time.Second)
	served = append(served, "log:\n"+l.stdout.String(), "stderr (node's own, not the launcher's):\n")

	all := strings.Join(served, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the secret %q was republished:\n%s", s, all)
		}
	}
	// What was said instead: the masked line, the redacted URL.
	for _, want := range []string{"db password is ********, api token ********", "admin:xxxxx@", "token=xxxxx", "answered 500"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in what the launcher served and printed:\n%s", want, all)
		}
	}
	// Node's own stderr reaches the container as node wrote it: that is
	// node's output, not the launcher republishing it.
	if !strings.Contains(l.stderr.String(), "hunter2-secret-pw") {
		t.Errorf("node's stderr was altered on its way to the container: %q", l.stderr.String())
	}
}

// A health server beyond loopback is served with a warning that says what
// /status reveals.
func TestHealthServerOnAllInterfacesWarns(t *testing.T) {
	port := freePort(t)
	l := launch(t, launchOpts{args: child("ready"), env: []string{fmt.Sprintf("LAUNCHER_HEALTH_ADDR=0.0.0.0:%d", port)}})
	l.waitFor("child-ready")
	l.waitFor("reachable beyond this container")
	if !strings.Contains(l.stdout.String(), "WARNING") || !strings.Contains(l.stdout.String(), "/status") {
		t.Errorf("no warning naming /status:\n%s", l.stdout)
	}
	l.signal(syscall.SIGTERM)
	l.wait(15 * time.Second)
}

// The contract of exit 2 holds for every value that cannot work: the
// launcher refuses it at start, naming it, before anything runs.
func TestValuesThatCannotWorkAreExit2(t *testing.T) {
	opts := filepath.Join(t.TempDir(), "options.json")
	must(t, os.WriteFile(opts, []byte(`{"a-b": 1, "a_b": 2}`), 0o644))
	for _, c := range []struct{ env, names string }{
		{"LAUNCHER_HEALTH_ADDR=127.0.0.1:0", "LAUNCHER_HEALTH_ADDR"},
		{"LAUNCHER_USER=4294967295", "LAUNCHER_USER"},
		{"LAUNCHER_READY_URL=http://127.0.0.1:70000/", "LAUNCHER_READY_URL"},
		{"LAUNCHER_MEMORY_LIMIT=0.5", "LAUNCHER_MEMORY_LIMIT"},
		{"LAUNCHER_RESTART_WINDOW=1ns", "LAUNCHER_RESTART_WINDOW"},
		{"LAUNCHER_OPTIONS_FILE=" + opts, `"a-b"`},
	} {
		l := launch(t, launchOpts{args: child("exit", "0"), env: []string{c.env}})
		code := l.wait(10 * time.Second)
		out := l.stdout.String()
		if code != 2 || !strings.Contains(out, c.names) || strings.Contains(out, "started ") {
			t.Errorf("%s: exit %d, want 2 naming %s before anything started:\n%s", c.env, code, c.names, out)
		}
	}
}
