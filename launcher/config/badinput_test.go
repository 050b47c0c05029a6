package config_test

import (
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/config"
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
		"abspath":  {"launcher-preflight.json", "data/x.json", " /data/x.json"},
		"dirs":     {"data", "/data,cache", "/", "/data,/"},
	}
	vars := map[string]string{
		"READY_TIMEOUT": "duration", "STOP_TIMEOUT": "duration", "RESTART_WINDOW": "duration", "RESTART_DELAY": "duration",
		"RESTART_DELAY_MAX": "duration", "LIVENESS_INTERVAL": "duration", "SAMPLE_INTERVAL": "duration",
		"RESTART_LIMIT": "int", "LIVENESS_FAILURES": "int", "OPTIONS_ENV": "bool", "READY_IPC": "bool",
		"MEMORY_LIMIT": "size", "LOG_LEVEL": "level", "LOG_FORMAT": "format", "RESTART": "policy",
		"HEALTH_ADDR": "addr", "READY_URL": "url", "NODE_ARGS": "args", "USER": "user",
		"PREFLIGHT_RECORD": "abspath", "USER_DIRS": "dirs", "APP_DIR": "required", "ENTRY": "required", "NODE": "required",
	}
	tried := 0
	for name, kind := range vars {
		for _, value := range kinds[kind] {
			environ := noOptions(t)
			environ["LAUNCHER_"+name] = value
			_, err := config.LoadConfig(environ, nil)
			tried++
			if err == nil {
				// Some "garbage" is a valid value (99999999999h is a duration).
				if kind == "duration" && value == "99999999999h" {
					continue
				}
				t.Errorf("LAUNCHER_%s=%q was accepted", name, value)
				continue
			}
			if !isConfigError(err) || !strings.Contains(err.Error(), "LAUNCHER_"+name) {
				t.Errorf("LAUNCHER_%s=%q: message %q must be a configuration error naming the variable", name, value, err)
			}
		}
	}
	t.Logf("%d bad values tried", tried)
}
