package launcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasync/launcher/launcher/config"
)

// monitors are the goroutines that watch one child for the loop:
// readiness (by URL, by IPC, or at once), then liveness; and sampling. Each
// owns what it reads (the IPC channel is its goroutine's alone, from the
// spawn to its close) and reports to the loop as a childEvent. They end
// when the child does.
type monitors struct {
	s         *Supervisor
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	readyOnce sync.Once
	isReady   chan struct{}      // closed once the child's start is over (readied)
	stopURL   context.CancelFunc // ends the URL readiness probe
	endProbes context.CancelFunc // ends both probes, readiness and liveness
	// notReady is the URL readiness probe's last failure, for the loop to
	// say why a start was not ready in time.
	notReady atomic.Pointer[probeFailure]
	// probes is the probes' context, which stopProbing ends (nil without
	// a ready URL); send reports to the loop.
	probes context.Context
	send   func(childEvent)
	// looks and inD count the looks at node's main thread during its
	// start (watchStart), and those that found it waiting in the kernel
	// on the disk (state D); the loop reads them once node is ready.
	looks, inD atomic.Int64
}

// startMonitors starts the monitors of c.
func (s *Supervisor) startMonitors(ctx context.Context, c *Child) *monitors {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitors{s: s, cancel: cancel, isReady: make(chan struct{}), stopURL: func() {}, endProbes: func() {}}
	send := func(ev childEvent) {
		ev.pid = c.PID
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	}
	m.send = send
	m.run("readiness at the spawn", func() {
		// Readiness is the first of the URL answering 2xx and the child's
		// process.send('ready'); with neither, the spawn itself.
		if s.probe == nil && c.ipc == nil {
			send(childEvent{ready: readyAtSpawn})
		}
	})
	if c.ipc != nil {
		ipc := c.ipc
		m.run(s.name+"'s IPC channel", func() { ipc.serve(ctx, func() { send(childEvent{ready: readyByIPC}) }) })
	}
	if s.probe != nil {
		probeCtx, endProbes := context.WithCancel(ctx)
		urlCtx, stopURL := context.WithCancel(probeCtx)
		m.stopURL, m.endProbes, m.probes = stopURL, endProbes, probeCtx
		m.run("the readiness probe of LAUNCHER_READY_URL", func() {
			if s.probe.WaitReady(urlCtx, m.notReady.Store) == nil {
				send(childEvent{ready: readyByURL})
			}
		})
		m.run("the liveness probe of LAUNCHER_READY_URL", func() {
			select {
			case <-probeCtx.Done():
				return
			case <-m.isReady:
			}
			if reason, detail, last := s.liveness(probeCtx); reason != "" {
				ev := childEvent{restart: reason, detail: detail}
				if errors.Is(last, context.DeadlineExceeded) {
					// Taken, not answered: where node's main thread is
					// says why, until the restart ends it.
					ev.stuck = s.lookStuck(probeCtx, c)
				}
				send(ev)
			}
		})
	}
	if s.sampler.on() {
		m.run("sampling "+s.name, func() { s.sample(ctx, c, m.isReady, send) })
	}
	if s.childIsNode() && (s.probe != nil || c.ipc != nil) {
		m.run("the looks at "+s.name+"'s start", func() { m.watchStart(ctx, c.PID) })
	}
	return m
}

// startLook is how often node's main thread is looked at during its
// start: ten times a second, a read of 30 µs each, beside node (a start
// under startLook is looked at not at all).
const startLook = 100 * time.Millisecond

// watchStart looks at node's main thread every startLook until its start
// is taken as over (settled), counting how often it is found waiting on
// the disk (state D: a read node waits for, synchronously, as require()
// reads a module). What share of a start went to the disk is told so: the
// kernel counts that time only under delay accounting, off by default.
func (m *monitors) watchStart(ctx context.Context, pid int) {
	t := time.NewTicker(startLook)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.isReady:
			return
		case <-t.C:
		}
		if th, ok := mainThread(pid); ok {
			m.looks.Add(1)
			if th.state == 'D' {
				m.inD.Add(1)
			}
		}
	}
}

// startLooks is what watchStart saw so far.
func (m *monitors) startLooks() startLooks {
	if m == nil {
		return startLooks{}
	}
	return startLooks{looks: m.looks.Load(), inD: m.inD.Load()}
}

// run runs f, one of the monitors (what it is: "the liveness probe"),
// in a goroutine of its own; a panic in it (a bug) is told and ends that
// monitor alone (Supervisor.fenced), node left running.
func (m *monitors) run(what string, f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.s.fenced(what, m.s.name+" runs on without it until its next start", f)
	}()
}

// readied tells the monitors that the child's start is over (the loop took
// it as ready by URL or IPC, or a sample interval passed since it was ready
// at the spawn): the URL probe ends, liveness begins, the first sample is
// taken.
func (m *monitors) readied() {
	m.readyOnce.Do(func() {
		m.stopURL()
		close(m.isReady)
	})
}

// lookThenRestart looks at where c is (lookStuck) beside the loop, then
// asks the loop to restart it for reason; a stop or a restart meanwhile
// (stopProbing) ends the look, and nothing is asked.
func (m *monitors) lookThenRestart(s *Supervisor, c *Child, reason, detail string) {
	m.run("the look at where "+s.name+" is", func() {
		ev := childEvent{restart: reason, detail: detail, stuck: s.lookStuck(m.probes, c)}
		if m.probes.Err() == nil {
			m.send(ev)
		}
	})
}

// stopProbing ends the probes of the child's URL, without waiting, once
// the child is told to end (a stop, a restart): it closes its server as it
// stops, every liveness probe then failed with a warning in the log, and a
// request it had to answer meanwhile only delayed its end.
func (m *monitors) stopProbing() {
	if m != nil {
		m.endProbes()
	}
}

// lastProbe is the readiness probe's last failure, nil before the first.
func (m *monitors) lastProbe() *probeFailure {
	if m == nil {
		return nil
	}
	return m.notReady.Load()
}

// stop ends the monitors and waits for them.
func (m *monitors) stop() {
	if m == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
}

// liveness probes the ready URL every LAUNCHER_LIVENESS_INTERVAL; it
// returns a restart reason after LAUNCHER_LIVENESS_FAILURES failures in a
// row, with the last probe's error.
func (s *Supervisor) liveness(ctx context.Context) (reason, detail string, last error) {
	if s.probe == nil || s.cfg.LivenessInterval <= 0 {
		return "", "", nil
	}
	t := time.NewTicker(s.cfg.LivenessInterval)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return "", "", nil
		case <-t.C:
		}
		err := s.probe.Probe(ctx, min(probeTimeout, s.cfg.LivenessInterval))
		if ctx.Err() != nil {
			return "", "", nil
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		s.log.Warn().Err(err).Msgf("liveness probe %d of %d failed", failures, s.cfg.LivenessFailures)
		if failures >= s.cfg.LivenessFailures {
			return ReasonLiveness, fmt.Sprintf("%d liveness probes failed in a row (last: %v)", failures, err), err
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
		// The first sample when the child's start is over (or after one
		// interval, if that comes first): at the spawn it would only compete
		// with node's start for the CPU, and a person who runs `launcher
		// status` once the add-on is up should not read "unknown" memory.
		// After the first, the interval alone.
		select {
		case <-ctx.Done():
			return
		case <-readied:
		case <-t.C:
		}
		readied = nil
		ps, err := s.sampler.Process(c.PID)
		if !s.sampler.on() {
			return // it failed for a bug (sampling.go)
		}
		if err == nil {
			// Read here, off the supervision loop, which only publishes.
			send(childEvent{sample: &ps, host: s.sampler.Host()})
			if limit > 0 && ps.RSS > limit {
				strikes++
				if strikes >= memoryStrikes {
					send(childEvent{restart: ReasonMemory, detail: fmt.Sprintf("resident memory %s above LAUNCHER_MEMORY_LIMIT %s for %d samples in a row",
						config.ByteSize(ps.RSS), s.cfg.MemoryLimit, strikes)})
					strikes = 0
				}
			} else {
				strikes = 0
			}
		}
	}
}
