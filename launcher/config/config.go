package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// envPrefix is the prefix of every variable the launcher reads.
const envPrefix = "LAUNCHER_"

// DefaultPreflightRecord is where a passing preflight is kept for the next
// start: the add-on's own persistent folder.
const DefaultPreflightRecord = "/data/launcher-preflight.json"

// DefaultReadyURL is where the reference backend answers once it is ready.
const DefaultReadyURL = "http://127.0.0.1:8099/api/health"

// Config is the launcher's whole configuration. DefaultConfig fills it, the
// options file may set the log level, then LAUNCHER_* variables override it;
// Validate checks the result. Field tags name the variable without its prefix.
type Config struct {
	AppDir           string        `env:"APP_DIR"`
	Entry            string        `env:"ENTRY"`
	Node             string        `env:"NODE"`
	NodeArgs         ShellArgs     `env:"NODE_ARGS"`
	NativeModules    []string      `env:"NATIVE_MODULES"`
	OptionsFile      string        `env:"OPTIONS_FILE"`
	OptionsEnv       bool          `env:"OPTIONS_ENV"`
	LogLevel         Level         `env:"LOG_LEVEL"`
	LogFormat        LogFormat     `env:"LOG_FORMAT"`
	HealthAddr       string        `env:"HEALTH_ADDR"`
	ReadyURL         string        `env:"READY_URL"`
	ReadyTimeout     time.Duration `env:"READY_TIMEOUT"`
	ReadyIPC         bool          `env:"READY_IPC"`
	Gate             bool          `env:"GATE"`
	PreflightRecord  string        `env:"PREFLIGHT_RECORD"`
	StopTimeout      time.Duration `env:"STOP_TIMEOUT"`
	Restart          RestartPolicy `env:"RESTART"`
	RestartLimit     int           `env:"RESTART_LIMIT"`
	RestartWindow    time.Duration `env:"RESTART_WINDOW"`
	RestartDelay     time.Duration `env:"RESTART_DELAY"`
	RestartDelayMax  time.Duration `env:"RESTART_DELAY_MAX"`
	LivenessInterval time.Duration `env:"LIVENESS_INTERVAL"`
	LivenessFailures int           `env:"LIVENESS_FAILURES"`
	InspectStuck     bool          `env:"INSPECT_STUCK"`
	MemoryLimit      ByteSize      `env:"MEMORY_LIMIT"`
	SampleInterval   time.Duration `env:"SAMPLE_INTERVAL"`
	User             string        `env:"USER"`
	UserDirs         []string      `env:"USER_DIRS"`

	// Command, when set (`run -- CMD ARGS`), is supervised instead of node
	// and the node-specific checks are skipped.
	Command []string `env:"-"`
	// Options is the add-on's options file as read; empty when it is missing.
	Options Options `env:"-"`
	// Credential is LAUNCHER_USER resolved; nil runs the child as the launcher's user.
	Credential *Credential `env:"-"`
	// NoColor turns colours off in the console log (NO_COLOR is set).
	NoColor bool `env:"-"`
}

// DefaultConfig returns the configuration the contract documents as defaults.
func DefaultConfig() Config {
	return Config{
		AppDir:           "/app/backend",
		Entry:            "index.js",
		Node:             "node",
		NativeModules:    []string{"bcrypt", "better-sqlite3"},
		OptionsFile:      "/data/options.json",
		OptionsEnv:       true,
		Gate:             true,
		PreflightRecord:  DefaultPreflightRecord,
		LogLevel:         LevelInfo,
		LogFormat:        FormatConsole,
		HealthAddr:       "127.0.0.1:8098",
		ReadyURL:         DefaultReadyURL,
		ReadyTimeout:     60 * time.Second,
		StopTimeout:      8 * time.Second,
		Restart:          RestartOnFailure,
		RestartLimit:     5,
		RestartWindow:    10 * time.Minute,
		RestartDelay:     time.Second,
		RestartDelayMax:  30 * time.Second,
		LivenessInterval: 30 * time.Second,
		LivenessFailures: 3,
		InspectStuck:     true,
		SampleInterval:   5 * time.Second,
	}
}

// Generic reports whether the launcher supervises a command of the user's
// instead of node.
func (c *Config) Generic() bool { return len(c.Command) > 0 }

// DataDir is the add-on's own folder, which the Supervisor keeps and where
// it writes the options (/data): the options file's folder, /data when no
// file is read.
func (c *Config) DataDir() string {
	if c.OptionsFile == "" {
		return "/data"
	}
	return filepath.Dir(c.OptionsFile)
}

// HealthEnabled reports whether the health server should listen.
func (c *Config) HealthEnabled() bool {
	return c.HealthAddr != "" && !strings.EqualFold(c.HealthAddr, "off")
}

// LoadConfig builds the configuration from environ (the process environment
// as a map): defaults, then the options file, then LAUNCHER_* variables, then
// one validation. command is what followed `run --`, if anything. Every
// problem is reported at once in a *Error.
func LoadConfig(environ map[string]string, command []string) (Config, error) {
	cfg := DefaultConfig()
	cfg.Command = command
	if cfg.Generic() {
		cfg.ReadyURL = ""
	}
	_, cfg.NoColor = environ["NO_COLOR"]

	var problems []error
	if err := env.ParseWithOptions(&cfg, env.Options{
		Environment: environ,
		Prefix:      envPrefix,
		FuncMap:     scalarParsers,
	}); err != nil {
		problems = append(problems, describeEnvErrors(err, environ)...)
	}

	problems = append(problems, cfg.applyEmpty(environ)...)

	opts, err := ReadOptions(cfg.OptionsFile)
	if err != nil {
		problems = append(problems, err)
	}
	cfg.Options = opts
	if cfg.OptionsEnv {
		problems = append(problems, opts.Check(environ)...)
	}
	if _, set := environ[envPrefix+"LOG_LEVEL"]; !set && opts.LogLevel != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(opts.LogLevel)); err != nil {
			problems = append(problems, fmt.Errorf("%s: log_level %q: %w", cfg.OptionsFile, opts.LogLevel, err))
		}
	}

	problems = append(problems, cfg.validate()...)
	// 0 turns the limit off; a value that rounds to 0 bytes is a mistake.
	if v := strings.TrimSpace(environ[envPrefix+"MEMORY_LIMIT"]); v != "" && cfg.MemoryLimit == 0 && strings.ContainsAny(v, "123456789") {
		problems = append(problems, fmt.Errorf("%sMEMORY_LIMIT=%q: rounds to 0 bytes; at least %s, or unset it to turn the limit off", envPrefix, v, MinMemoryLimit))
	}
	if cfg.User != "" && len(problems) == 0 {
		cred, err := LookupCredential(cfg.User)
		if err == nil {
			err = cred.startableBy(launcherItself())
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("%sUSER=%q: %w", envPrefix, cfg.User, err))
		}
		cfg.Credential = cred
	}
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

// emptyMeansOff lists the variables whose empty value the contract gives a
// meaning: no health server, ready once spawned, no native modules, no
// extra arguments, no user switch, no memory limit, no preflight record,
// no options file, no folders given to node's user.
var emptyMeansOff = map[string]bool{
	"HEALTH_ADDR": true, "READY_URL": true, "NATIVE_MODULES": true,
	"NODE_ARGS": true, "USER": true, "MEMORY_LIMIT": true, "PREFLIGHT_RECORD": true,
	"OPTIONS_FILE": true, "USER_DIRS": true,
}

// applyEmpty handles variables set to the empty string, which env skips:
// they turn a feature off where the contract says so, and are an error
// elsewhere rather than a silent default.
func (c *Config) applyEmpty(environ map[string]string) []error {
	var errs []error
	v := reflect.ValueOf(c).Elem()
	defaults := reflect.ValueOf(DefaultConfig())
	for i := 0; i < v.NumField(); i++ {
		tag := v.Type().Field(i).Tag.Get("env")
		if tag == "" || tag == "-" {
			continue
		}
		value, set := environ[envPrefix+tag]
		if !set || strings.TrimSpace(value) != "" {
			continue
		}
		if emptyMeansOff[tag] {
			v.Field(i).SetZero()
			continue
		}
		errs = append(errs, fmt.Errorf("%s%s=%q: empty; unset it to use the default (%v)", envPrefix, tag, value, defaults.Field(i).Interface()))
	}
	return errs
}

// validate checks what parsing cannot: ranges and combinations.
func (c *Config) validate() []error {
	var errs []error
	bad := func(name string, value any, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s=%v: %s", envPrefix, name, value, fmt.Sprintf(format, args...)))
	}
	if !c.Generic() {
		if c.AppDir == "" {
			bad("APP_DIR", `""`, "must name the backend's folder, e.g. /app/backend")
		}
		if c.Entry == "" {
			bad("ENTRY", `""`, "must name the entry script, e.g. index.js")
		}
		if c.Node == "" {
			bad("NODE", `""`, "must name the node binary, e.g. node")
		}
	}
	if c.HealthEnabled() {
		if _, port, err := net.SplitHostPort(c.HealthAddr); err != nil {
			bad("HEALTH_ADDR", strconv.Quote(c.HealthAddr), "want host:port like 127.0.0.1:8098, or off")
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad("HEALTH_ADDR", strconv.Quote(c.HealthAddr), "port must be a number from 1 to 65535 (0 would pick a random port, which `launcher healthcheck` cannot find)")
		}
	}
	if c.ReadyURL != "" {
		shown := strconv.Quote(Redact(c.ReadyURL))
		u, err := url.Parse(c.ReadyURL)
		switch {
		case err == nil && u.Scheme == "https":
			bad("READY_URL", shown, "the probe speaks plain HTTP: give the app's http:// route on loopback (https is not probed)")
		case err != nil || u.Scheme != "http" || u.Host == "":
			bad("READY_URL", shown, "want an http:// URL, or empty for ready once spawned")
		case u.Port() != "" && !validPort(u.Port()):
			bad("READY_URL", shown, "port must be a number from 1 to 65535")
		case c.HealthEnabled() && sameEndpoint(u, c.HealthAddr):
			bad("READY_URL", shown, "points at the launcher's own health server (LAUNCHER_HEALTH_ADDR=%s), which answers whether node listens or not: point it at the app's health route", c.HealthAddr)
		}
	}
	for i, dir := range c.UserDirs {
		switch clean := filepath.Clean(strings.TrimSpace(dir)); {
		case !filepath.IsAbs(clean):
			bad("USER_DIRS", strconv.Quote(dir), "want absolute paths of folders, comma-separated, like /data")
		case clean == "/":
			bad("USER_DIRS", strconv.Quote(dir), "the root folder holds the whole image: name the folders node writes, like /data")
		default:
			c.UserDirs[i] = clean
		}
	}
	if len(c.UserDirs) > 0 && c.User == "" {
		bad("USER_DIRS", strconv.Quote(strings.Join(c.UserDirs, ",")), "gives folders to LAUNCHER_USER, which is not set: set it, or unset LAUNCHER_USER_DIRS")
	}
	if c.PreflightRecord != "" && !strings.HasPrefix(c.PreflightRecord, "/") {
		bad("PREFLIGHT_RECORD", strconv.Quote(c.PreflightRecord), "want an absolute path like %s, or empty for none", DefaultPreflightRecord)
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"READY_TIMEOUT", c.ReadyTimeout},
		{"STOP_TIMEOUT", c.StopTimeout},
		{"RESTART_WINDOW", c.RestartWindow},
		{"SAMPLE_INTERVAL", c.SampleInterval},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad(p.name, p.d, "must be more than 0")
		}
	}
	// Floors below which a value cannot work: a restart loop with no
	// pause, a window no restart fits in, sampling that costs more than
	// it tells, probes that hammer the app.
	for _, f := range []struct {
		name      string
		d, floor  time.Duration
		zeroIsOff bool
	}{
		{"RESTART_WINDOW", c.RestartWindow, MinRestartWindow, false},
		{"RESTART_DELAY", c.RestartDelay, MinRestartDelay, false},
		{"SAMPLE_INTERVAL", c.SampleInterval, MinSampleInterval, false},
		{"LIVENESS_INTERVAL", c.LivenessInterval, MinLivenessInterval, true},
	} {
		if f.d > 0 && f.d < f.floor || f.d == 0 && f.name == "RESTART_DELAY" {
			off := ""
			if f.zeroIsOff {
				off = ", or 0 to turn it off"
			}
			bad(f.name, f.d, "at least %s%s", f.floor, off)
		}
	}
	if c.StopTimeout > 5*time.Minute {
		bad("STOP_TIMEOUT", c.StopTimeout, "at most 5m: the Supervisor's add-on timeout is at most 300 s")
	}
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"RESTART_DELAY", c.RestartDelay}, {"RESTART_DELAY_MAX", c.RestartDelayMax}, {"LIVENESS_INTERVAL", c.LivenessInterval}} {
		if p.d < 0 {
			bad(p.name, p.d, "must not be negative")
		}
	}
	if c.RestartDelayMax < c.RestartDelay {
		bad("RESTART_DELAY_MAX", c.RestartDelayMax, "must be at least LAUNCHER_RESTART_DELAY (%s)", c.RestartDelay)
	}
	if c.RestartLimit < 0 {
		bad("RESTART_LIMIT", c.RestartLimit, "must not be negative (0 never restarts)")
	}
	if c.LivenessFailures < 1 {
		bad("LIVENESS_FAILURES", c.LivenessFailures, "must be at least 1")
	}
	if c.MemoryLimit < 0 {
		bad("MEMORY_LIMIT", c.MemoryLimit, "must not be negative")
	} else if c.MemoryLimit > 0 && c.MemoryLimit < MinMemoryLimit {
		bad("MEMORY_LIMIT", int64(c.MemoryLimit), "at least %s (node alone needs about 40 MB), or unset it to turn the limit off", MinMemoryLimit)
	}
	return errs
}

// Floors of values below which they cannot work (docs/LAUNCHER.md).
const (
	MinRestartWindow    = time.Second
	MinRestartDelay     = 10 * time.Millisecond
	MinSampleInterval   = 50 * time.Millisecond
	MinLivenessInterval = 100 * time.Millisecond
	MinMemoryLimit      = ByteSize(32 << 20)
)

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// sameEndpoint reports whether u is served by the health server on addr:
// the same port on the same host, a loopback or wildcard listen address
// being reached on loopback.
func sameEndpoint(u *url.URL, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	uport := u.Port()
	if uport == "" {
		uport = "80"
	}
	if uport != port {
		return false
	}
	local := func(h string) bool {
		if h == "" || h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
	}
	return u.Hostname() == host || local(u.Hostname()) && local(host)
}

// Redact hides a URL's secrets for logs, errors and answers: the password
// of its user info and the values of its query (tokens are often there).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// scalarParsers replace env's built-in parsers so that each message says
// what is allowed, not which strconv function failed.
var scalarParsers = map[reflect.Type]env.ParserFunc{
	reflect.TypeOf(time.Duration(0)): func(v string) (any, error) {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, errors.New("not a duration; use Go syntax like 500ms, 8s or 2m")
		}
		return d, nil
	},
	reflect.TypeOf(false): func(v string) (any, error) {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "true", "yes", "on":
			return true, nil
		case "0", "false", "no", "off":
			return false, nil
		}
		return nil, errors.New("want true or false")
	},
	reflect.TypeOf(0): func(v string) (any, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return nil, errors.New("want a whole number")
		}
		return int(n), nil
	},
	reflect.TypeOf([]string(nil)): func(v string) (any, error) {
		var list []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		return list, nil
	},
}

// describeEnvErrors turns env's errors, which name struct fields, into
// messages that name the variable and its value.
func describeEnvErrors(err error, environ map[string]string) []error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []error{err}
	}
	fields := reflect.TypeOf(Config{})
	var out []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, e)
			continue
		}
		name := pe.Name
		if f, ok := fields.FieldByName(pe.Name); ok {
			name = envPrefix + f.Tag.Get("env")
		}
		out = append(out, fmt.Errorf("%s=%q: %w", name, environ[name], pe.Err))
	}
	return out
}

// Error lists every problem with the configuration at once.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() []error { return e.Problems }

// EnvMap turns KEY=VALUE pairs into a map; a later pair wins, as in exec.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// ChildEnv is the child's environment: the launcher's, plus the add-on's
// options when LAUNCHER_OPTIONS_ENV is on, plus HOME and USER of
// LAUNCHER_USER.
func (cfg *Config) ChildEnv(environ []string) []string {
	out := append([]string(nil), environ...)
	if cfg.OptionsEnv {
		vars, _ := cfg.Options.Env(EnvMap(environ))
		out = append(out, vars...)
	}
	if c := cfg.Credential; c != nil && c.Name != "" {
		out = append(out, "USER="+c.Name)
		if c.Home != "" {
			out = append(out, "HOME="+c.Home)
		}
	}
	return out
}
