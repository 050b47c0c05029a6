package launcher_test

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher"
)

// Every LAUNCHER_* variable with garbage of each kind: exit 2 with a
// message naming the variable and the value, never a panic.
func TestBadInput_Variables(t *testing.T) {
	kinds := map[string][]string{
		"duration": {"-5s", "99999999999h", "8", "8 seconds", "1.5.3s", "\x00", "∞"},
		"int":      {"-1", "99999999999999999999", "1.5", "five", "0x10", "1e3"},
		"bool":     {"maybe", "2", "TRUE!", "nil"},
		"size":     {"-1", "12XB", "1e999GiB", "lots", "1 2 MB"},
		"level":    {"loud", "5", "INFOO"},
		"format":   {"xml", "text"},
		"policy":   {"sometimes", "on_failure", "1"},
		"addr":     {"8098", "127.0.0.1:99999", "host:port", "[::1"},
		"url":      {"ftp://x/", "not a url", "http://", "://x"},
		"args":     {`"unterminated`, `'x`, `x\`},
		"user":     {"no-such-user-xyz", "1:group-that-does-not-exist", ":5"},
		"required": {" ", "\t"},
	}
	vars := map[string]string{
		"READY_TIMEOUT": "duration", "STOP_TIMEOUT": "duration", "RESTART_WINDOW": "duration", "RESTART_DELAY": "duration",
		"RESTART_DELAY_MAX": "duration", "LIVENESS_INTERVAL": "duration", "SAMPLE_INTERVAL": "duration",
		"RESTART_LIMIT": "int", "LIVENESS_FAILURES": "int", "OPTIONS_ENV": "bool", "READY_IPC": "bool",
		"MEMORY_LIMIT": "size", "LOG_LEVEL": "level", "LOG_FORMAT": "format", "RESTART": "policy",
		"HEALTH_ADDR": "addr", "READY_URL": "url", "NODE_ARGS": "args", "USER": "user",
		"APP_DIR": "required", "ENTRY": "required", "NODE": "required",
	}
	tried := 0
	for name, kind := range vars {
		for _, value := range kinds[kind] {
			environ := noOptions(t)
			environ["LAUNCHER_"+name] = value
			_, err := launcher.LoadConfig(environ, nil)
			tried++
			if err == nil {
				// Some "garbage" is a valid value (99999999999h is a duration).
				if kind == "duration" && value == "99999999999h" {
					continue
				}
				t.Errorf("LAUNCHER_%s=%q was accepted", name, value)
				continue
			}
			if launcher.ExitCode(err) != 2 || !strings.Contains(err.Error(), "LAUNCHER_"+name) {
				t.Errorf("LAUNCHER_%s=%q: exit %d, message %q must name the variable", name, value, launcher.ExitCode(err), err)
			}
		}
	}
	t.Logf("%d bad values tried", tried)
}

// Hostile .node files in a package: empty, truncated, random bytes, an
// absurd section count. The check fails with a message naming the file,
// and nothing panics.
func TestBadInput_NodeFiles(t *testing.T) {
	fx := fixtures(t)
	good, err := os.ReadFile(filepath.Join(fx, "addons", "cxx.node"))
	must(t, err)
	rnd := make([]byte, 20000)
	rand.New(rand.NewSource(1)).Read(rnd)
	absurd := append([]byte(nil), good...)
	absurd[0x3c], absurd[0x3d] = 0xff, 0xff                                         // e_shnum 65535
	absurd[0x28], absurd[0x29], absurd[0x2a], absurd[0x2b] = 0xf0, 0xff, 0xff, 0x7f // e_shoff far away
	tooManyBytes := append([]byte(nil), good...)
	tooManyBytes[0x3a], tooManyBytes[0x3b] = 0xff, 0x7f // e_shentsize
	for name, data := range map[string][]byte{
		"empty":            {},
		"elf magic only":   []byte("\x7fELF"),
		"truncated header": good[:40],
		"truncated half":   good[:len(good)/2],
		"random":           rnd,
		"absurd sections":  absurd,
		"absurd entsize":   tooManyBytes,
		"a script":         []byte("#!/bin/sh\necho not a binary\n"),
	} {
		t.Run(name, func(t *testing.T) {
			app := newApp(t, ">=18", nil)
			bin := filepath.Join(t.TempDir(), "bad.node")
			must(t, os.WriteFile(bin, data, 0o644))
			nativePackage(t, app, "badmod", bin)
			p := &launcher.Preflight{AppDir: app, Entry: "index.js", Node: "node", NativeModules: []string{"badmod"}, Deep: true}
			r := p.Run(context.Background())
			var c launcher.Check
			for _, ch := range r.Checks {
				if ch.Name == "native:badmod" {
					c = ch
				}
			}
			if c.Status != launcher.StatusFail || !strings.Contains(c.Detail, "build/Release/bad.node") || c.Hint == "" {
				t.Errorf("want a failure naming the file, with a fix: %+v", c)
			}
		})
	}
}
