package config_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/config"
)

// Options that cannot reach node as meant, and values that parse but
// cannot work: each a configuration error (exit 2) naming what and why.
func TestLoadConfig_RefusesWhatCannotWork(t *testing.T) {
	options := func(t *testing.T, json string) map[string]string {
		p := filepath.Join(t.TempDir(), "options.json")
		must(t, os.WriteFile(p, []byte(json), 0o644))
		return map[string]string{"LAUNCHER_OPTIONS_FILE": p}
	}
	for _, c := range []struct {
		name    string
		environ func(t *testing.T) map[string]string
		says    []string
	}{
		{"colliding keys", func(t *testing.T) map[string]string { return options(t, `{"a-b": 1, "a_b": 2}`) }, []string{`"a-b"`, `"a_b"`, "A_B"}},
		{"key with no name", func(t *testing.T) map[string]string { return options(t, `{"": 1}`) }, []string{`option ""`, "no valid variable name"}},
		{"key starting with a digit", func(t *testing.T) map[string]string { return options(t, `{"1st": 1}`) }, []string{`"1st"`, "start with a letter"}},
		{"node's channel", func(t *testing.T) map[string]string { return options(t, `{"node_channel_fd": "9"}`) }, []string{"NODE_CHANNEL_FD"}},
		{"the launcher's own", func(t *testing.T) map[string]string { return options(t, `{"launcher_restart": "never"}`) }, []string{"LAUNCHER_RESTART", "owns"}},
		{"a value of 33 pages", func(t *testing.T) map[string]string {
			return options(t, `{"blob": "`+strings.Repeat("x", 33*os.Getpagesize())+`"}`)
		}, []string{`"blob"`, "KiB", "exec allows"}},
		{"health on port 0", func(t *testing.T) map[string]string {
			return map[string]string{"LAUNCHER_HEALTH_ADDR": "127.0.0.1:0"}
		}, []string{"LAUNCHER_HEALTH_ADDR", "1 to 65535", "healthcheck"}},
		{"uid that does not fit", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_USER": "4294967295"} }, []string{"LAUNCHER_USER", "does not fit"}},
		{"gid that does not fit", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_USER": "1000:4294967295"} }, []string{"LAUNCHER_USER", "gid"}},
		{"ready URL port", func(t *testing.T) map[string]string {
			return map[string]string{"LAUNCHER_READY_URL": "http://127.0.0.1:70000/health"}
		}, []string{"LAUNCHER_READY_URL", "1 to 65535"}},
		{"ready URL over TLS", func(t *testing.T) map[string]string {
			return map[string]string{"LAUNCHER_READY_URL": "https://127.0.0.1:8099/api/health"}
		}, []string{"LAUNCHER_READY_URL", "plain HTTP", "http://"}},
		{"ready URL at the health server", func(t *testing.T) map[string]string {
			return map[string]string{"LAUNCHER_READY_URL": "http://localhost:8098/healthz"}
		}, []string{"LAUNCHER_READY_URL", "own health server"}},
		{"memory limit of 1 byte", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_MEMORY_LIMIT": "1B"} }, []string{"LAUNCHER_MEMORY_LIMIT", "at least 32MiB"}},
		{"memory limit that rounds to 0", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_MEMORY_LIMIT": "0.5"} }, []string{"LAUNCHER_MEMORY_LIMIT", "rounds to 0"}},
		{"restart window", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_RESTART_WINDOW": "1ns"} }, []string{"LAUNCHER_RESTART_WINDOW", "at least 1s"}},
		{"restart delay", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_RESTART_DELAY": "0"} }, []string{"LAUNCHER_RESTART_DELAY", "at least 10ms"}},
		{"sample interval", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_SAMPLE_INTERVAL": "1ms"} }, []string{"LAUNCHER_SAMPLE_INTERVAL", "at least 50ms"}},
		{"liveness interval", func(t *testing.T) map[string]string { return map[string]string{"LAUNCHER_LIVENESS_INTERVAL": "1ms"} }, []string{"LAUNCHER_LIVENESS_INTERVAL", "0 to turn it off"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			environ := c.environ(t)
			if environ["LAUNCHER_OPTIONS_FILE"] == "" {
				environ["LAUNCHER_OPTIONS_FILE"] = filepath.Join(t.TempDir(), "none.json")
			}
			_, err := config.LoadConfig(environ, nil)
			if !isConfigError(err) {
				t.Fatalf("accepted, or not a configuration error: %v", err)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not say %q: %v", s, err)
				}
			}
		})
	}
	// What stays allowed: 0 turns liveness and the memory limit off.
	environ := map[string]string{"LAUNCHER_OPTIONS_FILE": filepath.Join(t.TempDir(), "none.json"),
		"LAUNCHER_LIVENESS_INTERVAL": "0", "LAUNCHER_MEMORY_LIMIT": "0"}
	if _, err := config.LoadConfig(environ, nil); err != nil {
		t.Errorf("0 must stay off: %v", err)
	}
}

// An options file that is a FIFO is refused at once, not waited on.
func TestReadOptions_FIFOIsRefusedWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "options.json")
	must(t, syscall.Mkfifo(p, 0o644))
	done := make(chan error, 1)
	go func() { _, err := config.ReadOptions(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("want a refusal naming the file type, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadOptions blocked on a FIFO")
	}
}

// The URL's secrets never reach a message.
func TestRedact(t *testing.T) {
	got := config.Redact("http://admin:PW-s3cret@host:8099/api/health?token=T0KEN&x=1")
	if strings.Contains(got, "PW-s3cret") || strings.Contains(got, "T0KEN") || !strings.Contains(got, "host:8099/api/health") {
		t.Errorf("Redact = %s", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The launcher refuses an option's variable exactly where exec would: one
// "NAME=value" string of 32 pages (MAX_ARG_STRLEN) with its NUL passes,
// and reaches a real exec; a byte more is refused, as exec refuses it
// (E2BIG). The page is the kernel's: 4 KiB here, 16 KiB under the kernel
// a Raspberry Pi 5 boots by default (QEMU's user mode keeps the host's
// page, so that case is not shown here).
func TestOptionsCheck_RefusesWhatExecRefuses(t *testing.T) {
	const name = "BLOB"
	limit := 32 * os.Getpagesize()
	for _, size := range []int{limit, limit + 1} {
		value := strings.Repeat("x", size-len(name)-2) // "=" and the NUL
		opts, err := config.ParseOptions([]byte(`{"blob": "` + value + `"}`))
		must(t, err)
		refused := len(opts.Check(nil)) > 0
		cmd := exec.Command("/bin/true")
		cmd.Env = []string{name + "=" + value}
		execErr := cmd.Run()
		if refused != errors.Is(execErr, syscall.E2BIG) {
			t.Errorf("a variable of %d bytes (with its NUL; the page is %d): refused by the launcher: %v; exec: %v", size, os.Getpagesize(), refused, execErr)
		}
	}
}
