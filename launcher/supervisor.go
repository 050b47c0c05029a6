package launcher

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// sweepTimeout bounds the wait for the last descendants to be reaped after
// they were killed.
const sweepTimeout = 2 * time.Second

// memoryStrikes is how many samples in a row above LAUNCHER_MEMORY_LIMIT
// restart the child.
const memoryStrikes = 3

// Supervisor starts the child, forwards signals to it, watches its
// readiness, liveness and memory, stops it, and starts it again by the
// restart policy. Run is its only loop; the Reaper is the only waiter; the
// health server only reads what it publishes in the StateStore.
type Supervisor struct {
	cfg    *Config
	spec   ChildSpec
	log    zerolog.Logger
	reaper *Reaper
	store  *StateStore
	// Preflight, when set, runs before every start; a failure ends Run
	// with exit 3.
	Preflight *Preflight
	// Sampler, when set, samples the child and the container every
	// LAUNCHER_SAMPLE_INTERVAL; it feeds the memory limit and the metrics.
	Sampler Sampler

	probe     *ReadyProbe // nil without LAUNCHER_READY_URL
	name      string      // "node", or the command's base name
	sigs      chan os.Signal
	events    chan childEvent
	firstDone bool   // the first start's timeline is recorded
	oomBase   uint64 // the cgroup's OOM kills when the current child started
}

// childEvent is what the monitors of a child report to the loop.
type childEvent struct {
	pid     int
	ready   bool
	restart string // a Reason*, when the child must be restarted
	detail  string
	sample  *ProcessSample
	host    HostSample // with sample
}

// NewSupervisor prepares supervision of spec.
func NewSupervisor(cfg *Config, spec ChildSpec, reaper *Reaper, store *StateStore, log zerolog.Logger) *Supervisor {
	name := "node"
	if cfg.Generic() {
		name = spec.Args[0][strings.LastIndexByte(spec.Args[0], '/')+1:]
	}
	s := &Supervisor{
		cfg: cfg, spec: spec, reaper: reaper, store: store, name: name,
		log:    log.With().Str(logKeyComponent, "supervisor").Logger(),
		sigs:   make(chan os.Signal, 16),
		events: make(chan childEvent, 16),
	}
	if cfg.ReadyURL != "" {
		s.probe = NewReadyProbe(cfg.ReadyURL)
	}
	return s
}

// outcome is how one run of the child ended.
type outcome struct {
	status     ExitStatus
	stopping   bool           // the launcher was asked to stop
	stopSig    syscall.Signal // the signal that began the stop
	restarting bool           // the launcher stopped it to restart it
	killed     bool           // the launcher had to SIGKILL it
	reason     string
}

// Run supervises until the child ends for good or the launcher is stopped,
// and returns the launcher's exit as an *ExitError (nil for 0). Cancelling
// ctx stops the child like SIGTERM.
func (s *Supervisor) Run(ctx context.Context) (err error) {
	// The parent-death signal is tied to the thread that started the child;
	// keep this goroutine on one thread and never unlock it, so the thread
	// lives exactly as long as supervision (supervisors.md §4d).
	runtime.LockOSThread()
	// The stop signals at once, so no stop is lost. The runtime enables each
	// signal with a round trip to its signal thread: the other 47 take 1.5 to
	// 3.5 ms, so they are subscribed while the preflight runs, and waited
	// for before node starts.
	signal.Notify(s.sigs, unix.SIGTERM, unix.SIGINT)
	subscribed := make(chan struct{})
	go func() { defer close(subscribed); signal.Notify(s.sigs, forwardedSignals...) }()
	defer func() { <-subscribed; signal.Stop(s.sigs) }()
	if err := becomeSubreaper(); err != nil {
		s.log.Warn().Err(err).Msg("cannot become child subreaper; orphans will not be reaped")
	}
	defer func() {
		final := StateStopped
		if err != nil {
			final = StateFailed
		}
		s.store.Update(func(st *Snapshot) { st.State = final })
	}()

	backoff := NewBackoff(s.cfg)
	for {
		s.setState(StateStarting)
		if s.Preflight != nil {
			if err := s.preflight(ctx); err != nil {
				return err
			}
		}
		<-subscribed
		child, err := s.spec.Start(s.reaper)
		if err != nil {
			return err
		}
		s.started(child)
		out := s.watch(ctx, child)
		s.sweep(child)
		s.explainKill(&out)
		s.exited(child, out)

		if out.stopping {
			return stopExit(out)
		}
		d := backoff.Decide(time.Now(), time.Since(child.Started), out.status, out.reason)
		if !d.Restart {
			code := out.status.Shell()
			if code == 0 && out.reason != ReasonExit {
				// Stopped by the launcher for failing readiness, liveness or
				// memory: a failure even if node exited 0 on the SIGTERM.
				code = 1
			}
			s.log.Info().Int(logKeyCode, code).Int("restarts", s.store.Load().Child.Restarts).Msgf("not restarting %s: %s", s.name, d.Why)
			return exitWith(code)
		}
		s.setState(StateRestarting)
		s.store.Update(func(st *Snapshot) { st.Child.Restarts++ })
		s.log.Info().Str(logKeyReason, out.reason).Str(logKeyDelay, d.Delay.String()).
			Msgf("restarting %s in %s (%s)", s.name, HumanDuration(d.Delay), d.Why)
		if stopped := s.sleep(ctx, d.Delay); stopped {
			code := out.status.Shell()
			s.log.Info().Int(logKeyCode, code).Msg("stopped during the restart delay")
			return exitWith(code)
		}
	}
}

func (s *Supervisor) setState(state string) {
	s.store.Update(func(st *Snapshot) { st.State = state })
}

// explainKill tells apart the kernel's OOM killer from another SIGKILL the
// launcher did not send, by the cgroup's OOM kill counter.
func (s *Supervisor) explainKill(out *outcome) {
	if out.status.Signal != unix.SIGKILL || out.killed || s.Sampler == nil {
		return
	}
	host := s.Sampler.Host()
	if host.OOMKills > s.oomBase {
		out.reason = ReasonOOM
		limit := "no limit set"
		if host.MemoryLimit > 0 {
			limit = "limit " + ByteSize(host.MemoryLimit).String()
		}
		s.log.Error().Uint64("oom_kills", host.OOMKills).Msgf("%s was killed by the kernel: out of memory (the container's memory cgroup counted an OOM kill; %s)", s.name, limit)
		return
	}
	s.log.Warn().Msgf("%s got a SIGKILL the launcher did not send (not an OOM kill, as far as the cgroup counts)", s.name)
}

// started logs and publishes a new child.
func (s *Supervisor) started(c *Child) {
	if s.Sampler != nil {
		s.oomBase = s.Sampler.OOMKills()
	}
	s.log.Info().Int(logKeyPID, c.PID).Msgf("started %s", s.commandLine())
	s.store.Update(func(st *Snapshot) {
		st.State = StateRunning
		st.Child.PID, st.Child.StartedAt = ptr(c.PID), ptr(c.Started.UTC())
		st.Child.Ready, st.Child.ReadySeconds = false, nil
		if !s.firstDone {
			st.Startup.SpawnMS = msSince(processStart)
		}
	})
}

// exited logs and publishes how a child ended.
func (s *Supervisor) exited(c *Child, out outcome) {
	s.logExit(c, out)
	info := &ExitInfo{Code: out.status.Shell(), At: time.Now().UTC(), Reason: out.reason, Stderr: c.StderrTail()}
	if out.status.Signal != 0 {
		info.Signal = SignalName(out.status.Signal)
	}
	s.store.Update(func(st *Snapshot) {
		st.Child.LastExit = info
		st.Child.PID, st.Child.Ready, st.Child.ReadySeconds = nil, false, nil
		st.Child.RSSBytes, st.Child.VMSBytes, st.Child.CPUSeconds, st.Child.OpenFDs, st.Child.Threads = nil, nil, nil, nil, nil
	})
}

// ready publishes readiness, then logs it, with the startup timeline the
// first time: whoever reads the log line finds /readyz answering 200.
func (s *Supervisor) ready(c *Child) {
	took := time.Since(c.Started)
	first := !s.firstDone
	s.firstDone = true
	total := msSince(processStart)
	s.store.Update(func(st *Snapshot) {
		st.State = StateReady
		st.Child.Ready, st.Child.ReadySeconds = true, ptr(took.Seconds())
		if first {
			st.Startup.ReadyMS = total
		}
	})
	// A start is over: give back the pages only starting needed.
	defer trimResident()
	if !first {
		s.log.Info().Msgf("%s ready in %.0f ms", s.name, float64(took.Microseconds())/1000)
		return
	}
	st := s.store.Load().Startup
	pre, spawn := 0.0, 0.0
	if st.PreflightMS != nil {
		pre = *st.PreflightMS
	}
	if st.SpawnMS != nil {
		// Both are whole microseconds; round away the subtraction's float noise.
		spawn = math.Round((*st.SpawnMS-pre)*1000) / 1000
	}
	s.log.Info().Float64("ready_ms", *total).Float64("preflight_ms", pre).Float64("spawn_ms", spawn).
		Msgf("%s ready in %.0f ms (preflight %.0f ms, spawn %.0f ms)", s.name, *total, pre, spawn)
}

// watch forwards signals, follows the monitors, and runs stops and
// restarts until the child's status arrives.
func (s *Supervisor) watch(ctx context.Context, c *Child) outcome {
	out := outcome{reason: ReasonExit}
	mctx, cancelMonitors := context.WithCancel(ctx)
	var monitors sync.WaitGroup
	s.startMonitors(mctx, &monitors, c)
	var grace *time.Timer
	var graceC <-chan time.Time
	readyTimer := time.NewTimer(s.cfg.ReadyTimeout)
	readyC := readyTimer.C
	defer func() {
		cancelMonitors()
		monitors.Wait()
		readyTimer.Stop()
		if grace != nil {
			grace.Stop()
		}
	}()
	isReady := false
	terminate := func(why string) {
		grace = time.NewTimer(s.cfg.StopTimeout)
		graceC = grace.C
		s.log.Info().Msgf("%s: SIGTERM forwarded to %s, SIGKILL in %s", why, s.name, HumanDuration(s.cfg.StopTimeout))
	}
	beginStop := func(sig syscall.Signal) {
		out.stopping, out.stopSig, out.reason = true, sig, ReasonStop
		s.setState(StateStopping)
		if grace == nil {
			grace = time.NewTimer(s.cfg.StopTimeout)
			graceC = grace.C
		}
		s.log.Info().Str(logKeySignal, SignalName(sig)).
			Msgf("stopping %s: %s forwarded, SIGKILL in %s", s.name, SignalName(sig), HumanDuration(s.cfg.StopTimeout))
	}
	beginRestart := func(reason, detail string) {
		if out.stopping || out.restarting {
			return
		}
		out.restarting, out.reason = true, reason
		s.setState(StateRestarting)
		s.log.Warn().Str(logKeyReason, reason).Msgf("restarting %s: %s", s.name, detail)
		s.forward(c, unix.SIGTERM)
		terminate("restart")
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
		case ev := <-s.events:
			switch {
			case ev.pid != c.PID: // from a child already gone
			case ev.sample != nil:
				s.publishSample(ev.sample, ev.host)
			case ev.ready && !isReady:
				isReady = true
				readyTimer.Stop()
				readyC = nil
				s.ready(c)
			case ev.restart != "":
				beginRestart(ev.restart, ev.detail)
			}
		case <-readyC:
			readyC = nil
			beginRestart(ReasonReadiness, fmt.Sprintf("not ready within %s (LAUNCHER_READY_TIMEOUT)", HumanDuration(s.cfg.ReadyTimeout)))
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

// startMonitors starts the goroutines that watch one child: readiness
// (HTTP, IPC, or at once), then liveness; and sampling. Each ends with ctx.
func (s *Supervisor) startMonitors(ctx context.Context, wg *sync.WaitGroup, c *Child) {
	send := func(ev childEvent) {
		ev.pid = c.PID
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	}
	readied := make(chan struct{}) // closed once the child is ready
	wg.Add(1)
	go func() {
		defer wg.Done()
		if !s.waitReady(ctx, c) {
			return
		}
		send(childEvent{ready: true})
		close(readied)
		if c.ipc != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.ipc.drain(ctx) }()
		}
		if reason, detail := s.liveness(ctx); reason != "" {
			send(childEvent{restart: reason, detail: detail})
		}
	}()
	if s.Sampler != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.sample(ctx, c, readied, send) }()
	}
}

// waitReady reports readiness: at once without a ready URL or IPC, else
// the first of the URL answering 2xx and the child's process.send('ready').
func (s *Supervisor) waitReady(ctx context.Context, c *Child) bool {
	if s.probe == nil && c.ipc == nil {
		return true
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan bool, 2)
	var wg sync.WaitGroup
	defer wg.Wait()
	if s.probe != nil {
		wg.Add(1)
		go func() { defer wg.Done(); ready <- s.probe.WaitReady(ctx) == nil }()
	}
	if c.ipc != nil {
		wg.Add(1)
		go func() { defer wg.Done(); ready <- c.ipc.waitReady(ctx) }()
	}
	for range 2 {
		select {
		case ok := <-ready:
			if ok {
				return true
			}
		case <-ctx.Done():
			return false
		}
	}
	return false
}

// liveness probes the ready URL every LAUNCHER_LIVENESS_INTERVAL; it
// returns a restart reason after LAUNCHER_LIVENESS_FAILURES failures in a row.
func (s *Supervisor) liveness(ctx context.Context) (string, string) {
	if s.probe == nil || s.cfg.LivenessInterval <= 0 {
		return "", ""
	}
	t := time.NewTicker(s.cfg.LivenessInterval)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return "", ""
		case <-t.C:
		}
		err := s.probe.Probe(ctx, min(probeTimeout, s.cfg.LivenessInterval))
		if ctx.Err() != nil {
			return "", ""
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		s.log.Warn().Err(err).Msgf("liveness probe %d of %d failed", failures, s.cfg.LivenessFailures)
		if failures >= s.cfg.LivenessFailures {
			return ReasonLiveness, fmt.Sprintf("%d liveness probes failed in a row (last: %v)", failures, err)
		}
	}
}

// sample reads the child's and the container's figures every
// LAUNCHER_SAMPLE_INTERVAL, publishes them, and asks for a restart after
// memoryStrikes samples in a row above LAUNCHER_MEMORY_LIMIT.
func (s *Supervisor) sample(ctx context.Context, c *Child, readied <-chan struct{}, send func(childEvent)) {
	t := time.NewTicker(s.cfg.SampleInterval)
	defer t.Stop()
	strikes := 0
	limit := uint64(s.cfg.MemoryLimit)
	for {
		// The first sample when the child is ready (or after one interval,
		// if that comes first): at the spawn it would only compete with
		// node's start for the CPU, and a person who runs `launcher status`
		// once the add-on is up should not read "unknown" memory.
		select {
		case <-ctx.Done():
			return
		case <-readied:
			readied = nil
		case <-t.C:
		}
		if ps, err := s.Sampler.Process(c.PID); err == nil {
			// Read here, off the supervision loop, which only publishes.
			send(childEvent{sample: &ps, host: s.Sampler.Host()})
			if limit > 0 && ps.RSS > limit {
				strikes++
				if strikes >= memoryStrikes {
					send(childEvent{restart: ReasonMemory, detail: fmt.Sprintf("resident memory %s above LAUNCHER_MEMORY_LIMIT %s for %d samples in a row",
						ByteSize(ps.RSS), s.cfg.MemoryLimit, strikes)})
					strikes = 0
				}
			} else {
				strikes = 0
			}
		}
	}
}

func (s *Supervisor) publishSample(ps *ProcessSample, host HostSample) {
	s.store.Update(func(st *Snapshot) {
		st.Child.RSSBytes, st.Child.VMSBytes = ptr(ps.RSS), ptr(ps.VMS)
		st.Child.CPUSeconds, st.Child.OpenFDs, st.Child.Threads = ptr(ps.CPUSeconds), ptr(ps.OpenFDs), ptr(ps.Threads)
		st.Launcher.RSSBytes = ptr(host.LauncherRSS)
		st.Container.MemoryUsageBytes = ptr(host.MemoryUsage)
		st.Container.MemoryLimitBytes = nil
		if host.MemoryLimit > 0 {
			st.Container.MemoryLimitBytes = ptr(host.MemoryLimit)
		}
	})
}

// preflight runs the checks before a start and logs them: node's facts
// once, each failure at error with its fix, each warning with its hint.
func (s *Supervisor) preflight(ctx context.Context) error {
	r := s.Preflight.Run(ctx)
	s.store.Update(func(st *Snapshot) {
		st.Preflight, st.Node = r, r.Node
		if !s.firstDone {
			st.Startup.PreflightMS = msSince(processStart)
		}
	})
	if n := r.Node; n != nil && !s.firstDone {
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
	name := SignalName(sig)
	s.store.Update(func(st *Snapshot) {
		counts := make(map[string]int64, len(st.SignalsForwarded)+1)
		for k, v := range st.SignalsForwarded {
			counts[k] = v
		}
		counts[name]++
		st.SignalsForwarded = counts
	})
	s.log.Info().Str(logKeySignal, name).Int(logKeyPID, c.PID).Msgf("forwarded %s to %s", name, s.name)
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
	// The child is reaped: what is left of its group, and any other
	// descendant, is now the launcher's. With no children left there is
	// nothing to look for.
	_ = unix.Kill(-c.PID, unix.SIGKILL)
	var left []int
	if s.reaper.HasChildren() {
		left = descendants(os.Getpid())
	}
	for _, pid := range left {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
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
