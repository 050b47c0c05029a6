package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hasync/launcher/launcher/config"
)

// Options files come from outside: any bytes give options or an error
// that says where, never a panic, and exported names are valid variables.
// Read by hand or by encoding/json (the hand reading leaves it what it does
// not take), a file gives the same options or the same error, and each
// value reaches the environment as encoding/json reads it.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		`{"log_level":"info","admin_username":"admin","admin_password":"x","database_path":"/data/hasync.db"}`,
		`{"a":[1,{"b":null}],"c":1e9,"d":true}`, ``, `[]`, `{`, `{"a":"\xff"}`, `{"a":1}{}`, `null`,
		`{"a-b":1,"a_b":2}`, `{"":1}`, `{"1x":1}`, `{"launcher_x":1}`, `{"node-channel-fd":3}`,
		`{"big":"` + strings.Repeat("x", 140000) + `"}`,
		`{"a":1,"a":2}`, `{"a":"\ud800x","b":"\u00e9\n","c":[ 1 , {"d" : "e"} ]}`, ` { "a" : "b" } `, `{"a":"x\u0000y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts, err := config.ParseOptions(data)
		if len(bytes.TrimSpace(data)) > 0 && utf8.Valid(data) {
			want, werr := config.DecodeOptions(data)
			if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(opts, want) {
				t.Fatalf("read by hand: %+v, %v; by encoding/json: %+v, %v", opts, err, want, werr)
			}
		}
		for k, raw := range opts.Values {
			want := string(raw)
			switch v := any(nil); {
			case len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &v) == nil:
				want = strings.ReplaceAll(v.(string), "\x00", "")
			case len(raw) > 0 && raw[0] == 'n':
				want = ""
			case len(raw) > 0 && (raw[0] == '[' || raw[0] == '{'):
				var buf bytes.Buffer
				if json.Compact(&buf, raw) == nil {
					want = buf.String()
				}
			}
			if got := config.EnvValue(raw); got != want {
				t.Fatalf("option %q: %q reaches node as %q, encoding/json reads %q", k, raw, got, want)
			}
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		_, names := opts.Env(nil)
		for _, n := range names {
			if strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
				t.Fatalf("invalid variable name %q", n)
			}
		}
		// What Check lets through reaches node as meant: one key per
		// variable, a valid name that is not reserved, a size exec takes.
		if len(opts.Check(nil)) > 0 {
			return
		}
		seen := map[string]bool{}
		for k := range opts.Values {
			n := config.EnvName(k)
			if seen[n] {
				t.Fatalf("two keys map to %s and Check let them through", n)
			}
			seen[n] = true
			if n == "" || n[0] >= '0' && n[0] <= '9' || strings.HasPrefix(n, "LAUNCHER_") || n == "NODE_CHANNEL_FD" {
				t.Fatalf("key %q maps to %q and Check let it through", k, n)
			}
		}
		vars, _ := opts.Env(nil)
		for _, v := range vars {
			if len(v) >= 128<<10 {
				t.Fatalf("a %d-byte variable got through", len(v))
			}
		}
	})
}

// LAUNCHER_NODE_ARGS: any text splits or says why not; splitting the
// words again, each quoted, gives them back.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`--a "b c" 'd e' f\ g`, `"`, `\`, `''`, "a\tb\nc", `"\$HOME"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := config.SplitArgs(s)
		if err != nil || !utf8.ValidString(s) {
			return
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		again, err := config.SplitArgs(strings.Join(quoted, " "))
		if err != nil || len(again) != len(args) {
			t.Fatalf("%q -> %q -> %q, %v", s, args, again, err)
		}
		for i := range args {
			if again[i] != args[i] {
				t.Fatalf("%q -> %q -> %q", s, args, again)
			}
		}
	})
}

// Every LAUNCHER_* variable with any value: a configuration or a
// *ConfigError naming the variable, never a panic.
func FuzzLoadConfig(f *testing.F) {
	for _, c := range [][2]string{
		{"STOP_TIMEOUT", "8s"}, {"STOP_TIMEOUT", "-1h"}, {"MEMORY_LIMIT", "256MiB"}, {"MEMORY_LIMIT", "9999999999999TB"},
		{"RESTART_LIMIT", "99999999999999999999"}, {"HEALTH_ADDR", "[::1]:8098"}, {"READY_URL", "http://[::1"},
		{"NODE_ARGS", `"x`}, {"USER", "0:0"}, {"LOG_LEVEL", "NOTICE"}, {"RESTART", ""}, {"OPTIONS_ENV", "yes"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		environ := map[string]string{"LAUNCHER_OPTIONS_FILE": "", "LAUNCHER_" + name: value}
		if name == "OPTIONS_FILE" || name == "USER" {
			return // files and users of this machine are not the fuzzer's to pick
		}
		_, err := config.LoadConfig(environ, nil)
		if err == nil {
			return
		}
		var cfgErr *config.Error
		if !isConfigError(err) || !strings.Contains(err.Error(), "LAUNCHER_") {
			t.Fatalf("LAUNCHER_%s=%q: %v (%T, %v)", name, value, err, err, cfgErr)
		}
	})
}
