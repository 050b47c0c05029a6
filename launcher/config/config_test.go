package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/config"
)

// noOptions points the options file somewhere that does not exist, as on a
// local docker run without /data.
func noOptions(t *testing.T) map[string]string {
	return map[string]string{"LAUNCHER_OPTIONS_FILE": filepath.Join(t.TempDir(), "none.json")}
}

func TestLoadConfig_Defaults(t *testing.T) {
	cfg, err := config.LoadConfig(noOptions(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.DefaultConfig()
	if cfg.AppDir != "/app/backend" || cfg.Entry != "index.js" || cfg.Node != "node" ||
		!reflect.DeepEqual(cfg.NativeModules, []string{"bcrypt", "better-sqlite3"}) ||
		cfg.HealthAddr != "127.0.0.1:8098" || cfg.ReadyURL != config.DefaultReadyURL ||
		cfg.StopTimeout != 8*time.Second || cfg.Restart != config.RestartOnFailure ||
		cfg.RestartLimit != 5 || cfg.RestartWindow != 10*time.Minute || cfg.RestartDelay != time.Second ||
		cfg.RestartDelayMax != 30*time.Second || cfg.LivenessInterval != 30*time.Second ||
		cfg.LivenessFailures != 3 || cfg.MemoryLimit != 0 || cfg.SampleInterval != 5*time.Second ||
		cfg.LogLevel != config.LevelInfo || cfg.LogFormat != config.FormatConsole || !cfg.OptionsEnv ||
		cfg.ReadyTimeout != want.ReadyTimeout {
		t.Errorf("defaults differ from the contract: %+v", cfg)
	}
}

func TestLoadConfig_Variables(t *testing.T) {
	environ := noOptions(t)
	for k, v := range map[string]string{
		"LAUNCHER_APP_DIR":           "/srv/app",
		"LAUNCHER_ENTRY":             "dist/index.js",
		"LAUNCHER_NODE":              "/usr/local/bin/node",
		"LAUNCHER_NODE_ARGS":         `--enable-source-maps --max-old-space-size=256 --title "my app"`,
		"LAUNCHER_NATIVE_MODULES":    " bcrypt , ,better-sqlite3 ",
		"LAUNCHER_OPTIONS_ENV":       "false",
		"LAUNCHER_LOG_LEVEL":         "warn",
		"LAUNCHER_LOG_FORMAT":        "JSON",
		"LAUNCHER_HEALTH_ADDR":       "off",
		"LAUNCHER_READY_URL":         "",
		"LAUNCHER_READY_TIMEOUT":     "90s",
		"LAUNCHER_STOP_TIMEOUT":      "500ms",
		"LAUNCHER_RESTART":           "always",
		"LAUNCHER_RESTART_LIMIT":     "0",
		"LAUNCHER_RESTART_WINDOW":    "1h",
		"LAUNCHER_RESTART_DELAY":     "10ms",
		"LAUNCHER_RESTART_DELAY_MAX": "2m",
		"LAUNCHER_LIVENESS_INTERVAL": "0",
		"LAUNCHER_LIVENESS_FAILURES": "5",
		"LAUNCHER_MEMORY_LIMIT":      "256MiB",
		"LAUNCHER_SAMPLE_INTERVAL":   "1s",
		"LAUNCHER_PREFLIGHT_RECORD":  "/srv/state/preflight.json",
		"NO_COLOR":                   "",
	} {
		environ[k] = v
	}
	cfg, err := config.LoadConfig(environ, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"AppDir", cfg.AppDir, "/srv/app"},
		{"Entry", cfg.Entry, "dist/index.js"},
		{"Node", cfg.Node, "/usr/local/bin/node"},
		{"NodeArgs", []string(cfg.NodeArgs), []string{"--enable-source-maps", "--max-old-space-size=256", "--title", "my app"}},
		{"NativeModules", cfg.NativeModules, []string{"bcrypt", "better-sqlite3"}},
		{"OptionsEnv", cfg.OptionsEnv, false},
		{"LogLevel", cfg.LogLevel, config.LevelWarning},
		{"LogFormat", cfg.LogFormat, config.FormatJSON},
		{"HealthEnabled", cfg.HealthEnabled(), false},
		{"ReadyURL", cfg.ReadyURL, ""},
		{"ReadyTimeout", cfg.ReadyTimeout, 90 * time.Second},
		{"StopTimeout", cfg.StopTimeout, 500 * time.Millisecond},
		{"Restart", cfg.Restart, config.RestartAlways},
		{"RestartLimit", cfg.RestartLimit, 0},
		{"RestartWindow", cfg.RestartWindow, time.Hour},
		{"RestartDelay", cfg.RestartDelay, 10 * time.Millisecond},
		{"RestartDelayMax", cfg.RestartDelayMax, 2 * time.Minute},
		{"LivenessInterval", cfg.LivenessInterval, time.Duration(0)},
		{"LivenessFailures", cfg.LivenessFailures, 5},
		{"MemoryLimit", cfg.MemoryLimit, config.ByteSize(256 << 20)},
		{"SampleInterval", cfg.SampleInterval, time.Second},
		{"PreflightRecord", cfg.PreflightRecord, "/srv/state/preflight.json"},
		{"NoColor", cfg.NoColor, true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLoadConfig_EmptyMeansOffWhereTheContractSaysSo(t *testing.T) {
	environ := noOptions(t)
	environ["LAUNCHER_NATIVE_MODULES"] = ""
	environ["LAUNCHER_HEALTH_ADDR"] = ""
	environ["LAUNCHER_PREFLIGHT_RECORD"] = ""
	cfg, err := config.LoadConfig(environ, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.NativeModules) != 0 || cfg.HealthEnabled() || cfg.PreflightRecord != "" {
		t.Errorf("empty variables should turn off: native=%v health=%v record=%q", cfg.NativeModules, cfg.HealthEnabled(), cfg.PreflightRecord)
	}
}

// An options file that is not a regular file is refused with a message
// that offers the empty value for none: that value is taken, as no
// options. It was refused too ("empty; unset it"), so the message's own
// fix failed.
func TestLoadConfig_EmptyOptionsFileIsNone(t *testing.T) {
	_, err := config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": t.TempDir()}, nil)
	if !isConfigError(err) || !strings.Contains(err.Error(), "or empty for none") {
		t.Fatalf("a folder as the options file: %v", err)
	}
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": ""}, nil)
	if err != nil || cfg.OptionsFile != "" || len(cfg.Options.Values) != 0 {
		t.Errorf("LAUNCHER_OPTIONS_FILE empty: %v, file %q, options %v; want none, no error", err, cfg.OptionsFile, cfg.Options.Values)
	}
}

func TestLoadConfig_GenericModeHasNoReadyURL(t *testing.T) {
	cfg, err := config.LoadConfig(noOptions(t), []string{"sleep", "1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReadyURL != "" || !cfg.Generic() {
		t.Errorf("run -- CMD: ReadyURL = %q, Generic = %v", cfg.ReadyURL, cfg.Generic())
	}
	environ := noOptions(t)
	environ["LAUNCHER_READY_URL"] = "http://127.0.0.1:3000/"
	cfg, err = config.LoadConfig(environ, []string{"sleep", "1"})
	if err != nil || cfg.ReadyURL != "http://127.0.0.1:3000/" {
		t.Errorf("an explicit READY_URL must hold under run -- CMD: %q, %v", cfg.ReadyURL, err)
	}
}

// Every bad variable is reported at once, each naming the variable, the
// value and what is allowed.
func TestLoadConfig_ReportsEveryProblem(t *testing.T) {
	environ := noOptions(t)
	bad := map[string]struct{ value, says string }{
		"LAUNCHER_STOP_TIMEOUT":      {"8", "Go syntax"},
		"LAUNCHER_READY_TIMEOUT":     {"-1s", "more than 0"},
		"LAUNCHER_RESTART":           {"sometimes", "never, on-failure or always"},
		"LAUNCHER_RESTART_LIMIT":     {"five", "whole number"},
		"LAUNCHER_RESTART_DELAY":     {"-2s", "not be negative"},
		"LAUNCHER_LOG_LEVEL":         {"loud", "trace, debug"},
		"LAUNCHER_LOG_FORMAT":        {"xml", "console or json"},
		"LAUNCHER_OPTIONS_ENV":       {"maybe", "true or false"},
		"LAUNCHER_MEMORY_LIMIT":      {"lots", "256MiB"},
		"LAUNCHER_HEALTH_ADDR":       {"8098", "host:port"},
		"LAUNCHER_READY_URL":         {"ftp://x/", "http://"},
		"LAUNCHER_NODE_ARGS":         {`--title 'unterminated`, "unterminated"},
		"LAUNCHER_ENTRY":             {"", "unset it to use the default (index.js)"},
		"LAUNCHER_LIVENESS_FAILURES": {"0", "at least 1"},
		"LAUNCHER_SAMPLE_INTERVAL":   {"0s", "more than 0"},
	}
	for k, v := range bad {
		environ[k] = v.value
	}
	_, err := config.LoadConfig(environ, nil)
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *ConfigError, got %v", err)
	}
	msg := err.Error()
	for k, v := range bad {
		found := false
		for _, p := range cfgErr.Problems {
			if strings.Contains(p.Error(), k) && strings.Contains(p.Error(), v.value) && strings.Contains(p.Error(), v.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem names %s=%q with %q in:\n%s", k, v.value, v.says, msg)
		}
	}
	if len(cfgErr.Problems) != len(bad) {
		t.Errorf("%d problems for %d bad variables:\n%s", len(cfgErr.Problems), len(bad), msg)
	}
}

func TestLoadConfig_OptionsFileSetsLogLevelUnlessTheVariableDoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "options.json")
	if err := os.WriteFile(path, []byte(`{"log_level": "debug", "admin_username": "admin"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != config.LevelDebug {
		t.Errorf("log level from options = %v, want debug", cfg.LogLevel)
	}
	cfg, err = config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": path, "LAUNCHER_LOG_LEVEL": "error"}, nil)
	if err != nil || cfg.LogLevel != config.LevelError {
		t.Errorf("LAUNCHER_LOG_LEVEL must win: %v, %v", cfg.LogLevel, err)
	}
}

func TestLoadConfig_MalformedOptionsFileIsExit2NamingTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "options.json")
	if err := os.WriteFile(path, []byte("{\n  \"log_level\": \"info\",\n  \"x\": tru\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.LoadConfig(map[string]string{"LAUNCHER_OPTIONS_FILE": path}, nil)
	if !isConfigError(err) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3, column 11") {
		t.Errorf("want a configuration error (exit 2) naming %s and line 3, got %v", path, err)
	}
}

func TestLoadConfig_UnknownUserIsExit2(t *testing.T) {
	environ := noOptions(t)
	environ["LAUNCHER_USER"] = "no-such-user-here"
	_, err := config.LoadConfig(environ, nil)
	if !isConfigError(err) || !strings.Contains(err.Error(), "LAUNCHER_USER") || !strings.Contains(err.Error(), "no-such-user-here") {
		t.Errorf("want a configuration error naming LAUNCHER_USER, got %v", err)
	}
	environ["LAUNCHER_USER"] = "nobody"
	cfg, err := config.LoadConfig(environ, nil)
	if err != nil || cfg.Credential == nil || cfg.Credential.UID != 65534 {
		t.Errorf("nobody: %+v, %v", cfg.Credential, err)
	}
	environ["LAUNCHER_USER"] = "1234:5678"
	cfg, err = config.LoadConfig(environ, nil)
	if err != nil || cfg.Credential.UID != 1234 || cfg.Credential.GID != 5678 {
		t.Errorf("1234:5678: %+v, %v", cfg.Credential, err)
	}
}

// isConfigError reports a configuration error: the program exits 2 for it.
func isConfigError(err error) bool {
	var e *config.Error
	return errors.As(err, &e)
}

// LAUNCHER_USER_DIRS: absolute folders, cleaned, spaces after the commas
// allowed; never the root folder; only with LAUNCHER_USER to give them to.
func TestLoadConfig_UserDirs(t *testing.T) {
	environ := noOptions(t)
	environ["LAUNCHER_USER"] = "nobody"
	environ["LAUNCHER_USER_DIRS"] = "/data/, /share/hasync"
	cfg, err := config.LoadConfig(environ, nil)
	if err != nil || strings.Join(cfg.UserDirs, ",") != "/data,/share/hasync" {
		t.Errorf("%q, %v", cfg.UserDirs, err)
	}
	for value, want := range map[string]string{
		"data":       "want absolute paths",
		"/data,../x": "want absolute paths",
		"/data,/":    "the root folder holds the whole image",
		"/./":        "the root folder",
	} {
		environ["LAUNCHER_USER_DIRS"] = value
		if _, err := config.LoadConfig(environ, nil); !isConfigError(err) || !strings.Contains(err.Error(), "LAUNCHER_USER_DIRS") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", value, err, want)
		}
	}
	delete(environ, "LAUNCHER_USER")
	environ["LAUNCHER_USER_DIRS"] = "/data"
	if _, err := config.LoadConfig(environ, nil); !isConfigError(err) || !strings.Contains(err.Error(), "LAUNCHER_USER, which is not set") {
		t.Errorf("without LAUNCHER_USER: %v", err)
	}
	environ["LAUNCHER_USER_DIRS"] = ""
	if cfg, err := config.LoadConfig(environ, nil); err != nil || len(cfg.UserDirs) != 0 {
		t.Errorf("empty: %q, %v", cfg.UserDirs, err)
	}
}
