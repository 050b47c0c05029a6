// Command launcher is the container entrypoint of a Node.js Home Assistant
// add-on: it proves that the backend will load, then runs node as its
// supervised child, as PID 1, serving health and metrics. This file is the
// program: its subcommands, its usage, the wiring of the packages, and the
// mapping of how it ended to an exit code. docs/LAUNCHER.md is its
// reference; docs/DESIGN.md its design.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/health"
	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/disk"
	"github.com/hasync/launcher/launcher/plural"
	"github.com/hasync/launcher/launcher/preflight"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

// When the launcher runs (supervises), its main goroutine keeps the
// process's main thread: the kernel offers a signal sent to the process to
// that thread first, and the supervisor waits there for the signals it
// forwards (Supervisor.MainThread). Only an init function can keep it:
// main.main may already run elsewhere. The other subcommands have no use
// for it, and a locked main thread costs a process a thread or two (the
// runtime's template thread, and one for the goroutines the main thread no
// longer runs): `launcher healthcheck` runs at every HEALTHCHECK interval
// for as long as the container lives.
func init() {
	if name, _ := subcommand(os.Args[1:]); name == "run" {
		runtime.LockOSThread()
	}
}

func main() {
	p := program{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}
	os.Exit(p.main(context.Background(), os.Args[1:]))
}

// program is the launcher's process: its standard files and environment.
type program struct {
	stdin          *os.File
	stdout, stderr *os.File
	environ        []string
}

// reference is the launcher's reference as a user of the image can open
// it: the image holds no docs/.
const reference = "https://github.com/hasync/launcher/blob/main/docs/LAUNCHER.md"

const usage = `launcher: the entrypoint of a Node.js Home Assistant add-on.

Usage:
  launcher [run]                    preflight, then start and supervise node <entry>
  launcher run -- CMD [ARGS...]     supervise CMD instead of node
  launcher check [--json] [--deep] [--root DIR]
                                    preflight only; with --root, of an unpacked
                                    image root of any architecture, nothing run
  launcher healthcheck [--started]  exit 0 when the running launcher is healthy;
                                    with --started, only once node has been ready
  launcher status [--json]          the running launcher's status
  launcher version                  print the version (also --version, -v)
  launcher help                     this text

Configuration is by LAUNCHER_* environment variables and /data/options.json.
Exit codes: the child's own, 2 bad configuration, 3 a failed preflight check,
1 a bug of the launcher's own (told with its stack, after node was stopped),
126/127 a command of run -- that cannot run / is not found. Reference (every
variable, the checks, health and metrics):
` + reference + "\n"

// logPatience is how long the launcher, on its way out, waits for a log
// reader that takes none of its last lines before it exits without them.
const logPatience = time.Second

// Exit codes of the launcher itself; a child's own code passes through.
const (
	exitOK    = 0
	exitFail  = 1 // the launcher itself failed
	exitUsage = 2 // bad configuration, flag or subcommand
)

// subcommand names the subcommand args ask for ("run" when they name
// none), and the arguments that follow it.
func subcommand(args []string) (name string, rest []string) {
	if len(args) == 0 {
		return "run", args
	}
	switch args[0] {
	case "--version", "-v":
		return "version", args[1:]
	case "-h", "--help":
		return "help", args[1:]
	}
	if strings.HasPrefix(args[0], "-") {
		return "run", args
	}
	return args[0], args[1:]
}

// main runs the subcommand in args and returns the process's exit code.
func (p program) main(ctx context.Context, args []string) int {
	name, rest := subcommand(args)
	switch name {
	case "run":
		command, err := parseRunArgs(rest)
		if errors.Is(err, errHelp) {
			fmt.Fprint(p.stdout, usage)
			return exitOK
		}
		if err != nil {
			return p.usageError(err.Error())
		}
		return p.run(ctx, command)
	case "check":
		return p.check(ctx, rest)
	case "healthcheck":
		started := false
		for _, a := range rest {
			if a != "--started" {
				return p.usageError(fmt.Sprintf("unknown argument %q for healthcheck", a))
			}
			started = true
		}
		if err := health.Healthcheck(ctx, p.environ, started); err != nil {
			return exitFail
		}
		return exitOK
	case "status":
		asJSON := false
		for _, a := range rest {
			if a != "--json" {
				return p.usageError(fmt.Sprintf("unknown flag %q for status", a))
			}
			asJSON = true
		}
		if err := health.Status(ctx, p.environ, asJSON, p.stdout, p.stderr); err != nil {
			return exitFail
		}
		return exitOK
	case "version":
		fmt.Fprintln(p.stdout, versionLine())
		return exitOK
	case "help":
		fmt.Fprint(p.stdout, usage)
		return exitOK
	}
	if path, err := exec.LookPath(name); err == nil && !strings.HasPrefix(name, "-") {
		// `docker run IMAGE sh`: the words go to the entrypoint, the launcher.
		return p.usageError(fmt.Sprintf("unknown subcommand %q, which is a command (%s): to run it as the launcher's child, `launcher run -- %s`; "+
			"to run it instead of the launcher, `docker run --entrypoint %s IMAGE%s`", name, path, shellWords(args), shellWords(args[:1]),
			strings.TrimRight(" "+shellWords(args[1:]), " ")))
	}
	return p.usageError(fmt.Sprintf("unknown subcommand %q", name))
}

// shellWords writes words as a shell command line would give them back:
// a word of anything but letters, digits and -_./=:,@%+ in single quotes.
func shellWords(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = w
		if w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") != "" {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// run is the launcher's life as the container's entrypoint: configuration,
// the logger, the reaper, the health server, then supervision of the child
// (with the preflight before every start of node) until it ends for good
// or a stop comes; its exit code is the launcher's.
func (p program) run(ctx context.Context, command []string) (code int) {
	// A stop from here on is a stop, and a signal for node is told, even
	// before the configuration is read (launcher.CatchSignals). PID 1 must
	// outlive a closed log reader; the short subcommands, like any command
	// line tool, may die of SIGPIPE or SIGTERM (and skip the 1 to 3 ms the
	// first subscription costs).
	signals := launcher.CatchSignals()
	launcher.CatchSIGPIPE()
	environ := config.EnvMap(p.environ)
	cfg, err := config.LoadConfig(environ, command)
	// The log's lines go out from a goroutine of their own: nothing the
	// launcher does waits on the log's reader (launcher.LogOutput).
	out := launcher.NewLogOutput(p.stdout)
	defer out.Close(logPatience)
	logTo := func(w io.Writer) zerolog.Logger {
		return launcher.NewLogger(w, cfg.LogFormat, cfg.LogLevel, !cfg.NoColor, nil)
	}
	log := logTo(out)
	out.Start(func(note io.Writer, lines int, waited time.Duration) {
		noteLog := logTo(note)
		noteLog.Warn().Int("dropped", lines).Msgf("dropped %d %s of the launcher's log: its reader took none for %s",
			lines, plural.Of(lines, "line"), waited.Round(time.Millisecond))
	})
	var reaper *launcher.Reaper
	defer func() {
		var reaped int64
		if reaper != nil {
			reaped = reaper.Orphans()
		}
		logExit(log, code, reaped)
	}()
	if err != nil {
		return failed(log, err)
	}
	log.Info().Int("pid", os.Getpid()).Msg(versionLine())
	if cfg.Options.Path != "" {
		_, names := cfg.Options.Env(environ)
		if !cfg.OptionsEnv {
			names = nil
		}
		log.Info().Strs("exported", names).Msgf("read %d options from %s", len(cfg.Options.Values), cfg.Options.Path)
	}
	warnDisk(log, cfg.DataDir())
	spec, err := launcher.NewChildSpec(&cfg, p.environ)
	if err != nil {
		return failed(log, err)
	}
	spec.Stdin, spec.Stdout, spec.Stderr = p.stdin, p.stdout, p.stderr
	spec.Foreground = p.stdin != nil && launcher.ForegroundTTY(int(p.stdin.Fd()))
	if cfg.Credential != nil {
		log.Info().Msgf("the child runs as %s", cfg.Credential)
		giveUserDirs(log, &cfg)
		warnUserData(log, &cfg)
	}

	// The health server and the reaper run until the process ends: nothing
	// on the way out waits for them. /healthz answers with the final state
	// until the process is gone, and the exit closes the listener; a graceful
	// shutdown of the server and the reaper's unsubscription, waited for, had
	// cost the stop half a millisecond on the cores the exit runs on.
	store := launcher.NewStateStore(version)
	if cfg.HealthEnabled() {
		srv, err := health.New(&cfg, store, log)
		if err != nil {
			return failed(log, err)
		}
		go func() {
			if err := srv.Run(ctx); err != nil {
				log.Error().Err(err).Msg("health server stopped")
			}
		}()
	}
	reaper = launcher.NewReaper(log)
	store.CountReaped(reaper.Orphans)
	go reaper.Run(ctx)

	sup := launcher.NewSupervisor(&cfg, spec, reaper, store, log)
	sup.Sampler = health.NewSampler(cfg.DataDir())
	sup.MainThread, sup.Signals = true, signals
	if !cfg.Generic() {
		pf := newPreflight(&cfg, spec.Env)
		pf.Exec = reaper.Output
		sup.Preflight = pf
	}
	code, err = sup.Run(ctx)
	if err != nil {
		return failed(log, err)
	}
	return code
}

// check runs the preflight alone and reports it: `launcher check [--json] [--deep]`.
func (p program) check(ctx context.Context, args []string) int {
	var asJSON, deep bool
	var root string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--json":
			asJSON = true
		case a == "--deep":
			deep = true
		case a == "--root" && i+1 < len(args):
			i++
			root = args[i]
		case strings.HasPrefix(a, "--root="):
			root = strings.TrimPrefix(a, "--root=")
		case a == "-h" || a == "--help":
			fmt.Fprint(p.stdout, usage)
			return exitOK
		default:
			return p.usageError(fmt.Sprintf("unknown flag %q for check", a))
		}
	}
	if root != "" {
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return p.usageError(fmt.Sprintf("--root %q: not a folder; export an image's root with `docker export` or `podman unshare` (%s#checking-an-image-from-outside---root)", root, reference))
		}
	}
	environ := config.EnvMap(p.environ)
	cfg, err := config.LoadConfig(environ, nil)
	if err != nil {
		fmt.Fprintln(p.stderr, "launcher: "+err.Error())
		return exitCode(err)
	}
	pf := newPreflight(&cfg, cfg.ChildEnv(p.environ))
	pf.Deep, pf.Image = deep, root
	return p.report(pf.Run(ctx), asJSON)
}

// report prints check's report, and the stack of a panic that ended its
// checks (a bug: the report is then one warning), and returns check's
// exit code.
func (p program) report(r *preflight.Report, asJSON bool) int {
	if asJSON {
		enc := json.NewEncoder(p.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		r.WriteText(p.stdout)
	}
	if b := r.Bug; b != nil {
		fmt.Fprintf(p.stderr, "launcher check: the checks failed for a bug in the launcher or in a library it uses (%v). Please report it, with this stack:\n%s", b.Value, b.Stack)
	}
	if !r.OK {
		return launcher.ExitPreflight
	}
	return exitOK
}

// newPreflight takes the checks' inputs from the configuration and from
// nodeEnv, the environment node will have (the options' variables
// included), and checks as the user node will run as.
func newPreflight(cfg *config.Config, nodeEnv []string) *preflight.Preflight {
	node := config.EnvMap(nodeEnv)
	p := &preflight.Preflight{
		AppDir: cfg.AppDir, Entry: cfg.Entry, Node: cfg.Node, NativeModules: cfg.NativeModules,
		LDLibraryPath: node["LD_LIBRARY_PATH"], LDPreload: node["LD_PRELOAD"], LibcEnv: node["LIBC"], NodeOptions: node["NODE_OPTIONS"],
		NodeArgs: cfg.NodeArgs, Env: nodeEnv,
	}
	p.RunAs = launcher.NodeUser(cfg.Credential)
	p.NoNewPrivs, p.Bounded = preflight.NoNewPrivs(), preflight.Bounded
	return p
}

func versionLine() string {
	return fmt.Sprintf("launcher %s (%s, %s/%s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// usageError prints the one-line error and returns exit code 2.
func (p program) usageError(msg string) int {
	fmt.Fprintln(p.stderr, "launcher: "+msg+" (see 'launcher help')")
	return exitUsage
}

var errHelp = errors.New("help")

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

// exitCode maps the launcher's own failure to its exit code: 2 for the
// configuration, the shell's 126 or 127 for a command that cannot start,
// else 1.
func exitCode(err error) int {
	var (
		cfgErr *config.Error
		spawn  *launcher.SpawnError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &cfgErr):
		return exitUsage
	case errors.As(err, &spawn):
		return spawn.Code
	}
	return exitFail
}

// giveUserDirs gives the folders of LAUNCHER_USER_DIRS to node's user
// before node runs. What it cannot give is a warning, not a failure: node
// may not need it, and if it does, its refusal is explained.
func giveUserDirs(log zerolog.Logger, cfg *config.Config) {
	if len(cfg.UserDirs) == 0 {
		return
	}
	dirs := strings.Join(cfg.UserDirs, ", ")
	n, err := launcher.GiveUserDirs(cfg.UserDirs, cfg.Credential, cfg.PreflightRecord)
	if n > 0 {
		log.Info().Msgf("gave %d %s in %s to %s", n, plural.Word(n, "file or folder", "files and folders"), dirs, cfg.Credential)
	}
	if err != nil {
		log.Warn().Str("fix", "Run the launcher as root (the container's user; LAUNCHER_USER is node's): only root gives files away. A disk mounted read-only, or a network share, takes no change of owner.").
			Msgf("could not give all of %s to %s: %v", dirs, cfg.Credential, err)
	}
}

// warnUserData tells, before node starts, that node's user may not write
// the add-on's data folder (root's, as the Supervisor mounts it), where an
// add-on keeps all it keeps: unless LAUNCHER_USER_DIRS gives it, which
// says for itself what it could not give. No data folder (a plain
// docker run) is nothing to tell.
func warnUserData(log zerolog.Logger, cfg *config.Config) {
	data := cfg.DataDir()
	for _, dir := range cfg.UserDirs {
		if data == dir || strings.HasPrefix(data, dir+"/") {
			return
		}
	}
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
		return
	}
	on := preflight.Machine{DataDir: data, User: launcher.NodeUser(cfg.Credential), Stat: os.Stat}
	if d, ok := preflight.DataRefused(on); ok {
		log.Warn().Str("fix", d.Hint).Msg(d.Cause)
	}
}

// warnDisk tells, before node starts, what will keep the app from writing
// its data: the add-on's folder on a disk mounted read-only, or full.
func warnDisk(log zerolog.Logger, folder string) {
	u, err := disk.Probe(folder)
	if err != nil {
		return
	}
	if d, ok := preflight.DiskTrouble(u); ok {
		log.Warn().Str("fix", d.Hint).Msg(d.Cause)
	}
}

// failed logs the launcher's own failure and returns its exit code.
func failed(log zerolog.Logger, err error) int {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		msgs := make([]string, len(cfgErr.Problems))
		for i, p := range cfgErr.Problems {
			msgs[i] = "- " + p.Error()
		}
		log.Error().Str("problems", strings.Join(msgs, "\n")+"\n").
			Msgf("invalid configuration (%d %s)", len(msgs), plural.Of(len(msgs), "problem"))
	} else {
		log.Error().Err(err).Msg("launcher failed")
	}
	return exitCode(err)
}

// logExit reports the launcher's own exit code.
func logExit(log zerolog.Logger, code int, reaped int64) {
	ev := log.Info()
	if code != 0 {
		ev = log.Warn()
	}
	ev.Int("code", code).Int64("reaped", reaped).Msgf("launcher exiting with code %d", code)
}
