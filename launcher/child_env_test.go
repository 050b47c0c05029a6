package launcher_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// The child gets one entry per variable, the last one given: LAUNCHER_USER's
// HOME and USER, and the launcher's own variables, are appended to the
// environment they override.
func TestStart_TheLastOfDuplicateVariablesWins(t *testing.T) {
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_HEALTH_ADDR": "off", "LAUNCHER_READY_URL": ""},
		[]string{"/usr/bin/env"}) // prints its environment as it got it; a shell would tidy it

	if err != nil {
		t.Fatal(err)
	}
	spec, err := launcher.NewChildSpec(&cfg, []string{"DUP=first", "PATH=/usr/bin:/bin", "", "DUP=last"})
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	spec.Stdout = w
	reaper := launcher.NewReaper(zerolog.New(io.Discard))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go reaper.Run(ctx)
	if _, err := spec.Start(reaper); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	if n := strings.Count(string(out), "DUP="); n != 1 || !strings.Contains(string(out), "DUP=last\n") {
		t.Errorf("the child got DUP %d times, want DUP=last once:\n%s", n, out)
	}
}
