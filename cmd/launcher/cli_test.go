package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

func TestCLI_VersionAndHelp(t *testing.T) {
	want := regexp.MustCompile(`^launcher \S+ \(` + regexp.QuoteMeta(runtime.Version()) + `, linux/` + runtime.GOARCH + `\)\n$`)
	for _, arg := range []string{"version", "--version", "-v"} {
		l := launch(t, launchOpts{args: []string{arg}})
		if code := l.wait(10 * time.Second); code != 0 {
			t.Fatalf("%s: exit %d: %s", arg, code, l.stderr)
		}
		if !want.MatchString(l.stdout.String()) {
			t.Errorf("%s printed %q", arg, l.stdout)
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"run", "--help"}} {
		l := launch(t, launchOpts{args: args})
		if code := l.wait(10 * time.Second); code != 0 || !strings.Contains(l.stdout.String(), "Usage:") {
			t.Errorf("%v: exit %d\n%s", args, code, l.stdout)
		}
		// The image holds no docs/: the reference is named where a user
		// of `docker run IMAGE help` can read it.
		if out := l.stdout.String(); !strings.Contains(out, "https://github.com/hasync/launcher/blob/main/docs/LAUNCHER.md") {
			t.Errorf("%v names no reference a user of the image can open:\n%s", args, out)
		}
	}
	l := launch(t, launchOpts{args: []string{"frobnicate"}})
	if code := l.wait(10 * time.Second); code != 2 || strings.Count(l.stderr.String(), "\n") != 1 ||
		!strings.Contains(l.stderr.String(), `"frobnicate"`) || !strings.Contains(l.stderr.String(), "launcher help") {
		t.Errorf("unknown subcommand: exit %d, stderr %q (want one line naming it, with the usage hint)", code, l.stderr)
	}
	// `docker run IMAGE sh -c '…'` gives the words to the entrypoint: a
	// command, not a subcommand, and the two ways to run it are said.
	l = launch(t, launchOpts{args: []string{"sh", "-c", `echo "hi there"`}})
	if code := l.wait(10 * time.Second); code != 2 || strings.Count(l.stderr.String(), "\n") != 1 ||
		!strings.Contains(l.stderr.String(), "`launcher run -- sh -c 'echo \"hi there\"'`") ||
		!strings.Contains(l.stderr.String(), "`docker run --entrypoint sh IMAGE -c 'echo \"hi there\"'`") {
		t.Errorf("a command given as the subcommand: exit %d, stderr %q (want one line with `launcher run -- sh …` and `--entrypoint sh`)", code, l.stderr)
	}
}

// Only `run` (named, or implied by no subcommand or a leading flag) keeps
// the main thread for its main goroutine: init decides by subcommand, and
// must decide as main does. That run still waits for signals there is
// TestRun_WaitsForSignalsOnTheMainThread.
func TestSubcommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
		rest int
	}{
		{nil, "run", 0},
		{[]string{"run"}, "run", 0},
		{[]string{"run", "--", "node", "x.js"}, "run", 3},
		{[]string{"--", "node"}, "run", 2},
		{[]string{"--version"}, "version", 0},
		{[]string{"-v"}, "version", 0},
		{[]string{"version"}, "version", 0},
		{[]string{"-h"}, "help", 0},
		{[]string{"healthcheck"}, "healthcheck", 0},
		{[]string{"status", "--json"}, "status", 1},
		{[]string{"check", "--root", "/r"}, "check", 2},
	} {
		name, rest := subcommand(c.args)
		if name != c.name || len(rest) != c.rest {
			t.Errorf("subcommand(%q) = %q, %q; want %q and %d arguments", c.args, name, rest, c.name, c.rest)
		}
	}
}

// TZ sets the time zone of the console timestamps, as bashio's %T does.
func TestCLI_TimeZone(t *testing.T) {
	stamp := regexp.MustCompile(`(?m)^\[(\d\d):(\d\d):\d\d\] INFO: `)
	minutes := map[string]int{}
	for _, tz := range []string{"UTC", "Asia/Kolkata"} {
		if _, err := os.Stat(filepath.Join("/usr/share/zoneinfo", tz)); err != nil {
			t.Skip("no zoneinfo on this machine")
		}
		l := launch(t, launchOpts{args: []string{"run", "--", "/bin/true"}, env: []string{never, "TZ=" + tz}})
		l.wait(10 * time.Second)
		m := stamp.FindStringSubmatch(l.stdout.String())
		if m == nil {
			t.Fatalf("no timestamp in %s", l.stdout)
		}
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		minutes[tz] = h*60 + mi
	}
	// Kolkata is UTC+5:30; allow the minute to turn between the two runs.
	diff := (minutes["Asia/Kolkata"] - minutes["UTC"] + 24*60) % (24 * 60)
	if diff != 330 && diff != 331 {
		t.Errorf("Asia/Kolkata is %d minutes from UTC in the log, want 330", diff)
	}
}

// The add-on's options become node's environment, unless
// LAUNCHER_OPTIONS_ENV is false; a variable already set wins.
func TestNewChildSpec_OptionsEnv(t *testing.T) {
	opts := filepath.Join(t.TempDir(), "options.json")
	must(t, os.WriteFile(opts, []byte(`{"admin_username": "admin", "port": 8099}`), 0o600))
	for _, on := range []bool{true, false} {
		environ := map[string]string{"LAUNCHER_OPTIONS_FILE": opts, "LAUNCHER_OPTIONS_ENV": map[bool]string{true: "true", false: "false"}[on], "PORT": "9000"}
		cfg, err := config.LoadConfig(environ, []string{"/bin/true"})
		must(t, err)
		spec, err := launcher.NewChildSpec(&cfg, []string{"PORT=9000", "PATH=/usr/bin:/bin"})
		must(t, err)
		if got := slices.Contains(spec.Env, "ADMIN_USERNAME=admin"); got != on {
			t.Errorf("LAUNCHER_OPTIONS_ENV=%v: ADMIN_USERNAME exported = %v", on, got)
		}
		if slices.Contains(spec.Env, "PORT=8099") {
			t.Errorf("an option overrode a variable already set: %v", spec.Env)
		}
	}
}

// The launcher's own failures map to their codes; a child's code is a value
// and never passes through here.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&config.Error{Problems: []error{errors.New("x")}}, 2},
		{&launcher.SpawnError{Code: 127, Err: errors.New("not found")}, 127},
		{&launcher.SpawnError{Code: 126, Err: errors.New("not executable")}, 126},
		{errors.New("anything else"), 1},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
