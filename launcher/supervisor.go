package launcher

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hasync/launcher/launcher/bug"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/disk"
	"github.com/hasync/launcher/launcher/listeners"
	"github.com/hasync/launcher/launcher/network"
	"github.com/hasync/launcher/launcher/plural"
	"github.com/hasync/launcher/launcher/preflight"
	"github.com/hasync/launcher/launcher/sourcemap"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// memoryStrikes is how many samples in a row above LAUNCHER_MEMORY_LIMIT
// restart the child.
const memoryStrikes = 3

// Supervisor starts the child, forwards signals to it, watches its
// readiness, liveness and memory, stops it, and starts it again by the
// restart policy. Its loop is an explicit state machine (docs/DESIGN.md):
// one phase, the single source of both its control and the state /status
// publishes; events from signals, the child, its monitors, timers and the
// three slow steps (the preflight, the sweep and the look at why the child
// failed, which run beside the loop so that it never stops reading
// signals); and one small transition per event. The Reaper is the only
// waiter; the health server only reads what the loop publishes in the
// StateStore.
type Supervisor struct {
	cfg    *config.Config
	spec   ChildSpec
	log    zerolog.Logger
	reaper *Reaper
	store  *StateStore
	// Preflight, when set, runs before every start; a failure ends Run
	// with exit 3.
	Preflight *preflight.Preflight
	// Sampler, when set, samples the child and the container every
	// LAUNCHER_SAMPLE_INTERVAL; it feeds the memory limit and the metrics.
	Sampler Sampler
	// MainThread says that Run is called from the main goroutine, kept on
	// the process's main thread (runtime.LockOSThread in an init function),
	// that this Supervisor is the process's only one and that the process
	// ends when Run returns: Run then waits on that thread for the stops
	// and the signals it forwards (sigwait.go), and leaves them subscribed
	// on its way out (undoing 49 subscriptions is 49 round trips to the
	// runtime's signal thread beside the exit, and a stop signal after it
	// would end the process with the runtime's default).
	MainThread bool
	// Signals, when set, are the signals the program subscribed at its
	// start (CatchSignals), and stays subscribed to; without them, Run
	// subscribes its own, and undoes them on its way out unless MainThread.
	Signals *Signals

	sampler *sampling   // Sampler, fenced (sampling.go); nil without one
	probe   *ReadyProbe // nil without LAUNCHER_READY_URL
	record  *recordFile // the preflight's record between starts
	name    string      // "node", or the command's base name
	signals *Signals    // Signals, or this Run's own
	events  chan childEvent
	spawner *spawner // starts every child, from its own locked thread
	// target is the pid of the child the forwarder passes the other
	// signals to; 0 while there is none. The loop's transitions set it.
	target atomic.Int64

	firstDone bool   // the first start's timeline is recorded
	nodeTold  string // node's facts as last logged: told again only when they change
	reachDone bool   // where the child listens was looked at (tellReach)
	oomBase   uint64 // the cgroup's OOM kills when the current child started
}

// childEvent is what the monitors of a child report to the loop.
type childEvent struct {
	pid     int
	ready   string // how readiness was shown (readyByURL, readyByIPC, readyAtSpawn), when it was
	restart string // a Reason*, when the child must be restarted
	detail  string
	stuck   stuck // with a restart for a node that did not answer: where its main thread was
	sample  *ProcessSample
	host    HostSample // with sample
}

// How readiness was shown: the words the ready line logs after "by=".
const (
	readyByURL   = "url"   // LAUNCHER_READY_URL answered 2xx
	readyByIPC   = "ipc"   // node's process.send('ready')
	readyAtSpawn = "spawn" // neither is configured: the spawn itself
)

// NewSupervisor prepares supervision of spec.
func NewSupervisor(cfg *config.Config, spec ChildSpec, reaper *Reaper, store *StateStore, log zerolog.Logger) *Supervisor {
	name := "node"
	if cfg.Generic() {
		name = spec.Args[0][strings.LastIndexByte(spec.Args[0], '/')+1:]
	}
	s := &Supervisor{
		cfg: cfg, spec: spec, reaper: reaper, store: store, name: name,
		log:    log.With().Str(logKeyComponent, "supervisor").Logger(),
		events: make(chan childEvent, 16),
	}
	if cfg.ReadyURL != "" {
		s.probe = NewReadyProbe(cfg.ReadyURL)
	}
	s.record = &recordFile{path: cfg.PreflightRecord, log: s.log}
	return s
}

// phase is where supervision stands.
type phase int

const (
	phasePreflight  phase = iota // the checks before a start run; no child
	phaseRunning                 // the child runs, not ready yet
	phaseReady                   // the child answered readiness
	phaseRestarting              // the child was told to stop, to be started again
	phaseStopping                // a stop was asked for while a child or the preflight ran
	phaseSweeping                // the child is gone; its descendants are being killed
	phaseDiagnosing              // the child failed: why is looked into (the network asked again)
	phaseBackoff                 // waiting out the restart delay
	phaseDone                    // supervision is over; the exit code is decided
)

var phaseNames = [...]string{"preflight", "running", "ready", "restarting", "stopping", "sweeping", "diagnosing", "backoff", "done"}

func (p phase) String() string { return phaseNames[p] }

// outcome is how the current child ended, or is ending.
type outcome struct {
	status ExitStatus
	reason string // a Reason*: why it ended
	detail string
	killed bool  // the launcher had to SIGKILL it
	stuck  stuck // where its main thread was, when it stopped answering
	// told is why it is being restarted, as the log told it when it was
	// seen (a start not ready: where node listens instead); published
	// with its exit, before what its last words tell.
	told []preflight.Diagnosis
	// healthy is how long it was ready, from its readiness to its exit:
	// the restart delay starts over after a long one. Zero when it never
	// was.
	healthy time.Duration
	// unreached: every diagnosis of its failure says it was for want of
	// the network, which the restart limit does not count for a while.
	unreached bool
}

// machine is one run of supervision: its phase, and what the transitions
// need to know. Only the loop touches it.
type machine struct {
	s       *Supervisor
	phase   phase
	backoff *Backoff
	stopSig syscall.Signal // the signal that asked for the stop; 0 while none was
	stopAt  time.Time      // when the stop signal came to a running child
	code    int            // the launcher's exit code, once phaseDone

	child     *Child
	readyAt   time.Time // when child was ready; zero until it is
	gated     *Child    // node held at the gate while the preflight runs
	gate      *gate     // gated's gate
	out       outcome
	memory    memoryLog // the child's memory, as the log has told it
	disk      diskLog   // the data folder's disk, as the log has told it
	monitors  *monitors
	preflight context.CancelFunc // cancels the running preflight
	recorded  chan struct{}      // closed once the last preflight's record is kept, or none is

	// What the loop waits on besides signals; nil when not awaited.
	preflightDone chan *preflight.Report
	childDone     <-chan ExitStatus
	sweepDone     chan sweepResult
	diagnosed     chan []preflight.Diagnosis
	lookOff       context.CancelFunc // calls off the look whose answer is diagnosed
	readyC        <-chan time.Time
	lookC         <-chan time.Time // not ready yet: when to look where the child listens
	lookAt        time.Duration    // that look's time into the start
	settleC       <-chan time.Time // ready: when the start is taken as over
	graceC        <-chan time.Time
	backoffC      <-chan time.Time
	timers        []*time.Timer
}

// Run supervises until the child ends for good or the launcher is stopped.
// It returns the launcher's exit code as a value; an error means the
// launcher itself failed. Cancelling ctx stops the child like SIGTERM.
func (s *Supervisor) Run(ctx context.Context) (code int, err error) {
	s.signals = s.Signals
	if s.signals == nil {
		s.signals = CatchSignals()
		if !s.MainThread {
			defer s.signals.stop()
		}
	}
	if !s.MainThread || !onMainThread() {
		return s.run(ctx)
	}
	// The loop moves to a goroutine of its own; the main thread waits for
	// the stops, the signals to forward and SIGCHLD until it ends
	// (mainThreadWaiter says why).
	w := newMainThreadWaiter(append(slices.Clip(forwardedSignals), unix.SIGCHLD))
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer w.stop()
		code, err = s.run(ctx)
	}()
	if werr := w.wait(s.take); werr != nil {
		s.log.Debug().Err(werr).Msg("cannot wait for signals on the main thread; the runtime's path forwards them")
	}
	<-ended
	return code, err
}

// run is Run's loop, fenced: a panic in it (a bug) is told, what it left
// running is stopped as a stop would stop it (stopAfterBug), and the panic
// is returned as the launcher's own failure. Unfenced, the panic ended the
// launcher, PID 1, and the kernel killed node with it, unwarned, in the
// middle of whatever it was writing.
func (s *Supervisor) run(ctx context.Context) (code int, err error) {
	// The spawner outlives the loop: the end of its thread kills every
	// child it started (their parent-death signal), and after a panic the
	// child gets its SIGTERM first.
	sp := newSpawner()
	defer sp.close()
	s.spawner = sp
	if p := bug.Catch(func() { code, err = s.loop(ctx) }); p != nil {
		bug.Tell(s.log, p, "supervision", s.name+" is stopped (SIGTERM, then SIGKILL after LAUNCHER_STOP_TIMEOUT), and the launcher exits 1")
		s.stopAfterBug()
		return 0, fmt.Errorf("supervision failed for a bug: %w", p)
	}
	return code, err
}

// stopAfterBug ends what the loop left running when it panicked, as a stop
// does: SIGTERM, then SIGKILL after LAUNCHER_STOP_TIMEOUT, to every other
// process of the container when the launcher is PID 1 (node's process
// group, or node held at the gate, whose pid the loop alone knew), else to
// the child's process group.
func (s *Supervisor) stopAfterBug() {
	send := func(sig syscall.Signal) {
		if os.Getpid() == 1 {
			_ = unix.Kill(-1, sig) // all but PID 1 itself
		} else if pid := s.target.Load(); pid > 0 {
			_ = signalGroup(int(pid), sig)
		}
	}
	send(unix.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopTimeout)
	defer cancel()
	if s.reaper.WaitNoChildren(ctx) == nil {
		return
	}
	send(unix.SIGKILL)
	if pid := s.target.Load(); pid > 0 {
		killTree(int(pid), true, time.Now().Add(sweepTimeout))
	}
	ctx, cancel = context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
	_ = s.reaper.WaitNoChildren(ctx)
}

// loop is supervision itself.
func (s *Supervisor) loop(ctx context.Context) (code int, err error) {
	s.sampler = newSampling(s.Sampler, s.log, s.name)
	forwarding := s.forwardSignals()
	defer forwarding()
	if err := becomeSubreaper(); err != nil {
		s.log.Warn().Err(err).Msg("cannot become child subreaper; orphans will not be reaped")
	}

	m := &machine{s: s, backoff: NewBackoff(s.cfg)}
	defer m.stopTimers()
	m.startPreflight(ctx)
	done := ctx.Done()
	for m.phase != phaseDone {
		select {
		case sig := <-s.signals.stops:
			m.onStop(sig.(syscall.Signal))
		case <-done:
			done = nil
			m.onStop(unix.SIGTERM)
		case r := <-m.preflightDone:
			m.preflightDone = nil
			m.onPreflight(ctx, r, s.signals.subscribed)
		case st := <-m.childDone:
			m.childDone = nil
			m.onExit(st)
		case ev := <-s.events:
			m.onEvent(ev)
		case <-m.readyC:
			m.readyC = nil
			m.onReadyTimeout()
		case <-m.lookC:
			m.lookC = nil
			m.onReadyLook()
		case <-m.settleC:
			m.settleC = nil
			m.onSettled()
		case <-m.graceC:
			m.graceC = nil
			m.onGrace()
		case r := <-m.sweepDone:
			m.sweepDone = nil
			m.onSwept(r)
		case ds := <-m.diagnosed:
			m.diagnosed = nil
			m.onDiagnosed(ds)
		case <-m.backoffC:
			m.backoffC = nil
			m.startPreflight(ctx)
		}
	}
	m.awaitRecord()
	return m.code, nil
}

// enter moves to phase p and publishes the state it shows.
func (m *machine) enter(p phase) {
	m.phase = p
	state := ""
	switch p {
	case phasePreflight:
		state = StateStarting
		// The restart delay, if one ran, is over.
		m.s.store.Update(func(st *Snapshot) { st.State, st.Child.NextStartAt = state, nil })
		return
	case phaseRunning:
		return // started publishes it, with the child
	case phaseReady:
		return // ready publishes it, with the child's readiness
	case phaseRestarting, phaseBackoff:
		state = StateRestarting
	case phaseStopping:
		state = StateStopping
	case phaseSweeping, phaseDiagnosing:
		state = StateRestarting
		if m.stopSig != 0 {
			state = StateStopping
		}
	case phaseDone:
		return // finish publishes stopped or failed
	}
	m.s.store.Update(func(st *Snapshot) { st.State = state })
}

// recordWait bounds how long the launcher's end waits for the preflight's
// record to be written: milliseconds on any disk that takes writes. Past
// it the disk is what holds the write (the log then says so), and the
// container's stop must not wait on it.
const recordWait = 5 * time.Second

// awaitRecord waits, at supervision's end, for the record of the last
// preflight to be written. It is written beside the app's start; a stop
// just after the start (or a node that ends at once) must not end the
// launcher in the middle of it: the record would be lost, and the write's
// temporary file left in the data folder. Every earlier preflight's write
// has ended: the last one read the record first, under the same lock.
func (m *machine) awaitRecord() {
	if m.recorded == nil {
		return
	}
	t := time.NewTimer(recordWait)
	defer t.Stop()
	select {
	case <-m.recorded:
	case <-t.C:
		m.s.log.Warn().Str("record", m.s.record.path).Msgf("preflight record: its write has not ended after %s; the disk under it holds it, and the launcher ends without it", HumanDuration(recordWait))
	}
}

// finish ends supervision with code, and publishes its end: stopped, or
// failed for a code other than 0. The line that says why follows it.
func (m *machine) finish(code int) {
	m.code = code
	m.phase = phaseDone
	final := StateStopped
	if code != 0 {
		final = StateFailed
	}
	m.s.store.Update(func(st *Snapshot) { st.State, st.Child.NextStartAt = final, nil })
}

func (m *machine) timer(d time.Duration) <-chan time.Time {
	t := time.NewTimer(d)
	m.timers = append(m.timers, t)
	return t.C
}

func (m *machine) stopTimers() {
	for _, t := range m.timers {
		t.Stop()
	}
	m.timers = nil
}

// --- preflight -------------------------------------------------------------

// startPreflight runs the checks beside the loop (or, without a preflight,
// reports at once).
func (m *machine) startPreflight(ctx context.Context) {
	m.enter(phasePreflight)
	paceGC(startGCPercent)
	m.preflightDone = make(chan *preflight.Report, 1)
	if m.s.Preflight == nil {
		m.preflightDone <- nil
		return
	}
	pf := m.s.Preflight
	pf.Reported = nil
	if m.startGated() {
		pf.Reported = m.gate.report
	}
	pctx, cancel := context.WithCancel(ctx)
	m.preflight = cancel
	done, record := m.preflightDone, m.s.record
	recorded := make(chan struct{})
	m.recorded = recorded
	go func() {
		defer close(recorded)
		pf.Record = record.load()
		r := pf.Run(pctx)
		done <- r
		record.keep(r.Record()) // beside the app's start: only after a preflight that checked
	}()
}

// startGated starts node behind the gate (gate.go), so that node's own
// start overlaps the preflight. Not at a terminal, where Ctrl-C would reach
// node at the gate alone, nor with LAUNCHER_GATE=false. Any failure here
// only loses the overlap: node is then started after the preflight.
func (m *machine) startGated() bool {
	s := m.s
	if !s.cfg.Gate || s.spec.Foreground {
		return false
	}
	if opt, why := ungatedBy(s.cfg.NodeArgs, s.spec.Env, s.spec.Dir); opt != "" {
		s.log.Debug().Msgf("%s starts after the preflight: under %s, %s %s", s.name, opt, s.name, why)
		return false
	}
	if secure := s.secureExecution(); secure.IgnoresOptions {
		s.log.Debug().Msgf("%s starts after the preflight: %s, so it runs in secure-execution mode, where it ignores NODE_OPTIONS and the gate's preload with it", s.name, secure.Why)
		return false
	}
	g, err := newGate()
	if err != nil {
		s.log.Debug().Err(err).Msgf("%s starts after the preflight", s.name)
		return false
	}
	c, err := s.spawner.start(s.spec, s.reaper, g)
	if err != nil {
		g.close()
		s.log.Debug().Err(err).Msgf("%s starts after the preflight", s.name)
		return false
	}
	m.gated, m.gate = c, g
	s.log.Debug().Int(logKeyPID, c.PID).Msgf("%s started behind the gate: its app loads once the preflight passed", s.name)
	return true
}

// openGate lets the gated node load the app, at once. It returns what
// makes node the supervised child once the transition's other work is
// done, and reports whether it did: false when node was not waiting at the
// gate (it ended, or never reported), and was killed. Nil when no node is
// gated.
func (m *machine) openGate() (admit func(context.Context) bool) {
	c, g := m.gated, m.gate
	if c == nil {
		return nil
	}
	m.gated, m.gate = nil, nil
	held, err := g.open()
	c.preload = g.script // node's threads load it again: c removes it when it has ended
	opened := time.Now()
	if err == nil {
		m.s.target.Store(int64(c.PID)) // signals for the app reach it from its first line
	}
	return func(ctx context.Context) bool {
		if err != nil {
			m.dropChild(c)
			m.s.log.Warn().Str(logKeyStderr, strings.Join(c.StderrTail(), "\n")).Msgf("%s was not let through the gate (%v); starting it again", m.s.name, err)
			return false
		}
		m.s.log.Debug().Int(logKeyPID, c.PID).Msgf("gate open: %s waited %.1f ms for the preflight", m.s.name, ms(held))
		c.Started = opened
		// What node's start takes is counted from here: what it did
		// before, at the gate, was node's own bootstrap.
		c.base, _ = costOf(c.PID)
		m.running(ctx, c)
		return true
	}
}

// dropGated kills node held at the gate, which has run nothing of the app.
func (m *machine) dropGated() {
	if m.gated == nil {
		return
	}
	m.gate.close()
	m.dropChild(m.gated)
	m.gated, m.gate = nil, nil
}

// dropChild kills c, which never became the supervised child, and collects
// its status: it is at the gate, or silent before it, so the SIGKILL to its
// group ends it at once.
func (m *machine) dropChild(c *Child) {
	_ = c.Signal(unix.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(sweepTimeout):
	}
	c.finish(time.Second)
}

func (m *machine) onPreflight(ctx context.Context, r *preflight.Report, subscribed <-chan struct{}) {
	if m.preflight != nil {
		m.preflight()
		m.preflight = nil
	}
	if m.phase == phaseStopping { // a stop came while the checks ran
		m.dropGated()
		m.finish(0)
		return
	}
	if r != nil && !r.OK {
		m.dropGated()
	}
	var admit func(context.Context) bool
	if r == nil || r.OK {
		// node waits at the gate from its report on: it goes on first, and
		// the report is published and logged beside the app's start.
		<-subscribed
		admit = m.openGate()
	}
	if r != nil {
		if r.Stale != "" {
			m.s.log.Debug().Msgf("preflight record not used: %s", r.Stale)
		}
		m.s.publishPreflight(r)
		switch {
		case r.Transient():
			// Not a verdict on the image: the launcher ran short of
			// descriptors, memory or processes. The restart policy decides.
			m.s.log.Error().Msg("preflight could not run its checks (the launcher is short of resources): not starting node now")
			m.out = outcome{status: ExitStatus{Code: ExitPreflight}, reason: ReasonResources}
			m.decide()
			return
		case !r.OK:
			m.finish(ExitPreflight)
			m.s.log.Error().Msgf("preflight failed in %.1f ms: not starting node", r.DurationMS)
			return
		}
		if r.Bug != nil {
			bug.Tell(m.s.log, r.Bug, "the preflight", m.s.name+" is started unchecked")
		}
		beside := ""
		if admit != nil {
			beside = fmt.Sprintf(", beside %s's own start", m.s.name)
		}
		if !r.Recorded.IsZero() {
			// In the log's zone, as its stamps and `launcher status` say times.
			beside = fmt.Sprintf("%s, recalled: nothing they read changed since they ran at %s", beside, r.Recorded.Local().Format(time.DateTime))
		}
		if r.Bug == nil {
			m.s.log.Info().Msgf("preflight passed in %.1f ms (%d checks%s)", r.DurationMS, len(r.Checks), beside)
		}
	}
	if admit != nil && admit(ctx) {
		return
	}
	m.spawn(ctx)
}

// --- the child ------------------------------------------------------------

func (m *machine) spawn(ctx context.Context) {
	s := m.s
	c, err := s.spawner.start(s.spec, s.reaper, nil)
	if err != nil {
		var se *SpawnError
		if errors.As(err, &se) && se.Transient() {
			s.log.Error().Str("errno", unix.ErrnoName(se.Errno())).Err(err).Msgf("cannot start %s now", s.name)
			m.out = outcome{status: ExitStatus{Code: 1}, reason: ReasonResources, detail: err.Error()}
			m.decide()
			return
		}
		code := 1
		if errors.As(err, &se) {
			code = se.Code
		}
		m.finish(code)
		if errors.Is(err, unix.EPERM) {
			if cause, fix, ok := preflight.CapsRefused(s.spec.Path, preflight.Bounded); ok {
				s.log.Error().Str("fix", fix).Msgf("cannot start %s: %s", s.name, cause)
				return
			}
		}
		s.log.Error().Err(err).Msgf("cannot start %s", s.name)
		return
	}
	m.running(ctx, c)
}

// running makes c, started, the supervised child.
func (m *machine) running(ctx context.Context, c *Child) {
	s := m.s
	m.child, m.readyAt, m.out, m.memory = c, time.Time{}, outcome{reason: ReasonExit}, memoryLog{}
	m.childDone = c.done
	s.target.Store(int64(c.PID))
	s.started(c)
	m.enter(phaseRunning)
	m.monitors = s.startMonitors(ctx, c)
	m.readyC = m.timer(s.cfg.ReadyTimeout)
	if s.probe != nil {
		m.lookAt = readyLookAfter(s.cfg.ReadyTimeout)
		m.lookC = m.timer(m.lookAt)
	}
}

// SameStopWindow is how soon after a stop signal another one is the same
// stop, not a second. GNU timeout, or anything that signals a process and
// then its process group, sends two copies in one instant; the copy that
// comes after the launcher took the first is not a user's impatience, and
// killing node for it would cut its clean stop short. A person's second
// Ctrl-C, or a second `docker kill -s TERM`, comes later than this.
const SameStopWindow = 250 * time.Millisecond

// onStop: SIGTERM or SIGINT (or ctx) asks for a stop.
func (m *machine) onStop(sig syscall.Signal) {
	s := m.s
	switch m.phase {
	case phaseRunning, phaseReady, phaseRestarting:
		// The signal before anything else: node begins its stop while the
		// launcher publishes and logs it.
		sent := signalGroup(m.child.PID, sig)
		m.stopAt = time.Now()
		m.monitors.stopProbing()
		m.stopSig, m.out.reason = sig, ReasonStop
		if m.graceC == nil {
			m.graceC = m.timer(s.cfg.StopTimeout)
		}
		m.enter(phaseStopping)
		s.forwarded(m.child.PID, sig, sent, " to stop it, SIGKILL in "+HumanDuration(s.cfg.StopTimeout))
	case phaseStopping:
		if m.child == nil {
			return // the preflight is being cancelled
		}
		if since := time.Since(m.stopAt); since < SameStopWindow {
			s.log.Info().Str(logKeySignal, SignalName(sig)).Msgf("%s again %.1f ms after the first: the same stop, not forwarded (one %s or more after it kills %s now)",
				SignalName(sig), ms(since), HumanDuration(SameStopWindow), s.name)
			return
		}
		s.log.Warn().Str(logKeySignal, SignalName(sig)).Msgf("second %s: killing %s now", SignalName(sig), s.name)
		m.out.killed = true
		m.child.kill()
	case phasePreflight:
		m.stopSig = sig
		m.enter(phaseStopping)
		s.log.Info().Str(logKeySignal, SignalName(sig)).Msgf("%s: stopping before %s started", SignalName(sig), s.name)
		if m.preflight != nil {
			m.preflight()
		}
	case phaseSweeping:
		if m.stopSig == 0 {
			m.stopSig = sig
			m.enter(phaseSweeping) // now published as stopping
			s.log.Info().Str(logKeySignal, SignalName(sig)).Msgf("%s: stopping once %s's descendants are gone", SignalName(sig), s.name)
		}
	case phaseDiagnosing:
		if m.stopSig == 0 {
			m.stopSig = sig
			m.enter(phaseDiagnosing) // now published as stopping
			m.lookOff()
			s.log.Info().Str(logKeySignal, SignalName(sig)).Msgf("%s: stopping; the look at why %s failed is called off", SignalName(sig), s.name)
		}
	case phaseBackoff:
		// As a moment earlier, in the sweep: a child the launcher's own
		// restart signal ended gave way as a stop's signal would have it.
		code := stopExit(m.out.status, sig)
		m.finish(code)
		s.log.Info().Int(logKeyCode, code).Str(logKeySignal, SignalName(sig)).Msg("stopped during the restart delay")
	}
}

// onEvent: readiness, a restart asked by liveness or memory, a sample.
func (m *machine) onEvent(ev childEvent) {
	s := m.s
	if m.child == nil || ev.pid != m.child.PID {
		return // from a child already gone
	}
	switch {
	case ev.sample != nil:
		s.publishSample(ev.sample, ev.host)
		m.disk.note(s, ev.host.Data)
		if m.phase == phaseReady {
			m.memory.note(s, ev.sample.RSS, ev.host)
		}
		if m.phase == phaseReady && m.settleC == nil {
			giveBackHeap() // settled: the launcher is idle
		}
	case ev.ready != "" && m.phase == phaseRunning:
		m.readyC, m.lookC = nil, nil
		m.readyAt = time.Now()
		m.enter(phaseReady)
		// Readiness is published now; what the launcher does once a start
		// is over waits (settle). Ready at the spawn, node has only begun
		// its start, which that work would slow (by 5 to 12 ms on the
		// project's machine): one sample interval. Ready by URL or IPC, the
		// app's first requests are being answered, the first of them in a
		// fresh node the slowest: a quarter second.
		s.ready(m.child, ev.ready, m.monitors.startLooks())
		if ev.ready == readyAtSpawn {
			m.settleC = m.timer(s.cfg.SampleInterval)
		} else {
			m.settleC = m.timer(readySettleDelay)
		}
	case ev.restart == ReasonReadiness && m.phase == phaseReady:
		// Ready while it was looked at after its ready timeout: kept.
	case ev.restart != "" && (m.phase == phaseRunning || m.phase == phaseReady):
		m.restart(ev.restart, ev.detail)
		m.out.stuck = ev.stuck
		if ev.stuck.why != "" {
			m.out.told = append(m.out.told, preflight.Diagnosis{Cause: ev.stuck.why})
		}
	}
}

// readySettleDelay is how long after readiness by URL or IPC the launcher
// settles. At once, its collection, page trim and first sample (gopsutil's
// first look around) ran beside the app's first requests: the reference
// backend's first answer came 2 to 3 ms later (docs/BENCHMARKS.md, "Tenth
// pass").
const readySettleDelay = 250 * time.Millisecond

// onSettled: the child's start is taken as over.
func (m *machine) onSettled() {
	if m.phase == phaseReady {
		m.s.tellReach(m.child)
		m.s.settle()
		m.monitors.readied()
	}
}

// readyLookAfter is when a start not ready yet is first looked at
// (onReadyLook): 5 s, by which a node backend usually listens, even on a
// Raspberry Pi; a quarter of a shorter LAUNCHER_READY_TIMEOUT.
func readyLookAfter(timeout time.Duration) time.Duration {
	return min(5*time.Second, timeout/4)
}

// onReadyLook: the child is not ready a while into its start, and the
// probe was refused. Where it listens, if not where the probe knocks, is
// told now rather than at LAUNCHER_READY_TIMEOUT (a minute by default): no
// wait mends a wrong port or address. While it listens nowhere it may still
// be starting: it is looked at again at twice the time (5, 10, 20, 40 s),
// each look a few milliseconds. Listening where the probe reaches, it is
// about to be ready.
func (m *machine) onReadyLook() {
	if m.phase != phaseRunning {
		return
	}
	s := m.s
	f := m.monitors.lastProbe()
	if f == nil || !errors.Is(f, syscall.ECONNREFUSED) {
		return
	}
	at := m.lookAt
	addrs := Listening(m.child.PID)
	if len(addrs) == 0 {
		s.log.Debug().Msgf("not ready after %s: %s listens on no TCP port yet", HumanDuration(at), s.name)
		if m.lookAt *= 2; m.lookAt < s.cfg.ReadyTimeout {
			m.lookC = m.timer(m.lookAt - at)
		}
		return
	}
	if d, ok := listensElsewhere(s.name, s.probe.target, addrs); ok {
		s.log.Warn().Str("fix", d.Hint).Msgf("not ready after %s: %s; restarted at %s (LAUNCHER_READY_TIMEOUT) unless ready by then", HumanDuration(at), d.Cause, HumanDuration(s.cfg.ReadyTimeout))
	}
}

// onReadyTimeout: the child was not ready in time. Why is read before it
// is told to stop, which closes what it listens on.
func (m *machine) onReadyTimeout() {
	if m.phase != phaseRunning {
		return
	}
	s := m.s
	detail := fmt.Sprintf("not ready within %s (LAUNCHER_READY_TIMEOUT)", HumanDuration(s.cfg.ReadyTimeout))
	var why preflight.Diagnosis
	told, held := false, false
	if s.probe != nil {
		f := m.monitors.lastProbe()
		if f != nil {
			detail += ": " + f.Error()
		}
		looked, nowhere := false, false
		why, told = notReady(s.name, s.probe.target, f, func() []netip.AddrPort {
			addrs := Listening(m.child.PID)
			looked, nowhere = true, len(addrs) == 0
			return addrs
		}, s.cfg.ReadyTimeout)
		// The probe's connection taken and not answered, or no listen()
		// yet: node may be held at its start, where it is says why.
		held = f != nil && errors.Is(f, context.DeadlineExceeded) || looked && nowhere
	}
	if held && s.childIsNode() {
		s.tellHeldStart(m.child, time.Since(m.child.Started), m.monitors.startLooks())
	}
	if told {
		m.out.told = []preflight.Diagnosis{why}
	}
	if held && s.looksStuck() {
		if told {
			s.log.Warn().Str("fix", why.Hint).Msg(why.Cause)
		}
		// Beside the loop: the restart comes as the look's event.
		m.monitors.lookThenRestart(s, m.child, ReasonReadiness, detail)
		return
	}
	m.restart(ReasonReadiness, detail)
	if told {
		s.log.Warn().Str("fix", why.Hint).Msg(why.Cause)
	}
}

// restart tells the child to stop, to start it again.
func (m *machine) restart(reason, detail string) {
	s := m.s
	m.out.reason, m.out.detail = reason, detail
	m.enter(phaseRestarting)
	s.log.Warn().Str(logKeyReason, reason).Msgf("restarting %s: %s", s.name, detail)
	s.forward(m.child.PID, unix.SIGTERM, " to restart it, SIGKILL in "+HumanDuration(s.cfg.StopTimeout))
	m.monitors.stopProbing()
	m.graceC = m.timer(s.cfg.StopTimeout)
}

func (m *machine) onGrace() {
	if m.child == nil || (m.phase != phaseRestarting && m.phase != phaseStopping) {
		return
	}
	m.s.log.Warn().Msgf("%s did not stop within %s (LAUNCHER_STOP_TIMEOUT): SIGKILL", m.s.name, HumanDuration(m.s.cfg.StopTimeout))
	m.out.killed = true
	m.child.kill()
}

// onExit: the child's status arrived. Its monitors end, and what it left
// behind is swept beside the loop.
func (m *machine) onExit(st ExitStatus) {
	s := m.s
	if m.settleC != nil {
		// Ready and gone before it settled (a crash loop of `run -- CMD`,
		// ready at the spawn, say): its start is over now. Not on the way
		// out, where it would only lengthen the stop.
		m.settleC = nil
		if m.stopSig == 0 {
			s.settle()
		}
	}
	m.out.status = st
	if !m.readyAt.IsZero() {
		m.out.healthy = time.Since(m.readyAt)
	}
	s.target.Store(0)
	if m.phase != phaseStopping && s.spec.Foreground && st.Signal == unix.SIGINT {
		// Ctrl-C at the terminal went to node alone; it is a stop.
		m.stopSig, m.out.reason = unix.SIGINT, ReasonStop
	}
	m.monitors.stop()
	m.readyC, m.lookC, m.graceC = nil, nil, nil
	m.stopTimers()
	c := m.child
	m.enter(phaseSweeping)
	m.sweepDone = make(chan sweepResult, 1)
	if !s.reaper.HasChildren() {
		// The drain that collected the child found no other: whatever
		// the child left behind was reparented to the launcher before the
		// child could be collected, so nothing is below it. The sweep is
		// over at once; the loop takes its result as any other.
		m.sweepDone <- sweepResult{}
		return
	}
	go func() {
		var r sweepResult
		s.fenced("sweeping what "+s.name+" left", "what it left may run on", func() { r = s.sweep(c) })
		m.sweepDone <- r
	}()
}

// onSwept: the child and its descendants are gone; log its end, then look
// into why it failed, or stop, or decide on a restart.
func (m *machine) onSwept(r sweepResult) {
	s := m.s
	c := m.child
	c.finish(time.Second)
	if r.killed > 0 {
		ev := s.log.Info()
		if r.survivors > 0 {
			ev = s.log.Warn().Int("survivors", r.survivors)
		}
		ev.Int("count", r.killed).Int("passes", r.passes).
			Msgf("killed %d leftover %s of %s in %d %s", r.killed, plural.Word(r.killed, "process", "processes"), s.name, r.passes, plural.Word(r.passes, "pass", "passes"))
	}
	s.exited(c, &m.out, m.stopSig)
	m.child, m.monitors = nil, nil
	if failedExit(m.out, m.stopSig) {
		m.diagnose(c)
		return
	}
	m.ended()
}

// diagnose looks into why c failed beside the loop: what it said, read
// against the container (its disk, its users, its network asked again:
// up to network.Patience a look). Its answer is the diagnosed event. On
// the way out, after a stop, the network is not asked.
func (m *machine) diagnose(c *Child) {
	m.enter(phaseDiagnosing)
	ctx, cancel := context.WithCancel(context.Background())
	if m.stopSig != 0 {
		cancel()
	}
	m.lookOff = cancel
	diagnosed, status := make(chan []preflight.Diagnosis, 1), m.out.status
	m.diagnosed = diagnosed
	go func() {
		var ds []preflight.Diagnosis
		m.s.fenced("the diagnosis of "+m.s.name+"'s failure", "its failure is told without why", func() { ds = m.s.diagnose(ctx, c, status) })
		diagnosed <- ds
	}()
}

// onDiagnosed: why the child failed is known; publish and log it, then
// stop or decide on a restart.
func (m *machine) onDiagnosed(ds []preflight.Diagnosis) {
	m.lookOff()
	m.lookOff = nil
	m.s.tellDiagnoses(ds)
	m.out.unreached = len(ds) > 0 && !slices.ContainsFunc(ds, func(d preflight.Diagnosis) bool { return !d.Unreached })
	m.ended()
}

// ended: the child's end is told; a stop ends supervision, else the
// restart policy decides.
func (m *machine) ended() {
	if m.stopSig != 0 {
		m.finish(stopExit(m.out.status, m.stopSig))
		return
	}
	m.decide()
}

// decide applies the restart policy to the child that ended (or to the
// start that could not happen).
func (m *machine) decide() {
	s := m.s
	d := m.backoff.Decide(time.Now(), End{Status: m.out.status, Reason: m.out.reason, Healthy: m.out.healthy, Unreached: m.out.unreached})
	if !d.Restart {
		code := m.out.status.Shell()
		if m.out.reason != ReasonExit && stopExit(m.out.status, unix.SIGTERM) == 0 {
			// Stopped by the launcher for failing readiness, liveness or
			// memory, and ended as its SIGTERM asked: a failure, the
			// launcher's verdict, even if node exited 0. Not node's 143:
			// Home Assistant's Supervisor reads that as an app that did
			// not handle SIGTERM, and asks the user to report it.
			code = 1
		}
		m.finish(code)
		s.log.Info().Int(logKeyCode, code).Int("restarts", s.store.Load().Child.Restarts).Msgf("not restarting %s: %s", s.name, d.Why)
		return
	}
	m.enter(phaseBackoff)
	next := time.Now().Add(d.Delay).UTC()
	s.store.Update(func(st *Snapshot) { st.Child.Restarts, st.Child.NextStartAt = st.Child.Restarts+1, &next })
	s.log.Info().Str(logKeyReason, m.out.reason).Str(logKeyDelay, d.Delay.String()).
		Msgf("restarting %s in %s (%s)", s.name, HumanDuration(d.Delay), d.Why)
	m.backoffC = m.timer(d.Delay)
}

// --- what the transitions tell the world ------------------------------------

// explainKill tells apart the kernel's OOM killer from another SIGKILL the
// launcher did not send, by the cgroup's OOM kill counter. It sets the
// reason now and returns the line that says so, logged once the exit is
// published.
func (s *Supervisor) explainKill(out *outcome) (log func()) {
	if out.status.Signal != unix.SIGKILL || out.killed || !s.sampler.on() {
		return func() {}
	}
	host := s.sampler.Host()
	if host.OOMKills > s.oomBase {
		out.reason = ReasonOOM
		limit := "no limit set"
		if host.MemoryLimit > 0 {
			limit = "limit " + config.ByteSize(host.MemoryLimit).String()
		}
		return func() {
			s.log.Error().Uint64("oom_kills", host.OOMKills).Msgf("%s was killed by the kernel: out of memory (the container's memory cgroup counted an OOM kill; %s)", s.name, limit)
		}
	}
	return func() {
		s.log.Warn().Msgf("%s got a SIGKILL the launcher did not send (not an OOM kill, as far as the cgroup counts)", s.name)
	}
}

// Each transition is published, then logged: whoever reads a line and then
// asks the health server finds what the line told.

// started publishes a new child, with the state running, and logs it.
func (s *Supervisor) started(c *Child) {
	if s.sampler.on() {
		s.oomBase = s.sampler.OOMKills()
	}
	s.store.Update(func(st *Snapshot) {
		st.State = StateRunning
		st.Child.PID, st.Child.StartedAt = ptr(c.PID), ptr(c.Started.UTC())
		st.Child.Ready, st.Child.ReadySeconds = false, nil
		if !s.firstDone {
			st.Startup.SpawnMS = msSince(processStart)
		}
	})
	s.log.Info().Int(logKeyPID, c.PID).Msgf("started %s", s.commandLine())
}

// exited publishes how a child ended, and logs it. A SIGKILL the launcher
// did not send is told apart first: its reason is out's from then on.
func (s *Supervisor) exited(c *Child, out *outcome, stopSig syscall.Signal) {
	explain := s.explainKill(out)
	info := &ExitInfo{Code: out.status.Shell(), At: time.Now().UTC(), Reason: out.reason, Stderr: c.StderrTail(), Diagnoses: out.told}
	if out.status.Signal != 0 {
		info.Signal = SignalName(out.status.Signal)
	}
	if failedExit(*out, stopSig) {
		// The stack node printed names the compiled files (dist/*.js):
		// where the compiler left maps, it is told in the app's sources too.
		app := sourcemap.App{Root: s.spec.Dir} // LAUNCHER_APP_DIR; under run -- CMD, the working directory
		s.fenced("reading "+s.name+"'s stack in the app's sources", "it is told as "+s.name+" printed it", func() { info.Stack = app.Stack(info.Stderr) })
	}
	stackTold := len(info.Stack) > 0
	if st := out.stuck; len(st.frames) > 0 {
		// Told when it was seen (lookStuck); kept for /status.
		info.StuckAt = st.frames
		if !stackTold {
			info.Stack = st.inSources
		}
	}
	s.store.Update(func(st *Snapshot) {
		st.Child.LastExit = info
		st.Child.PID, st.Child.StartedAt, st.Child.Ready, st.Child.ReadySeconds = nil, nil, false, nil
		st.Child.RSSBytes, st.Child.VMSBytes, st.Child.CPUSeconds, st.Child.OpenFDs, st.Child.Threads = nil, nil, nil, nil, nil
	})
	explain()
	s.logExit(c, *out, stopSig, info, stackTold)
}

// failedExit says that out is a failure to tell: not a success, nor the
// end of a stop the launcher forwarded.
func failedExit(out outcome, stopSig syscall.Signal) bool {
	return !out.status.Success() && (stopSig == 0 || stopExit(out.status, stopSig) != 0)
}

// settle is the end of a start: it gives back the pages only starting
// needed and sets the idle GC pace. It runs a while after readiness is
// published (onEvent): readySettleDelay after readiness by URL or IPC, one
// sample interval after readiness at the spawn. Until then the launcher
// holds what starting touched: 5.6 to 5.9 MB at readiness on the project's
// machine, about 3 MB right after the trim.
func (s *Supervisor) settle() {
	trimResident()
	paceGC(idleGCPercent)
}

// ready publishes readiness, then logs it, with the startup timeline the
// first time: whoever reads the log line finds /readyz answering 200.
func (s *Supervisor) ready(c *Child, how string, looks startLooks) {
	took := time.Since(c.Started)
	first := !s.firstDone
	s.firstDone = true
	total := msSince(processStart)
	// The state and the child's readiness are published together.
	s.store.Update(func(st *Snapshot) {
		st.State = StateReady
		st.Child.Ready, st.Child.ReadySeconds = true, ptr(took.Seconds())
		if first {
			st.Startup.ReadyMS = total
		}
	})
	// Ready at the spawn, no start was waited on: there is none to tell.
	// A program that runs node is not node: its counters are not node's.
	if how != readyAtSpawn && s.childIsNode() {
		defer s.tellStartCost(c, took, looks, first)
	}
	if !first {
		s.log.Info().Str("by", how).Msgf("%s ready in %.0f ms", s.name, ms(took))
		return
	}
	// The fields, as /status's startup and the startup metric: the end of
	// each phase, in ms from the launcher's start. The message: each
	// phase's own length.
	st := s.store.Load().Startup
	pre, spawned := 0.0, 0.0
	if st.PreflightMS != nil {
		pre = *st.PreflightMS
	}
	if st.SpawnMS != nil {
		spawned = *st.SpawnMS
	}
	s.log.Info().Str("by", how).Float64("preflight_ms", pre).Float64("spawn_ms", spawned).Float64("ready_ms", *total).
		Msgf("%s ready in %.0f ms (preflight %.0f ms, spawn %.0f ms)", s.name, *total, pre, spawned-pre)
}

// memoryLog tells the log how much memory the child uses: at the first
// sample once it is ready, then each time its resident memory has doubled
// from there. The add-on's log is what a Home Assistant user reads; /status
// and /metrics are not at hand there. Doubling keeps it to a few lines in
// a child's life, and a leak shows; growth of less than memoryLogFloor is
// not told, so a small command (`run -- CMD`) does not fill the log
// going from 1 to 2 to 4 MiB.
type memoryLog struct {
	ready uint64 // resident bytes at the first sample once ready; 0 until then
	next  uint64 // the resident memory at which to say it again
}

const memoryLogFloor = 16 << 20

func (w *memoryLog) note(s *Supervisor, rss uint64, host HostSample) {
	switch {
	case rss == 0:
		return
	case w.ready == 0:
		w.ready, w.next = rss, max(2*rss, rss+memoryLogFloor)
		s.log.Info().Uint64("rss_bytes", rss).Msgf("%s uses %s of memory once ready (resident)%s", s.name, config.ByteSize(rss), containerMemory(host))
	case rss >= w.next:
		for w.next <= rss {
			w.next *= 2
		}
		ev := s.log.Info()
		if rss >= 4*w.ready {
			ev = s.log.Warn()
		}
		limit := ""
		if s.cfg.MemoryLimit > 0 {
			limit = fmt.Sprintf("; LAUNCHER_MEMORY_LIMIT %s restarts it above that", s.cfg.MemoryLimit)
		}
		ev.Uint64("rss_bytes", rss).Msgf("%s's memory grew to %s, %.1f× the %s it used once ready%s%s",
			s.name, config.ByteSize(rss), float64(rss)/float64(w.ready), config.ByteSize(w.ready), containerMemory(host), limit)
	}
}

// diskLog tells the log when the disk under the add-on's data folder turns
// full or read-only, and when it takes writes again: once at each turn,
// from the samples, for the person who reads why the app fails to write
// before it fails. The first sample sets where it stands, quietly: the
// start has warned of a disk full or read-only already.
type diskLog struct {
	seen bool
	last diskTurn
}

// diskTurn is how the disk stands, as far as the app's writes go.
type diskTurn struct{ full, readOnly bool }

func (w *diskLog) note(s *Supervisor, u *disk.Usage) {
	if u == nil {
		return
	}
	now := diskTurn{full: u.Full(), readOnly: u.ReadOnly}
	turned := w.seen && now != w.last
	w.seen, w.last = true, now
	if !turned {
		return
	}
	if d, ok := preflight.DiskTrouble(*u); ok {
		s.log.Warn().Str("fix", d.Hint).Msg(d.Cause)
		return
	}
	s.log.Info().Msgf("the disk takes writes again: %s", u)
}

// containerMemory is the container's memory use and limit, for a log line.
func containerMemory(host HostSample) string {
	switch {
	case host.MemoryUsage == 0:
		return ""
	case host.MemoryLimit == 0:
		return fmt.Sprintf("; the container uses %s, without a limit", config.ByteSize(host.MemoryUsage))
	}
	return fmt.Sprintf("; the container uses %s of its %s limit", config.ByteSize(host.MemoryUsage), config.ByteSize(host.MemoryLimit))
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
		st.Container.Data = nil
		if d := host.Data; d != nil {
			st.Container.Data = &DiskState{Path: d.Folder, SizeBytes: d.Size, FreeBytes: d.Avail, ReadOnly: d.ReadOnly}
		}
	})
}

// publishPreflight publishes a preflight's report and logs it: node's facts
// once (again only if they changed), each failure at error with its fix,
// each warning with its hint.
func (s *Supervisor) publishPreflight(r *preflight.Report) {
	s.store.Update(func(st *Snapshot) {
		st.Preflight, st.Node = r, r.Node
		if !s.firstDone {
			st.Startup.PreflightMS = msSince(processStart)
		}
	})
	// Not at every restart of a crash loop, whose log is the one read.
	if n := r.Node; n != nil {
		if told := n.Path + " " + n.Version + " " + n.Facts(); told != s.nodeTold {
			s.nodeTold = told
			s.log.Info().Str("node", n.Path).Int("abi", n.ABI).Str("libc", n.Libc).Str("arch", n.Arch).
				Msgf("node %s (%s)", n.Version, n.Facts())
		}
	}
	for _, c := range r.Checks {
		switch c.Status {
		case preflight.StatusFail:
			s.log.Error().Str("check", c.Name).Str("fix", c.Hint).Msgf("preflight %s failed: %s", c.Name, c.Detail)
		case preflight.StatusWarn:
			s.log.Warn().Str("check", c.Name).Str("fix", c.Hint).Msgf("preflight %s: %s", c.Name, c.Detail)
		default:
			s.log.Debug().Str("check", c.Name).Msgf("preflight %s: %s", c.Name, c.Detail)
		}
	}
}

// forwardSignals starts the forwarder: the signals other than the stops
// go to the child's process group from its own goroutine, as soon as the
// runtime hands them over, never queued behind the loop (whose goroutine
// may be busy with a transition). The loop only sets the
// target. It returns the function that ends the forwarder.
func (s *Supervisor) forwardSignals() (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-done:
				return
			case sig := <-s.signals.forwarded:
				s.pass(sig.(syscall.Signal))
			}
		}
	}()
	return func() { close(done); <-ended }
}

// take handles a signal the main thread waited for: SIGCHLD drains the
// Reaper, a stop goes to the loop as os/signal would send it, anything
// else to the child.
func (s *Supervisor) take(sig syscall.Signal) {
	switch {
	case sig == unix.SIGCHLD:
		s.reaper.drain()
	case !isStopSignal(sig):
		s.pass(sig)
	default:
		select {
		case s.signals.stops <- sig:
		default: // as signal.Notify: a full channel holds stops enough
		}
	}
}

// pass forwards sig to the current child, when there is one, and says
// when there is none: in a restart's delay, the sweep after an exit, or
// before the app loads (node held at the gate, where SIGHUP or SIGUSR2
// would end it). The signal is not kept for the next node: it was meant
// for the one that is gone, or for one that has not started.
func (s *Supervisor) pass(sig syscall.Signal) {
	if pid := s.target.Load(); pid > 0 {
		s.forward(int(pid), sig, "")
		return
	}
	ev := s.signalEvent(sig)
	name := SignalName(sig)
	st := s.store.Load()
	switch {
	case st.State == StateStarting:
		ev.Str(logKeySignal, name).Msgf("%s not forwarded: %s has not started yet", name, s.name)
	case st.Child.NextStartAt != nil:
		ev.Str(logKeySignal, name).Msgf("%s not forwarded: no %s runs (it starts again at %s)", name, s.name, st.Child.NextStartAt.Local().Format(time.TimeOnly))
	default:
		ev.Str(logKeySignal, name).Msgf("%s not forwarded: no %s runs", name, s.name)
	}
}

// forward sends sig to the process group of the child pid first, then
// counts and logs it, with its purpose (see forwarded). The loop forwards
// the stops and the restarts' SIGTERM; the rest go through pass, from the
// main thread's wait or the Notify forwarder.
func (s *Supervisor) forward(pid int, sig syscall.Signal, purpose string) {
	s.forwarded(pid, sig, signalGroup(pid, sig), purpose)
}

// forwarded counts and logs a forward that signalGroup returned err for.
// A forward that stops or restarts the child says so, and the grace before
// SIGKILL, in its one line (purpose: " to stop it, SIGKILL in 8s").
func (s *Supervisor) forwarded(pid int, sig syscall.Signal, err error, purpose string) {
	if err != nil {
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
	// All are counted in /status and the metrics.
	s.signalEvent(sig).Str(logKeySignal, name).Int(logKeyPID, pid).Msgf("forwarded %s to %s%s", name, s.name, purpose)
}

// signalEvent is the log event for what became of sig: at info, where
// whoever sent it (`docker kill -s USR1`, the Supervisor) looks for it;
// but SIGWINCH, which a terminal sends by the dozen while its window is
// resized, at debug.
func (s *Supervisor) signalEvent(sig syscall.Signal) *zerolog.Event {
	if sig == unix.SIGWINCH {
		return s.log.Debug()
	}
	return s.log.Info()
}

// logExit logs how c ended, as info (published) tells it: its stderr's
// tail, and its stack in the app's sources.
func (s *Supervisor) logExit(c *Child, out outcome, stopSig syscall.Signal, info *ExitInfo, stackTold bool) {
	ev := s.log.Info()
	failed := failedExit(out, stopSig)
	tail := info.Stderr
	if failed {
		ev = s.log.Error()
		if len(tail) > 0 {
			ev = ev.Str(logKeyStderr, strings.Join(tail, "\n")+"\n")
		}
	}
	if out.status.Signal != 0 {
		ev = ev.Str(logKeySignal, SignalName(out.status.Signal))
	}
	ev.Int(logKeyPID, c.PID).Int(logKeyCode, out.status.Shell()).Msgf("%s %s", s.name, out.status)
	if failed && stackTold {
		s.log.Error().Str(logKeyStack, strings.Join(info.Stack, "\n")+"\n").Msgf("%s's stack in the app's sources (by their source maps)", s.name)
	}
}

// fenced runs f, a look beside supervision that reads what the launcher
// does not control (node's words, the app's source maps, /proc, the
// network), and reports whether it ran to its end: a panic in it (a bug)
// is told, with what the launcher does without it, and supervision goes
// on, where it would have ended the launcher, PID 1, and node with it
// (package bug).
func (s *Supervisor) fenced(what, without string, f func()) bool {
	if p := bug.Catch(f); p != nil {
		bug.Tell(s.log, p, what, without)
		return false
	}
	return true
}

// secureExecution is how node, started as the spec says, runs in
// secure-execution mode (preflight.SecureExecution).
func (s *Supervisor) secureExecution() preflight.Secure {
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if c := s.spec.Credential; c != nil {
		uid, gid = c.UID, c.GID
	}
	return preflight.SecureExecution(s.spec.Path, uid, gid, preflight.NoNewPrivs())
}

// diagnose reads why c, which ended with status, failed, from its words
// against the container now. It runs beside the loop, and asks the network
// only until ctx ends (a stop calls the look off).
func (s *Supervisor) diagnose(ctx context.Context, c *Child, status ExitStatus) []preflight.Diagnosis {
	user := NodeUser(s.spec.Credential)
	if user == nil {
		user = ownUser()
	}
	on := preflight.Machine{Disk: disk.Probe, DataDir: s.cfg.DataDir(), User: user, Stat: os.Stat,
		PortFloor: listeners.PortFloor, Addrs: listeners.Addresses,
		Node: s.spec.Path, NoNewPrivs: preflight.NoNewPrivs(),
		Secure: s.secureExecution(), ExtraCACerts: config.EnvMap(s.spec.Env)["NODE_EXTRA_CA_CERTS"],
		Resolve: func(name string) network.Answer { return network.Resolver{}.Resolve(ctx, name) },
		Connect: func(addr netip.AddrPort) error { return network.Connect(ctx, addr) },
		Now:     time.Now, Built: launcherBuilt}
	tail := c.StderrTail()
	// The lines naming an error first: an object node printed with it may
	// have run them out of the tail.
	ds := preflight.Diagnose(append(c.StderrErrors(), tail...), on)
	if len(ds) == 0 && diedOf(status, unix.SIGILL) {
		// Read now, once: which CPU it is says whose the fault is.
		cpu, _ := preflight.ReadCPU(preflight.CPUInfo)
		if d, ok := preflight.IllegalInstruction(tail, cpu); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 && diedOf(status, unix.SIGBUS) {
		if d, ok := preflight.BusError(on); ok {
			ds = append(ds, d)
		}
	}
	return ds
}

// tellDiagnoses publishes why the last child failed with its exit, after
// what was told before its end, then logs it.
func (s *Supervisor) tellDiagnoses(ds []preflight.Diagnosis) {
	if len(ds) == 0 {
		return
	}
	s.store.Update(func(st *Snapshot) {
		if e := st.Child.LastExit; e != nil {
			told := *e
			told.Diagnoses = append(slices.Clip(e.Diagnoses), ds...)
			st.Child.LastExit = &told
		}
	})
	for _, d := range ds {
		s.log.Error().Str("fix", d.Hint).Msgf("%s: %s", s.name, d.Cause)
	}
}

// launcherBuilt is when the launcher's binary was written, as the image's
// build copied it: a time the clock cannot be before. Zero when unknown.
func launcherBuilt() time.Time {
	exe, err := os.Executable()
	if err != nil {
		return time.Time{}
	}
	st, err := os.Stat(exe)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// diedOf tells a death by sig, also as a shell wrapper reports it.
func diedOf(st ExitStatus, sig syscall.Signal) bool {
	return st.Signal == sig || st.Signal == 0 && st.Code == 128+int(sig)
}

func (s *Supervisor) commandLine() string {
	return strings.Join(s.spec.Args, " ")
}

// stopExit is the launcher's exit after a stop: 0 when the child exited 0
// or died of the very signal forwarded to it (also as a shell wrapper's
// code 128+S), since the Supervisor marks exit 143 after SIGTERM as a
// failure; otherwise the child's code, 137 when it had to be killed.
func stopExit(st ExitStatus, stopSig syscall.Signal) int {
	if st.Success() || st.Signal == stopSig || (st.Signal == 0 && st.Code == 128+int(stopSig)) {
		return 0
	}
	return st.Shell()
}
