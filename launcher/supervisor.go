package launcher

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// sweepTimeout bounds the wait for the last descendants to be reaped after
// they were killed.
const sweepTimeout = 2 * time.Second

// Supervisor starts the child, forwards signals to it, stops it, and starts
// it again by the restart policy. Run is its only loop; the Reaper is the
// only waiter.
type Supervisor struct {
	cfg    *Config
	spec   ChildSpec
	log    zerolog.Logger
	reaper *Reaper
	// Preflight, when set, runs before every start; a failure ends Run
	// with exit 3.
	Preflight *Preflight
	// Report is the last preflight's report.
	Report    *Report
	nodeShown bool
	name      string // "node", or the command's base name
	sigs      chan os.Signal
}

// NewSupervisor prepares supervision of spec.
func NewSupervisor(cfg *Config, spec ChildSpec, reaper *Reaper, log zerolog.Logger) *Supervisor {
	name := "node"
	if cfg.Generic() {
		name = spec.Args[0][strings.LastIndexByte(spec.Args[0], '/')+1:]
	}
	return &Supervisor{
		cfg: cfg, spec: spec, reaper: reaper, name: name,
		log:  log.With().Str(logKeyComponent, "supervisor").Logger(),
		sigs: make(chan os.Signal, 16),
	}
}

// outcome is how one run of the child ended.
type outcome struct {
	status   ExitStatus
	stopping bool           // the launcher was asked to stop
	stopSig  syscall.Signal // the signal that began the stop
	killed   bool           // the launcher had to SIGKILL it
	reason   string
}

// Run supervises until the child ends for good or the launcher is stopped,
// and returns the launcher's exit as an *ExitError (nil for 0). Cancelling
// ctx stops the child like SIGTERM.
func (s *Supervisor) Run(ctx context.Context) error {
	// The parent-death signal is tied to the thread that started the child;
	// keep this goroutine on one thread and never unlock it, so the thread
	// lives exactly as long as supervision (supervisors.md §4d).
	runtime.LockOSThread()
	signal.Notify(s.sigs, forwardedSignals...)
	defer signal.Stop(s.sigs)
	if err := becomeSubreaper(); err != nil {
		s.log.Warn().Err(err).Msg("cannot become child subreaper; orphans will not be reaped")
	}

	backoff := NewBackoff(s.cfg)
	for {
		if s.Preflight != nil {
			if err := s.preflight(ctx); err != nil {
				return err
			}
		}
		child, err := s.spec.Start(s.reaper)
		if err != nil {
			return err
		}
		s.log.Info().Int(logKeyPID, child.PID).Msgf("started %s", s.commandLine())
		out := s.watch(ctx, child)
		s.sweep(child)
		s.logExit(child, out)

		if out.stopping {
			return stopExit(out)
		}
		d := backoff.Decide(time.Now(), time.Since(child.Started), out.status, out.reason)
		if !d.Restart {
			code := out.status.Shell()
			s.log.Info().Int(logKeyCode, code).Msgf("not restarting %s: %s", s.name, d.Why)
			return exitWith(code)
		}
		s.log.Info().Str(logKeyReason, out.reason).Str(logKeyDelay, d.Delay.String()).
			Msgf("restarting %s in %s (%s)", s.name, HumanDuration(d.Delay), d.Why)
		if stopped := s.sleep(ctx, d.Delay); stopped {
			code := out.status.Shell()
			s.log.Info().Int(logKeyCode, code).Msg("stopped during the restart delay")
			return exitWith(code)
		}
	}
}

// watch forwards signals and runs the stop until the child's status arrives.
func (s *Supervisor) watch(ctx context.Context, c *Child) outcome {
	out := outcome{reason: ReasonExit}
	var grace *time.Timer
	var graceC <-chan time.Time
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	beginStop := func(sig syscall.Signal) {
		out.stopping, out.stopSig, out.reason = true, sig, ReasonStop
		grace = time.NewTimer(s.cfg.StopTimeout)
		graceC = grace.C
		s.log.Info().Str(logKeySignal, SignalName(sig)).
			Msgf("stopping %s: %s forwarded, SIGKILL in %s", s.name, SignalName(sig), HumanDuration(s.cfg.StopTimeout))
	}
	done := ctx.Done()
	for {
		select {
		case out.status = <-c.done:
			if !out.stopping && s.spec.Foreground && out.status.Signal == unix.SIGINT {
				// Ctrl-C at the terminal went to node alone; it is a stop.
				out.stopping, out.stopSig, out.reason = true, unix.SIGINT, ReasonStop
			}
			return out
		case sig := <-s.sigs:
			sysSig := sig.(syscall.Signal)
			switch {
			case isStopSignal(sysSig) && out.stopping:
				s.log.Warn().Str(logKeySignal, SignalName(sysSig)).Msgf("second %s: killing %s now", SignalName(sysSig), s.name)
				c.kill()
				out.killed = true
				continue
			case isStopSignal(sysSig):
				beginStop(sysSig)
			}
			s.forward(c, sysSig)
		case <-graceC:
			graceC = nil
			s.log.Warn().Msgf("%s did not stop within %s (LAUNCHER_STOP_TIMEOUT): SIGKILL", s.name, HumanDuration(s.cfg.StopTimeout))
			c.kill()
			out.killed = true
		case <-done:
			done = nil
			if !out.stopping {
				beginStop(unix.SIGTERM)
				s.forward(c, unix.SIGTERM)
			}
		}
	}
}

// preflight runs the checks before a start and logs them: node's facts
// once, each failure at error with its fix, each warning with its hint.
func (s *Supervisor) preflight(ctx context.Context) error {
	r := s.Preflight.Run(ctx)
	s.Report = r
	if n := r.Node; n != nil && !s.nodeShown {
		s.nodeShown = true
		s.log.Info().Str("node", n.Path).Int("abi", n.ABI).Str("libc", n.Libc).Str("arch", n.Arch).
			Msgf("node %s (NODE_MODULE_VERSION %d, N-API %d, %s, %s)", n.Version, n.ABI, n.NAPI, orUnknown(n.Libc), orUnknown(n.Arch))
	}
	for _, c := range r.Checks {
		switch c.Status {
		case StatusFail:
			s.log.Error().Str("check", c.Name).Str("fix", c.Hint).Msgf("preflight %s failed: %s", c.Name, c.Detail)
		case StatusWarn:
			s.log.Warn().Str("check", c.Name).Str("fix", c.Hint).Msgf("preflight %s: %s", c.Name, c.Detail)
		default:
			s.log.Debug().Str("check", c.Name).Msgf("preflight %s: %s", c.Name, c.Detail)
		}
	}
	if !r.OK {
		s.log.Error().Msgf("preflight failed in %.1f ms: not starting node", r.DurationMS)
		return &ExitError{Code: ExitPreflight}
	}
	s.log.Info().Msgf("preflight passed in %.1f ms (%d checks)", r.DurationMS, len(r.Checks))
	return nil
}

func (s *Supervisor) forward(c *Child, sig syscall.Signal) {
	if err := c.Signal(sig); err != nil {
		s.log.Warn().Err(err).Str(logKeySignal, SignalName(sig)).Msgf("%s was gone when forwarding %s", s.name, SignalName(sig))
		return
	}
	s.log.Info().Str(logKeySignal, SignalName(sig)).Int(logKeyPID, c.PID).Msgf("forwarded %s to %s", SignalName(sig), s.name)
}

// sleep waits out a restart delay; a stop signal or ctx cuts it short and
// reports true.
func (s *Supervisor) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return false
		case <-ctx.Done():
			return true
		case sig := <-s.sigs:
			if isStopSignal(sig.(syscall.Signal)) {
				return true
			}
		}
	}
}

// sweep kills what is left of the child's process group and every other
// descendant of the launcher (those that escaped with setsid included), then
// waits, bounded, until the reaper has collected them all.
func (s *Supervisor) sweep(c *Child) {
	c.kill()
	left := descendants(os.Getpid())
	for _, pid := range left {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
	s.reaper.Poke()
	if err := s.reaper.WaitNoChildren(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn().Err(err).Msg("waiting for descendants")
	}
	if len(left) > 0 {
		s.log.Info().Int("count", len(left)).Msgf("killed %d leftover processes of %s", len(left), s.name)
	}
	c.finish(time.Second)
}

func (s *Supervisor) logExit(c *Child, out outcome) {
	ev := s.log.Info()
	clean := out.stopping && stopExit(out) == nil
	if !out.status.Success() && !clean {
		ev = s.log.Error()
		if tail := c.StderrTail(); len(tail) > 0 {
			ev = ev.Str(logKeyStderr, strings.Join(tail, "\n")+"\n")
		}
	}
	if out.status.Signal != 0 {
		ev = ev.Str(logKeySignal, SignalName(out.status.Signal))
	}
	ev.Int(logKeyPID, c.PID).Int(logKeyCode, out.status.Shell()).Msgf("%s %s", s.name, out.status)
	if !out.status.Success() && !clean {
		for _, d := range Diagnose(c.StderrTail()) {
			s.log.Error().Str("fix", d.Hint).Msgf("%s: %s", s.name, d.Cause)
		}
	}
}

func (s *Supervisor) commandLine() string {
	return strings.Join(s.spec.Args, " ")
}

// stopExit is the launcher's exit after a stop: 0 when the child exited 0
// or died of the very signal forwarded to it (also as a shell wrapper's
// code 128+S), since the Supervisor marks exit 143 after SIGTERM as a
// failure; otherwise the child's code, 137 when it had to be killed.
func stopExit(out outcome) error {
	st := out.status
	if st.Success() || st.Signal == out.stopSig || (st.Signal == 0 && st.Code == 128+int(out.stopSig)) {
		return nil
	}
	return exitWith(st.Shell())
}

func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}
