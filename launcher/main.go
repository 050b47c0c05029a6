package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// Version is set at build time: -ldflags "-X github.com/hasync/launcher/launcher.Version=1.2.3".
var Version = "dev"

// Command is a subcommand that main hands in (check, healthcheck, status
// live in packages this one must not import).
type Command func(ctx context.Context, m *Main, args []string) error

// Main is the program: its standard files, environment and subcommands.
// cmd/launcher builds it and maps the error of Run to the exit code with
// ExitCode.
type Main struct {
	Stdin          *os.File
	Stdout, Stderr *os.File
	Environ        []string
	// Commands adds subcommands by name; they win over the built-in ones.
	Commands map[string]Command
	// Health, when set, builds the health server of a run; it must bind
	// before returning, so a bad address fails the start (exit 2).
	Health func(cfg *Config, store *StateStore, log zerolog.Logger) (Service, error)
	// Sampler samples resources for the memory limit and the metrics.
	Sampler Sampler
}

// Service runs beside the supervisor until ctx ends.
type Service interface {
	Run(ctx context.Context) error
}

// NewMain returns the program wired to this process.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}
}

const usage = `launcher: the entrypoint of a Node.js Home Assistant add-on.

Usage:
  launcher [run]                    preflight, then start and supervise node <entry>
  launcher run -- CMD [ARGS...]     supervise CMD instead of node
  launcher check [--json] [--deep]  preflight only
  launcher healthcheck              exit 0 when the running launcher is healthy
  launcher status [--json]          the running launcher's status
  launcher version                  print the version
  launcher help                     this text

Configuration is by LAUNCHER_* environment variables and /data/options.json;
see the README. Exit codes: the child's own, 2 bad configuration, 3 a failed
preflight check.
`

// Run runs the subcommand in args (without the program name).
func (m *Main) Run(ctx context.Context, args []string) error {
	defer catchSIGPIPE()()
	name, rest := "run", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	if cmd, ok := m.Commands[name]; ok {
		return cmd(ctx, m, rest)
	}
	switch name {
	case "run":
		return m.run(ctx, rest)
	case "version":
		fmt.Fprintln(m.Stdout, VersionLine())
		return nil
	case "help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	case "check":
		return m.check(ctx, rest)
	case "healthcheck", "status":
		return m.usageError(fmt.Sprintf("%q needs the health package: this build has none", name))
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	return m.usageError(fmt.Sprintf("unknown subcommand %q", name))
}

// VersionLine is `launcher <version> (<go version>, <os>/<arch>)`.
func VersionLine() string {
	return fmt.Sprintf("launcher %s (%s, %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// usageError prints the one-line error and returns it for exit code 2.
func (m *Main) usageError(msg string) error {
	err := &UsageError{Msg: msg}
	fmt.Fprintln(m.Stderr, "launcher: "+err.Error())
	return err
}

// parseRunArgs accepts nothing, or `-- CMD [ARGS...]`.
func parseRunArgs(args []string) ([]string, error) {
	switch {
	case len(args) == 0:
		return nil, nil
	case args[0] == "--" && len(args) > 1:
		return args[1:], nil
	case args[0] == "--":
		return nil, errors.New("`run --` needs a command after it")
	case args[0] == "-h" || args[0] == "--help":
		return nil, errHelp
	case strings.HasPrefix(args[0], "-"):
		return nil, fmt.Errorf("unknown flag %q for run", args[0])
	}
	return nil, fmt.Errorf("unexpected argument %q; to supervise a command use `run -- %s`", args[0], args[0])
}

var errHelp = errors.New("help")

// Logger builds the logger the configuration asks for, writing to stdout as
// bashio does.
func (m *Main) Logger(cfg *Config) zerolog.Logger {
	return NewLogger(m.Stdout, cfg.LogFormat, cfg.LogLevel, !cfg.NoColor, nil)
}

func (m *Main) run(ctx context.Context, args []string) (err error) {
	command, err := parseRunArgs(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	if err != nil {
		return m.usageError(err.Error())
	}
	environ := envMap(m.Environ)
	cfg, err := LoadConfig(environ, command)
	log := m.Logger(&cfg)
	var reaper *Reaper
	defer func() {
		var reaped int64
		if reaper != nil {
			reaped = reaper.Orphans()
		}
		logExit(log, err, reaped)
	}()
	if err != nil {
		return err
	}
	log.Info().Int(logKeyPID, os.Getpid()).Msg(VersionLine())
	if cfg.Options.Path != "" {
		_, names := cfg.Options.Env(environ)
		if !cfg.OptionsEnv {
			names = nil
		}
		log.Info().Strs("exported", names).Msgf("read %d options from %s", len(cfg.Options.Values), cfg.Options.Path)
	}
	spec, err := NewChildSpec(&cfg, m.Environ)
	if err != nil {
		return err
	}
	spec.Stdin, spec.Stdout, spec.Stderr = m.Stdin, m.Stdout, m.Stderr
	spec.Foreground = m.Stdin != nil && foregroundTTY(int(m.Stdin.Fd()))
	if cfg.Credential != nil {
		log.Info().Msgf("the child runs as %s", cfg.Credential)
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	store := NewStateStore()
	if cfg.HealthEnabled() && m.Health != nil {
		svc, err := m.Health(&cfg, store, log)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.Run(ctx); err != nil {
				log.Error().Err(err).Msg("health server stopped")
			}
		}()
	}
	reaper = NewReaper(log)
	store.CountReaped(reaper.Orphans)
	wg.Add(1)
	go func() { defer wg.Done(); reaper.Run(ctx) }()

	sup := NewSupervisor(&cfg, spec, reaper, store, log)
	sup.Sampler = m.Sampler
	if !cfg.Generic() {
		pf := NewPreflight(&cfg, environ)
		pf.Exec = reaper.Output
		sup.Preflight = pf
	}
	code, err := sup.Run(ctx)
	if err != nil {
		return err
	}
	return exitWith(code)
}

func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}

// check runs the preflight alone and reports it: `launcher check [--json] [--deep]`.
func (m *Main) check(ctx context.Context, args []string) error {
	var asJSON, deep bool
	for _, a := range args {
		switch a {
		case "--json":
			asJSON = true
		case "--deep":
			deep = true
		case "-h", "--help":
			fmt.Fprint(m.Stdout, usage)
			return nil
		default:
			return m.usageError(fmt.Sprintf("unknown flag %q for check", a))
		}
	}
	environ := envMap(m.Environ)
	cfg, err := LoadConfig(environ, nil)
	if err != nil {
		fmt.Fprintln(m.Stderr, "launcher: "+err.Error())
		return err
	}
	pf := NewPreflight(&cfg, environ)
	pf.Deep = deep
	report := pf.Run(ctx)
	if asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
	} else {
		report.WriteText(m.Stdout)
	}
	if !report.OK {
		return &ExitError{Code: ExitPreflight}
	}
	return nil
}

// logExit reports the launcher's own exit code and what caused it.
func logExit(log zerolog.Logger, err error, reaped int64) {
	code := ExitCode(err)
	var cfgErr *ConfigError
	var exitErr *ExitError
	switch {
	case errors.As(err, &cfgErr):
		msgs := make([]string, len(cfgErr.Problems))
		for i, p := range cfgErr.Problems {
			msgs[i] = "- " + p.Error()
		}
		log.Error().Str("problems", strings.Join(msgs, "\n")+"\n").
			Msgf("invalid configuration (%d %s)", len(msgs), plural(len(msgs), "problem"))
	case errors.As(err, &exitErr) && exitErr.Err != nil, err != nil && !errors.As(err, &exitErr):
		log.Error().Err(err).Msg("launcher failed")
	}
	ev := log.Info()
	if code != 0 {
		ev = log.Warn()
	}
	ev.Int(logKeyCode, code).Int64("reaped", reaped).Msgf("launcher exiting with code %d", code)
}

func plural(n int, word string) string { return pluralWord(n, word, word+"s") }

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
