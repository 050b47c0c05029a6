package launcher_test

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// genericChild is the configuration and child of `launcher run -- command`
// with no readiness URL and no health server, node's environment environ.
func genericChild(t *testing.T, environ []string, command ...string) (*config.Config, launcher.ChildSpec) {
	t.Helper()
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_READY_URL": "", "LAUNCHER_HEALTH_ADDR": "off"}, command)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := launcher.NewChildSpec(&cfg, environ)
	if err != nil {
		t.Fatal(err)
	}
	return &cfg, spec
}

// The child gets one entry per variable, the last one given: LAUNCHER_USER's
// HOME and USER, and the launcher's own variables, are appended to the
// environment they override.
func TestStart_TheLastOfDuplicateVariablesWins(t *testing.T) {
	// env prints its environment as it got it; a shell would tidy it.
	_, spec := genericChild(t, []string{"DUP=first", "PATH=/usr/bin:/bin", "", "DUP=last"}, "/usr/bin/env")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	spec.Stdout = w
	_, reaper := runReaper(t)
	if _, err := spec.Start(reaper); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	if n := strings.Count(string(out), "DUP="); n != 1 || !strings.Contains(string(out), "DUP=last\n") {
		t.Errorf("the child got DUP %d times, want DUP=last once:\n%s", n, out)
	}
}
